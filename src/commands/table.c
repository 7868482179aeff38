/* table: the command table.  One line per command: name, handler, arity,
 * flags, type category, first/last/step key positions, then the docs that
 * COMMAND INFO/DOCS report (group, since, summary, complexity). */
#include "commands/command.h"
#include "commands/commands.h"
#include "server/blocking.h"
#include "server/multi.h"
#include "util/dict.h"
#include "util/mem.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define W CMD_WRITE
#define R CMD_READONLY
#define M CMD_DENYOOM
#define F CMD_FAST
#define A CMD_ADMIN
#define NS CMD_NOSCRIPT
#define LD CMD_LOADING
#define ST CMD_STALE
#define NA CMD_NO_AUTH
#define AB CMD_ALLOW_BUSY

static command object_subs[] = {
    {"encoding", cmd_object_encoding, 3, R, "@keyspace", 2, 2, 1, "generic", "2.2.3", "Inspect the internal encoding of a Redis object.", "O(1)"},
    {"freq", cmd_object_freq, 3, R, "@keyspace", 2, 2, 1, "generic", "4.0.0", "Get the logarithmic access frequency counter of a Redis object.", "O(1)"},
    {"idletime", cmd_object_idletime, 3, R, "@keyspace", 2, 2, 1, "generic", "2.2.3", "Get the time since a Redis object was last accessed.", "O(1)"},
    {"refcount", cmd_object_refcount, 3, R, "@keyspace", 2, 2, 1, "generic", "2.2.3", "Get the number of references to the value of the key.", "O(1)"},
    {"help", cmd_object_help, 2, LD | ST, "@keyspace", 0, 0, 0, "generic", "6.2.0", "Show helpful text about the different subcommands.", "O(1)"},
    {0}};

static command client_subs[] = {
    {"id", cmd_client_id, 2, NS | LD | ST, "@connection", 0, 0, 0, "connection", "5.0.0", "Returns the client ID for the current connection.", "O(1)"},
    {"setname", cmd_client_setname, 3, NS | LD | ST, "@connection", 0, 0, 0, "connection", "2.6.9", "Set the current connection name.", "O(1)"},
    {"getname", cmd_client_getname, 2, NS | LD | ST, "@connection", 0, 0, 0, "connection", "2.6.9", "Get the current connection name.", "O(1)"},
    {"list", cmd_client_list, -2, A | NS | LD | ST, "@connection", 0, 0, 0, "connection", "2.4.0", "Get the list of client connections.", "O(N) where N is the number of client connections"},
    {"info", cmd_client_info, 2, NS | LD | ST, "@connection", 0, 0, 0, "connection", "6.2.0", "Returns information about the current client connection.", "O(1)"},
    {"kill", cmd_client_kill, -3, A | NS | LD | ST, "@connection", 0, 0, 0, "connection", "2.4.0", "Kill the connection of a client.", "O(N) where N is the number of client connections"},
    {"pause", cmd_client_pause, -3, A | NS | LD | ST, "@connection", 0, 0, 0, "connection", "2.9.50", "Stop processing commands from clients for some time.", "O(1)"},
    {"unpause", cmd_client_unpause, 2, A | NS | LD | ST, "@connection", 0, 0, 0, "connection", "6.2.0", "Resume processing of clients that were paused.", "O(N) Where N is the number of paused clients"},
    {"reply", cmd_client_reply, 3, NS | LD | ST, "@connection", 0, 0, 0, "connection", "3.2.0", "Instruct the server whether to reply to commands.", "O(1)"},
    {"no-evict", cmd_client_no_evict, 3, A | NS | LD | ST, "@connection", 0, 0, 0, "connection", "7.0.0", "Set client eviction mode for the current connection.", "O(1)"},
    {"no-touch", cmd_client_no_touch, 3, NS | LD | ST, "@connection", 0, 0, 0, "connection", "7.2.0", "Controls whether commands sent by the client will alter the LRU/LFU of the keys they access.", "O(1)"},
    {"unblock", cmd_client_unblock, -3, A | NS | LD | ST, "@connection", 0, 0, 0, "connection", "5.0.0", "Unblock a client blocked in a blocking command from a different connection.", "O(log N) where N is the number of client connections"},
    {"help", cmd_client_help, 2, LD | ST, "@connection", 0, 0, 0, "connection", "5.0.0", "Show helpful text about the different subcommands.", "O(1)"},
    {0}};

