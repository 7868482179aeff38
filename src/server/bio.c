/* bio: see bio.h.  A mutex-protected FIFO and one worker thread. */
#include "server/bio.h"
#include "util/mem.h"
#include <pthread.h>

typedef struct job {
    struct job *next;
    bio_fn *fn;
    void *a, *b;
} job;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER, idle = PTHREAD_COND_INITIALIZER;
static job *head, *tail;
static size_t pending;
static int started, stopping;
static pthread_t thread;

static void *worker(void *arg) {
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (!head && !stopping) pthread_cond_wait(&more, &lock);
        if (!head) break;
        job *j = head;
        head = j->next;
        if (!head) tail = NULL;
        pthread_mutex_unlock(&lock);
        j->fn(j->a, j->b);
        s_free(j);
        pthread_mutex_lock(&lock);
        if (--pending == 0) pthread_cond_broadcast(&idle);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

void bio_init(void) {
    if (started) return;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1 << 20);
    if (pthread_create(&thread, &attr, worker, NULL) == 0) started = 1;
    pthread_attr_destroy(&attr);
}

void bio_submit(bio_fn *fn, void *a, void *b) {
    if (!started) {
        fn(a, b);
        return;
    }
    job *j = s_malloc(sizeof(*j));
    j->fn = fn;
    j->a = a;
    j->b = b;
    j->next = NULL;
    pthread_mutex_lock(&lock);
    if (tail) tail->next = j;
    else head = j;
    tail = j;
    pending++;
    pthread_cond_signal(&more);
    pthread_mutex_unlock(&lock);
}

size_t bio_pending(void) {
    pthread_mutex_lock(&lock);
    size_t n = pending;
    pthread_mutex_unlock(&lock);
    return n;
}

void bio_drain(void) {
    pthread_mutex_lock(&lock);
    while (pending) pthread_cond_wait(&idle, &lock);
    pthread_mutex_unlock(&lock);
}

void bio_stop(void) {
    if (!started) return;
    bio_drain();
    pthread_mutex_lock(&lock);
    stopping = 1;
    pthread_cond_signal(&more);
    pthread_mutex_unlock(&lock);
    pthread_join(thread, NULL);
    started = 0;
}
