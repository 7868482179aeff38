/* config: see config.h. */
#include "features/config.h"
#include "features/acl.h"
#include "features/notify.h"
#include "commands/command.h"
#include "commands/commands.h"
#include "net/listen.h"
#include "net/tls.h"
#include "persist/aof.h"
#include "protocol/reply.h"
#include "protocol/request.h"
#include "server/server.h"
#include "server/supervise.h"
#include "types/limits.h"
#include "types/zstr.h"
#include "util/glob.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

/* Value storage: T_INT int, T_UINT unsigned int, T_LL long long, T_MEM unsigned long long, T_NUMSTR a
 * number kept as its decimal text (directives whose feature does not exist yet). */
enum { T_BOOL, T_INT, T_UINT, T_LL, T_MEM, T_ENUM, T_STR, T_SPECIAL, T_NUMSTR };
/* F_IMMUTABLE: refused by CONFIG SET; F_PROTECTED: CONFIG SET only as enable-protected-configs allows.
 * Numbers: parsed as integers unless F_MEMORY (Redis's memory syntax: digits and an optional unit) or
 * F_PERCENT ("N%" kept as -N); bounds compared as unsigned with F_UNSIGNED (where Redis's variable is
 * unsigned, so "-1" is a huge number out of range), else as signed.  min/max are Redis 7.0's. */
enum { F_IMMUTABLE = 1, F_SENSITIVE = 2, F_PROTECTED = 4, F_MEMORY = 8, F_UNSIGNED = 16, F_PERCENT = 32,
       F_MULTIARG = 64, /* CONFIG SET splits the value on single spaces (Redis's MULTI_ARG_CONFIG) */
       F_TLS = 128,      /* CONFIG SET rebuilds the TLS context (net/tls.h), refused if that fails */
       F_TLS_PORT = 256, /* CONFIG SET moves the TLS listeners */
       F_UNSUPPORTED = 512 /* a Redis 7.0 directive whose feature Sardine lacks: kept, shown, and warned about */ };

typedef struct enum_name {
    const char *name;
    int val;
} enum_name;

static const enum_name policy_names[] = {
    {"volatile-lru", MM_VOLATILE_LRU}, {"volatile-lfu", MM_VOLATILE_LFU}, {"volatile-random", MM_VOLATILE_RANDOM},
    {"volatile-ttl", MM_VOLATILE_TTL}, {"allkeys-lru", MM_ALLKEYS_LRU}, {"allkeys-lfu", MM_ALLKEYS_LFU},
    {"allkeys-random", MM_ALLKEYS_RANDOM}, {"noeviction", MM_NOEVICTION}, {NULL, 0}};
static const enum_name loglevel_names[] = {
    {"debug", LL_DEBUG}, {"verbose", LL_VERBOSE}, {"notice", LL_NOTICE}, {"warning", LL_WARNING}, {"nothing", LL_NOTHING}, {NULL, 0}};

static const enum_name syslog_facility_names[] = {
    {"user", LOG_USER}, {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},
    {"local7", LOG_LOCAL7}, {NULL, 0}};
static const enum_name acl_pubsub_names[] = {{"allchannels", 1}, {"resetchannels", 0}, {NULL, 0}};
static const enum_name supervised_names[] = {{"upstart", SUPERVISED_UPSTART}, {"systemd", SUPERVISED_SYSTEMD},
                                             {"auto", SUPERVISED_AUTODETECT}, {"no", SUPERVISED_NONE}, {NULL, 0}};

/* Directives kept only as text until their feature exists (persistence, replication ...). */
typedef struct stored {
    char *value;
} stored;

typedef struct cfg {
    const char *name, *alias;
    int type, flags;
    void *ptr;
    long long min, max;
    const char *def;
    const enum_name *enums;
    /* T_SPECIAL */
    int (*set)(const char **argv, int argc, const char **err);
    char *(*get)(void);
} cfg;

static stored st_replicaof,
    st_masterauth, st_io_threads, st_always_show_logo, st_set_proc_title, st_activerehashing,
    st_aof_preamble,
    st_jemalloc_bg, st_oom_score, st_repl_backlog, st_min_replicas, st_maxmemory_clients,
    st_shutdown_timeout, st_crash_log, st_proc_title_template, st_locale,
    st_ignore_warnings, st_sanitize_dump, st_replica_priority;

int config_sanitize_dump(void) {
    const char *v = st_sanitize_dump.value;
    if (!v) return SANITIZE_NO;
    return !strcasecmp(v, "yes") ? SANITIZE_YES : !strcasecmp(v, "clients") ? SANITIZE_CLIENTS : SANITIZE_NO;
}

int config_rdbchecksum(void) { return srv.rdb_checksum; }

static int set_bind(const char **argv, int argc, const char **err);
static int set_port(const char **argv, int argc, const char **err);
static char *get_port(void);
static char *get_bind(void);
static int set_cob(const char **argv, int argc, const char **err);
static int set_notify(const char **argv, int argc, const char **err);
static char *get_notify(void);
static char *get_cob(void);
static int set_dir(const char **argv, int argc, const char **err);
static int set_appendonly(const char **argv, int argc, const char **err);
static char *get_appendonly(void);
static int set_appendfilename(const char **argv, int argc, const char **err);
static char *get_appendfilename(void);
static int set_appenddirname(const char **argv, int argc, const char **err);
static char *get_appenddirname(void);
static char *get_dir(void);
static int set_unixsocketperm(const char **argv, int argc, const char **err);
static int set_safety(const char **argv, int argc, const char **err);
static char *get_safety(void);
static char *get_unixsocketperm(void);
static int set_sigint_flags(const char **argv, int argc, const char **err);
static char *get_sigint_flags(void);
static int set_sigterm_flags(const char **argv, int argc, const char **err);
static char *get_sigterm_flags(void);

static int set_save(const char **argv, int argc, const char **err);
static char *get_save(void);
static int set_dbfilename(const char **argv, int argc, const char **err);
static char *get_dbfilename(void);

static int enable_protected_configs; /* no / yes / local, as enable-debug-command */

#define STORED(n, s, d) {n, NULL, T_STR, 0, &s.value, 0, 0, d, NULL, NULL, NULL}
#define STORED_F(n, s, d, f) {n, NULL, T_STR, f, &s.value, 0, 0, d, NULL, NULL, NULL}
/* A number kept as text, with Redis 7.0's parsing and bounds. */
#define STORED_NUM(n, s, d, f, lo, hi) {n, NULL, T_NUMSTR, f, &s.value, lo, hi, d, NULL, NULL, NULL}
/* Redis 7.0 directives of features Sardine does not have (replication, cluster, defrag ...): each is
 * parsed and bounded exactly as Redis 7.0 does, kept so that CONFIG GET shows it, and every setting is
 * logged as "not supported, ignored" (warn_unsupported).  File-scope compound literals give each its own
 * static storage. */
#define UNSUP_BOOL(n, d) {n, NULL, T_BOOL, F_UNSUPPORTED, &(int){0}, 0, 0, d, NULL, NULL, NULL}
#define UNSUP_NUM(n, d, f, lo, hi) {n, NULL, T_NUMSTR, F_UNSUPPORTED | (f), &(char *){NULL}, lo, hi, d, NULL, NULL, NULL}
#define UNSUP_STR(n, d, f) {n, NULL, T_STR, F_UNSUPPORTED | (f), &(char *){NULL}, 0, 0, d, NULL, NULL, NULL}
#define UNSUP_ENUM(n, d, e) {n, NULL, T_ENUM, F_UNSUPPORTED, &(int){0}, 0, 0, d, e, NULL, NULL}
static const enum_name repl_diskless_load_names[] = {{"disabled", 0}, {"on-empty-db", 1}, {"swapdb", 2}, {NULL, 0}};
static const enum_name endpoint_type_names[] = {{"ip", 0}, {"hostname", 1}, {"unknown-endpoint", 2}, {NULL, 0}};
static const enum_name propagation_error_names[] = {{"ignore", 0}, {"panic", 1}, {"panic-on-replicas", 2}, {NULL, 0}};
static int set_oom_values(const char **argv, int argc, const char **err);
static char *get_oom_values(void);
static int set_latency_percentiles(const char **argv, int argc, const char **err);
static char *get_latency_percentiles(void);

