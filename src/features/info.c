/* info: the INFO command's sections, with the field names and formats that
 * tools parse (redis-cli, exporters, kvbench).  Sardine adds a few fields of
 * its own (prefixed sardine_ or keyspace_ / arena_), after Redis's. */
#include "features/tracking.h"
#include "features/saving.h"
#include "persist/snapshot.h"
#include "commands/command.h"
#include "commands/commands.h"
#include "keyspace/defrag.h"
#include "mem/arena.h"
#include "protocol/reply.h"
#include "net/eventloop.h"
#include "persist/aof.h"
#include "server/bio.h"
#include "features/blocking.h"
#include "features/eval.h"
#include "features/functions.h"
#include "features/latency.h"
#include "features/pubsub.h"
#include "server/server.h"
#include "types/zstr.h"
#include "util/dict.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + (size_t)(n > 0 ? n : 256);
        b->p = s_realloc(b->p, b->cap);
    }
}

static const char *policy_name(void) {
    static const char *names[] = {"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
                                  "allkeys-lru",  "allkeys-lfu",  "allkeys-random",  "noeviction"};
    return names[srv.maxmemory_policy];
}

static size_t keyspace_table_bytes(void) {
    size_t n = 0;
    for (int i = 0; i < srv.dbnum; i++) n += srv.dbs[i].t.bytes;
    return n;
}

static size_t clients_memory(void) {
    size_t n = 0;
    for (size_t i = 0; i < srv.nclients; i++) {
        client *c = srv.clients[i];
        n += sizeof(client) + c->qcap + c->ocap;
    }
    return n;
}

static double tv_sec(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1000000.0; }

static int want(const char *name, int argc, arg *argv, int *dflt) {
    (void)dflt;
    if (argc == 0) return strcmp(name, "commandstats") != 0 && strcmp(name, "latencystats") != 0;
    for (int i = 0; i < argc; i++) {
        if (arg_is(&argv[i], "all") || arg_is(&argv[i], "everything")) return 1;
        if (arg_is(&argv[i], "default"))
            if (strcmp(name, "commandstats") != 0 && strcmp(name, "latencystats") != 0) return 1;
        if (arg_is(&argv[i], name)) return 1;
    }
    return 0;
}

static void section(sbuf *b, const char *title) {
    if (b->len) sb_printf(b, "\r\n");
    sb_printf(b, "# %s\r\n", title);
}

