/* server_cmds: introspection and administration: DEBUG, SHUTDOWN, LASTSAVE,
 * the MEMORY container and the COMMAND container. */
#include "features/eval.h"
#include "persist/snapshot.h"
#include "features/saving.h"
#include "commands/command.h"
#include "commands/commands.h"
#include "commands/debug_cmds.h"
#include "commands/propagate.h"
#include "commands/restore_cmds.h"
#include "features/config.h"
#include "features/latency.h"
#include "persist/bgbuild.h"
#include "persist/rdb_load.h"
#include "keyspace/evict.h"
#include "mem/arena.h"
#include "persist/aof.h"
#include "protocol/reply.h"
#include "server/bio.h"
#include "server/server.h"
#include "server/supervise.h"
#include "types/object.h"
#include "types/tstring.h"
#include "util/glob.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* DEBUG LOADAOF runs the AOF loader, which sits above the commands: the top of the server installs it. */
static debug_loadaof_fn *loadaof_fn;
void debug_set_loadaof(debug_loadaof_fn *fn) { loadaof_fn = fn; }

void cmd_debug(client *c) {
    const arg *sub = &c->argv[1];
    if (arg_is(sub, "help")) {
        static const char *lines[] = {
            "CHECK-KEY <key>",
            "    Check the structure invariants of the key's value; reply OK or an error naming the broken one.",
            "CHECK-KEYSPACE",
            "    CHECK-KEY for every key of every database.",
            "DIGEST",
            "    Output a hex signature representing the current DB content.",
            "DIGEST-VALUE <key> [<key> ...]",
            "    Output a hex signature of the values of all the specified keys.",
            "POPULATE <count> [<prefix>] [<size>]",
            "    Create <count> string keys named key:<num>. If <prefix> is specified then it is used instead of",
            "    the 'key' prefix. These are not propagated to replicas. Cache will not be populated.",
            "OBJECT <key>",
            "    Show low level info about the key and associated value.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not accessed (otherwise the Redis",
            "    behavior). Setting it to 1 reenables back the default.",
            "APPLY-STREAM <0|1>",
            "    This connection applies a propagated stream: keys never expire under its commands.",
            "LOADAOF",
            "    Flush the AOF buffers on disk and reload the AOF in memory.",
            "PROPAGATION-LOG <file>|OFF",
            "    Write every propagated command to <file> as RESP (a replica's view of the stream).",
            "SNAPSHOT-THROTTLE <keys> [<elements>]",
            "    Scan at most <keys> keys (or elements of a big value) per event loop iteration in background saves",
            "    (0: by time); values of more than <elements> elements are written in parts (default 8192).",
            "    Sardine's, for tests.",
            "RESTORE-BG-MIN <bytes>",
            "    RESTORE payloads of at least <bytes> are built on a worker thread (default 262144). Sardine's, for tests.",
            "RESTORE-BG-HOLD <0|1>",
            "    While 1, big RESTOREs wait before their value is built. Sardine's, for tests.",
            "LATENCY-SAMPLE <event> <unix-time> <ms>",
            "    Add a latency monitor sample of <ms> taken at <unix-time> to <event>. Sardine's, for tests.",
            "SLOW-OPS <microseconds>",
            "    Stretch each operation the latency monitor times outside commands (AOF writes, fsyncs, stats and",
            "    renames, eviction and expiry deletes, defrag steps, fork, temp file removals) by <microseconds>",
            "    (0: off). Sardine's, for tests.",
            "DEFRAG-ALWAYS <0|1>",
            "    While 1, active defragmentation moves every heap block it looks at, whatever the allocator",
            "    says (also in builds without jemalloc). Sardine's, for tests.",
            "RELOAD",
            "    Save the RDB on disk, empty the dataset and reload it from the file.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
            "LOAD-RDB <path>",
            "    (Sardine's own) Empty every database and load the RDB file at <path>; reply OK or the error.",
            "ERROR <string>",
            "    Return a Redis protocol error with <string> as message. Useful for clients",
            "    unit tests to simulate Redis errors.",
            "LOG <message>",
            "    Write <message> to the server log.",
            "PROTOCOL <type>",
            "    Reply with a test value of the specified type. <type> can be: string,",
            "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
            "    true, false.",
            "QUICKLIST-PACKED-THRESHOLD <size>",
            "    Sets the threshold for elements to be inserted as plain vs packed nodes",
            "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
            "STRINGMATCH-TEST",
            "    Run a fuzz tester against the stringmatchlen() function.",
            "LISTPACK <key>",
            "    Show low level info about the listpack encoding of <key>.",
            "QUICKLIST <key> [<0|1>]",
            "    Show low level info about the quicklist encoding of <key>.",
            "    The optional argument (0 by default) sets the level of detail",
            "PAUSE-CRON <0|1>",
            "    Stop periodic cron job processing.",
            "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
            "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
            "    In case NEVER is provided the last observed peak will never be reset",
            "    In case RESET is provided the peak reset time will be restored to the default value",
            "REPLYBUFFER RESIZING <0|1>",
            "    Enable or disable the reply buffer resize cron job",
            "CHANGE-REPL-ID",
            "    Change the replication IDs of the instance.",
            "    Dangerous: should be used only for testing the replication subsystem.",
            NULL};
        reply_help(c, "DEBUG", lines);
    } else if (arg_is(sub, "restore-bg-min") && c->argc == 3) {
        long long n;
        if (!arg_ll(c, &c->argv[2], &n, NULL)) return;
        restore_set_bg_min(n < 0 ? 0 : (size_t)n);
        reply_ok(c);
    } else if (arg_is(sub, "latency-sample") && c->argc == 5) {
        /* Sardine's own: a latency monitor sample at a given time, to replay a history in tests. */
        long long when, ms;
        char event[32];
        if (!arg_ll(c, &c->argv[3], &when, NULL) || !arg_ll(c, &c->argv[4], &ms, NULL)) return;
        if (c->argv[2].len == 0 || c->argv[2].len >= sizeof(event) || memchr(c->argv[2].p, 0, c->argv[2].len) ||
            when <= 0 || ms < 0 || ms > UINT32_MAX)
            return reply_error(c, "ERR invalid latency sample");
        snprintf(event, sizeof(event), "%.*s", (int)c->argv[2].len, c->argv[2].p);
        latency_add_sample_at(event, when, ms);
        reply_ok(c);
    } else if (arg_is(sub, "slow-ops") && c->argc == 3) {
        /* Sardine's own: makes the latency monitor's events outside commands visible in tests. */
        long long us;
        if (!arg_ll(c, &c->argv[2], &us, NULL)) return;
        __atomic_store_n(&srv.debug_slow_ops_us, us < 0 ? 0 : us, __ATOMIC_RELAXED);
        reply_ok(c);
    } else if (arg_is(sub, "defrag-always") && c->argc == 3) {
        /* Sardine's own: every reference a defragmentation mover rewrites gets exercised in tests. */
        long long n;
        if (!arg_ll(c, &c->argv[2], &n, NULL)) return;
        s_defrag_always(n != 0);
        reply_ok(c);
    } else if (arg_is(sub, "restore-bg-hold") && c->argc == 3) {
        long long n;
        if (!arg_ll(c, &c->argv[2], &n, NULL)) return;
        bgbuild_hold(n != 0);
        reply_ok(c);
    } else if (debug_misc(c)) {
        /* answered */
    } else if (arg_is(sub, "snapshot-throttle") && (c->argc == 3 || c->argc == 4)) {
        long long n, elems = 0;
        if (!arg_ll(c, &c->argv[2], &n, NULL)) return;
        if (c->argc == 4 && !arg_ll(c, &c->argv[3], &elems, NULL)) return;
        snapshot_set_throttle((long)n, (long)elems);
        reply_ok(c);
    } else if (arg_is(sub, "reload") && c->argc == 2) {
        if (saving_debug_reload(c) == 0) reply_ok(c);
    } else if (arg_is(sub, "digest") && c->argc == 2) {
        debug_digest(c);
    } else if (arg_is(sub, "digest-value") && c->argc >= 2) {
        debug_digest_value(c);
    } else if (arg_is(sub, "check-key") && c->argc == 3) {
        debug_check_key(c);
    } else if (arg_is(sub, "check-keyspace") && c->argc == 2) {
        debug_check_keyspace(c);
    } else if (arg_is(sub, "sleep") && c->argc == 3) {
        double secs = strtod(c->argv[2].p, NULL);
        struct timespec ts = {(time_t)secs, (long)((secs - floor(secs)) * 1e9)};
        nanosleep(&ts, NULL);
        reply_ok(c);
    } else if (arg_is(sub, "loadaof") && c->argc == 2) {
        if (!loadaof_fn || loadaof_fn() != 0) exit(1); /* as Redis: a reload that fails leaves nothing to serve */
        prop_prevent(c); /* the dirty counter was reset: the reload itself is not a write to log */
        reply_ok(c);
    } else if (arg_is(sub, "propagation-log") && c->argc == 3) {
        /* Sardine's own: a test sink of the propagated stream (commands/propagate.h). */
        char path[4096];
        snprintf(path, sizeof(path), "%.*s", (int)c->argv[2].len, c->argv[2].p);
        if (prop_debug_log(arg_is(&c->argv[2], "off") ? NULL : path) < 0) reply_error(c, "ERR cannot open file");
        else reply_ok(c);
    } else if (arg_is(sub, "apply-stream") && c->argc == 3) {
        /* Sardine's own: this connection applies a propagated stream, as a replica's link would. */
        if (atoi(c->argv[2].p)) c->flags |= CLIENT_APPLY_STREAM;
        else c->flags &= ~CLIENT_APPLY_STREAM;
        reply_ok(c);
    } else if (arg_is(sub, "load-rdb") && c->argc == 3) {
        /* Sardine's own: a test hook for the RDB reader until startup loading and DEBUG RELOAD exist. */
        char path[4096], err[512];
        snprintf(path, sizeof(path), "%.*s", (int)c->argv[2].len, c->argv[2].p);
        for (int i = 0; i < srv.dbnum; i++) db_flush(&srv.dbs[i], 0);
        rdb_load_opts o = {.deep = config_sanitize_dump() == SANITIZE_YES, .no_checksum = !config_rdbchecksum()};
        rdb_load_info info;
        if (rdb_load_file(path, &o, &info, err, sizeof(err)) < 0) {
            for (int i = 0; i < srv.dbnum; i++) db_flush(&srv.dbs[i], 0); /* nothing half-loaded stays */
            serverLog(LL_WARNING, "DEBUG LOAD-RDB %s: %s", path, err);
            reply_errorf(c, "ERR %s", err);
        } else {
            serverLog(LL_NOTICE, "DEBUG LOAD-RDB %s: %llu keys loaded, %llu expired skipped, %llu empty skipped", path,
                      (unsigned long long)info.keys, (unsigned long long)info.expired_skipped,
                      (unsigned long long)info.empty_skipped);
            reply_ok(c);
        }
    } else if (arg_is(sub, "set-active-expire") && c->argc == 3) {
        srv.active_expire_enabled = atoi(c->argv[2].p) != 0;
        reply_ok(c);
    } else if (arg_is(sub, "object") && c->argc == 3) {
        kref r;
        if (!db_lookup(c->db, c->argv[2].p, c->argv[2].len, LOOKUP_NOTOUCH | LOOKUP_NOSTATS, &r)) {
            reply_error(c, "ERR no such key");
            return;
        }
        char buf[256];
        size_t ser = 0;
        if (e_type(r.e) == OBJ_STRING) ser = str_len(r.e);
        snprintf(buf, sizeof(buf), "Value at:%p refcount:1 encoding:%s serializedlength:%zu lru:%u lru_seconds_idle:%llu",
                 (void *)r.e, e_type(r.e) == OBJ_STRING ? str_encoding(r.e) : "unknown", ser + 1, e_lru(r.e),
                 lru_idle_ms(e_lru(r.e)) / 1000);
        reply_status(c, buf);
    } else {
        reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try DEBUG HELP.",
                     (int)sub->len, sub->p);
    }
}

