/* lru: the access bookkeeping of a key, in the 24 bits of its entry's LRU
 * field: either an LRU clock in seconds (LRU_CLOCK_MAX, wrapping every 194
 * days) or, under an LFU policy, 16 bits of "last decrement time" in minutes
 * and an 8-bit logarithmic access counter, as in Redis, so that OBJECT
 * IDLETIME/FREQ mean the same.  Lookups record accesses here; eviction
 * (evict.h) reads what it recorded. */
#ifndef SARDINE_LRU_H
#define SARDINE_LRU_H
#include <stdint.h>

#define LFU_INIT_VAL 5

unsigned int lru_clock_now(void);
uint32_t lru_initial(void);            /* a new key's LRU field under the current policy */
/* The LRU field of a key restored with an idle time in seconds or an LFU frequency (-1: not given), as
 * Redis's objectSetLRUOrLFU: the frequency counts under an LFU policy, the idle time under any other. */
uint32_t lru_restored(long long idle_s, long long freq);
void lru_touch(uint8_t *e);            /* record an access */
unsigned long long lru_idle_ms(uint32_t lru);
unsigned long lfu_decayed_counter(uint32_t lru);
int policy_is_lfu(void);
int policy_is_lru(void);
#endif
