/* Unit tests for the duration clock (util/durclock.c): a sleep of known length measures at least that
 * long (and not absurdly more), before and after calibration; a reading earlier than the start gives 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <time.h>
#include "util/durclock.h"

static long long measure_sleep_ms(int ms) {
    struct timespec ts = {0, ms * 1000000L};
    uint64_t a = durclock_now();
    nanosleep(&ts, NULL);
    return durclock_us(a, durclock_now());
}

static void test_a_sleep_measures_its_length(void **state) {
    (void)state;
    long long before = measure_sleep_ms(20); /* CLOCK_MONOTONIC until calibrated */
    assert_true(before >= 19000 && before < 5000000);
    durclock_init();
    long long after = measure_sleep_ms(20);
    assert_true(after >= 19000 && after < 5000000);
}

static void test_never_negative(void **state) {
    (void)state;
    uint64_t a = durclock_now(), b = durclock_now();
    assert_int_equal(durclock_us(b + 1000000, a), 0);
    assert_true(durclock_us(a, b) >= 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_sleep_measures_its_length),
        cmocka_unit_test(test_never_negative),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
