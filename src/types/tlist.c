/* tlist: see tlist.h.  A list value is one quicklist (heap memory only: its
 * nodes and their listpacks), so a big list is freed whole by the background
 * thread; free_effort counts its nodes.  Both list-max-listpack-size and
 * list-compress-depth are read when a list is created, as in Redis. */
#include "types/tlist.h"
#include "keyspace/defrag.h"
#include "types/limits.h"
#include "types/object.h"

quicklist *tlist_new(void) {
    return ql_new((int)limits.list_max_listpack_size, (int)limits.list_compress_depth);
}

static void list_free(void *ptr) { ql_free(ptr); }
static size_t list_bytes(const void *ptr) { return ql_bytes(ptr); }
static size_t list_free_effort(const void *ptr) { return ((const quicklist *)ptr)->len; }
static const char *list_encoding(const void *ptr) {
    (void)ptr;
    return "quicklist";
}
static void *list_dup(const void *ptr) { return ql_dup(ptr); }

/* Active defragmentation: the quicklist header, then its nodes and their payloads from a node index. */
static void *list_defrag(void *ptr, uint64_t cur[2], long budget) {
    quicklist *ql = ptr;
    if (cur[0] == 0) {
        quicklist *n = defrag_alloc(ql);
        if (n) ql = n;
    }
    cur[0] = ql_defrag(ql, cur[0], budget / 16 + 1, defrag_alloc); /* a node: up to KiBs, two blocks */
    cur[1] = 0;
    return ql;
}

const obj_ops list_ops = {
    .free = list_free,
    .bytes = list_bytes,
    .free_effort = list_free_effort,
    .free_step = NULL,
    .encoding = list_encoding,
    .dup = list_dup,
    .defrag = list_defrag,
};
