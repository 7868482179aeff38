/* saving: RDB persistence as Redis 7.0 runs it, on top of the forkless
 * snapshot (persist/snapshot.h): SAVE, BGSAVE [SCHEDULE], LASTSAVE, the
 * `save` points checked by the cron, stop-writes-on-bgsave-error (MISCONF),
 * the save of SHUTDOWN and of SIGTERM/SIGINT, FLUSHALL's reset, loading
 * `dir`/`dbfilename` at startup and DEBUG RELOAD, and INFO persistence's
 * rdb_* fields.
 *
 * `bgsave-fork yes` (Sardine's, off by default) makes BGSAVE fork as Redis
 * does, the child running the same snapshot to completion on its copy of
 * the dataset: it exists to compare the two designs (bench/bgsave.py).  As
 * in Redis the fork is a latency event ("fork", its rate graded by LATENCY
 * DOCTOR), and when the child is killed (FLUSHALL, SHUTDOWN, DEBUG RELOAD, a
 * signal) the parent removes its temporary file ("rdb-unlink-temp-file").
 *
 * State: one snapshot at a time.  A BGSAVE asked for while another snapshot
 * runs (an AOF rewrite's base) is refused or, with SCHEDULE, started by the
 * cron when the other one ends.  `srv.dirty` counts changes since the last
 * successful save: a save that succeeds subtracts the count it started from,
 * so changes made during a background save still count afterwards. */
#ifndef SARDINE_SAVING_H
#define SARDINE_SAVING_H
#include "net/client.h"

/* Loads dir/dbfilename if it exists (startup, listeners open: clients get -LOADING meanwhile): 0, or -1
 * after logging why (the server must not start). */
int saving_load_at_startup(void);
/* The cron's part: save points, a scheduled BGSAVE. */
void saving_cron(void);
/* The loop's part: one slice of a running snapshot; 1 while work remains. */
int saving_step(void);
/* 1 when writes must be refused with MISCONF (the last background save failed). */
int saving_refuses_writes(void);
extern const char *const saving_misconf_error;
/* Before a shutdown (SHUTDOWN, a signal): saves when flags or the save points ask for it.  0 to go on;
 * -1 when the save failed and FORCE was not given (the shutdown is cancelled). */
int saving_before_shutdown(int flags);
/* FLUSHALL: a running background save is stopped before the data goes (Redis kills its child)... */
void saving_flushall_begin(void);
/* ...and afterwards the empty dataset is saved when save points exist (the dirty counter restarts). */
void saving_flushall_end(void);
/* Whether a BGSAVE (not another kind of snapshot) is running. */
int saving_bgsave_running(void);

typedef struct saving_stats {
    long long lastsave, last_bgsave_try;
    int last_bgsave_ok;
    long long last_bgsave_time_sec, bgsave_start_ms;
    long long saves;
    long long last_load_keys_loaded, last_load_keys_expired;
    int bgsave_scheduled;
    long long loading_start_time, loading_total_bytes, loading_loaded_bytes;
    long long latest_fork_usec, total_forks; /* bgsave-fork yes only */
} saving_stats;
const saving_stats *saving_get_stats(void);

void cmd_save(client *c);
void cmd_bgsave(client *c);
void cmd_lastsave(client *c);
/* DEBUG RELOAD: save, empty, load back.  0 ok, -1 with the error replied. */
int saving_debug_reload(client *c);
#endif
