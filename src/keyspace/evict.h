/* evict: maxmemory eviction, by the LRU/LFU bookkeeping of keyspace/lru.h.
 *
 * Eviction samples
 * maxmemory-samples keys per database into a 16-entry pool of the best
 * candidates (highest idle time, lowest frequency, nearest TTL) and evicts
 * the best one, repeating until memory is below the limit or a time budget
 * runs out (maxmemory-eviction-tenacity). */
#ifndef SARDINE_EVICT_H
#define SARDINE_EVICT_H
#include <stdint.h>

#include "keyspace/lru.h" /* the LRU/LFU field eviction reads */

enum { EVICT_OK = 0, EVICT_RUNNING = 1, EVICT_FAIL = 2 };
int evict_perform(void);
/* 1 when a write must be refused with -OOM: maxmemory is set and eviction could not make room, or no
 * maxmemory is set and memory is past the safety limit (logged at most every 10 s). */
int server_memory_refuses_writes(void);
#endif
