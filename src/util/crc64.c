/* crc64: see crc64.h.  Table i maps a byte to its contribution i bytes
 * further back, so eight bytes are folded per step (little-endian loads). */
#include "util/crc64.h"
#include <string.h>

#define CRC64_POLY_REFLECTED 0x95ac9329ac4bc9b5ULL

static uint64_t tab[8][256];
static int ready;

void crc64_init(void) {
    if (ready) return;
    for (int i = 0; i < 256; i++) {
        uint64_t c = (uint64_t)i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ CRC64_POLY_REFLECTED : c >> 1;
        tab[0][i] = c;
    }
    for (int i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++) tab[t][i] = (tab[t - 1][i] >> 8) ^ tab[0][tab[t - 1][i] & 0xff];
    __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
}

uint64_t crc64(uint64_t crc, const void *data, size_t n) {
    if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) crc64_init();
    const unsigned char *p = data;
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
