/* aof: the append-only file in Redis 7.0's multi-part format: its files, its
 * manifest, and the writing of every propagated command.
 *
 * Files live in `appenddirname` (inside `dir`): one base file (an RDB image,
 * `<appendfilename>.<seq>.base.rdb`, or commands, `.base.aof`), the incr
 * files written since (`<appendfilename>.<seq>.incr.aof`, RESP commands) and
 * the manifest `<appendfilename>.manifest` that names them, one line each:
 * `file <name> seq <n> type b|h|i`.  The manifest is only ever replaced
 * whole (temporary file, fsync, rename, fsync of the directory), so a crash
 * at any moment leaves either the old or the new one, and each names files
 * that together hold the dataset.
 *
 * Writing: a propagation sink (commands/propagate.h) appends each command in
 * RESP to a buffer (SELECT when the database changes, `#TS:` annotations with
 * aof-timestamp-enabled); aof_flush() writes the buffer before any reply of
 * those commands leaves (the loop calls it before writing to clients).  With
 * appendfsync always it also fsyncs there, so an acknowledged write is on
 * disk; everysec fsyncs on the background thread about once a second
 * (postponing a write up to 2 s while that fsync runs, as Redis); no never.
 * A failed write keeps the buffer, marks aof_last_write_status err and
 * refuses writes with -MISCONF until a retry succeeds (always: exits).
 *
 * Rewrite (BGREWRITEAOF, automatic growth, CONFIG SET appendonly yes): new
 * writes go at once to a new incr file; the base is a point-in-time snapshot
 * taken at the same moment (persist/snapshot.h, no fork), so the new base
 * plus the new incr file are the dataset.  The base is an RDB image
 * (aof-use-rdb-preamble yes) or the commands that rebuild the dataset
 * (persist/cmd_form.h), function libraries first either way.  When the snapshot completes the
 * manifest is replaced and the old base and incr files are deleted; if it
 * fails the manifest still lists the old base and both incr files, which is
 * valid.
 *
 * Latency monitor events, where Redis 7.0 records them: "aof-write" for each
 * write plus one of "aof-write-pending-fsync" (a background fsync still
 * runs), "aof-write-active-child" (a save runs: a snapshot or a forked
 * BGSAVE, Redis's child) or "aof-write-alone"; "aof-fsync-always";
 * "aof-fstat" for each file size taken; "aof-rename" when the temporary incr
 * file of a runtime CONFIG SET appendonly yes gets its name.  A new base is
 * renamed by the snapshot's writer thread, off the loop: no event.
 *
 * States: OFF (appendonly no), ON, and WAIT_REWRITE (turned on at runtime:
 * writes accumulate in a temporary incr file until the first base exists).
 * Everything here runs on the event loop thread; only fsyncs and unlinks go
 * to the background thread (server/bio.h). */
#ifndef SARDINE_AOF_H
#define SARDINE_AOF_H
#include <stddef.h>
#include <stdint.h>
#include "net/client.h"

enum { AOF_OFF = 0, AOF_ON, AOF_WAIT_REWRITE };
enum { AOF_FSYNC_NO = 0, AOF_FSYNC_ALWAYS = 1, AOF_FSYNC_EVERYSEC = 2 };

/* The directives (features/config.c writes them). */
typedef struct aof_config {
    int enabled;             /* appendonly */
    char *filename;          /* appendfilename */
    char *dirname;           /* appenddirname */
    int fsync;               /* appendfsync: AOF_FSYNC_* */
    int no_fsync_on_rewrite; /* no-appendfsync-on-rewrite */
    int load_truncated;      /* aof-load-truncated */
    int use_rdb_preamble;    /* aof-use-rdb-preamble */
    int timestamp_enabled;   /* aof-timestamp-enabled */
    int rewrite_perc;        /* auto-aof-rewrite-percentage */
    long long rewrite_min_size; /* auto-aof-rewrite-min-size */
} aof_config;
extern aof_config aofc;