static command config_subs[] = {
    {"get", cmd_config_get, -3, A | NS | LD | ST, "@admin", 0, 0, 0, "server", "2.0.0", "Get the values of configuration parameters.", "O(N) when N is the number of configuration parameters provided"},
    {"set", cmd_config_set, -4, A | NS | LD | ST, "@admin", 0, 0, 0, "server", "2.0.0", "Set configuration parameters to the given values.", "O(N) when N is the number of configuration parameters provided"},
    {"resetstat", cmd_config_resetstat, 2, A | NS | LD | ST, "@admin", 0, 0, 0, "server", "2.0.0", "Reset the stats returned by INFO.", "O(1)"},
    {"rewrite", cmd_config_rewrite, 2, A | NS | LD | ST, "@admin", 0, 0, 0, "server", "2.8.0", "Rewrite the configuration file with the in memory configuration.", "O(1)"},
    {"help", cmd_config_help, 2, LD | ST, "@admin", 0, 0, 0, "server", "5.0.0", "Show helpful text about the different subcommands.", "O(1)"},
    {0}};

static command memory_subs[] = {
    {"usage", cmd_memory_usage, -3, R, "@read", 2, 2, 1, "server", "4.0.0", "Estimate the memory usage of a key.", "O(N) where N is the number of samples."},
    {"stats", cmd_memory_stats, 2, 0, "@slow", 0, 0, 0, "server", "4.0.0", "Show memory usage details.", "O(1)"},
    {"doctor", cmd_memory_doctor, 2, 0, "@slow", 0, 0, 0, "server", "4.0.0", "Outputs memory problems report.", "O(1)"},
    {"purge", cmd_memory_purge, 2, 0, "@slow", 0, 0, 0, "server", "4.0.0", "Ask the allocator to release memory.", "Depends on how much memory is allocated, could be slow"},
    {"malloc-stats", cmd_memory_malloc_stats, 2, 0, "@slow", 0, 0, 0, "server", "4.0.0", "Show allocator internal stats.", "Depends on how much memory is allocated, could be slow"},
    {"help", cmd_memory_help, 2, LD | ST, "@slow", 0, 0, 0, "server", "4.0.0", "Show helpful text about the different subcommands.", "O(1)"},
    {0}};

static command command_subs[] = {
    {"count", cmd_command_count, 2, LD | ST, "@connection", 0, 0, 0, "server", "2.8.13", "Get total number of Redis commands.", "O(1)"},
    {"info", cmd_command_info, -2, LD | ST, "@connection", 0, 0, 0, "server", "2.8.13", "Get array of specific Redis command details, or all when no argument is given.", "O(N) where N is the number of commands to look up"},
    {"docs", cmd_command_docs, -2, LD | ST, "@connection", 0, 0, 0, "server", "7.0.0", "Get array of specific Redis command documentation.", "O(N) where N is the number of commands to look up"},
    {"list", cmd_command_list, -2, LD | ST, "@connection", 0, 0, 0, "server", "7.0.0", "Get an array of Redis command names.", "O(N) where N is the total number of Redis commands"},
    {"getkeys", cmd_command_getkeys, -3, LD | ST, "@connection", 0, 0, 0, "server", "2.8.13", "Extract keys given a full Redis command.", "O(N) where N is the number of arguments to the command"},
    {"help", cmd_command_help, 2, LD | ST, "@connection", 0, 0, 0, "server", "5.0.0", "Show helpful text about the different subcommands.", "O(1)"},
    {0}};

static command slowlog_subs[] = {
    {"get", cmd_slowlog_get, -2, A | LD | ST, "@admin", 0, 0, 0, "server", "2.2.12", "Get the slow log's entries.", "O(N) where N is the number of entries returned"},
    {"len", cmd_slowlog_len, 2, A | LD | ST, "@admin", 0, 0, 0, "server", "2.2.12", "Get the slow log's length.", "O(1)"},
    {"reset", cmd_slowlog_reset, 2, A | LD | ST, "@admin", 0, 0, 0, "server", "2.2.12", "Clear all entries from the slow log.", "O(N) where N is the number of entries in the slowlog"},
    {"help", cmd_slowlog_help, 2, LD | ST, "@slow", 0, 0, 0, "server", "6.2.0", "Show helpful text about the different subcommands", "O(1)"},
    {0}};

