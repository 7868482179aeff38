/* latency: see latency.h. */
#include "features/latency.h"
#include "commands/command.h"
#include "commands/commands.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "features/config.h"
#include "util/hdrhist.h"
#include "util/mem.h"
#include "util/sparkline.h"
#include "persist/aof.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LATENCY_SAMPLES 160

typedef struct lat_event {
    char name[32];
    long long time[LATENCY_SAMPLES], ms[LATENCY_SAMPLES];
    int idx, n;
    long long max;
} lat_event;

/* Every event seen, in first-seen order (Redis keeps no limit: a dictionary by name). */
static lat_event *events;
static int nevents, cap_events;

void latency_eventloop_sample(long long ms) { latency_add_sample("eventloop", ms); }

void latency_add_sample(const char *event, long long ms) { latency_add_sample_at(event, mstime() / 1000, ms); }

void latency_add_sample_at(const char *event, long long when, long long ms) {
    lat_event *ev = NULL;
    for (int i = 0; i < nevents; i++)
        if (!strcmp(events[i].name, event)) ev = &events[i];
    if (!ev) {
        if (nevents == cap_events) {
            cap_events = cap_events ? cap_events * 2 : 16;
            events = s_realloc(events, (size_t)cap_events * sizeof(*events));
        }
        ev = &events[nevents++];
        memset(ev, 0, sizeof(*ev));
        snprintf(ev->name, sizeof(ev->name), "%s", event);
    }
    int prev = (ev->idx + LATENCY_SAMPLES - 1) % LATENCY_SAMPLES;
    if (ev->n && ev->time[prev] == when) { /* one sample per second: keep the max */
        if (ms > ev->ms[prev]) ev->ms[prev] = ms;
    } else {
        ev->time[ev->idx] = when;
        ev->ms[ev->idx] = ms;
        ev->idx = (ev->idx + 1) % LATENCY_SAMPLES;
        if (ev->n < LATENCY_SAMPLES) ev->n++;
    }
    if (ms > ev->max) ev->max = ms;
}

/* The event named exactly a (as Redis's dictionary of events, case-sensitive), or NULL. */
static lat_event *find_event(const arg *a) {
    for (int i = 0; i < nevents; i++)
        if (strlen(events[i].name) == a->len && !memcmp(events[i].name, a->p, a->len)) return &events[i];
    return NULL;
}

/* The k-th oldest sample of ev (k < ev->n). */
static int sample_at(const lat_event *ev, int k) { return (ev->idx + LATENCY_SAMPLES - ev->n + k) % LATENCY_SAMPLES; }

void cmd_latency_latest(client *c) {
    reply_array(c, nevents);
    for (int i = 0; i < nevents; i++) {
        lat_event *ev = &events[i];
        int last = (ev->idx + LATENCY_SAMPLES - 1) % LATENCY_SAMPLES;
        reply_array(c, 4);
        reply_bulk_cstr(c, ev->name);
        reply_int(c, ev->time[last]);
        reply_int(c, ev->ms[last]);
        reply_int(c, ev->max);
    }
}

void cmd_latency_history(client *c) {
    lat_event *ev = find_event(&c->argv[2]);
    if (!ev) return reply_array(c, 0);
    reply_array(c, ev->n);
    for (int k = 0; k < ev->n; k++) {
        int j = sample_at(ev, k);
        reply_array(c, 2);
        reply_int(c, ev->time[j]);
        reply_int(c, ev->ms[j]);
    }
}

/* ---- LATENCY GRAPH ---- */

#define GRAPH_COLUMNS 80
#define GRAPH_ROWS 4

/* How long ago, as Redis labels a sample: "12s", "5m", "3h", "2d". */
static void age_label(long long elapsed, char *buf, size_t size) {
    if (elapsed < 60) snprintf(buf, size, "%llds", elapsed);
    else if (elapsed < 3600) snprintf(buf, size, "%lldm", elapsed / 60);
    else if (elapsed < 3600 * 24) snprintf(buf, size, "%lldh", elapsed / 3600);
    else snprintf(buf, size, "%lldd", elapsed / (3600 * 24));
}

/* LATENCY GRAPH <event>: a header with the history's high and low and the all-time high, a rule, then
 * the sparkline of the history (oldest first), each column labelled with the sample's age. */