/* Under valgrind (or SARDINE_FREE_ON_EXIT=1) free the dataset before exiting: heap values referenced
 * only from arena entries would otherwise look leaked, since valgrind does not scan the arena. */
static void free_dataset_on_exit(void) {
    const char *preload = getenv("LD_PRELOAD");
    if (!getenv("SARDINE_FREE_ON_EXIT") && !(preload && strstr(preload, "vgpreload"))) return;
    for (int i = 0; i < srv.dbnum; i++) db_flush(&srv.dbs[i], 0);
    while (db_lazyfree_step(1 << 20)) {
    }
    bio_stop();
    s_allocator_stop_threads();
}

void shutdown_now(int exit_code) {
    serverLog(LL_WARNING, "User requested shutdown...");
    supervise_stopping();
    if (aof_state() != AOF_OFF) {
        serverLog(LL_NOTICE, "Calling fsync() on the AOF file.");
        aof_flush_and_sync();
    }
    free_dataset_on_exit();
    if (srv.pidfile && srv.pidfile[0]) {
        serverLog(LL_NOTICE, "Removing the pid file.");
        unlink(srv.pidfile);
    }
    if (srv.unixsocket && srv.unixsocket[0]) unlink(srv.unixsocket);
    serverLog(LL_WARNING, "%s is now ready to exit, bye bye...", "Sardine");
    exit(exit_code);
}

