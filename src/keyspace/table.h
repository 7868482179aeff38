/* table: the keyspace's hash table, designed for bytes per key.
 *
 * Shape: extendible hashing.  A directory indexed by the top G bits of the
 * 64-bit key hash points to segments; a segment of local depth d owns every
 * hash whose top d bits equal its prefix.  A segment is an array of 64-byte
 * buckets, each with 11 slots:
 *
 *   bytes  0-10  11 tag bytes (low 8 hash bits per slot, compared at once
 *                with SSE2; 0 in an empty slot, but 0 is also a valid tag)
 *   byte   11    overflow counter: keys that probed past this bucket
 *                (saturates at 255 and then stays)
 *   bytes 12-13  TTL mask: bit i set when slot i holds a key with a TTL
 *   bytes 14-19  high nibbles of the 11 handles (slot i: byte i/2, low
 *                nibble for even i)
 *   bytes 20-63  11 low 32-bit handle words (0 = empty slot: the arena never
 *                makes a handle whose low word is 0)
 *
 * so a slot holds a 36-bit arena handle in 5.8 bytes, about 6.9 bytes per
 * key at the table's typical load.
 *
 * Placement: a key's home bucket is the 32 hash bits after the segment's
 * prefix scaled onto [0, nb) (monotone in the hash, so bucket order is hash
 * order).  A key goes to the first bucket from home with a free slot
 * (wrapping); every full bucket it passes counts it in its overflow counter,
 * so a lookup stops at the first bucket whose counter is zero.  Deletion
 * clears the slot and decrements the counters on the way; nothing moves.
 *
 * Growth, one segment at a time: a segment past 15/16 full is rebuilt 1.15x
 * larger, and a segment that would pass SEG_MAX_BUCKETS splits into two
 * segments of depth d+1, each 1.15x half the size.  So every segment stays
 * between 81% and 94% full (6.2 to 7.1 bytes per key), the table never holds
 * two copies of itself, and the longest pause is one segment's rebuild (~11k
 * keys).  (1.15x rather than 1.25x: each key is rebuilt ~7 times instead of 4
 * over the table's growth, which buys back most of what the 11th-slot
 * layout costs; 12 slots with 1.25x ranged over 5.7 to 7.1.)
 *
 * Memory: a segment's buckets are one heap block, except after kt_reserve of
 * a table of 4 MiB and more (a restore or a load that knows its count): then
 * every segment's buckets, whole 4 KiB pages each, lie in one mapping faulted
 * in with 2 MiB huge pages (on a VM that is a few faults instead of one per
 * 4 KiB, which costs more than the zeroing).  A segment that grows, splits or
 * shrinks later moves to a heap block; each 2 MiB chunk of the mapping is given
 * back once no segment is left in it, and the table's bytes count the chunks
 * still committed (kt_check verifies them).
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
#include "util/debug.h"

#define BUCKET_SLOTS 11
#define BUCKET_MASK 0x7ffu
#define SEG_MAX_BUCKETS 1024

typedef struct kbucket {
    uint8_t tag[BUCKET_SLOTS];
    uint8_t overflow;
    uint16_t ttlmask;
    uint8_t hi[(BUCKET_SLOTS + 1) / 2];
    uint32_t lo[BUCKET_SLOTS];
} kbucket;

/* The handle in slot i of a bucket (0 when empty). */
static inline handle_t kb_get(const kbucket *b, int i) {
    return (handle_t)((b->hi[i >> 1] >> ((i & 1) << 2)) & 15) << 32 | b->lo[i];
}

typedef struct kseg {
    kbucket *b;
    struct kblock *blk; /* the block of kt_reserve holding b, or NULL: b is a heap block of its own */
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
/* Sizes an empty table for about n keys at once (a restore or load that knows its count): the segments
 * it will need, each ~85% full at n, so filling it rebuilds nothing.  No-op on a non-empty table. */
void kt_reserve(ktable *t, size_t n);
/* Asks the CPU for the bucket a probe for this hash starts at (bulk inserts prefetch a few ahead). */
void kt_prefetch(const ktable *t, uint64_t hash);
void kt_replace(ktable *t, const kslot *where, handle_t h, int has_ttl);
void kt_delete(ktable *t, const kslot *where, uint64_t hash);
uint64_t kt_scan(const ktable *t, uint64_t cursor, long count, kt_visit_fn *fn, void *ud);
/* Every key once, in the order the buckets hold them (not kt_scan's hash order: no key is hashed), the
 * entries two buckets ahead asked for first so that their cache misses overlap.  For passes over a table
 * that does not change meanwhile (serializing a collection), in parts: from *pos (0 first), whole
 * segments until at least min keys were visited; *pos is then where the next part starts (a directory
 * index, valid while the table is not written: entries moved in place by kt_defrag do not matter).
 * Returns 1 once every key was visited. */
int kt_walk(const ktable *t, size_t *pos, long min, kt_visit_fn *fn, void *ud);
/* Walks physical buckets in hash order visiting only keys with a TTL, at most
 * max_buckets of them; returns the next cursor (0 after a full pass). */
uint64_t kt_scan_ttl(const ktable *t, uint64_t cursor, long max_buckets, kt_visit_fn *fn, void *ud);
/* Active defragmentation: walks physical buckets in hash order from a position cursor, at most
 * max_buckets of them, calling fn for every handle; fn returns the handle the slot must hold from now on
 * (the entry moved in the arena, same key: its tag, TTL bit and place stay).  Returns the next cursor,
 * 0 after a full pass.  A segment of at most 3000 keys it enters that is below 70% of the keys it may hold is first rebuilt at ~85%
 * full (the table otherwise keeps the size of its peak after deletions).  Slots are visited where they are, so a segment rebuilt during a pass may make it
 * miss a key or see one twice (harmless: the key is moved in a later pass, or found already moved). */
typedef handle_t kt_move_fn(void *ud, handle_t h);
uint64_t kt_defrag(ktable *t, uint64_t cursor, long max_buckets, kt_move_fn *fn, void *ud);
/* A pseudo-random key (with a TTL if ttl_only), 0 if there is none. */
handle_t kt_random(const ktable *t, uint64_t rnd, int ttl_only);
/* Frees up to max entries of a table being emptied; returns 1 when done. */
int kt_drain(ktable *t, size_t max, kt_visit_fn *free_entry, void *ud);
/* Debug check, for tests and the DEBUG command (walks the whole table and reads every entry): the
 * directory points each hash prefix at the segment that owns it; every tag is the low byte of its
 * entry's hash and every entry's hash has its segment's prefix; TTL mask bits are set exactly for
 * used slots whose entry has a TTL; every overflow counter below 255 equals the number of keys that
 * probed past its bucket; the segment and table counts match; every handle is a live arena slot that
 * holds its key, and none appears twice.  Returns 1 when consistent, else 0 with the reason in
 * dbg_check_why (mem/dbg.h). */
int kt_check(const ktable *t);
#endif
