/* latency: --latency, --latency-history, --latency-dist, --stat and
 * --intrinsic-latency. */
#ifndef SARDINE_CLI_LATENCY_H
#define SARDINE_CLI_LATENCY_H

int latency_mode(void);
int stat_mode(void);
int latency_intrinsic(double seconds);

#endif