void cmd_shutdown(client *c) {
    int save = 0, nosave = 0, abort_ = 0, flags = 0;
    for (int j = 1; j < c->argc; j++) {
        const arg *a = &c->argv[j];
        if (arg_is(a, "abort")) abort_ = 1;
        else if (arg_is(a, "nosave")) nosave = 1, flags |= SHUTDOWN_NOSAVE;
        else if (arg_is(a, "save")) save = 1, flags |= SHUTDOWN_SAVE;
        else if (arg_is(a, "now")) flags |= SHUTDOWN_NOW;
        else if (arg_is(a, "force")) flags |= SHUTDOWN_FORCE;
        else {
            reply_syntax_error(c);
            return;
        }
    }
    if ((save && nosave) || (abort_ && c->argc > 2)) {
        reply_syntax_error(c);
        return;
    }
    if (abort_) {
        reply_error(c, "ERR No shutdown in progress.");
        return;
    }
    if (!nosave && eval_busy()) { /* under a busy script only SHUTDOWN NOSAVE may stop the server */
        reply_error(c, eval_busy_error());
        return;
    }
    if (aof_before_shutdown(flags & SHUTDOWN_FORCE) != 0 || saving_before_shutdown(flags) != 0) {
        reply_error(c, "ERR Errors trying to SHUTDOWN. Check logs.");
        return;
    }
    shutdown_now(0);
}


