/* bgbuild: see bgbuild.h.  One worker thread, started on first use, takes jobs from a FIFO; a
 * finished job goes on the done list and a byte written to a pipe wakes the event loop, whose handler
 * adopts the job's arena pages and calls the job's callback.  Invariants: a job is on exactly one of
 * the queue, the worker's hands or the done list until its callback runs; its arena context is
 * entered only by the worker and adopted only by the event loop thread after the worker left it. */
#include "persist/bgbuild.h"
#include "keyspace/db.h"
#include "mem/arena.h"
#include "net/eventloop.h"
#include "persist/rdb_format.h"
#include "persist/rdb_load.h"
#include "server/server.h"
#include "util/crc64.h"
#include "util/debug.h"
#include "util/mem.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct bgbuild {
    const unsigned char *p;
    size_t n;
    int deep;
    bgbuild_done_fn *done;
    void *ud;
    arena_ctx *arena;
    /* results */
    int rc; /* 1 built, 0 bad data, -1 footer wrong */
    entry_value v;
    const char *err;
    int taken;
    /* a payload still arriving (bgbuild_arriving): bytes [0, avail) are there; under lock */
    int arriving, cancelled;
    size_t avail, crc_done;
    size_t wake_at; /* the worker sleeps until avail reaches this (0: not sleeping) */
    uint64_t crc;
    pthread_cond_t more;
    char inl[STR_INLINE_MAX + 1]; /* an inline string decoded from LZF (rdb_dump_load's copy is per thread) */
    struct bgbuild *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static bgbuild *queue_head, *queue_tail, *done_head, *done_tail;
static pthread_cond_t unheld = PTHREAD_COND_INITIALIZER;
static int started, held, wake_rd = -1, wake_wr = -1;
static size_t running, arriving_jobs;
#define ARRIVING_BATCH ((size_t)1 << 20) /* bytes a waiting build lets arrive before it goes on */
#define ARRIVING_MAX 8 /* payloads built as they arrive at once; more wait until they are whole */

int bgbuild_accepts(const unsigned char *p, size_t n) {
    if (n < 11) return 0;
    switch (p[0]) {
    case RDB_TYPE_STRING:
    case RDB_TYPE_SET:
    case RDB_TYPE_ZSET:
    case RDB_TYPE_ZSET_2:
    case RDB_TYPE_HASH:
    case RDB_TYPE_SET_INTSET:
    case RDB_TYPE_LIST_QUICKLIST:
    case RDB_TYPE_LIST_QUICKLIST_2:
    case RDB_TYPE_HASH_LISTPACK:
    case RDB_TYPE_ZSET_LISTPACK:
    case RDB_TYPE_SET_LISTPACK: return 1;
    default: return 0;
    }
}

static void push(bgbuild **head, bgbuild **tail, bgbuild *b) {
    b->next = NULL;
    if (*tail) (*tail)->next = b;
    else *head = b;
    *tail = b;
}

static bgbuild *pop(bgbuild **head, bgbuild **tail) {
    bgbuild *b = *head;
    if (b) {
        *head = b->next;
        if (!*head) *tail = NULL;
    }
    return b;
}

/* A payload still arriving: blocks until need bytes are there (checksumming what came meanwhile), or
 * returns less once the job is cancelled. */
static size_t wait_more(void *ud, size_t need) {
    bgbuild *b = ud;
    size_t crc_end = b->n - 8; /* the CRC covers everything before itself */
    pthread_mutex_lock(&lock);
    while (b->avail < need && !b->cancelled) {
        size_t have = b->avail < crc_end ? b->avail : crc_end;
        if (b->crc_done < have) { /* idle: checksum what arrived, a megabyte at a time */
            size_t from = b->crc_done, len = have - from > ((size_t)1 << 20) ? (size_t)1 << 20 : have - from;
            pthread_mutex_unlock(&lock);
            b->crc = crc64(b->crc, b->p + from, len);
            pthread_mutex_lock(&lock);
            b->crc_done = from + len;
            continue;
        }
        /* sleep until a good batch more is there: a wakeup per read would cost more than it parses */
        b->wake_at = need + ARRIVING_BATCH < crc_end + 8 ? need + ARRIVING_BATCH : crc_end + 8;
        pthread_cond_wait(&b->more, &lock);
        b->wake_at = 0;
    }
    size_t have = b->cancelled ? 0 : b->avail;
    pthread_mutex_unlock(&lock);
    return have;
}

static void build_arriving(bgbuild *b) {
    pthread_mutex_lock(&lock);
    size_t ready = b->avail;
    pthread_mutex_unlock(&lock);
    arena_ctx_enter(b->arena);
    b->rc = rdb_dump_load_arriving(b->p, b->n, ready, wait_more, b, b->deep, &b->v, &b->err);
    arena_ctx_leave();
    /* the footer: wait for the whole payload, finish its checksum, check version and CRC */
    if (wait_more(b, b->n) < b->n) {
        b->rc = 0;
        b->err = "the payload stopped arriving";
    } else {
        if (b->crc_done < b->n - 8) b->crc = crc64(b->crc, b->p + b->crc_done, b->n - 8 - b->crc_done);
        if (!rdb_dump_footer_ok(b->p, b->n, b->crc)) b->rc = -1;
    }
}

