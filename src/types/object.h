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
#include <stdint.h>

typedef struct obj_ops {
    void (*free)(void *ptr);                 /* free all of it now */
    size_t (*bytes)(const void *ptr);        /* memory held (MEMORY USAGE) */
    size_t (*free_effort)(const void *ptr);  /* ~ number of allocations behind it */
    /* Optional: free up to `budget` elements; returns 1 when the value is gone. Loop thread only. */
    int (*free_step)(void *ptr, long budget);
    const char *(*encoding)(const void *ptr); /* OBJECT ENCODING */
    void *(*dup)(const void *ptr);           /* COPY */
    /* Optional: active defragmentation (keyspace/defrag.h), loop thread, between commands.  Moves the
     * value's parts with defrag_entry/defrag_alloc from position cur (a stage and a position in it; both
     * 0: the start, which moves the value's own block too) for about `budget` elements (or fewer: a table
     * segment rebuilt ends a call), fixing every reference to what moved, and leaves in cur where the
     * next call goes on (both 0: done).  A position is a hash position, a rank, a node index, never a
     * pointer: the value may change between two calls, and a call after a change only misses or
     * revisits parts (what must not be missed, arena slots, is walked by hash position, which changes
     * do not shift).  Returns the value's pointer from now on (the caller stores it). */
    void *(*defrag)(void *ptr, uint64_t cur[2], long budget);
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
