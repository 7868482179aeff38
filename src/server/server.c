/* server: process state, time, logging, the cron and the before-sleep hook,
 * memory accounting and the safety limit.
 *
 * Memory: used_memory is heap bytes (every s_malloc'd block at its usable
 * size) plus the arena's live entry bytes; it is what maxmemory and eviction
 * compare against.  With no maxmemory configured the server still refuses
 * writes (with the OOM error) once its memory reaches the safety limit, 90%
 * of the physical memory or of the cgroup's limit, whichever is lower, so the
 * kernel's OOM killer never has to step in (the seed's failure). */
#include "server/server.h"
#include "keyspace/activeexpire.h"
#include "keyspace/evict.h"
#include "mem/arena.h"
#include "net/client.h"
#include "net/eventloop.h"
#include "server/bio.h"
#include "server/blocking.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

server srv;

long long ustime(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

long long mstime(void) { return ustime() / 1000; }

long long monotonic_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void server_update_cached_time(void) {
    long long ms = mstime();
    srv.lruclock = (unsigned int)((ms / 1000) & LRU_CLOCK_MAX);
}

void log_msg(int level, const char *fmt, ...) {
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    FILE *f = (srv.logfile && srv.logfile[0]) ? fopen(srv.logfile, "a") : stdout;
    if (!f) return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char ts[64];
    size_t off = strftime(ts, sizeof(ts), "%d %b %Y %H:%M:%S.", &tm);
    snprintf(ts + off, sizeof(ts) - off, "%03d", (int)tv.tv_usec / 1000);
    static const char marks[] = ".-*#";
    fprintf(f, "%d:%c %s %c %s\n", (int)getpid(), srv.el ? 'M' : 'C', ts, marks[level > 3 ? 3 : level], msg);
    fflush(f);
    if (f != stdout) fclose(f);
}

size_t server_used_memory(void) { return s_heap_used() + arena_live_bytes(); }

/* 1 when memory is past the safety limit (only in force with no maxmemory). */
int server_over_safety_limit(void) {
    if (!srv.safety_limit) return 0;
    size_t used = server_used_memory();
    /* used_memory decides; RSS only when it is well past the limit while used_memory is near it too
     * (after deletes RSS stays high, but the freed memory is reused, not added). */
    return used > srv.safety_limit ||
           (srv.rss_cached > srv.safety_limit + srv.safety_limit / 20 && used > srv.safety_limit / 10 * 8);
}

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

static unsigned long long read_ull_file(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char buf[64] = "";
    unsigned long long v = 0;
    if (fgets(buf, sizeof(buf), f) && strncmp(buf, "max", 3) != 0) v = strtoull(buf, NULL, 10);
    fclose(f);
    return v;
}

static unsigned long long physical_memory(void) {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    unsigned long long phys = pages > 0 && size > 0 ? (unsigned long long)pages * (unsigned long long)size : 0;
    unsigned long long cg = read_ull_file("/sys/fs/cgroup/memory.max");
    if (!cg) cg = read_ull_file("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    if (cg && cg < phys) phys = cg;
    return phys;
}

void server_compute_safety_limit(void) {
    srv.safety_limit = 0;
    if (srv.maxmemory) return;
    if (srv.safety_limit_config >= 0) {
        srv.safety_limit = (unsigned long long)srv.safety_limit_config;
        return;
    }
    unsigned long long phys = physical_memory();
    if (phys) srv.safety_limit = phys / 10 * 9;
}

void server_init_state(void) {
    srv.pid = getpid();
    srv.start_time = time(NULL);
    srv.start_ms = mstime();
    srv.next_client_id = 1;
    srv.unix_fd = -1;
    srv.active_expire_enabled = 1;
    static const char hex[] = "0123456789abcdef";
    FILE *f = fopen("/dev/urandom", "r");
    for (int i = 0; i < 40; i++) {
        int ch = f ? fgetc(f) : rand();
        srv.runid[i] = hex[(ch < 0 ? rand() : ch) & 15];
    }
    srv.runid[40] = 0;
    if (f) fclose(f);
    srv.dbs = s_calloc(sizeof(db) * (size_t)srv.dbnum);
    for (int i = 0; i < srv.dbnum; i++) db_init(&srv.dbs[i], i);
    server_compute_safety_limit();
    server_update_cached_time();
}

void server_reset_stats(void) {
    extern void commands_reset_stats(void);
    srv.stat_numcommands = srv.stat_numconnections = srv.stat_rejected_conn = srv.stat_expiredkeys = 0;
    srv.stat_evictedkeys = srv.stat_keyspace_hits = srv.stat_keyspace_misses = 0;
    srv.stat_net_input_bytes = srv.stat_net_output_bytes = srv.stat_total_error_replies = 0;
    srv.stat_expired_time_cap_reached = srv.stat_expired_stale_perc_x100 = 0;
    srv.stat_client_qbuf_limit_disconnections = srv.stat_client_outbuf_limit_disconnections = 0;
    srv.stat_oom_rejections = srv.stat_evictions_time_us = srv.stat_lazyfreed_objects = 0;
    srv.stat_io_reads = srv.stat_io_writes = 0;
    srv.peak_memory = server_used_memory();
    el_reset_stats(srv.el);
    if (srv.errorstats) {
        extern void dict_free(struct dict *, void (*)(void *));
        dict_free(srv.errorstats, NULL);
        srv.errorstats = NULL;
    }
    commands_reset_stats();
}

/* Samples for instantaneous_ops_per_sec & co (one every 100 ms, 16 kept). */
static void track_metrics(void) {
    long long now = mstime();
    if (now - srv.stat_last_sample_ms < 100) return;
    long long dt = now - srv.stat_last_sample_ms;
    if (srv.stat_last_sample_ms) {
        int i = srv.stat_sample_idx % 16;
        srv.stat_ops_samples[i] = (srv.stat_numcommands - srv.stat_last_ops) * 1000 / dt;
        srv.stat_in_samples[i] = (srv.stat_net_input_bytes - srv.stat_last_in) * 1000 / dt;
        srv.stat_out_samples[i] = (srv.stat_net_output_bytes - srv.stat_last_out) * 1000 / dt;
        srv.stat_sample_idx++;
    }
    srv.stat_last_sample_ms = now;
    srv.stat_last_ops = srv.stat_numcommands;
    srv.stat_last_in = srv.stat_net_input_bytes;
    srv.stat_last_out = srv.stat_net_output_bytes;
}

static long long last_rss_us;

static void sample_memory(void) {
    long long now = monotonic_us();
    if (now - last_rss_us >= 10000) {
        srv.rss_cached = s_process_rss();
        last_rss_us = now;
    }
    size_t used = server_used_memory();
    if (used > srv.peak_memory) {
        srv.peak_memory = used;
        srv.peak_time = mstime();
    }
}

extern void shutdown_now(int exit_code);

static int server_cron(void) {
    server_update_cached_time();
    srv.cronloops++;
    track_metrics();
    sample_memory();
    if (srv.paused_until_ms && mstime() >= srv.paused_until_ms) {
        srv.paused_until_ms = 0;
        srv.pause_all = 0;
        clients_resume_paused();
    }
    clients_cron();
    active_expire_cycle(EXPIRE_SLOW);
    arena_release_free_pages();
    if (srv.shutdown_asap) {
        serverLog(LL_WARNING, "Received SIGTERM scheduling shutdown...");
        shutdown_now(0);
    }
    return 1000 / (srv.hz > 0 ? srv.hz : 10);
}

static void before_sleep(void) {
    sample_memory();
    if (srv.maxmemory && srv.maxmemory_policy != MM_NOEVICTION) evict_perform();
    active_expire_cycle(EXPIRE_FAST);
    blocking_check_timeouts();
    blocking_serve_ready();
    clients_free_closed();
    clients_handle_pending_writes();
    clients_free_closed();
    /* Replies are out first; then one short slice of background freeing (~0.1-0.3 ms). */
    int busy = db_lazyfree_step(5000);
    el_set_busy(srv.el, busy);
    el_set_max_wait(srv.el, blocking_client_count() ? 10 : -1); /* timeouts of blocked clients to ~10 ms */
}

void server_install_loop_hooks(void) {
    el_set_timer(srv.el, server_cron, 1);
    el_set_before_sleep(srv.el, before_sleep);
}

/* Called by CONFIG SET after a directive changed. */
void server_config_changed(const char *name) {
    if (!strcmp(name, "maxmemory-safety-limit")) {
        server_compute_safety_limit();
    } else if (!strcmp(name, "maxmemory")) {
        server_compute_safety_limit();
        if (srv.maxmemory && server_used_memory() > srv.maxmemory)
            serverLog(LL_WARNING, "WARNING: the new maxmemory value set via CONFIG SET (%llu) is smaller than the "
                                  "current memory usage (%zu). This will result in key eviction and/or the inability "
                                  "to accept new write commands depending on the maxmemory-policy.",
                      srv.maxmemory, server_used_memory());
        evict_perform();
    } else if (!strcmp(name, "hz")) {
        if (srv.config_hz < 1) srv.config_hz = 1;
        if (srv.config_hz > 500) srv.config_hz = 500;
        srv.hz = srv.config_hz;
    } else if (!strcmp(name, "maxclients")) {
        el_resize(srv.el, srv.maxclients + 1024);
    }
}
