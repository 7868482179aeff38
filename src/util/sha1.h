/* sha1: SHA-1 (FIPS 180-4), used by DEBUG DIGEST, whose answers must equal
 * Redis's, so the hash is fixed by compatibility, not chosen for security.
 * Streaming interface: init, any number of updates, final. */
#ifndef SARDINE_SHA1_H
#define SARDINE_SHA1_H
#include <stddef.h>
#include <stdint.h>

typedef struct sha1_ctx {
    uint32_t h[5];
    uint64_t total;        /* bytes hashed so far */
    unsigned char buf[64]; /* pending partial block */
    size_t nbuf;
} sha1_ctx;

void sha1_init(sha1_ctx *c);
void sha1_update(sha1_ctx *c, const void *data, size_t len);
void sha1_final(sha1_ctx *c, unsigned char out[20]);
/* One-shot: out = SHA1(data). */
void sha1(const void *data, size_t len, unsigned char out[20]);
#endif
