/* hdrhist: the latency histogram of one command, laid out exactly as the HDR
 * histogram Redis 7.0 keeps per command (hdr_init(1, 1000000000, 2)): values
 * in nanoseconds from 1 to 10^9 (clamped), 2 significant digits, i.e. 256
 * sub-buckets whose width doubles with each of 23 buckets, 3072 counters.
 * Reading it back therefore gives Redis's numbers to the unit: the cumulative
 * distribution LATENCY HISTOGRAM prints (log-2 steps from 1024 ns, each
 * labelled with its slot's highest equivalent value in microseconds) and the
 * percentiles of INFO latencystats.
 *
 * Memory: the counters live in 24 chunks of 128, each allocated on its first
 * value, so a command whose calls take 1 to 20 us holds ~6 KB rather than
 * Redis's 24 KB; a command never called holds nothing (its pointer is NULL). */
#ifndef SARDINE_HDRHIST_H
#define SARDINE_HDRHIST_H
#include <stddef.h>
#include <stdint.h>

typedef struct hdrhist hdrhist;

/* Records one value (ns), creating the histogram on the first one. */
void hdrhist_record(hdrhist **h, int64_t ns);
void hdrhist_free(hdrhist **h);
long long hdrhist_total(const hdrhist *h);
/* hdr_value_at_percentile: the highest value equivalent to the one at percentile p (the lowest for p == 0). */
int64_t hdrhist_value_at_percentile(const hdrhist *h, double p);
/* The cumulative distribution as Redis's LATENCY HISTOGRAM reports it: pairs (micros, cumulative count) for
 * each log-2 reporting level whose count grew; returns how many (at most 32). */
int hdrhist_cdf(const hdrhist *h, long long micros[32], long long counts[32]);
/* Bytes held (for accounting). */
size_t hdrhist_bytes(const hdrhist *h);
#endif
