/* quicklist: the list encoding (Redis 7.0 reports every list as "quicklist").
 *
 * A doubly linked list of nodes, each holding a run of elements in one
 * listpack (types/listpack.h).  A node header is 32 bytes (two links, the
 * listpack pointer and the node's element count), so with the default node
 * size of 8 KiB the headers cost well under 1% of the elements.
 *
 * Invariants:
 * - no node is empty; ql->count is the sum of the node counts and ql->len the
 *   number of nodes;
 * - a node only grows while it stays within the fill limit (see ql_new), so
 *   pushes touch at most the end node plus one new node;
 * - indexed access walks from the nearer end and skips whole nodes by their
 *   counts, then seeks inside one listpack;
 * - deletions in the interior of the list (LREM, LTRIM, iterator deletes)
 *   merge a node with a neighbour when both fit in one node, as inserts that
 *   split a node do; pops at the ends only drop nodes that become empty;
 * - with a compress depth d, the d nodes at each end are plain listpacks and
 *   the others are compressed (when that pays); a node read in the middle is
 *   decompressed for the access and compressed again afterwards, which is why
 *   ql_index() has a ql_release() and iterations end with ql_iter_done().
 *
 * Element values handed out (lp_val) point into a node's listpack and are
 * valid until the list is next modified. */
#ifndef SARDINE_QUICKLIST_H
#define SARDINE_QUICKLIST_H
#include <stddef.h>
#include <stdint.h>
#include "types/listpack.h"

typedef struct qlnode {
    struct qlnode *prev, *next;
    unsigned char *lp;
    uint32_t count;
    uint32_t flags; /* reserved (compression) */
} qlnode;

typedef struct quicklist {
    qlnode *head, *tail;
    size_t count;      /* elements */
    uint32_t len;      /* nodes */
    int16_t fill;      /* list-max-listpack-size: -1..-5 = 4..64 KiB per node, > 0 elements per node */
    uint16_t compress; /* list-compress-depth: raw nodes at each end, the others compressed (0: none) */
} quicklist;

enum { QL_HEAD = 0, QL_TAIL = 1 };

/* fill and compress are clamped to Redis's ranges (-5 .. 32767, 0 .. 65535). */
quicklist *ql_new(int fill, int compress);
void ql_free(quicklist *ql);
/* Active defragmentation: from the node of index `from`, up to budget nodes, each node and then its
 * payload given to mv, which returns the block's new address (the list relinks it) or NULL.  Returns the
 * index of the next node, 0 after the last. */
size_t ql_defrag(quicklist *ql, size_t from, long budget, void *(*mv)(void *));
/* Nodes ql_defrag moved so far (any list): a node pointer kept across loop iterations is still valid while
 * this has not changed and the list was not written (persist/rdb_save.c's list parts). */
uint64_t ql_node_moves(void);
quicklist *ql_dup(const quicklist *ql);
size_t ql_bytes(const quicklist *ql); /* heap bytes held */
size_t ql_compressed_nodes(const quicklist *ql);
static inline size_t ql_count(const quicklist *ql) { return ql->count; }

void ql_push(quicklist *ql, const char *s, size_t len, int where);
/* Appends the elements of a non-empty, validated heap listpack (RDB, RESTORE), taking ownership: as one
 * node when it is within the fill limit (a memcpy'd node stays as it came), else element by element. */
void ql_append_lp(quicklist *ql, unsigned char *lp);
/* The first (QL_HEAD) or last (QL_TAIL) element; 0 if the list is empty. */
int ql_peek(quicklist *ql, int where, lp_val *v);
/* Drops the first or last element (the list must not be empty). */
void ql_pop(quicklist *ql, int where);

/* The position of one element. */
typedef struct qlpos {
    qlnode *node;
    unsigned char *p;
} qlpos;
/* Finds the element at index (negative counts from the end); 0 if out of range.
 * A found position must be given back with ql_release() or ql_replace(). */
int ql_index(quicklist *ql, long index, qlpos *pos);
void ql_release(quicklist *ql, qlpos *pos);
/* Replaces the element at pos and releases it. */
void ql_replace(quicklist *ql, qlpos *pos, const char *s, size_t len);
/* Deletes count elements starting at index start (0 <= start, start + count <= ql->count). */
void ql_del_range(quicklist *ql, size_t start, size_t count);

/* Iteration from an index towards the tail (QL_TAIL) or the head (QL_HEAD).
 * ql_iter_delete removes the element last returned and keeps iterating;
 * ql_iter_insert adds an element next to it and ends the iteration.
 * Every iteration ends with ql_iter_done (it merges nodes that lost elements
 * and compresses again what was decompressed), except after ql_iter_insert. */
typedef struct qliter {
    quicklist *ql;
    qlnode *node;       /* node of the next element */
    unsigned char *p;   /* next element in node; NULL: continue with the following node */
    qlnode *cur_node;   /* element last returned */
    unsigned char *cur;
    qlnode *dirty;      /* a node that lost elements and may now merge */
    int dir;
} qliter;
void ql_iter_init(qliter *it, quicklist *ql, long index, int dir);
int ql_iter_next(qliter *it, lp_val *v);
void ql_iter_delete(qliter *it);
void ql_iter_insert(qliter *it, const char *s, size_t len, int after);
void ql_iter_done(qliter *it);

/* A compressed node's LZF bytes (liblzf's, as Redis's compressed nodes hold them), for RDB and DUMP to
 * write without decompressing: 1 and data/clen/raw (listpack bytes), or 0 when n->lp is a plain listpack. */
int ql_node_lzf(const qlnode *n, const unsigned char **data, size_t *clen, size_t *raw);

/* Consistency check (tests, DEBUG CHECK-KEY): counts, links, each node's
 * listpack, compressed payloads, the raw end nodes, nothing left
 * decompressed; NULL if consistent, else what is wrong. */
const char *ql_check(const quicklist *ql);
/* DEBUG QUICKLIST's dump to f: the list's counts and settings, each node's (full: with its listpack, a
 * compressed one decompressed into a copy).  Sardine's own layout, after Redis's quicklistRepr. */
void ql_repr(FILE *f, const quicklist *ql, int full);
#endif
