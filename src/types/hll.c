/* hll: see hll.h.  The sparse update follows Redis's rules exactly (they
 * decide the bytes): locate the opcode covering the register; a VAL already
 * >= the value changes nothing; a VAL or ZERO of length 1 is rewritten in
 * place; otherwise the opcode is split into at most three (zeros before as
 * ZERO or XZERO by length, the new VAL, zeros or the old VAL after), and if
 * that makes the string longer than the sparse limit the HLL turns dense
 * first.  Afterwards up to five opcodes from the one before the change are
 * scanned and adjacent equal VALs merged while the run fits in a VAL. */
#include "types/hll.h"
#include "util/mem.h"
#include "util/debug.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- hash ---- */

uint64_t hll_murmur64a(const void *key, size_t len, uint32_t seed) {
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    const int r = 47;
    uint64_t h = seed ^ ((uint64_t)len * m);
    const uint8_t *data = key;
    size_t blocks = len / 8;
    for (size_t i = 0; i < blocks; i++, data += 8) {
        uint64_t k;
        memcpy(&k, data, 8); /* little endian host (x86-64, arm64) */
        k *= m;
        k ^= k >> r;
        k *= m;
        h ^= k;
        h *= m;
    }
    size_t tail = len & 7;
    if (tail) {
        for (size_t i = tail; i > 0; i--) h ^= (uint64_t)data[i - 1] << (8 * (i - 1));
        h *= m;
    }
    h ^= h >> r;
    h *= m;
    h ^= h >> r;
    return h;
}

int hll_hash(const void *ele, size_t len, long *index) {
    uint64_t h = hll_murmur64a(ele, len, HLL_SEED);
    *index = (long)(h & (HLL_REGISTERS - 1));
    h >>= HLL_P;
    h |= (uint64_t)1 << HLL_Q; /* caps the run at Q+1 */
    return __builtin_ctzll(h) + 1;
}

/* ---- header ---- */

int hll_valid(const uint8_t *p, size_t len) {
    if (len < HLL_HDR_SIZE || memcmp(p, "HYLL", 4) != 0) return 0;
    if (p[4] > HLL_SPARSE) return 0;
    if (p[4] == HLL_DENSE && len != HLL_DENSE_SIZE) return 0;
    return 1;
}

int hll_cached(const uint8_t *p, uint64_t *card) {
    if (p[15] & 0x80) return 0;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[8 + i];
    *card = v;
    return 1;
}

void hll_set_cache(uint8_t *p, uint64_t card) {
    for (int i = 0; i < 8; i++) p[8 + i] = (uint8_t)(card >> (8 * i));
}

/* ---- dense registers ---- */

uint8_t hll_dense_get(const uint8_t *regs, long i) {
    unsigned long bit = (unsigned long)i * HLL_BITS, byte = bit >> 3, fb = bit & 7;
    unsigned v = regs[byte] >> fb;
    if (fb > 2) v |= (unsigned)regs[byte + 1] << (8 - fb);
    return (uint8_t)(v & 63);
}

void hll_dense_put(uint8_t *regs, long i, uint8_t v) {
    unsigned long bit = (unsigned long)i * HLL_BITS, byte = bit >> 3, fb = bit & 7;
    regs[byte] = (uint8_t)((regs[byte] & ~(63u << fb)) | ((unsigned)v << fb));
    if (fb > 2) regs[byte + 1] = (uint8_t)((regs[byte + 1] & ~(63u >> (8 - fb))) | ((unsigned)v >> (8 - fb)));
}

/* Four registers from three bytes at a time. */
#define DENSE_FOREACH(regs, body)                                         \
    for (long _b = 0, i = 0; _b < HLL_REGISTERS * HLL_BITS / 8; _b += 3) { \
        unsigned _b0 = (regs)[_b], _b1 = (regs)[_b + 1], _b2 = (regs)[_b + 2]; \
        unsigned _r[4] = {_b0 & 63, (_b0 >> 6 | _b1 << 2) & 63, (_b1 >> 4 | _b2 << 4) & 63, _b2 >> 2}; \
        for (int _k = 0; _k < 4; _k++, i++) {                              \
            unsigned reg = _r[_k];                                         \
            body;                                                          \
        }                                                                  \
    }

static int dense_raise(uint8_t *regs, long i, uint8_t v) {
    if (v <= hll_dense_get(regs, i)) return 0;
    hll_dense_put(regs, i, v);
    return 1;
}

