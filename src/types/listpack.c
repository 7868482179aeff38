/* listpack: Redis 7's listpack byte format (see listpack.h).
 *
 * Layout: [total bytes u32 LE][element count u16 LE][elements...][0xFF].
 * The count saturates at 65535 ("unknown"): then lp_length walks the
 * elements, and writes the count back once it fits again, as Redis does.
 *
 * An element is [encoding + data][backlen], where backlen is the size of
 * the encoding+data part written in 1-5 bytes that are read right to left
 * (the byte nearest the element's start holds the high bits, every other
 * byte has bit 7 set).  Encodings, exactly Redis's:
 *
 *   0xxxxxxx                  7-bit unsigned integer (0..127)
 *   10llllll                  string of up to 63 bytes
 *   110xxxxx xxxxxxxx         13-bit signed integer
 *   1110llll llllllll         string of up to 4095 bytes
 *   11110000 l32              string with a 32-bit length
 *   11110001/2/3/4 int        16/24/32/64-bit signed integer, little endian
 *   11111111                  end of the listpack
 *
 * A string that is the canonical text of a 64-bit integer (str2ll) is
 * stored in the smallest integer encoding that holds it, so equal contents
 * always give equal bytes.
 *
 * Memory: every change resizes the allocation to the exact new size (no
 * spare capacity).  A listpack created by lp_new_compact lives in the entry
 * arena while it is at most ARENA_MAX_ALLOC bytes (8-byte size classes
 * instead of the heap allocator's coarser ones) and moves to the heap when
 * it grows past that; where a listpack lives is decided by its address, so
 * every other function works on both kinds.  Arena listpacks may only be
 * touched by the event loop thread (the arena is not thread safe). */
#include "types/listpack.h"
#include "mem/arena.h"
#include "util/mem.h"
#include "util/numconv.h"
#include "util/debug.h"
#include <string.h>

#define LP_HDR 6
#define LP_EOF 0xFF
#define LP_UNKNOWN 65535

/* ---- header ---- */

static inline uint32_t rd32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void wr32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}
static inline unsigned hdr_count(const unsigned char *lp) { return (unsigned)lp[4] | (unsigned)lp[5] << 8; }
static inline void set_count(unsigned char *lp, unsigned v) {
    lp[4] = (unsigned char)v;
    lp[5] = (unsigned char)(v >> 8);
}

size_t lp_bytes(const unsigned char *lp) { return rd32(lp); }

/* ---- allocation ---- */

static inline int in_arena(const unsigned char *p) {
    return arena_base && p >= arena_base && p < arena_base + arena_reserved_bytes();
}
static inline handle_t handle_of(const unsigned char *p) { return arena_handle_of(p); }

/* Resizes to exactly `size` bytes, keeping the first min(old, size) bytes. */
static unsigned char *lp_resize(unsigned char *lp, size_t size) {
    if (!in_arena(lp)) return s_realloc(lp, size);
    handle_t h = handle_of(lp);
    if (size <= ARENA_MAX_ALLOC && arena_class_size(size) == arena_usable(h)) return lp;
    size_t old = lp_bytes(lp);
    unsigned char *n = NULL;
    if (size <= ARENA_MAX_ALLOC) {
        handle_t nh = arena_alloc(size);
        if (nh) n = arena_ptr(nh);
    }
    if (!n) n = s_malloc(size);
    memcpy(n, lp, old < size ? old : size);
    arena_free(h);
    return n;
}

unsigned char *lp_new(size_t capacity) {
    unsigned char *lp = s_malloc(capacity > LP_HDR + 1 ? capacity : LP_HDR + 1);
    wr32(lp, LP_HDR + 1);
    set_count(lp, 0);
    lp[LP_HDR] = LP_EOF;
    return lp;
}