void cmd_latency_graph(client *c) {
    const arg *name = &c->argv[2];
    lat_event *ev = find_event(name);
    if (!ev) {
        reply_errorf(c, "ERR No samples available for event '%.*s'", (int)strnlen(name->p, name->len), name->p);
        return;
    }
    double values[LATENCY_SAMPLES];
    char labels[LATENCY_SAMPLES][24];
    const char *lp[LATENCY_SAMPLES];
    long long now = mstime() / 1000, high = 0, low = 0;
    for (int k = 0; k < ev->n; k++) {
        int j = sample_at(ev, k);
        if (k == 0 || ev->ms[j] > high) high = ev->ms[j];
        if (k == 0 || ev->ms[j] < low) low = ev->ms[j];
        values[k] = (double)ev->ms[j];
        age_label(now - ev->time[j], labels[k], sizeof(labels[k]));
        lp[k] = labels[k];
    }
    size_t glen;
    char *graph = sparkline_render(values, lp, ev->n, GRAPH_COLUMNS, GRAPH_ROWS, &glen);
    size_t cap = 160 + GRAPH_COLUMNS + glen;
    char *out = s_malloc(cap);
    int hlen = snprintf(out, cap, "%s - high %lld ms, low %lld ms (all time high %lld ms)\n", ev->name, high, low,
                        ev->max);
    size_t len = (size_t)hlen;
    memset(out + len, '-', GRAPH_COLUMNS);
    len += GRAPH_COLUMNS;
    out[len++] = '\n';
    memcpy(out + len, graph, glen);
    len += glen;
    reply_verbatim(c, out, len, "txt");
    s_free(graph);
    s_free(out);
}

void cmd_latency_reset(client *c) {
    long long n = 0;
    if (c->argc == 2) {
        n = nevents;
        nevents = 0;
    } else {
        for (int j = 2; j < c->argc; j++)
            for (int i = 0; i < nevents; i++)
                if (strlen(events[i].name) == c->argv[j].len &&
                    !strncasecmp(events[i].name, c->argv[j].p, c->argv[j].len)) { /* as Redis: any case */
                    events[i] = events[--nevents];
                    n++;
                    break;
                }
    }
    reply_int(c, n);
}

/* ---- LATENCY DOCTOR ---- */

/* A growing report text. */
typedef struct report {
    char *p;
    size_t len, cap;
} report;

static void rep_add(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rep_add(report *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->p + r->len, r->cap - r->len, fmt, ap);
    va_end(ap);
    if ((size_t)n >= r->cap - r->len) {
        r->cap = (r->len + (size_t)n + 1) * 2;
        r->p = s_realloc(r->p, r->cap);
        va_start(ap, fmt);
        vsnprintf(r->p + r->len, r->cap - r->len, fmt, ap);
        va_end(ap);
    }
    r->len += (size_t)n;
}

/* The bytes of anonymous huge pages this process uses (the sum of AnonHugePages in /proc/self/smaps,
 * 0 when it cannot be read): the transparent huge pages DOCTOR warns about. */
static long long thp_bytes(void) {
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return 0;
    char line[256];
    long long sum = 0;
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, "AnonHugePages:", 14)) sum += strtoll(line + 14, NULL, 10) * 1024;
    fclose(f);
    return sum;
}

/* The advice DOCTOR may give, in the order Redis prints it. */
enum {
    ADV_BETTER_VM,
    ADV_SLOWLOG_ENABLE,
    ADV_SLOWLOG_TUNE,
    ADV_SLOWLOG_INSPECT,
    ADV_SCHEDULER,
    ADV_LOCAL_DISK,
    ADV_SSD,
    ADV_WRITEBACK,
    ADV_DISK_CONTENTION,
    ADV_NO_APPENDFSYNC,
    ADV_RELAX_FSYNC,
    ADV_WRITE_LOAD,
    ADV_HZ,
    ADV_LARGE_OBJECTS,
    ADV_MASS_EVICTION,
    ADV_THP,
    ADV_COUNT
};

/* The advice an event calls for, as Redis's table of event names (matched in any case); Redis counts
 * every flag set, even one already set, to decide whether it has advice at all. */
