/* hdrhist: see hdrhist.h.  The index arithmetic is the HDR histogram's with
 * unit magnitude 0, sub_bucket_half_count_magnitude 7 (128), sub-bucket mask
 * 255; written here from the format's definition. */
#include "util/hdrhist.h"
#include "util/mem.h"
#include <string.h>

#define HALF 128
#define COUNTS_LEN 3072 /* (23 buckets + 1) * 128: enough for 10^9 */
#define NCHUNKS (COUNTS_LEN / HALF)
#define MIN_VALUE 1
#define MAX_VALUE 1000000000LL

struct hdrhist {
    long long total;
    uint64_t *chunk[NCHUNKS];
};

static int bucket_of(int64_t v) { return (64 - __builtin_clzll((uint64_t)v | 255)) - 8; }

static int index_of(int64_t v) {
    int b = bucket_of(v);
    int sub = (int)(v >> b);
    return ((b + 1) << 7) + sub - HALF;
}

static int64_t value_at_index(int idx) {
    int b = (idx >> 7) - 1, sub = (idx & (HALF - 1)) + HALF;
    if (b < 0) {
        sub -= HALF;
        b = 0;
    }
    return (int64_t)sub << b;
}

static int64_t highest_equivalent(int64_t v) {
    int b = bucket_of(v);
    int sub = (int)(v >> b);
    int64_t lowest = (int64_t)sub << b;
    int adjusted = sub >= 2 * HALF ? b + 1 : b;
    return lowest + ((int64_t)1 << adjusted) - 1;
}

static uint64_t count_at(const hdrhist *h, int idx) {
    const uint64_t *c = h->chunk[idx / HALF];
    return c ? c[idx % HALF] : 0;
}

void hdrhist_record(hdrhist **hp, int64_t ns) {
    if (ns < MIN_VALUE) ns = MIN_VALUE;
    if (ns > MAX_VALUE) ns = MAX_VALUE;
    hdrhist *h = *hp;
    if (!h) h = *hp = s_calloc(sizeof(hdrhist));
    int idx = index_of(ns);
    uint64_t **c = &h->chunk[idx / HALF];
    if (!*c) *c = s_calloc(sizeof(uint64_t) * HALF);
    (*c)[idx % HALF]++;
    h->total++;
}

void hdrhist_free(hdrhist **hp) {
    hdrhist *h = *hp;
    if (!h) return;
    for (int i = 0; i < NCHUNKS; i++) s_free(h->chunk[i]);
    s_free(h);
    *hp = NULL;
}

long long hdrhist_total(const hdrhist *h) { return h ? h->total : 0; }

size_t hdrhist_bytes(const hdrhist *h) {
    if (!h) return 0;
    size_t n = sizeof(*h);
    for (int i = 0; i < NCHUNKS; i++)
        if (h->chunk[i]) n += sizeof(uint64_t) * HALF;
    return n;
}

int64_t hdrhist_value_at_percentile(const hdrhist *h, double p) {
    if (!h) return 0;
    double req = p < 100.0 ? p : 100.0;
    long long want = (long long)((req / 100) * (double)h->total + 0.5);
    if (want < 1) want = 1;
    long long seen = 0;
    for (int idx = 0; idx < COUNTS_LEN; idx++) {
        if (!h->chunk[idx / HALF]) { /* a whole chunk of zeros */
            idx += HALF - 1;
            continue;
        }
        seen += (long long)count_at(h, idx);
        if (seen >= want) {
            int64_t v = value_at_index(idx);
            return p == 0.0 ? v : highest_equivalent(v);
        }
    }
    return 0;
}

/* Redis walks hdr_iter_log(1024, 2): at each level L (1024 ns, doubled each step) it stops on the first slot
 * whose value reaches L, and reports that slot's highest equivalent value with the count of every slot up to
 * it; past the last slot it reports the last one. */
int hdrhist_cdf(const hdrhist *h, long long micros[32], long long counts[32]) {
    if (!h || !h->total) return 0;
    int n = 0, idx = -1;
    long long cum = 0, prev = 0;
    for (int64_t level = 1024; n < 32; level *= 2) {
        int target = index_of(level);
        if (target > COUNTS_LEN - 1) target = COUNTS_LEN - 1;
        while (idx < target) cum += (long long)count_at(h, ++idx);
        if (cum > prev) {
            micros[n] = (long long)(highest_equivalent(value_at_index(idx)) / 1000);
            counts[n] = cum;
            n++;
        }
        prev = cum;
        if (cum >= h->total || idx == COUNTS_LEN - 1) break;
    }
    return n;
}
