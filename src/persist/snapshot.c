/* snapshot: see snapshot.h for the design.  The invariants, for a snapshot
 * that started at time T (all state below is the loop thread's except the
 * writer's queue):
 *
 * - Databases are taken in index order; `cur` is the one being scanned and
 *   `cursor` its position in hash order (table.h: every key of `cur` whose
 *   hash is below `cursor` has been visited).  Databases below `cur` are
 *   complete in the image.
 * - A key "is in the image" once its T-state has been serialized.  The T-state
 *   of a key of database d is still needed exactly when d > cur, or d == cur
 *   and hash >= cursor, and the key is not in done[d].
 * - fx_before (the effects layer calls it before any change) serializes the
 *   key's current state when it is still needed, which is its T-state since
 *   nothing has changed it yet, and puts the key in done[d] either way: a key
 *   absent at that moment did not exist at T (or was deleted after being
 *   saved), so the scan must skip it later.
 * - The scan skips keys in done[d].  So every key that existed at T is
 *   serialized exactly once, with its T-state, and no other key is.
 * - The stream must carry each key after the SELECTDB of its database: keys of
 *   `cur` go straight to the main writer; keys saved early for a later
 *   database wait in that database's side buffer, emitted right after its
 *   SELECTDB when the scan gets there.
 * - A flush or swap of a database still needed serializes what remains of
 *   it first (db_flushing / db_swapping), then marks it finished (`frozen`).
 * - Big values (over PART_ELEMS elements, in an encoding rdb_save writes in
 *   parts) are not written by the scan: their keys wait in `big`, FIFO, and
 *   are written a part per slice, first of all other work of the slice.  A
 *   key in `big` is still owed (not in done) and unchanged since T; the first
 *   one's record, once begun (`big_open`), is open in the main stream, and
 *   until it ends nothing else goes there: keys of `cur` saved early go to
 *   `defer`, appended when it ends.  The scan does not leave a database while
 *   `big` is not empty, so every key in it belongs to `cur` or a later
 *   database; a later database's key (queued by a write waiting for it) is
 *   written under a SELECTDB of its own, followed by `cur`'s again.
 * - A change announced for a key in `big` completes its record at once (the
 *   loop pays for it); commands whose keys are known beforehand do not get
 *   there: dispatch holds a write to a big owed value back
 *   (snapshot_write_waits), queueing the key, until a record ends.
 *
 * The format (RDB records or commands) is a table of four serializers (begin,
 * select a database, one key, end) over rdb_save's buffer: everything above
 * holds for both, since both write one key at a time, whole, after its
 * database's SELECTDB / SELECT.
 *
 * The writer thread owns the temporary file: it receives chunks through a
 * queue, checksums them (CRC64, when rdbchecksum; RDB only), writes, and at
 * the end appends the checksum (RDB only) and fsyncs.  The loop renames the file over the
 * target and fsyncs the directory once the thread is done.  When the queue
 * holds more than QUEUE_HIGH bytes, slices do no scanning (the disk sets the
 * pace; pre-images are still queued). */
#include "persist/snapshot.h"
#include "keyspace/db.h"
#include "keyspace/effects.h"
#include "keyspace/lru.h"
#include "persist/cmd_form.h"
#include "persist/rdb_format.h"
#include "persist/rdb_save.h"
#include "server/server.h"
#include "util/crc64.h"
#include "util/debug.h"
#include "util/mem.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_BYTES (256 * 1024)
#define QUEUE_HIGH (8ull * 1024 * 1024)
#define SLICE_MAX_US 1000      /* scanning time per loop iteration, at most... */
#define SLICE_MIN_US 50        /* ...and at least */
#define SLICE_SHARE 4          /* while clients keep the loop busy: 1/4 of the time they take */
#define SCAN_BATCH 64          /* keys per kt_scan call between clock reads */
#define PART_ELEMS 8192        /* a value of more elements is written in parts, over several slices... */
#define PART_MIN 1024          /* ...at least this many elements (whole list nodes, table segments) a part */

/* ---- the writer thread ---- */

typedef struct chunk {
    struct chunk *next;
    size_t len, cap;
    unsigned char data[];
} chunk;

/* Chunks of POOL_CAP bytes go back to a pool once written instead of being freed: allocating and freeing
 * a quarter megabyte per slice made the allocator return and re-fault pages on the loop thread (pauses of
 * several ms on a VM where page faults are dear).  The pool holds what the queue can hold. */
#define POOL_CAP (CHUNK_BYTES * 2)
#define POOL_MAX (QUEUE_HIGH / POOL_CAP + 4)
#define POOL_SPARE 2 /* chunks the writer keeps ready for the loop */

