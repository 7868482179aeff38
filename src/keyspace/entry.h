/* entry: the one allocation that holds a key.
 *
 * An entry lives in the arena (see mem/arena.h) and is addressed by a 36-bit
 * handle.  Its bytes, packed with no padding:
 *
 *   [0]      flags: type (bits 0-2, Redis's numbering: string 0, list 1,
 *            set 2, zset 3, hash 4, stream 6), has-TTL (bit 3), value
 *            storage (bits 4-5: INT, INLINE, PTR, ZSTR), external key (bit 6),
 *            packed key (bit 7)
 *   [1..3]   24-bit LRU clock or LFU (16-bit minutes + 8-bit counter), as Redis
 *   key      one of three forms:
 *            - plain: varint length + bytes;
 *            - packed (bit 7): a key ending in a run of 3 or more decimal
 *              digits ("user:1042", "key:000000001234") keeps its last d
 *              digits (3 <= d <= 18) as a binary number of key_digit_bytes[d]
 *              bytes: varint (p << 4 | (d - 3)), the p prefix bytes, the
 *              number little-endian.  Leading zeros survive: d says how many
 *              digits to print.  A key is packed exactly when that is shorter
 *              than the plain form and the key is at most KEY_PACK_MAX bytes,
 *              so every key has one form and two entries hold the same key
 *              only if their stored bytes are equal;
 *            - external (bit 6): an 8-byte pointer to a heap copy, for keys
 *              too long to fit an arena class.
 *   TTL      (only with has-TTL) 5 bytes: unix time in ms minus TTL_EPOCH_MS,
 *            little-endian, for times in [2020, 2054]; any other time is the
 *            5-byte escape TTL_WIDE followed by the 8-byte absolute time
 *   value    INT: zig-zag varint; INLINE: varint length + bytes (strings up to
 *            STR_INLINE_MAX bytes: Redis's embstr up to 44, raw above);
 *            PTR: 8-byte pointer to a heap object (strings modified in place,
 *            longer strings, collections); ZSTR: 8-byte pointer to a
 *            compressed string (types/zstr.h, opt-in value-compression)
 *
 * A 16-byte key "key:%012d" with a small integer and a TTL is
 * 4 + 1+4+5 + 5 + 2 = 21 bytes; without the TTL 16.
 * Entries are immutable in size: changing the TTL's presence or form or the
 * value's size builds a new entry and the table slot is pointed at it; the TTL
 * (within its form) and the LRU field are updated in place.
 *
 * Reading a key: e_keyb() with a keybuf for any entry that may be packed (the
 * keyspace's); e_key() only for entries built with raw_key (collection
 * elements), which are never packed; e_key_eq() compares a name with a key
 * without printing it (lookups). */
#ifndef SARDINE_ENTRY_H
#define SARDINE_ENTRY_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "mem/arena.h"
#include "util/debug.h"

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
#define E_KEY_PACKED 0x80
#define EMBSTR_MAX 44
/* The longest string value kept inside its entry (longer ones are an rstr on the heap).  Its entry
 * fits ARENA_MAX_ALLOC whatever the key: at worst 4 + 8 (a key too long to share the slot goes to
 * the heap) + 8 (TTL) + 2 (length) bytes besides the value. */
#define STR_INLINE_MAX 4000

#define KEY_PACK_MAX 64                 /* longest key that may be packed */
#define TTL_EPOCH_MS 1577836800000LL    /* 2020-01-01T00:00:00Z */
#define TTL_WIDE 0xffffffffffULL        /* the 5-byte escape: an 8-byte absolute time follows */
#define TTL_NARROW_BYTES 5

/* Bytes holding the number of a d-digit run (every d-digit number fits). */
static const uint8_t key_digit_bytes[19] = {0, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5, 5, 6, 6, 7, 7, 8, 8};

/* A packed key decoded: valid as long as the keybuf. */
typedef struct keybuf { char b[KEY_PACK_MAX]; } keybuf;

/* What a new entry holds; built by the caller and passed to entry_build. */
typedef struct entry_value {
    int type;      /* OBJ_* */
    int store;     /* VAL_* */
    long long ival; /* VAL_INT */
    const char *sval; size_t slen; /* VAL_INLINE */
    void *ptr;     /* VAL_PTR, VAL_ZSTR */
    int raw_key;   /* never pack the key (collection elements, read with e_key) */
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
    uint64_t v;
    size_t n = varint_get(e + 4, &v);
    if (e[0] & E_KEY_PACKED) return 4 + n + (size_t)(v >> 4) + key_digit_bytes[(v & 15) + 3];
    return 4 + n + (size_t)v;
}

/* The key of an entry that is never packed (see raw_key). */
static inline const char *e_key(const uint8_t *e, size_t *len) {
    DBG_ASSERT(!(e[0] & E_KEY_PACKED));
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

const char *e_key_unpack(const uint8_t *e, keybuf *kb, size_t *len);
int e_key_eq_packed(const uint8_t *e, const char *key, size_t klen);

/* Whether the entry's key is these bytes (a packed key is compared without printing it). */
static inline int e_key_eq(const uint8_t *e, const char *key, size_t klen) {
    if (e[0] & E_KEY_PACKED) return e_key_eq_packed(e, key, klen);
    size_t len;
    const char *k = e_key(e, &len);
    return len == klen && memcmp(k, key, klen) == 0;
}

/* The key of any entry: a packed one is decoded into kb. */
static inline const char *e_keyb(const uint8_t *e, keybuf *kb, size_t *len) {
    if (e[0] & E_KEY_PACKED) return e_key_unpack(e, kb, len);
    return e_key(e, len);
}

static inline uint64_t ttl_get40(const uint8_t *p) {
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32;
}

/* Bytes of the TTL field (0 without a TTL). */
static inline size_t e_ttl_size(const uint8_t *e) {
    if (!e_has_ttl(e)) return 0;
    return ttl_get40(e + e_key_end(e)) == TTL_WIDE ? TTL_NARROW_BYTES + 8 : TTL_NARROW_BYTES;
}

static inline long long e_ttl(const uint8_t *e) {
    if (!e_has_ttl(e)) return -1;
    const uint8_t *p = e + e_key_end(e);
    uint64_t x = ttl_get40(p);
    if (x != TTL_WIDE) return TTL_EPOCH_MS + (long long)x;
    long long t;
    memcpy(&t, p + TTL_NARROW_BYTES, sizeof(t));
    return t;
}
/* Sets the TTL of an entry that has one, in place; 0 when the time needs the wide form and the entry has the
 * narrow one (the caller rebuilds the entry). */
int e_set_ttl(uint8_t *e, long long when);

static inline const uint8_t *e_value(const uint8_t *e) { return e + e_key_end(e) + e_ttl_size(e); }

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
