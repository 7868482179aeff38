/* madvise_stall: how much another thread's giving memory back to the kernel stalls a thread that walks a
 * big working set.  Not part of the server: a probe of the machine, for the loop-pause figures.
 *
 *   cc -O2 -pthread -o /tmp/madvise_stall bench/madvise_stall.c && /tmp/madvise_stall [MB] [seconds]
 *
 * The main thread touches 2000 random pages of a MB-sized working set (default 2048) per "iteration",
 * as an event loop touching keys would, and reports its longest iteration and the time spent above
 * 0.3 ms per iteration, while a second thread every 20 ms does one of:
 *   none      nothing (the baseline)
 *   fault     touches 64 fresh pages (page faults only)
 *   zap-cold  madvise(MADV_DONTNEED) of 64 pages it never touched
 *   zap       touches 64 pages, then madvise(MADV_DONTNEED) of them (what an allocator's purge does)
 *   unmap     mmap + munmap of 64 untouched pages
 * On a VM whose MMU is virtualised with shadow page tables, `zap` makes the walker's longest iteration
 * tens of ms where `none` stays near 1 ms. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

enum { NONE, FAULT, ZAP_COLD, ZAP, UNMAP, NMODES };
static const char *names[NMODES] = {"none", "fault", "zap-cold", "zap", "unmap"};
static volatile int stop;
static int mode;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *disturber(void *arg) {
    (void)arg;
    size_t step = 64 * 4096, off = 0, span = (size_t)4096 << 20;
    char *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return NULL;
    while (!stop) {
        if (mode == FAULT && off + step <= span) memset(p + off, 1, step), off += step;
        if (mode == ZAP_COLD) madvise(p, step, MADV_DONTNEED);
        if (mode == ZAP) memset(p, 1, step), madvise(p, step, MADV_DONTNEED);
        if (mode == UNMAP) {
            char *q = mmap(NULL, step, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (q != MAP_FAILED) munmap(q, step);
        }
        usleep(20000);
    }
    munmap(p, span);
    return NULL;
}

int main(int argc, char **argv) {
    size_t ws = (size_t)(argc > 1 ? atol(argv[1]) : 2048) << 20;
    double secs = argc > 2 ? atof(argv[2]) : 8;
    char *w = mmap(NULL, ws, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (w == MAP_FAILED) return perror("mmap"), 1;
    memset(w, 1, ws);
    for (mode = 0; mode < NMODES; mode++) {
        pthread_t t;
        stop = 0;
        pthread_create(&t, NULL, disturber, NULL);
        double worst = 0, excess = 0, end = now() + secs;
        unsigned long x = 88172645463325252UL, iters = 0;
        while (now() < end) {
            double t0 = now();
            for (int i = 0; i < 2000; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                w[(x % (ws / 4096)) * 4096]++;
            }
            double d = now() - t0;
            if (d > worst) worst = d;
            if (d > 0.0003) excess += d - 0.0003;
            iters++;
        }
        stop = 1;
        pthread_join(t, NULL);
        printf("%-9s %zu MB: %lu iterations, longest %.1f ms, %.1f ms above 0.3 ms per iteration\n", names[mode],
               ws >> 20, iters, worst * 1e3, excess * 1e3);
    }
    return 0;
}
