/* commands: every command implementation, one function per command named
 * cmd_<name>.  Grouped by file: strings.c, keys.c, expire.c, connection.c,
 * server_cmds.c (CONFIG/INFO/DEBUG/MEMORY/COMMAND/SHUTDOWN...), and
 * features/multi.c (MULTI/EXEC/WATCH). */
#ifndef SARDINE_COMMANDS_H
#define SARDINE_COMMANDS_H
#include "keyspace/effects.h"
#include "server/server.h"
#include "net/client.h"

#define CMD(name) void cmd_##name(client *c);
/* strings */
CMD(get) CMD(set) CMD(setnx) CMD(setex) CMD(psetex) CMD(getset) CMD(getdel) CMD(getex) CMD(mget) CMD(mset)
CMD(msetnx) CMD(append) CMD(strlen) CMD(incr) CMD(decr) CMD(incrby) CMD(decrby) CMD(incrbyfloat)
CMD(getrange) CMD(setrange) CMD(lcs)
/* keys */
CMD(del) CMD(unlink) CMD(exists) CMD(type) CMD(rename) CMD(renamenx) CMD(copy) CMD(touch) CMD(randomkey)
CMD(keys) CMD(scan) CMD(dbsize) CMD(select) CMD(move) CMD(swapdb) CMD(flushdb) CMD(flushall)
CMD(object_encoding) CMD(object_freq) CMD(object_idletime) CMD(object_refcount) CMD(object_help)
/* expiry */
CMD(expire) CMD(pexpire) CMD(expireat) CMD(pexpireat) CMD(ttl) CMD(pttl) CMD(expiretime) CMD(pexpiretime)
CMD(persist)
/* DUMP payloads */
CMD(restore) CMD(restore_asking)
/* connection */
CMD(ping) CMD(echo) CMD(quit) CMD(time) CMD(hello) CMD(auth) CMD(reset)
CMD(client_id) CMD(client_setname) CMD(client_getname) CMD(client_list) CMD(client_info) CMD(client_kill)
CMD(client_pause) CMD(client_unpause) CMD(client_reply) CMD(client_no_evict) CMD(client_no_touch) CMD(client_help)
/* server */
CMD(config_get) CMD(config_set) CMD(config_resetstat) CMD(config_rewrite) CMD(config_help)
CMD(info) CMD(debug) CMD(shutdown) CMD(lastsave)
/* modules (module_cmds.c) */
CMD(module_list) CMD(module_load) CMD(module_unload)
CMD(memory_usage) CMD(memory_stats) CMD(memory_doctor) CMD(memory_purge) CMD(memory_malloc_stats) CMD(memory_help)
CMD(command) CMD(command_count) CMD(command_info) CMD(command_docs) CMD(command_list) CMD(command_getkeys)
CMD(command_getkeysandflags) CMD(command_help)
CMD(slowlog_get) CMD(slowlog_len) CMD(slowlog_reset) CMD(slowlog_help)
CMD(latency_latest) CMD(latency_history) CMD(latency_reset) CMD(latency_doctor) CMD(latency_graph) CMD(latency_histogram) CMD(latency_help)
#undef CMD

/* Announces that the running command changed key k (keyspace/effects.h): cls is the event's class
 * (FX_LIST ...), event Redis's keyspace event name, or NULL where another call names it. */
static inline void key_changed(client *c, const arg *k, int cls, const char *event) {
    fx_key(c->db, k->p, k->len, cls, event);
}

/* The event name of a change a generic write (db_set_value*, db_set_ttl, a new key, a delete) announces
 * and counts itself: notified to listeners without counting the change twice. */
static inline void key_event(client *c, const arg *k, int cls, const char *event) {
    fx_event(c->db, k->p, k->len, cls, event);
}

/* rdb_changes_since_last_save as Redis 7.0 counts it: one per key announced (effects.c) unless the command
 * says otherwise.  Where Redis counts elements (HSET of 3 fields: 3, SADD: the members added, RPUSH: the
 * elements pushed ...) or once for a change of two keys (RENAME, MOVE, LMOVE) or for a key created and
 * written (SETBIT, XADD), the command takes dirty_mark() first and ends with dirty_count(mark, n): its
 * changes are then n.  call() propagates a command whose count moved, so n is 0 exactly when nothing
 * changed. */
static inline long long dirty_mark(void) { return srv.dirty; }
static inline void dirty_count(long long mark, long long n) { srv.dirty = mark + n; }

/* MIGRATE's connection cache: closes the connections unused for more than 10 seconds (the cron calls it). */
void migrate_close_idle(void);

/* Exits the process after SHUTDOWN's last steps (pid file, unix socket, supervisor notice). */
void shutdown_now(int exit_code);

/* Shared argument helpers for command implementations. */
int arg_is(const arg *a, const char *word);                       /* case-insensitive */
int arg_ll(client *c, const arg *a, long long *v, const char *err); /* replies err (or the default) on failure */
int arg_ll_range(client *c, const arg *a, long long *v, long long min, long long max, const char *err);
int select_db(client *c, const arg *a, int *id); /* "ERR DB index is out of range" */
/* The SCAN family: a cursor by Redis's rule (unsigned decimal, nothing else; "ERR invalid cursor"), and the
 * MATCH/COUNT options from argv[first] (TYPE too when type is not NULL); MATCH "*" gives pat NULL. */
int parse_scan_cursor(client *c, const arg *a, unsigned long long *cursor);
int parse_scan_options(client *c, int first, long long *count, const arg **pat, const arg **type);
#endif