static cfg table[] = {
    {"port", NULL, T_SPECIAL, 0, NULL, 0, 65535, "6379", NULL, set_port, get_port},
    {"bind", NULL, T_SPECIAL, F_MULTIARG, NULL, 0, 0, "127.0.0.1 -::1", NULL, set_bind, get_bind},
    {"unixsocket", NULL, T_STR, F_IMMUTABLE, &srv.unixsocket, 0, 0, ""},
    {"unixsocketperm", NULL, T_SPECIAL, F_IMMUTABLE, NULL, 0, 0, "0", NULL, set_unixsocketperm, get_unixsocketperm},
    {"tcp-backlog", NULL, T_INT, F_IMMUTABLE, &srv.tcp_backlog, 0, INT_MAX, "511"},
    {"timeout", NULL, T_INT, 0, &srv.timeout, 0, INT_MAX, "0"},
    {"tcp-keepalive", NULL, T_INT, 0, &srv.tcpkeepalive, 0, INT_MAX, "300"},
    {"maxclients", NULL, T_UINT, F_UNSIGNED, &srv.maxclients, 1, UINT_MAX, "10000"},
    {"databases", NULL, T_INT, F_IMMUTABLE, &srv.dbnum, 1, INT_MAX, "16"},
    {"requirepass", NULL, T_STR, F_SENSITIVE, &srv.requirepass, 0, 0, ""},
    {"maxmemory", NULL, T_MEM, F_MEMORY | F_UNSIGNED, &srv.maxmemory, 0, -1 /* ULLONG_MAX */, "0"},
    {"maxmemory-policy", NULL, T_ENUM, 0, &srv.maxmemory_policy, 0, 0, "noeviction", policy_names},
    {"maxmemory-safety-limit", NULL, T_SPECIAL, 0, NULL, 0, 0, "auto", NULL, set_safety, get_safety},
    {"maxmemory-samples", NULL, T_INT, 0, &srv.maxmemory_samples, 1, INT_MAX, "5"},
    {"maxmemory-eviction-tenacity", NULL, T_INT, 0, &srv.maxmemory_eviction_tenacity, 0, 100, "10"},
    {"lfu-log-factor", NULL, T_INT, 0, &srv.lfu_log_factor, 0, INT_MAX, "10"},
    {"lfu-decay-time", NULL, T_INT, 0, &srv.lfu_decay_time, 0, INT_MAX, "1"},
    {"hz", NULL, T_INT, 0, &srv.config_hz, 0, INT_MAX, "10"},
    {"dynamic-hz", NULL, T_BOOL, 0, &srv.dynamic_hz, 0, 0, "yes"},
    {"proto-max-bulk-len", NULL, T_LL, F_MEMORY, &srv.proto_max_bulk_len, 1024 * 1024, LONG_MAX, "536870912"},
    {"client-query-buffer-limit", NULL, T_MEM, F_MEMORY | F_UNSIGNED, &srv.client_max_querybuf_len, 1024 * 1024, LONG_MAX,
     "1073741824"},
    {"client-output-buffer-limit", NULL, T_SPECIAL, F_MULTIARG, NULL, 0, 0,
     "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", NULL, set_cob, get_cob},
    {"loglevel", NULL, T_ENUM, 0, &srv.verbosity, 0, 0, "notice", loglevel_names},
    {"logfile", NULL, T_STR, F_IMMUTABLE, &srv.logfile, 0, 0, ""},
    {"syslog-enabled", NULL, T_BOOL, F_IMMUTABLE, &srv.syslog_enabled, 0, 0, "no"},
    {"syslog-ident", NULL, T_STR, F_IMMUTABLE, &srv.syslog_ident, 0, 0, "sardine"},
    {"syslog-facility", NULL, T_ENUM, F_IMMUTABLE, &srv.syslog_facility, 0, 0, "local0", syslog_facility_names},
    {"supervised", NULL, T_ENUM, F_IMMUTABLE, &srv.supervised_mode, 0, 0, "no", supervised_names},
    {"shutdown-on-sigint", NULL, T_SPECIAL, F_MULTIARG, NULL, 0, 0, "default", NULL, set_sigint_flags, get_sigint_flags},
    {"shutdown-on-sigterm", NULL, T_SPECIAL, F_MULTIARG, NULL, 0, 0, "default", NULL, set_sigterm_flags, get_sigterm_flags},
    {"daemonize", NULL, T_BOOL, F_IMMUTABLE, &srv.daemonize, 0, 0, "no"},
    {"pidfile", NULL, T_STR, F_IMMUTABLE, &srv.pidfile, 0, 0, ""},
    {"dir", NULL, T_SPECIAL, F_PROTECTED, NULL, 0, 0, "", NULL, set_dir, get_dir},
    {"protected-mode", NULL, T_BOOL, 0, &srv.protected_mode, 0, 0, "yes"},
    {"active-expire-effort", NULL, T_INT, 0, &srv.active_expire_effort, 1, 10, "1"},
    {"lazyfree-lazy-eviction", NULL, T_BOOL, 0, &srv.lazyfree_lazy_eviction, 0, 0, "no"},
    {"lazyfree-lazy-expire", NULL, T_BOOL, 0, &srv.lazyfree_lazy_expire, 0, 0, "yes"},
    {"lazyfree-lazy-server-del", NULL, T_BOOL, 0, &srv.lazyfree_lazy_server_del, 0, 0, "yes"},
    {"lazyfree-lazy-user-del", NULL, T_BOOL, 0, &srv.lazyfree_lazy_user_del, 0, 0, "yes"},
    {"lazyfree-lazy-user-flush", NULL, T_BOOL, 0, &srv.lazyfree_lazy_user_flush, 0, 0, "no"},
    {"slowlog-log-slower-than", NULL, T_LL, 0, &srv.slowlog_log_slower_than, -1, LLONG_MAX, "10000"},
    {"slowlog-max-len", NULL, T_LL, F_UNSIGNED, &srv.slowlog_max_len, 0, LONG_MAX, "128"},
    {"latency-monitor-threshold", NULL, T_LL, 0, &srv.latency_monitor_threshold, 0, LLONG_MAX, "0"},
    {"enable-debug-command", NULL, T_ENUM, F_IMMUTABLE, &srv.enable_debug_command, 0, 0, "no",
     (const enum_name[]){{"no", 0}, {"yes", 1}, {"local", 2}, {NULL, 0}}},
    {"enable-protected-configs", NULL, T_ENUM, F_IMMUTABLE, &enable_protected_configs, 0, 0, "no",
     (const enum_name[]){{"no", 0}, {"yes", 1}, {"local", 2}, {NULL, 0}}},
    {"enable-module-command", NULL, T_ENUM, F_IMMUTABLE, &srv.enable_module_command, 0, 0, "no",
     (const enum_name[]){{"no", 0}, {"yes", 1}, {"local", 2}, {NULL, 0}}},
    /* TLS (net/tls.h): the values live in tlsc; a change rebuilds the context as Redis 7.0's applyTlsCfg */
    {"tls-port", NULL, T_INT, F_TLS_PORT, &tlsc.port, 0, 65535, "0"},
    {"tls-cert-file", NULL, T_STR, F_TLS, &tlsc.cert_file, 0, 0, ""},
    {"tls-key-file", NULL, T_STR, F_TLS, &tlsc.key_file, 0, 0, ""},
    {"tls-key-file-pass", NULL, T_STR, F_TLS, &tlsc.key_file_pass, 0, 0, ""},
    {"tls-client-cert-file", NULL, T_STR, F_TLS, &tlsc.client_cert_file, 0, 0, ""},
    {"tls-client-key-file", NULL, T_STR, F_TLS, &tlsc.client_key_file, 0, 0, ""},
    {"tls-client-key-file-pass", NULL, T_STR, F_TLS, &tlsc.client_key_file_pass, 0, 0, ""},
    {"tls-dh-params-file", NULL, T_STR, F_TLS, &tlsc.dh_params_file, 0, 0, ""},
    {"tls-ca-cert-file", NULL, T_STR, F_TLS, &tlsc.ca_cert_file, 0, 0, ""},
    {"tls-ca-cert-dir", NULL, T_STR, F_TLS, &tlsc.ca_cert_dir, 0, 0, ""},
    {"tls-protocols", NULL, T_STR, F_TLS, &tlsc.protocols, 0, 0, ""},
    {"tls-ciphers", NULL, T_STR, F_TLS, &tlsc.ciphers, 0, 0, ""},
    {"tls-ciphersuites", NULL, T_STR, F_TLS, &tlsc.ciphersuites, 0, 0, ""},
    {"tls-auth-clients", NULL, T_ENUM, 0, &tlsc.auth_clients, 0, 0, "yes",
     (const enum_name[]){{"no", TLS_AUTH_NO}, {"yes", TLS_AUTH_YES}, {"optional", TLS_AUTH_OPTIONAL}, {NULL, 0}}},
    {"tls-prefer-server-ciphers", NULL, T_BOOL, F_TLS, &tlsc.prefer_server_ciphers, 0, 0, "no"},
    {"tls-session-caching", NULL, T_BOOL, F_TLS, &tlsc.session_caching, 0, 0, "yes"},
    {"tls-session-cache-size", NULL, T_INT, F_TLS, &tlsc.session_cache_size, 0, INT_MAX, "20480"},
    {"tls-session-cache-timeout", NULL, T_INT, F_TLS, &tlsc.session_cache_timeout, 0, INT_MAX, "300"},
    {"tls-replication", NULL, T_BOOL, F_TLS, &tlsc.replication, 0, 0, "no"},
    {"tls-cluster", NULL, T_BOOL, F_TLS, &tlsc.cluster, 0, 0, "no"},
    /* Sardine's own: a TLS handshake not complete after this many ms is closed (stalled or trickling peers) */
    {"tls-handshake-timeout", NULL, T_LL, 0, &tlsc.handshake_timeout_ms, 1, LLONG_MAX, "10000"},
    {"save", NULL, T_SPECIAL, F_MULTIARG, NULL, 0, 0, "3600 1 300 100 60 10000", NULL, set_save, get_save},
    {"appendonly", NULL, T_SPECIAL, 0, NULL, 0, 0, "no", NULL, set_appendonly, get_appendonly},
    {"appendfilename", NULL, T_SPECIAL, F_IMMUTABLE, NULL, 0, 0, "appendonly.aof", NULL, set_appendfilename, get_appendfilename},
    {"appenddirname", NULL, T_SPECIAL, F_IMMUTABLE, NULL, 0, 0, "appendonlydir", NULL, set_appenddirname, get_appenddirname},
    {"appendfsync", NULL, T_ENUM, 0, &aofc.fsync, 0, 0, "everysec",
     (const enum_name[]){{"always", AOF_FSYNC_ALWAYS}, {"everysec", AOF_FSYNC_EVERYSEC}, {"no", AOF_FSYNC_NO}, {NULL, 0}}},
    {"no-appendfsync-on-rewrite", NULL, T_BOOL, 0, &aofc.no_fsync_on_rewrite, 0, 0, "no"},
    {"aof-load-truncated", NULL, T_BOOL, 0, &aofc.load_truncated, 0, 0, "yes"},
    {"dbfilename", NULL, T_SPECIAL, F_PROTECTED, NULL, 0, 0, "dump.rdb", NULL, set_dbfilename, get_dbfilename},
    {"notify-keyspace-events", NULL, T_SPECIAL, 0, NULL, 0, 0, "", NULL, set_notify, get_notify},
    STORED_F("replicaof", st_replicaof, "", F_IMMUTABLE | F_UNSUPPORTED),
    STORED_F("masterauth", st_masterauth, "", F_SENSITIVE | F_UNSUPPORTED),
    STORED_NUM("io-threads", st_io_threads, "1", F_IMMUTABLE | F_UNSUPPORTED, 1, 128),
    STORED_F("always-show-logo", st_always_show_logo, "no", F_IMMUTABLE),
    STORED_F("set-proc-title", st_set_proc_title, "yes", F_IMMUTABLE),
    STORED("proc-title-template", st_proc_title_template, "{title} {listen-addr} {server-mode}"),
    STORED("activerehashing", st_activerehashing, "yes"),
    {"busy-reply-threshold", NULL, T_LL, 0, &srv.busy_reply_threshold, 0, LONG_MAX, "5000"},
    {"stop-writes-on-bgsave-error", NULL, T_BOOL, 0, &srv.stop_writes_on_bgsave_err, 0, 0, "yes"},
    {"rdbcompression", NULL, T_BOOL, 0, &srv.rdb_compression, 0, 0, "yes"},
    {"rdbchecksum", NULL, T_BOOL, F_IMMUTABLE, &srv.rdb_checksum, 0, 0, "yes"},
    {"bgsave-fork", NULL, T_BOOL, 0, &srv.bgsave_fork, 0, 0, "no"},
    {"rdb-save-incremental-fsync", NULL, T_BOOL, 0, &srv.rdb_incremental_fsync, 0, 0, "yes"},
    {"rdb-del-sync-files", NULL, T_BOOL, 0, &srv.rdb_del_sync_files, 0, 0, "no"},
    STORED("sanitize-dump-payload", st_sanitize_dump, "no"),
    UNSUP_BOOL("replica-read-only", "yes"),
    STORED_NUM("replica-priority", st_replica_priority, "100", F_UNSUPPORTED, 0, INT_MAX),
    UNSUP_BOOL("replica-lazy-flush", "no"),
    {"hash-max-listpack-entries", NULL, T_LL, F_UNSIGNED, &limits.hash_max_listpack_entries, 0, LONG_MAX, "128"},
    {"hash-max-listpack-value", NULL, T_LL, F_MEMORY | F_UNSIGNED, &limits.hash_max_listpack_value, 0, LONG_MAX, "64"},
    {"list-max-listpack-size", NULL, T_LL, 0, &limits.list_max_listpack_size, INT_MIN, INT_MAX, "-2"},
    {"list-compress-depth", NULL, T_LL, 0, &limits.list_compress_depth, 0, INT_MAX, "0"},
    {"set-max-intset-entries", NULL, T_LL, F_UNSIGNED, &limits.set_max_intset_entries, 0, LONG_MAX, "512"},
    {"set-max-listpack-entries", NULL, T_LL, F_UNSIGNED, &limits.set_max_listpack_entries, 0, LONG_MAX, "128"},
    {"set-max-listpack-value", NULL, T_LL, F_MEMORY | F_UNSIGNED, &limits.set_max_listpack_value, 0, LONG_MAX, "64"},
    {"zset-max-listpack-entries", NULL, T_LL, F_UNSIGNED, &limits.zset_max_listpack_entries, 0, LONG_MAX, "128"},
    {"zset-max-listpack-value", NULL, T_LL, F_MEMORY | F_UNSIGNED, &limits.zset_max_listpack_value, 0, LONG_MAX, "64"},
    {"stream-node-max-bytes", NULL, T_LL, F_MEMORY | F_UNSIGNED, &limits.stream_node_max_bytes, 0, LONG_MAX, "4096"},
    {"stream-node-max-entries", NULL, T_LL, 0, &limits.stream_node_max_entries, 0, LLONG_MAX, "100"},
    {"hll-sparse-max-bytes", NULL, T_LL, F_MEMORY | F_UNSIGNED, &limits.hll_sparse_max_bytes, 0, LONG_MAX, "3000"},
    /* Sardine's own: transparent compression of string values (types/zstr.h), off by default */
    {"value-compression", NULL, T_ENUM, 0, &zparams.algo, 0, 0, "no",
     (const enum_name[]){{"no", ZCOMP_NO}, {"zstd", ZCOMP_ZSTD}, {NULL, 0}}},
    {"value-compression-min-size", NULL, T_LL, F_MEMORY, &zparams.min_size, 64, ZSTR_MAX, "256"},
    {"value-compression-level", NULL, T_INT, 0, &zparams.level, 1, 19, "3"},
    {"value-compression-dict", NULL, T_BOOL, 0, &zparams.dict, 0, 0, "yes"},
    {"aof-use-rdb-preamble", NULL, T_BOOL, 0, &aofc.use_rdb_preamble, 0, 0, "yes"},
    {"aof-timestamp-enabled", NULL, T_BOOL, 0, &aofc.timestamp_enabled, 0, 0, "no"},
    {"auto-aof-rewrite-percentage", NULL, T_INT, 0, &aofc.rewrite_perc, 0, INT_MAX, "100"},
    {"auto-aof-rewrite-min-size", NULL, T_LL, F_MEMORY, &aofc.rewrite_min_size, 0, LLONG_MAX, "67108864"},
    {"activedefrag", NULL, T_BOOL, 0, &srv.active_defrag_enabled, 0, 0, "no"},
    {"active-defrag-cycle-min", NULL, T_INT, 0, &srv.active_defrag_cycle_min, 1, 99, "1"},
    {"active-defrag-cycle-max", NULL, T_INT, 0, &srv.active_defrag_cycle_max, 1, 99, "25"},
    {"active-defrag-threshold-lower", NULL, T_INT, 0, &srv.active_defrag_threshold_lower, 0, 1000, "10"},
    {"active-defrag-threshold-upper", NULL, T_INT, 0, &srv.active_defrag_threshold_upper, 0, 1000, "100"},
    {"active-defrag-ignore-bytes", NULL, T_MEM, F_MEMORY | F_UNSIGNED, &srv.active_defrag_ignore_bytes, 1, LLONG_MAX,
     "104857600"},
    {"active-defrag-max-scan-fields", NULL, T_LL, F_UNSIGNED, &srv.active_defrag_max_scan_fields, 1, LONG_MAX, "1000"},
    STORED("jemalloc-bg-thread", st_jemalloc_bg, "yes"),
    STORED("oom-score-adj", st_oom_score, "no"),
    {"cluster-enabled", NULL, T_BOOL, F_UNSUPPORTED | F_IMMUTABLE, &(int){0}, 0, 0, "no"},
    STORED_NUM("repl-backlog-size", st_repl_backlog, "1048576", F_MEMORY | F_UNSUPPORTED, 1, LLONG_MAX),
    STORED_NUM("min-replicas-to-write", st_min_replicas, "0", F_UNSUPPORTED, 0, INT_MAX),
    STORED_NUM("maxmemory-clients", st_maxmemory_clients, "0", F_MEMORY | F_PERCENT | F_UNSUPPORTED, -100, LLONG_MAX),
    {"tracking-table-max-keys", NULL, T_LL, F_UNSIGNED, &srv.tracking_table_max_keys, 0, LONG_MAX, "1000000"},
    STORED_NUM("shutdown-timeout", st_shutdown_timeout, "10", 0, 0, INT_MAX),
    STORED("crash-log-enabled", st_crash_log, "yes"),
    STORED("locale-collate", st_locale, ""),
    STORED("ignore-warnings", st_ignore_warnings, ""),
    {"acllog-max-len", NULL, T_LL, F_UNSIGNED, &srv.acllog_max_len, 0, LONG_MAX, "128"},
    {"aclfile", NULL, T_STR, F_IMMUTABLE, &srv.aclfile, 0, 0, ""},
    {"acl-pubsub-default", NULL, T_ENUM, 0, &srv.acl_pubsub_default, 0, 0, "resetchannels", acl_pubsub_names},
    STORED("aof-rewrite-incremental-fsync", st_aof_preamble, "yes"),
    {"latency-tracking", NULL, T_BOOL, 0, &srv.latency_tracking, 0, 0, "yes"},
    {"latency-tracking-info-percentiles", NULL, T_SPECIAL, F_MULTIARG, NULL, 0, 0, "50 99 99.9", NULL,
     set_latency_percentiles, get_latency_percentiles},
    /* Redis 7.0 directives Sardine accepts without the feature behind them (see UNSUP_BOOL). */
    UNSUP_BOOL("aof-disable-auto-gc", "no"),
    UNSUP_STR("aof_rewrite_cpulist", "", F_IMMUTABLE),
    UNSUP_STR("bgsave_cpulist", "", F_IMMUTABLE),
    UNSUP_STR("bio_cpulist", "", F_IMMUTABLE),
    UNSUP_STR("server_cpulist", "", F_IMMUTABLE),
    UNSUP_STR("bind-source-addr", "", 0),
    UNSUP_BOOL("cluster-allow-pubsubshard-when-down", "yes"),
    UNSUP_BOOL("cluster-allow-reads-when-down", "no"),
    UNSUP_BOOL("cluster-allow-replica-migration", "yes"),
    UNSUP_NUM("cluster-announce-bus-port", "0", 0, 0, 65535),
    UNSUP_STR("cluster-announce-hostname", "", 0),
    UNSUP_STR("cluster-announce-ip", "", 0),
    UNSUP_NUM("cluster-announce-port", "0", 0, 0, 65535),
    UNSUP_NUM("cluster-announce-tls-port", "0", 0, 0, 65535),
    UNSUP_STR("cluster-config-file", "nodes.conf", F_IMMUTABLE),
    UNSUP_NUM("cluster-link-sendbuf-limit", "0", F_MEMORY | F_UNSIGNED, 0, -1 /* ULLONG_MAX */),
    UNSUP_NUM("cluster-migration-barrier", "1", 0, 0, INT_MAX),
    UNSUP_NUM("cluster-node-timeout", "15000", 0, 0, LLONG_MAX),
    UNSUP_NUM("cluster-port", "0", F_IMMUTABLE, 0, 65535),
    UNSUP_ENUM("cluster-preferred-endpoint-type", "ip", endpoint_type_names),
    UNSUP_BOOL("cluster-replica-no-failover", "no"),
    UNSUP_NUM("cluster-replica-validity-factor", "10", 0, 0, INT_MAX),
    UNSUP_BOOL("cluster-require-full-coverage", "yes"),
    UNSUP_BOOL("crash-memcheck-enabled", "yes"),
    {"disable-thp", NULL, T_BOOL, F_UNSUPPORTED | F_IMMUTABLE, &(int){0}, 0, 0, "yes"},
    {"io-threads-do-reads", NULL, T_BOOL, F_UNSUPPORTED | F_IMMUTABLE, &(int){0}, 0, 0, "no"},
    UNSUP_STR("masteruser", "", F_SENSITIVE),
    UNSUP_NUM("min-replicas-max-lag", "10", 0, 0, INT_MAX),
    {"oom-score-adj-values", NULL, T_SPECIAL, F_UNSUPPORTED | F_MULTIARG, NULL, 0, 0, "0 200 800", NULL, set_oom_values,
     get_oom_values},
    UNSUP_ENUM("propagation-error-behavior", "ignore", propagation_error_names),
    UNSUP_NUM("repl-backlog-ttl", "3600", 0, 0, LONG_MAX),
    UNSUP_BOOL("repl-disable-tcp-nodelay", "no"),
    UNSUP_ENUM("repl-diskless-load", "disabled", repl_diskless_load_names),
    UNSUP_BOOL("repl-diskless-sync", "yes"),
    UNSUP_NUM("repl-diskless-sync-delay", "5", 0, 0, INT_MAX),
    UNSUP_NUM("repl-diskless-sync-max-replicas", "0", 0, 0, INT_MAX),
    UNSUP_NUM("repl-ping-replica-period", "10", 0, 1, INT_MAX),
    UNSUP_NUM("repl-timeout", "60", 0, 1, INT_MAX),
    UNSUP_STR("replica-announce-ip", "", 0),
    UNSUP_NUM("replica-announce-port", "0", 0, 0, 65535),
    UNSUP_BOOL("replica-announced", "yes"),
    UNSUP_BOOL("replica-ignore-disk-write-errors", "no"),
    UNSUP_BOOL("replica-ignore-maxmemory", "yes"),
    UNSUP_BOOL("replica-serve-stale-data", "yes"),
    {"socket-mark-id", NULL, T_NUMSTR, F_UNSUPPORTED | F_IMMUTABLE | F_UNSIGNED, &(char *){NULL}, 0, UINT_MAX, "0"},
    {NULL}};