/* ---- MEMORY ---- */

void cmd_memory_usage(client *c) {
    for (int j = 3; j < c->argc; j++) {
        if (arg_is(&c->argv[j], "samples") && j + 1 < c->argc) {
            long long n;
            if (!arg_ll(c, &c->argv[++j], &n, NULL)) return;
        } else {
            reply_syntax_error(c);
            return;
        }
    }
    kref r;
    if (!db_lookup(c->db, c->argv[2].p, c->argv[2].len, LOOKUP_NOTOUCH | LOOKUP_NOSTATS, &r)) {
        reply_null(c);
        return;
    }
    /* The entry, its heap value, and its share of the table: a 64-byte bucket holds 12 slots. */
    size_t bytes = entry_bytes(r.h) + 6;
    if (e_on_heap(r.e)) bytes += value_bytes(e_heap_kind(r.e), e_ptr(r.e));
    reply_int(c, (long long)bytes);
}

void cmd_memory_stats(client *c) {
    mem_stats ms;
    s_allocator_stats(&ms);
    size_t used = server_used_memory(), rss = s_process_rss(), keys = 0, table = 0;
    int dbs = 0;
    for (int i = 0; i < srv.dbnum; i++) {
        keys += srv.dbs[i].t.count;
        table += srv.dbs[i].t.bytes;
        if (srv.dbs[i].t.count) dbs++;
    }
    size_t clients = 0;
    for (size_t i = 0; i < srv.nclients; i++) clients += sizeof(client) + srv.clients[i]->qcap + srv.clients[i]->ocap;
    size_t overhead = table + clients, dataset = used > overhead ? used - overhead : 0;
    /* The arena's live slots are allocated bytes and its pages active ones: allocator fragmentation
     * shows half-empty arena pages as well as jemalloc's. */
    size_t allocated = ms.allocated + arena_live_bytes(), active = ms.active + arena_pages_bytes(),
           resident = ms.resident + arena_pages_bytes();
    reply_map(c, 29 + dbs);
    reply_bulk_cstr(c, "peak.allocated");
    reply_int(c, (long long)srv.peak_memory);
    reply_bulk_cstr(c, "total.allocated");
    reply_int(c, (long long)used);
    reply_bulk_cstr(c, "startup.allocated");
    reply_int(c, 0);
    reply_bulk_cstr(c, "replication.backlog");
    reply_int(c, 0);
    reply_bulk_cstr(c, "clients.slaves");
    reply_int(c, 0);
    reply_bulk_cstr(c, "clients.normal");
    reply_int(c, (long long)clients);
    reply_bulk_cstr(c, "cluster.links");
    reply_int(c, 0);
    reply_bulk_cstr(c, "aof.buffer");
    reply_int(c, 0);
    reply_bulk_cstr(c, "lua.caches");
    reply_int(c, 0);
    reply_bulk_cstr(c, "functions.caches");
    reply_int(c, 0);
    for (int i = 0; i < srv.dbnum; i++) {
        if (!srv.dbs[i].t.count) continue;
        char name[32];
        snprintf(name, sizeof(name), "db.%d", i);
        reply_bulk_cstr(c, name);
        reply_map(c, 2);
        reply_bulk_cstr(c, "overhead.hashtable.main");
        reply_int(c, (long long)srv.dbs[i].t.bytes);
        reply_bulk_cstr(c, "overhead.hashtable.expires");
        reply_int(c, 0);
    }
    reply_bulk_cstr(c, "overhead.total");
    reply_int(c, (long long)overhead);
    reply_bulk_cstr(c, "keys.count");
    reply_int(c, (long long)keys);
    reply_bulk_cstr(c, "keys.bytes-per-key");
    reply_int(c, keys ? (long long)(used / keys) : 0);
    reply_bulk_cstr(c, "dataset.bytes");
    reply_int(c, (long long)dataset);
    reply_bulk_cstr(c, "dataset.percentage");
    reply_double(c, used ? (double)dataset * 100 / (double)used : 0);
    reply_bulk_cstr(c, "peak.percentage");
    reply_double(c, srv.peak_memory ? (double)used * 100 / (double)srv.peak_memory : 0);
    reply_bulk_cstr(c, "allocator.allocated");
    reply_int(c, (long long)allocated);
    reply_bulk_cstr(c, "allocator.active");
    reply_int(c, (long long)active);
    reply_bulk_cstr(c, "allocator.resident");
    reply_int(c, (long long)resident);
    reply_bulk_cstr(c, "allocator-fragmentation.ratio");
    reply_double(c, allocated ? (double)active / (double)allocated : 0);
    reply_bulk_cstr(c, "allocator-fragmentation.bytes");
    reply_int(c, (long long)active - (long long)allocated);
    reply_bulk_cstr(c, "allocator.rss-ratio");
    reply_double(c, active ? (double)resident / (double)active : 0);
    reply_bulk_cstr(c, "allocator.rss-bytes");
    reply_int(c, (long long)resident - (long long)active);
    reply_bulk_cstr(c, "rss-overhead.ratio");
    reply_double(c, resident ? (double)rss / (double)resident : 0);
    reply_bulk_cstr(c, "rss-overhead.bytes");
    reply_int(c, (long long)rss - (long long)resident);
    reply_bulk_cstr(c, "fragmentation");
    reply_double(c, used ? (double)rss / (double)used : 0);
    reply_bulk_cstr(c, "fragmentation.bytes");
    reply_int(c, (long long)rss - (long long)used);
    reply_bulk_cstr(c, "keyspace.table.bytes");
    reply_int(c, (long long)table);
    reply_bulk_cstr(c, "keyspace.entries.bytes");
    reply_int(c, (long long)arena_live_bytes());
}

