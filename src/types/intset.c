/* intset: see intset.h for the layout and the allocation rule. */
#include "types/intset.h"
#include "mem/arena.h"
#include "util/mem.h"
#include "util/debug.h"
#include <string.h>

#define IS_HDR 8

/* The bytes of an intset: arena slots are unaligned, so every field is read and written with memcpy. */
struct intset {
    unsigned char b[IS_HDR];
};

static inline uint32_t enc_of(const intset *is) {
    uint32_t v;
    memcpy(&v, is->b, 4);
    return v;
}
static inline uint32_t len_of(const intset *is) {
    uint32_t v;
    memcpy(&v, is->b + 4, 4);
    return v;
}
static inline void set_enc(intset *is, uint32_t v) { memcpy(is->b, &v, 4); }
static inline void store_len(intset *is, uint32_t v) { memcpy(is->b + 4, &v, 4); }
static inline unsigned char *contents(const intset *is) { return (unsigned char *)is + IS_HDR; }

static inline uint32_t value_encoding(int64_t v) {
    if (v < INT32_MIN || v > INT32_MAX) return 8;
    if (v < INT16_MIN || v > INT16_MAX) return 4;
    return 2;
}

static inline int64_t get_enc(const intset *is, uint32_t pos, uint32_t enc) {
    const unsigned char *p = contents(is) + (size_t)pos * enc;
    if (enc == 2) {
        int16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    if (enc == 4) {
        int32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    int64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline void set_at(intset *is, uint32_t pos, int64_t v) {
    unsigned char *p = contents(is) + (size_t)pos * enc_of(is);
    if (enc_of(is) == 2) {
        int16_t x = (int16_t)v;
        memcpy(p, &x, 2);
    } else if (enc_of(is) == 4) {
        int32_t x = (int32_t)v;
        memcpy(p, &x, 4);
    } else {
        memcpy(p, &v, 8);
    }
}

/* ---- allocation (arena while small, as compact listpacks) ---- */

static inline int in_arena(const void *p) {
    return arena_base && (const uint8_t *)p >= arena_base && (const uint8_t *)p < arena_base + arena_reserved_bytes();
}
static inline handle_t handle_of(const void *p) { return arena_handle_of(p); }

static void *alloc(size_t size) {
    if (arena_base && size <= ARENA_MAX_ALLOC) {
        handle_t h = arena_alloc(size);
        if (h) return arena_ptr(h);
    }
    return s_malloc(size);
}

static intset *resize(intset *is, size_t size) {
    if (!in_arena(is)) return s_realloc(is, size);
    handle_t h = handle_of(is);
    if (size <= ARENA_MAX_ALLOC && arena_class_size(size) == arena_usable(h)) return is;
    size_t old = is_blob_len(is);
    intset *n = alloc(size);
    memcpy(n, is, old < size ? old : size);
    arena_free(h);
    return n;
}

intset *is_new(void) {
    intset *is = alloc(IS_HDR);
    set_enc(is, 2);
    store_len(is, 0);
    return is;
}

void is_free(intset *is) {
    if (!is) return;
    if (in_arena(is)) arena_free(handle_of(is));
    else s_free(is);
}

intset *is_dup(const intset *is) {
    size_t n = is_blob_len(is);
    intset *d = in_arena(is) ? alloc(n) : s_malloc(n);
    memcpy(d, is, n);
    return d;
}

uint32_t is_len(const intset *is) { return len_of(is); }
uint32_t is_encoding(const intset *is) { return enc_of(is); }
size_t is_blob_len(const intset *is) { return IS_HDR + (size_t)len_of(is) * enc_of(is); }
size_t is_alloc_size(const intset *is) { return in_arena(is) ? arena_usable(handle_of(is)) : s_usable((void *)is); }
int64_t is_get(const intset *is, uint32_t pos) { return get_enc(is, pos, enc_of(is)); }

/* Binary search: 1 and *pos = index if found, else 0 and *pos = insertion point. */
static int search(const intset *is, int64_t v, uint32_t *pos) {
    uint32_t lo = 0, hi = len_of(is);
    if (hi && (v > is_get(is, hi - 1))) {
        *pos = hi;
        return 0;
    }
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int64_t cur = is_get(is, mid);
        if (cur == v) {
            *pos = mid;
            return 1;
        }
        if (cur < v) lo = mid + 1;
        else hi = mid;
    }
    *pos = lo;
    return 0;
}

int is_find(const intset *is, int64_t v) {
    uint32_t pos;
    return value_encoding(v) <= enc_of(is) && search(is, v, &pos);
}

intset *is_add(intset *is, int64_t v, int *added) {
    uint32_t venc = value_encoding(v);
    *added = 0;
    if (venc > enc_of(is)) {
        /* Upgrade: v is out of the old range, so it goes first (negative) or last. */
        uint32_t oenc = enc_of(is), len = len_of(is);
        int prepend = v < 0;
        is = resize(is, IS_HDR + (size_t)(len + 1) * venc);
        set_enc(is, venc);
        for (uint32_t i = len; i-- > 0;) set_at(is, i + (uint32_t)prepend, get_enc(is, i, oenc));
        set_at(is, prepend ? 0 : len, v);
        store_len(is, len + 1);
        DBG_ASSERT(len == 0 || (prepend ? get_enc(is, 1, venc) > v : get_enc(is, len - 1, venc) < v));
        *added = 1;
        return is;
    }
    uint32_t pos;
    if (search(is, v, &pos)) return is;
    is = resize(is, IS_HDR + (size_t)(len_of(is) + 1) * enc_of(is));
    size_t e = enc_of(is);
    memmove(contents(is) + (pos + 1) * e, contents(is) + pos * e, (len_of(is) - pos) * e);
    set_at(is, pos, v);
    store_len(is, len_of(is) + 1);
    /* sorted and unique around the new member */
    DBG_ASSERT(pos == 0 || get_enc(is, pos - 1, enc_of(is)) < v);
    DBG_ASSERT(pos + 1 == len_of(is) || get_enc(is, pos + 1, enc_of(is)) > v);
    *added = 1;
    return is;
}

intset *is_remove(intset *is, int64_t v, int *removed) {
    uint32_t pos;
    *removed = 0;
    if (value_encoding(v) > enc_of(is) || !search(is, v, &pos)) return is;
    size_t e = enc_of(is);
    memmove(contents(is) + pos * e, contents(is) + (pos + 1) * e, (len_of(is) - pos - 1) * e);
    store_len(is, len_of(is) - 1);
    *removed = 1;
    return resize(is, is_blob_len(is));
}

intset *is_from_blob(const unsigned char *p, size_t size) {
    intset *is = alloc(size);
    memcpy(is, p, size);
    return is;
}

int is_validate(const unsigned char *p, size_t size) {
    if (size < IS_HDR) return 0;
    const intset *is = (const intset *)p;
    uint32_t enc, len;
    memcpy(&enc, p, 4);
    memcpy(&len, p + 4, 4);
    if (enc != 2 && enc != 4 && enc != 8) return 0;
    if ((size_t)IS_HDR + (size_t)len * enc != size) return 0;
    if (len == 0) return 0; /* Redis rejects empty intsets */
    for (uint32_t i = 1; i < len; i++)
        if (get_enc(is, i - 1, enc) >= get_enc(is, i, enc)) return 0;
    return 1;
}

/* The header's invariants on an intset in memory: a valid encoding and members strictly increasing
 * (so sorted and unique).  The width may be wider than the members need (intsets never downgrade, as
 * in Redis, so SREM of the widest member leaves it), so it is not required to be minimal; that every
 * member fits it holds by construction.  NULL if all hold, else what is wrong. */
const char *is_check(const intset *is) {
    if (!is) return "intset: NULL";
    uint32_t enc = enc_of(is), len = len_of(is);
    if (enc != 2 && enc != 4 && enc != 8) return "intset: encoding is not 2, 4 or 8";
    for (uint32_t i = 1; i < len; i++)
        if (get_enc(is, i - 1, enc) >= get_enc(is, i, enc)) return "intset: members not strictly increasing";
    return NULL;
}
