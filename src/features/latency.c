/* latency: see latency.h. */
#include "features/latency.h"
#include "commands/command.h"
#include "commands/commands.h"
#include "protocol/reply.h"
#include "server/server.h"
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
        NULL};
    reply_help(c, "LATENCY", lines);
}
