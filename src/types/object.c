/* object: see object.h.  Each data type registers its operations here. */
#include "types/object.h"
#include "keyspace/entry.h"
#include "types/rstr.h"
#include "util/mem.h"

void obj_free(int type, void *ptr) {
    switch (type) {
    case OBJ_STRING: s_free(ptr); break;
    default: break;
    }
}

size_t obj_bytes(int type, void *ptr) {
    switch (type) {
    case OBJ_STRING: return s_usable(ptr);
    default: return 0;
    }
}

size_t obj_free_effort(int type, void *ptr) {
    switch (type) {
    case OBJ_STRING: return ((rstr *)ptr)->cap >> 16; /* 64 KiB units: big strings free in the background */
    default: return 1;
    }
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
