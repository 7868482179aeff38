/* object: the per-type operations on a key's heap value (the VAL_PTR of an
 * entry; `type` is the entry's e_heap_kind: OBJ_ZSTR for a compressed string).  Each data type defines one `obj_ops` under a fixed name
 * (hash_ops, set_ops, zset_ops, list_ops, stream_ops) in its own file, and
 * obj_ops_of() names them all: a type that is missing is a link error.
 *
 * Freeing: a value whose free_effort is small is freed at once.  A big one is
 * freed off the critical path: with free_step (values holding arena entries,
 * which only the event loop thread may touch) a slice at a time from
 * before-sleep; otherwise whole, by the background thread (bio). */
#ifndef SARDINE_OBJECT_H
#define SARDINE_OBJECT_H
#include <stddef.h>

typedef struct obj_ops {
    void (*free)(void *ptr);                 /* free all of it now */
    size_t (*bytes)(const void *ptr);        /* memory held (MEMORY USAGE) */
    size_t (*free_effort)(const void *ptr);  /* ~ number of allocations behind it */
    /* Optional: free up to `budget` elements; returns 1 when the value is gone. Loop thread only. */
    int (*free_step)(void *ptr, long budget);
    const char *(*encoding)(const void *ptr); /* OBJECT ENCODING */
    void *(*dup)(const void *ptr);           /* COPY */
} obj_ops;

extern const obj_ops hash_ops, set_ops, zset_ops, list_ops, stream_ops;

const obj_ops *obj_ops_of(int type); /* NULL for strings (rstr) */
void obj_free(int type, void *ptr);
size_t obj_bytes(int type, void *ptr);
size_t obj_free_effort(int type, void *ptr);
const char *obj_type_name(int type);
const char *obj_encoding(int type, void *ptr);
void *obj_dup(int type, void *ptr);
#endif
