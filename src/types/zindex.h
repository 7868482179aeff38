/* zindex: the order of a big sorted set, an order-statistic B+tree of
 * member handles (zelem.h) sorted by (score, member).
 *
 * Leaves are 512-byte arrays of up to 112 handles, each split into a 32-bit
 * low word and a nibble of high bits (handles are 36 bits): 4.5 bytes per
 * member, no score copy, no pointers, so the index costs ~4.6-6 bytes per
 * member (Redis's skiplist node costs ~50).  Comparisons inside a leaf read the
 * member's entry.  Internal nodes hold, for each child, its pointer, its
 * element count (rank in O(log n)) and its smallest element as a copy of the
 * score plus the handle, so a descent compares scores without touching
 * entries until it reaches a leaf (and on equal scores).
 *
 * Invariants:
 * - every leaf and internal node is non-empty; all leaves are at `height`;
 * - cnt[i] is the number of elements under child i;
 * - ks[i]/kh[i] are the score and handle of the smallest element under
 *   child i (so a handle named in a node is always live: removing an
 *   element that is some subtree's minimum rewrites the keys above it);
 * - nodes are only split when full (with a sibling shift first for leaves,
 *   and append-friendly splits at the tree's ends), and merged with a
 *   sibling when they fall under a quarter and the two fit in 3/4.
 *
 * The caller owns the entries: the index never frees or changes them, and
 * an element's score must not change while it is in the index (delete,
 * change, insert; or zi_rescore). */
#ifndef SARDINE_ZINDEX_H
#define SARDINE_ZINDEX_H
#include <stddef.h>
#include <stdint.h>
#include "mem/arena.h"
#include "util/debug.h"

typedef struct zindex {
    void *root;       /* a leaf when height == 0; NULL when empty */
    uint32_t height;
    size_t count;
    size_t bytes;     /* heap bytes of the nodes */
} zindex;

/* Bound kinds: count of elements strictly before a bound. */
enum { ZB_SCORE_LT, ZB_SCORE_LE, ZB_LEX_LT, ZB_LEX_LE };

typedef struct zi_iter {
    const zindex *t;
    const void *leaf;
    int idx;
    size_t rank; /* rank of the element at (leaf, idx) */
} zi_iter;

typedef void zi_visit_fn(void *ud, handle_t h);

void zi_init(zindex *t);
/* Inserts an element whose (score, member) is not in the index. */
void zi_insert(zindex *t, handle_t h);
/* Fills an empty index with n distinct elements given in ascending (score, member) order, in O(n):
 * full leaves left to right, then each level of internal nodes above them.  hs may be overwritten. */
/* Builds the index of an empty tree over n handles given in order: hs[0], hs[stride], ... hs[(n-1)*stride],
 * or that sequence from its last one back when reverse (a stride of 2 reads the handles of an array of
 * 16-byte pairs in place, without a copy). */
void zi_build_strided(zindex *t, const handle_t *hs, size_t stride, size_t n, int reverse);
static inline void zi_build(zindex *t, const handle_t *hs, size_t n) { zi_build_strided(t, hs, 1, n, 0); }
/* Building while the elements arrive (a load that knows their count n): the leaves zi_build would make are
 * allocated as they are first written, and each element is written straight into its place by rank
 * (zi_bulk_set), in any order; zi_bulk_get reads a place back (another thread may read places written
 * before a synchronisation).  zi_bulk_finish, once every rank in [0, n) is written, makes an empty index
 * of them (the levels above the leaves); the builder still reads them back until zi_bulk_free, which
 * frees the leaves too unless an index took them (never the elements: they stay the caller's). */
typedef struct zi_bulk zi_bulk;
zi_bulk *zi_bulk_new(size_t n);
void zi_bulk_set(zi_bulk *b, size_t rank, handle_t h);
handle_t zi_bulk_get(const zi_bulk *b, size_t rank);
void zi_bulk_finish(zindex *t, zi_bulk *b);
void zi_bulk_free(zi_bulk *b);
/* Deletes an element that is in the index (found by its score and member). */
void zi_delete(zindex *t, handle_t h);
/* Changes a present element's score, in place when its position stays the same. */
void zi_rescore(zindex *t, handle_t h, double score);
/* The element of rank r (0-based, r < count). */
handle_t zi_at(const zindex *t, size_t r);
/* The 0-based rank of a present element. */
size_t zi_rank(const zindex *t, handle_t h);
/* Number of elements before a bound: score < s (ZB_SCORE_LT), score <= s, member < m, member <= m. */
size_t zi_count_before(const zindex *t, int kind, double s, const char *m, size_t len);
/* Removes n elements from rank `start`, calling fn (which must not touch the index) for each. */
void zi_delete_range(zindex *t, size_t start, size_t n, zi_visit_fn *fn, void *ud);
void zi_iter_init(zi_iter *it, const zindex *t, size_t rank);
handle_t zi_iter_get(const zi_iter *it);
/* Moves to the next (dir > 0) or previous element; 0 past either end. */
int zi_iter_move(zi_iter *it, int dir);
/* Frees about budget elements' worth of nodes, calling fn (if any) for each element's handle first;
 * 1 when the index is empty.  Counts above the freed leaves are not maintained: once started, only
 * zi_free_step/zi_destroy may touch the index. */
int zi_free_step(zindex *t, long budget, zi_visit_fn *fn, void *ud);
void zi_destroy(zindex *t, zi_visit_fn *fn, void *ud);
/* Active defragmentation.  zi_move: h (a live element) is given to mv, which returns its handle from now
 * on (the entry moved in the arena, same member and score, the old slot freed); the index writes it in
 * its leaf and in the separator keys above it, having found h before the call.  Returns the new handle
 * (h when it stayed, or was not found).  zi_defrag: from the leaf holding rank `rank`, the nodes holding
 * about budget elements, each node the walk enters (internal nodes on the way included) given to mv,
 * which returns its new address (the index relinks it) or NULL; returns the rank after the last leaf
 * walked (count when done). */
handle_t zi_move(zindex *t, handle_t h, handle_t (*mv)(handle_t));
size_t zi_defrag(zindex *t, size_t rank, long budget, void *(*mv)(void *));
/* Checks every invariant above (ordering, subtree counts and separators, member count); returns 0 and
 * says which on failure. */
int zi_check(const zindex *t, const char **why);
/* Debug check for tests and the DEBUG command: zi_check plus "every handle is a live arena slot, none
 * twice".  Returns 1 when consistent, else 0 with the reason in dbg_check_why (mem/dbg.h). */
int zindex_check(const zindex *t);
#endif