typedef struct writer {
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    chunk *head, *tail;
    chunk *pool;          /* written chunks of POOL_CAP bytes, for reuse */
    size_t npool;
    size_t queued;        /* bytes waiting */
    int closing;          /* no more chunks: finish the file */
    int finished;         /* the thread is done (result in err / ok) */
    int fd;
    int trailer;          /* end the file with the (RDB) checksum */
    int checksum;         /* and compute it (else the trailer is zeros, as rdbchecksum no) */
    int commit;           /* set before closing: rename the file into place once it is complete */
    const char *tmp, *path;
    uint64_t crc;
    uint64_t written;
    uint64_t flushed, waited; /* incremental sync: writeback started for [0, flushed), done for [0, waited) */
    int incremental_sync;     /* rdb-save-incremental-fsync when the snapshot began */
    char err[256];
} writer;

/* Incremental sync, as Redis's rdb-save-incremental-fsync: every SYNC_STEP bytes the kernel is told to
 * start writing the new bytes back, and the previous step's writeback is waited for.  Dirty pages stay
 * bounded, so the file never piles up gigabytes of them for one long flush at the end; on this kind of VM
 * such a flush stalls the whole guest, the event loop thread included, for tens of milliseconds. */
#define SYNC_STEP ((uint64_t)4 << 20)

