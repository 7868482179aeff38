/* latency: see latency.h. */
#include "features/latency.h"
#include "commands/command.h"
#include "commands/commands.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "features/config.h"
#include "util/hdrhist.h"
#include "util/mem.h"
#include <stdio.h>
#include <string.h>

#define LATENCY_SAMPLES 160
#define LATENCY_EVENTS 16

typedef struct lat_event {
    char name[32];
    long long time[LATENCY_SAMPLES], ms[LATENCY_SAMPLES];
    int idx, n;
    long long max;
} lat_event;

static lat_event events[LATENCY_EVENTS];
static int nevents;

void latency_eventloop_sample(long long ms) { latency_add_sample("eventloop", ms); }

void latency_add_sample(const char *event, long long ms) {
    lat_event *ev = NULL;
    for (int i = 0; i < nevents; i++)
        if (!strcmp(events[i].name, event)) ev = &events[i];
    if (!ev) {
        if (nevents == LATENCY_EVENTS) return;
        ev = &events[nevents++];
        memset(ev, 0, sizeof(*ev));
        snprintf(ev->name, sizeof(ev->name), "%s", event);
    }
    long long now = mstime() / 1000;
    int prev = (ev->idx + LATENCY_SAMPLES - 1) % LATENCY_SAMPLES;
    if (ev->n && ev->time[prev] == now) { /* one sample per second: keep the max */
        if (ms > ev->ms[prev]) ev->ms[prev] = ms;
    } else {
        ev->time[ev->idx] = now;
        ev->ms[ev->idx] = ms;
        ev->idx = (ev->idx + 1) % LATENCY_SAMPLES;
        if (ev->n < LATENCY_SAMPLES) ev->n++;
    }
    if (ms > ev->max) ev->max = ms;
}

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
    for (int i = 0; i < nevents; i++) {
        lat_event *ev = &events[i];
        if (strlen(ev->name) != c->argv[2].len || memcmp(ev->name, c->argv[2].p, c->argv[2].len)) continue;
        reply_array(c, ev->n);
        for (int k = 0; k < ev->n; k++) {
            int j = (ev->idx + LATENCY_SAMPLES - ev->n + k) % LATENCY_SAMPLES;
            reply_array(c, 2);
            reply_int(c, ev->time[j]);
            reply_int(c, ev->ms[j]);
        }
        return;
    }
    reply_array(c, 0);
}

void cmd_latency_reset(client *c) {
    long long n = 0;
    if (c->argc == 2) {
        n = nevents;
        nevents = 0;
    } else {
        for (int j = 2; j < c->argc; j++)
            for (int i = 0; i < nevents; i++)
                if (strlen(events[i].name) == c->argv[j].len && !memcmp(events[i].name, c->argv[j].p, c->argv[j].len)) {
                    events[i] = events[--nevents];
                    n++;
                    break;
                }
    }
    reply_int(c, n);
}

void cmd_latency_doctor(client *c) {
    char buf[4096];
    size_t len;
    if (!nevents) {
        len = (size_t)snprintf(buf, sizeof(buf),
                               "Dave, no latency spike was observed during the lifetime of this Redis instance, not "
                               "in the slightest bit. I honestly think you ought to sleep tonight.\n");
    } else {
        len = (size_t)snprintf(buf, sizeof(buf), "Dave, I have observed latency spikes in this Redis instance.\n\n");
        for (int i = 0; i < nevents && len < sizeof(buf) - 200; i++)
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%d. %s: %d latency spikes (worst %lldms).\n", i + 1,
                                    events[i].name, events[i].n, events[i].max);
    }
    reply_verbatim(c, buf, len, "txt");
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
