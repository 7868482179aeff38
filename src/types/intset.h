/* intset: Redis's sorted integer array, byte for byte (the "intset" encoding
 * of small all-integer sets, and the payload RDB/DUMP carry for them).
 *
 * Layout, little endian: [encoding u32: 2, 4 or 8][length u32][length
 * integers of `encoding` bytes each, strictly increasing].  Adding a value
 * that needs a wider encoding upgrades every element (never downgraded).
 * The allocation is always exactly header + length * encoding bytes; while
 * that is at most ARENA_MAX_ALLOC it lives in the entry arena (8-byte size
 * classes), above that on the heap.  Arena-backed intsets may only be
 * touched by the event loop thread.  Functions that change an intset may
 * move it and return the new pointer. */
#ifndef SARDINE_INTSET_H
#define SARDINE_INTSET_H
#include <stddef.h>
#include <stdint.h>

typedef struct intset intset;

intset *is_new(void);
void is_free(intset *is);
intset *is_dup(const intset *is);
intset *is_add(intset *is, int64_t v, int *added);
intset *is_remove(intset *is, int64_t v, int *removed);
int is_find(const intset *is, int64_t v);
uint32_t is_len(const intset *is);
int64_t is_get(const intset *is, uint32_t pos);
uint32_t is_encoding(const intset *is);  /* 2, 4 or 8 */
size_t is_blob_len(const intset *is);    /* header + data: what DUMP carries */
size_t is_alloc_size(const intset *is);  /* bytes of its allocation */
/* Checks an intset received from outside: sizes, encoding, strictly increasing. */
int is_validate(const unsigned char *p, size_t size);
/* A copy of a validated intset blob (RDB, RESTORE), allocated as the intset functions allocate. */
intset *is_from_blob(const unsigned char *p, size_t size);
/* Checks the invariants of an intset in memory (tests, DEBUG CHECK-KEY): NULL, or what is wrong. */
const char *is_check(const intset *is);
#endif