unsigned char *lp_new_compact(void) {
    handle_t h = arena_base ? arena_alloc(LP_HDR + 1) : 0;
    if (!h) return lp_new(0);
    unsigned char *lp = arena_ptr(h);
    wr32(lp, LP_HDR + 1);
    set_count(lp, 0);
    lp[LP_HDR] = LP_EOF;
    return lp;
}

void lp_free(unsigned char *lp) {
    if (!lp) return;
    if (in_arena(lp)) arena_free(handle_of(lp));
    else s_free(lp);
}

size_t lp_alloc_size(const unsigned char *lp) {
    return in_arena(lp) ? arena_usable(handle_of(lp)) : s_usable((void *)lp);
}

unsigned char *lp_dup(const unsigned char *lp) {
    size_t n = lp_bytes(lp);
    unsigned char *d = NULL;
    if (in_arena(lp)) {
        handle_t h = arena_alloc(n);
        if (h) d = arena_ptr(h);
    }
    if (!d) d = s_malloc(n);
    memcpy(d, lp, n);
    return d;
}

unsigned char *lp_from_bytes(const unsigned char *p, size_t n, int compact) {
    handle_t h = (compact && arena_base && n <= ARENA_MAX_ALLOC) ? arena_alloc(n) : 0;
    unsigned char *lp = h ? arena_ptr(h) : s_malloc(n);
    memcpy(lp, p, n);
    return lp;
}

unsigned char *lp_move(unsigned char *lp, int to_arena) {
    size_t n = lp_bytes(lp);
    if (in_arena(lp) == !!to_arena) return lp;
    unsigned char *d = NULL;
    if (to_arena) {
        handle_t h = (arena_base && n <= ARENA_MAX_ALLOC) ? arena_alloc(n) : 0;
        if (!h) return lp;
        d = arena_ptr(h);
    } else {
        d = s_malloc(n);
    }
    memcpy(d, lp, n);
    lp_free(lp);
    return d;
}

/* ---- element decoding ---- */