static int event_advice(const char *event, int adv[ADV_COUNT]) {
    static const struct {
        const char *events[2];
        int advice[4];
        int n;
    } table[] = {
        {{"fast-command"}, {ADV_SCHEDULER}, 1},
        {{"aof-write-pending-fsync"}, {ADV_LOCAL_DISK, ADV_DISK_CONTENTION, ADV_SSD, ADV_WRITEBACK}, 4},
        {{"aof-write-active-child"}, {ADV_NO_APPENDFSYNC, ADV_WRITEBACK, ADV_SSD}, 3},
        {{"aof-write-alone"}, {ADV_LOCAL_DISK, ADV_WRITEBACK, ADV_SSD}, 3},
        {{"aof-fsync-always"}, {ADV_RELAX_FSYNC}, 1},
        {{"aof-fstat", "rdb-unlink-temp-file"}, {ADV_DISK_CONTENTION, ADV_LOCAL_DISK}, 2},
        {{"aof-rewrite-diff-write", "aof-rename"}, {ADV_WRITE_LOAD, ADV_WRITEBACK, ADV_SSD, ADV_LOCAL_DISK}, 4},
        {{"expire-cycle"}, {ADV_HZ, ADV_LARGE_OBJECTS}, 2},
        {{"eviction-del"}, {ADV_LARGE_OBJECTS}, 1},
        {{"eviction-cycle"}, {ADV_MASS_EVICTION}, 1},
    };
    int count = 0;
    if (!strcasecmp(event, "fork") && srv.stat_fork_rate < 25) { /* terrible or poor forks */
        adv[ADV_BETTER_VM] = 1;
        count++;
    }
    if (!strcasecmp(event, "command")) { /* potentially slow commands: the slow log's settings */
        if (srv.slowlog_log_slower_than < 0) {
            adv[ADV_SLOWLOG_ENABLE] = 1;
            count++;
        } else if (srv.slowlog_log_slower_than / 1000 > srv.latency_monitor_threshold) {
            adv[ADV_SLOWLOG_TUNE] = 1;
            count++;
        }
        adv[ADV_SLOWLOG_INSPECT] = adv[ADV_LARGE_OBJECTS] = 1;
        count += 2;
    }
    for (size_t t = 0; t < sizeof(table) / sizeof(table[0]); t++)
        for (int e = 0; e < 2 && table[t].events[e]; e++)
            if (!strcasecmp(event, table[t].events[e]))
                for (int k = 0; k < table[t].n; k++, count++) adv[table[t].advice[k]] = 1;
    return count;
}

/* One event's line: samples, their average and mean absolute deviation (integer ms, as Redis), the
 * seconds from the oldest sample to now per sample, and the all-time high. */
static void event_line(report *r, int num, const lat_event *ev, long long now) {
    long long sum = 0, oldest = 0, mad = 0;
    for (int k = 0; k < ev->n; k++) {
        int j = sample_at(ev, k);
        sum += ev->ms[j];
        if (k == 0 || ev->time[j] < oldest) oldest = ev->time[j];
    }
    long long avg = ev->n ? sum / ev->n : 0, period = ev->n ? now - oldest : 0;
    if (ev->n && period == 0) period = 1;
    for (int k = 0; k < ev->n; k++) {
        long long d = avg - ev->ms[sample_at(ev, k)];
        mad += d < 0 ? -d : d;
    }
    if (ev->n) mad /= ev->n;
    rep_add(r,
            "%d. %s: %d latency spikes (average %lldms, mean deviation %lldms, period %.2f sec). Worst all time "
            "event %lldms.",
            num, ev->name, ev->n, avg, mad, (double)period / ev->n, ev->max);
    if (!strcasecmp(ev->name, "fork")) { /* bgsave-fork yes: the last fork's rate, graded as Redis grades it */
        double rate = srv.stat_fork_rate;
        rep_add(r, " Fork rate is %.2f GB/sec (%s).", rate,
                rate < 10 ? "terrible" : rate < 25 ? "poor" : rate < 100 ? "good" : "excellent");
    }
}

