/* table: the commands Sardine implements, and the registry joining each with
 * its definition (command_defs.c, generated from commands.json).
 *
 * One line per command: name and handler; a container names its subcommand
 * table.  The data types keep their tables in their own files; all of them
 * are listed in `tables` below by name, so a missing or renamed table is a
 * link error, and a command without a definition stops the server at startup
 * (commands_init), which every test run catches. */
#include "commands/command.h"
#include "commands/commands.h"
#include "features/blocking.h"
#include "features/eval.h"
#include "features/functions.h"
#include "features/monitor.h"
#include "features/multi.h"
#include "features/pubsub.h"
#include "features/replsync.h"
#include "features/saving.h"
#include "features/tracking.h"
#include "util/hdrhist.h"
#include "util/mem.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static command object_subs[] = {
    {"encoding", cmd_object_encoding},
    {"freq", cmd_object_freq},
    {"idletime", cmd_object_idletime},
    {"refcount", cmd_object_refcount},
    {"help", cmd_object_help},
    {0}};

static command client_subs[] = {
    {"id", cmd_client_id},
    {"setname", cmd_client_setname},
    {"getname", cmd_client_getname},
    {"list", cmd_client_list},
    {"info", cmd_client_info},
    {"kill", cmd_client_kill},
    {"pause", cmd_client_pause},
    {"unpause", cmd_client_unpause},
    {"reply", cmd_client_reply},
    {"no-evict", cmd_client_no_evict},
    {"no-touch", cmd_client_no_touch},
    {"unblock", cmd_client_unblock},
    {"tracking", cmd_client_tracking},
    {"caching", cmd_client_caching},
    {"getredir", cmd_client_getredir},
    {"trackinginfo", cmd_client_trackinginfo},
    {"help", cmd_client_help},
    {0}};

static command config_subs[] = {
    {"get", cmd_config_get},
    {"set", cmd_config_set},
    {"resetstat", cmd_config_resetstat},
    {"rewrite", cmd_config_rewrite},
    {"help", cmd_config_help},
    {0}};

static command memory_subs[] = {
    {"usage", cmd_memory_usage},
    {"stats", cmd_memory_stats},
    {"doctor", cmd_memory_doctor},
    {"purge", cmd_memory_purge},
    {"malloc-stats", cmd_memory_malloc_stats},
    {"help", cmd_memory_help},
    {0}};

static command command_subs[] = {
    {"count", cmd_command_count},
    {"info", cmd_command_info},
    {"docs", cmd_command_docs},
    {"list", cmd_command_list},
    {"getkeys", cmd_command_getkeys},
    {"getkeysandflags", cmd_command_getkeysandflags},
    {"help", cmd_command_help},
    {0}};

static command slowlog_subs[] = {
    {"get", cmd_slowlog_get},
    {"len", cmd_slowlog_len},
    {"reset", cmd_slowlog_reset},
    {"help", cmd_slowlog_help},
    {0}};

static command latency_subs[] = {
    {"latest", cmd_latency_latest},
    {"history", cmd_latency_history},
    {"reset", cmd_latency_reset},
    {"doctor", cmd_latency_doctor},
    {"graph", cmd_latency_graph},
    {"histogram", cmd_latency_histogram},
    {"help", cmd_latency_help},
    {0}};

static command script_subs[] = {
    {"load", cmd_script_load},
    {"exists", cmd_script_exists},
    {"flush", cmd_script_flush},
    {"kill", cmd_script_kill},
    {"debug", cmd_script_debug},
    {"help", cmd_script_help},
    {0}};

static command function_subs[] = {
    {"load", cmd_function_load},
    {"delete", cmd_function_delete},
    {"flush", cmd_function_flush},
    {"list", cmd_function_list},
    {"stats", cmd_function_stats},
    {"kill", cmd_function_kill},
    {"dump", cmd_function_dump},
    {"restore", cmd_function_restore},
    {"help", cmd_function_help},
    {0}};

