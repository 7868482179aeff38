/* hll: Redis's HyperLogLog, byte for byte, kept inside an ordinary string
 * value (an rstr), so GET/SET/DUMP of an HLL move the same bytes as Redis.
 *
 *   header (16 bytes)  "HYLL", encoding (0 dense, 1 sparse), 3 unused bytes,
 *                      the cached cardinality (64-bit little endian; the top
 *                      bit of the last byte set = stale)
 *   dense              16384 registers of 6 bits packed LSB first: 12288 bytes
 *   sparse             run-length opcodes over the registers, in order:
 *                        00xxxxxx          ZERO:  1..64 registers at 0
 *                        01xxxxxx yyyyyyyy XZERO: 1..16384 registers at 0
 *                        1vvvvvxx          VAL:   1..4 registers at 1..32
 *
 * Elements are hashed with MurmurHash64A (seed 0xadc83b19): the low 14 bits
 * pick the register, the position of the lowest set bit of the rest (+1) is
 * the value kept if larger.  The cardinality is Ertl's improved estimator
 * (the one of Redis >= 5), computed from the register histogram with the same
 * floating point operations, so the same registers give the same answer.
 *
 * Invariants: an rstr HLL keeps rstr's trailing NUL; the sparse form is
 * rewritten in place with Redis's split-and-merge rules (identical bytes
 * after identical updates) and turned dense when an update would make it
 * longer than the caller's sparse limit or needs a value above 32; a dense
 * HLL is exactly HLL_DENSE_SIZE bytes.  Corrupt sparse data is detected, not
 * trusted: the functions return -1 / set *invalid instead of reading past it,
 * with one exception kept for byte-exactness: every reader takes (p, len)
 * with p[len] readable (an rstr's trailing byte, or a copy with a NUL), and
 * an XZERO cut by the end of the string reads its second byte there, as
 * Redis reads the byte after its sds.  That byte is 0 except after an update
 * of such a cut XZERO, where it holds what the split wrote past the end
 * (Redis's write order is reproduced), so the rstr NUL invariant holds for
 * every well-formed HLL. */
#ifndef SARDINE_HLL_H
#define SARDINE_HLL_H
#include <stddef.h>
#include <stdint.h>
#include "types/rstr.h"

#define HLL_P 14
#define HLL_Q (64 - HLL_P)
#define HLL_REGISTERS (1 << HLL_P)
#define HLL_BITS 6
#define HLL_HDR_SIZE 16
#define HLL_DENSE_SIZE (HLL_HDR_SIZE + (HLL_REGISTERS * HLL_BITS + 7) / 8)
#define HLL_SEED 0xadc83b19u
enum { HLL_DENSE = 0, HLL_SPARSE = 1 };

uint64_t hll_murmur64a(const void *key, size_t len, uint32_t seed);
/* Register index and value (1..51) of an element. */
int hll_hash(const void *ele, size_t len, long *index);

/* Redis's isHLLObject test on a string's bytes: size, magic, encoding, dense size. */
int hll_valid(const uint8_t *p, size_t len);
static inline int hll_encoding(const uint8_t *p) { return p[4]; }
rstr *hll_new(void); /* empty sparse HLL (18 bytes), cached cardinality 0 */

/* Updates: 1 a register grew, 0 nothing changed, -1 corrupt.  *s may be reallocated. */
int hll_add(rstr **s, const void *ele, size_t len, size_t sparse_max);
int hll_set(rstr **s, long index, uint8_t value, size_t sparse_max);
int hll_to_dense(rstr **s); /* 0 ok (or already dense), -1 corrupt sparse data */

/* Register access on the dense payload (after the header). */
uint8_t hll_dense_get(const uint8_t *regs, long i);
void hll_dense_put(uint8_t *regs, long i, uint8_t v);

/* max[i] = MAX(max[i], register i) over a valid HLL's bytes; -1 if corrupt. */
int hll_merge(uint8_t *max, const uint8_t *p, size_t len);
/* Cardinality of a valid HLL's bytes (sets *invalid on corrupt sparse data). */
uint64_t hll_count(const uint8_t *p, size_t len, int *invalid);
/* Cardinality of 16384 8-bit registers (multi-key PFCOUNT). */
uint64_t hll_count_registers(const uint8_t *regs);

int hll_cached(const uint8_t *p, uint64_t *card); /* 1 if the cached value is valid */
void hll_set_cache(uint8_t *p, uint64_t card);
static inline void hll_invalidate(uint8_t *p) { p[15] |= 0x80; }

/* PFDEBUG DECODE text ("z:N Z:N v:V,N ..."), heap-allocated; NULL if not sparse. */
char *hll_decode(const uint8_t *p, size_t len, size_t *outlen);
/* Internal consistency checks (PFSELFTEST): 0 ok, else -1 with a message. */
int hll_selftest(char *err, size_t errlen);
/* Checks the format's invariants on p[0..len) (tests, DEBUG CHECK-KEY): NULL, or what is wrong. */
const char *hll_check(const uint8_t *p, size_t len);
#endif
