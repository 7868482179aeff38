/* crc64: see crc64.h.
 *
 * Two ways, same result.  The portable one is slice-by-8: table i maps a byte
 * to its contribution i bytes further back, so eight bytes are folded per step
 * (little-endian loads).  On x86-64 CPUs with PCLMULQDQ, long inputs are first
 * folded with carry-less multiplies, four 16-byte lanes at a time, down to one
 * 16-byte remainder, which the tables then finish (no Barrett reduction).
 *
 * Folding, in the reflected representation (bit i of a 64-bit word is the
 * coefficient of x^(63-i); the first byte of a 16-byte block holds the highest
 * degrees): a block A = Ahi*x^64 + Alo (Ahi its first 8 bytes) moved D bits
 * further on is A*x^D == Ahi*(x^(D+64) mod P) + Alo*(x^D mod P), each product
 * of degree < 128, so it fits a block again.  A carry-less multiply of two
 * reflected words yields their product times x, hence the constants are
 * x^(D+63) and x^(D-1) mod P.  They are computed at init, not written down.
 * CRC is linear and has no final xor here, so a running crc enters by being
 * xored into the first 8 bytes, as the table loop does. */
#include "util/crc64.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define CRC64_CLMUL 1
#endif

#define CRC64_POLY 0xad93d23594c935a9ULL /* x^64 implied */
#define CRC64_POLY_REFLECTED 0x95ac9329ac4bc9b5ULL

static uint64_t tab[8][256];
static int ready;

#ifdef CRC64_CLMUL
static int have_clmul;
static uint64_t k_lane[2], k_one[2], k_fold[3][2]; /* (hi, lo) constants: by 64 bytes, by 16, by 48/32/16 */

static uint64_t reflect64(uint64_t v) {
    uint64_t r = 0;
    for (int i = 0; i < 64; i++) r |= ((v >> i) & 1) << (63 - i);
    return r;
}

static uint64_t xpow_mod(unsigned k) { /* x^k mod P, reflected */
    uint64_t r = 1;
    while (k--) r = (r << 1) ^ ((r >> 63) ? CRC64_POLY : 0);
    return reflect64(r);
}

static void consts_for(uint64_t k[2], unsigned bits) {
    k[0] = xpow_mod(bits + 63); /* for the block's first 8 bytes */
    k[1] = xpow_mod(bits - 1);  /* for its last 8 */
}
#endif

void crc64_init(void) {
    if (__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) return;
    for (int i = 0; i < 256; i++) {
        uint64_t c = (uint64_t)i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ CRC64_POLY_REFLECTED : c >> 1;
        tab[0][i] = c;
    }
    for (int i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++) tab[t][i] = (tab[t - 1][i] >> 8) ^ tab[0][tab[t - 1][i] & 0xff];
#ifdef CRC64_CLMUL
    consts_for(k_lane, 512);
    consts_for(k_one, 128);
    consts_for(k_fold[0], 384);
    consts_for(k_fold[1], 256);
    consts_for(k_fold[2], 128);
    __builtin_cpu_init();
    have_clmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
#endif
    __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
}

static uint64_t crc64_tables(uint64_t crc, const unsigned char *p, size_t n) {
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= crc;
        crc = tab[7][w & 0xff] ^ tab[6][(w >> 8) & 0xff] ^ tab[5][(w >> 16) & 0xff] ^ tab[4][(w >> 24) & 0xff] ^
              tab[3][(w >> 32) & 0xff] ^ tab[2][(w >> 40) & 0xff] ^ tab[1][(w >> 48) & 0xff] ^ tab[0][w >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) crc = tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#ifdef CRC64_CLMUL
__attribute__((target("pclmul,sse4.1"))) static inline __m128i fold(__m128i v, const uint64_t k[2]) {
    __m128i kk = _mm_set_epi64x((long long)k[1], (long long)k[0]);
    return _mm_xor_si128(_mm_clmulepi64_si128(v, kk, 0x00), _mm_clmulepi64_si128(v, kk, 0x11));
}

/* n >= 64: folds all whole 16-byte blocks, then finishes with the tables. */
__attribute__((target("pclmul,sse4.1"))) static uint64_t crc64_clmul(uint64_t crc, const unsigned char *p, size_t n) {
    __m128i v0 = _mm_loadu_si128((const __m128i *)p), v1 = _mm_loadu_si128((const __m128i *)(p + 16)),
            v2 = _mm_loadu_si128((const __m128i *)(p + 32)), v3 = _mm_loadu_si128((const __m128i *)(p + 48));
    v0 = _mm_xor_si128(v0, _mm_set_epi64x(0, (long long)crc));
    p += 64;
    n -= 64;
    while (n >= 64) {
        v0 = _mm_xor_si128(fold(v0, k_lane), _mm_loadu_si128((const __m128i *)p));
        v1 = _mm_xor_si128(fold(v1, k_lane), _mm_loadu_si128((const __m128i *)(p + 16)));
        v2 = _mm_xor_si128(fold(v2, k_lane), _mm_loadu_si128((const __m128i *)(p + 32)));
        v3 = _mm_xor_si128(fold(v3, k_lane), _mm_loadu_si128((const __m128i *)(p + 48)));
        p += 64;
        n -= 64;
    }
    __m128i v = _mm_xor_si128(_mm_xor_si128(fold(v0, k_fold[0]), fold(v1, k_fold[1])),
                              _mm_xor_si128(fold(v2, k_fold[2]), v3));
    while (n >= 16) {
        v = _mm_xor_si128(fold(v, k_one), _mm_loadu_si128((const __m128i *)p));
        p += 16;
        n -= 16;
    }
    unsigned char rem[16];
    _mm_storeu_si128((__m128i *)rem, v);
    return crc64_tables(crc64_tables(0, rem, 16), p, n);
}
#endif

uint64_t crc64(uint64_t crc, const void *data, size_t n) {
    if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) crc64_init();
#ifdef CRC64_CLMUL
    if (have_clmul && n >= 256) return crc64_clmul(crc, data, n);
#endif
    return crc64_tables(crc, data, n);
}