void cmd_memory_doctor(client *c) {
    size_t used = server_used_memory(), rss = s_process_rss();
    mem_stats ms;
    s_allocator_stats(&ms);
    size_t allocated = ms.allocated + arena_live_bytes(), active = ms.active + arena_pages_bytes(),
           resident = ms.resident + arena_pages_bytes();
    const size_t ten_mb = (size_t)10 << 20;
    const char *msg;
    char buf[4096];
    if (used < 5 * 1024 * 1024) {
        msg = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in "
              "these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I "
              "will be back to our programming as soon as I finished rebooting.";
    } else {
        size_t len = (size_t)snprintf(buf, sizeof(buf), "Sam, I detected a few issues in this Redis instance memory implants:\n\n");
        int issues = 0;
        if (srv.peak_memory > used * 3 / 2) {
            len += (size_t)snprintf(buf + len, sizeof(buf) - len,
                                    " * Peak memory: In the past this instance used more than 150%% the memory that is "
                                    "currently using. The allocator is normally not able to release memory after a "
                                    "peak, so you can expect to see a big fragmentation ratio.\n\n");
            issues++;
        }
        if ((double)rss / (double)used > 1.4 && rss - used > ten_mb) {
            len += (size_t)snprintf(buf + len, sizeof(buf) - len,
                                    " * High total RSS: This instance has a memory fragmentation and RSS overhead "
                                    "greater than 1.4 (this means that the Resident Set Size of the process is much "
                                    "larger than the sum of the logical allocations Redis performed).\n\n");
            issues++;
        }
        if (allocated && (double)active / (double)allocated > 1.1 && active - allocated > ten_mb) {
            /* Half-empty arena pages and heap slabs: what active defragmentation moves. */
            len += (size_t)snprintf(buf + len, sizeof(buf) - len,
                                    " * High allocator fragmentation: This instance has an allocator external "
                                    "fragmentation greater than 1.1 (%.2f: %zu bytes in partly used pages, %zu of "
                                    "them in the key entries' arena). %s\n\n",
                                    (double)active / (double)allocated, active - allocated, arena_frag_bytes(),
                                    srv.active_defrag_enabled
                                        ? "Active defragmentation is enabled: it works on it while the "
                                          "fragmentation is above active-defrag-ignore-bytes and "
                                          "active-defrag-threshold-lower (INFO stats: active_defrag_hits)."
                                        : "You can try enabling 'activedefrag' config option.");
            issues++;
        }
        if (active && (double)resident / (double)active > 1.1 && resident - active > ten_mb) {
            len += (size_t)snprintf(buf + len, sizeof(buf) - len,
                                    " * High allocator RSS overhead: This instance has an RSS memory overhead is "
                                    "greater than 1.1 (the allocator keeps freed pages it has not given back to the "
                                    "system yet), you can try the MEMORY PURGE command to reclaim it.\n\n");
            issues++;
        }
        if (!issues) msg = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.";
        else {
            snprintf(buf + len, sizeof(buf) - len, "I'm here to keep you safe, Sam. I want to help you.\n");
            msg = buf;
        }
    }
    reply_verbatim(c, msg, strlen(msg), "txt");
}

