/* loop: the top of the server, where the layers meet: the state built at
 * startup, the cron (hz times a second: metrics, paused clients, client
 * timeouts and limits, slow active expiry, arena pages back to the kernel,
 * a signalled shutdown) and the before-sleep hook (eviction, fast expiry,
 * blocked clients, closing and writing clients, a slice of lazy freeing),
 * and the server's reactions to CONFIG SET and CONFIG RESETSTAT.  Nothing
 * below calls into this file: it installs itself as the event loop's and
 * the config's hooks. */
#include "features/acl.h"
#include "features/saving.h"
#include "app/loop.h"
#include "commands/command.h"
#include "commands/commands.h"
#include "features/blocking.h"
#include "features/pubsub.h"
#include "features/config.h"
#include "features/latency.h"
#include "features/replsync.h"
#include "features/tracking.h"
#include "keyspace/activeexpire.h"
#include "keyspace/db.h"
#include "keyspace/defrag.h"
#include "keyspace/evict.h"
#include "mem/arena.h"
#include "net/client.h"
#include "net/eventloop.h"
#include "persist/aof.h"
#include "persist/snapshot.h"
#include "server/bio.h"
#include "server/server.h"
#include "util/dict.h"
#include "util/mem.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

static void server_reset_stats(void) {
    srv.stat_numcommands = srv.stat_numconnections = srv.stat_rejected_conn = srv.stat_expiredkeys = 0;
    srv.stat_evictedkeys = srv.stat_keyspace_hits = srv.stat_keyspace_misses = 0;
    srv.stat_net_input_bytes = srv.stat_net_output_bytes = srv.stat_total_error_replies = 0;
    srv.stat_expired_time_cap_reached = srv.stat_expired_stale_perc_x100 = 0;
    srv.stat_client_qbuf_limit_disconnections = srv.stat_client_outbuf_limit_disconnections = 0;
    srv.stat_oom_rejections = srv.stat_evictions_time_us = 0;
    __atomic_store_n(&srv.stat_lazyfreed_objects, 0, __ATOMIC_RELAXED); /* the background thread adds to it */
    srv.stat_io_reads = srv.stat_io_writes = 0;
    srv.peak_memory = server_used_memory();
    el_reset_stats(srv.el);
    defrag_reset_stats();
    if (srv.errorstats) {
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

static void release_arena_pages(void *a, void *b) {
    (void)a;
    (void)b;
    arena_release_run();
}

static int server_cron(void) {
    server_update_cached_time();
    if (srv.pause_cron) return 1000 / (srv.hz > 0 ? srv.hz : 10); /* DEBUG PAUSE-CRON 1 */
    srv.cronloops++;
    track_metrics();
    sample_memory();
    if (srv.paused_until_ms && mstime() >= srv.paused_until_ms) {
        srv.paused_until_ms = 0;
        srv.pause_all = 0;
        clients_resume_paused();
    }
    clients_cron();
    tracking_cron(); /* tracking-table-max-keys */
    pubsub_cron();
    migrate_close_idle();
    active_expire_cycle(EXPIRE_SLOW);
    aof_cron();
    saving_cron();
    replsync_cron(); /* after saving_cron: a scheduled BGSAVE goes first */
    defrag_cron(snapshot_running());
    arena_set_pool_reserve(srv.active_defrag_enabled ? 8 : 64, srv.active_defrag_enabled ? 64 : 16);
    /* Empty arena pages beyond the reserve go back to the kernel from the background thread, 64 at a time. */
    if (arena_release_finish() && arena_release_prepare(64)) bio_submit(release_arena_pages, NULL, NULL);
    if (srv.shutdown_asap) {
        serverLog(LL_WARNING, "%s", srv.last_signal == SIGINT    ? "Received SIGINT scheduling shutdown..."
                                    : srv.last_signal == SIGTERM ? "Received SIGTERM scheduling shutdown..."
                                                                 : "Received shutdown signal, scheduling shutdown...");
        int flags = srv.last_signal == SIGINT ? srv.shutdown_on_sigint : srv.shutdown_on_sigterm;
        if (aof_before_shutdown(flags & SHUTDOWN_FORCE) == 0 && saving_before_shutdown(flags) == 0) shutdown_now(0);
        serverLog(LL_WARNING, "SIGTERM received but errors trying to shut down the server, check the logs for more information");
        srv.shutdown_asap = 0;
    }
    return 1000 / (srv.hz > 0 ? srv.hz : 10);
}

static void before_sleep(void) {
    int left = clients_run_left_input(); /* the next slice of pipelines that outlasted theirs */
    sample_memory();
    if (srv.maxmemory && srv.maxmemory_policy != MM_NOEVICTION) evict_perform();
    active_expire_cycle(EXPIRE_FAST);
    blocking_check_timeouts();
    blocking_serve_ready();
    int busy = tracking_before_sleep(); /* BCAST invalidations before the replies go out */
    busy |= left;
    clients_free_closed();
    aof_flush(0); /* the AOF before any reply of the commands it holds (appendfsync always: fsynced too) */
    clients_handle_pending_writes();
    clients_free_closed();
    /* Replies are out first; then one short slice of background freeing (~0.1-0.3 ms). */
    busy |= db_lazyfree_step(5000);
    busy |= saving_step(); /* one slice of a running snapshot (~1 ms) */
    int wait = -1;
    busy |= defrag_step(snapshot_running(), &wait); /* one step of active defragmentation (<= 0.5 ms), within its share of time */
    el_set_busy(srv.el, busy);
    if (blocking_client_count() && (wait < 0 || wait > 10)) wait = 10; /* timeouts of blocked clients to ~10 ms */
    el_set_max_wait(srv.el, wait);
}

/* Called by CONFIG SET after a directive changed. */
static void server_config_changed(const char *name) {
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
    } else if (!strcmp(name, "requirepass")) {
        acl_set_default_password(srv.requirepass); /* the default user's password, as Redis */
    }
}

static const config_hooks config_reactions = {.changed = server_config_changed, .reset_stats = server_reset_stats};

void server_install_loop_hooks(void) {
    el_set_timer(srv.el, server_cron, 1);
    el_set_before_sleep(srv.el, before_sleep);
    el_set_long_iteration(srv.el, latency_eventloop_sample);
    srv.latency_sample = latency_add_sample; /* expire-cycle, eviction-cycle from the keyspace layer */
    config_set_hooks(&config_reactions);
}
