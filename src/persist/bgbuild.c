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
    char inl[EMBSTR_MAX + 1]; /* an inline string decoded from LZF (rdb_dump_load's copy is per thread) */
    struct bgbuild *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static bgbuild *queue_head, *queue_tail, *done_head, *done_tail;
static pthread_cond_t unheld = PTHREAD_COND_INITIALIZER;
static int started, held, wake_rd = -1, wake_wr = -1;
static size_t running;

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

static void build(bgbuild *b) {
    if (!rdb_dump_verify(b->p, b->n)) {
        b->rc = -1;
        return;
    }
    arena_ctx_enter(b->arena);
    b->rc = rdb_dump_load(b->p, b->n, b->deep, &b->v, &b->err);
    arena_ctx_leave();
    /* an inline string outside the payload is in the worker's per-thread copy: keep it with the job */
    if (b->rc == 1 && b->v.store == VAL_INLINE &&
        !((const unsigned char *)b->v.sval >= b->p && (const unsigned char *)b->v.sval < b->p + b->n)) {
        memcpy(b->inl, b->v.sval, b->v.slen);
        b->v.sval = b->inl;
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
        push(&done_head, &done_tail, b);
        char one = 1;
        while (write(wake_wr, &one, 1) < 0 && errno == EINTR) {
        }
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
    if (b->rc == 1 && !b->taken && b->v.store == VAL_PTR && b->v.ptr) {
        if (b->v.type == OBJ_STRING) s_free(b->v.ptr);
        else value_free(b->v.type, b->v.ptr);
    }
    s_free(b);
}

size_t bgbuild_running(void) { return running; }

void bgbuild_hold(int on) {
    pthread_mutex_lock(&lock);
    held = on;
    if (!on) pthread_cond_broadcast(&unheld);
    pthread_mutex_unlock(&lock);
}