/* Older names still accepted (Redis keeps the ziplist-era names as aliases). */
static const struct { const char *alias, *name; } aliases[] = {
    {"hash-max-ziplist-entries", "hash-max-listpack-entries"}, {"hash-max-ziplist-value", "hash-max-listpack-value"},
    {"zset-max-ziplist-entries", "zset-max-listpack-entries"}, {"zset-max-ziplist-value", "zset-max-listpack-value"},
    {"list-max-ziplist-size", "list-max-listpack-size"}, {"slaveof", "replicaof"}, {"lua-time-limit", "busy-reply-threshold"},
    {"slave-read-only", "replica-read-only"}, {"slave-priority", "replica-priority"},
    {"slave-lazy-flush", "replica-lazy-flush"}, {"slave-serve-stale-data", "replica-serve-stale-data"},
    {"slave-ignore-maxmemory", "replica-ignore-maxmemory"}, {"slave-announce-ip", "replica-announce-ip"},
    {"slave-announce-port", "replica-announce-port"}, {"repl-ping-slave-period", "repl-ping-replica-period"},
    {"min-slaves-to-write", "min-replicas-to-write"}, {"min-slaves-max-lag", "min-replicas-max-lag"},
    {"cluster-slave-no-failover", "cluster-replica-no-failover"},
    {"cluster-slave-validity-factor", "cluster-replica-validity-factor"}, {NULL, NULL}};

