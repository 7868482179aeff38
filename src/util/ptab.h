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
 * The elements themselves are the caller's: a `ptab_type` says how to hash
 * an element (to move it when the table is resized or a hole is closed) and
 * how to compare one with a lookup key.  Hashes must be well mixed in their
 * low bits (siphash, ptab_hash_ptr).  Slot numbers are valid until the next
 * add or delete.  Empty slots hold NULL, so iterating is
 *     for (i = 0; t && i < t->cap; i++) if (t->slot[i]) ...   */
#ifndef SARDINE_PTAB_H
#define SARDINE_PTAB_H
#include <stddef.h>
#include <stdint.h>

#define PTAB_SMALL 8

typedef struct ptab {
    uint32_t count, cap;
    uint32_t has_aux, unused;
    void *slot[]; /* then, if has_aux, uint32_t aux[cap] */
} ptab;

typedef struct ptab_type {
    uint64_t (*hash)(const void *elem);
    /* elem equals the key (key, klen); NULL: the key is a pointer compared with the element */
    int (*eq)(const void *elem, const void *key, size_t klen);
} ptab_type;

/* The slot holding the element equal to key (hash h: the one ty->hash gives that element), or -1. */
long ptab_find(const ptab *t, const ptab_type *ty, const void *key, size_t klen, uint64_t h);
/* Adds elem (not NULL, not present; hash h); creates the table (with a payload when aux) if *t is
 * NULL.  Returns its slot. */
long ptab_add(ptab **t, const ptab_type *ty, void *elem, uint64_t h, int aux);
/* Removes the element in slot; frees the table when it was the last. */
void ptab_del(ptab **t, const ptab_type *ty, long slot);
static inline uint32_t *ptab_aux(ptab *t) {
    return (uint32_t *)(t->slot + t->cap);
}
/* A pointer's hash (for sets of pointers). */
uint64_t ptab_hash_ptr(const void *p);
#endif
