/* server: the process-wide state: configuration, databases, clients and
 * statistics, plus logging.  There is one `srv`, touched only by the event
 * loop thread (background threads see just what bio.h hands them). */
#ifndef SARDINE_SERVER_H
#define SARDINE_SERVER_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "keyspace/db.h"

#define SARDINE_VERSION "7.0.15"
#define SARDINE_REAL_VERSION "0.1.0"
#define CONFIG_MAX_BIND 16
#define LRU_CLOCK_MAX ((1u << 24) - 1)

enum { LL_DEBUG = 0, LL_VERBOSE, LL_NOTICE, LL_WARNING, LL_NOTHING };
enum {
    MM_VOLATILE_LRU = 0, MM_VOLATILE_LFU, MM_VOLATILE_RANDOM, MM_VOLATILE_TTL,
    MM_ALLKEYS_LRU, MM_ALLKEYS_LFU, MM_ALLKEYS_RANDOM, MM_NOEVICTION
};
enum { COB_NORMAL = 0, COB_REPLICA, COB_PUBSUB, COB_CLASSES };

typedef struct cob_limit {
    unsigned long long hard, soft;
    long long soft_seconds;
} cob_limit;

struct client;
struct acl_user;
struct eloop;
struct dict;

typedef struct server {
    /* configuration (config.c owns the table that maps names to these) */
    char *configfile;
    int port;
    char *bind[CONFIG_MAX_BIND];
    int nbind;
    int listening;                 /* the listeners are open (listen_all ran): port/bind changes rebind */
    int bind_explicit;
    char *unixsocket;
    int unixsocketperm;
    int tcp_backlog;
    int timeout;
    int tcpkeepalive;
    unsigned int maxclients;
    int dbnum;
    char *requirepass;
    /* ACL (features/acl.c keeps these): the default user, and whether it is on and nopass (connections
     * start authenticated then); acllog-max-len, aclfile, acl-pubsub-default (1: allchannels) */
    struct acl_user *default_user;
    int default_user_open;
    long long acllog_max_len;
    char *aclfile;
    int acl_pubsub_default;
    unsigned long long maxmemory;
    int maxmemory_policy;
    int maxmemory_samples;
    int maxmemory_eviction_tenacity;
    int lfu_log_factor;
    int lfu_decay_time;
    int hz, config_hz;
    int dynamic_hz;
    long long proto_max_bulk_len;
    unsigned long long client_max_querybuf_len;
    cob_limit cob[COB_CLASSES];
    int verbosity;
    char *logfile;
    int syslog_enabled;
    char *syslog_ident;
    int syslog_facility;           /* LOG_LOCAL0 ... (syslog.h) */
    int supervised_mode;           /* SUPERVISED_* (server/supervise.h) */
    int supervised;                /* 1 when a supervisor was found at startup */
    int daemonize;
    char *pidfile;
    char *dir;
    int protected_mode;
    int active_expire_enabled;
    int pause_cron;                /* DEBUG PAUSE-CRON: the cron does nothing while set */
    /* active defragmentation (keyspace/defrag.h): Redis's directives */
    int active_defrag_enabled;
    int active_defrag_cycle_min, active_defrag_cycle_max;               /* % of the loop's time */
    int active_defrag_threshold_lower, active_defrag_threshold_upper;   /* % of fragmentation */
    unsigned long long active_defrag_ignore_bytes;
    unsigned long active_defrag_max_scan_fields;
    int active_expire_effort;
    int lazyfree_lazy_eviction, lazyfree_lazy_expire, lazyfree_lazy_server_del, lazyfree_lazy_user_del,
        lazyfree_lazy_user_flush;
    long long slowlog_log_slower_than;
    long long busy_reply_threshold;  /* ms a script runs before other clients get -BUSY (lua-time-limit) */
    unsigned long slowlog_max_len;
    long long latency_monitor_threshold;
    void (*latency_sample)(const char *event, long long ms); /* the latency monitor, installed by app/ */
    long long debug_slow_ops_us;   /* DEBUG SLOW-OPS: see server_debug_slow_op() */
    int enable_debug_command;
    int enable_module_command;     /* no / yes / local, as enable-debug-command */
    /* RDB persistence (features/saving.c runs it) */
    char *dbfilename;
    int rdb_compression, rdb_checksum, stop_writes_on_bgsave_err, rdb_del_sync_files; /* rdbcompression: LZF for strings in RDB files and DUMP payloads */
    struct saveparam { long long seconds, changes; } *saveparams;
    int nsaveparams;
    int bgsave_fork;               /* bgsave-fork: BGSAVE forks a child as Redis (comparison mode) */
    int rdb_incremental_fsync;     /* rdb-save-incremental-fsync: snapshots sync their file as they write it */
    int shutdown_on_sigint, shutdown_on_sigterm; /* SHUTDOWN_* flags ("default" = 0) */
    int loading;                   /* loading the dataset at startup / DEBUG RELOAD */
    /* the data types' encoding thresholds live in types/limits.h (config.c writes them there) */
    /* runtime */
    pid_t pid;
    char runid[41];
    char executable[1024];
    time_t start_time;
    long long start_ms;
    db *dbs;
    struct eloop *el;
    struct client **clients;       /* dense array of connected clients */
    size_t nclients, clients_cap;
    uint64_t next_client_id;
    struct client *current_client;
    struct client *script_caller;  /* the client whose script (EVAL, FCALL) is running, NULL outside scripts (features/script_lua) */
    int listen_fds[CONFIG_MAX_BIND + 1];
    int nlisten;
    int tls_listen_fds[CONFIG_MAX_BIND]; /* tls-port, on the same addresses */
    int ntls_listen;
    int unix_fd;
    long long cmd_now_ms;          /* "now" frozen for the running command */
    unsigned int lruclock;         /* seconds, 24 bits: an entry's LRU field (keyspace/evict.h) */
    volatile int shutdown_asap;
    volatile int last_signal;      /* the SIGTERM/SIGINT that asked for shutdown_asap */
    long long cronloops;
    long long dirty;
    int in_exec;                   /* executing a MULTI/EXEC body */
    int call_depth;                /* call() nesting: 0 outside commands, 1 a client's command, 2+ EXEC/scripts */
    long long tracking_table_max_keys; /* tracking-table-max-keys (features/tracking.h) */
    int notify_keyspace_events;    /* notify-keyspace-events: the enabled classes (features/notify.h) */
    int keep_expired;              /* applying a propagated stream: lookups never expire keys (db.h) */
    int no_touch;                  /* the running command's client is in CLIENT NO-TOUCH mode (lru.h) */
    size_t watched_keys;           /* total watched keys over all dbs */
    int active_expire_running;
    long long paused_until_ms;     /* CLIENT PAUSE deadline; 0 when not paused */
    int pause_all;                 /* pause ALL vs WRITE */
    int latency_tracking;          /* latency-tracking: per-command latency histograms (LATENCY HISTOGRAM) */
#define LATENCY_PCT_MAX 32
    double latency_pcts[LATENCY_PCT_MAX]; /* latency-tracking-info-percentiles (INFO latencystats) */
    int latency_npcts;
    int expiry_held;               /* a read under CLIENT PAUSE: expired keys look missing but stay (db.h) */
    /* memory */
    unsigned long long safety_limit; /* in force when maxmemory is 0; 0 = none */
    long long safety_limit_config;   /* maxmemory-safety-limit: -1 auto (90% of physical/cgroup memory), else bytes */
    size_t rss_cached;
    size_t client_buf_bytes;        /* query + output buffers of clients (see cbuf_realloc) */
    size_t peak_memory;
    long long peak_time;
    /* statistics */
    long long stat_numcommands, stat_numconnections, stat_rejected_conn, stat_expiredkeys,
        stat_expired_stale_perc_x100, stat_expired_time_cap_reached, stat_evictedkeys, stat_keyspace_hits,
        stat_keyspace_misses, stat_net_input_bytes, stat_net_output_bytes, stat_total_error_replies,
        stat_unexpected_error_replies, stat_client_qbuf_limit_disconnections,
        stat_client_outbuf_limit_disconnections, stat_oom_rejections, stat_evictions_time_us,
        stat_io_reads, stat_io_writes, stat_lazyfreed_objects;
    long long stat_ops_samples[16];
    long long stat_in_samples[16], stat_out_samples[16];
    int stat_sample_idx;
    long long stat_last_sample_ms, stat_last_ops, stat_last_in, stat_last_out;
    double stat_fork_rate;         /* GB of used memory per second of the last fork (features/saving; LATENCY DOCTOR) */
    struct dict *errorstats;       /* error prefix -> count (long long *) */
} server;

