/* saving: see saving.h.  `dir` is the working directory (config.c chdir()s
 * into it), so the RDB file is srv.dbfilename relative to it, as in Redis. */
#include "features/saving.h"
#include "commands/commands.h"
#include "features/config.h"
#include "features/functions.h"
#include "keyspace/db.h"
#include "keyspace/effects.h"
#include "net/client.h"
#include "net/eventloop.h"
#include "persist/rdb_load.h"
#include "persist/snapshot.h"
#include "protocol/reply.h"
#include "server/server.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BGSAVE_RETRY_DELAY 5 /* seconds before save points retry after a failed save (Redis's) */

const char *const saving_misconf_error =
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that "
    "may modify the data set are disabled, because this instance is configured to report errors during writes if "
    "RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about "
    "the RDB error.";

static saving_stats st = {.last_bgsave_ok = 1, .last_bgsave_time_sec = -1};
static int bgsave_running;
static long long dirty_at_start;

const saving_stats *saving_get_stats(void) {
    if (!st.lastsave) st.lastsave = (long long)srv.start_time;
    return &st;
}

int saving_bgsave_running(void) { return bgsave_running; }

static const char *rdb_path(void) { return srv.dbfilename && srv.dbfilename[0] ? srv.dbfilename : "dump.rdb"; }

/* ---- saving ---- */

static void bgsave_done(void *ud, int ok, const char *err) {
    (void)ud;
    bgsave_running = 0;
    st.last_bgsave_time_sec = (mstime() - st.bgsave_start_ms) / 1000;
    st.bgsave_start_ms = 0;
    if (ok) {
        serverLog(LL_NOTICE, "Background saving terminated with success");
        srv.dirty -= dirty_at_start;
        st.lastsave = time(NULL);
        st.last_bgsave_ok = 1;
        st.saves++;
    } else {
        serverLog(LL_WARNING, "Background saving error: %s", err ? err : "unknown");
        st.last_bgsave_ok = 0;
    }
}

/* ---- the fork-based mode (bgsave-fork yes): Redis's way, kept for comparison ---- */

static pid_t child_pid;
static int child_ok;
static void child_done(void *ud, int ok, const char *err) {
    (void)ud, (void)err;
    child_ok = ok;
}

/* The child: the snapshot engine in foreground mode on the forked copy of the dataset. */
static void child_main(void) {
    for (int i = 0; i < srv.nlisten; i++) close(srv.listen_fds[i]);
    for (int i = 0; i < srv.ntls_listen; i++) close(srv.tls_listen_fds[i]);
    snap_req r = {.path = rdb_path(), .foreground = 1, .done = child_done};
    r.nfunctions = functions_codes(&r.functions, &r.function_lens);
    char err[512];
    child_ok = 0;
    if (snapshot_start(&r, err, sizeof(err)) != 0) serverLog(LL_WARNING, "%s", err);
    _exit(child_ok ? 0 : 1);
}

static int bgsave_fork(char *err, size_t errlen) {
    long long start = ustime();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) child_main();
    server_debug_slow_op();
    st.latest_fork_usec = ustime() - start;
    st.total_forks++;
    /* As Redis: the fork's time as a latency event, and its rate in GB per second for LATENCY DOCTOR. */
    srv.stat_fork_rate = (double)server_used_memory() * 1000000 / (double)(st.latest_fork_usec ? st.latest_fork_usec : 1) /
                   (1024 * 1024 * 1024);
    server_latency_event("fork", st.latest_fork_usec / 1000);
    child_pid = pid;
    serverLog(LL_NOTICE, "Background saving started by pid %d", (int)pid);
    return 0;
}

/* Reaps the child when it is done. */
static void check_child(void) {
    if (!child_pid) return;
    int status;
    pid_t p = waitpid(child_pid, &status, WNOHANG);
    if (p == 0) return;
    int killed = p > 0 && WIFSIGNALED(status);
    if (killed) snapshot_remove_child_temp(rdb_path(), (int)child_pid); /* it could not remove it itself */
    child_pid = 0;
    int ok = p > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    bgsave_done(NULL, ok, ok ? NULL : killed ? "the child was killed" : "the child failed");
}

static void kill_child(void) {
    if (!child_pid) return;
    kill(child_pid, SIGUSR1);
    waitpid(child_pid, NULL, 0);
    snapshot_remove_child_temp(rdb_path(), (int)child_pid);
    child_pid = 0;
    bgsave_done(NULL, 0, "killed");
}

