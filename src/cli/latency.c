/* latency: round-trip sampling and server statistics.
 *
 * --latency PINGs every 10 ms and reports min/max/avg in whole milliseconds
 * with redis-cli's formats (a rewritten line on a terminal; otherwise one
 * line after -i seconds, default 1).  --latency-history starts a new range
 * every -i seconds (default 15).  --latency-dist prints, every -i seconds
 * (default 1), one text line of percentiles in microseconds instead of
 * redis-cli's 256-colour spectrum.  --stat prints redis-cli's rolling INFO
 * table every -i seconds (default 1).  --intrinsic-latency measures this
 * machine's scheduling jitter without a server, like redis-cli. */
#include "cli/latency.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cli/buf.h"
#include "cli/config.h"
#include "cli/output.h"
#include "cli/session.h"

static long long ustime(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long long mstime(void) {
    return ustime() / 1000;
}

static void sleep_us(long long us) {
    if (us <= 0) return;
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* PING, reconnecting once if the connection was lost.  Returns 0 on success. */
static int ping(conn **c) {
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!*c) *c = session_connect(1);
        if (!*c) return -1;
        reply *r = conn_cmdf(*c, "PING");
        if (r) {
            reply_free(r);
            return 0;
        }
        conn_close(*c);
        *c = NULL;
    }
    return -1;
}

static void print_latency(long long min, long long max, double avg, long long count) {
    if (cfg.output == OUT_STANDARD) {
        printf("min: %lld, max: %lld, avg: %.2f (%lld samples)", min, max, avg, count);
        fflush(stdout);
    } else if (cfg.output == OUT_CSV) {
        printf("%lld,%lld,%.2f,%lld\n", min, max, avg, count);
    } else {
        printf("%lld %lld %.2f %lld\n", min, max, avg, count);
    }
}

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

static int latency_dist(conn *c) {
    long long interval_us = cfg.interval_set ? (long long)(cfg.interval * 1e6) : 1000000;
    long long *s = NULL;
    size_t n = 0, cap = 0;
    long long start = ustime();
    printf("Latency distribution in microseconds, one line every %.2f seconds:\n", (double)interval_us / 1e6);
    printf("%8s %8s %8s %8s %8s %8s %8s\n", "samples", "min", "p50", "p90", "p99", "p99.9", "max");
    fflush(stdout);
    for (;;) {
        long long t0 = ustime();
        if (ping(&c) < 0) {
            fprintf(stderr, "\nI/O error\n");
            free(s);
            return 1;
        }
        long long lat = ustime() - t0;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            s = xrealloc(s, cap * sizeof(*s));
        }
        s[n++] = lat;
        if (ustime() - start >= interval_us) {
            qsort(s, n, sizeof(*s), cmp_ll);
#define PCT(p) s[(size_t)((double)(n - 1) * (p))]
            printf("%8zu %8lld %8lld %8lld %8lld %8lld %8lld\n", n, s[0], PCT(0.5), PCT(0.9), PCT(0.99),
                   PCT(0.999), s[n - 1]);
#undef PCT
            fflush(stdout);
            n = 0;
            start = ustime();
        }
        sleep_us(10000);
    }
}

int latency_mode(void) {
    conn *c = session_connect(0);
    if (!c) return 1;
    if (cfg.latency_dist) {
        int rc = latency_dist(c);
        conn_close(c);
        return rc;
    }
    long long min = 0, max = 0, tot = 0, count = 0;
    long long interval_ms = cfg.interval_set ? (long long)(cfg.interval * 1000) : 1000;
    long long history_ms = cfg.interval_set ? interval_ms : 15000;
    long long history_start = mstime();
    for (;;) {
        long long t0 = mstime();
        if (ping(&c) < 0) {
            fprintf(stderr, "\nI/O error\n");
            return 1;
        }
        long long lat = mstime() - t0;
        count++;
        if (count == 1) {
            min = max = tot = lat;
        } else {
            if (lat < min) min = lat;
            if (lat > max) max = lat;
            tot += lat;
        }
        double avg = (double)tot / (double)count;
        if (cfg.output == OUT_STANDARD) {
            printf("\x1b[0G\x1b[2K");
            print_latency(min, max, avg, count);
        } else if (cfg.latency_history) {
            print_latency(min, max, avg, count);
        } else if (mstime() - history_start > interval_ms) {
            print_latency(min, max, avg, count);
            fflush(stdout);
            conn_close(c);
            return 0;
        }
        if (cfg.latency_history && mstime() - history_start > history_ms) {
            printf(" -- %.2f seconds range\n", (double)(mstime() - history_start) / 1000);
            history_start = mstime();
            min = max = tot = count = 0;
        }
        fflush(stdout);
        sleep_us(10000);
    }
}

/* ---------- --stat ---------- */

static long info_long(const char *info, const char *field) {
    const char *p = strstr(info, field);
    if (!p) return LONG_MIN;
    p += strlen(field) + 1;
    return strtol(p, NULL, 10);
}

