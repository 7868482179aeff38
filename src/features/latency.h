/* latency: the latency monitor: per event ("eventloop", "command" ...) the
 * latest and the longest spikes and a history of 160 samples, as LATENCY
 * LATEST/HISTORY/RESET/GRAPH/DOCTOR return them (GRAPH and DOCTOR's text are
 * Redis 7.0's, byte for byte for the same samples: util/sparkline.h draws).  Fed when an event lasts at least
 * latency-monitor-threshold ms; the event loop reports its long iterations
 * through the hook main.c installs (net/eventloop.h), the layers below
 * features/ their operations through srv.latency_sample (server.h:
 * expire-del, eviction-del, aof-write ..., as Redis 7.0 names them).
 * Events are kept in first-seen order; Redis keeps them in a dictionary whose
 * hash seed is random per process, so its LATEST and DOCTOR order varies
 * from run to run and no order is Redis's. */
#ifndef SARDINE_LATENCY_H
#define SARDINE_LATENCY_H

void latency_add_sample(const char *event, long long ms);
/* A sample taken at unix time `when` (seconds): DEBUG LATENCY-SAMPLE's, to replay a history in tests. */
void latency_add_sample_at(const char *event, long long when, long long ms);
/* The event loop's hook: an iteration of ms milliseconds. */
void latency_eventloop_sample(long long ms);
/* INFO latencystats' lines (heap string): each command's latency-tracking-info-percentiles. */
char *latency_stats_info(void);
#endif
