/* slz: see slz.h. */
#include "types/slz.h"
#include <stdint.h>
#include <string.h>

#define HBITS 12
#define MIN_MATCH 4
#define MAX_MATCH (127 + MIN_MATCH)
#define MAX_LIT 128
#define MAX_OFF 65535

static inline uint32_t hash4(const unsigned char *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return (v * 2654435761u) >> (32 - HBITS);
}

/* Emits the pending literals [from, to); returns the new output length or 0 if out of room. */
static size_t flush_lit(const unsigned char *from, const unsigned char *to, unsigned char *out, size_t o, size_t cap) {
    while (from < to) {
        size_t run = (size_t)(to - from) > MAX_LIT ? MAX_LIT : (size_t)(to - from);
        if (o + 1 + run > cap) return 0;
        out[o++] = (unsigned char)(run - 1);
        memcpy(out + o, from, run);
        o += run;
        from += run;
    }
    return o;
}

size_t slz_compress(const unsigned char *in, size_t n, unsigned char *out, size_t cap) {
    uint32_t table[1 << HBITS];
    memset(table, 0xff, sizeof(table));
    size_t i = 0, o = 0;
    const unsigned char *lit = in;
    while (i + MIN_MATCH <= n) {
        uint32_t h = hash4(in + i);
        uint32_t cand = table[h];
        table[h] = (uint32_t)i;
        if (cand != UINT32_MAX && i - cand <= MAX_OFF && memcmp(in + cand, in + i, MIN_MATCH) == 0) {
            size_t len = MIN_MATCH;
            while (i + len < n && len < MAX_MATCH && in[cand + len] == in[i + len]) len++;
            if (lit < in + i && !(o = flush_lit(lit, in + i, out, o, cap))) return 0;
            if (o + 3 > cap) return 0;
            size_t off = i - cand;
            out[o++] = (unsigned char)(0x80 | (len - MIN_MATCH));
            out[o++] = (unsigned char)(off >> 8);
            out[o++] = (unsigned char)off;
            /* index a couple of positions inside the match so the next repeats are found */
            for (size_t k = 1; k < len && i + k + MIN_MATCH <= n; k += 3) table[hash4(in + i + k)] = (uint32_t)(i + k);
            i += len;
            lit = in + i;
        } else {
            i++;
        }
    }
    if (lit < in + n && !(o = flush_lit(lit, in + n, out, o, cap))) return 0;
    return o;
}

int slz_decompress(const unsigned char *in, size_t n, unsigned char *out, size_t outlen) {
    size_t i = 0, o = 0;
    while (i < n) {
        unsigned char t = in[i++];
        if (!(t & 0x80)) {
            size_t run = (size_t)t + 1;
            if (i + run > n || o + run > outlen) return 0;
            memcpy(out + o, in + i, run);
            i += run;
            o += run;
        } else {
            if (i + 2 > n) return 0;
            size_t len = (size_t)(t & 0x7f) + MIN_MATCH;
            size_t off = (size_t)in[i] << 8 | in[i + 1];
            i += 2;
            if (off == 0 || off > o || o + len > outlen) return 0;
            for (size_t k = 0; k < len; k++) out[o + k] = out[o - off + k]; /* may overlap: byte by byte */
            o += len;
        }
    }
    return o == outlen;
}
