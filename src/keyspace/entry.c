/* entry: see entry.h for the byte layout. */
#include "keyspace/entry.h"
#include "util/mem.h"

static size_t varint_put(uint8_t *p, uint64_t v) {
    size_t i = 0;
    while (v >= 0x80) {
        p[i++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[i++] = (uint8_t)v;
    return i;
}

static size_t varint_len(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) v >>= 7, n++;
    return n;
}

static inline uint64_t zigzag(long long v) { return ((uint64_t)v << 1) ^ (0 - ((uint64_t)v >> 63)); }
static inline long long unzigzag(uint64_t u) { return (long long)(u >> 1) ^ -(long long)(u & 1); }

long long e_int(const uint8_t *e) {
    uint64_t u;
    varint_get(e_value(e), &u);
    return unzigzag(u);
}

const char *e_inline(const uint8_t *e, size_t *len) {
    const uint8_t *v = e_value(e);
    uint64_t l;
    size_t n = varint_get(v, &l);
    *len = (size_t)l;
    return (const char *)v + n;
}

void *e_ptr(const uint8_t *e) {
    void *p;
    memcpy(&p, e_value(e), sizeof(p));
    return p;
}

void e_set_ptr(uint8_t *e, void *p) { memcpy((uint8_t *)e_value(e), &p, sizeof(p)); }

static size_t value_size(const entry_value *v) {
    switch (v->store) {
    case VAL_INT: return varint_len(zigzag(v->ival));
    case VAL_INLINE: return varint_len(v->slen) + v->slen;
    default: return sizeof(void *);
    }
}

handle_t entry_build(const char *key, size_t klen, long long ttl_ms, uint32_t lru, const entry_value *v) {
    size_t vsize = value_size(v), ttl = ttl_ms >= 0 ? 8 : 0;
    size_t size = 4 + varint_len(klen) + klen + ttl + vsize;
    int ext = size > ARENA_MAX_ALLOC;
    if (ext) size = 4 + sizeof(void *) + ttl + vsize;
    handle_t h = arena_alloc(size);
    if (!h) return 0;
    uint8_t *e = arena_ptr(h), *p = e + 4;
    e[0] = (uint8_t)(v->type | (ttl ? E_HAS_TTL : 0) | (v->store << E_STORE_SHIFT) | (ext ? E_KEY_EXT : 0));
    e_set_lru(e, lru);
    if (ext) {
        heap_key *k = s_malloc(sizeof(heap_key) + klen);
        k->len = klen;
        memcpy(k->data, key, klen);
        memcpy(p, &k, sizeof(k));
        p += sizeof(k);
    } else {
        p += varint_put(p, klen);
        memcpy(p, key, klen);
        p += klen;
    }
    if (ttl) {
        memcpy(p, &ttl_ms, 8);
        p += 8;
    }
    switch (v->store) {
    case VAL_INT: varint_put(p, zigzag(v->ival)); break;
    case VAL_INLINE:
        p += varint_put(p, v->slen);
        memcpy(p, v->sval, v->slen);
        break;
    default: memcpy(p, &v->ptr, sizeof(v->ptr)); break;
    }
    return h;
}

void entry_free(handle_t h) {
    uint8_t *e = arena_ptr(h);
    if (e[0] & E_KEY_EXT) {
        heap_key *k;
        memcpy(&k, e + 4, sizeof(k));
        s_free(k);
    }
    arena_free(h);
}

size_t entry_bytes(handle_t h) {
    uint8_t *e = arena_ptr(h);
    size_t n = arena_usable(h);
    if (e[0] & E_KEY_EXT) {
        heap_key *k;
        memcpy(&k, e + 4, sizeof(k));
        n += s_usable(k);
    }
    return n;
}
