/* stallprobe: how long the machine itself stops a thread that wants to run.  Not part of the server: a
 * probe run beside it, so that a loop-pause figure can be set against the machine's own stalls.
 *
 *   cc -O2 -o /tmp/stallprobe bench/stallprobe.c && chrt -f 50 /tmp/stallprobe [seconds]
 *
 * The probe sleeps 1 ms at a time and prints "<CLOCK_MONOTONIC seconds> <ms late>" for every wake-up more
 * than 1 ms late, flushing each line.  Under a real-time policy (chrt -f) it preempts every ordinary
 * process at once, so a late wake-up means the CPU was not given back: the hypervisor ran something else,
 * or the kernel ran long without a preemption point.  A thread of the server cannot be faster than that.
 * It stops after the given seconds (default: an hour) or when its output is closed. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    double secs = argc > 1 ? atof(argv[1]) : 3600, start = now();
    struct timespec ms = {0, 1000000};
    while (now() - start < secs) {
        double before = now();
        nanosleep(&ms, NULL);
        double after = now(), late = (after - before - 0.001) * 1000;
        if (late > 1.0 && (printf("%.6f %.2f\n", after, late) < 0 || fflush(stdout) != 0)) return 0;
    }
    return 0;
}