char *server_info_text(int argc, arg *argv) {
    sbuf b = {s_malloc(4096), 0, 4096};
    b.p[0] = 0;
    long long now_us = ustime();
    int d = 0;
    if (want("server", argc, argv, &d)) {
        struct utsname un;
        uname(&un);
        section(&b, "Server");
        sb_printf(&b,
                  "redis_version:%s\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\n"
                  "redis_mode:standalone\r\nos:%s %s %s\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\n"
                  "multiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\ngcc_version:%d.%d.%d\r\nprocess_id:%d\r\n"
                  "process_supervised:no\r\nrun_id:%s\r\ntcp_port:%d\r\nserver_time_usec:%lld\r\n"
                  "uptime_in_seconds:%lld\r\nuptime_in_days:%lld\r\nhz:%d\r\nconfigured_hz:%d\r\nlru_clock:%u\r\n"
                  "executable:%s\r\nconfig_file:%s\r\nio_threads_active:0\r\nsardine_version:%s\r\n",
                  SARDINE_VERSION, un.sysname, un.release, un.machine, __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
                  (int)srv.pid, srv.runid, srv.port, now_us, (long long)(time(NULL) - srv.start_time),
                  (long long)(time(NULL) - srv.start_time) / 86400, srv.hz, srv.config_hz, srv.lruclock,
                  srv.executable, srv.configfile ? srv.configfile : "", SARDINE_REAL_VERSION);
    }
    if (want("clients", argc, argv, &d)) {
        size_t maxin = 0, maxout = 0;
        for (size_t i = 0; i < srv.nclients; i++) {
            if (srv.clients[i]->qcap > maxin) maxin = srv.clients[i]->qcap;
            if (srv.clients[i]->ocap > maxout) maxout = srv.clients[i]->ocap;
        }
        section(&b, "Clients");
        sb_printf(&b,
                  "connected_clients:%zu\r\ncluster_connections:0\r\nmaxclients:%d\r\n"
                  "client_recent_max_input_buffer:%zu\r\nclient_recent_max_output_buffer:%zu\r\nblocked_clients:%zu\r\n"
                  "tracking_clients:%lld\r\nclients_in_timeout_table:0\r\n",
                  srv.nclients, srv.maxclients, maxin, maxout, blocking_client_count(), tracking_clients_count());
    }
    if (want("memory", argc, argv, &d)) {
        mem_stats ms;
        s_allocator_stats(&ms);
        size_t used = server_used_memory(), rss = s_process_rss();
        if (used > srv.peak_memory) srv.peak_memory = used;
        char h1[32], h2[32], h3[32], h4[32], h5[32], h6[32];
        bytes_human(h1, sizeof(h1), used);
        bytes_human(h2, sizeof(h2), rss);
        bytes_human(h3, sizeof(h3), srv.peak_memory);
        long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
        unsigned long long total = (unsigned long long)pages * (unsigned long long)psize;
        bytes_human(h4, sizeof(h4), total);
        bytes_human(h5, sizeof(h5), srv.maxmemory);
        bytes_human(h6, sizeof(h6), srv.safety_limit);
        size_t table = keyspace_table_bytes(), cl = clients_memory();
        size_t overhead = table + cl, dataset = used > overhead ? used - overhead : 0;
        size_t allocated = ms.allocated + arena_live_bytes(), active = ms.active + arena_pages_bytes(),
               resident = ms.resident + arena_pages_bytes();
        size_t lua_mem = eval_lua_memory(), scripts_mem = eval_scripts_memory();
        char hl1[32], hl2[32], hl3[32];
        bytes_human(hl1, sizeof(hl1), lua_mem);
        bytes_human(hl2, sizeof(hl2), lua_mem + 32768);
        bytes_human(hl3, sizeof(hl3), scripts_mem);
        section(&b, "Memory");
        sb_printf(&b,
                  "used_memory:%zu\r\nused_memory_human:%s\r\nused_memory_rss:%zu\r\nused_memory_rss_human:%s\r\n"
                  "used_memory_peak:%zu\r\nused_memory_peak_human:%s\r\nused_memory_peak_perc:%.2f%%\r\n"
                  "used_memory_overhead:%zu\r\nused_memory_startup:0\r\nused_memory_dataset:%zu\r\n"
                  "used_memory_dataset_perc:%.2f%%\r\nallocator_allocated:%zu\r\nallocator_active:%zu\r\n"
                  "allocator_resident:%zu\r\ntotal_system_memory:%llu\r\ntotal_system_memory_human:%s\r\n"
                  "used_memory_lua:%zu\r\nused_memory_vm_eval:%zu\r\nused_memory_lua_human:%s\r\n"
                  "used_memory_scripts_eval:%zu\r\nnumber_of_cached_scripts:%zu\r\nnumber_of_functions:%zu\r\n"
                  "number_of_libraries:%zu\r\nused_memory_vm_functions:32768\r\nused_memory_vm_total:%zu\r\n"
                  "used_memory_vm_total_human:%s\r\nused_memory_functions:%zu\r\nused_memory_scripts:%zu\r\n"
                  "used_memory_scripts_human:%s\r\nmaxmemory:%llu\r\nmaxmemory_human:%s\r\nmaxmemory_policy:%s\r\n"
                  "allocator_frag_ratio:%.2f\r\nallocator_frag_bytes:%zd\r\nallocator_rss_ratio:%.2f\r\n"
                  "allocator_rss_bytes:%zd\r\nrss_overhead_ratio:%.2f\r\nrss_overhead_bytes:%zd\r\n"
                  "mem_fragmentation_ratio:%.2f\r\nmem_fragmentation_bytes:%zd\r\nmem_not_counted_for_evict:0\r\n"
                  "mem_replication_backlog:0\r\nmem_total_replication_buffers:0\r\nmem_clients_slaves:0\r\n"
                  "mem_clients_normal:%zu\r\nmem_cluster_links:0\r\nmem_aof_buffer:0\r\nmem_allocator:%s\r\n"
                  "active_defrag_running:%d\r\nlazyfree_pending_objects:%zu\r\nlazyfreed_objects:%lld\r\n"
                  "keyspace_table_bytes:%zu\r\nkeyspace_entries_bytes:%zu\r\narena_pages_bytes:%zu\r\n"
                  "maxmemory_safety_limit:%llu\r\nmaxmemory_safety_limit_human:%s\r\noom_safety_limit_reached:%d\r\n",
                  used, h1, rss, h2, srv.peak_memory, h3,
                  srv.peak_memory ? (double)used * 100 / (double)srv.peak_memory : 0.0, overhead, dataset,
                  used ? (double)dataset * 100 / (double)used : 0.0, allocated, active, resident, total, h4,
                  lua_mem, lua_mem, hl1, scripts_mem, eval_scripts_count(), functions_count(), libraries_count(),
                  lua_mem + 32768, hl2, functions_memory(), scripts_mem + functions_memory(), hl3,
                  srv.maxmemory, h5, policy_name(), allocated ? (double)active / (double)allocated : 0.0,
                  (ssize_t)(active - allocated), active ? (double)resident / (double)active : 0.0,
                  (ssize_t)(resident - active), resident ? (double)rss / (double)resident : 0.0,
                  (ssize_t)(rss - resident), used ? (double)rss / (double)used : 0.0, (ssize_t)(rss - used), cl,
                  s_allocator_name(), defrag_running(), bio_pending() + db_lazyfree_pending(), __atomic_load_n(&srv.stat_lazyfreed_objects, __ATOMIC_RELAXED), table,
                  arena_live_bytes(), arena_pages_bytes(), srv.safety_limit, h6,
                  server_over_safety_limit());
        zstr_stats zs; /* Sardine's own: value-compression (types/zstr.h) */
        zstr_get_stats(&zs);
        sb_printf(&b,
                  "value_compression:%s\r\ncompressed_values:%lld\r\ncompressed_values_bytes:%lld\r\n"
                  "compressed_values_original_bytes:%lld\r\ncompression_ratio:%.2f\r\ncompression_rejected:%lld\r\n"
                  "compression_dict:%s\r\ncompression_dicts:%d\r\ncompression_dicts_bytes:%zu\r\n",
                  zparams.algo == ZCOMP_ZSTD ? "zstd" : "no", zs.values, zs.bytes_out, zs.bytes_in,
                  zs.bytes_out ? (double)zs.bytes_in / (double)zs.bytes_out : 0.0, zs.rejected, zs.dict_state, zs.dicts,
                  zs.dict_bytes);
    }
    if (want("persistence", argc, argv, &d)) {
        section(&b, "Persistence");
        const saving_stats *ss = saving_get_stats();
        uint64_t done, total, early; /* a running snapshot: copies before writes stand for copy-on-write */
        snapshot_progress(&done, &total, &early);
        char loading[512] = "";
        if (srv.loading) { /* Redis's extra fields while loading */
            long long total = ss->loading_total_bytes, done = ss->loading_loaded_bytes;
            long long elapsed = time(NULL) - ss->loading_start_time;
            double perc = total ? (double)done * 100 / (double)total : 0;
            long long eta = done && elapsed ? (long long)((double)(total - done) * (double)elapsed / (double)done) : 1;
            snprintf(loading, sizeof(loading),
                     "loading_start_time:%lld\r\nloading_total_bytes:%lld\r\nloading_rdb_used_mem:0\r\n"
                     "loading_loaded_bytes:%lld\r\nloading_loaded_perc:%.2f\r\nloading_eta_seconds:%lld\r\n",
                     ss->loading_start_time, total, done, perc, eta);
        }
        sb_printf(&b,
                  "loading:%d\r\nasync_loading:0\r\ncurrent_cow_peak:%llu\r\ncurrent_cow_size:%llu\r\n"
                  "current_cow_size_age:0\r\ncurrent_fork_perc:%.2f\r\ncurrent_save_keys_processed:%llu\r\n"
                  "current_save_keys_total:%llu\r\nrdb_changes_since_last_save:%lld\r\nrdb_bgsave_in_progress:%d\r\n"
                  "rdb_last_save_time:%lld\r\nrdb_last_bgsave_status:%s\r\nrdb_last_bgsave_time_sec:%lld\r\n"
                  "rdb_current_bgsave_time_sec:%lld\r\nrdb_saves:%lld\r\nrdb_last_cow_size:%llu\r\n"
                  "rdb_last_load_keys_expired:%lld\r\nrdb_last_load_keys_loaded:%lld\r\n",
                  srv.loading, (unsigned long long)early, (unsigned long long)early,
                  total ? (double)done * 100 / (double)total : 0.0, (unsigned long long)done, (unsigned long long)total,
                  srv.dirty, saving_bgsave_running(), ss->lastsave, ss->last_bgsave_ok ? "ok" : "err",
                  ss->last_bgsave_time_sec, ss->bgsave_start_ms ? (mstime() - ss->bgsave_start_ms) / 1000 : -1,
                  ss->saves, (unsigned long long)snapshot_last_early_bytes(), ss->last_load_keys_expired, ss->last_load_keys_loaded);
        aof_status as;
        aof_get_status(&as);
        sb_printf(&b,
                  "aof_enabled:%d\r\naof_rewrite_in_progress:%d\r\naof_rewrite_scheduled:%d\r\n"
                  "aof_last_rewrite_time_sec:%lld\r\naof_current_rewrite_time_sec:%lld\r\n"
                  "aof_last_bgrewrite_status:%s\r\naof_rewrites:%lld\r\naof_rewrites_consecutive_failures:%lld\r\n"
                  "aof_last_write_status:%s\r\naof_last_cow_size:0\r\n"
                  "module_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
                  as.enabled, as.rewrite_in_progress, as.rewrite_scheduled, as.last_rewrite_time_sec,
                  as.current_rewrite_time_sec, as.last_bgrewrite_ok ? "ok" : "err", as.rewrites,
                  as.rewrites_consecutive_failures, as.last_write_ok ? "ok" : "err");
        if (as.enabled)
            sb_printf(&b,
                      "aof_current_size:%lld\r\naof_base_size:%lld\r\naof_pending_rewrite:%d\r\n"
                      "aof_buffer_length:%zu\r\naof_pending_bio_fsync:%llu\r\naof_delayed_fsync:%lu\r\n",
                      as.current_size, as.base_size, as.rewrite_scheduled, as.buffer_length, as.pending_bio_fsync,
                      as.delayed_fsync);
        sb_printf(&b, "%s", loading);
    }
    if (want("stats", argc, argv, &d)) {
        const defrag_stats *ds = defrag_get_stats();
        long long ops = 0, in = 0, out = 0;
        int n = srv.stat_sample_idx < 16 ? srv.stat_sample_idx : 16;
        for (int i = 0; i < n; i++) {
            ops += srv.stat_ops_samples[i];
            in += srv.stat_in_samples[i];
            out += srv.stat_out_samples[i];
        }
        if (n) ops /= n, in /= n, out /= n;
        section(&b, "Stats");
        sb_printf(&b,
                  "total_connections_received:%lld\r\ntotal_commands_processed:%lld\r\ninstantaneous_ops_per_sec:%lld\r\n"
                  "total_net_input_bytes:%lld\r\ntotal_net_output_bytes:%lld\r\ntotal_net_repl_input_bytes:0\r\n"
                  "total_net_repl_output_bytes:0\r\ninstantaneous_input_kbps:%.2f\r\ninstantaneous_output_kbps:%.2f\r\n"
                  "instantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\n"
                  "rejected_connections:%lld\r\nsync_full:0\r\nsync_partial_ok:0\r\nsync_partial_err:0\r\n"
                  "expired_keys:%lld\r\nexpired_stale_perc:%.2f\r\nexpired_time_cap_reached_count:%lld\r\n"
                  "expire_cycle_cpu_milliseconds:0\r\nevicted_keys:%lld\r\nevicted_clients:0\r\n"
                  "total_eviction_exceeded_time:%lld\r\ncurrent_eviction_exceeded_time:0\r\nkeyspace_hits:%lld\r\n"
                  "keyspace_misses:%lld\r\npubsub_channels:%zu\r\npubsub_patterns:%zu\r\npubsubshard_channels:%zu\r\n"
                  "latest_fork_usec:%lld\r\ntotal_forks:%lld\r\nmigrate_cached_sockets:0\r\nslave_expires_tracked_keys:0\r\n"
                  "active_defrag_hits:%llu\r\nactive_defrag_misses:%llu\r\nactive_defrag_key_hits:%llu\r\n"
                  "active_defrag_key_misses:%llu\r\ntotal_active_defrag_time:%lld\r\ncurrent_active_defrag_time:%lld\r\n"
                  "tracking_total_keys:%llu\r\ntracking_total_items:%llu\r\ntracking_total_prefixes:%llu\r\n"
                  "unexpected_error_replies:%lld\r\ntotal_error_replies:%lld\r\ndump_payload_sanitizations:0\r\n"
                  "total_reads_processed:%lld\r\ntotal_writes_processed:%lld\r\nio_threaded_reads_processed:0\r\n"
                  "io_threaded_writes_processed:0\r\nreply_buffer_shrinks:0\r\nreply_buffer_expands:0\r\n"
                  "client_query_buffer_limit_disconnections:%lld\r\nclient_output_buffer_limit_disconnections:%lld\r\n"
                  "oom_rejections:%lld\r\neventloop_cycles:%lld\r\neventloop_duration_max_usec:%lld\r\neventloop_duration_cpu_max_usec:%lld\r\n",
                  srv.stat_numconnections, srv.stat_numcommands, ops, srv.stat_net_input_bytes,
                  srv.stat_net_output_bytes, (double)in / 1024, (double)out / 1024, srv.stat_rejected_conn,
                  srv.stat_expiredkeys, (double)srv.stat_expired_stale_perc_x100 / 100,
                  srv.stat_expired_time_cap_reached, srv.stat_evictedkeys, srv.stat_evictions_time_us / 1000,
                  srv.stat_keyspace_hits, srv.stat_keyspace_misses, pubsub_channels_count(), pubsub_patterns_count(),
                  pubsub_shard_channels_count(), saving_get_stats()->latest_fork_usec,
                  saving_get_stats()->total_forks, (unsigned long long)ds->hits, (unsigned long long)ds->misses,
                  (unsigned long long)ds->key_hits, (unsigned long long)ds->key_misses,
                  (ds->total_us + (ds->current_start_us ? monotonic_us() - ds->current_start_us : 0)) / 1000,
                  ds->current_start_us ? (monotonic_us() - ds->current_start_us) / 1000 : 0LL,
                  (unsigned long long)tracking_total_keys(), (unsigned long long)tracking_total_items(),
                  (unsigned long long)tracking_total_prefixes(),
                  srv.stat_unexpected_error_replies,
                  srv.stat_total_error_replies, srv.stat_io_reads, srv.stat_io_writes,
                  srv.stat_client_qbuf_limit_disconnections, srv.stat_client_outbuf_limit_disconnections,
                  srv.stat_oom_rejections, el_iterations(srv.el), el_max_iteration_us(srv.el),
                  el_max_iteration_cpu_us(srv.el));
    }
    if (want("replication", argc, argv, &d)) {
        section(&b, "Replication");
        sb_printf(&b,
                  "role:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_replid:%s\r\n"
                  "master_replid2:0000000000000000000000000000000000000000\r\nmaster_repl_offset:0\r\n"
                  "second_repl_offset:-1\r\nrepl_backlog_active:0\r\nrepl_backlog_size:1048576\r\n"
                  "repl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n",
                  srv.runid);
    }
    if (want("cpu", argc, argv, &d)) {
        struct rusage self, children;
        getrusage(RUSAGE_SELF, &self);
        getrusage(RUSAGE_CHILDREN, &children);
#ifdef RUSAGE_THREAD
        struct rusage th;
        getrusage(RUSAGE_THREAD, &th);
#else
        struct rusage th = self;
#endif
        section(&b, "CPU");
        sb_printf(&b,
                  "used_cpu_sys:%.6f\r\nused_cpu_user:%.6f\r\nused_cpu_sys_children:%.6f\r\n"
                  "used_cpu_user_children:%.6f\r\nused_cpu_sys_main_thread:%.6f\r\nused_cpu_user_main_thread:%.6f\r\n",
                  tv_sec(self.ru_stime), tv_sec(self.ru_utime), tv_sec(children.ru_stime), tv_sec(children.ru_utime),
                  tv_sec(th.ru_stime), tv_sec(th.ru_utime));
    }
    if (want("modules", argc, argv, &d)) section(&b, "Modules");
    if (want("commandstats", argc, argv, &d)) {
        section(&b, "Commandstats");
        int n;
        command **all = command_all(&n);
        for (int i = 0; i < n; i++) {
            command *cs[64];
            int k = 0;
            cs[k++] = all[i];
            for (command *s = all[i]->subcmds; s && s->name && k < 64; s++) cs[k++] = s;
            for (int j = 0; j < k; j++) {
                command *c = cs[j];
                if (!c->calls && !c->rejected && !c->failed) continue;
                sb_printf(&b, "cmdstat_%s:calls=%lld,usec=%lld,usec_per_call=%.2f,rejected_calls=%lld,failed_calls=%lld\r\n",
                          c->fullname, c->calls, c->usec, c->calls ? (double)c->usec / (double)c->calls : 0.0,
                          c->rejected, c->failed);
            }
        }
    }
    if (want("errorstats", argc, argv, &d)) {
        section(&b, "Errorstats");
        if (srv.errorstats)
            for (size_t i = 0; i < srv.errorstats->size; i++)
                for (dict_entry *e = srv.errorstats->tab[i]; e; e = e->next)
                    sb_printf(&b, "errorstat_%s:count=%llu\r\n", e->key, (unsigned long long)(uintptr_t)e->val);
    }
    if (want("latencystats", argc, argv, &d)) {
        section(&b, "Latencystats");
        char *lines = latency_stats_info();
        sb_printf(&b, "%s", lines);
        s_free(lines);
    }
    if (want("cluster", argc, argv, &d)) {
        section(&b, "Cluster");
        sb_printf(&b, "cluster_enabled:0\r\n");
    }
    if (want("keyspace", argc, argv, &d)) {
        section(&b, "Keyspace");
        for (int i = 0; i < srv.dbnum; i++) {
            db *dd = &srv.dbs[i];
            if (!dd->t.count) continue;
            sb_printf(&b, "db%d:keys=%zu,expires=%zu,avg_ttl=%lld\r\n", i, dd->t.count, dd->t.nttl,
                      dd->t.nttl ? dd->avg_ttl : 0);
        }
    }
    return b.p;
}

void cmd_info(client *c) {
    char *text = server_info_text(c->argc - 1, c->argv + 1);
    reply_verbatim(c, text, strlen(text), "txt");
    s_free(text);
}
