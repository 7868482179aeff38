/* snapshot: a point-in-time image of every database, taken without fork()
 * and without stopping the server (BGSAVE, SAVE, the base of an AOF rewrite,
 * a replica's full sync), written as an RDB file or, for the base of an AOF
 * with aof-use-rdb-preamble no, as the commands that rebuild it.
 *
 * The event loop serializes the keyspace in small time slices, database by
 * database in hash order (keyspace/table.h's position cursor), while commands
 * keep running.  The image stays the one of the moment the snapshot started
 * because nothing is changed before it is saved: every change is announced
 * beforehand to the effects layer (fx_before), and a key at or past the
 * cursor that has not been saved yet is serialized right then, in its old
 * state, and remembered so the scan skips it; a key that did not exist when
 * the snapshot started is remembered the same way and never saved.  A flush
 * or SWAPDB of a database not yet finished serializes its remaining keys
 * first.  Bytes go to a background thread that checksums, writes and fsyncs
 * them into a temporary file, renamed over the target only when complete.
 *
 * Big values are written in parts, a part per slice, and a write to one the
 * image still owes waits for it instead of the loop (snapshot_write_waits).
 *
 * Memory: the copies made before writes (bounded by what the write load
 * touches during the snapshot) and the writer's queue; never a second copy
 * of the dataset.  One snapshot at a time. */
#ifndef SARDINE_SNAPSHOT_H
#define SARDINE_SNAPSHOT_H
#include <stddef.h>
#include <stdint.h>

/* ok: 1 when the file is complete and renamed into place; err: why not. */
typedef void snap_done_fn(void *ud, int ok, const char *err);

/* What the image is written as: the serializer is the snapshot's only format-specific part (the scan, the
 * saves before writes, the side buffers and the writer thread are shared). */
enum {
    SNAP_RDB = 0,     /* an RDB file (persist/rdb_save.h): header, FUNCTION2, SELECTDB, key records, EOF, CRC64 */
    SNAP_COMMANDS = 1 /* the commands that rebuild it (persist/cmd_form.h): an AOF base with aof-use-rdb-preamble no */
};

typedef struct snap_req {
    const char *path;     /* target file (a temporary file beside it is renamed over it) */
    int format;           /* SNAP_RDB or SNAP_COMMANDS */
    int aof_base;         /* SNAP_RDB: aux aof-base 1 (the base of an AOF) */
    int timestamp;        /* SNAP_COMMANDS: a #TS:<unix time> annotation first (aof-timestamp-enabled) */
    int foreground;       /* SAVE: complete before snapshot_start returns */
    int no_keys;          /* only the header and the function libraries (REPLCONF rdb-filter-only functions) */
    snap_done_fn *done;   /* called once, from the event loop (foreground: before snapshot_start returns) */
    void *ud;
    /* Function libraries, written before the databases (after the header as FUNCTION2 records, or as
     * FUNCTION LOAD commands) with their code as FUNCTION LOAD got it; read during snapshot_start only. */
    int nfunctions;
    const char *const *functions;
    const size_t *function_lens;
} snap_req;

/* Registers the effects listener; called once at startup. */
void snapshot_init(void);
/* Starts a snapshot; 0, or -1 with a reason in err (one already running, file not creatable). */
int snapshot_start(const snap_req *r, char *err, size_t errlen);
int snapshot_running(void);
/* Removes the temporary file a child forked by this process to run an RDB snapshot of `target` (now, with no
 * snapshot of this process in between) was writing: after the child was killed ("rdb-unlink-temp-file"). */
void snapshot_remove_child_temp(const char *target, int pid);
/* A running snapshot's progress: keys written so far and keys the databases held when it started
 * (INFO's current_save_keys_processed / current_save_keys_total); bytes of keys saved before a write
 * (Sardine's counterpart of copy-on-write: INFO's current_cow_size and rdb_last_cow_size). */
void snapshot_progress(uint64_t *processed, uint64_t *total, uint64_t *early_bytes);
uint64_t snapshot_last_early_bytes(void);
/* Stops a running snapshot (its done callback reports failure; the target file is untouched). */
void snapshot_abort(void);
/* Tests: at most n keys scanned per slice (0: by time, the default), and slices only when the loop wakes
 * up anyway (an event, the cron), so a save lasts long enough to race writes against it, interleaved
 * with them (DEBUG SNAPSHOT-THROTTLE).  part_elems: values of more elements are written in parts (0: 8192). */
void snapshot_set_throttle(long n, long part_elems);
/* Big values (lists, and sets, sorted sets and hashes in their table encodings, of more than 8192
 * elements by default) are written in parts over several slices.  A change to one the image still owes completes it
 * at once, holding the loop; a command whose keys are known first avoids that by asking, for each key it
 * writes: 1 means "wait" (the key is queued to be written in parts), and the command is held back until
 * snapshot_take_parts_progress() returns 1 (a big value's record ended, or the snapshot did), then asks
 * again. */
int snapshot_write_waits(int dbid, const char *key, size_t klen);
int snapshot_take_parts_progress(void);
/* Called by the event loop: serializes one slice; 1 while work remains. */
int snapshot_step(void);
#endif