static void bytes_human(char *s, size_t size, long long n) {
    const char *sign = "";
    if (n < 0) {
        sign = "-";
        n = -n;
    }
    if (n < 1024)
        snprintf(s, size, "%s%lldB", sign, n);
    else if (n < 1024LL * 1024)
        snprintf(s, size, "%s%.2fK", sign, (double)n / 1024);
    else if (n < 1024LL * 1024 * 1024)
        snprintf(s, size, "%s%.2fM", sign, (double)n / (1024 * 1024));
    else if (n < 1024LL * 1024 * 1024 * 1024)
        snprintf(s, size, "%s%.2fG", sign, (double)n / (1024.0 * 1024 * 1024));
    else
        snprintf(s, size, "%s%.2fT", sign, (double)n / (1024.0 * 1024 * 1024 * 1024));
}

int stat_mode(void) {
    conn *c = session_connect(0);
    if (!c) return 1;
    long long interval_us = cfg.interval_set && cfg.interval > 0 ? (long long)(cfg.interval * 1e6) : 1000000;
    long requests = 0;
    for (int i = 0;; i++) {
        reply *r = NULL;
        for (int attempt = 0; attempt < 2 && !r; attempt++) {
            if (!c) c = session_connect(1);
            if (c && !(r = conn_cmdf(c, "INFO"))) {
                conn_close(c);
                c = NULL;
            }
        }
        if (!r) {
            fprintf(stderr, "\nI/O error\n");
            return 1;
        }
        if (r->type == R_ERROR) {
            fprintf(stderr, "ERROR: %s\n", r->str);
            reply_free(r);
            conn_close(c);
            return 1;
        }
        const char *info = r->str ? r->str : "";
        if (i % 20 == 0)
            printf("------- data ------ --------------------- load -------------------- - child -\n"
                   "keys       mem      clients blocked requests            connections          \n");
        char b[64];
        long keys = 0;
        for (int db = 0; db < 20; db++) {
            char f[32];
            snprintf(f, sizeof(f), "db%d:keys", db);
            long k = info_long(info, f);
            if (k != LONG_MIN) keys += k;
        }
        snprintf(b, sizeof(b), "%ld", keys);
        printf("%-11s", b);
        bytes_human(b, sizeof(b), info_long(info, "used_memory"));
        printf("%-8s", b);
        snprintf(b, sizeof(b), "%ld", info_long(info, "connected_clients"));
        printf(" %-8s", b);
        snprintf(b, sizeof(b), "%ld", info_long(info, "blocked_clients"));
        printf("%-8s", b);
        long req = info_long(info, "total_commands_processed");
        snprintf(b, sizeof(b), "%ld (+%ld)", req, requests == 0 ? 0 : req - requests);
        printf("%-19s", b);
        requests = req;
        snprintf(b, sizeof(b), "%ld", info_long(info, "total_connections_received"));
        printf(" %-12s", b);
        long child = info_long(info, "bgsave_in_progress") == 1;
        child |= (info_long(info, "aof_rewrite_in_progress") == 1) << 1;
        child |= (info_long(info, "loading") == 1) << 2;
        static const char *names[] = {"", "SAVE", "AOF", "SAVE+AOF", "LOAD", "LOAD", "LOAD", "LOAD"};
        printf("%s\n", names[child & 7]);
        fflush(stdout);
        reply_free(r);
        sleep_us(interval_us);
    }
}

/* ---------- --intrinsic-latency ---------- */

static volatile sig_atomic_t stop_intrinsic;
static void on_stop(int sig) {
    (void)sig;
    stop_intrinsic = 1;
}

static void compute_something_fast(void) {
    unsigned char s[256], i, j, t;
    int count = 1000, k;
    for (k = 0; k < 256; k++) s[k] = (unsigned char)k;
    i = 0;
    j = 0;
    while (count--) {
        i++;
        j = (unsigned char)(j + s[i]);
        t = s[i];
        s[i] = s[j];
        s[j] = t;
    }
    __asm__ __volatile__("" : : "r"(s) : "memory");
}

int latency_intrinsic(double seconds) {
    long long run_time = (long long)(seconds * 1e6), max_latency = 0, runs = 0;
    long long test_end = ustime() + run_time;
    signal(SIGINT, on_stop);
    for (;;) {
        long long start = ustime();
        compute_something_fast();
        long long end = ustime();
        long long latency = end - start;
        runs++;
        if (latency <= 0 && !stop_intrinsic) continue;
        if (latency > max_latency) {
            max_latency = latency;
            printf("Max latency so far: %lld microseconds.\n", max_latency);
            fflush(stdout);
        }
        double avg_us = (double)run_time / (double)runs;
        if (stop_intrinsic || end > test_end) {
            printf("\n%lld total runs (avg latency: %.4f microseconds / %.2f nanoseconds per run).\n", runs,
                   avg_us, avg_us * 1e3);
            printf("Worst run took %.0fx longer than the average latency.\n", (double)max_latency / avg_us);
            return 0;
        }
    }
}
