/* tset: the set type's value and its two encodings, as Redis 7.0 has them.
 *
 *   intset     every member is the canonical text of a 64-bit integer and
 *              there are at most set-max-intset-entries of them: Redis's
 *              sorted integer array (types/intset.h), arena-backed while small.
 *   hashtable  a ktable (keyspace/table.h) of arena entries whose key is the
 *              member (value: a 1-byte integer 0): no per-member heap
 *              allocation, ~30 bytes per short member.
 *
 * An intset converts to a hashtable when a non-integer is added or it grows
 * past the limit, and never back.  A new set (SADD, SMOVE) starts as an
 * intset if its first member is an integer, and results of the store
 * commands are built member by member from an intset, as Redis builds them.
 * The key's entry points at the intset, or at an `sbig` header whose first
 * 4 bytes are zero (an intset starts with its encoding, 2, 4 or 8).
 *
 * Functions that change a set take `void **`: the value may move. */
#ifndef SARDINE_TSET_H
#define SARDINE_TSET_H
#include <stddef.h>
#include <stdint.h>

struct intset;
typedef void set_visit_fn(void *ud, const char *m, size_t len);

void *set_new_intset(void);
void *set_create_for(const char *m, size_t len); /* Redis's setTypeCreate: intset if m is an integer */
/* An empty hashtable set with its table sized for about n members (loading a big set). */
void *set_new_table(size_t n);
int set_is_intset(const void *s);
unsigned long set_len(const void *s);
int set_has(const void *s, const char *m, size_t len);
int set_add(void **sp, const char *m, size_t len); /* 1 if added */
int set_rem(void **sp, const char *m, size_t len); /* 1 if removed */
/* Every member in the encoding's order (ascending for intsets). */
void set_foreach(const void *s, set_visit_fn *fn, void *ud);
/* The same members in the order they are stored, faster for a big set (no element is hashed); the order is
 * not set_foreach's.  For serializing (RDB, DUMP, AOF rewrites), in parts if need be: from *pos (0 first), at
 * least min elements (whole table segments; a small encoding all at once), *pos then being where the next
 * part starts while the value is not written.  Returns 1 once every element was visited. */
int set_walk_stored(const void *s, size_t *pos, long min, set_visit_fn *fn, void *ud);
/* One SCAN step: an intset returns everything and cursor 0, as Redis does. */
uint64_t set_scan(const void *s, uint64_t cursor, long count, set_visit_fn *fn, void *ud);
/* count random members: distinct (count < length) or with repetitions. */
void set_random(const void *s, unsigned long count, int distinct, set_visit_fn *fn, void *ud);
void set_free(void *s);
/* A set made of a loaded intset (RDB, RESTORE): kept when within set-max-intset-entries, else converted. */
void *set_from_intset(struct intset *is);
/* Checks the encoding's invariants (tests, DEBUG CHECK-KEY): NULL, or what is wrong. */
const char *set_check(const void *s);
#endif