/* LATENCY DOCTOR: Redis 7.0's report: each event's statistics, then the advice they call for. */
void cmd_latency_doctor(client *c) {
    report r = {s_malloc(1024), 0, 1024};
    r.p[0] = 0;
    if (!nevents && !srv.latency_monitor_threshold) {
        rep_add(&r, "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may "
                    "use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't "
                    "in a deep space mission I'd suggest to take a look at "
                    "https://redis.io/topics/latency-monitor.\n");
        reply_verbatim(c, r.p, r.len, "txt");
        s_free(r.p);
        return;
    }
    int adv[ADV_COUNT] = {0}, advices = 0;
    long long now = mstime() / 1000;
    for (int i = 0; i < nevents; i++) {
        if (i == 0)
            rep_add(&r, "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about "
                        "it, do you Dave?\n\n");
        event_line(&r, i + 1, &events[i], now);
        advices += event_advice(events[i].name, adv);
        rep_add(&r, "\n");
    }
    if (thp_bytes() > 0) {
        adv[ADV_THP] = 1;
        advices++;
    }
    if (!nevents && !advices) {
        rep_add(&r, "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the "
                    "slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think "
                    "things over.\n");
    } else if (!advices) {
        rep_add(&r, "\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the "
                    "Redis community to get some help, providing this report in your help request.\n");
    } else {
        rep_add(&r, "\nI have a few advices for you:\n\n");
        if (adv[ADV_BETTER_VM])
            rep_add(&r, "- If you are using a virtual machine, consider upgrading it with a faster one using a "
                        "hypervisior that provides less latency during fork() calls. Xen is known to have poor fork() "
                        "performance. Even in the context of the same VM provider, certain kinds of instances can "
                        "execute fork faster than others.\n");
        unsigned long long slower = (unsigned long long)srv.latency_monitor_threshold * 1000;
        if (adv[ADV_SLOWLOG_ENABLE])
            rep_add(&r, "- There are latency issues with potentially slow commands you are using. Try to enable the "
                        "Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than %llu'. If the "
                        "Slow log is disabled Redis is not able to log slow commands execution for you.\n",
                    slower);
        if (adv[ADV_SLOWLOG_TUNE])
            rep_add(&r, "- Your current Slow Log configuration only logs events that are slower than your configured "
                        "latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than %llu'.\n",
                    slower);
        if (adv[ADV_SLOWLOG_INSPECT])
            rep_add(&r, "- Check your Slow Log to understand what are the commands you are running which are too slow "
                        "to execute. Please check https://redis.io/commands/slowlog for more information.\n");
        if (adv[ADV_SCHEDULER])
            rep_add(&r, "- The system is slow to execute Redis code paths not containing system calls. This usually "
                        "means the system does not provide Redis CPU time to run for long periods. You should try "
                        "to:\n"
                        "  1) Lower the system load.\n"
                        "  2) Use a computer / VM just for Redis if you are running other software in the same "
                        "system.\n"
                        "  3) Check if you have a \"noisy neighbour\" problem.\n"
                        "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your "
                        "system.\n"
                        "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you "
                        "are using Jemalloc. However this may create fragmentation problems.\n");
        if (adv[ADV_LOCAL_DISK])
            rep_add(&r, "- It is strongly advised to use local disks for persistence, especially if you are using "
                        "AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n");
        if (adv[ADV_SSD])
            rep_add(&r, "- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF "
                        "log rewriting (resulting in smaller memory usage). With extremely high write load SSD disks "
                        "can be a good option. However Redis should perform reasonably with high load using normal "
                        "disks. Use this advice as a last resort.\n");
        if (adv[ADV_WRITEBACK])
            rep_add(&r, "- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared "
                        "to data=ordered, however this mode of operation provides less guarantees, and sometimes it "
                        "can happen that after a hard crash the AOF file will have a half-written command at the end "
                        "and will require to be repaired before Redis restarts.\n");
        if (adv[ADV_DISK_CONTENTION])
            rep_add(&r, "- Try to lower the disk contention. This is often caused by other disk intensive processes "
                        "running in the same computer (including other Redis instances).\n");
        if (adv[ADV_NO_APPENDFSYNC])
            rep_add(&r, "- Assuming from the point of view of data safety this is viable in your environment, you "
                        "could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not be "
                        "performed while there is a child rewriting the AOF file or producing an RDB file (the moment "
                        "where there is high disk contention).\n");
        if (adv[ADV_RELAX_FSYNC] && aofc.fsync == AOF_FSYNC_ALWAYS)
            rep_add(&r, "- Your fsync policy is set to 'always'. It is very hard to get good performances with such a "
                        "setup, if possible try to relax the fsync policy to 'onesec'.\n");
        if (adv[ADV_WRITE_LOAD])
            rep_add(&r, "- Latency during the AOF atomic rename operation or when the final difference is flushed to "
                        "the AOF file at the end of the rewrite, sometimes is caused by very high write load, causing "
                        "the AOF buffer to get very large. If possible try to send less commands to accomplish the "
                        "same work, or use Lua scripts to group multiple operations into a single EVALSHA call.\n");
        if (adv[ADV_HZ] && srv.hz < 100)
            rep_add(&r, "- In order to make the Redis keys expiring process more incremental, try to set the 'hz' "
                        "configuration parameter to 100 using 'CONFIG SET hz 100'.\n");
        if (adv[ADV_LARGE_OBJECTS])
            rep_add(&r, "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking "
                        "operation. If you have very large objects that are often deleted, expired, or evicted, try "
                        "to fragment those objects into multiple smaller objects.\n");
        if (adv[ADV_MASS_EVICTION])
            rep_add(&r, "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects "
                        "via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys "
                        "migrations (RESTORE command), may create sudden memory pressure forcing the server to block "
                        "trying to evict keys. \n");
        if (adv[ADV_THP])
            rep_add(&r, "- I detected a non zero amount of anonymous huge pages used by your process. This creates "
                        "very serious latency events in different conditions, especially when Redis is persisting on "
                        "disk. To disable THP support use the command 'echo never > "
                        "/sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so "
                        "that the command will be executed again after a reboot. Note that even if you have already "
                        "disabled THP, you still need to restart the Redis process to get rid of the huge pages "
                        "already created.\n");
    }
    reply_verbatim(c, r.p, r.len, "txt");
    s_free(r.p);
}

