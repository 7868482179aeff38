/* eventloop: see eventloop.h. */
#include "net/eventloop.h"
#include "server/server.h"
#include "util/mem.h"
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

typedef struct fevent {
    int mask;
    int first;
    el_file_fn *rfn, *wfn;
    void *data;
} fevent;

struct eloop {
    int epfd, setsize, stop, busy, max_wait;
    fevent *ev;
    struct epoll_event *fired;
    el_timer_fn *timer;
    long long timer_due_us;
    el_hook_fn *before_sleep;
    el_long_iteration_fn *long_iteration;
    long long max_iter_us, max_iter_cpu_us, iterations;
    struct epoll_event *nested; /* el_poll's own array: the outer iteration's is still being walked */
    int nested_size;
};

eloop *el_create(int setsize) {
    eloop *el = s_calloc(sizeof(*el));
    el->epfd = epoll_create1(EPOLL_CLOEXEC);
    el->setsize = setsize;
    el->ev = s_calloc((size_t)setsize * sizeof(fevent));
    el->fired = s_calloc((size_t)setsize * sizeof(struct epoll_event));
    el->max_wait = -1;
    return el;
}

int el_resize(eloop *el, int setsize) {
    if (setsize <= el->setsize) return 0;
    el->ev = s_realloc(el->ev, (size_t)setsize * sizeof(fevent));
    memset(el->ev + el->setsize, 0, (size_t)(setsize - el->setsize) * sizeof(fevent));
    el->fired = s_realloc(el->fired, (size_t)setsize * sizeof(struct epoll_event));
    el->setsize = setsize;
    return 0;
}

static int to_epoll(int mask) {
    return (mask & EL_READABLE ? EPOLLIN | EPOLLRDHUP : 0) | (mask & EL_WRITABLE ? EPOLLOUT : 0);
}

int el_add(eloop *el, int fd, int mask, el_file_fn *fn, void *data) {
    if (fd >= el->setsize) el_resize(el, fd + 1024);
    fevent *fe = &el->ev[fd];
    struct epoll_event ee = {0};
    int op = fe->mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    ee.events = (uint32_t)to_epoll(fe->mask | mask);
    ee.data.fd = fd;
    if (epoll_ctl(el->epfd, op, fd, &ee) == -1) return -1;
    fe->mask |= mask;
    if (mask & EL_READABLE) fe->rfn = fn;
    if (mask & EL_WRITABLE) fe->wfn = fn;
    fe->data = data;
    return 0;
}

void el_del(eloop *el, int fd, int mask) {
    if (fd < 0 || fd >= el->setsize) return;
    fevent *fe = &el->ev[fd];
    if (!fe->mask) return;
    int left = fe->mask & ~mask;
    struct epoll_event ee = {0};
    ee.events = (uint32_t)to_epoll(left);
    ee.data.fd = fd;
    epoll_ctl(el->epfd, left ? EPOLL_CTL_MOD : EPOLL_CTL_DEL, fd, &ee);
    fe->mask = left;
}

void el_set_first(eloop *el, int fd) {
    if (fd >= 0 && fd < el->setsize) el->ev[fd].first = 1;
}

int el_mask(eloop *el, int fd) { return fd >= 0 && fd < el->setsize ? el->ev[fd].mask : 0; }

void el_set_timer(eloop *el, el_timer_fn *fn, int first_ms) {
    el->timer = fn;
    el->timer_due_us = monotonic_us() + (long long)first_ms * 1000;
}

void el_set_before_sleep(eloop *el, el_hook_fn *fn) { el->before_sleep = fn; }
void el_set_long_iteration(eloop *el, el_long_iteration_fn *fn) { el->long_iteration = fn; }
void el_stop(eloop *el) { el->stop = 1; }
void el_set_busy(eloop *el, int busy) { el->busy = busy; }
void el_set_max_wait(eloop *el, int ms) { el->max_wait = ms; }

long long el_max_iteration_us(const eloop *el) { return el->max_iter_us; }
long long el_iterations(const eloop *el) { return el->iterations; }
long long el_max_iteration_cpu_us(const eloop *el) { return el->max_iter_cpu_us; }
void el_reset_stats(eloop *el) { el->max_iter_us = el->max_iter_cpu_us = 0; }