/* ---- sparse opcodes ---- */

#define IS_ZERO(p) ((*(p) & 0xc0) == 0)
#define IS_XZERO(p) ((*(p) & 0xc0) == 0x40)
#define IS_VAL(p) (*(p) & 0x80)
#define ZERO_LEN(p) ((*(p) & 0x3f) + 1)
#define VAL_VALUE(p) (((*(p) >> 2) & 0x1f) + 1)
#define VAL_LEN(p) ((*(p) & 0x3) + 1)
#define VAL_MAX_VALUE 32
#define VAL_MAX_LEN 4
#define ZERO_MAX_LEN 64
#define XZERO_MAX_LEN 16384

/* An XZERO cut by the end of the string reads its second byte from p[len] (see hll.h). */
static inline long xzero_len(const uint8_t *p) { return ((long)(p[0] & 0x3f) << 8 | p[1]) + 1; }
static inline uint8_t op_val(int value, int len) { return (uint8_t)(0x80 | (value - 1) << 2 | (len - 1)); }
static inline uint8_t *put_zeros(uint8_t *n, long len) {
    if (len > ZERO_MAX_LEN) {
        n[0] = (uint8_t)(0x40 | (len - 1) >> 8);
        n[1] = (uint8_t)((len - 1) & 0xff);
        return n + 2;
    }
    n[0] = (uint8_t)(len - 1);
    return n + 1;
}

rstr *hll_new(void) {
    rstr *s = rstr_new(NULL, HLL_HDR_SIZE + 2, HLL_HDR_SIZE + 2);
    memcpy(s->data, "HYLL", 4);
    s->data[4] = HLL_SPARSE;
    uint8_t *p = (uint8_t *)s->data + HLL_HDR_SIZE;
    put_zeros(p, HLL_REGISTERS); /* one XZERO covers all 16384 */
    return s;
}

/* Sparse HLLs grow by a few bytes at a time: grow to the allocator's size class of what is needed
 * and use all of it (no doubling: memory is the product; the classes are geometric, so the
 * reallocations stay amortised O(1)). */
static rstr *grow(rstr *s, size_t need) {
    if (need <= s->cap) return s;
    s = s_realloc(s, sizeof(rstr) + need + 1);
    s->cap = s_usable(s) - sizeof(rstr) - 1;
    return s;
}

int hll_to_dense(rstr **sp) {
    rstr *s = *sp;
    const uint8_t *p = (const uint8_t *)s->data, *end = p + s->len;
    if (p[4] == HLL_DENSE) return 0;
    rstr *d = rstr_new(NULL, HLL_DENSE_SIZE, HLL_DENSE_SIZE);
    memcpy(d->data, p, HLL_HDR_SIZE); /* magic and cached cardinality carry over */
    d->data[4] = HLL_DENSE;
    uint8_t *regs = (uint8_t *)d->data + HLL_HDR_SIZE;
    long idx = 0;
    for (p += HLL_HDR_SIZE; p < end;) {
        if (IS_ZERO(p)) {
            idx += ZERO_LEN(p);
            p++;
        } else if (IS_XZERO(p)) {
            idx += xzero_len(p);
            p += 2;
        } else {
            long run = VAL_LEN(p);
            uint8_t v = (uint8_t)VAL_VALUE(p);
            if (idx + run > HLL_REGISTERS) goto corrupt; /* too many registers */
            while (run--) hll_dense_put(regs, idx++, v);
            p++;
        }
    }
    if (idx != HLL_REGISTERS) { /* the runs must cover exactly 16384 registers */
    corrupt:
        s_free(d);
        return -1;
    }
    s_free(s);
    DBG_ASSERT(d->len == HLL_DENSE_SIZE && d->data[4] == HLL_DENSE);
    *sp = d;
    return 0;
}

