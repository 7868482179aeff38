/* entry: the one allocation that holds a key.
 *
 * An entry lives in the arena (see mem/arena.h) and is addressed by a 36-bit
 * handle.  Its bytes, packed with no padding:
 *
 *   [0]      flags: type (bits 0-2, Redis's numbering: string 0, list 1,
 *            set 2, zset 3, hash 4, stream 6), has-TTL (bit 3), value
 *            storage (bits 4-5: INT, INLINE, PTR, ZSTR), external key (bit 6)
 *   [1..3]   24-bit LRU clock or LFU (16-bit minutes + 8-bit counter), as Redis
 *   key      varint length + bytes; or, for keys too long to fit an arena
 *            class, an 8-byte pointer to a heap copy (bit 6)
 *   TTL      8 bytes, absolute unix time in ms (only with has-TTL)
 *   value    INT: zig-zag varint; INLINE: varint length + bytes (strings up to
 *            44 bytes, Redis's embstr); PTR: 8-byte pointer to a heap object
 *            (raw strings, collections); ZSTR: 8-byte pointer to a compressed
 *            string (types/zstr.h, opt-in value-compression)
 *
 * A 16-byte key with a small integer and a TTL is 4+1+16+8+2 = 31 bytes (one
 * 32-byte arena slot); with a 16-byte string value and no TTL, 38 (40).
 * Entries are immutable in size: changing the TTL's presence or the value's
 * size builds a new entry and the table slot is pointed at it; the TTL and
 * the LRU field are updated in place. */
#ifndef SARDINE_ENTRY_H
#define SARDINE_ENTRY_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "mem/arena.h"

enum { OBJ_STRING = 0, OBJ_LIST = 1, OBJ_SET = 2, OBJ_ZSET = 3, OBJ_HASH = 4, OBJ_STREAM = 6 };
enum { VAL_INT = 0, VAL_INLINE = 1, VAL_PTR = 2, VAL_ZSTR = 3 };
/* OBJ_ZSTR: not a type of its own but the heap value's kind for obj_* (types/object.h) when the
 * storage is VAL_ZSTR, a compressed string (types/zstr.h); e_heap_kind gives it. */
#define OBJ_ZSTR 7

#define E_TYPE_MASK 0x07
#define E_HAS_TTL 0x08
#define E_STORE_SHIFT 4
#define E_STORE_MASK 0x30
#define E_KEY_EXT 0x40
#define EMBSTR_MAX 44

/* What a new entry holds; built by the caller and passed to entry_build. */
typedef struct entry_value {
    int type;      /* OBJ_* */
    int store;     /* VAL_* */
    long long ival; /* VAL_INT */
    const char *sval; size_t slen; /* VAL_INLINE */
    void *ptr;     /* VAL_PTR, VAL_ZSTR */
} entry_value;

static inline int v_heap_kind(const entry_value *v) { return v->store == VAL_ZSTR ? OBJ_ZSTR : v->type; }

typedef struct heap_key { size_t len; char data[]; } heap_key;

static inline int e_type(const uint8_t *e) { return e[0] & E_TYPE_MASK; }
static inline int e_store(const uint8_t *e) { return (e[0] & E_STORE_MASK) >> E_STORE_SHIFT; }
/* The value is a heap object (VAL_PTR or VAL_ZSTR), freed, sized and copied through obj_* by kind. */
static inline int e_on_heap(const uint8_t *e) { return e_store(e) >= VAL_PTR; }
static inline int e_heap_kind(const uint8_t *e) { return e_store(e) == VAL_ZSTR ? OBJ_ZSTR : e_type(e); }
static inline int e_has_ttl(const uint8_t *e) { return (e[0] & E_HAS_TTL) != 0; }
static inline uint32_t e_lru(const uint8_t *e) { return (uint32_t)e[1] | (uint32_t)e[2] << 8 | (uint32_t)e[3] << 16; }
static inline void e_set_lru(uint8_t *e, uint32_t v) {
    e[1] = (uint8_t)v;
    e[2] = (uint8_t)(v >> 8);
    e[3] = (uint8_t)(v >> 16);
}

static inline size_t varint_get(const uint8_t *p, uint64_t *v) {
    uint64_t r = 0;
    size_t i = 0;
    for (int shift = 0;; shift += 7) {
        uint8_t b = p[i++];
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) break;
    }
    *v = r;
    return i;
}

/* Offset of the byte after the key. */
static inline size_t e_key_end(const uint8_t *e) {
    if (e[0] & E_KEY_EXT) return 4 + sizeof(void *);
    uint64_t klen;
    size_t n = varint_get(e + 4, &klen);
    return 4 + n + (size_t)klen;
}

static inline const char *e_key(const uint8_t *e, size_t *len) {
    if (e[0] & E_KEY_EXT) {
        heap_key *k;
        memcpy(&k, e + 4, sizeof(k));
        *len = k->len;
        return k->data;
    }
    uint64_t klen;
    size_t n = varint_get(e + 4, &klen);
    *len = (size_t)klen;
    return (const char *)e + 4 + n;
}

static inline long long e_ttl(const uint8_t *e) {
    if (!e_has_ttl(e)) return -1;
    long long t;
    memcpy(&t, e + e_key_end(e), sizeof(t));
    return t;
}
static inline void e_set_ttl(uint8_t *e, long long when) { memcpy(e + e_key_end(e), &when, sizeof(when)); }

static inline const uint8_t *e_value(const uint8_t *e) { return e + e_key_end(e) + (e_has_ttl(e) ? 8 : 0); }

long long e_int(const uint8_t *e);                      /* VAL_INT */
const char *e_inline(const uint8_t *e, size_t *len);    /* VAL_INLINE */
void *e_ptr(const uint8_t *e);                          /* VAL_PTR, VAL_ZSTR */
void e_set_ptr(uint8_t *e, void *p);                    /* VAL_PTR or VAL_ZSTR, same entry */

/* Builds an entry in the arena; returns 0 if the arena is exhausted. */
handle_t entry_build(const char *key, size_t klen, long long ttl_ms, uint32_t lru, const entry_value *v);
/* Frees the entry and its external key (not the value's heap object). */
void entry_free(handle_t h);
/* Bytes the entry occupies: its arena class plus an external key. */
size_t entry_bytes(handle_t h);
#endif