static cfg *find(const char *name) {
    for (int i = 0; aliases[i].alias; i++)
        if (!strcasecmp(name, aliases[i].alias)) name = aliases[i].name;
    for (cfg *c = table; c->name; c++)
        if (!strcasecmp(c->name, name)) return c;
    return NULL;
}

static int parse_bool(const char *s, int *v) {
    if (!strcasecmp(s, "yes")) *v = 1;
    else if (!strcasecmp(s, "no")) *v = 0;
    else return 0;
    return 1;
}

static char enum_err[512];

static int split_words(const char *def, const char ***out);
static void free_words(const char **w, int n);

/* Redis's memory syntax (memtoull): only digits, then an optional unit (b k kb m mb g gb, any case); no
 * sign, no spaces.  An empty digit string counts as 0, a number past 2^64-1 saturates and the unit then
 * multiplies modulo 2^64, all as Redis 7.0 does (the bounds check decides what is accepted). */
static int parse_memory(const char *s, unsigned long long *out) {
    static const struct { const char *unit; unsigned long long mul; } units[] = {
        {"", 1}, {"b", 1}, {"k", 1000ULL}, {"kb", 1024ULL}, {"m", 1000000ULL}, {"mb", 1048576ULL},
        {"g", 1000000000ULL}, {"gb", 1073741824ULL}};
    size_t digits = 0;
    while (isdigit((unsigned char)s[digits])) digits++;
    if (digits >= 128) return 0;
    unsigned long long mul = 0;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (!strcasecmp(s + digits, units[i].unit)) mul = units[i].mul;
    if (!mul) return 0;
    unsigned long long v = 0;
    for (size_t i = 0; i < digits; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10) {
            v = ULLONG_MAX;
            break;
        }
        v = v * 10 + d;
    }
    *out = v * mul;
    return 1;
}

/* Parses a numeric directive's value as Redis 7.0 does for its kind; 0 with *err on failure. */
static int parse_number(const cfg *c, const char *v, long long *out, const char **err) {
    unsigned long long m;
    size_t len = strlen(v);
    if (c->flags & F_MEMORY) {
        if (parse_memory(v, &m)) {
            *out = (long long)m; /* two's complement, as Redis's (long long) cast */
            return 1;
        }
    }
    if ((c->flags & F_PERCENT) && len > 1 && v[len - 1] == '%' && str2ll(v, len - 1, out) && *out >= 0) {
        *out = -*out;
        return 1;
    }
    if (!(c->flags & (F_MEMORY | F_PERCENT)) && str2ll(v, len, out)) return 1;
    if ((c->flags & F_MEMORY) && (c->flags & F_PERCENT)) *err = "argument must be a memory or percent value";
    else if (c->flags & F_MEMORY) *err = "argument must be a memory value";
    else *err = "argument couldn't be parsed into an integer";
    return 0;
}

static int check_bounds(const cfg *c, long long n, const char **err) {
    static char buf[128];
    if (c->flags & F_UNSIGNED) {
        unsigned long long u = (unsigned long long)n, lo = (unsigned long long)c->min, hi = (unsigned long long)c->max;
        if (u >= lo && u <= hi) return 1;
        snprintf(buf, sizeof(buf), "argument must be between %llu and %llu inclusive", lo, hi);
    } else if ((c->flags & F_PERCENT) && n < 0) {
        if (n >= c->min) return 1;
        snprintf(buf, sizeof(buf), "percentage argument must be less or equal to %lld", -c->min);
    } else {
        if (n >= c->min && n <= c->max) return 1;
        snprintf(buf, sizeof(buf), "argument must be between %lld and %lld inclusive", c->min, c->max);
    }
    *err = buf;
    return 0;
}

/* Sets one directive from its arguments; returns 0 with *err on failure. */
static int apply(cfg *c, const char **argv, int argc, const char **err) {
    if (c->type == T_SPECIAL && argc == 1 && strchr(argv[0], ' ')) {
        /* A multi-argument directive given as one quoted string: its words are the arguments (as Redis). */
        const char **w;
        int n = split_words(argv[0], &w);
        int ok = c->set(w, n, err);
        free_words(w, n);
        return ok;
    }
    if (c->type == T_SPECIAL) return c->set(argv, argc, err);
    if (argc != 1) {
        *err = "wrong number of arguments";
        return 0;
    }
    const char *v = argv[0];
    switch (c->type) {
    case T_BOOL: {
        int b;
        if (!parse_bool(v, &b)) {
            *err = "argument must be 'yes' or 'no'";
            return 0;
        }
        *(int *)c->ptr = b;
        return 1;
    }
    case T_INT:
    case T_UINT:
    case T_LL:
    case T_MEM:
    case T_NUMSTR: {
        long long n;
        if (!parse_number(c, v, &n, err) || !check_bounds(c, n, err)) return 0;
        switch (c->type) {
        case T_INT: *(int *)c->ptr = (int)n; break;
        case T_UINT: *(unsigned int *)c->ptr = (unsigned int)n; break;
        case T_LL: *(long long *)c->ptr = n; break;
        case T_MEM: *(unsigned long long *)c->ptr = (unsigned long long)n; break;
        default: {
            char buf[32], **p = c->ptr;
            if ((c->flags & F_PERCENT) && n < 0) snprintf(buf, sizeof(buf), "%lld%%", -n);
            else if (c->flags & F_UNSIGNED) snprintf(buf, sizeof(buf), "%llu", (unsigned long long)n);
            else snprintf(buf, sizeof(buf), "%lld", n);
            s_free(*p);
            *p = s_strdup(buf);
        }
        }
        return 1;
    }
    case T_ENUM:
        for (const enum_name *e = c->enums; e->name; e++)
            if (!strcasecmp(e->name, v)) {
                *(int *)c->ptr = e->val;
                return 1;
            }
        snprintf(enum_err, sizeof(enum_err), "argument(s) must be one of the following: ");
        for (const enum_name *e = c->enums; e->name; e++) {
            strncat(enum_err, e->name, sizeof(enum_err) - strlen(enum_err) - 3);
            if (e[1].name) strncat(enum_err, ", ", sizeof(enum_err) - strlen(enum_err) - 1);
        }
        *err = enum_err;
        return 0;
    case T_STR: {
        char **p = c->ptr;
        s_free(*p);
        *p = v[0] || !strcmp(c->name, "save") || !strcmp(c->name, "notify-keyspace-events") ? s_strdup(v) : NULL;
        return 1;
    }
    }
    return 0;
}

static char *format_value(cfg *c) {
    char buf[128];
    switch (c->type) {
    case T_SPECIAL: return c->get();
    case T_BOOL: return s_strdup(*(int *)c->ptr ? "yes" : "no");
    case T_INT: snprintf(buf, sizeof(buf), "%d", *(int *)c->ptr); return s_strdup(buf);
    case T_UINT: snprintf(buf, sizeof(buf), "%u", *(unsigned int *)c->ptr); return s_strdup(buf);
    case T_LL:
        if (c->flags & F_UNSIGNED) snprintf(buf, sizeof(buf), "%llu", *(unsigned long long *)c->ptr);
        else snprintf(buf, sizeof(buf), "%lld", *(long long *)c->ptr);
        return s_strdup(buf);
    case T_MEM: snprintf(buf, sizeof(buf), "%llu", *(unsigned long long *)c->ptr); return s_strdup(buf);
    case T_ENUM:
        for (const enum_name *e = c->enums; e->name; e++)
            if (e->val == *(int *)c->ptr) return s_strdup(e->name);
        return s_strdup("");
    default: {
        char *s = *(char **)c->ptr;
        return s_strdup(s ? s : "");
    }
    }
}

