/* siphash: SipHash-1-3 (64-bit output) with a process-wide random key.
 *
 * The keyspace hashes every key with a secret 128-bit seed drawn from the
 * kernel at startup, so clients cannot craft keys that collide (hash
 * flooding).  SipHash-1-3 is the variant Redis and Rust use for tables: one
 * compression round per word and three finalisation rounds. */
#ifndef SARDINE_SIPHASH_H
#define SARDINE_SIPHASH_H
#include <stddef.h>
#include <stdint.h>

void siphash_seed_random(void);
void siphash_set_seed(const uint8_t seed[16]);
uint64_t siphash(const void *data, size_t len);
/* Same, but ASCII letters are hashed as lower case (command names, config names). */
uint64_t siphash_nocase(const void *data, size_t len);
#endif