static void build(bgbuild *b) {
    if (b->arriving) {
        build_arriving(b);
    } else if (!rdb_dump_verify(b->p, b->n)) {
        b->rc = -1;
        return;
    } else {
        arena_ctx_enter(b->arena);
        b->rc = rdb_dump_load(b->p, b->n, b->deep, &b->v, &b->err);
        arena_ctx_leave();
    }
    /* an inline string outside the payload is in the worker's per-thread copy: keep it with the job */
    if (b->rc == 1 && b->v.store == VAL_INLINE &&
        !((const unsigned char *)b->v.sval >= b->p && (const unsigned char *)b->v.sval < b->p + b->n)) {
        memcpy(b->inl, b->v.sval, b->v.slen);
        b->v.sval = b->inl;
    }
}

/* A finished job goes on the done list and a byte wakes the event loop (called with lock held). */
static void done(bgbuild *b) {
    push(&done_head, &done_tail, b);
    char one = 1;
    while (write(wake_wr, &one, 1) < 0 && errno == EINTR) {
    }
}

static void *worker(void *arg) {
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        bgbuild *b;
        while (!(b = pop(&queue_head, &queue_tail))) pthread_cond_wait(&work, &lock);
        while (held) pthread_cond_wait(&unheld, &lock);
        pthread_mutex_unlock(&lock);
        build(b);
        pthread_mutex_lock(&lock);
        done(b);
    }
    return NULL;
}

static void on_wake(int fd, void *data, int mask) {
    (void)data;
    (void)mask;
    char buf[64];
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
    for (;;) {
        pthread_mutex_lock(&lock);
        bgbuild *b = pop(&done_head, &done_tail);
        pthread_mutex_unlock(&lock);
        if (!b) break;
        arena_ctx_adopt(b->arena);
        b->arena = NULL;
        running--;
        if (b->arriving) arriving_jobs--;
        b->done(b, b->ud);
    }
}

static void start_worker(void) {
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        serverLog(LL_WARNING, "bgbuild: pipe: %s", strerror(errno));
        abort();
    }
    wake_rd = fds[0];
    wake_wr = fds[1];
    if (el_add(srv.el, wake_rd, EL_READABLE, on_wake, NULL) != 0) abort();
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, worker, NULL) != 0) abort();
    pthread_attr_destroy(&attr);
    started = 1;
}

/* A job whose payload is still arriving waits on its client: it gets a thread of its own, so that a slow
 * client never holds up anyone else's build. */
static void *arriving_thread(void *arg) {
    bgbuild *b = arg;
    pthread_mutex_lock(&lock);
    while (held && !b->cancelled) pthread_cond_wait(&unheld, &lock);
    pthread_mutex_unlock(&lock);
    build(b);
    pthread_mutex_lock(&lock);
    done(b);
    pthread_mutex_unlock(&lock);
    return NULL;
}

bgbuild *bgbuild_arriving(const unsigned char *p, size_t n, size_t avail, int deep, bgbuild_done_fn *done, void *ud) {
    if (!started) start_worker();
    if (n < 11 || arriving_jobs >= ARRIVING_MAX) return NULL;
    bgbuild *b = s_calloc(sizeof(*b));
    b->p = p;
    b->n = n;
    b->deep = deep;
    b->done = done;
    b->ud = ud;
    b->arriving = 1;
    b->avail = avail;
    pthread_cond_init(&b->more, NULL);
    b->arena = arena_ctx_new();
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, arriving_thread, b) != 0) {
        pthread_attr_destroy(&attr);
        arena_ctx_adopt(b->arena);
        pthread_cond_destroy(&b->more);
        s_free(b);
        return NULL;
    }
    pthread_attr_destroy(&attr);
    running++;
    arriving_jobs++;
    return b;
}

void bgbuild_feed(bgbuild *b, size_t avail) {
    pthread_mutex_lock(&lock);
    if (avail > b->avail) {
        b->avail = avail;
        if (b->wake_at && avail >= b->wake_at) pthread_cond_signal(&b->more);
    }
    pthread_mutex_unlock(&lock);
}

void bgbuild_cancel(bgbuild *b) {
    pthread_mutex_lock(&lock);
    b->cancelled = 1;
    pthread_cond_signal(&b->more);
    pthread_cond_broadcast(&unheld);
    pthread_mutex_unlock(&lock);
}

bgbuild *bgbuild_start(const unsigned char *p, size_t n, int deep, bgbuild_done_fn *done, void *ud) {
    if (!started) start_worker();
    bgbuild *b = s_calloc(sizeof(*b));
    b->p = p;
    b->n = n;
    b->deep = deep;
    b->done = done;
    b->ud = ud;
    b->arena = arena_ctx_new();
    running++;
    pthread_mutex_lock(&lock);
    push(&queue_head, &queue_tail, b);
    pthread_cond_signal(&work);
    pthread_mutex_unlock(&lock);
    return b;
}

int bgbuild_take(bgbuild *b, entry_value *v, const char **err) {
    if (b->rc != 1) {
        *err = b->rc < 0 ? "DUMP payload version or checksum are wrong" : (b->err ? b->err : "bad payload");
        return b->rc;
    }
    *v = b->v;
    b->taken = 1;
    return 1;
}

void bgbuild_free(bgbuild *b) {
    if (!b->taken && b->v.store >= VAL_PTR && b->v.ptr) {
        if (b->v.store == VAL_PTR && b->v.type == OBJ_STRING) s_free(b->v.ptr);
        else value_free(v_heap_kind(&b->v), b->v.ptr);
    }
    if (b->arriving) pthread_cond_destroy(&b->more);
    s_free(b);
}

size_t bgbuild_running(void) { return running; }

void bgbuild_hold(int on) {
    pthread_mutex_lock(&lock);
    held = on;
    if (!on) pthread_cond_broadcast(&unheld);
    pthread_mutex_unlock(&lock);
}