/* ---- special directives ---- */

/* The listeners follow port and bind at runtime (once they are open: at startup listen_all opens them):
 * on failure the old values come back with their listeners, and the error is Redis's. */
static int relisten(int old_port, char **old_bind, int old_nbind, const char *errtext, const char **err) {
    if (!srv.listening || listen_rebind_tcp() == 0) { /* not listening yet: still reading the configuration */
        for (int i = 0; i < old_nbind; i++) s_free(old_bind[i]);
        return 1;
    }
    for (int i = 0; i < srv.nbind; i++) s_free(srv.bind[i]);
    srv.port = old_port;
    srv.nbind = old_nbind;
    for (int i = 0; i < old_nbind; i++) srv.bind[i] = old_bind[i];
    if (listen_rebind_tcp() != 0) serverLog(LL_WARNING, "Failed to restore the old listening sockets");
    *err = errtext;
    return 0;
}

static int set_port(const char **argv, int argc, const char **err) {
    long long n;
    cfg *self = find("port");
    if (argc != 1) {
        *err = "wrong number of arguments";
        return 0;
    }
    if (!parse_number(self, argv[0], &n, err) || !check_bounds(self, n, err)) return 0;
    if (n == srv.port) return 1;
    char *keep[CONFIG_MAX_BIND];
    for (int i = 0; i < srv.nbind; i++) keep[i] = s_strdup(srv.bind[i]);
    int old = srv.port, nkeep = srv.nbind;
    srv.port = (int)n;
    return relisten(old, keep, nkeep, "Unable to listen on this port. Check server logs.", err);
}

static char *get_port(void) {
    char buf[16];
    snprintf(buf, sizeof(buf), "%d", srv.port);
    return s_strdup(buf);
}

static int set_bind(const char **argv, int argc, const char **err) {
    if (argc > CONFIG_MAX_BIND) {
        *err = "Too many bind addresses specified.";
        return 0;
    }
    if (argc == 1 && !argv[0][0]) argc = 0; /* "" binds nothing */
    char *old[CONFIG_MAX_BIND];
    int nold = srv.nbind;
    for (int i = 0; i < nold; i++) old[i] = srv.bind[i];
    srv.nbind = 0;
    for (int i = 0; i < argc; i++) srv.bind[srv.nbind++] = s_strdup(argv[i]);
    return relisten(srv.port, old, nold, "Failed to bind to specified addresses.", err);
}

static char *get_bind(void) {
    char buf[1024] = "";
    for (int i = 0; i < srv.nbind; i++) {
        if (i) strncat(buf, " ", sizeof(buf) - strlen(buf) - 1);
        strncat(buf, srv.bind[i], sizeof(buf) - strlen(buf) - 1);
    }
    return s_strdup(buf);
}

static int set_unixsocketperm(const char **argv, int argc, const char **err) {
    char *end;
    if (argc != 1) {
        *err = "wrong number of arguments";
        return 0;
    }
    long v = strtol(argv[0], &end, 8);
    if (*end || v < 0 || v > 0777) {
        *err = "Invalid socket file permissions";
        return 0;
    }
    srv.unixsocketperm = (int)v;
    return 1;
}

static char *get_unixsocketperm(void) {
    char buf[32];
    snprintf(buf, sizeof(buf), "%o", srv.unixsocketperm);
    return s_strdup(buf);
}

/* Sardine's own: with no maxmemory, writes are refused (-OOM) past this much memory instead of the kernel
 * killing the server.  "auto": 90% of the physical memory or cgroup limit; "0": no limit. */
static int set_safety(const char **argv, int argc, const char **err) {
    unsigned long long v;
    if (argc != 1) {
        *err = "wrong number of arguments";
        return 0;
    }
    if (!strcasecmp(argv[0], "auto")) {
        srv.safety_limit_config = -1;
        return 1;
    }
    if (!str2mem(argv[0], &v) || v > LLONG_MAX) {
        *err = "argument must be 'auto' or a memory value";
        return 0;
    }
    srv.safety_limit_config = (long long)v;
    return 1;
}

static char *get_safety(void) {
    char buf[32];
    if (srv.safety_limit_config < 0) return s_strdup("auto");
    snprintf(buf, sizeof(buf), "%lld", srv.safety_limit_config);
    return s_strdup(buf);
}

static int set_dir(const char **argv, int argc, const char **err) {
    if (argc != 1) {
        *err = "wrong number of arguments";
        return 0;
    }
    if (!argv[0][0]) return 1; /* default: the working directory */
    if (chdir(argv[0]) == -1) {
        static char buf[256];
        snprintf(buf, sizeof(buf), "No such file or directory");
        if (errno != ENOENT) snprintf(buf, sizeof(buf), "%s", strerror(errno));
        *err = buf;
        return 0;
    }
    return 1;
}

/* appendonly: at startup only the flag; once running, CONFIG SET starts the AOF (rewriting first) or stops it. */
static int set_appendonly(const char **argv, int argc, const char **err) {
    int b;
    if (argc != 1) {
        *err = "wrong number of arguments";
        return 0;
    }
    if (!parse_bool(argv[0], &b)) {
        *err = "argument must be 'yes' or 'no'";
        return 0;
    }
    if (aof_runtime_started()) {
        if (!b) aof_disable_runtime();
        else if (aof_enable_runtime(err) != 0) return 0;
    }
    aofc.enabled = b;
    return 1;
}

static char *get_appendonly(void) { return s_strdup(aofc.enabled ? "yes" : "no"); }

/* appendfilename and appenddirname: a name inside dir, never a path. */
static int set_aof_name(char **dst, const char **argv, int argc, const char **err, const char *empty, const char *path) {
    if (argc != 1) {
        *err = "wrong number of arguments";
        return 0;
    }
    if (!argv[0][0]) {
        *err = empty;
        return 0;
    }
    if (strchr(argv[0], '/')) {
        *err = path;
        return 0;
    }
    s_free(*dst);
    *dst = s_strdup(argv[0]);
    return 1;
}

static int set_appendfilename(const char **argv, int argc, const char **err) {
    return set_aof_name(&aofc.filename, argv, argc, err, "appendfilename can't be empty",
                        "appendfilename can't be a path, just a filename");
}

static char *get_appendfilename(void) { return s_strdup(aofc.filename ? aofc.filename : ""); }

static int set_appenddirname(const char **argv, int argc, const char **err) {
    return set_aof_name(&aofc.dirname, argv, argc, err, "appenddirname can't be empty",
                        "appenddirname can't be a path, just a dirname");
}

static char *get_appenddirname(void) { return s_strdup(aofc.dirname ? aofc.dirname : ""); }

static char *get_dir(void) {
    char buf[4096];
    if (!getcwd(buf, sizeof(buf))) buf[0] = 0;
    return s_strdup(buf);
}

/* notify-keyspace-events: the classes' letters, Redis's flags and canonical text (features/notify.h). */
static int set_notify(const char **argv, int argc, const char **err) {
    if (argc != 1) {
        *err = "wrong number of arguments";
        return 0;
    }
    int f = notify_flags_parse(argv[0]);
    if (f < 0) {
        *err = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
        return 0;
    }
    srv.notify_keyspace_events = f;
    return 1;
}

static char *get_notify(void) {
    char buf[32];
    notify_flags_string(srv.notify_keyspace_events, buf);
    return s_strdup(buf);
}

static int set_cob(const char **argv, int argc, const char **err) {
    if (argc % 4 != 0) { /* no arguments at all: nothing changes, as Redis */
        *err = "Wrong number of arguments in buffer limit configuration.";
        return 0;
    }
    cob_limit tmp[COB_CLASSES];
    memcpy(tmp, srv.cob, sizeof(tmp));
    for (int i = 0; i < argc; i += 4) {
        int cls;
        if (!strcasecmp(argv[i], "normal")) cls = COB_NORMAL;
        else if (!strcasecmp(argv[i], "replica") || !strcasecmp(argv[i], "slave")) cls = COB_REPLICA;
        else if (!strcasecmp(argv[i], "pubsub")) cls = COB_PUBSUB;
        else {
            *err = "Invalid client class specified in buffer limit configuration.";
            return 0;
        }
        unsigned long long hard, soft;
        /* As Redis: memory values as memtoull reads them; seconds as strtoll reads them, kept in an int
         * (so 2^32+1 is 1 and anything past 2^31-1 reads as negative and is refused). */
        char *end;
        long long wide = strtoll(argv[i + 3], &end, 10);
        int secs = (int)(uint32_t)(unsigned long long)wide;
        if (!parse_memory(argv[i + 1], &hard) || !parse_memory(argv[i + 2], &soft) || *end || secs < 0) {
            *err = "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
            return 0;
        }
        tmp[cls].hard = hard;
        tmp[cls].soft = soft;
        tmp[cls].soft_seconds = secs;
    }
    memcpy(srv.cob, tmp, sizeof(tmp));
    return 1;
}

static char *get_cob(void) {
    char buf[512];
    snprintf(buf, sizeof(buf), "normal %llu %llu %lld slave %llu %llu %lld pubsub %llu %llu %lld", srv.cob[COB_NORMAL].hard,
             srv.cob[COB_NORMAL].soft, srv.cob[COB_NORMAL].soft_seconds, srv.cob[COB_REPLICA].hard,
             srv.cob[COB_REPLICA].soft, srv.cob[COB_REPLICA].soft_seconds, srv.cob[COB_PUBSUB].hard,
             srv.cob[COB_PUBSUB].soft, srv.cob[COB_PUBSUB].soft_seconds);
    return s_strdup(buf);
}

/* shutdown-on-sigint / shutdown-on-sigterm: Redis 7.0's flags for the shutdown a signal starts ("default",
 * or any of save, nosave, now, force), in the SHUTDOWN_* bits of server.h, in that order. */