void cmd_memory_purge(client *c) {
    s_allocator_purge();
    reply_ok(c);
}

void cmd_memory_malloc_stats(client *c) {
    char *t = s_allocator_stats_text();
    reply_verbatim(c, t, strlen(t), "txt");
    s_free(t);
}

void cmd_memory_help(client *c) {
    static const char *lines[] = {
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        NULL};
    reply_help(c, "MEMORY", lines);
}

/* ---- COMMAND ---- */

/* Everything below answers from the command's definition (command_defs.c): the shapes and orders are
 * redis-server 7.0's, for RESP2 and RESP3 alike (maps and sets degrade to arrays in RESP2). */

static void reply_bits(client *c, uint32_t bits, const char *const *names, int n, int with_at) {
    int count = 0;
    for (int i = 0; i < n; i++) count += (bits >> i) & 1;
    reply_set(c, count);
    for (int i = 0; i < n; i++) {
        if (!((bits >> i) & 1)) continue;
        if (!with_at) {
            reply_status(c, names[i]);
            continue;
        }
        char buf[32];
        snprintf(buf, sizeof(buf), "@%s", names[i]);
        reply_status(c, buf);
    }
}

static void reply_key_spec(client *c, const key_spec *s) {
    reply_map(c, s->notes ? 4 : 3);
    if (s->notes) {
        reply_bulk_cstr(c, "notes");
        reply_bulk_cstr(c, s->notes);
    }
    reply_bulk_cstr(c, "flags");
    reply_bits(c, s->flags, key_spec_flag_names, KS_FLAG_COUNT, 0);
    reply_bulk_cstr(c, "begin_search");
    reply_map(c, 2);
    reply_bulk_cstr(c, "type");
    if (s->bs == KS_BS_INDEX) {
        reply_bulk_cstr(c, "index");
        reply_bulk_cstr(c, "spec");
        reply_map(c, 1);
        reply_bulk_cstr(c, "index");
        reply_int(c, s->index);
    } else if (s->bs == KS_BS_KEYWORD) {
        reply_bulk_cstr(c, "keyword");
        reply_bulk_cstr(c, "spec");
        reply_map(c, 2);
        reply_bulk_cstr(c, "keyword");
        reply_bulk_cstr(c, s->keyword);
        reply_bulk_cstr(c, "startfrom");
        reply_int(c, s->startfrom);
    } else {
        reply_bulk_cstr(c, "unknown");
        reply_bulk_cstr(c, "spec");
        reply_map(c, 0);
    }
    reply_bulk_cstr(c, "find_keys");
    reply_map(c, 2);
    reply_bulk_cstr(c, "type");
    if (s->fk == KS_FK_RANGE) {
        reply_bulk_cstr(c, "range");
        reply_bulk_cstr(c, "spec");
        reply_map(c, 3);
        reply_bulk_cstr(c, "lastkey");
        reply_int(c, s->lastkey);
        reply_bulk_cstr(c, "keystep");
        reply_int(c, s->keystep);
        reply_bulk_cstr(c, "limit");
        reply_int(c, s->limit);
    } else if (s->fk == KS_FK_KEYNUM) {
        reply_bulk_cstr(c, "keynum");
        reply_bulk_cstr(c, "spec");
        reply_map(c, 3);
        reply_bulk_cstr(c, "keynumidx");
        reply_int(c, s->keynumidx);
        reply_bulk_cstr(c, "firstkey");
        reply_int(c, s->firstkey);
        reply_bulk_cstr(c, "keystep");
        reply_int(c, s->keystep);
    } else {
        reply_bulk_cstr(c, "unknown");
        reply_bulk_cstr(c, "spec");
        reply_map(c, 0);
    }
}

static int count_subs(const command *cmd) {
    int n = 0;
    for (const command *s = cmd->subcmds; s && s->name; s++) n++;
    return n;
}

static void reply_command_info(client *c, const command *cmd) {
    const cmd_def *d = cmd->def;
    reply_array(c, 10);
    reply_bulk_cstr(c, cmd->fullname);
    reply_int(c, d->arity);
    reply_bits(c, d->flags, command_flag_names, CMD_VISIBLE_FLAGS, 0);
    reply_int(c, d->firstkey);
    reply_int(c, d->lastkey);
    reply_int(c, d->keystep);
    reply_bits(c, d->acl, acl_category_names, ACL_CATEGORIES, 1);
    reply_set(c, d->ntips);
    for (int i = 0; i < d->ntips; i++) reply_bulk_cstr(c, d->tips[i]);
    reply_set(c, d->nspecs);
    for (int i = 0; i < d->nspecs; i++) reply_key_spec(c, &d->specs[i]);
    reply_set(c, count_subs(cmd));
    for (const command *s = cmd->subcmds; s && s->name; s++) reply_command_info(c, s);
}

