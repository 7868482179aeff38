/* ptab: a compact set of pointers, one heap block, for bookkeeping that must
 * stay small per element (pub/sub registries and clients' subscription sets).
 *
 * The block is a header, the slots (one pointer each) and, when the table
 * was made with a payload, one uint32_t per slot that moves with its slot.
 * Up to PTAB_SMALL elements the slots are a plain vector searched linearly
 * (no hashing: the common client with a few subscriptions pays a few words);
 * beyond that they are an open-addressing table with linear probing, a power
 * of two of slots at most 4/5 full, deletions by backward shift (no
 * tombstones), grown by doubling and shrunk when it falls under 1/8 full.
 * An empty table is freed: the owner's pointer goes back to NULL.
 *
 * Resizing a table of more than PTAB_STEP_MIN slots is incremental, so that
 * a set of millions never stops the server while it is rehashed:
 * - preparing: from 78% full, the next block (twice the slots) is allocated
 *   and its pages faulted in a few per add or delete (on a VM a fresh page's
 *   first touch costs ~10 µs: tens of ms for a block of millions of slots,
 *   which random inserts into a fresh block would pay at once); it is dropped
 *   if the table falls back under 3/4 (the next block is 3x the memory only
 *   while the table is between 78% and 80% full);
 * - migrating: at 4/5 full the prepared block takes over and keeps the
 *   previous one (`old`); every add and delete (and ptab_step, which pub/sub
 *   calls from its cron for the registries, not for clients' own sets) moves
 *   the next PTAB_STEP of old's elements, in slot order, into it, and
 *   old is freed when it is empty.  That is done long before the new block
 *   could need to grow (it has room for as many more elements as old has
 *   slots).  Meanwhile an element is in exactly one of the two; a lookup
 *   tries the new block, then old.  Old never gains an element, and one
 *   leaving it (moved or deleted) leaves a tombstone, so its probe runs
 *   stay whole.  A shrink migrates the same way, without preparing.
 *
 * The elements themselves are the caller's: a `ptab_type` says how to hash
 * an element (to move it when the table is resized or a hole is closed) and
 * how to compare one with a lookup key.  Hashes must be well mixed in their
 * low bits (siphash, ptab_hash_ptr).  A slot number names a slot of either
 * block and is valid until the next add, delete or step.  Iterating:
 *     for (long i = ptab_next(t, -1); i >= 0; i = ptab_next(t, i)) ... *ptab_slot(t, i) ...   */
#ifndef SARDINE_PTAB_H
#define SARDINE_PTAB_H
#include <stddef.h>
#include <stdint.h>

#define PTAB_SMALL 8
#define PTAB_STEP 4           /* elements moved from the old block per add or delete */
#define PTAB_STEP_MIN 1024    /* tables of more slots than this are resized incrementally */

typedef struct ptab {
    uint32_t count, cap;        /* elements in this block (old's not included); slots */
    uint32_t has_aux, unused;
    struct ptab_resize *rz;     /* a resize under way, else NULL */
    void *slot[];               /* then, if has_aux, uint32_t aux[cap] */
} ptab;

/* A resize under way: preparing (next set) or migrating (old set), never both. */
typedef struct ptab_resize {
    struct ptab *next; /* preparing: the block that takes over at 4/5 full, being faulted in */
    size_t ready;      /* bytes of next faulted in so far */
    struct ptab *old;  /* migrating: the previous block, still holding old->count elements */
    uint32_t moved;    /* old's slots [0, moved) are done */
} ptab_resize;

typedef struct ptab_type {
    uint64_t (*hash)(const void *elem);
    /* elem equals the key (key, klen); NULL: the key is a pointer compared with the element */
    int (*eq)(const void *elem, const void *key, size_t klen);
} ptab_type;

/* Elements in the set. */
static inline size_t ptab_count(const ptab *t) {
    return t ? (size_t)t->count + (t->rz && t->rz->old ? t->rz->old->count : 0) : 0;
}
/* The slot holding the element equal to key (hash h: the one ty->hash gives that element), or -1. */
long ptab_find(const ptab *t, const ptab_type *ty, const void *key, size_t klen, uint64_t h);
/* Adds elem (not NULL, not present; hash h); creates the table (with a payload when aux) if *t is
 * NULL.  Returns its slot. */
long ptab_add(ptab **t, const ptab_type *ty, void *elem, uint64_t h, int aux);
/* Removes the element in slot; frees the table when it was the last. */
void ptab_del(ptab **t, const ptab_type *ty, long slot);
/* The element's place (it may be replaced by one with the same hash) and its payload. */
void **ptab_slot(ptab *t, long slot);
uint32_t *ptab_aux_at(ptab *t, long slot);
static inline void *ptab_get(const ptab *t, long slot) { return *ptab_slot((ptab *)t, slot); }
/* The first slot after `slot` holding an element (-1 for the first), or -1 at the end. */
long ptab_next(const ptab *t, long slot);
/* Moves a resize under way on by about budget elements' worth (a cron's share); 1 while an old block is
 * still held (0 while preparing: the next block is faulted in, nothing moves yet). */
int ptab_step(ptab *t, const ptab_type *ty, uint32_t budget);
/* Frees the blocks (not the elements). */
void ptab_free(ptab *t);
/* A pointer's hash (for sets of pointers). */
uint64_t ptab_hash_ptr(const void *p);
#endif
