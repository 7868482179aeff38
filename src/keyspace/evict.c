/* evict: see evict.h.  The pool keeps copies of candidate keys (not handles),
 * because a candidate may be deleted or rebuilt before it is chosen; it is
 * looked up again when its turn comes. */
#include "keyspace/evict.h"
#include "keyspace/db.h"
#include "mem/arena.h"
#include "net/client.h"
#include "server/server.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define POOL_SIZE 16

typedef struct pool_entry {
    unsigned long long idle;
    int dbid;
    size_t klen;
    char *key; /* heap copy */
} pool_entry;

static pool_entry pool[POOL_SIZE];
static uint64_t rng = 0x2545f4914f6cdd1dULL;
static int random_db_cursor;

static uint64_t rnd64(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int volatile_policy(void) { return srv.maxmemory_policy <= MM_VOLATILE_TTL; }

static unsigned long long score(const uint8_t *e) {
    switch (srv.maxmemory_policy) {
    case MM_VOLATILE_LRU:
    case MM_ALLKEYS_LRU: return lru_idle_ms(e_lru(e));
    case MM_VOLATILE_LFU:
    case MM_ALLKEYS_LFU: return 255 - lfu_decayed_counter(e_lru(e));
    case MM_VOLATILE_TTL: return ULLONG_MAX - (unsigned long long)e_ttl(e);
    default: return 0;
    }
}

/* The pool holds npool entries sorted by ascending idle score; the best candidate is last. */
static int npool;

static void pool_insert(int dbid, const char *key, size_t klen, unsigned long long idle) {
    for (int i = 0; i < npool; i++)
        if (pool[i].dbid == dbid && pool[i].klen == klen && !memcmp(pool[i].key, key, klen)) return;
    if (npool == POOL_SIZE) {
        if (idle <= pool[0].idle) return;
        s_free(pool[0].key);
        memmove(pool, pool + 1, sizeof(pool[0]) * (POOL_SIZE - 1));
        npool--;
    }
    int k = npool;
    while (k > 0 && pool[k - 1].idle > idle) {
        pool[k] = pool[k - 1];
        k--;
    }
    pool[k].idle = idle;
    pool[k].dbid = dbid;
    pool[k].klen = klen;
    pool[k].key = s_memdup(key, klen);
    npool++;
}

static void pool_populate(db *d) {
    int ttl_only = volatile_policy();
    for (int i = 0; i < srv.maxmemory_samples; i++) {
        handle_t h = kt_random(&d->t, rnd64(), ttl_only);
        if (!h) return;
        const uint8_t *e = arena_ptr(h);
        size_t klen;
        keybuf key_kb;
        const char *key = e_keyb(e, &key_kb, &klen);
        pool_insert(d->id, key, klen, score(e));
    }
}

/* Deletes the chosen key: Redis's "eviction-del" latency event (the delete and its announcement). */
static void evict_key(kref *r) {
    long long start = server_latency_start();
    server_debug_slow_op();
    db_evict(r);
    server_latency_end("eviction-del", start);
}

/* Finds and deletes one key per the policy; 0 if there is none to evict. */
static int evict_one(void) {
    int pol = srv.maxmemory_policy;
    if (pol == MM_ALLKEYS_RANDOM || pol == MM_VOLATILE_RANDOM) {
        for (int i = 0; i < srv.dbnum; i++) {
            db *d = &srv.dbs[random_db_cursor++ % srv.dbnum];
            handle_t h = kt_random(&d->t, rnd64(), pol == MM_VOLATILE_RANDOM);
            if (!h) continue;
            size_t klen;
            keybuf key_kb;
            const char *key = e_keyb(arena_ptr(h), &key_kb, &klen);
            kref r;
            if (db_lookup(d, key, klen, LOOKUP_NOTOUCH | LOOKUP_NOSTATS | LOOKUP_NOEXPIRE, &r)) {
                evict_key(&r);
                return 1;
            }
        }
        return 0;
    }
    for (int attempt = 0; attempt < 8; attempt++) {
        int any = 0;
        for (int i = 0; i < srv.dbnum; i++) {
            db *d = &srv.dbs[i];
            if (volatile_policy() ? d->t.nttl : d->t.count) {
                pool_populate(d);
                any = 1;
            }
        }
        if (!any) return 0;
        while (npool > 0) {
            pool_entry pe = pool[--npool];
            kref r;
            int found = pe.dbid < srv.dbnum &&
                        db_lookup(&srv.dbs[pe.dbid], pe.key, pe.klen, LOOKUP_NOTOUCH | LOOKUP_NOSTATS | LOOKUP_NOEXPIRE, &r) &&
                        (!volatile_policy() || e_has_ttl(r.e));
            s_free(pe.key);
            if (found) {
                evict_key(&r);
                return 1;
            }
        }
    }
    return 0;
}

static long long time_limit_us(void) {
    int t = srv.maxmemory_eviction_tenacity;
    if (t <= 10) return 50LL * t;
    if (t < 100) return (long long)(500.0 * 1.15 * (t - 10) + 500); /* grows steeply like Redis's */
    return LLONG_MAX;
}

/* What eviction measures: used_memory without clients' transient I/O buffers. */
static size_t evictable_used(void) {
    size_t used = server_used_memory();
    return used > srv.client_buf_bytes ? used - srv.client_buf_bytes : 0;
}

int evict_perform(void) {
    if (!srv.maxmemory) return EVICT_OK;
    size_t used = evictable_used();
    if (used <= srv.maxmemory) return EVICT_OK;
    if (srv.maxmemory_policy == MM_NOEVICTION) return EVICT_FAIL;
    if (server_paused()) return EVICT_OK; /* CLIENT PAUSE keeps the dataset still (as Redis 7.0) */
    long long start = ustime(), limit = time_limit_us();
    long keys = 0;
    while (evictable_used() > srv.maxmemory) {
        if (!evict_one()) {
            srv.stat_evictions_time_us += ustime() - start;
            server_latency_event("eviction-cycle", (ustime() - start) / 1000);
            return EVICT_FAIL;
        }
        keys++;
        if (keys % 16 == 0 && ustime() - start > limit) {
            srv.stat_evictions_time_us += ustime() - start;
            server_latency_event("eviction-cycle", (ustime() - start) / 1000);
            return EVICT_RUNNING;
        }
    }
    srv.stat_evictions_time_us += ustime() - start;
    server_latency_event("eviction-cycle", (ustime() - start) / 1000);
    return EVICT_OK;
}

/* The gate a write passes before it runs: with maxmemory, eviction first; without, the safety limit. */
int server_memory_refuses_writes(void) {
    if (srv.maxmemory && evict_perform() == EVICT_FAIL) return 1;
    if (arena_low()) { /* the entry arena's address space, not memory, is running out */
        static long long last_arena_warn;
        long long now = mstime();
        if (now - last_arena_warn > 10000) {
            char h[32];
            bytes_human(h, sizeof(h), arena_reserved_bytes());
            serverLog(LL_WARNING,
                      "The entry arena (%s reserved) is nearly exhausted: refusing writes with -OOM, still serving "
                      "reads. Delete keys to make room, or raise SARDINE_ARENA_MB if it was set.", h);
            last_arena_warn = now;
        }
        return 1;
    }
    if (server_over_safety_limit()) {
        static long long last_warn;
        long long now = mstime();
        if (now - last_warn > 10000) {
            char h[32];
            bytes_human(h, sizeof(h), srv.safety_limit);
            serverLog(LL_WARNING,
                      "Memory reached the safety limit (%s) derived from physical/cgroup memory: refusing writes "
                      "with -OOM, still serving reads. Set maxmemory and a policy to evict instead.", h);
            last_warn = now;
        }
        return 1;
    }
    return 0;
}