static const char *const arg_type_names[] = {"string",     "integer", "double", "key",  "pattern",
                                             "unix-time", "pure-token", "oneof", "block"};
static const char *const arg_flag_names[] = {"optional", "multiple", "multiple_token"};
static const char *const doc_flag_names[] = {"deprecated", "syscmd"};

static void reply_args(client *c, const cmd_arg *args, int n) {
    reply_array(c, n);
    for (int i = 0; i < n; i++) {
        const cmd_arg *a = &args[i];
        int sub = a->type == ARG_ONEOF || a->type == ARG_BLOCK;
        reply_map(c, 2 + (a->key_spec_index >= 0) + !!a->token + !!a->summary + !!a->since + !!a->deprecated_since +
                         !!a->flags + sub);
        reply_bulk_cstr(c, "name");
        reply_bulk_cstr(c, a->name);
        reply_bulk_cstr(c, "type");
        reply_bulk_cstr(c, arg_type_names[a->type]);
        if (a->key_spec_index >= 0) {
            reply_bulk_cstr(c, "key_spec_index");
            reply_int(c, a->key_spec_index);
        }
        const char *const texts[][2] = {{"token", a->token}, {"summary", a->summary}, {"since", a->since},
                                        {"deprecated_since", a->deprecated_since}};
        for (int t = 0; t < 4; t++)
            if (texts[t][1]) {
                reply_bulk_cstr(c, texts[t][0]);
                reply_bulk_cstr(c, texts[t][1]);
            }
        if (a->flags) {
            reply_bulk_cstr(c, "flags");
            reply_bits(c, (uint32_t)a->flags, arg_flag_names, 3, 0);
        }
        if (sub) {
            reply_bulk_cstr(c, "arguments");
            reply_args(c, a->args, a->nargs);
        }
    }
}

static void reply_docs(client *c, const command *cmd) {
    const cmd_def *d = cmd->def;
    int nsub = count_subs(cmd);
    const char *const texts[][2] = {{"summary", d->summary},       {"since", d->since},
                                    {"group", d->group},           {"complexity", d->complexity},
                                    {"deprecated_since", d->deprecated_since}, {"replaced_by", d->replaced_by}};
    int n = 1 + !!d->summary + !!d->since + !!d->complexity + !!d->doc_flags + !!d->deprecated_since +
            !!d->replaced_by + (d->nhistory > 0) + (d->nargs > 0) + (nsub > 0);
    reply_map(c, n);
    for (int t = 0; t < 4; t++)
        if (texts[t][1]) {
            reply_bulk_cstr(c, texts[t][0]);
            reply_bulk_cstr(c, texts[t][1]);
        }
    if (d->doc_flags) {
        reply_bulk_cstr(c, "doc_flags");
        reply_bits(c, d->doc_flags, doc_flag_names, 2, 0);
    }
    for (int t = 4; t < 6; t++)
        if (texts[t][1]) {
            reply_bulk_cstr(c, texts[t][0]);
            reply_bulk_cstr(c, texts[t][1]);
        }
    if (d->nhistory) {
        reply_bulk_cstr(c, "history");
        reply_set(c, d->nhistory);
        for (int i = 0; i < d->nhistory; i++) {
            reply_array(c, 2);
            reply_bulk_cstr(c, d->history[2 * i]);
            reply_bulk_cstr(c, d->history[2 * i + 1]);
        }
    }
    if (d->nargs) {
        reply_bulk_cstr(c, "arguments");
        reply_args(c, d->args, d->nargs);
    }
    if (nsub) {
        reply_bulk_cstr(c, "subcommands");
        reply_map(c, nsub);
        for (const command *s = cmd->subcmds; s->name; s++) {
            reply_bulk_cstr(c, s->fullname);
            reply_docs(c, s);
        }
    }
}

/* "get" or "config|get", any case; NULL when Sardine does not implement it. */
static command *lookup_fullname(const arg *a) {
    const char *bar = memchr(a->p, '|', a->len);
    if (!bar) return command_lookup_name(a->p, a->len);
    command *parent = command_lookup_name(a->p, (size_t)(bar - a->p));
    if (!parent || !parent->subcmds) return NULL;
    size_t sl = a->len - (size_t)(bar - a->p) - 1;
    for (command *s = parent->subcmds; s->name; s++)
        if (strlen(s->name) == sl && !strncasecmp(s->name, bar + 1, sl)) return s;
    return NULL;
}

