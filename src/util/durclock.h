/* durclock: a cheap clock for measuring how long something took (a
 * command's time in INFO commandstats and the slow log), not for telling
 * the time.
 *
 * On x86-64 with an invariant TSC (constant_tsc and nonstop_tsc in
 * /proc/cpuinfo) it reads the time-stamp counter, whose rate durclock_init
 * measures against CLOCK_MONOTONIC once at startup (about 2 ms); anywhere
 * else, and before durclock_init, it reads CLOCK_MONOTONIC.  Reading the
 * TSC takes a few nanoseconds where a clock_gettime through the vDSO takes
 * tens on a virtual machine (kvm-clock), and every command a script runs
 * reads the clock twice.  Redis does the same when built with its processor
 * clock.  Invariant: a duration is never negative (reads on two cores may
 * be a few ticks apart). */
#ifndef SARDINE_DURCLOCK_H
#define SARDINE_DURCLOCK_H
#include <stdint.h>

void durclock_init(void);
/* Now, in the clock's own ticks. */
uint64_t durclock_now(void);
/* Microseconds between two readings (start, end). */
long long durclock_us(uint64_t start, uint64_t end);
/* 1 when the TSC is in use. */
int durclock_is_tsc(void);
#endif
