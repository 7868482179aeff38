/* Unit tests for util/hdrhist.c.  Every expected number below was produced by Redis 7.0.15's own HDR
 * histogram (deps/hdr_histogram, hdr_init(1, 1000000000, 2)) walked as LATENCY HISTOGRAM walks it
 * (hdr_iter_log_init(1024, 2), micros = highest_equivalent_value / 1000, only levels whose count grew) and
 * read with hdr_value_at_percentile for 0, 50, 99, 99.9, 100 and 12.5. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include "util/hdrhist.h"

static const double PCTS[6] = {0, 50, 99, 99.9, 100, 12.5};

static void check(const long long *vals, int n, const long long *cdf, int ncdf, const long long pct[6]) {
    hdrhist *h = NULL;
    for (int i = 0; i < n; i++) hdrhist_record(&h, vals[i]);
    assert_int_equal(hdrhist_total(h), n);
    long long micros[32], counts[32];
    int got = hdrhist_cdf(h, micros, counts);
    assert_int_equal(got, ncdf);
    for (int i = 0; i < ncdf; i++) {
        assert_int_equal(micros[i], cdf[2 * i]);
        assert_int_equal(counts[i], cdf[2 * i + 1]);
    }
    for (int i = 0; i < 6; i++) assert_int_equal(hdrhist_value_at_percentile(h, PCTS[i]), pct[i]);
    hdrhist_free(&h);
    assert_null(h);
}

static void test_single_values(void **state) {
    (void)state;
    check((long long[]){1}, 1, (long long[]){1, 1}, 1, (long long[]){1, 1, 1, 1, 1, 1});
    check((long long[]){1031}, 1, (long long[]){1, 1}, 1, (long long[]){1024, 1031, 1031, 1031, 1031, 1031});
    check((long long[]){1032}, 1, (long long[]){2, 1}, 1, (long long[]){1032, 1039, 1039, 1039, 1039, 1039});
    check((long long[]){50000000}, 1, (long long[]){67633, 1}, 1,
          (long long[]){49807360, 50069503, 50069503, 50069503, 50069503, 50069503});
    /* clamped to 1 s */
    check((long long[]){2000000000}, 1, (long long[]){1073741, 1}, 1,
          (long long[]){998244352, 1002438655, 1002438655, 1002438655, 1002438655, 1002438655});
    check((long long[]){600000000}, 1, (long long[]){1073741, 1}, 1,
          (long long[]){599785472, 603979775, 603979775, 603979775, 603979775, 603979775});
    check((long long[]){52000}, 1, (long long[]){66, 1}, 1, (long long[]){51968, 52223, 52223, 52223, 52223, 52223});
}

static void test_distributions(void **state) {
    (void)state;
    long long v[1000];
    for (int i = 0; i < 100; i++) v[i] = (i + 1) * 1000LL;
    check(v, 100, (long long[]){1, 1, 2, 2, 4, 4, 8, 8, 16, 16, 33, 33, 66, 66, 132, 100}, 8,
          (long long[]){1000, 50175, 99327, 100351, 100351, 13055});
    for (int i = 0; i < 1000; i++) v[i] = (long long)(i * i) * 997 % 300000000 + 1;
    check(v, 1000,
          (long long[]){1, 2, 4, 3, 16, 5, 33, 6, 66, 9, 132, 12, 264, 17, 528, 26, 1056, 35, 2113, 52, 4227, 75,
                        8454, 111, 16908, 165, 33816, 254, 67633, 398, 135266, 613, 270532, 937, 541065, 1000},
          18, (long long[]){1, 95420415, 295698431, 299892735, 299892735, 10485759});
    long long edges[] = {0, 255, 256, 511, 512, 1023, 1024, 2047, 2048, 70000, 541065215, 541065216};
    check(edges, 12, (long long[]){1, 7, 2, 9, 132, 10, 541065, 11, 1073741, 12}, 5,
          (long long[]){1, 1023, 545259519, 545259519, 545259519, 255});
}

static void test_empty_and_memory(void **state) {
    (void)state;
    hdrhist *h = NULL;
    long long micros[32], counts[32];
    assert_int_equal(hdrhist_cdf(h, micros, counts), 0);
    assert_int_equal(hdrhist_total(h), 0);
    assert_int_equal(hdrhist_bytes(h), 0);
    for (int i = 0; i < 1000; i++) hdrhist_record(&h, 5000 + i); /* 5-6 us: one or two chunks, not 3072 counters */
    assert_true(hdrhist_bytes(h) < 3 * 1024 + 256);
    hdrhist_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_values),
        cmocka_unit_test(test_distributions),
        cmocka_unit_test(test_empty_and_memory),
    };
    return cmocka_run_group_tests_name("hdrhist", tests, NULL, NULL);
}