/* ---- per-command latency histograms (latency-tracking) ---- */

/* One command's entry of LATENCY HISTOGRAM: its name, then {calls, histogram_usec: {micros: cumulative}}. */
static void reply_cdf(client *c, const command *cmd) {
    long long micros[32], counts[32];
    int n = hdrhist_cdf(cmd->lat_hist, micros, counts);
    reply_bulk_cstr(c, cmd->fullname);
    reply_map(c, 2);
    reply_bulk_cstr(c, "calls");
    reply_int(c, hdrhist_total(cmd->lat_hist));
    reply_bulk_cstr(c, "histogram_usec");
    reply_map(c, n);
    for (int i = 0; i < n; i++) {
        reply_int(c, micros[i]);
        reply_int(c, counts[i]);
    }
}

/* A command and its subcommands with data, as Redis: the container first, then each subcommand. */
static long reply_family(client *c, const command *cmd) {
    long n = 0;
    if (cmd->lat_hist) {
        reply_cdf(c, cmd);
        n++;
    }
    for (const command *s = cmd->subcmds; s && s->name; s++)
        if (s->lat_hist) {
            reply_cdf(c, s);
            n++;
        }
    return n;
}

/* LATENCY HISTOGRAM [command ...]: every command with data, or the named ones (a container names all its
 * subcommands, "config|get" one of them; unknown names are skipped), as a map. */
void cmd_latency_histogram(client *c) {
    size_t pos = reply_defer(c);
    long n = 0;
    if (c->argc == 2) {
        int nall;
        command **all = command_all(&nall);
        for (int i = 0; i < nall; i++) n += reply_family(c, all[i]);
    } else {
        for (int j = 2; j < c->argc; j++) {
            const arg *a = &c->argv[j];
            const char *bar = memchr(a->p, '|', a->len);
            command *cmd = NULL;
            if (!bar) {
                cmd = command_lookup_name(a->p, a->len);
                if (cmd) n += reply_family(c, cmd);
                continue;
            }
            command *parent = command_lookup_name(a->p, (size_t)(bar - a->p));
            size_t sl = a->len - (size_t)(bar - a->p) - 1;
            for (command *s = parent ? parent->subcmds : NULL; s && s->name; s++)
                if (strlen(s->name) == sl && !strncasecmp(s->name, bar + 1, sl)) cmd = s;
            if (cmd && cmd->lat_hist) {
                reply_cdf(c, cmd);
                n++;
            }
        }
    }
    reply_defer_set(c, pos, n, '%');
}

/* INFO latencystats: "latency_percentiles_usec_<cmd>:p50=1.003,p99=..." per command with data. */
static void stats_line(char **buf, size_t *len, size_t *cap, const command *cmd) {
    size_t need = *len + 64 + strlen(cmd->fullname) + (size_t)srv.latency_npcts * 64;
    if (need > *cap) {
        *cap = need * 2;
        *buf = s_realloc(*buf, *cap);
    }
    *len += (size_t)sprintf(*buf + *len, "latency_percentiles_usec_%s:", cmd->fullname);
    for (int j = 0; j < srv.latency_npcts; j++) {
        char p[40];
        config_format_percentile(srv.latency_pcts[j], p, sizeof(p));
        *len += (size_t)sprintf(*buf + *len, "%sp%s=%.3f", j ? "," : "", p,
                                (double)hdrhist_value_at_percentile(cmd->lat_hist, srv.latency_pcts[j]) / 1000.0);
    }
    *len += (size_t)sprintf(*buf + *len, "\r\n");
}

char *latency_stats_info(void) {
    size_t len = 0, cap = 256;
    char *buf = s_malloc(cap);
    buf[0] = 0;
    int nall;
    command **all = command_all(&nall);
    for (int i = 0; i < nall; i++) {
        if (all[i]->lat_hist) stats_line(&buf, &len, &cap, all[i]);
        for (const command *s = all[i]->subcmds; s && s->name; s++)
            if (s->lat_hist) stats_line(&buf, &len, &cap, s);
    }
    return buf;
}

void cmd_latency_help(client *c) {
    static const char *lines[] = {
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
        NULL};
    reply_help(c, "LATENCY", lines);
}
