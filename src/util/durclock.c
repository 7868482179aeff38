/* durclock: see durclock.h. */
#include "util/durclock.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

static int tsc;           /* the TSC is in use */
static double us_per_tick; /* its period, when it is */

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__)
/* Both flags on the first processor's line: the TSC ticks at one rate whatever the core's frequency and
 * power state. */
static int tsc_invariant(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return 0;
    char line[8192];
    int ok = 0;
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, "flags", 5)) {
            ok = strstr(line, " constant_tsc") && strstr(line, " nonstop_tsc");
            break;
        }
    fclose(f);
    return ok;
}

/* A TSC reading and the CLOCK_MONOTONIC time it was taken at, bracketed closely (retried when the
 * thread was interrupted between the reads). */
static void paired(uint64_t *t, uint64_t *ns) {
    for (int i = 0; i < 100; i++) {
        uint64_t a = mono_ns();
        *t = __rdtsc();
        uint64_t b = mono_ns();
        *ns = a + (b - a) / 2;
        if (b - a < 2000) return;
    }
}
#endif

void durclock_init(void) {
#if defined(__x86_64__)
    if (!tsc_invariant()) return;
    uint64_t t0, n0, t1, n1;
    paired(&t0, &n0);
    do paired(&t1, &n1);
    while (n1 - n0 < 2000000);
    if (t1 <= t0) return;
    us_per_tick = (double)(n1 - n0) / 1000.0 / (double)(t1 - t0);
    tsc = 1;
#endif
}

int durclock_is_tsc(void) { return tsc; }

uint64_t durclock_now(void) {
#if defined(__x86_64__)
    if (tsc) return __rdtsc();
#endif
    return mono_ns();
}

long long durclock_us(uint64_t start, uint64_t end) {
    if (end <= start) return 0;
    return tsc ? (long long)((double)(end - start) * us_per_tick) : (long long)((end - start) / 1000);
}
