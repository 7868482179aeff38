/* slz: a small byte-oriented LZ77 compressor for sealed stream nodes.
 *
 * Stream node listpacks repeat themselves a lot (the same few encodings,
 * IDs that differ in their last bytes, values with a common prefix), and
 * a node is read whole, so a fast single-pass LZ with a 4 KiB-ish window
 * captures most of it.  Format: a sequence of tokens
 *
 *   0LLLLLLL              a literal run of L+1 bytes follows (1..128)
 *   1LLLLLLL oooooooo oooooooo   a match: copy L+4 bytes (4..131) from `offset` (1..65535) back
 *
 * Decompression checks every length and offset against the buffers, so a
 * corrupted payload fails instead of reading or writing out of bounds. */
#ifndef SARDINE_SLZ_H
#define SARDINE_SLZ_H
#include <stddef.h>

/* Compresses n bytes into out (cap bytes); returns the compressed length, or 0 if it would not fit. */
size_t slz_compress(const unsigned char *in, size_t n, unsigned char *out, size_t cap);
/* Decompresses exactly outlen bytes; 1 on success. */
int slz_decompress(const unsigned char *in, size_t n, unsigned char *out, size_t outlen);
#endif
