/* lru: see lru.h. */
#include "keyspace/lru.h"
#include "keyspace/entry.h"
#include "server/server.h"
#include <stdlib.h>

unsigned int lru_clock_now(void) {
    if (srv.hz >= 1) return srv.lruclock;
    return (unsigned int)((mstime() / 1000) & LRU_CLOCK_MAX);
}

int policy_is_lfu(void) { return srv.maxmemory_policy == MM_VOLATILE_LFU || srv.maxmemory_policy == MM_ALLKEYS_LFU; }
int policy_is_lru(void) { return srv.maxmemory_policy == MM_VOLATILE_LRU || srv.maxmemory_policy == MM_ALLKEYS_LRU; }

static unsigned long lfu_minutes(void) { return (unsigned long)((mstime() / 1000 / 60) & 65535); }

static unsigned long lfu_elapsed(unsigned long ldt) {
    unsigned long now = lfu_minutes();
    return now >= ldt ? now - ldt : 65535 - ldt + now;
}

unsigned long lfu_decayed_counter(uint32_t lru) {
    unsigned long ldt = lru >> 8, counter = lru & 255;
    unsigned long periods = srv.lfu_decay_time ? lfu_elapsed(ldt) / (unsigned long)srv.lfu_decay_time : 0;
    if (periods) counter = periods > counter ? 0 : counter - periods;
    return counter;
}

static unsigned long lfu_log_incr(unsigned long counter) {
    if (counter == 255) return 255;
    double r = (double)rand() / ((double)RAND_MAX + 1);
    double base = (double)counter - LFU_INIT_VAL;
    if (base < 0) base = 0;
    double p = 1.0 / (base * srv.lfu_log_factor + 1);
    return r < p ? counter + 1 : counter;
}

uint32_t lru_initial(void) {
    if (policy_is_lfu()) return (uint32_t)((lfu_minutes() << 8) | LFU_INIT_VAL);
    return lru_clock_now();
}

uint32_t lru_restored(long long idle_s, long long freq) {
    if (policy_is_lfu()) {
        if (freq >= 0 && freq <= 255) return (uint32_t)((lfu_minutes() << 8) | (unsigned long)freq);
    } else if (idle_s >= 0) {
        long long now = lru_clock_now(), abs = now - (idle_s > LRU_CLOCK_MAX ? LRU_CLOCK_MAX : idle_s);
        if (abs < 0) abs += LRU_CLOCK_MAX;
        return (uint32_t)abs;
    }
    return lru_initial();
}

void lru_touch(uint8_t *e) {
    if (srv.no_touch) return; /* the running command's client said CLIENT NO-TOUCH */
    if (policy_is_lfu()) {
        unsigned long counter = lfu_log_incr(lfu_decayed_counter(e_lru(e)));
        e_set_lru(e, (uint32_t)((lfu_minutes() << 8) | counter));
    } else {
        e_set_lru(e, lru_clock_now());
    }
}

unsigned long long lru_idle_ms(uint32_t lru) {
    unsigned int now = lru_clock_now();
    if (now >= lru) return (unsigned long long)(now - lru) * 1000;
    return (unsigned long long)(now + (LRU_CLOCK_MAX - lru)) * 1000;
}
