/* table: the keyspace's hash table, designed for bytes per key.
 *
 * Shape: extendible hashing.  A directory indexed by the top G bits of the
 * 64-bit key hash points to segments; a segment of local depth d owns every
 * hash whose top d bits equal its prefix.  A segment is an array of 64-byte
 * buckets, each with 12 slots: 12 tag bytes (low 8 hash bits, compared 12 at
 * a time with SSE2), a 12-bit mask of slots whose key has a TTL, an overflow
 * counter, and 12 32-bit arena handles.  That is 5.33 bytes per slot, about
 * 6.3 bytes per key at the table's typical load.
 *
 * Placement: a key's home bucket is the 32 hash bits after the segment's
 * prefix scaled onto [0, nb) (monotone in the hash, so bucket order is hash
 * order).  A key goes to the first bucket from home with a free slot
 * (wrapping); every full bucket it passes counts it in its overflow counter,
 * so a lookup stops at the first bucket whose counter is zero.  Deletion
 * clears the slot and decrements the counters on the way; nothing moves.
 *
 * Growth, one segment at a time: a segment past 15/16 full is rebuilt 1.25x
 * larger, and a segment that would pass SEG_MAX_BUCKETS splits into two
 * segments of depth d+1, each 1.25x half the size.  So every segment stays
 * between 75% and 94% full, the table never holds two copies of itself, and
 * the longest pause is one segment's rebuild (~12k keys).
 *
 * Cursors are hash positions: kt_scan returns c such that every key with a
 * hash below c has been emitted.  Because positions do not depend on the
 * table's shape, a key present for a whole SCAN is returned at least once
 * however the table grows between calls (Redis's guarantee).
 *
 * Slot references (kslot) are valid until the next insert into the table. */
#ifndef SARDINE_TABLE_H
#define SARDINE_TABLE_H
#include <stddef.h>
#include <stdint.h>
#include "mem/arena.h"

#define BUCKET_SLOTS 12
#define SEG_MAX_BUCKETS 1024

typedef struct kbucket {
    uint8_t tag[BUCKET_SLOTS];
    uint16_t ttlmask;
    uint8_t overflow;
    uint8_t pad;
    uint32_t h[BUCKET_SLOTS];
} kbucket;

typedef struct kseg {
    kbucket *b;
    uint32_t nb, count, nttl, prefix;
    uint8_t depth;
} kseg;

typedef struct ktable {
    kseg **dir;
    uint32_t gdepth;
    size_t count, nttl, nsegs, bytes;
} ktable;

typedef struct kslot {
    kseg *seg;
    uint32_t bi, si;
} kslot;

typedef void kt_visit_fn(void *ud, handle_t h);

uint64_t kt_hash(const char *key, size_t len);
void kt_init(ktable *t);
/* Frees the table's own memory, calling free_entry for each handle first. */
void kt_destroy(ktable *t, kt_visit_fn *free_entry, void *ud);
handle_t kt_find(const ktable *t, const char *key, size_t klen, uint64_t hash, kslot *where);
void kt_insert(ktable *t, uint64_t hash, handle_t h, int has_ttl); /* the key must be absent */
void kt_replace(ktable *t, const kslot *where, handle_t h, int has_ttl);
void kt_delete(ktable *t, const kslot *where, uint64_t hash);
uint64_t kt_scan(const ktable *t, uint64_t cursor, long count, kt_visit_fn *fn, void *ud);
/* Walks physical buckets in hash order visiting only keys with a TTL, at most
 * max_buckets of them; returns the next cursor (0 after a full pass). */
uint64_t kt_scan_ttl(const ktable *t, uint64_t cursor, long max_buckets, kt_visit_fn *fn, void *ud);
/* A pseudo-random key (with a TTL if ttl_only), 0 if there is none. */
handle_t kt_random(const ktable *t, uint64_t rnd, int ttl_only);
/* Frees up to max entries of a table being emptied; returns 1 when done. */
int kt_drain(ktable *t, size_t max, kt_visit_fn *free_entry, void *ud);
#endif