static int sparse_set(rstr **sp, long index, uint8_t count, size_t sparse_max) {
    if (count > VAL_MAX_VALUE) goto promote;
    rstr *s = *sp = grow(*sp, (*sp)->len + 3); /* the worst split adds 3 bytes */
    uint8_t *ops = (uint8_t *)s->data + HLL_HDR_SIZE, *end = (uint8_t *)s->data + s->len;
    uint8_t *p = ops, *prev = NULL;
    long first = 0, span = 0;
    while (p < end) {
        long oplen = 1;
        if (IS_ZERO(p)) span = ZERO_LEN(p);
        else if (IS_VAL(p)) span = VAL_LEN(p);
        else span = xzero_len(p), oplen = 2;
        if (index <= first + span - 1) break;
        prev = p;
        p += oplen;
        first += span;
    }
    if (span == 0 || p >= end) return -1;
    int is_zero = IS_ZERO(p), is_xzero = IS_XZERO(p), is_val = !is_zero && !is_xzero;
    uint8_t *next = is_xzero ? p + 2 : p + 1;
    if (next >= end) next = NULL;
    long runlen = is_zero ? ZERO_LEN(p) : is_xzero ? xzero_len(p) : VAL_LEN(p);

    if (is_val) {
        if (VAL_VALUE(p) >= count) return 0;
        if (runlen == 1) {
            *p = op_val(count, 1);
            goto updated;
        }
    }
    if (is_zero && runlen == 1) {
        *p = op_val(count, 1);
        goto updated;
    }
    {
        /* Split into at most XZERO-VAL-XZERO (5 bytes). */
        uint8_t seq[5], *n = seq;
        long last = first + span - 1;
        if (is_val) {
            int cur = VAL_VALUE(p);
            if (index != first) *n++ = op_val(cur, (int)(index - first));
            *n++ = op_val(count, 1);
            if (index != last) *n++ = op_val(cur, (int)(last - index));
        } else {
            if (index != first) n = put_zeros(n, index - first);
            *n++ = op_val(count, 1);
            if (index != last) n = put_zeros(n, last - index);
        }
        long seqlen = n - seq, delta = seqlen - (is_xzero ? 2 : 1);
        if (delta > 0 && s->len + (size_t)delta > sparse_max) goto promote;
        /* Redis's order of writes, so that even a cut last XZERO leaves the same byte after the end. */
        if (delta && next) memmove(next + delta, next, (size_t)(end - next));
        s->len = (size_t)((long)s->len + delta);
        s->data[s->len] = 0;
        memcpy(p, seq, (size_t)seqlen);
        end += delta;
    }
updated:
    /* Merge equal adjacent VALs, scanning up to five opcodes from the one before the change. */
    p = prev ? prev : ops;
    for (int scan = 5; p < end && scan--;) {
        if (IS_XZERO(p)) {
            p += 2;
            continue;
        }
        if (IS_ZERO(p)) {
            p++;
            continue;
        }
        if (p + 1 < end && IS_VAL(p + 1) && VAL_VALUE(p) == VAL_VALUE(p + 1)) {
            int len = VAL_LEN(p) + VAL_LEN(p + 1);
            if (len <= VAL_MAX_LEN) {
                p[1] = op_val(VAL_VALUE(p), len);
                memmove(p, p + 1, (size_t)(end - p - 1));
                s->len--;
                s->data[s->len] = 0;
                end--;
                continue; /* the merged run may merge again with the next one */
            }
        }
        p++;
    }
    hll_invalidate((uint8_t *)s->data);
    return 1;

promote:
    if (hll_to_dense(sp) < 0) return -1;
    dense_raise((uint8_t *)(*sp)->data + HLL_HDR_SIZE, index, count);
    return 1; /* a conversion always means a register grew */
}

int hll_set(rstr **s, long index, uint8_t value, size_t sparse_max) {
    uint8_t *p = (uint8_t *)(*s)->data;
    switch (p[4]) {
    case HLL_DENSE: return dense_raise(p + HLL_HDR_SIZE, index, value);
    case HLL_SPARSE: return sparse_set(s, index, value, sparse_max);
    default: return -1;
    }
}

int hll_add(rstr **s, const void *ele, size_t len, size_t sparse_max) {
    long index;
    int count = hll_hash(ele, len, &index);
    return hll_set(s, index, (uint8_t)count, sparse_max);
}

/* ---- reading ---- */