static command pubsub_subs[] = {
    {"channels", cmd_pubsub_channels},
    {"numsub", cmd_pubsub_numsub},
    {"numpat", cmd_pubsub_numpat},
    {"shardchannels", cmd_pubsub_shardchannels},
    {"shardnumsub", cmd_pubsub_shardnumsub},
    {"help", cmd_pubsub_help},
    {0}};

command core_commands[] = {
    /* strings */
    {"get", cmd_get},
    {"set", cmd_set},
    {"setnx", cmd_setnx},
    {"setex", cmd_setex},
    {"psetex", cmd_psetex},
    {"getset", cmd_getset},
    {"getdel", cmd_getdel},
    {"getex", cmd_getex},
    {"mget", cmd_mget},
    {"mset", cmd_mset},
    {"msetnx", cmd_msetnx},
    {"append", cmd_append},
    {"strlen", cmd_strlen},
    {"incr", cmd_incr},
    {"decr", cmd_decr},
    {"incrby", cmd_incrby},
    {"decrby", cmd_decrby},
    {"incrbyfloat", cmd_incrbyfloat},
    {"getrange", cmd_getrange},
    {"substr", cmd_getrange},
    {"setrange", cmd_setrange},
    {"lcs", cmd_lcs},
    /* keyspace */
    {"del", cmd_del},
    {"unlink", cmd_unlink},
    {"exists", cmd_exists},
    {"type", cmd_type},
    {"rename", cmd_rename},
    {"renamenx", cmd_renamenx},
    {"copy", cmd_copy},
    {"touch", cmd_touch},
    {"randomkey", cmd_randomkey},
    {"keys", cmd_keys},
    {"scan", cmd_scan},
    {"dbsize", cmd_dbsize},
    {"select", cmd_select},
    {"move", cmd_move},
    {"swapdb", cmd_swapdb},
    {"flushdb", cmd_flushdb},
    {"flushall", cmd_flushall},
    {"object", NULL, object_subs},
    /* expiry */
    {"expire", cmd_expire},
    {"pexpire", cmd_pexpire},
    {"expireat", cmd_expireat},
    {"pexpireat", cmd_pexpireat},
    {"ttl", cmd_ttl},
    {"pttl", cmd_pttl},
    {"expiretime", cmd_expiretime},
    {"pexpiretime", cmd_pexpiretime},
    {"persist", cmd_persist},
    /* connection */
    {"ping", cmd_ping},
    {"echo", cmd_echo},
    {"quit", cmd_quit},
    {"monitor", cmd_monitor},
    {"time", cmd_time},
    {"hello", cmd_hello},
    {"auth", cmd_auth},
    {"reset", cmd_reset},
    {"client", NULL, client_subs},
    /* transactions */
    {"multi", cmd_multi},
    {"exec", cmd_exec},
    {"discard", cmd_discard},
    {"watch", cmd_watch},
    {"unwatch", cmd_unwatch},
    /* pub/sub */
    {"subscribe", cmd_subscribe},
    {"unsubscribe", cmd_unsubscribe},
    {"psubscribe", cmd_psubscribe},
    {"punsubscribe", cmd_punsubscribe},
    {"ssubscribe", cmd_ssubscribe},
    {"sunsubscribe", cmd_sunsubscribe},
    {"publish", cmd_publish},
    {"spublish", cmd_spublish},
    {"pubsub", NULL, pubsub_subs},
    /* scripting */
    {"eval", cmd_eval},
    {"evalsha", cmd_evalsha},
    {"eval_ro", cmd_eval_ro},
    {"evalsha_ro", cmd_evalsha_ro},
    {"script", NULL, script_subs},
    {"fcall", cmd_fcall},
    {"fcall_ro", cmd_fcall_ro},
    {"function", NULL, function_subs},
    /* server */
    {"config", NULL, config_subs},
    {"info", cmd_info},
    {"debug", cmd_debug},
    {"restore", cmd_restore},
    {"restore-asking", cmd_restore_asking},
    {"shutdown", cmd_shutdown},
    {"lastsave", cmd_lastsave},
    {"save", cmd_save},
    {"bgsave", cmd_bgsave},
    {"sync", cmd_sync},
    {"psync", cmd_psync},
    {"replconf", cmd_replconf},
    {"memory", NULL, memory_subs},
    {"command", cmd_command, command_subs},
    {"slowlog", NULL, slowlog_subs},
    {"latency", NULL, latency_subs},
    {0}};