static long long thread_cpu_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Runs the handlers of n fired events (fired: epoll's array). */
static void dispatch(eloop *el, struct epoll_event *fired, int n) {
    /* Within a batch: hang-ups first (a closed connection frees its slot), then listening sockets (a
     * connection made before a command was sent exists when the command runs), then the rest. */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            int fd = fired[i].data.fd;
            uint32_t evs = fired[i].events;
            fevent *fe = &el->ev[fd];
            int hup = (evs & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
            if (!(fe->mask & EL_READABLE) || !(pass == 0 ? hup && !fe->first : fe->first)) continue;
            fe->rfn(fd, fe->data, EL_READABLE);
            fired[i].events = 0; /* handled (a pending write fires next iteration) */
        }
    for (int i = 0; i < n; i++) {
        int fd = fired[i].data.fd;
        uint32_t evs = fired[i].events;
        if (!evs) continue;
        fevent *fe = &el->ev[fd];
        int rfired = 0;
        if ((fe->mask & EL_READABLE) && (evs & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))) {
            fe->rfn(fd, fe->data, EL_READABLE);
            rfired = 1;
        }
        fe = &el->ev[fd]; /* the handler may have changed the table */
        if ((fe->mask & EL_WRITABLE) && (evs & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
            if (!rfired || fe->wfn != fe->rfn) fe->wfn(fd, fe->data, EL_WRITABLE);
        }
    }
}

/* The CPU time of a long iteration (INFO eventloop_duration_cpu_max_usec).  Reading the thread's CPU clock is
 * a system call (~2 us on a virtual machine, as much as a small request's read or write), so it is not read at
 * every wake: a reading stays the reference for the iterations of the next millisecond, and a long one
 * subtracts the busy wall time of the short ones since the reference (their CPU time is at most that).  The
 * result is exact when the reference was taken at its own wake, and otherwise low by at most the time those
 * short iterations spent preempted (under a millisecond); it never exceeds the iteration's wall time. */
#define CPU_REF_US 1000

void el_run(eloop *el) {
    long long woke = 0, ref_us = 0, ref_cpu = 0, busy_since_ref = 0;
    while (!el->stop) {
        if (el->before_sleep) el->before_sleep();
        if (woke) {
            long long now = monotonic_us(), busy = now - woke;
            if (busy > el->max_iter_us) el->max_iter_us = busy;
            if (busy > 1000) { /* only long iterations are worth a CPU-clock reading */
                long long cpu_now = thread_cpu_us(), cpu = cpu_now - ref_cpu - busy_since_ref;
                if (cpu > busy) cpu = busy;
                if (cpu > el->max_iter_cpu_us) el->max_iter_cpu_us = cpu;
                ref_us = now, ref_cpu = cpu_now, busy_since_ref = 0;
            } else {
                busy_since_ref += busy;
            }
            el->iterations++;
            if (el->long_iteration && srv.latency_monitor_threshold && busy / 1000 >= srv.latency_monitor_threshold)
                el->long_iteration(busy / 1000);
        }
        int timeout = -1;
        if (el->timer) {
            long long wait = el->timer_due_us - monotonic_us();
            timeout = wait <= 0 ? 0 : (int)((wait + 999) / 1000);
        }
        if (el->max_wait > 0 && (timeout < 0 || timeout > el->max_wait)) timeout = el->max_wait;
        if (el->busy) timeout = 0;
        int n = epoll_wait(el->epfd, el->fired, el->setsize, timeout);
        if (n < 0 && errno != EINTR) break;
        woke = monotonic_us();
        if (woke - ref_us >= CPU_REF_US) ref_us = woke, ref_cpu = thread_cpu_us(), busy_since_ref = 0;
        server_update_cached_time();
        dispatch(el, el->fired, n);
        if (el->timer && monotonic_us() >= el->timer_due_us) {
            int next = el->timer();
            el->timer_due_us = monotonic_us() + (long long)next * 1000;
        }
    }
}

int el_poll(eloop *el) {
    if (!el->nested || el->nested_size < el->setsize) {
        s_free(el->nested);
        el->nested_size = el->setsize;
        el->nested = s_calloc((size_t)el->nested_size * sizeof(struct epoll_event));
    }
    int n = epoll_wait(el->epfd, el->nested, el->nested_size, 0);
    if (n <= 0) return 0;
    server_update_cached_time();
    dispatch(el, el->nested, n);
    return n;
}