extern server srv;

/* SHUTDOWN's options and shutdown-on-sigint/sigterm's flags. */
enum { SHUTDOWN_SAVE = 1, SHUTDOWN_NOSAVE = 2, SHUTDOWN_NOW = 4, SHUTDOWN_FORCE = 8 };

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define serverLog(level, ...)                                                                                \
    do {                                                                                                     \
        if ((level) >= srv.verbosity) log_msg(level, __VA_ARGS__);                                           \
    } while (0)

/* Opens syslog with syslog-ident and syslog-facility when syslog-enabled (after the config is loaded). */
void syslog_open(void);
long long mstime(void);
/* An event of ms milliseconds for the latency monitor (LATENCY LATEST ...), kept when it reaches
 * latency-monitor-threshold: how the layers below features/ report expire-cycle, eviction-cycle ... */
static inline void server_latency_event(const char *event, long long ms) {
    if (srv.latency_monitor_threshold && ms >= srv.latency_monitor_threshold && srv.latency_sample)
        srv.latency_sample(event, ms);
}
/* Inside each operation timed for the latency monitor outside commands (AOF writes, fsyncs, stats and
 * renames, eviction and expiry deletes, defrag steps, fork, temp-file unlinks): sleeps DEBUG SLOW-OPS's
 * microseconds (0 normally), so tests can see those events.  Safe from the background thread. */
void server_debug_slow_op(void);
/* CLIENT PAUSE is in force: the dataset stays as it is (no active expiry, no eviction), as Redis 7.0. */
static inline int server_paused(void) { return srv.paused_until_ms && mstime() < srv.paused_until_ms; }
long long ustime(void);
/* Timing an operation for the latency monitor, as Redis's latencyStartMonitor/latencyEndMonitor: the clock is
 * read only while the monitor is on; the end reports `event` if it lasted the threshold. */
static inline long long server_latency_start(void) { return srv.latency_monitor_threshold ? ustime() : 0; }
static inline void server_latency_end(const char *event, long long start) {
    if (srv.latency_monitor_threshold && start) server_latency_event(event, (ustime() - start) / 1000);
}
long long monotonic_us(void);
void server_update_cached_time(void);
size_t server_used_memory(void);
/* 1 when writes must be refused because memory is above maxmemory / the safety limit even after eviction. */
int server_over_safety_limit(void);
/* Derives the safety limit from maxmemory-safety-limit and the physical/cgroup memory. */
void server_compute_safety_limit(void);
#endif
