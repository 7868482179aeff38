/* siphash: see siphash.h.  Written from the SipHash paper (Aumasson and
 * Bernstein, 2012): state v0..v3, message words little-endian, the final word
 * carries the length in its top byte. */
#include "util/siphash.h"
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static uint64_t k0 = 0x736f6d6570736575ULL, k1 = 0x646f72616e646f6dULL;

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                             \
    do {                                                                                                     \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);                                          \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                                              \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                                              \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);                                          \
    } while (0)

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v; /* x86_64 and aarch64 Linux are little-endian */
}

static inline uint64_t lower64(uint64_t w) {
    /* lower-case every ASCII 'A'..'Z' byte of a word at once */
    uint64_t heptets = w & 0x7f7f7f7f7f7f7f7fULL;
    uint64_t ge_a = heptets + 0x3f3f3f3f3f3f3f3fULL; /* high bit set where byte >= 'A' */
    uint64_t gt_z = heptets + 0x2525252525252525ULL; /* high bit set where byte >  'Z' */
    uint64_t upper = ge_a & ~gt_z & ~w & 0x8080808080808080ULL;
    return w | (upper >> 2);
}

static uint64_t sip(const uint8_t *in, size_t len, int nocase) {
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
    size_t words = len / 8;
    for (size_t i = 0; i < words; i++) {
        uint64_t m = load64(in + i * 8);
        if (nocase) m = lower64(m);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    uint8_t tail[8] = {0};
    memcpy(tail, in + words * 8, len & 7);
    uint64_t t = load64(tail);
    if (nocase) t = lower64(t);
    b |= t & ((len & 7) ? (~0ULL >> (64 - 8 * (len & 7))) : 0);
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t siphash(const void *data, size_t len) { return sip(data, len, 0); }
uint64_t siphash_nocase(const void *data, size_t len) { return sip(data, len, 1); }

void siphash_set_seed(const uint8_t seed[16]) {
    memcpy(&k0, seed, 8);
    memcpy(&k1, seed + 8, 8);
}

void siphash_seed_random(void) {
    uint8_t seed[16];
    if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t a = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32), b = (uint64_t)ts.tv_sec * 2654435761u;
        memcpy(seed, &a, 8);
        memcpy(seed + 8, &b, 8);
    }
    siphash_set_seed(seed);
}