static command latency_subs[] = {
    {"latest", cmd_latency_latest, 2, A | NS | LD | ST, "@admin", 0, 0, 0, "server", "2.8.13", "Return the latest latency samples for all events.", "O(1)"},
    {"history", cmd_latency_history, 3, A | NS | LD | ST, "@admin", 0, 0, 0, "server", "2.8.13", "Return timestamp-latency samples for the event.", "O(1)"},
    {"reset", cmd_latency_reset, -2, A | NS | LD | ST, "@admin", 0, 0, 0, "server", "2.8.13", "Reset latency data for one or more events.", "O(1)"},
    {"doctor", cmd_latency_doctor, 2, A | NS | LD | ST, "@admin", 0, 0, 0, "server", "2.8.13", "Return a human readable latency analysis report.", "O(1)"},
    {"help", cmd_latency_help, 2, LD | ST, "@slow", 0, 0, 0, "server", "2.8.13", "Show helpful text about the different subcommands.", "O(1)"},
    {0}};

static command table[] = {
    /* strings */
    {"get", cmd_get, 2, R | F, "@string", 1, 1, 1, "string", "1.0.0", "Get the value of a key", "O(1)"},
    {"set", cmd_set, -3, W | M, "@string", 1, 1, 1, "string", "1.0.0", "Set the string value of a key", "O(1)"},
    {"setnx", cmd_setnx, 3, W | M | F, "@string", 1, 1, 1, "string", "1.0.0", "Set the value of a key, only if the key does not exist", "O(1)"},
    {"setex", cmd_setex, 4, W | M, "@string", 1, 1, 1, "string", "2.0.0", "Set the value and expiration of a key", "O(1)"},
    {"psetex", cmd_psetex, 4, W | M, "@string", 1, 1, 1, "string", "2.6.0", "Set the value and expiration in milliseconds of a key", "O(1)"},
    {"getset", cmd_getset, 3, W | M | F, "@string", 1, 1, 1, "string", "1.0.0", "Set the string value of a key and return its old value", "O(1)"},
    {"getdel", cmd_getdel, 2, W | F, "@string", 1, 1, 1, "string", "6.2.0", "Get the value of a key and delete the key", "O(1)"},
    {"getex", cmd_getex, -2, W | F, "@string", 1, 1, 1, "string", "6.2.0", "Get the value of a key and optionally set its expiration", "O(1)"},
    {"mget", cmd_mget, -2, R | F, "@string", 1, -1, 1, "string", "1.0.0", "Get the values of all the given keys", "O(N) where N is the number of keys to retrieve."},
    {"mset", cmd_mset, -3, W | M, "@string", 1, -1, 2, "string", "1.0.1", "Set multiple keys to multiple values", "O(N) where N is the number of keys to set."},
    {"msetnx", cmd_msetnx, -3, W | M, "@string", 1, -1, 2, "string", "1.0.1", "Set multiple keys to multiple values, only if none of the keys exist", "O(N) where N is the number of keys to set."},
    {"append", cmd_append, 3, W | M | F, "@string", 1, 1, 1, "string", "2.0.0", "Append a value to a key", "O(1)"},
    {"strlen", cmd_strlen, 2, R | F, "@string", 1, 1, 1, "string", "2.2.0", "Get the length of the value stored in a key", "O(1)"},
    {"incr", cmd_incr, 2, W | M | F, "@string", 1, 1, 1, "string", "1.0.0", "Increment the integer value of a key by one", "O(1)"},
    {"decr", cmd_decr, 2, W | M | F, "@string", 1, 1, 1, "string", "1.0.0", "Decrement the integer value of a key by one", "O(1)"},
    {"incrby", cmd_incrby, 3, W | M | F, "@string", 1, 1, 1, "string", "1.0.0", "Increment the integer value of a key by the given amount", "O(1)"},
    {"decrby", cmd_decrby, 3, W | M | F, "@string", 1, 1, 1, "string", "1.0.0", "Decrement the integer value of a key by the given number", "O(1)"},
    {"incrbyfloat", cmd_incrbyfloat, 3, W | M | F, "@string", 1, 1, 1, "string", "2.6.0", "Increment the float value of a key by the given amount", "O(1)"},
    {"getrange", cmd_getrange, 4, R, "@string", 1, 1, 1, "string", "2.4.0", "Get a substring of the string stored at a key", "O(N) where N is the length of the returned string."},
    {"substr", cmd_getrange, 4, R, "@string", 1, 1, 1, "string", "1.0.0", "Get a substring of the string stored at a key", "O(N) where N is the length of the returned string."},
    {"setrange", cmd_setrange, 4, W | M, "@string", 1, 1, 1, "string", "2.2.0", "Overwrite part of a string at key starting at the specified offset", "O(1)"},
    {"lcs", cmd_lcs, -3, R, "@string", 1, 2, 1, "string", "7.0.0", "Find longest common substring", "O(N*M) where N and M are the lengths of s1 and s2, respectively"},
    /* keyspace */
    {"del", cmd_del, -2, W, "@keyspace", 1, -1, 1, "generic", "1.0.0", "Delete a key", "O(N) where N is the number of keys that will be removed."},
    {"unlink", cmd_unlink, -2, W | F, "@keyspace", 1, -1, 1, "generic", "4.0.0", "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", "O(1) for each key removed regardless of its size."},
    {"exists", cmd_exists, -2, R | F, "@keyspace", 1, -1, 1, "generic", "1.0.0", "Determine if a key exists", "O(N) where N is the number of keys to check."},
    {"type", cmd_type, 2, R | F, "@keyspace", 1, 1, 1, "generic", "1.0.0", "Determine the type stored at key", "O(1)"},
    {"rename", cmd_rename, 3, W, "@keyspace", 1, 2, 1, "generic", "1.0.0", "Rename a key", "O(1)"},
    {"renamenx", cmd_renamenx, 3, W | F, "@keyspace", 1, 2, 1, "generic", "1.0.0", "Rename a key, only if the new key does not exist", "O(1)"},
    {"copy", cmd_copy, -3, W | M, "@keyspace", 1, 2, 1, "generic", "6.2.0", "Copy a key", "O(N) worst case for collections, where N is the number of nested items."},
    {"touch", cmd_touch, -2, R | F, "@keyspace", 1, -1, 1, "generic", "3.2.1", "Alters the last access time of a key(s). Returns the number of existing keys specified.", "O(N) where N is the number of keys that will be touched."},
    {"randomkey", cmd_randomkey, 1, R, "@keyspace", 0, 0, 0, "generic", "1.0.0", "Return a random key from the keyspace", "O(1)"},
    {"keys", cmd_keys, 2, R, "@keyspace", 0, 0, 0, "generic", "1.0.0", "Find all keys matching the given pattern", "O(N) with N being the number of keys in the database"},
    {"scan", cmd_scan, -2, R, "@keyspace", 0, 0, 0, "generic", "2.8.0", "Incrementally iterate the keys space", "O(1) for every call. O(N) for a complete iteration."},
    {"dbsize", cmd_dbsize, 1, R | F, "@keyspace", 0, 0, 0, "server", "1.0.0", "Return the number of keys in the selected database", "O(1)"},
    {"select", cmd_select, 2, LD | ST | F, "@connection", 0, 0, 0, "connection", "1.0.0", "Change the selected database for the current connection", "O(1)"},
    {"move", cmd_move, 3, W | F, "@keyspace", 1, 1, 1, "generic", "1.0.0", "Move a key to another database", "O(1)"},
    {"swapdb", cmd_swapdb, 3, W | F, "@keyspace", 0, 0, 0, "server", "4.0.0", "Swaps two Redis databases", "O(N) where N is the count of clients watching or blocking on keys from both databases."},
    {"flushdb", cmd_flushdb, -1, W, "@keyspace", 0, 0, 0, "server", "1.0.0", "Remove all keys from the current database", "O(N) where N is the number of keys in the selected database"},
    {"flushall", cmd_flushall, -1, W, "@keyspace", 0, 0, 0, "server", "1.0.0", "Remove all keys from all databases", "O(N) where N is the total number of keys in all databases"},
    {"object", NULL, -2, 0, "@keyspace", 0, 0, 0, "generic", "2.2.3", "A container for object introspection commands", "Depends on subcommand.", object_subs},
    /* expiry */
    {"expire", cmd_expire, -3, W | F, "@keyspace", 1, 1, 1, "generic", "1.0.0", "Set a key's time to live in seconds", "O(1)"},
    {"pexpire", cmd_pexpire, -3, W | F, "@keyspace", 1, 1, 1, "generic", "2.6.0", "Set a key's time to live in milliseconds", "O(1)"},
    {"expireat", cmd_expireat, -3, W | F, "@keyspace", 1, 1, 1, "generic", "1.2.0", "Set the expiration for a key as a UNIX timestamp", "O(1)"},
    {"pexpireat", cmd_pexpireat, -3, W | F, "@keyspace", 1, 1, 1, "generic", "2.6.0", "Set the expiration for a key as a UNIX timestamp specified in milliseconds", "O(1)"},
    {"ttl", cmd_ttl, 2, R | F, "@keyspace", 1, 1, 1, "generic", "1.0.0", "Get the time to live for a key in seconds", "O(1)"},
    {"pttl", cmd_pttl, 2, R | F, "@keyspace", 1, 1, 1, "generic", "2.6.0", "Get the time to live for a key in milliseconds", "O(1)"},
    {"expiretime", cmd_expiretime, 2, R | F, "@keyspace", 1, 1, 1, "generic", "7.0.0", "Get the expiration Unix timestamp for a key", "O(1)"},
    {"pexpiretime", cmd_pexpiretime, 2, R | F, "@keyspace", 1, 1, 1, "generic", "7.0.0", "Get the expiration Unix timestamp for a key in milliseconds", "O(1)"},
    {"persist", cmd_persist, 2, W | F, "@keyspace", 1, 1, 1, "generic", "2.2.0", "Remove the expiration from a key", "O(1)"},
    /* connection */
    {"ping", cmd_ping, -1, F, "@connection", 0, 0, 0, "connection", "1.0.0", "Ping the server", "O(1)"},
    {"echo", cmd_echo, 2, F, "@connection", 0, 0, 0, "connection", "1.0.0", "Echo the given string", "O(1)"},
    {"quit", cmd_quit, -1, AB | NS | LD | ST | F | NA, "@connection", 0, 0, 0, "connection", "1.0.0", "Close the connection", "O(1)"},
    {"time", cmd_time, 1, LD | ST | F, "@fast", 0, 0, 0, "server", "2.6.0", "Return the current server time", "O(1)"},
    {"hello", cmd_hello, -1, NS | LD | ST | F | NA, "@connection", 0, 0, 0, "connection", "6.0.0", "Handshake with Redis", "O(1)"},
    {"auth", cmd_auth, -2, NS | LD | ST | F | NA, "@connection", 0, 0, 0, "connection", "1.0.0", "Authenticate to the server", "O(N) where N is the number of passwords defined for the user"},
    {"reset", cmd_reset, 1, NS | LD | ST | F | NA | AB, "@connection", 0, 0, 0, "connection", "6.2.0", "Reset the connection", "O(1)"},
    {"client", NULL, -2, 0, "@connection", 0, 0, 0, "connection", "2.4.0", "A container for client connection commands", "Depends on subcommand.", client_subs},
    /* transactions */
    {"multi", cmd_multi, 1, NS | LD | ST | F | AB, "@transaction", 0, 0, 0, "transactions", "1.2.0", "Mark the start of a transaction block", "O(1)"},
    {"exec", cmd_exec, 1, NS | LD | ST | CMD_SKIP_SLOWLOG, "@transaction", 0, 0, 0, "transactions", "1.2.0", "Execute all commands issued after MULTI", "Depends on commands in the transaction"},
    {"discard", cmd_discard, 1, NS | LD | ST | F | AB, "@transaction", 0, 0, 0, "transactions", "2.0.0", "Discard all commands issued after MULTI", "O(N), when N is the number of queued commands"},
    {"watch", cmd_watch, -2, NS | LD | ST | F | AB, "@transaction", 1, -1, 1, "transactions", "2.2.0", "Watch the given keys to determine execution of the MULTI/EXEC block", "O(1) for every key."},
    {"unwatch", cmd_unwatch, 1, NS | LD | ST | F | AB, "@transaction", 0, 0, 0, "transactions", "2.2.0", "Forget about all watched keys", "O(1)"},
    /* server */
    {"config", NULL, -2, 0, "@admin", 0, 0, 0, "server", "2.0.0", "A container for server configuration commands", "Depends on subcommand.", config_subs},
    {"info", cmd_info, -1, LD | ST, "@dangerous", 0, 0, 0, "server", "1.0.0", "Get information and statistics about the server", "O(1)"},
    {"debug", cmd_debug, -2, A | NS | LD | ST | CMD_PROTECTED, "@admin", 0, 0, 0, "server", "1.0.0", "A container for debugging commands", "Depends on subcommand."},
    {"shutdown", cmd_shutdown, -1, A | NS | LD | ST | CMD_NO_MULTI | AB, "@admin", 0, 0, 0, "server", "1.0.0", "Synchronously save the dataset to disk and then shut down the server", "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)"},
    {"lastsave", cmd_lastsave, 1, LD | ST | F, "@admin", 0, 0, 0, "server", "1.0.0", "Get the UNIX time stamp of the last successful save to disk", "O(1)"},
    {"memory", NULL, -2, 0, "@slow", 0, 0, 0, "server", "4.0.0", "A container for memory diagnostics commands", "Depends on subcommand.", memory_subs},
    {"command", cmd_command, -1, LD | ST, "@connection", 0, 0, 0, "server", "2.8.13", "Get array of Redis command details", "O(N) where N is the total number of Redis commands", command_subs},
    {"slowlog", NULL, -2, 0, "@admin", 0, 0, 0, "server", "2.2.12", "A container for slow log commands", "Depends on subcommand.", slowlog_subs},
    {"latency", NULL, -2, 0, "@admin", 0, 0, 0, "server", "2.8.13", "A container for latency diagnostics commands", "Depends on subcommand.", latency_subs},
    {0}};