int hll_merge(uint8_t *max, const uint8_t *p, size_t len) {
    if (p[4] == HLL_DENSE) {
        if (len != HLL_DENSE_SIZE) return -1;
        const uint8_t *regs = p + HLL_HDR_SIZE;
        DENSE_FOREACH(regs, if (reg > max[i]) max[i] = (uint8_t)reg);
        return 0;
    }
    const uint8_t *end = p + len;
    long i = 0;
    for (p += HLL_HDR_SIZE; p < end;) {
        if (IS_ZERO(p)) {
            i += ZERO_LEN(p);
            p++;
        } else if (IS_XZERO(p)) {
            i += xzero_len(p);
            p += 2;
        } else {
            long run = VAL_LEN(p);
            uint8_t v = (uint8_t)VAL_VALUE(p);
            if (i + run > HLL_REGISTERS) return -1; /* too many registers: corrupt */
            for (; run; run--, i++)
                if (v > max[i]) max[i] = v;
            p++;
        }
    }
    return i == HLL_REGISTERS ? 0 : -1; /* the runs must cover exactly 16384 registers */
}

/* Ertl, "New cardinality estimation algorithms for HyperLogLog sketches" (arXiv:1702.01284). */
static double ertl_sigma(double x) {
    if (x == 1.) return INFINITY;
    double y = 1, z = x, prev;
    do {
        x *= x;
        prev = z;
        z += x * y;
        y += y;
    } while (prev != z);
    return z;
}

static double ertl_tau(double x) {
    if (x == 0. || x == 1.) return 0.;
    double y = 1.0, z = 1 - x, prev;
    do {
        x = sqrt(x);
        prev = z;
        y *= 0.5;
        z -= pow(1 - x, 2) * y;
    } while (prev != z);
    return z / 3;
}

static uint64_t estimate(const int *histo) {
    const double m = HLL_REGISTERS, alpha_inf = 0.721347520444481703680; /* 1 / (2 ln 2) */
    double z = m * ertl_tau((m - histo[HLL_Q + 1]) / m);
    for (int j = HLL_Q; j >= 1; --j) {
        z += histo[j];
        z *= 0.5;
    }
    z += m * ertl_sigma(histo[0] / m);
    double e = (double)llroundl(alpha_inf * m * m / z);
    return (uint64_t)e;
}

uint64_t hll_count(const uint8_t *p, size_t len, int *invalid) {
    int histo[64] = {0};
    if (p[4] == HLL_DENSE) {
        const uint8_t *regs = p + HLL_HDR_SIZE;
        DENSE_FOREACH(regs, histo[reg]++);
    } else {
        const uint8_t *end = p + len;
        long idx = 0;
        for (p += HLL_HDR_SIZE; p < end;) {
            if (IS_ZERO(p)) {
                long run = ZERO_LEN(p);
                idx += run;
                histo[0] += (int)run;
                p++;
            } else if (IS_XZERO(p)) {
                long run = xzero_len(p);
                idx += run;
                histo[0] += (int)run;
                p += 2;
            } else {
                long run = VAL_LEN(p);
                idx += run;
                histo[VAL_VALUE(p)] += (int)run;
                p++;
            }
        }
        if (idx != HLL_REGISTERS && invalid) *invalid = 1;
    }
    return estimate(histo);
}

uint64_t hll_count_registers(const uint8_t *regs) {
    int histo[64] = {0};
    for (long i = 0; i < HLL_REGISTERS; i++) histo[regs[i] & 63]++;
    return estimate(histo);
}

char *hll_decode(const uint8_t *p, size_t len, size_t *outlen) {
    if (p[4] != HLL_SPARSE) return NULL;
    const uint8_t *end = p + len;
    size_t cap = (len - HLL_HDR_SIZE) * 12 + 1, n = 0;
    char *out = s_malloc(cap);
    for (p += HLL_HDR_SIZE; p < end;) {
        if (IS_ZERO(p)) n += (size_t)snprintf(out + n, cap - n, "z:%d ", ZERO_LEN(p)), p++;
        else if (IS_XZERO(p)) n += (size_t)snprintf(out + n, cap - n, "Z:%ld ", xzero_len(p)), p += 2;
        else n += (size_t)snprintf(out + n, cap - n, "v:%d,%d ", VAL_VALUE(p), VAL_LEN(p)), p++;
    }
    while (n && out[n - 1] == ' ') n--;
    *outlen = n;
    return out;
}

/* ---- self test ---- */