static const char *const shutdown_flag_names[] = {"save", "nosave", "now", "force"};

static int set_shutdown_flags(int *out, const char **argv, int argc, const char **err) {
    int flags = 0;
    for (int i = 0; i < argc; i++) {
        int bit = -1;
        for (int k = 0; k < 4; k++)
            if (!strcasecmp(argv[i], shutdown_flag_names[k])) bit = k;
        if (bit < 0 && strcasecmp(argv[i], "default")) argc = 0;
        if (argc == 0) break;
        if (bit >= 0) flags |= 1 << bit;
    }
    if (argc == 0) {
        *err = "argument(s) must be one of the following: default, save, nosave, now, force";
        return 0;
    }
    if ((flags & 3) == 3) {
        *err = "shutdown options SAVE and NOSAVE can't be used simultaneously";
        return 0;
    }
    *out = flags;
    return 1;
}

static char *get_shutdown_flags(int flags) {
    char buf[64] = "";
    for (int k = 0; k < 4; k++)
        if (flags & (1 << k)) {
            if (buf[0]) strcat(buf, " ");
            strcat(buf, shutdown_flag_names[k]);
        }
    return s_strdup(buf[0] ? buf : "default");
}

static int set_sigint_flags(const char **argv, int argc, const char **err) {
    return set_shutdown_flags(&srv.shutdown_on_sigint, argv, argc, err);
}
static char *get_sigint_flags(void) { return get_shutdown_flags(srv.shutdown_on_sigint); }
static int set_sigterm_flags(const char **argv, int argc, const char **err) {
    return set_shutdown_flags(&srv.shutdown_on_sigterm, argv, argc, err);
}
static char *get_sigterm_flags(void) { return get_shutdown_flags(srv.shutdown_on_sigterm); }

/* ---- save points and the RDB file name ---- */

/* While a config file is read, its `save` lines add up (Redis: the first one replaces the defaults). */
static int loading_file, save_lines_seen;

static int set_save(const char **argv, int argc, const char **err) {
    if (argc == 1 && !argv[0][0]) argc = 0; /* save "" */
    if (argc % 2) {
        *err = "Invalid save parameters";
        return 0;
    }
    long long v[64];
    if (argc > 64) {
        *err = "Invalid save parameters";
        return 0;
    }
    for (int i = 0; i < argc; i++) {
        if (!str2ll(argv[i], strlen(argv[i]), &v[i]) || v[i] < 0 || (i % 2 == 0 && v[i] < 1)) {
            *err = "Invalid save parameters";
            return 0;
        }
    }
    int append = loading_file && save_lines_seen++ > 0 && argc > 0; /* save "" always empties the list */
    int base = append ? srv.nsaveparams : 0;
    srv.saveparams = s_realloc(srv.saveparams, sizeof(*srv.saveparams) * (size_t)(base + argc / 2 + 1));
    for (int i = 0; i < argc; i += 2) {
        srv.saveparams[base + i / 2].seconds = v[i];
        srv.saveparams[base + i / 2].changes = v[i + 1];
    }
    srv.nsaveparams = base + argc / 2;
    return 1;
}

static char *get_save(void) {
    char *out = s_malloc((size_t)srv.nsaveparams * 44 + 1);
    size_t n = 0;
    out[0] = 0;
    for (int i = 0; i < srv.nsaveparams; i++)
        n += (size_t)sprintf(out + n, "%s%lld %lld", i ? " " : "", srv.saveparams[i].seconds, srv.saveparams[i].changes);
    return out;
}

static int set_dbfilename(const char **argv, int argc, const char **err) {
    if (argc != 1) {
        *err = "wrong number of arguments";
        return 0;
    }
    if (strchr(argv[0], '/')) { /* Redis's isValidFilename */
        *err = "dbfilename can't be a path, just a filename";
        return 0;
    }
    s_free(srv.dbfilename);
    srv.dbfilename = s_strdup(argv[0]);
    return 1;
}

static char *get_dbfilename(void) { return s_strdup(srv.dbfilename ? srv.dbfilename : ""); }

/* ---- loading ---- */

static int split_words(const char *def, const char ***out) {
    int argc;
    arg *v = split_args(def, strlen(def), &argc);
    const char **w = s_malloc(sizeof(char *) * (size_t)(argc + 1));
    for (int i = 0; i < argc; i++) w[i] = s_strdup(v[i].p);
    free_split_args(v, argc);
    *out = w;
    return argc;
}

/* CONFIG SET's splitting of a multi-argument value, as Redis (sdssplitlen on " "): every single space
 * separates, so two spaces make an empty argument, and quotes are plain characters. */
static int split_spaces(const char *v, const char ***out) {
    int n = 0, cap = 8;
    const char **w = s_malloc(sizeof(char *) * (size_t)cap);
    if (*v) {
        for (const char *p = v;; p++) {
            const char *e = strchr(p, ' ');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            if (n == cap) {
                cap *= 2;
                w = s_realloc(w, sizeof(char *) * (size_t)cap);
            }
            char *word = s_malloc(len + 1);
            memcpy(word, p, len);
            word[len] = 0;
            w[n++] = word;
            if (!e) break;
            p = e;
        }
    }
    *out = w;
    return n;
}

static void free_words(const char **w, int n) {
    for (int i = 0; i < n; i++) s_free((char *)w[i]);
    s_free(w);
}

void config_set_defaults(void) {
    for (cfg *c = table; c->name; c++) {
        const char **w;
        int n = split_words(c->def, &w);
        const char *err = NULL;
        const char *empty = "";
        if (n == 0) apply(c, &empty, 1, &err);
        else if (c->type == T_SPECIAL || c->type == T_STR) {
            if (c->type == T_STR) {
                char **p = c->ptr;
                s_free(*p);
                *p = c->def[0] || !strcmp(c->name, "save") || !strcmp(c->name, "notify-keyspace-events") ? s_strdup(c->def) : NULL;
            } else {
                apply(c, w, n, &err);
            }
        } else {
            apply(c, w, n, &err);
        }
        free_words(w, n);
    }
    srv.hz = srv.config_hz;
}

/* oom-score-adj-values: three integers in [-2000, 2000] (Redis 7.0's checks and texts); Sardine does not
 * adjust its OOM score, so the values are only kept. */
static int oom_values[3] = {0, 200, 800};
static int set_oom_values(const char **argv, int argc, const char **err) {
    int v[3];
    if (argc != 3) {
        *err = "wrong number of arguments";
        return 0;
    }
    for (int i = 0; i < 3; i++) {
        char *end;
        errno = 0;
        long long n = strtoll(argv[i], &end, 10);
        if (*end || n < -2000 || n > 2000) {
            *err = "Invalid oom-score-adj-values, elements must be between -2000 and 2000.";
            return 0;
        }
        v[i] = (int)n;
    }
    memcpy(oom_values, v, sizeof(v));
    return 1;
}
static char *get_oom_values(void) {
    char buf[64];
    snprintf(buf, sizeof(buf), "%d %d %d", oom_values[0], oom_values[1], oom_values[2]);
    return s_strdup(buf);
}

/* A percentile as Redis prints it: "%f" with the trailing zeros (and a bare point) trimmed. */
void config_format_percentile(double p, char *buf, size_t len) {
    snprintf(buf, len, "%f", p);
    if (strchr(buf, '.')) {
        size_t n = strlen(buf);
        while (n && buf[n - 1] == '0') buf[--n] = 0;
        if (n && buf[n - 1] == '.') buf[--n] = 0;
    }
}

/* latency-tracking-info-percentiles: up to LATENCY_PCT_MAX numbers in [0, 100]; "" is none.  As Redis, a
 * bad value leaves the list empty (CONFIG SET's rollback restores it). */
static int set_latency_percentiles(const char **argv, int argc, const char **err) {
    srv.latency_npcts = 0;
    if (argc == 1 && !argv[0][0]) return 1;
    if (argc > LATENCY_PCT_MAX) {
        *err = "Invalid latency-tracking-info-percentiles parameters";
        return 0;
    }
    for (int j = 0; j < argc; j++) {
        double p;
        if (!str2d(argv[j], strlen(argv[j]), &p)) {
            *err = "Invalid latency-tracking-info-percentiles parameters";
            srv.latency_npcts = 0;
            return 0;
        }
        if (p > 100.0 || p < 0.0) {
            *err = "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
            srv.latency_npcts = 0;
            return 0;
        }
        srv.latency_pcts[srv.latency_npcts++] = p;
    }
    return 1;
}
static char *get_latency_percentiles(void) {
    char *out = s_malloc((size_t)srv.latency_npcts * 48 + 1);
    size_t len = 0;
    out[0] = 0;
    for (int j = 0; j < srv.latency_npcts; j++) {
        char b[40];
        config_format_percentile(srv.latency_pcts[j], b, sizeof(b));
        len += (size_t)sprintf(out + len, "%s%s", j ? " " : "", b);
    }
    return out;
}

/* Every setting of a directive whose feature Sardine lacks is said in the log, never silently ignored.
 * While a configuration loads, the lines wait until it is read (its logfile directive decides where the
 * log is), then config_load_string writes them. */
static char **pending_warnings;
static int npending_warnings;

static void warn(char *line) {
    if (!loading_file) {
        serverLog(LL_WARNING, "%s", line);
        s_free(line);
        return;
    }
    pending_warnings = s_realloc(pending_warnings, sizeof(char *) * (size_t)(npending_warnings + 1));
    pending_warnings[npending_warnings++] = line;
}

static void flush_warnings(void) {
    for (int i = 0; i < npending_warnings; i++) {
        serverLog(LL_WARNING, "%s", pending_warnings[i]);
        s_free(pending_warnings[i]);
    }
    s_free(pending_warnings);
    pending_warnings = NULL;
    npending_warnings = 0;
}

static void warn_unsupported(const cfg *c, const char *how) {
    if (!(c->flags & F_UNSUPPORTED)) return;
    char *v = c->flags & F_SENSITIVE ? s_strdup("(sensitive)") : format_value((cfg *)c);
    size_t n = strlen(c->name) + strlen(v) + 160;
    char *line = s_malloc(n);
    snprintf(line, n, "WARNING: '%s %s' (%s): Sardine does not have this feature: not supported, ignored.", c->name, v,
             how);
    s_free(v);
    warn(line);
}