static command *const tables[] = {core_commands, hash_commands,   set_commands, zset_commands,   list_commands,
                                  bitmap_commands, hll_commands, geo_commands, stream_commands, sort_commands,
                                  dump_commands, aof_commands, module_commands, acl_commands};
#define NTABLES ((int)(sizeof(tables) / sizeof(tables[0])))

/* The top-level commands by name: open addressing over a table at most a quarter full, with a cheap
 * case-folding hash (the set is fixed at startup and nobody can add to it, so a chosen name costs at most
 * the longest probe run).  Every lookup of every request goes through it. */
#define NAME_SLOTS 1024
typedef struct name_slot {
    const char *name; /* lower case: the command's own, or its rename-command name */
    size_t len;
    command *c;
} name_slot;
static name_slot by_name[NAME_SLOTS];
static int initialized;
static command **all;
static int nall;

/* The reply names of the flags, categories and key spec flags, in their bit order (command.h). */
const char *const command_flag_names[CMD_VISIBLE_FLAGS] = {
    "write", "readonly", "denyoom", "admin", "pubsub", "noscript", "blocking", "loading", "stale", "skip_monitor",
    "skip_slowlog", "asking", "fast", "no_auth", "no_mandatory_keys", "no_async_loading", "no_multi", "movablekeys",
    "allow_busy"};

const char *const acl_category_names[ACL_CATEGORIES] = {
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo",
    "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction", "scripting"};

const char *const key_spec_flag_names[KS_FLAG_COUNT] = {
    "RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key", "incomplete", "variable_flags"};

/* Bisection over the definitions, sorted by full name (the generator sorts them; tests/unit checks it). */
const cmd_def *command_def_find(const char *fullname, size_t len) {
    if (memchr(fullname, 0, len)) return NULL; /* no name holds a NUL (and strncasecmp would stop at it) */
    int lo = 0, hi = command_defs_count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        const char *name = command_defs[mid].fullname;
        int cmp = strncasecmp(name, fullname, len);
        if (cmp == 0 && name[len]) cmp = 1;
        if (cmp == 0) return &command_defs[mid];
        if (cmp < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return NULL;
}

static void attach_def(command *c) {
    c->def = command_def_find(c->fullname, strlen(c->fullname));
    if (!c->def) {
        fprintf(stderr, "sardine: command '%s' has no definition in src/commands/commands*.json\n", c->fullname);
        abort();
    }
    c->arity = c->def->arity;
    c->flags = c->def->flags;
}

static unsigned name_hash(const char *p, size_t len) {
    uint32_t h = 2166136261u ^ (uint32_t)len;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)(p[i] | 0x20)) * 16777619u;
    return h ^ (h >> 15);
}

/* name (any case) is the command's lower-case name c (of length len). */
static int name_is(const char *name, const char *c, size_t len) {
    for (size_t i = 0; i < len; i++) {
        unsigned char a = (unsigned char)name[i], b = (unsigned char)c[i];
        if (a != b && !(a >= 'A' && a <= 'Z' && (a | 0x20) == b)) return 0;
    }
    return 1;
}

static void add_name(command *c, const char *name) {
    static int n;
    if (++n > NAME_SLOTS / 4) abort(); /* keep the table sparse: make NAME_SLOTS bigger */
    size_t len = strlen(name);
    for (size_t i = 0; i < len; i++)
        if (name[i] >= 'A' && name[i] <= 'Z') abort(); /* names are kept in lower case */
    unsigned i = name_hash(name, len) & (NAME_SLOTS - 1);
    while (by_name[i].c) {
        if (by_name[i].len == len && !memcmp(by_name[i].name, name, len)) abort(); /* listed twice */
        i = (i + 1) & (NAME_SLOTS - 1);
    }
    by_name[i] = (name_slot){name, len, c};
}