/* Command tables of the data types, each defined in its type's command file (weak: optional). */
extern command hash_commands[] __attribute__((weak));
extern command set_commands[] __attribute__((weak));
extern command zset_commands[] __attribute__((weak));
extern command list_commands[] __attribute__((weak));
extern command bitmap_commands[] __attribute__((weak));
extern command hll_commands[] __attribute__((weak));
extern command geo_commands[] __attribute__((weak));
extern command stream_commands[] __attribute__((weak));
extern command sort_commands[] __attribute__((weak));
extern command extra_commands[] __attribute__((weak));

static dict *by_name;
static command **all;
static int nall;

void commands_init(void) {
    command *tables[] = {table, hash_commands, set_commands, zset_commands, list_commands, bitmap_commands,
                         hll_commands, geo_commands, stream_commands, sort_commands, extra_commands};
    int ntables = (int)(sizeof(tables) / sizeof(tables[0]));
    by_name = dict_new(1);
    for (int t = 0; t < ntables; t++)
        for (command *c = tables[t]; c && c->name; c++) {
            snprintf(c->fullname, sizeof(c->fullname), "%s", c->name);
            dict_upsert(by_name, c->name, strlen(c->name), NULL)->val = c;
            nall++;
            for (command *s = c->subcmds; s && s->name; s++) {
                s->parent = c;
                snprintf(s->fullname, sizeof(s->fullname), "%s|%s", c->name, s->name);
            }
        }
    all = s_malloc((size_t)nall * sizeof(*all));
    int i = 0;
    for (int t = 0; t < ntables; t++)
        for (command *c = tables[t]; c && c->name; c++) all[i++] = c;
}

command *command_lookup_name(const char *name, size_t len) { return dict_get(by_name, name, len); }

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
        for (command *s = c->subcmds; s && s->name; s++) s->calls = s->usec = s->rejected = s->failed = 0;
    }
}