/* Config file lines naming what Sardine does not do (yet): accepted so that a stock redis.conf loads, and
 * logged.  Returns 1 when the line was one of them. */
static int unsupported_line(const char *name, const char *line) {
    static const char *const lines[] = {"include", "loadmodule", NULL};
    for (int i = 0; lines[i]; i++)
        if (!strcasecmp(name, lines[i])) {
            size_t n = strlen(line) + 160;
            char *w = s_malloc(n);
            snprintf(w, n, "WARNING: configuration line '%s': Sardine does not support '%s': not supported, ignored.",
                     line, lines[i]);
            warn(w);
            return 1;
        }
    return 0;
}

/* Lines that are not directives of the table: rename-command (commands/table.c), ACL `user` lines
 * (features/acl.h, applied at startup) and unsupported_line's.  1 handled, -1 refused (*err), 0 neither. */
static int special_line(arg *v, int argc, const char *line, const char **err) {
    if (!strcasecmp(v[0].p, "rename-command")) {
        *err = "Bad directive or wrong number of arguments";
        return argc == 3 && commands_rename(v[1].p, v[2].p, err) ? 1 : -1;
    }
    if (!strcasecmp(v[0].p, "user") && argc >= 2) return acl_config_user(v, argc, err) ? 1 : -1;
    return unsupported_line(v[0].p, line);
}

/* The body of every load error: Redis's FATAL CONFIG FILE ERROR report. */
static void load_error(char *err, size_t errlen, const char *origin, int linenum, const char *line, const char *msg) {
    char where[64] = "";
    if (origin) snprintf(where, sizeof(where), "Reading the configuration file, at line %d\n", linenum);
    snprintf(err, errlen, "\n*** FATAL CONFIG FILE ERROR (Redis %s) ***\n%s>>> '%s'\n%s\n", SARDINE_VERSION, where, line,
             msg);
}

int config_load_string(const char *text, const char *origin, char *err, size_t errlen) {
    int linenum = 0;
    loading_file = 1;
    save_lines_seen = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = s_malloc(len + 1);
        memcpy(line, p, len);
        line[len] = 0;
        p += len + (nl ? 1 : 0);
        linenum++;
        char *s = line;
        while (*s == ' ' || *s == '\t' || *s == '\r') s++;
        size_t l = strlen(s);
        while (l && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\r')) s[--l] = 0;
        if (!*s || *s == '#') {
            s_free(line);
            continue;
        }
        int argc;
        arg *v = split_args(s, strlen(s), &argc);
        if (!v) {
            load_error(err, errlen, origin, linenum, s, "Unbalanced quotes in configuration line");
            s_free(line);
            return -1;
        }
        if (argc == 0) {
            free_split_args(v, argc);
            s_free(line);
            continue;
        }
        cfg *c = find(v[0].p);
        const char *lerr = NULL;
        int special = special_line(v, argc, s, &lerr);
        if (special < 0) load_error(err, errlen, origin, linenum, s, lerr);
        if (special) {
            free_split_args(v, argc);
            s_free(line);
            if (special > 0) continue;
            loading_file = 0;
            return -1;
        }
        const char *msg = NULL;
        if (!c) msg = "Bad directive or wrong number of arguments";
        const char **words = s_malloc(sizeof(char *) * (size_t)argc);
        for (int i = 1; i < argc; i++) words[i - 1] = v[i].p;
        const char *aerr = NULL;
        int ok = 0;
        if (!c) {
        } else if (c->type == T_STR && argc == 1) {
            const char *empty = "";
            ok = apply(c, &empty, 1, &aerr);
        } else if (c->type == T_STR && argc > 2 && c->ptr) { /* multi-word text values, e.g. save "900 1 300 10" */
            char buf[1024] = "";
            for (int i = 1; i < argc; i++) {
                if (i > 1) strncat(buf, " ", sizeof(buf) - strlen(buf) - 1);
                strncat(buf, v[i].p, sizeof(buf) - strlen(buf) - 1);
            }
            const char *one = buf;
            ok = apply(c, &one, 1, &aerr);
        } else {
            ok = apply(c, words, argc - 1, &aerr);
        }
        if (c && !ok) msg = aerr ? aerr : "Bad directive or wrong number of arguments";
        if (c && ok) warn_unsupported(c, "configuration");
        if (msg) load_error(err, errlen, origin, linenum, s, msg);
        s_free(words);
        free_split_args(v, argc);
        s_free(line);
        if (msg) {
            loading_file = 0;
            flush_warnings();
            return -1;
        }
    }
    loading_file = 0;
    flush_warnings();
    if (srv.config_hz < 1) srv.config_hz = 1;
    if (srv.config_hz > 500) srv.config_hz = 500;
    srv.hz = srv.config_hz;
    return 0;
}

void config_load_text(const char *text, const char *origin) {
    char err[8192];
    if (config_load_string(text, origin, err, sizeof(err)) != 0) {
        fputs(err, stderr);
        exit(1);
    }
}

/* Quotes a value for the config file only when it needs it (empty, or not plain words). */
static char *quote(const char *s) {
    size_t n = strlen(s);
    int plain = n > 0;
    for (size_t i = 0; i < n && plain; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!(isalnum(ch) || strchr(" -_.:/,*@!?+", ch))) plain = 0;
    }
    if (plain) return s_strdup(s);
    char *o = s_malloc(n * 4 + 3), *q = o;
    *q++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') *q++ = '\\', *q++ = (char)ch;
        else if (ch < 32 || ch > 126) q += sprintf(q, "\\x%02x", ch);
        else *q++ = (char)ch;
    }
    *q++ = '"';
    *q = 0;
    return o;
}

char *config_from_args(int argc, char **argv, char **configfile) {
    size_t cap = 4096, len = 0;
    char *text = s_malloc(cap);
    text[0] = 0;
    int j = 1;
    *configfile = NULL;
    if (j < argc && argv[j][0] != '-') {
        *configfile = s_strdup(argv[j]);
        j++;
    } else if (j < argc && !strcmp(argv[j], "-")) {
        *configfile = s_strdup("-");
        j++;
    }
#define APPEND(str)                                                                                          \
    do {                                                                                                     \
        size_t n_ = strlen(str);                                                                             \
        if (len + n_ + 2 > cap) {                                                                            \
            cap = (len + n_ + 2) * 2;                                                                        \
            text = s_realloc(text, cap);                                                                     \
        }                                                                                                    \
        memcpy(text + len, str, n_ + 1);                                                                     \
        len += n_;                                                                                           \
    } while (0)
    if (*configfile) {
        FILE *f = strcmp(*configfile, "-") ? fopen(*configfile, "r") : stdin;
        if (!f) {
            fprintf(stderr, "Fatal error, can't open config file '%s': %s\n", *configfile, strerror(errno));
            exit(1);
        }
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf) - 1, f)) > 0) {
            buf[n] = 0;
            APPEND(buf);
        }
        if (f != stdin) fclose(f);
        APPEND("\n");
    }
    int first = 1;
    for (; j < argc; j++) {
        if (argv[j][0] == '-' && argv[j][1] == '-' && argv[j][2]) {
            if (!first) APPEND("\n");
            APPEND(argv[j] + 2);
            APPEND(" ");
            first = 0;
            /* an option with an empty value: "--save ''" */
            if (j + 1 < argc && argv[j + 1][0] == 0) {
                APPEND("\"\"");
                j++;
            }
        } else {
            char *q = quote(argv[j]);
            APPEND(q);
            APPEND(" ");
            s_free(q);
        }
    }
    APPEND("\n");
#undef APPEND
    return text;
}

int config_rewrite(char *err, size_t errlen) {
    if (!srv.configfile || !strcmp(srv.configfile, "-")) {
        snprintf(err, errlen, "The server is running without a config file");
        return 0;
    }
    FILE *f = fopen(srv.configfile, "r");
    char *old = NULL;
    size_t olen = 0;
    if (f) {
        fseek(f, 0, SEEK_END);
        long sz = ftell(f);
        fseek(f, 0, SEEK_SET);
        old = s_malloc((size_t)(sz > 0 ? sz : 0) + 1);
        olen = fread(old, 1, (size_t)(sz > 0 ? sz : 0), f);
        old[olen] = 0;
        fclose(f);
    }
    int n = 0;
    for (cfg *c = table; c->name; c++) n++;
    char *done = s_calloc((size_t)n);
    size_t cap = olen + 4096, len = 0;
    char *out = s_malloc(cap);
    out[0] = 0;
#define OUT(str)                                                                                             \
    do {                                                                                                     \
        size_t n_ = strlen(str);                                                                             \
        if (len + n_ + 2 > cap) {                                                                            \
            cap = (len + n_ + 2) * 2;                                                                        \
            out = s_realloc(out, cap);                                                                       \
        }                                                                                                    \
        memcpy(out + len, str, n_ + 1);                                                                      \
        len += n_;                                                                                           \
    } while (0)
    /* Redis writes every ACL user as a `user` line unless they come from an aclfile: each `user` line of the
     * file is replaced by the next user, the users left over go at the end. */
    int nusers = 0, next_user = 0;
    acl_user **users = (srv.aclfile && srv.aclfile[0]) ? NULL : acl_users(&nusers);
#define OUT_USER()                                                                                           \
    do {                                                                                                     \
        char *d_ = acl_describe_user(users[next_user]);                                                      \
        OUT("user ");                                                                                        \
        OUT(users[next_user]->name);                                                                         \
        OUT(" ");                                                                                            \
        OUT(d_);                                                                                             \
        OUT("\n");                                                                                           \
        s_free(d_);                                                                                          \
        next_user++;                                                                                         \
    } while (0)
    char *p = old;
    while (p && *p) {
        char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        char *line = s_malloc(l + 1);
        memcpy(line, p, l);
        line[l] = 0;
        p += l + (nl ? 1 : 0);
        char name[128] = "";
        sscanf(line, " %127s", name);
        cfg *c = name[0] && name[0] != '#' ? find(name) : NULL;
        if (!strcasecmp(name, "user")) {
            if (next_user < nusers) OUT_USER();
        } else if (c) {
            int idx = (int)(c - table);
            if (!done[idx]) {
                char *v = format_value(c);
                OUT(c->name);
                OUT(" ");
                char *q = c->type == T_SPECIAL && strcmp(c->name, "dir") ? NULL : quote(v);
                OUT(q ? q : v);
                OUT("\n");
                s_free(q);
                s_free(v);
                done[idx] = 1;
            }
        } else {
            OUT(line);
            OUT("\n");
        }
        s_free(line);
    }
    /* Append settings that differ from their defaults and were not in the file. */
    int header = 0;
    for (cfg *c = table; c->name; c++) {
        int idx = (int)(c - table);
        if (done[idx] || !strcmp(c->name, "dir")) continue;
        char *v = format_value(c);
        if (strcmp(v, c->def) != 0) {
            if (!header) {
                OUT("# Generated by CONFIG REWRITE\n");
                header = 1;
            }
            char *q = c->type == T_SPECIAL ? NULL : quote(v);
            OUT(c->name);
            OUT(" ");
            OUT(q ? q : v);
            OUT("\n");
            s_free(q);
        }
        s_free(v);
    }
    if (next_user < nusers && !header) OUT("# Generated by CONFIG REWRITE\n");
    while (next_user < nusers) OUT_USER();
#undef OUT_USER
#undef OUT
    s_free(done);
    s_free(old);
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp-%d", srv.configfile, (int)getpid());
    f = fopen(tmp, "w");
    if (!f || fwrite(out, 1, len, f) != len || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        snprintf(err, errlen, "Rewriting config file: %s", strerror(errno));
        if (f) fclose(f);
        s_free(out);
        return 0;
    }
    fclose(f);
    s_free(out);
    if (rename(tmp, srv.configfile) != 0) {
        snprintf(err, errlen, "Rewriting config file: %s", strerror(errno));
        return 0;
    }
    return 1;
}

