/* object: see object.h. */
#include "types/object.h"
#include "keyspace/entry.h"
#include "types/rstr.h"
#include "types/zstr.h"
#include "util/mem.h"
#include <string.h>

const obj_ops *obj_ops_of(int type) {
    switch (type) {
    case OBJ_HASH: return &hash_ops;
    case OBJ_SET: return &set_ops;
    case OBJ_ZSET: return &zset_ops;
    case OBJ_LIST: return &list_ops;
    case OBJ_STREAM: return &stream_ops;
    default: return NULL;
    }
}

void obj_free(int type, void *ptr) {
    const obj_ops *o = obj_ops_of(type);
    if (o) o->free(ptr);
    else if (type == OBJ_ZSTR) zstr_free(ptr);
    else s_free(ptr);
}

size_t obj_bytes(int type, void *ptr) {
    const obj_ops *o = obj_ops_of(type);
    return o ? o->bytes(ptr) : s_usable(ptr); /* strings, raw or compressed: one block */
}

size_t obj_free_effort(int type, void *ptr) {
    const obj_ops *o = obj_ops_of(type);
    if (o) return o->free_effort(ptr);
    if (type == OBJ_ZSTR) return 0; /* at most ZSTR_MAX compressed: freed at once, on the loop thread */
    return ((rstr *)ptr)->cap >> 16; /* 64 KiB units: big strings are freed in the background */
}

const char *obj_encoding(int type, void *ptr) {
    const obj_ops *o = obj_ops_of(type);
    return o && o->encoding ? o->encoding(ptr) : "raw";
}

void *obj_dup(int type, void *ptr) {
    const obj_ops *o = obj_ops_of(type);
    if (o) return o->dup(ptr);
    if (type == OBJ_ZSTR) return zstr_dup(ptr);
    rstr *s = ptr;
    return rstr_new(s->data, s->len, s->len);
}

const char *obj_type_name(int type) {
    switch (type) {
    case OBJ_STRING: return "string";
    case OBJ_LIST: return "list";
    case OBJ_SET: return "set";
    case OBJ_ZSET: return "zset";
    case OBJ_HASH: return "hash";
    case OBJ_STREAM: return "stream";
    default: return "none";
    }
}