static name_slot *find_name(const char *name, size_t len) {
    unsigned i = name_hash(name, len) & (NAME_SLOTS - 1);
    for (; by_name[i].c; i = (i + 1) & (NAME_SLOTS - 1))
        if (by_name[i].len == len && name_is(name, by_name[i].name, len)) return &by_name[i];
    return NULL;
}

void commands_init(void) {
    if (initialized) return; /* done already (rename-command in the config file needs the table early) */
    initialized = 1;
    for (int t = 0; t < NTABLES; t++)
        for (command *c = tables[t]; c->name; c++) {
            snprintf(c->fullname, sizeof(c->fullname), "%s", c->name);
            attach_def(c);
            add_name(c, c->name);
            nall++;
            for (command *s = c->subcmds; s && s->name; s++) {
                s->parent = c;
                snprintf(s->fullname, sizeof(s->fullname), "%s|%s", c->name, s->name);
                attach_def(s);
            }
        }
    all = s_malloc((size_t)nall * sizeof(*all));
    int i = 0;
    for (int t = 0; t < NTABLES; t++)
        for (command *c = tables[t]; c->name; c++) all[i++] = c;
}

/* rename-command, as Redis 7.0 applies it while reading the config file: the command is looked up by its
 * current name, removed, and added again under the new one unless that is empty (the command is then gone,
 * also from COMMAND's lists).  A command Redis has and Sardine does not implement (CLUSTER ...) is
 * accepted and nothing changes, so stock redis.conf files keep loading.  The name table is rebuilt (this
 * happens only while the config file is read). */
int commands_rename(const char *from, const char *to, const char **err) {
    commands_init();
    name_slot *slot = find_name(from, strlen(from));
    if (!slot) {
        if (command_def_find(from, strlen(from)) && !strchr(from, '|')) return 1;
        *err = "No such command in rename-command";
        return 0;
    }
    command *c = slot->c;
    size_t tlen = strlen(to);
    if (tlen && find_name(to, tlen)) {
        *err = "Target command name already exists";
        return 0;
    }
    name_slot keep[NAME_SLOTS];
    int n = 0;
    for (int i = 0; i < NAME_SLOTS; i++)
        if (by_name[i].c && &by_name[i] != slot) keep[n++] = by_name[i];
    memset(by_name, 0, sizeof(by_name));
    for (int i = 0; i < n; i++) {
        unsigned j = name_hash(keep[i].name, keep[i].len) & (NAME_SLOTS - 1);
        while (by_name[j].c) j = (j + 1) & (NAME_SLOTS - 1);
        by_name[j] = keep[i];
    }
    if (!tlen) {
        for (int i = 0; i < nall; i++)
            if (all[i] == c) {
                all[i] = all[--nall];
                break;
            }
        return 1;
    }
    char *lower = s_malloc(tlen + 1);
    for (size_t i = 0; i <= tlen; i++) lower[i] = (char)tolower((unsigned char)to[i]);
    add_name(c, lower); /* kept for the life of the process */
    return 1;
}

command *command_lookup_name(const char *name, size_t len) {
    name_slot *s = find_name(name, len);
    return s ? s->c : NULL;
}

command *command_container(const char *name, size_t len) {
    command *c = command_lookup_name(name, len);
    return c && c->subcmds ? c : NULL;
}

command *command_lookup(arg *argv, int argc) {
    command *c = command_lookup_name(argv[0].p, argv[0].len);
    if (!c || !c->subcmds || argc == 1) return c && (c->proc || argc == 1) ? c : NULL;
    for (command *s = c->subcmds; s->name; s++)
        if (strlen(s->name) == argv[1].len && strncasecmp(s->name, argv[1].p, argv[1].len) == 0) return s;
    return NULL;
}

const char *command_fullname(const command *cmd) { return cmd->fullname; }

command **command_all(int *n) {
    *n = nall;
    return all;
}

void commands_reset_stats(void) {
    for (int i = 0; i < nall; i++) {
        command *c = all[i];
        c->calls = c->usec = c->rejected = c->failed = 0;
        hdrhist_free(&c->lat_hist);
        for (command *s = c->subcmds; s && s->name; s++) {
            s->calls = s->usec = s->rejected = s->failed = 0;
            hdrhist_free(&s->lat_hist);
        }
    }
}
