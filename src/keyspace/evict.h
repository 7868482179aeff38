/* evict: approximate LRU/LFU bookkeeping and maxmemory eviction.
 *
 * The 24 bits of an entry's LRU field hold either an LRU clock in seconds
 * (wrapping every 194 days) or, under an LFU policy, 16 bits of "last
 * decrement time" in minutes and an 8-bit logarithmic access counter, as in
 * Redis, so OBJECT IDLETIME/FREQ mean the same.  Eviction samples
 * maxmemory-samples keys per database into a 16-entry pool of the best
 * candidates (highest idle time, lowest frequency, nearest TTL) and evicts
 * the best one, repeating until memory is below the limit or a time budget
 * runs out (maxmemory-eviction-tenacity). */
#ifndef SARDINE_EVICT_H
#define SARDINE_EVICT_H
#include <stdint.h>

/* LRU_CLOCK_MAX (the 24-bit LRU clock) is in server/server.h, beside srv.lruclock. */
#define LFU_INIT_VAL 5

unsigned int lru_clock_now(void);
uint32_t lru_initial(void);            /* a new key's LRU field under the current policy */
void lru_touch(uint8_t *e);            /* record an access */
unsigned long long lru_idle_ms(uint32_t lru);
unsigned long lfu_decayed_counter(uint32_t lru);
int policy_is_lfu(void);
int policy_is_lru(void);

enum { EVICT_OK = 0, EVICT_RUNNING = 1, EVICT_FAIL = 2 };
int evict_perform(void);
/* 1 when a write must be refused with -OOM: maxmemory is set and eviction could not make room, or no
 * maxmemory is set and memory is past the safety limit (logged at most every 10 s). */
int server_memory_refuses_writes(void);
#endif