void cmd_command(client *c) {
    int n;
    command **all = command_all(&n);
    reply_array(c, n);
    for (int i = 0; i < n; i++) reply_command_info(c, all[i]);
}

void cmd_command_count(client *c) {
    int n;
    command_all(&n);
    reply_int(c, n);
}

void cmd_command_info(client *c) {
    if (c->argc == 2) return cmd_command(c);
    reply_array(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        command *cmd = lookup_fullname(&c->argv[j]);
        if (cmd) reply_command_info(c, cmd);
        else reply_null(c);
    }
}

void cmd_command_docs(client *c) {
    int n;
    command **all = command_all(&n);
    if (c->argc == 2) {
        reply_map(c, n);
        for (int i = 0; i < n; i++) {
            reply_bulk_cstr(c, all[i]->fullname);
            reply_docs(c, all[i]);
        }
        return;
    }
    size_t pos = reply_defer(c);
    long found = 0;
    for (int j = 2; j < c->argc; j++) {
        command *cmd = lookup_fullname(&c->argv[j]);
        if (!cmd) continue;
        reply_bulk_cstr(c, cmd->fullname);
        reply_docs(c, cmd);
        found++;
    }
    reply_defer_set(c, pos, found, '%');
}

/* COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]: commands and subcommands. */
void cmd_command_list(client *c) {
    const arg *pattern = NULL;
    uint32_t aclcat = 0;
    if (c->argc == 5 && arg_is(&c->argv[2], "filterby")) {
        if (arg_is(&c->argv[3], "pattern")) {
            pattern = &c->argv[4];
        } else if (arg_is(&c->argv[3], "aclcat")) {
            for (int i = 0; i < ACL_CATEGORIES; i++)
                if (arg_is(&c->argv[4], acl_category_names[i])) aclcat = 1u << i;
            if (!aclcat) { /* an unknown category matches nothing */
                reply_array(c, 0);
                return;
            }
        } else if (arg_is(&c->argv[3], "module")) {
            reply_array(c, 0); /* no modules */
            return;
        } else {
            reply_syntax_error(c);
            return;
        }
    } else if (c->argc != 2) {
        reply_syntax_error(c);
        return;
    }
    int n;
    command **all = command_all(&n);
    size_t pos = reply_defer(c);
    long count = 0;
    for (int i = 0; i < n; i++) {
        for (command *cmd = all[i]; cmd && cmd->name; cmd = cmd == all[i] ? cmd->subcmds : cmd + 1) {
            if (pattern && !glob_match(pattern->p, pattern->len, cmd->fullname, strlen(cmd->fullname), 1)) continue;
            if (aclcat && !(cmd->def->acl & aclcat)) continue;
            reply_bulk_cstr(c, cmd->fullname);
            count++;
        }
    }
    reply_defer_set(c, pos, count, '*');
}

/* COMMAND GETKEYS / GETKEYSANDFLAGS <full command>, with Redis 7.0's checks in its order. */
static void getkeys_generic(client *c, int with_flags) {
    arg *argv = c->argv + 2;
    int argc = c->argc - 2;
    command *cmd = command_lookup(argv, argc);
    if (!cmd) {
        reply_error(c, "ERR Invalid command specified");
        return;
    }
    if (!cmd_def_has_keys(cmd->def)) {
        reply_error(c, "ERR The command has no key arguments");
        return;
    }
    if ((cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity) {
        reply_error(c, "ERR Invalid number of arguments specified for command");
        return;
    }
    keyref small[16], *keys = small;
    int n = command_get_keys(cmd, argv, argc, keys, 16);
    if (n > 16) {
        keys = s_malloc((size_t)n * sizeof(*keys));
        command_get_keys(cmd, argv, argc, keys, n);
    }
    if (n == 0 && !(cmd->flags & CMD_NO_MANDATORY_KEYS)) {
        reply_error(c, "ERR Invalid arguments specified for command");
    } else {
        reply_array(c, n);
        for (int i = 0; i < n; i++) {
            const arg *k = &argv[keys[i].pos];
            if (!with_flags) {
                reply_bulk(c, k->p, k->len);
                continue;
            }
            reply_array(c, 2);
            reply_bulk(c, k->p, k->len);
            reply_bits(c, keys[i].flags, key_spec_flag_names, KS_FLAG_COUNT, 0);
        }
    }
    if (keys != small) s_free(keys);
}

void cmd_command_getkeys(client *c) { getkeys_generic(c, 0); }
void cmd_command_getkeysandflags(client *c) { getkeys_generic(c, 1); }

void cmd_command_help(client *c) {
    static const char *lines[] = {
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        NULL};
    reply_help(c, "COMMAND", lines);
}
