/* slowlog: the last slowlog-max-len commands that took longer than
 * slowlog-log-slower-than microseconds, with their (truncated) arguments,
 * as SLOWLOG GET returns them; and the latency monitor's per-event history
 * (LATENCY LATEST/HISTORY/RESET/DOCTOR), fed when an event lasts at least
 * latency-monitor-threshold ms. */
#ifndef SARDINE_SLOWLOG_H
#define SARDINE_SLOWLOG_H
#include "net/client.h"

void slowlog_maybe_add(client *c, long long duration_us);
void latency_add_sample(const char *event, long long ms);
#endif
