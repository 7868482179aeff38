/* server_cmds: introspection and administration: DEBUG, SHUTDOWN, LASTSAVE,
 * the MEMORY container and the COMMAND container. */
#include "commands/command.h"
#include "commands/commands.h"
#include "keyspace/evict.h"
#include "mem/arena.h"
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static int debug_allowed(client *c) {
    if (srv.enable_debug_command == 1) return 1;
    if (srv.enable_debug_command == 2 && ((c->flags & CLIENT_UNIX) || !strncmp(c->addr, "127.", 4) ||
                                          !strncmp(c->addr, "::1:", 4)))
        return 1;
    reply_error(c, "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can "
                   "run it from a local connection, otherwise you need to set this option in the configuration file, "
                   "and then restart the server.");
    return 0;
}

void cmd_debug(client *c) {
    if (!debug_allowed(c)) return;
    const arg *sub = &c->argv[1];
    if (arg_is(sub, "help")) {
        static const char *lines[] = {
            "OBJECT <key>",
            "    Show low level info about the key and associated value.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not accessed (otherwise the Redis",
            "    behavior). Setting it to 1 reenables back the default.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
            NULL};
        reply_help(c, "DEBUG", lines);
    } else if (arg_is(sub, "sleep") && c->argc == 3) {
        double secs = strtod(c->argv[2].p, NULL);
        struct timespec ts = {(time_t)secs, (long)((secs - floor(secs)) * 1e9)};
        nanosleep(&ts, NULL);
        reply_ok(c);
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
        if (e_type(r.e) == OBJ_STRING) {
            char tmp[LL_STR_SIZE];
            str_get(r.e, tmp, &ser);
        }
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
    int save = 0, nosave = 0, abort_ = 0;
    for (int j = 1; j < c->argc; j++) {
        const arg *a = &c->argv[j];
        if (arg_is(a, "abort")) abort_ = 1;
        else if (arg_is(a, "nosave")) nosave = 1;
        else if (arg_is(a, "save")) save = 1;
        else if (!arg_is(a, "now") && !arg_is(a, "force")) {
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
    shutdown_now(0);
}

void cmd_lastsave(client *c) { reply_int(c, (long long)srv.start_time); }

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
    if (e_store(r.e) == VAL_PTR) bytes += value_bytes(e_type(r.e), e_ptr(r.e));
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
    size_t allocated = ms.allocated + arena_pages_bytes(), active = ms.active + arena_pages_bytes(),
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
    const char *msg;
    char buf[1024];
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
        if ((double)rss / (double)used > 1.4) {
            len += (size_t)snprintf(buf + len, sizeof(buf) - len,
                                    " * High total RSS: This instance has a memory fragmentation and RSS overhead "
                                    "greater than 1.4 (this means that the Resident Set Size of the process is much "
                                    "larger than the sum of the logical allocations Redis performed).\n\n");
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

static const struct { uint32_t flag; const char *name; } flag_names[] = {
    {CMD_WRITE, "write"}, {CMD_READONLY, "readonly"}, {CMD_DENYOOM, "denyoom"}, {CMD_ADMIN, "admin"},
    {CMD_PUBSUB, "pubsub"}, {CMD_NOSCRIPT, "noscript"}, {CMD_BLOCKING, "blocking"}, {CMD_LOADING, "loading"},
    {CMD_STALE, "stale"}, {CMD_SKIP_MONITOR, "skip_monitor"}, {CMD_SKIP_SLOWLOG, "skip_slowlog"}, {CMD_FAST, "fast"},
    {CMD_NO_AUTH, "no_auth"}, {CMD_MAY_REPLICATE, "may_replicate"}, {CMD_NO_MULTI, "no_multi"},
    {CMD_ALLOW_BUSY, "allow_busy"}, {CMD_MOVABLE_KEYS, "movablekeys"}, {0, NULL}};

static void reply_categories(client *c, const command *cmd) {
    const char *cats[8];
    int n = 0;
    if (cmd->acl && strcmp(cmd->acl, "@fast") && strcmp(cmd->acl, "@slow")) cats[n++] = cmd->acl;
    if (cmd->flags & CMD_WRITE) cats[n++] = "@write";
    if (cmd->flags & CMD_READONLY) cats[n++] = "@read";
    if (cmd->flags & CMD_ADMIN) {
        if (!cmd->acl || strcmp(cmd->acl, "@admin")) cats[n++] = "@admin";
        cats[n++] = "@dangerous";
    }
    cats[n++] = (cmd->flags & CMD_FAST) ? "@fast" : "@slow";
    if (cmd->flags & CMD_BLOCKING) cats[n++] = "@blocking";
    reply_set(c, n);
    for (int i = 0; i < n; i++) reply_status(c, cats[i]);
}

static void reply_command_info(client *c, const command *cmd) {
    int nflags = 0;
    for (int i = 0; flag_names[i].name; i++) nflags += (cmd->flags & flag_names[i].flag) != 0;
    reply_array(c, 10);
    reply_bulk_cstr(c, cmd->fullname);
    reply_int(c, cmd->arity);
    reply_set(c, nflags);
    for (int i = 0; flag_names[i].name; i++)
        if (cmd->flags & flag_names[i].flag) reply_status(c, flag_names[i].name);
    reply_int(c, cmd->firstkey);
    reply_int(c, cmd->lastkey);
    reply_int(c, cmd->keystep);
    reply_categories(c, cmd);
    reply_set(c, 0); /* tips */
    if (cmd->firstkey) {
        reply_array(c, 1);
        reply_map(c, 3);
        reply_bulk_cstr(c, "flags");
        reply_set(c, 1);
        reply_status(c, (cmd->flags & CMD_WRITE) ? "RW" : "RO");
        reply_bulk_cstr(c, "begin_search");
        reply_map(c, 2);
        reply_bulk_cstr(c, "type");
        reply_bulk_cstr(c, "index");
        reply_bulk_cstr(c, "spec");
        reply_map(c, 1);
        reply_bulk_cstr(c, "index");
        reply_int(c, cmd->firstkey);
        reply_bulk_cstr(c, "find_keys");
        reply_map(c, 2);
        reply_bulk_cstr(c, "type");
        reply_bulk_cstr(c, "range");
        reply_bulk_cstr(c, "spec");
        reply_map(c, 3);
        reply_bulk_cstr(c, "lastkey");
        reply_int(c, cmd->lastkey < 0 ? cmd->lastkey : cmd->lastkey - cmd->firstkey);
        reply_bulk_cstr(c, "keystep");
        reply_int(c, cmd->keystep);
        reply_bulk_cstr(c, "limit");
        reply_int(c, 0);
    } else {
        reply_array(c, 0);
    }
    int nsub = 0;
    for (const command *s = cmd->subcmds; s && s->name; s++) nsub++;
    reply_array(c, nsub);
    for (const command *s = cmd->subcmds; s && s->name; s++) reply_command_info(c, s);
}

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
        else reply_null_array(c);
    }
}

static void reply_docs(client *c, const command *cmd) {
    int nsub = 0;
    for (const command *s = cmd->subcmds; s && s->name; s++) nsub++;
    reply_map(c, 4 + (nsub > 0));
    reply_bulk_cstr(c, "summary");
    reply_bulk_cstr(c, cmd->summary ? cmd->summary : "");
    reply_bulk_cstr(c, "since");
    reply_bulk_cstr(c, cmd->since ? cmd->since : "1.0.0");
    reply_bulk_cstr(c, "group");
    reply_bulk_cstr(c, cmd->group ? cmd->group : "generic");
    reply_bulk_cstr(c, "complexity");
    reply_bulk_cstr(c, cmd->complexity ? cmd->complexity : "O(1)");
    if (nsub) {
        reply_bulk_cstr(c, "subcommands");
        reply_map(c, nsub);
        for (const command *s = cmd->subcmds; s->name; s++) {
            reply_bulk_cstr(c, s->fullname);
            reply_docs(c, s);
        }
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

void cmd_command_list(client *c) {
    const arg *pattern = NULL, *aclcat = NULL;
    if (c->argc == 5 && arg_is(&c->argv[2], "filterby")) {
        if (arg_is(&c->argv[3], "pattern")) pattern = &c->argv[4];
        else if (arg_is(&c->argv[3], "aclcat")) aclcat = &c->argv[4];
        else if (!arg_is(&c->argv[3], "module")) {
            reply_syntax_error(c);
            return;
        } else {
            reply_array(c, 0);
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
        command *list[64];
        int k = 0;
        list[k++] = all[i];
        for (command *s = all[i]->subcmds; s && s->name && k < 64; s++) list[k++] = s;
        for (int j = 0; j < k; j++) {
            command *cmd = list[j];
            if (pattern && !glob_match(pattern->p, pattern->len, cmd->fullname, strlen(cmd->fullname), 1)) continue;
            if (aclcat && !(cmd->acl && strlen(cmd->acl) == aclcat->len + 1 &&
                            !strncasecmp(cmd->acl + 1, aclcat->p, aclcat->len)))
                continue;
            reply_bulk_cstr(c, cmd->fullname);
            count++;
        }
    }
    reply_defer_set(c, pos, count, '*');
}

void cmd_command_getkeys(client *c) {
    arg *argv = c->argv + 2;
    int argc = c->argc - 2;
    command *cmd = command_lookup(argv, argc);
    if (!cmd) {
        reply_error(c, "ERR Invalid command specified");
        return;
    }
    if ((cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity) {
        reply_error(c, "ERR Invalid number of arguments specified for command");
        return;
    }
    if (!cmd->firstkey) {
        reply_error(c, "ERR The command has no key arguments");
        return;
    }
    int last = cmd->lastkey < 0 ? argc + cmd->lastkey : cmd->lastkey;
    long n = 0;
    for (int i = cmd->firstkey; i <= last && i < argc; i += cmd->keystep) n++;
    reply_array(c, n);
    for (int i = cmd->firstkey; i <= last && i < argc; i += cmd->keystep) reply_bulk(c, argv[i].p, argv[i].len);
}

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
        NULL};
    reply_help(c, "COMMAND", lines);
}