/* The manifest. */
enum { AOF_TYPE_BASE = 'b', AOF_TYPE_HIST = 'h', AOF_TYPE_INCR = 'i' };
typedef struct aof_file {
    char *name;
    long long seq;
    int type;
} aof_file;
typedef struct aof_manifest {
    aof_file *base;          /* NULL: none */
    aof_file *incr, *hist;
    int nincr, nhist;
    long long base_seq, incr_seq; /* the highest used */
} aof_manifest;

/* Paths inside the AOF directory. */
void aof_path(char *buf, size_t n, const char *name);

/* ---- startup (called by the loader, features/aof_load.c) ---- */
/* Reads the manifest if the directory and the file exist (else an empty one).  0, or -1 after logging
 * Redis's FATAL AOF MANIFEST FILE ERROR report. */
int aof_manifest_load(void);
const aof_manifest *aof_manifest_current(void);
/* An old single-file appendonly.aof in `dir` and no manifest naming anything: moves it into the
 * directory as the base, as Redis 7.0 upgrades.  0 (also when there was nothing to do), -1 on failure. */
int aof_upgrade_if_needed(void);
/* After loading: creates the directory, an empty base when there is no file at all, opens the last incr
 * file (or a new one) for appending, persists the manifest, registers the sink.  0 or -1 (logged). */
int aof_open_on_start(void);
/* The sizes the loader measured: current (base + incr files) and base. */
void aof_set_loaded_sizes(long long current, long long base);

/* ---- runtime ---- */
int aof_state(void);
/* CONFIG SET appendonly: start (rewrite first) or stop.  0, or -1 with a static reason. */
int aof_enable_runtime(const char **err);
void aof_disable_runtime(void);
/* 1 once the server has started (CONFIG SET appendonly acts; before it only the flag is stored). */
int aof_runtime_started(void);

/* Writes the buffer (force: even while a background fsync runs); called before replies are written. */
void aof_flush(int force);
/* Once per cron tick: postponed flushes, retries after write errors, automatic rewrite, scheduled rewrite. */
void aof_cron(void);
/* Flushes and fsyncs synchronously (shutdown, DEBUG LOADAOF). */
void aof_flush_and_sync(void);

/* The top of the server tells whether a BGSAVE runs (forked or not): rewrites wait for it, as Redis runs one
 * child at a time (and no-appendfsync-on-rewrite counts it). */
void aof_set_other_save_check(int (*running)(void));

/* Where a rewrite gets the function libraries its base starts with (every library's code, arrays valid until
 * the next call: features/functions.h's functions_codes), set once at startup. */
void aof_set_functions_source(int (*codes)(const char *const **codes, const size_t **lens));

/* BGREWRITEAOF: 0 started, 1 scheduled (another snapshot runs), -1 failed, -2 already in progress. */
int aof_bgrewrite(void);
int aof_rewrite_in_progress(void);

/* Before a shutdown: a running rewrite is stopped; while the first AOF of a runtime CONFIG SET appendonly yes
 * is still being written the shutdown is refused (-1) unless forced, as Redis. */
int aof_before_shutdown(int force);

/* Writes are refused while the last AOF write or background fsync failed: the errno, else 0. */
int aof_write_error(void);

/* INFO persistence. */
typedef struct aof_status {
    int enabled, rewrite_in_progress, rewrite_scheduled;
    long long last_rewrite_time_sec, current_rewrite_time_sec;
    int last_bgrewrite_ok, last_write_ok;
    long long rewrites, rewrites_consecutive_failures;
    long long current_size, base_size;
    size_t buffer_length;
    unsigned long long pending_bio_fsync;
    unsigned long delayed_fsync;
} aof_status;
void aof_get_status(aof_status *s);

/* While loading, the sink must not write what is loaded back into the file. */
void aof_sink_pause(int paused);
#endif
