/* sidx: an ordered set of fixed-size records keyed by a stream ID (the
 * 128-bit "ms-seq"), used by streams for three things: the index of listpack
 * nodes (keyed by each node's master ID), a consumer group's pending entries
 * list and each consumer's own pending IDs.
 *
 * Layout: a sorted array of chunk pointers; a chunk is one heap block with a
 * count and up to `maxrecs` records in key order (each record starts with its
 * sid).  Chunks start small and double up to ~4 KiB, so a set of two records
 * costs two records, not a page.  A full chunk splits in half, except when the
 * new record goes past the last one (appends, the common case for IDs), which
 * opens a new chunk and leaves the full one full.  A chunk that shrinks below
 * a quarter merges with a neighbour when both fit in one; an empty chunk is
 * freed.  Lookups binary-search the chunk array by first key, then the chunk.
 *
 * Invariants: every chunk is non-empty; keys are strictly increasing across
 * the whole sequence; count is the number of records.  Record pointers and
 * cursors are invalidated by any insert or delete.  Heap memory only (s_malloc),
 * so a whole sidx may be freed by the background thread. */
#ifndef SARDINE_SIDX_H
#define SARDINE_SIDX_H
#include <stddef.h>
#include <stdint.h>

typedef struct sid {
    uint64_t ms, seq;
} sid;

static inline int sid_cmp(const sid *a, const sid *b) {
    if (a->ms != b->ms) return a->ms < b->ms ? -1 : 1;
    if (a->seq != b->seq) return a->seq < b->seq ? -1 : 1;
    return 0;
}

typedef struct sidx_chunk sidx_chunk;

typedef struct sidx {
    sidx_chunk **c;
    uint32_t nc, capc;
    uint32_t recsize, maxrecs;
    uint64_t count;
} sidx;

/* A position: chunk index and record index; ci >= nc means "none". */
typedef struct sidx_cur {
    uint32_t ci, pos;
} sidx_cur;

void sidx_init(sidx *t, size_t recsize);
void sidx_clear(sidx *t); /* frees every chunk; the sidx is empty and reusable */
size_t sidx_bytes(const sidx *t);
void *sidx_find(const sidx *t, const sid *key);
/* Inserts a record with this key (the rest zeroed) unless one exists; returns the record either way. */
void *sidx_insert(sidx *t, const sid *key, int *existed);
int sidx_delete(sidx *t, const sid *key); /* 1 if a record was removed */
/* Positioning: 1 if the cursor points at a record. */
int sidx_first(const sidx *t, sidx_cur *cur);
int sidx_last(const sidx *t, sidx_cur *cur);
int sidx_seek_ge(const sidx *t, const sid *key, sidx_cur *cur); /* first record >= key */
int sidx_seek_le(const sidx *t, const sid *key, sidx_cur *cur); /* last record <= key */
int sidx_next(const sidx *t, sidx_cur *cur);
int sidx_prev(const sidx *t, sidx_cur *cur);
void *sidx_at(const sidx *t, const sidx_cur *cur); /* NULL when the cursor points nowhere */
/* Calls fn on each chunk's records (for freeing what records point to). */
void sidx_each(const sidx *t, void (*fn)(void *rec, void *ud), void *ud);
/* Active defragmentation: from chunk `from` (0: the chunk array first), chunks holding up to about budget
 * records: each chunk given to mv, which returns its new address (kept) or NULL, then fn on each of its
 * records (to move what they point to).  Returns the next chunk's index, 0 after the last. */
uint32_t sidx_defrag(sidx *t, uint32_t from, long budget, void (*fn)(void *rec, void *ud), void *ud,
                     void *(*mv)(void *));
/* Checks the invariants (tests, DEBUG CHECK-KEY): NULL, or what is wrong. */
const char *sidx_check(const sidx *t);
#endif