/* Starts a background save; 0, or -1 with the reason in err. */
static int bgsave_start(char *err, size_t errlen) {
    st.last_bgsave_try = time(NULL);
    if (srv.bgsave_fork) {
        dirty_at_start = srv.dirty;
        st.bgsave_start_ms = mstime();
        bgsave_running = 1;
        if (bgsave_fork(err, errlen) == 0) return 0;
        bgsave_running = 0;
        st.bgsave_start_ms = 0;
        st.last_bgsave_ok = 0;
        serverLog(LL_WARNING, "Can't save in background: %s", err);
        return -1;
    }
    snap_req r = {.path = rdb_path(), .done = bgsave_done};
    r.nfunctions = functions_codes(&r.functions, &r.function_lens);
    dirty_at_start = srv.dirty;
    st.bgsave_start_ms = mstime();
    bgsave_running = 1;
    if (snapshot_start(&r, err, errlen) != 0) {
        bgsave_running = 0;
        st.bgsave_start_ms = 0;
        st.last_bgsave_ok = 0;
        serverLog(LL_WARNING, "Can't save in background: %s", err);
        return -1;
    }
    serverLog(LL_NOTICE, "Background saving started (no fork)");
    return 0;
}

static int fg_ok;
static char fg_err[512];
static void fg_done(void *ud, int ok, const char *err) {
    (void)ud;
    fg_ok = ok;
    snprintf(fg_err, sizeof(fg_err), "%s", err ? err : "");
}

/* SAVE: the whole snapshot now, the loop blocked.  0 on success. */
static int save_now(void) {
    snap_req r = {.path = rdb_path(), .foreground = 1, .done = fg_done};
    r.nfunctions = functions_codes(&r.functions, &r.function_lens);
    char err[512];
    long long dirty = srv.dirty;
    fg_ok = 0;
    if (snapshot_start(&r, err, sizeof(err)) != 0) {
        serverLog(LL_WARNING, "%s", err);
        return -1;
    }
    if (!fg_ok) return -1;
    serverLog(LL_NOTICE, "DB saved on disk");
    srv.dirty -= dirty;
    st.lastsave = time(NULL);
    st.last_bgsave_ok = 1;
    st.saves++;
    return 0;
}

void cmd_save(client *c) {
    if (snapshot_running() || child_pid) {
        reply_error(c, "ERR Background save already in progress");
        return;
    }
    if (save_now() == 0) reply_ok(c);
    else reply_error(c, "ERR");
}

void cmd_bgsave(client *c) {
    int schedule = 0;
    if (c->argc > 1) {
        if (c->argc == 2 && arg_is(&c->argv[1], "schedule")) schedule = 1;
        else {
            reply_syntax_error(c);
            return;
        }
    }
    if (bgsave_running) {
        reply_error(c, "ERR Background save already in progress");
        return;
    }
    if (snapshot_running()) { /* an AOF rewrite's snapshot */
        if (schedule) {
            st.bgsave_scheduled = 1;
            reply_status(c, "Background saving scheduled");
        } else {
            reply_error(c, "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in "
                           "order to schedule a BGSAVE whenever possible.");
        }
        return;
    }
    char err[512];
    if (bgsave_start(err, sizeof(err)) == 0) reply_status(c, "Background saving started");
    else reply_error(c, "ERR");
}

void cmd_lastsave(client *c) { reply_int(c, saving_get_stats()->lastsave); }

int saving_refuses_writes(void) { return srv.stop_writes_on_bgsave_err && srv.nsaveparams > 0 && !st.last_bgsave_ok; }

void saving_cron(void) {
    check_child();
    if (snapshot_running() || child_pid) return;
    char err[512];
    if (st.bgsave_scheduled) {
        st.bgsave_scheduled = 0;
        bgsave_start(err, sizeof(err));
        return;
    }
    long long now = time(NULL), last = saving_get_stats()->lastsave;
    for (int i = 0; i < srv.nsaveparams; i++) {
        const struct saveparam *sp = &srv.saveparams[i];
        if (srv.dirty >= sp->changes && now - last > sp->seconds &&
            (st.last_bgsave_ok || now - st.last_bgsave_try > BGSAVE_RETRY_DELAY)) {
            serverLog(LL_NOTICE, "%lld changes in %lld seconds. Saving...", sp->changes, sp->seconds);
            bgsave_start(err, sizeof(err));
            return;
        }
    }
}

