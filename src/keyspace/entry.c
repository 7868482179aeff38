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

/* How a key would be packed: the digit count d (0 when it is not packed), its prefix length and number. */
typedef struct keypack { int d; size_t p, bytes; uint64_t num; } keypack; /* bytes: the packed form's */

static keypack key_pack_plan(const char *key, size_t klen) {
    keypack kp = {0, 0, 0, 0};
    if (klen > KEY_PACK_MAX) return kp;
    size_t run = 0;
    while (run < klen && run < 18 && key[klen - 1 - run] >= '0' && key[klen - 1 - run] <= '9') run++;
    if (run < 3) return kp;
    size_t p = klen - run;
    /* plain: varint(klen) + klen; packed: varint(p << 4 | (d - 3)) + p + digit bytes */
    size_t plain = varint_len(klen) + klen, packed = varint_len(p << 4 | (run - 3)) + p + key_digit_bytes[run];
    if (packed >= plain) return kp;
    uint64_t n = 0;
    for (size_t i = p; i < klen; i++) n = n * 10 + (uint64_t)(key[i] - '0');
    kp.d = (int)run;
    kp.p = p;
    kp.bytes = packed;
    kp.num = n;
    return kp;
}

const char *e_key_unpack(const uint8_t *e, keybuf *kb, size_t *len) {
    uint64_t v;
    const uint8_t *q = e + 4;
    q += varint_get(q, &v);
    size_t p = (size_t)(v >> 4);
    int d = (int)(v & 15) + 3, nb = key_digit_bytes[d];
    DBG_ASSERT(p + (size_t)d <= KEY_PACK_MAX);
    memcpy(kb->b, q, p);
    q += p;
    uint64_t n = 0;
    for (int i = nb - 1; i >= 0; i--) n = n << 8 | q[i];
    for (int i = d - 1; i >= 0; i--) {
        kb->b[p + (size_t)i] = (char)('0' + n % 10);
        n /= 10;
    }
    DBG_ASSERT(n == 0); /* the number had at most d digits */
    *len = p + (size_t)d;
    return kb->b;
}

int e_key_eq_packed(const uint8_t *e, const char *key, size_t klen) {
    uint64_t v;
    const uint8_t *q = e + 4;
    q += varint_get(q, &v);
    size_t p = (size_t)(v >> 4), d = (size_t)(v & 15) + 3;
    if (p + d != klen || memcmp(q, key, p) != 0) return 0;
    q += p;
    uint64_t n = 0, stored = 0;
    for (size_t i = p; i < klen; i++) {
        unsigned c = (unsigned char)key[i] - '0';
        if (c > 9) return 0;
        n = n * 10 + c;
    }
    for (int i = key_digit_bytes[d] - 1; i >= 0; i--) stored = stored << 8 | q[i];
    return n == stored;
}

/* Whether a time fits the 5-byte form. */
static int ttl_narrow(long long when) {
    return when >= TTL_EPOCH_MS && (unsigned long long)(when - TTL_EPOCH_MS) < TTL_WIDE;
}

static void ttl_put(uint8_t *p, long long when) {
    uint64_t x = ttl_narrow(when) ? (uint64_t)(when - TTL_EPOCH_MS) : TTL_WIDE;
    for (int i = 0; i < TTL_NARROW_BYTES; i++) p[i] = (uint8_t)(x >> (8 * i));
    if (x == TTL_WIDE) memcpy(p + TTL_NARROW_BYTES, &when, sizeof(when));
}

static size_t ttl_size(long long when) {
    if (when < 0) return 0;
    return ttl_narrow(when) ? TTL_NARROW_BYTES : TTL_NARROW_BYTES + 8;
}

int e_set_ttl(uint8_t *e, long long when) {
    DBG_ASSERT(e_has_ttl(e) && when >= 0);
    if (ttl_size(when) != e_ttl_size(e)) {
        if (ttl_size(when) > e_ttl_size(e)) return 0;
        /* the wide form holds any time: keep it */
        memcpy(e + e_key_end(e) + TTL_NARROW_BYTES, &when, sizeof(when));
        return 1;
    }
    ttl_put(e + e_key_end(e), when);
    return 1;
}

static size_t value_size(const entry_value *v) {
    switch (v->store) {
    case VAL_INT: return varint_len(zigzag(v->ival));
    case VAL_INLINE: return varint_len(v->slen) + v->slen;
    default: return sizeof(void *);
    }
}

handle_t entry_build(const char *key, size_t klen, long long ttl_ms, uint32_t lru, const entry_value *v) {
    size_t vsize = value_size(v), ttl = ttl_size(ttl_ms);
    keypack kp = {0, 0, 0, 0};
    if (!v->raw_key) kp = key_pack_plan(key, klen);
    size_t kbytes = kp.d ? kp.bytes : varint_len(klen) + klen;
    size_t size = 4 + kbytes + ttl + vsize;
    int ext = size > ARENA_MAX_ALLOC;
    if (ext) {
        size = 4 + sizeof(void *) + ttl + vsize;
        kp.d = 0; /* an external key is kept as it is */
    }
    handle_t h = arena_alloc(size);
    if (!h) return 0;
    uint8_t *e = arena_ptr(h), *p = e + 4;
    e[0] = (uint8_t)(v->type | (ttl ? E_HAS_TTL : 0) | (v->store << E_STORE_SHIFT) | (ext ? E_KEY_EXT : 0) |
                     (kp.d ? E_KEY_PACKED : 0));
    e_set_lru(e, lru);
    if (ext) {
        heap_key *k = s_malloc(sizeof(heap_key) + klen);
        k->len = klen;
        memcpy(k->data, key, klen);
        memcpy(p, &k, sizeof(k));
        p += sizeof(k);
    } else if (kp.d) {
        p += varint_put(p, kp.p << 4 | (size_t)(kp.d - 3));
        memcpy(p, key, kp.p);
        p += kp.p;
        for (int i = 0; i < key_digit_bytes[kp.d]; i++) *p++ = (uint8_t)(kp.num >> (8 * i));
    } else {
        p += varint_put(p, klen);
        memcpy(p, key, klen);
        p += klen;
    }
    if (ttl) {
        ttl_put(p, ttl_ms);
        p += ttl;
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
