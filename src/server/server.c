/* server: the bottom layer of the server: process state (srv), time,
 * logging, memory accounting and the safety limit.  It calls nothing above
 * it; the loop's hooks (cron, before-sleep) are app/loop.c's.
 *
 * Memory: used_memory is heap bytes (every s_malloc'd block at its usable
 * size) plus the arena's live entry bytes; it is what maxmemory and eviction
 * compare against.  With no maxmemory configured the server still refuses
 * writes (with the OOM error) once its memory reaches the safety limit, 90%
 * of the physical memory or of the cgroup's limit, whichever is lower, so the
 * kernel's OOM killer never has to step in (the seed's failure). */
#include "server/server.h"
#include "mem/arena.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

server srv;

long long ustime(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

long long mstime(void) { return ustime() / 1000; }

void server_debug_slow_op(void) {
    long long us = __atomic_load_n(&srv.debug_slow_ops_us, __ATOMIC_RELAXED);
    if (us <= 0) return;
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) == -1) {
    }
}

long long monotonic_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void server_update_cached_time(void) {
    long long ms = mstime();
    srv.lruclock = (unsigned int)((ms / 1000) & LRU_CLOCK_MAX);
}

/* Logging, as Redis: "pid:role date time.ms mark message" lines appended to logfile (stdout when it is
 * empty; the file is opened for each line, so a rotated file is picked up at once), and, with
 * syslog-enabled, the message also goes to syslog at the matching priority (syslog_open names it). */
void log_msg(int level, const char *fmt, ...) {
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (srv.syslog_enabled) {
        static const int prio[] = {LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARNING};
        syslog(prio[level > 3 ? 3 : level], "%s", msg);
    }
    FILE *f = (srv.logfile && srv.logfile[0]) ? fopen(srv.logfile, "a") : stdout;
    if (!f) return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char ts[64];
    size_t off = strftime(ts, sizeof(ts), "%d %b %Y %H:%M:%S.", &tm);
    snprintf(ts + off, sizeof(ts) - off, "%03d", (int)tv.tv_usec / 1000);
    static const char marks[] = ".-*#";
    fprintf(f, "%d:%c %s %c %s\n", (int)getpid(), srv.el ? 'M' : 'C', ts, marks[level > 3 ? 3 : level], msg);
    fflush(f);
    if (f != stdout) fclose(f);
}

void syslog_open(void) {
    if (srv.syslog_enabled) openlog(srv.syslog_ident ? srv.syslog_ident : "sardine", LOG_PID | LOG_NDELAY | LOG_NOWAIT,
                                    srv.syslog_facility);
}

size_t server_used_memory(void) { return s_heap_used() + arena_live_bytes(); }

/* 1 when memory is past the safety limit (only in force with no maxmemory). */
int server_over_safety_limit(void) {
    if (!srv.safety_limit) return 0;
    size_t used = server_used_memory();
    /* used_memory decides; RSS only when it is well past the limit while used_memory is near it too
     * (after deletes RSS stays high, but the freed memory is reused, not added). */
    return used > srv.safety_limit ||
           (srv.rss_cached > srv.safety_limit + srv.safety_limit / 20 && used > srv.safety_limit / 10 * 8);
}

static unsigned long long read_ull_file(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char buf[64] = "";
    unsigned long long v = 0;
    if (fgets(buf, sizeof(buf), f) && strncmp(buf, "max", 3) != 0) v = strtoull(buf, NULL, 10);
    fclose(f);
    return v;
}

static unsigned long long physical_memory(void) {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    unsigned long long phys = pages > 0 && size > 0 ? (unsigned long long)pages * (unsigned long long)size : 0;
    unsigned long long cg = read_ull_file("/sys/fs/cgroup/memory.max");
    if (!cg) cg = read_ull_file("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    if (cg && cg < phys) phys = cg;
    return phys;
}

void server_compute_safety_limit(void) {
    srv.safety_limit = 0;
    if (srv.maxmemory) return;
    if (srv.safety_limit_config >= 0) {
        srv.safety_limit = (unsigned long long)srv.safety_limit_config;
        return;
    }
    unsigned long long phys = physical_memory();
    if (phys) srv.safety_limit = phys / 10 * 9;
}