int saving_step(void) {
    check_child();
    int more = snapshot_step();
    if (snapshot_take_parts_progress()) { /* writes held back for a big value ask again */
        clients_resume_paused();
        more = 1; /* their replies go out before the loop sleeps */
    }
    return more;
}

int saving_before_shutdown(int flags) {
    kill_child();
    if (snapshot_running()) {
        serverLog(LL_WARNING, "There is a snapshot in progress. Stopping it before shutting down.");
        snapshot_abort();
    }
    int save = (flags & SHUTDOWN_SAVE) || (srv.nsaveparams > 0 && !(flags & SHUTDOWN_NOSAVE));
    if (!save) return 0;
    serverLog(LL_NOTICE, "Saving the final RDB snapshot before exiting.");
    if (save_now() == 0) return 0;
    if (flags & SHUTDOWN_FORCE) {
        serverLog(LL_WARNING, "Error trying to save the DB. Exit anyway.");
        return 0;
    }
    serverLog(LL_WARNING, "Error trying to save the DB, can't exit.");
    return -1;
}

void saving_flushall_begin(void) {
    kill_child();
    if (bgsave_running) {
        serverLog(LL_NOTICE, "Background saving stopped by FLUSHALL");
        snapshot_abort();
    }
}

void saving_flushall_end(void) {
    if (srv.nsaveparams > 0 && !snapshot_running()) save_now(); /* the counter restarts at 0, as Redis's */
}

/* ---- loading ---- */

/* Progress of a load: INFO's loading_* fields; at startup clients are accepted and answered meanwhile
 * (-LOADING to all but the commands flagged `loading`). */
static void load_progress(void *ud, uint64_t bytes) {
    int serve = ud != NULL;
    st.loading_loaded_bytes = (long long)bytes;
    if (!serve || !srv.el) return;
    long long now = mstime();
    static long long last;
    if (now - last < 2) return; /* at most every 2 ms */
    last = now;
    el_poll(srv.el);
    clients_free_closed();
    clients_handle_pending_writes();
    clients_free_closed();
}

static int load(const char *path, int serve_clients, char *err, size_t errlen) {
    rdb_load_opts o = {.progress = load_progress, .ud = serve_clients ? (void *)1 : NULL,
                       .deep = config_sanitize_dump() == SANITIZE_YES, .no_checksum = !srv.rdb_checksum,
                       .function = functions_load_code};
    rdb_load_info info = {0};
    long long start = ustime();
    struct stat sb;
    st.loading_total_bytes = stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
    st.loading_loaded_bytes = 0;
    st.loading_start_time = time(NULL);
    srv.loading = 1;
    int rc = rdb_load_file(path, &o, &info, err, errlen);
    srv.loading = 0;
    if (rc != 0) return -1;
    st.last_load_keys_loaded = (long long)info.keys;
    st.last_load_keys_expired = (long long)info.expired_skipped;
    serverLog(LL_NOTICE, "Done loading RDB, keys loaded: %llu, keys expired: %llu.", (unsigned long long)info.keys,
              (unsigned long long)info.expired_skipped);
    serverLog(LL_NOTICE, "DB loaded from disk: %.3f seconds", (double)(ustime() - start) / 1e6);
    return 0;
}

int saving_load_at_startup(void) {
    const char *path = rdb_path();
    if (access(path, F_OK) != 0) return 0;
    char err[512];
    if (load(path, 1, err, sizeof(err)) != 0) {
        serverLog(LL_WARNING, "Fatal error loading the DB: %s. Exiting.", err);
        return -1;
    }
    st.lastsave = time(NULL);
    return 0;
}

int saving_debug_reload(client *c) {
    kill_child();
    if (snapshot_running()) snapshot_abort();
    if (save_now() != 0) {
        reply_error(c, "ERR Error trying to save the DB");
        return -1;
    }
    long long dirty = srv.dirty;
    for (int i = 0; i < srv.dbnum; i++) db_flush(&srv.dbs[i], 0);
    srv.dirty = dirty; /* emptying to reload is not a change */
    char err[512];
    if (load(rdb_path(), 0, err, sizeof(err)) != 0) {
        serverLog(LL_WARNING, "DEBUG RELOAD: %s", err);
        reply_error(c, "ERR Error trying to load the RDB dump, check server logs.");
        return -1;
    }
    return 0;
}