static uint64_t xorshift(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

int hll_selftest(char *err, size_t errlen) {
    /* 1. Dense registers: every value at every position survives its neighbours' writes. */
    static uint8_t regs[HLL_REGISTERS * HLL_BITS / 8 + 1], model[HLL_REGISTERS];
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    memset(regs, 0, sizeof(regs));
    for (int round = 0; round < 4; round++) {
        for (long i = 0; i < HLL_REGISTERS; i++) {
            model[i] = (uint8_t)(xorshift(&seed) & 63);
            hll_dense_put(regs, i, model[i]);
        }
        for (long i = 0; i < HLL_REGISTERS; i++)
            if (hll_dense_get(regs, i) != model[i]) {
                snprintf(err, errlen, "TESTFAILED Register error at index %ld", i);
                return -1;
            }
    }
    /* 2. Sparse and dense agree register for register and in the estimate, within the error bound. */
    rstr *sp = hll_new(), *dn = hll_new();
    hll_to_dense(&dn);
    uint8_t ms[HLL_REGISTERS], md[HLL_REGISTERS];
    const double relerr = 1.04 / sqrt(HLL_REGISTERS);
    int rc = 0;
    for (long n = 1; n <= 100000 && !rc; n++) {
        char ele[24];
        int len = snprintf(ele, sizeof(ele), "ele:%llu", (unsigned long long)xorshift(&seed));
        int a = hll_add(&sp, ele, (size_t)len, 3000), b = hll_add(&dn, ele, (size_t)len, 3000);
        if (a < 0 || b < 0 || a != b) {
            snprintf(err, errlen, "TESTFAILED sparse and dense updates differ at element %ld", n);
            rc = -1;
        } else if (n % 997 == 0 || n == 100000) {
            memset(ms, 0, sizeof(ms));
            memset(md, 0, sizeof(md));
            int inv = 0;
            uint64_t cs = hll_count((uint8_t *)sp->data, sp->len, &inv), cd = hll_count((uint8_t *)dn->data, dn->len, &inv);
            if (hll_merge(ms, (uint8_t *)sp->data, sp->len) || hll_merge(md, (uint8_t *)dn->data, dn->len) ||
                memcmp(ms, md, sizeof(ms)) || cs != cd || inv) {
                snprintf(err, errlen, "TESTFAILED sparse and dense registers differ after %ld elements", n);
                rc = -1;
            } else if (fabs((double)cd - (double)n) > (double)n * relerr * (n < 1000 ? 5 : 4)) {
                snprintf(err, errlen, "TESTFAILED too big error. card:%llu abserr:%f",
                         (unsigned long long)cd, fabs((double)cd - (double)n));
                rc = -1;
            }
        }
    }
    s_free(sp);
    s_free(dn);
    return rc;
}

/* ---- structure check ---- */

/* The header's invariants on an HLL's bytes (p[len] readable): magic, encoding 0 or 1, the 3 unused
 * bytes zero; dense: exactly HLL_DENSE_SIZE bytes; sparse: opcodes that cover exactly the 16384
 * registers and end exactly at the end of the string (an XZERO whole), VAL values 1..32; a cached
 * cardinality marked valid equals the registers' estimate.  NULL if all hold, else what is wrong. */
const char *hll_check(const uint8_t *p, size_t len) {
    if (len < HLL_HDR_SIZE || memcmp(p, "HYLL", 4) != 0) return "hll: bad magic or short header";
    if (p[4] != HLL_DENSE && p[4] != HLL_SPARSE) return "hll: unknown encoding";
    if (p[5] || p[6] || p[7]) return "hll: unused header bytes are not zero";
    if (p[4] == HLL_DENSE) {
        if (len != HLL_DENSE_SIZE) return "hll: dense size is not 12304 bytes";
    } else {
        size_t i = HLL_HDR_SIZE;
        long regs = 0;
        while (i < len) {
            uint8_t b = p[i];
            if ((b & 0xC0) == 0x00) {
                regs += (b & 0x3F) + 1;
                i++;
            } else if ((b & 0xC0) == 0x40) {
                if (i + 1 >= len) return "hll: sparse XZERO cut by the end";
                regs += ((long)(b & 0x3F) << 8 | p[i + 1]) + 1;
                i += 2;
            } else {
                regs += (b & 0x03) + 1;
                i++;
            }
            if (regs > HLL_REGISTERS) return "hll: sparse opcodes cover more than 16384 registers";
        }
        if (regs != HLL_REGISTERS) return "hll: sparse opcodes do not cover 16384 registers";
    }
    uint64_t cached;
    if (hll_cached(p, &cached)) {
        int invalid = 0;
        uint64_t card = hll_count(p, len, &invalid);
        if (invalid) return "hll: registers unreadable";
        if (card != cached) return "hll: cached cardinality differs from the registers";
    }
    return NULL;
}