static void sync_step(writer *w) {
    if (!w->incremental_sync || w->written - w->flushed < SYNC_STEP) return;
    if (w->flushed > w->waited) { /* the range started last time: on disk before going on */
        sync_file_range(w->fd, (off_t)w->waited, (off_t)(w->flushed - w->waited),
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
        w->waited = w->flushed;
    }
    sync_file_range(w->fd, (off_t)w->flushed, (off_t)(w->written - w->flushed), SYNC_FILE_RANGE_WRITE);
    w->flushed = w->written;
}

static int write_all(int fd, const unsigned char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void fsync_dir_of(const char *path) {
    char *copy = s_strdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    s_free(copy);
}

/* Keeps POOL_SPARE chunks ready in the pool, made here rather than on the loop: a fresh chunk's pages
 * fault in as it is first written, ~1 ms for a chunk on this kind of VM, which a slice could not afford. */
static void pool_top_up(writer *w) {
    for (;;) {
        pthread_mutex_lock(&w->mu);
        int need = w->npool < POOL_SPARE && !w->closing;
        pthread_mutex_unlock(&w->mu);
        if (!need) return;
        chunk *c = s_malloc(sizeof(chunk) + POOL_CAP);
        c->cap = POOL_CAP;
        s_map_populate(c, sizeof(chunk) + POOL_CAP);
        pthread_mutex_lock(&w->mu);
        c->next = w->pool;
        w->pool = c;
        w->npool++;
        pthread_mutex_unlock(&w->mu);
    }
}

static void *writer_main(void *arg) {
    writer *w = arg;
    int failed = 0;
    for (;;) {
        pool_top_up(w);
        pthread_mutex_lock(&w->mu);
        while (!w->head && !w->closing) pthread_cond_wait(&w->cv, &w->mu);
        chunk *c = w->head;
        if (c) {
            w->head = c->next;
            if (!w->head) w->tail = NULL;
        }
        pthread_mutex_unlock(&w->mu);
        if (!c) break; /* closing and drained */
        if (!failed) {
            if (w->checksum) w->crc = crc64(w->crc, c->data, c->len);
            if (write_all(w->fd, c->data, c->len) < 0) {
                failed = 1;
                snprintf(w->err, sizeof(w->err), "%s", strerror(errno));
            }
            w->written += c->len;
            sync_step(w);
        }
        pthread_mutex_lock(&w->mu);
        w->queued -= c->len;
        int keep = c->cap == POOL_CAP && w->npool < POOL_MAX;
        if (keep) {
            c->next = w->pool;
            w->pool = c;
            w->npool++;
        }
        pthread_mutex_unlock(&w->mu);
        if (!keep) s_free(c);
    }
    if (!failed && w->trailer) {
        unsigned char trailer[8];
        uint64_t crc = w->checksum ? w->crc : 0;
        for (int i = 0; i < 8; i++) trailer[i] = (unsigned char)(crc >> (8 * i));
        if (write_all(w->fd, trailer, 8) < 0 || fsync(w->fd) < 0) {
            failed = 1;
            snprintf(w->err, sizeof(w->err), "%s", strerror(errno));
        }
    } else if (!failed && fsync(w->fd) < 0) {
        failed = 1;
        snprintf(w->err, sizeof(w->err), "%s", strerror(errno));
    }
    if (close(w->fd) < 0 && !failed) {
        failed = 1;
        snprintf(w->err, sizeof(w->err), "%s", strerror(errno));
    }
    /* The rename and the directory's fsync happen here too, so the loop never waits on the disk. */
    if (!failed && w->commit) {
        if (rename(w->tmp, w->path) < 0) {
            failed = 1;
            snprintf(w->err, sizeof(w->err), "Error moving temp DB file %s on the final destination %s: %s", w->tmp,
                     w->path, strerror(errno));
        } else {
            fsync_dir_of(w->path);
        }
    }
    pthread_mutex_lock(&w->mu);
    w->finished = failed ? -1 : 1;
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void writer_push(writer *w, const unsigned char *p, size_t n) {
    if (!n) return;
    chunk *c = NULL;
    if (n <= POOL_CAP) {
        pthread_mutex_lock(&w->mu);
        if ((c = w->pool)) {
            w->pool = c->next;
            w->npool--;
        }
        pthread_mutex_unlock(&w->mu);
    }
    if (!c) { /* the writer fell behind its spares: fault the part to be written in with one call */
        size_t cap = n <= POOL_CAP ? POOL_CAP : n;
        c = s_malloc(sizeof(chunk) + cap);
        s_map_populate(c, sizeof(chunk) + n);
        c->cap = cap;
    }
    c->next = NULL;
    c->len = n;
    memcpy(c->data, p, n);
    pthread_mutex_lock(&w->mu);
    if (w->tail) w->tail->next = c;
    else w->head = c;
    w->tail = c;
    w->queued += n;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static size_t writer_queued(writer *w) {
    pthread_mutex_lock(&w->mu);
    size_t q = w->queued;
    pthread_mutex_unlock(&w->mu);
    return q;
}

static int writer_state(writer *w) {
    pthread_mutex_lock(&w->mu);
    int f = w->finished;
    pthread_mutex_unlock(&w->mu);
    return f;
}

static void writer_close(writer *w) {
    pthread_mutex_lock(&w->mu);
    w->closing = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* ---- the formats ---- */

typedef struct snap_format {
    void (*begin)(rdbw *w, const snap_req *r); /* what comes before the databases */
    void (*select_db)(rdbw *w, int dbid, uint64_t keys, uint64_t expires);
    void (*key)(rdbw *w, const uint8_t *entry);
    void (*end)(rdbw *w);
    int trailer;     /* the file ends with the CRC64 */
    const char *ext; /* of the temporary file */
    int parts;       /* big values in parts (rdbw_key_begin / rdbw_key_part) */
} snap_format;

static void rdb_begin(rdbw *w, const snap_req *r) {
    rdbw_header(w, r->aof_base);
    for (int i = 0; i < r->nfunctions; i++) { /* before the databases, as Redis 7.0 */
        rdbw_byte(w, RDB_OPCODE_FUNCTION2);
        rdbw_string(w, r->functions[i], r->function_lens[i]);
    }
}

static void cmd_begin(rdbw *w, const snap_req *r) {
    if (r->timestamp) cmdf_timestamp(w, (long long)time(NULL));
    for (int i = 0; i < r->nfunctions; i++) cmdf_function(w, r->functions[i], r->function_lens[i]);
}

static void cmd_select(rdbw *w, int dbid, uint64_t keys, uint64_t expires) {
    (void)keys, (void)expires;
    cmdf_select(w, dbid);
}

static void cmd_end(rdbw *w) { (void)w; }

static const snap_format formats[] = {
    [SNAP_RDB] = {rdb_begin, rdbw_select_db, rdbw_key, rdbw_eof, 1, "rdb", 1},
    [SNAP_COMMANDS] = {cmd_begin, cmd_select, cmdf_key, cmd_end, 0, "aof", 0},
};

/* ---- the snapshot ---- */

static long throttle; /* DEBUG SNAPSHOT-THROTTLE: keys (elements of a big value) per slice */
static size_t part_elems = PART_ELEMS; /* values of more elements are written in parts */

/* A big value's key, waiting to be written in parts. */
typedef struct bigkey {
    int db;
    int waited;         /* a write waits for it */
    char *key;
    size_t klen;
} bigkey;

static struct {
    int running;
    snap_req req;
    const snap_format *fmt;
    char *path, *tmp;
    writer wr;
    rdbw out;           /* the main stream */
    rdbw *side;         /* per database: keys saved early, waiting for their SELECTDB */
    ktable **done;      /* per database: keys saved early or born after T (key-only arena entries) */
    unsigned char *frozen; /* per database: nothing more to take from it */
    size_t *start_keys, *start_expires;
    int cur;            /* database being scanned (dbnum when the scan is over) */
    int cur_begun;      /* its SELECTDB is out */
    uint64_t cursor;
    int closing;        /* scan over, EOF out, waiting for the writer */
    uint64_t keys, early, early_bytes;
    uint64_t in_parts, held;  /* big values written in parts; writes held back for one */
    int inexact;        /* a done mark could not be recorded (arena exhausted) */
    long long start_us;
    long long last_slice_end; /* when the previous slice ended (the slice budget follows the loop's load) */
    bigkey *big;        /* big values still owed, in order (those writes wait for first, after an open one) */
    size_t nbig, capbig;
    size_t nwaited;     /* of them, those writes wait for */
    int big_open;       /* big[0]'s record is begun in the main stream */
    int big_switched;   /* ...under its own database's SELECTDB (not cur's) */
    size_t big_pos;     /* where its next part starts */
    int cur_scanned;    /* the scan of cur is over (its big values may still be owed) */
    rdbw defer;         /* keys of cur saved while a big record is open */
} S;

/* A big record ended, or the snapshot did (held-back writes may go on). */
static int parts_progress;

static void out_flush(void *ud, const unsigned char *p, size_t n) {
    (void)ud;
    writer_push(&S.wr, p, n);
}

static int lru_mode(void) {
    if (policy_is_lfu()) return RDBW_LRU_FREQ;
    if (policy_is_lru()) return RDBW_LRU_IDLE;
    return RDBW_LRU_NONE;
}

/* Starts database i in the stream: SELECTDB + RESIZEDB, then what was saved early for it. */
static void begin_db(int i) {
    rdbw *sd = &S.side[i];
    int has_early = sd->buf && sd->len;
    if (S.start_keys[i] || has_early) {
        S.fmt->select_db(&S.out, i, S.start_keys[i], S.start_expires[i]);
        if (has_early) rdbw_raw(&S.out, sd->buf, sd->len);
    }
    if (sd->buf || sd->cap) rdbw_free(sd);
    memset(sd, 0, sizeof(*sd));
    S.cur_begun = 1;
    S.cursor = 0;
}

/* Done sets are keyspace tables of key-only entries: they grow a segment at a time and are freed a
 * slice at a time, so however many keys a write load touches during a snapshot, no single step over
 * them holds the loop for long.  Finished ones wait here to be drained. */
static ktable **draining;
static size_t ndraining;

static void free_done_entry(void *ud, handle_t h) {
    (void)ud;
    entry_free(h);
}

static void retire_done(int i) {
    if (!S.done[i]) return;
    draining = s_realloc(draining, sizeof(*draining) * (ndraining + 1));
    draining[ndraining++] = S.done[i];
    S.done[i] = NULL;
}

/* Frees a slice of retired done sets; 1 while some remain. */
static int drain_step(void) {
    if (!ndraining) return 0;
    ktable *t = draining[ndraining - 1];
    if (kt_drain(t, 5000, free_done_entry, NULL)) {
        kt_destroy(t, free_done_entry, NULL);
        s_free(t);
        ndraining--;
    }
    return ndraining > 0;
}

static void end_db(int i) {
    retire_done(i);
    S.frozen[i] = 1;
}

static int in_done(int i, const char *key, size_t klen) {
    return S.done[i] && kt_find(S.done[i], key, klen, kt_hash(key, klen), NULL);
}

static void mark_done(int i, const char *key, size_t klen) {
    if (!S.done[i]) {
        S.done[i] = s_malloc(sizeof(ktable));
        kt_init(S.done[i]);
    }
    static const entry_value none = {.type = OBJ_STRING, .store = VAL_INT, .ival = 0};
    handle_t h = entry_build(key, klen, -1, 0, &none);
    if (!h) {
        S.inexact = 1; /* the arena is exhausted: the scan may save this key's later state */
        return;
    }
    kt_insert(S.done[i], kt_hash(key, klen), h, 0);
}

/* The writer a key of database i saved now belongs to. */
static rdbw *stream_for(int i) {
    if (i == S.cur) {
        if (S.big_open) {
            if (!S.defer.buf) rdbw_init(&S.defer, srv.rdb_compression, 0, NULL, NULL);
            S.defer.lru_mode = S.out.lru_mode;
            return &S.defer;
        }
        if (!S.cur_begun) begin_db(i);
        return &S.out;
    }
    rdbw *sd = &S.side[i];
    if (!sd->buf && !sd->cap) rdbw_init(sd, srv.rdb_compression, 0, NULL, NULL);
    sd->lru_mode = S.out.lru_mode;
    return sd;
}

/* Whether database i's key with this hash still needs its T-state saved. */
static int still_needed(int i, uint64_t hash) {
    if (S.frozen[i] || i < S.cur) return 0;
    if (i == S.cur && S.cur_begun && (S.cur_scanned || hash < S.cursor)) return 0; /* (scanned: cursor is 0) */
    return 1;
}

static void save_entry(rdbw *w, const uint8_t *e) {
    S.fmt->key(w, e);
    S.keys++;
}

/* ---- big values, in parts ---- */

static long big_find(int i, const char *key, size_t klen) {
    for (size_t k = 0; k < S.nbig; k++)
        if (S.big[k].db == i && S.big[k].klen == klen && !memcmp(S.big[k].key, key, klen)) return (long)k;
    return -1;
}

/* Queues a big value at position at (at most nbig), returning it. */
static bigkey *big_insert(size_t at, int i, const char *key, size_t klen) {
    if (S.nbig == S.capbig) S.big = s_realloc(S.big, (S.capbig = S.capbig ? 2 * S.capbig : 4) * sizeof(bigkey));
    memmove(&S.big[at + 1], &S.big[at], (S.nbig - at) * sizeof(bigkey));
    S.nbig++;
    bigkey *b = &S.big[at];
    b->db = i;
    b->waited = 0;
    b->key = s_malloc(klen ? klen : 1);
    memcpy(b->key, key, klen);
    b->klen = klen;
    return b;
}

/* Drops big[k], now in the image: the scan and later writes skip it. */
static void big_drop(size_t k) {
    if (S.big[k].waited) {
        S.nwaited--;
        parts_progress = 1; /* its writer asks again */
    }
    mark_done(S.big[k].db, S.big[k].key, S.big[k].klen);
    s_free(S.big[k].key);
    memmove(&S.big[k], &S.big[k + 1], (S.nbig - k - 1) * sizeof(bigkey));
    S.nbig--;
}

/* The entry of a big key as the table holds it now (it may have moved since the last part). */
static const uint8_t *big_entry(const bigkey *b) {
    handle_t h = kt_find(&srv.dbs[b->db].t, b->key, b->klen, kt_hash(b->key, b->klen), NULL);
    DBG_ASSERT(h); /* deleting it would have been announced, and the record completed first */
    return h ? arena_ptr(h) : NULL;
}

static void big_begin(const uint8_t *e) {
    int i = S.big[0].db;
    if (i != S.cur) { /* a later database's key, waited for by a write: under its own SELECTDB */
        DBG_ASSERT(i > S.cur);
        S.fmt->select_db(&S.out, i, S.start_keys[i], S.start_expires[i]);
        S.big_switched = 1;
    } else if (!S.cur_begun) {
        begin_db(i);
    }
    rdbw_key_begin(&S.out, e);
    S.big_open = 1;
    S.big_pos = 0;
}

static void big_end(void) {
    big_drop(0);
    S.in_parts++;
    S.big_open = 0;
    S.keys++; /* (a write waiting for it was released by big_drop) */
    if (S.big_switched) { /* back to cur */
        S.big_switched = 0;
        if (S.cur_begun) S.fmt->select_db(&S.out, S.cur, S.start_keys[S.cur], S.start_expires[S.cur]);
    }
    if (S.defer.len) {
        if (!S.cur_begun) begin_db(S.cur);
        rdbw_raw(&S.out, S.defer.buf, S.defer.len);
        rdbw_free(&S.defer);
    }
}

/* Completes big[k] at once: a change to it is about to happen, or its database is flushed or swapped. */
static void big_finish(size_t k) {
    const uint8_t *e = big_entry(&S.big[k]);
    if (k == 0 && S.big_open) {
        if (!e) S.inexact = 1; /* cannot happen (see big_entry): a record cut short fails the save */
        while (e && !rdbw_key_part(&S.out, e, &S.big_pos, LONG_MAX)) {}
        big_end();
        return;
    }
    if (e) {
        rdbw *w = stream_for(S.big[k].db);
        uint64_t before = w->flushed + w->len;
        save_entry(w, e);
        S.early++;
        S.early_bytes += w->flushed + w->len - before;
    }
    big_drop(k);
}

static void big_finish_all(void) {
    while (S.nbig) big_finish(0);
}

/* Writes parts of the big values until the deadline (0: none) or the writer's queue is full (or one part
 * under DEBUG SNAPSHOT-THROTTLE); 1 when none is left. */
static int big_slice(long long deadline) {
    while (S.nbig) {
        const uint8_t *e = big_entry(&S.big[0]);
        if (!e) { /* cannot happen (see big_entry) */
            if (S.big_open) S.inexact = 1;
            S.big_open = 0;
            big_drop(0);
            continue;
        }
        if (!S.big_open) big_begin(e);
        long min = throttle && !S.req.foreground ? throttle : PART_MIN;
        if (rdbw_key_part(&S.out, e, &S.big_pos, min)) big_end();
        if (throttle && !S.req.foreground) return 0;
        if (deadline && (S.last_slice_end = ustime()) >= deadline) return 0;
        if (!S.req.foreground && writer_queued(&S.wr) > QUEUE_HIGH) return 0;
    }
    return 1;
}

int snapshot_write_waits(int dbid, const char *key, size_t klen) {
    if (!S.running || S.closing || S.req.foreground || !S.fmt->parts) return 0;
    size_t front = S.big_open ? 1 : 0; /* a value a write waits for goes next */
    long k = S.nbig ? big_find(dbid, key, klen) : -1;
    if (k >= 0) {
        if (S.big[k].waited) return 1;
        if ((size_t)k > front) { /* moved up */
            bigkey b = S.big[k];
            memmove(&S.big[front + 1], &S.big[front], ((size_t)k - front) * sizeof(bigkey));
            S.big[front] = b;
            k = (long)front;
        }
    } else {
        uint64_t hash = kt_hash(key, klen);
        if (!still_needed(dbid, hash)) return 0;
        /* (the command looks the key up next: this lookup costs it little; the done set's is left for last) */
        handle_t h = kt_find(&srv.dbs[dbid].t, key, klen, hash, NULL);
        if (!h || rdbw_part_elems(arena_ptr(h)) <= part_elems || in_done(dbid, key, klen)) return 0;
        big_insert(front, dbid, key, klen);
        k = (long)front;
    }
    S.big[k].waited = 1;
    S.nwaited++;
    S.held++;
    return 1;
}

int snapshot_take_parts_progress(void) {
    int p = parts_progress;
    parts_progress = 0;
    return p;
}

static void on_key_before(void *ud, db *d, const char *key, size_t klen) {
    (void)ud;
    if (!S.running || S.closing) return;
    int i = d->id;
    if (S.nbig) {
        long k = big_find(i, key, klen);
        if (k >= 0) { /* the loop pays for the rest of it now */
            big_finish((size_t)k);
            return;
        }
    }
    uint64_t hash = kt_hash(key, klen);
    if (!still_needed(i, hash) || in_done(i, key, klen)) return;
    kslot slot;
    handle_t h = kt_find(&d->t, key, klen, hash, &slot);
    if (h) { /* present (expired or not: the image holds what the table holds) */
        rdbw *w = stream_for(i);
        uint64_t before = w->flushed + w->len;
        save_entry(w, arena_ptr(h));
        S.early++;
        S.early_bytes += w->flushed + w->len - before;
    }
    mark_done(i, key, klen);
}

#ifdef SARDINE_DEBUG
/* After a change: a key that changed while still needed must have been announced first. */
static void on_key_changed(void *ud, db *d, const char *key, size_t klen, int cls, const char *event) {
    (void)ud, (void)cls, (void)event;
    if (!S.running || S.closing) return;
    int i = d->id;
    if (still_needed(i, kt_hash(key, klen)) && !in_done(i, key, klen)) {
        serverLog(LL_WARNING, "snapshot: key '%.*s' of db %d changed without fx_before", (int)klen, key, i);
        DBG_ASSERT(!"a key changed during a snapshot without fx_before");
    }
}
#endif

/* A walk over database i's table writing to w, skipping keys in done[i]; the scan's (parts) leaves big
 * values to be written in parts. */
typedef struct walk {
    rdbw *w;
    int i;
    int parts;
} walk;

static void visit(void *ud, handle_t h) {
    walk *k = ud;
    const uint8_t *e = arena_ptr(h);
    int big = k->parts && rdbw_part_elems(e) > part_elems;
    if (S.done[k->i] || big) {
        size_t klen;
        keybuf key_kb;
        const char *key = e_keyb(e, &key_kb, &klen);
        if (in_done(k->i, key, klen)) return;
        if (big) {
            if (big_find(k->i, key, klen) < 0) big_insert(S.nbig, k->i, key, klen);
            return;
        }
    }
    save_entry(k->w, e);
}

/* Serializes what database i still owes the image, then marks it finished. */
static void finish_db_now(int i) {
    if (S.frozen[i] || i < S.cur) return;
    walk k = {stream_for(i), i, 0}; /* the main stream for the current database, else its side buffer */
    uint64_t c = i == S.cur ? S.cursor : 0;
    if (!(i == S.cur && S.cur_scanned)) { /* (a finished scan's cursor is 0 again) */
        do c = kt_scan(&srv.dbs[i].t, c, 1024, visit, &k);
        while (c);
    }
    retire_done(i);
    if (i == S.cur) {
        S.frozen[i] = 1;
        S.cur++;
        S.cur_begun = 0;
        S.cur_scanned = 0;
    } else {
        S.frozen[i] = 2; /* finished; its side buffer goes out after its SELECTDB when the scan gets there */
    }
}

static void on_flushing(void *ud, db *d) {
    (void)ud;
    if (!S.running || S.closing) return;
    big_finish_all();
    finish_db_now(d->id);
}

static void on_swapping(void *ud, db *a, db *b) {
    (void)ud;
    if (!S.running || S.closing) return;
    big_finish_all();
    finish_db_now(a->id);
    finish_db_now(b->id);
}

static const fx_listener listener = {
    .key_before = on_key_before,
#ifdef SARDINE_DEBUG
    .key_changed = on_key_changed,
#endif
    .db_flushing = on_flushing,
    .db_swapping = on_swapping,
};

void snapshot_init(void) {
    crc64_init();
    fx_listen(&listener);
}

int snapshot_running(void) { return S.running; }

static uint64_t last_early_bytes;
uint64_t snapshot_last_early_bytes(void) { return last_early_bytes; }

void snapshot_progress(uint64_t *processed, uint64_t *total, uint64_t *early_bytes) {
    uint64_t t = 0;
    if (S.running)
        for (int i = 0; i < srv.dbnum; i++) t += S.start_keys[i];
    *processed = S.running ? S.keys : 0;
    *total = t;
    *early_bytes = S.running ? S.early_bytes : 0;
}

void snapshot_set_throttle(long n, long elems) {
    throttle = n > 0 ? n : 0;
    part_elems = elems > 0 ? (size_t)elems : PART_ELEMS;
}

static void cleanup(void) {
    rdbw_free(&S.out);
    for (int i = 0; i < srv.dbnum; i++) {
        if (S.side[i].buf || S.side[i].cap) rdbw_free(&S.side[i]);
        retire_done(i);
    }
    for (size_t k = 0; k < S.nbig; k++) s_free(S.big[k].key);
    s_free(S.big);
    rdbw_free(&S.defer);
    parts_progress = 1; /* writes held back go on */
    s_free(S.side);
    s_free(S.done);
    s_free(S.frozen);
    s_free(S.start_keys);
    s_free(S.start_expires);
    s_free(S.path);
    s_free(S.tmp);
    while (S.wr.pool) {
        chunk *c = S.wr.pool;
        S.wr.pool = c->next;
        s_free(c);
    }
    pthread_mutex_destroy(&S.wr.mu);
    pthread_cond_destroy(&S.wr.cv);
    memset(&S, 0, sizeof(S));
    fx_before_want(0);
}

/* The temporary file: temp-<pid>-<n>.<ext> beside the target, like Redis's temp-<pid>.rdb. */
static unsigned temp_seq;
static char *temp_name(const char *target, int pid, unsigned seq, const char *ext) {
    size_t plen = strlen(target);
    char *tmp = s_malloc(plen + 48);
    char *dir = s_strdup(target);
    char *slash = strrchr(dir, '/');
    if (slash) slash[1] = 0;
    sprintf(tmp, "%stemp-%d-%u.%s", slash ? dir : "", pid, seq, ext);
    s_free(dir);
    return tmp;
}

void snapshot_remove_child_temp(const char *target, int pid) {
    char *tmp = temp_name(target, pid, temp_seq + 1, formats[SNAP_RDB].ext);
    long long start = server_latency_start();
    server_debug_slow_op();
    unlink(tmp);
    server_latency_end("rdb-unlink-temp-file", start);
    s_free(tmp);
}

int snapshot_start(const snap_req *r, char *err, size_t errlen) {
    if (S.running) {
        snprintf(err, errlen, "Background save already in progress");
        return -1;
    }
    const snap_format *fmt = &formats[r->format == SNAP_COMMANDS ? SNAP_COMMANDS : SNAP_RDB];
    char *tmp = temp_name(r->path, (int)getpid(), ++temp_seq, fmt->ext);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "Failed opening the temp RDB file %s (in server root dir %s) for saving: %s", tmp,
                 srv.dir && srv.dir[0] ? srv.dir : ".", strerror(errno));
        s_free(tmp);
        return -1;
    }
    memset(&S, 0, sizeof(S));
    S.req = *r;
    S.fmt = fmt;
    S.path = s_strdup(r->path);
    S.req.path = S.path;
    S.tmp = tmp;
    S.side = s_calloc((size_t)srv.dbnum * sizeof(rdbw));
    S.done = s_calloc((size_t)srv.dbnum * sizeof(ktable *));
    S.frozen = s_calloc((size_t)srv.dbnum * 1);
    S.start_keys = s_calloc((size_t)srv.dbnum * sizeof(size_t));
    S.start_expires = s_calloc((size_t)srv.dbnum * sizeof(size_t));
    for (int i = 0; i < srv.dbnum; i++) {
        S.start_keys[i] = srv.dbs[i].t.count;
        S.start_expires[i] = srv.dbs[i].t.nttl;
    }
    pthread_mutex_init(&S.wr.mu, NULL);
    pthread_cond_init(&S.wr.cv, NULL);
    S.wr.fd = fd;
    S.wr.trailer = fmt->trailer;
    S.wr.checksum = fmt->trailer && srv.rdb_checksum;
    S.wr.incremental_sync = srv.rdb_incremental_fsync;
    S.wr.tmp = S.tmp;
    S.wr.path = S.path;
    rdbw_init(&S.out, srv.rdb_compression, CHUNK_BYTES, out_flush, NULL);
    S.out.lru_mode = lru_mode();
    fmt->begin(&S.out, r);
    S.start_us = ustime();
    if (pthread_create(&S.wr.tid, NULL, writer_main, &S.wr) != 0) {
        close(fd);
        unlink(tmp);
        snprintf(err, errlen, "can't start the snapshot writer thread");
        cleanup();
        return -1;
    }
    S.running = 1;
    if (r->no_keys) S.cur = srv.dbnum; /* nothing to scan: the image ends after the functions */
    fx_before_want(1);
    serverLog(LL_NOTICE, "Snapshot started (%s, without fork)", r->foreground ? "foreground" : "background");
    if (r->foreground)
        while (snapshot_step()) {
            if (S.closing) usleep(200); /* waiting for the writer: the disk */
        }
    return 0;
}

/* Scan over: EOF, hand the rest to the writer, close it (it renames the file into place). */
static void close_stream(void) {
    S.fmt->end(&S.out);
    rdbw_flush(&S.out);
    pthread_mutex_lock(&S.wr.mu);
    S.wr.commit = !S.inexact;
    pthread_mutex_unlock(&S.wr.mu);
    writer_close(&S.wr);
    S.closing = 1;
    parts_progress = 1;
}


static void finish(int ok, const char *why) {
    pthread_join(S.wr.tid, NULL);
    char err[512] = "";
    if (ok && S.inexact) {
        ok = 0;
        snprintf(err, sizeof(err), "out of memory recording the keys changed during the snapshot");
    }
    if (!ok) {
        /* The loop removes the file, as Redis's parent removes a killed child's: "rdb-unlink-temp-file" for
         * an RDB save (Redis unlinks an AOF rewrite's in the background, without an event). */
        long long start = S.req.aof_base ? 0 : server_latency_start();
        if (start) server_debug_slow_op();
        unlink(S.tmp);
        server_latency_end("rdb-unlink-temp-file", start);
        if (!err[0]) snprintf(err, sizeof(err), "%s", why);
    }
    last_early_bytes = S.early_bytes;
    snap_done_fn *done = S.req.done;
    void *ud = S.req.ud;
    long long us = ustime() - S.start_us;
    if (ok)
        serverLog(LL_NOTICE,
                  "Snapshot done: %llu keys (%llu saved before a write, %llu big values in parts, %llu of them "
                  "before a write that waited), %llu bytes, %.3f s",
                  (unsigned long long)S.keys, (unsigned long long)S.early, (unsigned long long)S.in_parts,
                  (unsigned long long)S.held,
                  (unsigned long long)S.wr.written + (S.wr.trailer ? 8 : 0),
                  (double)us / 1e6);
    else serverLog(LL_WARNING, "Snapshot failed: %s", err);
    cleanup();
    if (done) done(ud, ok, ok ? NULL : err);
}

void snapshot_abort(void) {
    if (!S.running) return;
    if (!S.closing) {
        rdbw_flush(&S.out);
        writer_close(&S.wr);
    }
    finish(0, "snapshot aborted");
}

static int scan_slice(void);

int snapshot_step(void) {
    if (!S.running) return drain_step();
    if (S.closing) {
        int st = writer_state(&S.wr);
        if (!st) return 1;
        finish(st > 0, S.wr.err[0] ? S.wr.err : "write error");
        return 0;
    }
    if (writer_state(&S.wr) < 0) { /* the disk failed: stop early */
        writer_close(&S.wr);
        S.closing = 1;
        parts_progress = 1;
        return 1;
    }
    if (!S.req.foreground && writer_queued(&S.wr) > QUEUE_HIGH) return 1;
    /* A background slice is Sardine's own latency event, "snapshot-slice"; LATENCY DOCTOR lists it without
     * advice, as Redis does an event its table lacks. */
    long long start = S.req.foreground ? 0 : server_latency_start();
    if (start) server_debug_slow_op();
    int more = scan_slice();
    server_latency_end("snapshot-slice", start);
    return more;
}

/* One slice of the scan: up to 1 ms when the loop has nothing else to do; while commands keep it busy, a
 * quarter of the time the rest of the iteration took, so a write load keeps ~4/5 of its throughput. */
static int scan_slice(void) {
    long long now = ustime(), deadline = 0;
    if (!S.req.foreground) {
        long long other = S.last_slice_end ? now - S.last_slice_end : 0;
        long long budget = other < 2 * SLICE_MIN_US ? SLICE_MAX_US : other / SLICE_SHARE;
        if (budget < SLICE_MIN_US) budget = SLICE_MIN_US;
        if (budget > SLICE_MAX_US) budget = SLICE_MAX_US;
        deadline = now + budget;
    }
    while (S.cur < srv.dbnum) {
        int i = S.cur;
        if (S.nbig) {
            if (!big_slice(deadline)) return !throttle || S.req.foreground || S.nwaited; /* throttled: on events */
            continue;
        }
        if (S.frozen[i]) { /* finished early (flush/swap): only its side buffer is left */
            if (S.frozen[i] == 2) {
                rdbw *sd = &S.side[i];
                if (sd->buf && sd->len) {
                    S.fmt->select_db(&S.out, i, S.start_keys[i], S.start_expires[i]);
                    rdbw_raw(&S.out, sd->buf, sd->len);
                }
                if (sd->buf || sd->cap) rdbw_free(sd);
                memset(sd, 0, sizeof(*sd));
            }
            S.cur++;
            S.cur_begun = 0;
            continue;
        }
        if (!S.cur_begun) begin_db(i);
        if (!S.cur_scanned) {
            walk k = {&S.out, i, !S.req.foreground && S.fmt->parts};
            S.cursor =
                kt_scan(&srv.dbs[i].t, S.cursor, throttle && !S.req.foreground ? throttle : SCAN_BATCH, visit, &k);
            S.cur_scanned = S.cursor == 0;
        }
        if (S.cur_scanned && !S.nbig) { /* its big values written too */
            end_db(i);
            S.cur++;
            S.cur_begun = 0;
            S.cur_scanned = 0;
        }
        if (throttle && !S.req.foreground) return 0; /* not urgent: the next event or the cron continues */
        if (deadline && (S.last_slice_end = ustime()) >= deadline) return 1;
        if (!S.req.foreground && writer_queued(&S.wr) > QUEUE_HIGH) return 1;
    }
    close_stream();
    return 1;
}