static inline unsigned backlen_size(uint64_t l) {
    return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

static void backlen_put(unsigned char *buf, uint64_t l) {
    unsigned n = backlen_size(l);
    /* buf[0] holds the high bits without the continuation flag; the rest carry bit 7. */
    for (unsigned i = 0; i < n; i++) {
        unsigned shift = 7 * (n - 1 - i);
        buf[i] = (unsigned char)(((l >> shift) & 127) | (i ? 128 : 0));
    }
}

static int backlen_is(const unsigned char *p, uint64_t l, size_t n) {
    unsigned char back[5];
    backlen_put(back, l);
    return memcmp(p, back, n) == 0;
}

/* Reads a backlen whose last byte is at p. */
static uint64_t backlen_get(const unsigned char *p) {
    uint64_t v = 0;
    unsigned shift = 0;
    for (;;) {
        v |= (uint64_t)(*p & 127) << shift;
        if (!(*p & 128)) break;
        shift += 7;
        p--;
    }
    return v;
}

/* Size of the encoding byte(s) plus data of the element at p. */
static uint64_t enc_size(const unsigned char *p) {
    unsigned char b = p[0];
    if (b < 0x80) return 1;
    if ((b & 0xC0) == 0x80) return 1 + (uint64_t)(b & 0x3F);
    if ((b & 0xE0) == 0xC0) return 2;
    if ((b & 0xF0) == 0xE0) return 2 + ((uint64_t)(b & 0x0F) << 8 | p[1]);
    switch (b) {
    case 0xF0: return 5 + (uint64_t)rd32(p + 1);
    case 0xF1: return 3;
    case 0xF2: return 4;
    case 0xF3: return 5;
    case 0xF4: return 9;
    default: return 1; /* 0xFF; invalid bytes are rejected by lp_validate */
    }
}

static inline uint64_t entry_size(const unsigned char *p) {
    uint64_t l = enc_size(p);
    return l + backlen_size(l);
}

static int64_t sign_extend(uint64_t uv, unsigned bits) {
    uint64_t m = (uint64_t)1 << (bits - 1);
    return (int64_t)((uv ^ m) - m);
}

void lp_get(const unsigned char *p, lp_val *v) {
    unsigned char b = p[0];
    v->s = NULL;
    v->len = 0;
    if (b < 0x80) {
        v->i = b;
    } else if ((b & 0xC0) == 0x80) {
        v->s = p + 1;
        v->len = b & 0x3F;
    } else if ((b & 0xE0) == 0xC0) {
        v->i = sign_extend((uint64_t)(b & 0x1F) << 8 | p[1], 13);
    } else if ((b & 0xF0) == 0xE0) {
        v->s = p + 2;
        v->len = (uint32_t)(b & 0x0F) << 8 | p[1];
    } else if (b == 0xF0) {
        v->s = p + 5;
        v->len = rd32(p + 1);
    } else {
        unsigned n = b == 0xF1 ? 2 : b == 0xF2 ? 3 : b == 0xF3 ? 4 : 8;
        uint64_t uv = 0;
        for (unsigned i = 0; i < n; i++) uv |= (uint64_t)p[1 + i] << (8 * i);
        v->i = n == 8 ? (int64_t)uv : sign_extend(uv, 8 * n);
    }
    if (v->s && v->len == 0) v->s = p + 1; /* empty string: s must still be non-NULL */
}

const unsigned char *lp_get_str(const unsigned char *p, unsigned char *buf, uint32_t *len) {
    lp_val v;
    lp_get(p, &v);
    if (v.s) {
        *len = v.len;
        return v.s;
    }
    *len = (uint32_t)ll2str((char *)buf, v.i);
    return buf;
}

int lp_eq(const unsigned char *p, const char *s, uint32_t len) {
    lp_val v;
    lp_get(p, &v);
    if (v.s) return v.len == len && memcmp(v.s, s, len) == 0;
    long long x;
    return len && len < LL_STR_SIZE && str2ll(s, len, &x) && x == v.i;
}

/* ---- navigation ---- */

unsigned char *lp_first(unsigned char *lp) { return lp[LP_HDR] == LP_EOF ? NULL : lp + LP_HDR; }

unsigned char *lp_next(unsigned char *lp, unsigned char *p) {
    (void)lp;
    p += entry_size(p);
    return *p == LP_EOF ? NULL : p;
}

unsigned char *lp_prev(unsigned char *lp, unsigned char *p) {
    if (p == lp + LP_HDR) return NULL;
    uint64_t l = backlen_get(p - 1);
    return p - backlen_size(l) - l;
}

unsigned char *lp_last(unsigned char *lp) {
    unsigned char *end = lp + lp_bytes(lp) - 1;
    return lp_prev(lp, end);
}

unsigned long lp_length(const unsigned char *lp) {
    unsigned n = hdr_count(lp);
    if (n != LP_UNKNOWN) return n;
    unsigned long count = 0;
    const unsigned char *p = lp + LP_HDR;
    while (*p != LP_EOF) {
        p += entry_size(p);
        count++;
    }
    if (count < LP_UNKNOWN) set_count((unsigned char *)lp, (unsigned)count); /* back in range: remember it */
    return count;
}

unsigned char *lp_seek(unsigned char *lp, long index) {
    unsigned long n = lp_length(lp);
    if (index < 0) index += (long)n;
    if (index < 0 || (unsigned long)index >= n) return NULL;
    if ((unsigned long)index < n / 2 + 1) {
        unsigned char *p = lp + LP_HDR;
        for (long i = 0; i < index; i++) p += entry_size(p);
        return p;
    }
    unsigned char *p = lp_last(lp);
    for (unsigned long i = n - 1; i > (unsigned long)index; i--) p = lp_prev(lp, p);
    return p;
}

/* ---- encoding ---- */

/* The encoded head of a new element: header (and integer data) in hdr, string bytes separately. */
typedef struct lp_enc {
    unsigned char hdr[9];
    unsigned hlen;
    const char *data;
    uint32_t dlen;
    unsigned char back[5];
    unsigned blen;
} lp_enc;

static void enc_finish(lp_enc *e) {
    uint64_t l = e->hlen + (uint64_t)e->dlen;
    e->blen = backlen_size(l);
    backlen_put(e->back, l);
}

static void encode_int(lp_enc *e, int64_t v) {
    e->data = NULL;
    e->dlen = 0;
    if (v >= 0 && v <= 127) {
        e->hdr[0] = (unsigned char)v;
        e->hlen = 1;
    } else if (v >= -4096 && v <= 4095) {
        uint64_t uv = (uint64_t)v & 0x1FFF;
        e->hdr[0] = (unsigned char)(0xC0 | (uv >> 8));
        e->hdr[1] = (unsigned char)uv;
        e->hlen = 2;
    } else {
        unsigned n = (v >= -32768 && v <= 32767) ? 2 : (v >= -8388608 && v <= 8388607) ? 3
                     : (v >= INT32_MIN && v <= INT32_MAX)                             ? 4
                                                                                      : 8;
        e->hdr[0] = n == 2 ? 0xF1 : n == 3 ? 0xF2 : n == 4 ? 0xF3 : 0xF4;
        uint64_t uv = (uint64_t)v;
        for (unsigned i = 0; i < n; i++) e->hdr[1 + i] = (unsigned char)(uv >> (8 * i));
        e->hlen = 1 + n;
    }
    enc_finish(e);
}

static void encode_str(lp_enc *e, const char *s, uint32_t len) {
    long long v;
    if (len && len < LL_STR_SIZE && str2ll(s, len, &v)) {
        encode_int(e, v);
        return;
    }
    if (len < 64) {
        e->hdr[0] = (unsigned char)(0x80 | len);
        e->hlen = 1;
    } else if (len < 4096) {
        e->hdr[0] = (unsigned char)(0xE0 | (len >> 8));
        e->hdr[1] = (unsigned char)len;
        e->hlen = 2;
    } else {
        e->hdr[0] = 0xF0;
        wr32(e->hdr + 1, len);
        e->hlen = 5;
    }
    e->data = s;
    e->dlen = len;
    enc_finish(e);
}

static inline size_t enc_total(const lp_enc *e) { return e->hlen + (size_t)e->dlen + e->blen; }

/* Replaces `del` bytes at offset `off` with the element e (if any); count changes by dcount.
 * Returns the new listpack; the element (or what followed the deleted bytes) is at off. */
static unsigned char *splice(unsigned char *lp, size_t off, size_t del, const lp_enc *e, int dcount) {
    size_t old = lp_bytes(lp), ins = e ? enc_total(e) : 0;
    size_t size = old - del + ins;
    lp_enc copy;
    char *tmp = NULL;
    if (e && e->dlen && (const unsigned char *)e->data >= lp && (const unsigned char *)e->data < lp + old) {
        /* the new string lives inside this listpack, which is about to move */
        tmp = s_memdup(e->data, e->dlen);
        copy = *e;
        copy.data = tmp;
        e = &copy;
    }
    if (ins > del) {
        lp = lp_resize(lp, size);
        memmove(lp + off + ins, lp + off + del, old - off - del);
    } else if (ins < del) {
        memmove(lp + off + ins, lp + off + del, old - off - del);
        lp = lp_resize(lp, size);
    }
    if (e) {
        unsigned char *p = lp + off;
        memcpy(p, e->hdr, e->hlen);
        p += e->hlen;
        if (e->dlen) memcpy(p, e->data, e->dlen);
        p += e->dlen;
        memcpy(p, e->back, e->blen);
    }
    if (tmp) s_free(tmp);
    wr32(lp, (uint32_t)size);
    unsigned n = hdr_count(lp);
    if (n != LP_UNKNOWN) {
        long c = (long)n + dcount;
        DBG_ASSERT(c >= 0);
        set_count(lp, c >= LP_UNKNOWN ? LP_UNKNOWN : (unsigned)c);
    }
    /* header total bytes and the terminator agree; a new element's backlen is its size */
    DBG_ASSERT(size >= LP_HDR + 1 && lp[size - 1] == LP_EOF);
    DBG_ASSERT(!e || backlen_get(lp + off + e->hlen + e->dlen + e->blen - 1) == e->hlen + e->dlen);
    return lp;
}

/* ---- changes ---- */

unsigned char *lp_append(unsigned char *lp, const char *s, uint32_t len) {
    lp_enc e;
    encode_str(&e, s, len);
    return splice(lp, lp_bytes(lp) - 1, 0, &e, 1);
}

unsigned char *lp_append_int(unsigned char *lp, int64_t v) {
    lp_enc e;
    encode_int(&e, v);
    return splice(lp, lp_bytes(lp) - 1, 0, &e, 1);
}

unsigned char *lp_prepend(unsigned char *lp, const char *s, uint32_t len) {
    lp_enc e;
    encode_str(&e, s, len);
    return splice(lp, LP_HDR, 0, &e, 1);
}

unsigned char *lp_insert(unsigned char *lp, unsigned char **p, const char *s, uint32_t len, int where) {
    lp_enc e;
    encode_str(&e, s, len);
    size_t off = (size_t)(*p - lp);
    if (where == LP_AFTER) off += entry_size(*p);
    lp = splice(lp, off, 0, &e, 1);
    *p = lp + off;
    return lp;
}

unsigned char *lp_replace(unsigned char *lp, unsigned char **p, const char *s, uint32_t len) {
    lp_enc e;
    encode_str(&e, s, len);
    size_t off = (size_t)(*p - lp);
    lp = splice(lp, off, entry_size(*p), &e, 0);
    *p = lp + off;
    return lp;
}

unsigned char *lp_delete(unsigned char *lp, unsigned char **p) {
    size_t off = (size_t)(*p - lp);
    lp = splice(lp, off, entry_size(*p), NULL, -1);
    *p = lp[off] == LP_EOF ? NULL : lp + off;
    return lp;
}

unsigned char *lp_delete_range(unsigned char *lp, long index, unsigned long count) {
    unsigned char *p = lp_seek(lp, index);
    if (!p || !count) return lp;
    unsigned char *q = p;
    unsigned long n = 0;
    while (n < count && *q != LP_EOF) {
        q += entry_size(q);
        n++;
    }
    return splice(lp, (size_t)(p - lp), (size_t)(q - p), NULL, -(int)(n > 65535 ? 65535 : n));
}

unsigned char *lp_find(unsigned char *lp, unsigned char *p, const char *s, uint32_t len, unsigned skip) {
    (void)lp;
    long long iv = 0;
    int is_int = len && len < LL_STR_SIZE && str2ll(s, len, &iv);
    unsigned left = 0;
    while (p && *p != LP_EOF) {
        uint64_t l = enc_size(p);
        if (left == 0) {
            lp_val v;
            lp_get(p, &v);
            if (v.s ? v.len == len && memcmp(v.s, s, len) == 0 : is_int && v.i == iv) return p;
            left = skip;
        } else {
            left--;
        }
        p += l + backlen_size(l);
    }
    return NULL;
}

/* ---- validation ---- */

int lp_validate(const unsigned char *lp, size_t size, int deep) {
    if (size < LP_HDR + 1) return 0;
    if (rd32(lp) != size) return 0;
    if (lp[size - 1] != LP_EOF) return 0;
    if (!deep) return 1;
    /* Deep: every element walked once (lp_check), with the invariants the code relies on (minimal
     * encodings, integers stored as integers), which every listpack Redis writes has; a payload
     * crafted otherwise is refused, not half-trusted. */
    return lp_check(lp) == NULL;
}

/* ---- structure check ---- */

/* The header's invariants on a listpack in memory: total bytes, terminator, every element's encoding
 * valid and minimal (an integer in the narrowest integer encoding, a string in the narrowest length
 * encoding and never the canonical text of an integer), every backlen equal to its element's size, and
 * the element count (or 65535 with at least that many).  NULL if all hold, else what is wrong. */
const char *lp_check(const unsigned char *lp) {
    if (!lp) return "listpack: NULL";
    size_t size = rd32(lp);
    if (size < LP_HDR + 1) return "listpack: total bytes below the header size";
    if (lp[size - 1] != LP_EOF) return "listpack: total bytes do not end at the 0xFF terminator";
    const unsigned char *p = lp + LP_HDR, *end = lp + size - 1;
    unsigned long count = 0;
    while (p < end) {
        unsigned char b = p[0];
        if (b >= 0xF5) return "listpack: invalid encoding byte";
        size_t need = (b & 0xF0) == 0xE0 || (b & 0xE0) == 0xC0 ? 2 : b == 0xF0 ? 5 : 1;
        if ((size_t)(end - p) < need) return "listpack: element header past the end";
        uint64_t l = enc_size(p);
        uint64_t total = l + backlen_size(l);
        if (total > (uint64_t)(end - p)) return "listpack: element past the end";
        if (l < 128 ? p[l] != (unsigned char)l : !backlen_is(p + l, l, total - l))
            return "listpack: backlen differs from the element size";
        lp_val v;
        lp_get(p, &v);
        if (v.s) {
            long long iv;
            if ((b & 0xC0) != 0x80 && v.len <= 63) return "listpack: short string in a wider length encoding";
            if (b == 0xF0 && v.len <= 4095) return "listpack: string in a wider length encoding";
            if (v.len > 0 && v.len < LL_STR_SIZE && str2ll((const char *)v.s, v.len, &iv))
                return "listpack: integer text stored as a string";
        } else {
            int64_t i = v.i;
            unsigned want = i >= 0 && i <= 127                 ? 0x00
                            : i >= -4096 && i <= 4095          ? 0xC0
                            : i >= -32768 && i <= 32767        ? 0xF1
                            : i >= -8388608 && i <= 8388607    ? 0xF2
                            : i >= INT32_MIN && i <= INT32_MAX ? 0xF3
                                                               : 0xF4;
            unsigned have = b < 0x80 ? 0x00 : (b & 0xE0) == 0xC0 ? 0xC0 : b;
            if (have != want) return "listpack: integer not in its narrowest encoding";
        }
        p += total;
        count++;
    }
    if (p != end) return "listpack: elements overrun the terminator";
    unsigned n = hdr_count(lp);
    if (n == LP_UNKNOWN ? count < LP_UNKNOWN : n != count) return "listpack: header count differs from the elements";
    return NULL;
}

/* ---- DEBUG LISTPACK ---- */

void lp_repr(FILE *f, const unsigned char *lp) {
    fprintf(f, "{total bytes %zu} {num entries %lu}\n", lp_bytes(lp), lp_length(lp));
    unsigned char *base = (unsigned char *)lp;
    int index = 0;
    for (unsigned char *p = lp_first(base); p; p = lp_next(base, p), index++) {
        size_t size = entry_size(p);
        fprintf(f, "{\n\tindex: %2d,\n\toffset: %zu,\n\tentry+backlen: %zu,\n\tbytes: ", index, (size_t)(p - lp), size);
        for (size_t i = 0; i < size; i++) fprintf(f, "%02x|", p[i]);
        lp_val v;
        lp_get(p, &v);
        if (v.s) {
            fprintf(f, "\n\t[str]");
            fwrite(v.s, 1, v.len > 40 ? 40 : v.len, f);
            if (v.len > 40) fprintf(f, "...");
        } else {
            fprintf(f, "\n\t[int]%lld", (long long)v.i);
        }
        fprintf(f, "\n}\n");
    }
    fprintf(f, "{end}\n\n");
    fflush(f);
}
