/* activeexpire: see activeexpire.h. */
#include "keyspace/activeexpire.h"
#include "keyspace/db.h"
#include "server/server.h"
#include "util/mem.h"

#define BUCKETS_PER_STEP 16
#define FAST_DURATION_US 1000

static int timelimit_exit;
static long long last_fast_us;

typedef struct sampled {
    handle_t h[BUCKETS_PER_STEP * BUCKET_SLOTS];
    int n;
} sampled;

static void collect(void *ud, handle_t h) {
    sampled *s = ud;
    if (s->n < (int)(sizeof(s->h) / sizeof(s->h[0]))) s->h[s->n++] = h;
}

void active_expire_cycle(int type) {
    if (!srv.active_expire_enabled || server_paused()) return; /* CLIENT PAUSE keeps the dataset still */
    int effort = srv.active_expire_effort - 1;
    long long start = ustime();
    long long limit;
    if (type == EXPIRE_FAST) {
        if (!timelimit_exit) return;
        if (start < last_fast_us + FAST_DURATION_US * 2) return;
        last_fast_us = start;
        limit = FAST_DURATION_US + FAST_DURATION_US / 4 * effort;
    } else {
        int perc = 25 + 2 * effort;
        limit = 1000000LL * perc / (srv.hz ? srv.hz : 10) / 100;
        if (limit <= 0) limit = 1;
    }
    int acceptable_stale = 10 - effort;
    timelimit_exit = 0;
    long long total_sampled = 0, total_expired = 0;
    srv.cmd_now_ms = mstime();
    for (int i = 0; i < srv.dbnum && !timelimit_exit; i++) {
        db *d = &srv.dbs[i];
        int iterations = 0;
        for (;;) {
            if (!d->t.nttl) break;
            sampled s;
            s.n = 0;
            d->expire_cursor = kt_scan_ttl(&d->t, d->expire_cursor, BUCKETS_PER_STEP, collect, &s);
            long long expired = 0, ttl_sum = 0, ttl_n = 0;
            for (int k = 0; k < s.n; k++) {
                uint8_t *e = arena_ptr(s.h[k]);
                long long when = e_ttl(e);
                if (srv.cmd_now_ms > when) {
                    size_t klen;
                    keybuf key_kb;
                    const char *key = e_keyb(e, &key_kb, &klen);
                    kref r;
                    db_lookup(d, key, klen, LOOKUP_NOTOUCH | LOOKUP_NOSTATS, &r); /* deletes it */
                    expired++;
                } else {
                    ttl_sum += when - srv.cmd_now_ms;
                    ttl_n++;
                }
            }
            if (ttl_n) {
                long long avg = ttl_sum / ttl_n;
                d->avg_ttl = d->avg_ttl ? (d->avg_ttl / 50) * 49 + avg / 50 : avg;
            }
            total_sampled += s.n;
            total_expired += expired;
            if (d->expire_cursor == 0 && s.n == 0) break;
            if ((++iterations & 15) == 0 && ustime() - start > limit) {
                timelimit_exit = 1;
                srv.stat_expired_time_cap_reached++;
                break;
            }
            /* Keep going while this database still has many expired keys, or until a pass ends. */
            if (d->expire_cursor == 0) break;
            if (s.n > 0 && expired * 100 / s.n <= acceptable_stale && iterations >= 4) break;
        }
    }
    long long perc = total_sampled ? total_expired * 10000 / total_sampled : 0;
    srv.stat_expired_stale_perc_x100 = (srv.stat_expired_stale_perc_x100 * 95 + perc * 5) / 100;
    server_latency_event("expire-cycle", (ustime() - start) / 1000);
}