/* ---- CONFIG commands ---- */

/* CONFIG GET pattern [pattern ...], as Redis 7.0: every name (each alias is a name of its own) is answered
 * once; a name without glob characters is looked up (aliases included, any case) and answered under the
 * spelling asked; a pattern matches the names case-insensitively. */
typedef struct get_match {
    char *key;
    cfg *cf;
} get_match;

static int already(const get_match *m, int n, const char *name, size_t len) {
    for (int i = 0; i < n; i++)
        if (strlen(m[i].key) == len && !strncasecmp(m[i].key, name, len)) return 1;
    return 0;
}

void cmd_config_get(client *c) {
    int cap = 16, n = 0;
    get_match *m = s_malloc(sizeof(get_match) * (size_t)cap);
    for (int j = 2; j < c->argc; j++) {
        const arg *pat = &c->argv[j];
        int glob = memchr(pat->p, '*', pat->len) || memchr(pat->p, '?', pat->len) || memchr(pat->p, '[', pat->len);
        size_t ntab = sizeof(table) / sizeof(table[0]) - 1, nal = sizeof(aliases) / sizeof(aliases[0]) - 1;
        for (size_t k = 0; k < (glob ? ntab + nal : 1); k++) {
            const char *name;
            size_t len;
            cfg *cf;
            if (!glob) {
                char nm[128];
                if (pat->len >= sizeof(nm)) break;
                memcpy(nm, pat->p, pat->len);
                nm[pat->len] = 0;
                name = pat->p, len = pat->len, cf = find(nm);
            } else {
                name = k < ntab ? table[k].name : aliases[k - ntab].alias;
                len = strlen(name);
                if (!glob_match(pat->p, pat->len, name, len, 1)) continue;
                cf = k < ntab ? &table[k] : find(aliases[k - ntab].name);
            }
            if (!cf || already(m, n, name, len)) continue;
            if (n == cap) m = s_realloc(m, sizeof(get_match) * (size_t)(cap *= 2));
            m[n].key = s_malloc(len + 1);
            memcpy(m[n].key, name, len);
            m[n].key[len] = 0;
            m[n++].cf = cf;
        }
    }
    reply_map(c, n);
    for (int i = 0; i < n; i++) {
        char *v = format_value(m[i].cf);
        reply_bulk_cstr(c, m[i].key);
        reply_bulk_cstr(c, v);
        s_free(v);
        s_free(m[i].key);
    }
    s_free(m);
}

static int arg_eq_nocase(const arg *a, const arg *b) {
    return a->len == b->len && !strncasecmp(a->p, b->p, a->len);
}

static const config_hooks *hooks;

void config_set_hooks(const config_hooks *h) { hooks = h; }

/* enable-protected-configs: "yes" everyone, "local" unix-socket and loopback clients only. */
static int protected_allowed(const client *c) {
    if (enable_protected_configs == 1) return 1;
    return enable_protected_configs == 2 && client_is_local(c);
}

/* Restores the first n directives of a failed CONFIG SET from their saved values. */
static void roll_back(cfg **set, char **backup, int n) {
    for (int k = n - 1; k >= 0; k--) { /* last first: a name and its alias may both have been set */
        if (!backup[k]) continue;
        const char **w;
        int wn = split_words(backup[k], &w);
        const char *e2, *one = backup[k];
        if (set[k]->type == T_SPECIAL && (set[k]->flags & F_MULTIARG)) set[k]->set(w, wn, &e2);
        else if (set[k]->type == T_SPECIAL) set[k]->set(&one, 1, &e2);
        else apply(set[k], &one, 1, &e2);
        free_words(w, wn);
    }
}

void cmd_config_set(client *c) {
    if ((c->argc - 2) % 2 != 0) {
        reply_syntax_error(c);
        return;
    }
    int n = (c->argc - 2) / 2;
    cfg **set = s_malloc(sizeof(cfg *) * (size_t)n);
    char **backup = s_calloc(sizeof(char *) * (size_t)n);
    const char *err = NULL;
    int i, failed = -1;
    for (i = 0; i < n; i++) {
        const arg *name = &c->argv[2 + 2 * i];
        char nm[128];
        snprintf(nm, sizeof(nm), "%.*s", (int)(name->len < 127 ? name->len : 127), name->p);
        set[i] = find(nm);
        if (!set[i] || name->len >= 127) {
            reply_errorf(c, "ERR Unknown option or number of arguments for CONFIG SET - '%s'", nm);
            goto out;
        }
        if (set[i]->flags & F_IMMUTABLE) {
            err = "can't set immutable config";
            failed = i;
            goto fail;
        }
        if ((set[i]->flags & F_PROTECTED) && !protected_allowed(c)) {
            err = "can't set protected config";
            failed = i;
            goto fail;
        }
        for (int k = 0; k < i; k++) /* as Redis: an alias is a name of its own, set after its other name */
            if (set[k] == set[i] && arg_eq_nocase(&c->argv[2 + 2 * k], name)) {
                err = "duplicate parameter";
                failed = i;
                goto fail;
            }
    }
    for (i = 0; i < n; i++) {
        backup[i] = format_value(set[i]);
        const arg *val = &c->argv[3 + 2 * i];
        char *v = s_malloc(val->len + 1);
        memcpy(v, val->p, val->len);
        v[val->len] = 0;
        int ok;
        if (set[i]->type == T_SPECIAL && (set[i]->flags & F_MULTIARG)) {
            const char **w;
            int wn = split_spaces(v, &w);
            ok = set[i]->set(w, wn, &err);
            free_words(w, wn);
        } else if (set[i]->type == T_SPECIAL) {
            const char *one = v;
            ok = set[i]->set(&one, 1, &err);
        } else {
            const char *one = v;
            ok = apply(set[i], &one, 1, &err);
        }
        s_free(v);
        if (!ok) { /* every directive set so far and this one, which a failing setter may have cleared */
            failed = i;
            roll_back(set, backup, i + 1);
            goto fail;
        }
    }
    for (i = 0; i < n; i++) {
        if (set[i]->ptr != &srv.maxclients) continue;
        /* As Redis: the descriptor limit is raised to fit (maxclients + reserved) or the value is refused. */
        unsigned int fit = listen_fit_maxclients(srv.maxclients, 0);
        if (fit < srv.maxclients) {
            static char msg[128];
            snprintf(msg, sizeof(msg),
                     "The operating system is not able to handle the specified number of clients, try with %u", fit);
            err = msg;
            failed = i;
            roll_back(set, backup, n);
            goto fail;
        }
    }
    err = NULL;
    for (i = 0; i < n; i++) { /* as Redis's applyTlsCfg / applyTLSPort */
        static int tls_stale; /* a tls-* directive changed while no TLS was in use: rebuild when it is */
        if ((set[i]->flags & F_TLS) && !tls_wanted()) tls_stale = 1;
        if ((set[i]->flags & F_TLS) && tls_wanted() && tls_configure() != 0) {
            err = "Unable to update TLS configuration. Check server logs.";
        } else if (set[i]->flags & F_TLS_PORT) {
            if ((!tls_configured() || tls_stale) && tlsc.port && tls_configure() != 0)
                err = "Unable to update TLS configuration. Check server logs.";
            else if (listen_tls_port(tlsc.port) != 0)
                err = "Unable to listen on this port. Check server logs.";
            else if (tlsc.port)
                tls_stale = 0;
        }
        if (err) {
            failed = i;
            roll_back(set, backup, n);
            goto fail;
        }
    }
    for (i = 0; i < n; i++) {
        warn_unsupported(set[i], "CONFIG SET");
        if (hooks && hooks->changed) hooks->changed(set[i]->name);
    }
    reply_ok(c);
    goto out;
fail:
    reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%.*s') - %s", (int)c->argv[2 + 2 * failed].len,
                 c->argv[2 + 2 * failed].p, err);
out:
    for (i = 0; i < n; i++) s_free(backup[i]);
    s_free(backup);
    s_free(set);
}

void cmd_config_resetstat(client *c) {
    if (hooks && hooks->reset_stats) hooks->reset_stats();
    reply_ok(c);
}

void cmd_config_rewrite(client *c) {
    char err[256];
    if (!config_rewrite(err, sizeof(err))) {
        reply_errorf(c, "ERR %s", err);
        return;
    }
    serverLog(LL_NOTICE, "CONFIG REWRITE executed with success.");
    reply_ok(c);
}

void cmd_config_help(client *c) {
    static const char *lines[] = {
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        NULL};
    reply_help(c, "CONFIG", lines);
}
