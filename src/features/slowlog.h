/* slowlog: the last slowlog-max-len commands that took longer than
 * slowlog-log-slower-than microseconds, with their (truncated) arguments,
 * as SLOWLOG GET returns them.  (The latency monitor is features/latency.h.) */
#ifndef SARDINE_SLOWLOG_H
#define SARDINE_SLOWLOG_H
#include "net/client.h"

void slowlog_maybe_add(client *c, long long duration_us);
#endif
