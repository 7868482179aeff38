/* thash: the hash type's value and its two encodings, as Redis 7.0 has them.
 *
 *   listpack   field,value,field,value... in one listpack (types/listpack.h),
 *              in insertion order, allocated to the byte in the entry arena
 *              (lp_new_compact) while small.  Used while the hash has at
 *              most hash-max-listpack-entries fields and no field or value
 *              longer than hash-max-listpack-value bytes.
 *   hashtable  a ktable (keyspace/table.h) of arena entries, one per field:
 *              the field is the entry's key, the value is stored as keyspace
 *              strings are (integer, inline bytes, or a pointer to an rstr
 *              when the entry would not fit an arena class).  No per-field
 *              heap allocation, ~40 bytes per field for short ones.
 *
 * A hash converts from listpack to hashtable when a set would break either
 * limit, and never back (Redis's rule).  The key's entry points straight at
 * the listpack, or at a small `hbig` header whose first 4 bytes are zero: a
 * listpack's first 4 bytes are its size (>= 7), so the two never collide.
 *
 * Functions that change a hash take `void **` because the value may move. */
#ifndef SARDINE_THASH_H
#define SARDINE_THASH_H
#include <stddef.h>
#include <stdint.h>
#include "util/numconv.h"

/* A value as text; integers are formatted into buf. */
typedef struct hval {
    const char *s;
    size_t len;
    char buf[LL_STR_SIZE];
} hval;

typedef void hash_visit_fn(void *ud, const char *f, size_t flen, const char *v, size_t vlen);

void *hash_new(void);
/* An empty hashtable hash with its table sized for about n fields (loading a big hash). */
void *hash_new_table(size_t n);
int hash_is_listpack(const void *h);
unsigned long hash_len(const void *h);
int hash_get(const void *h, const char *f, size_t flen, hval *out); /* 1 found */
/* Sets field to value, converting the encoding as Redis does; returns 1 if the field is new. */
int hash_set(void **hp, const char *f, size_t flen, const char *v, size_t vlen);
int hash_del(void **hp, const char *f, size_t flen); /* 1 deleted */
/* Around a burst of sets: the listpack is built on the heap, then moved back into the arena once. */
void hash_batch_begin(void **hp);
void hash_batch_end(void **hp);
/* Every pair, in the encoding's natural order (insertion order for listpacks). */
void hash_foreach(const void *h, hash_visit_fn *fn, void *ud);
/* The same pairs in the order they are stored, faster for a big hash (no element is hashed); the order is
 * not hash_foreach's.  For serializing (RDB, DUMP, AOF rewrites), in parts if need be: from *pos (0 first), at
 * least min elements (whole table segments; a small encoding all at once), *pos then being where the next
 * part starts while the value is not written.  Returns 1 once every element was visited. */
int hash_walk_stored(const void *h, size_t *pos, long min, hash_visit_fn *fn, void *ud);
/* One SCAN step: a listpack returns everything and cursor 0, as Redis does. */
uint64_t hash_scan(const void *h, uint64_t cursor, long count, hash_visit_fn *fn, void *ud);
/* count random pairs: distinct (count < length) or with repetitions. */
void hash_random(const void *h, unsigned long count, int distinct, hash_visit_fn *fn, void *ud);
void hash_free(void *h);
/* A hash made of a loaded field/value listpack (RDB, RESTORE; heap, validated, no duplicate fields),
 * taken over: kept (moved into the arena) within the limits, else converted as Redis converts on load
 * (more than hash-max-listpack-entries fields, or, when check_len, a field or value longer than
 * hash-max-listpack-value bytes). */
void *hash_from_listpack(unsigned char *lp, int check_len);
/* Checks the encoding's invariants (tests, DEBUG CHECK-KEY): NULL, or what is wrong. */
const char *hash_check(const void *h);
#endif
