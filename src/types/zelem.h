/* zelem: one member of a big sorted set, as an arena entry.
 *
 * A member is stored once, in an arena slot that both the member table
 * (keyspace/table.h, member -> entry) and the order index (zindex.h, handles
 * ordered by score then member) refer to by its 36-bit handle.  The bytes
 * keep the keyspace entry's key layout, because the table reads the key
 * through e_key():
 *
 *   [0]      flags: E_KEY_EXT (bit 6) for a member kept on the heap, type
 *            bits OBJ_ZSET; no TTL, no value storage bits
 *   [1..3]   the score's IEEE-754 bits 0..23 (the entry's LRU field, which a
 *            member does not need)
 *   key      varint length + bytes, or an 8-byte heap_key pointer (members
 *            too long for an arena class)
 *   [+0..4]  the score's bits 24..63
 *
 * So "member:1234567" costs 4 + 1 + 14 + 5 = 24 bytes, one 24-byte slot,
 * where the generic entry (8-byte inline value with its length byte) would
 * take 32.  Scores are never NaN (callers reject them). */
#ifndef SARDINE_ZELEM_H
#define SARDINE_ZELEM_H
#include <stdint.h>
#include <string.h>
#include "keyspace/entry.h"
#include "util/mem.h"

static inline double zel_score_e(const uint8_t *e) {
    const uint8_t *t = e + e_key_end(e);
    uint64_t b = (uint64_t)e[1] | (uint64_t)e[2] << 8 | (uint64_t)e[3] << 16 | (uint64_t)t[0] << 24 |
                 (uint64_t)t[1] << 32 | (uint64_t)t[2] << 40 | (uint64_t)t[3] << 48 | (uint64_t)t[4] << 56;
    double d;
    memcpy(&d, &b, sizeof(d));
    return d;
}
static inline double zel_score(handle_t h) { return zel_score_e(arena_ptr(h)); }

static inline void zel_set_score(handle_t h, double d) {
    uint8_t *e = arena_ptr(h), *t = e + e_key_end(e);
    uint64_t b;
    memcpy(&b, &d, sizeof(b));
    e[1] = (uint8_t)b;
    e[2] = (uint8_t)(b >> 8);
    e[3] = (uint8_t)(b >> 16);
    for (int i = 0; i < 5; i++) t[i] = (uint8_t)(b >> (24 + 8 * i));
}

static inline const char *zel_member(handle_t h, size_t *len) { return e_key(arena_ptr(h), len); }

/* Builds a member entry; 0 when the arena is exhausted. */
static inline handle_t zel_new(const char *m, size_t len, double score) {
    size_t vl = 1;
    for (uint64_t v = len; v >= 0x80; v >>= 7) vl++;
    size_t size = 4 + vl + len + 5;
    int ext = size > ARENA_MAX_ALLOC;
    if (ext) size = 4 + sizeof(void *) + 5;
    handle_t h = arena_alloc(size);
    if (!h) return 0;
    uint8_t *e = arena_ptr(h), *p = e + 4;
    e[0] = (uint8_t)(OBJ_ZSET | (ext ? E_KEY_EXT : 0));
    if (ext) {
        heap_key *k = s_malloc(sizeof(heap_key) + len);
        k->len = len;
        memcpy(k->data, m, len);
        memcpy(p, &k, sizeof(k));
    } else {
        uint64_t v = len;
        while (v >= 0x80) {
            *p++ = (uint8_t)(v | 0x80);
            v >>= 7;
        }
        *p++ = (uint8_t)v;
        if (len >= 8 && len <= 16) { /* most members: two overlapping words instead of a call */
            uint64_t a, z;
            memcpy(&a, m, 8);
            memcpy(&z, m + len - 8, 8);
            memcpy(p, &a, 8);
            memcpy(p + len - 8, &z, 8);
        } else {
            memcpy(p, m, len);
        }
    }
    zel_set_score(h, score);
    return h;
}

/* Frees the entry (and its heap member); entry_free understands this layout. */
static inline void zel_free(handle_t h) { entry_free(h); }
static inline size_t zel_bytes(handle_t h) { return entry_bytes(h); }

/* Redis's member order: bytes compared with memcmp, a prefix first. */
static inline int zel_memcmp(const char *a, size_t al, const char *b, size_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c) return c;
    return al < bl ? -1 : al > bl;
}
#endif
