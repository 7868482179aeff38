/* Unit tests for util/sparkline.c: expected texts produced by Redis 7.0.15's sparklineRender (filled) for
 * the same sequences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include "util/mem.h"
#include "util/sparkline.h"

static void check(const double *v, const char *const *labels, int n, int columns, int rows,
                  const char *want) {
    size_t len;
    char *got = sparkline_render(v, labels, n, columns, rows, &len);
    assert_int_equal(len, strlen(want));
    assert_string_equal(got, want);
    s_free(got);
}

/* Two graphs (7 values, 5 columns) scaled together; an empty label is no label; the second graph's
 * labels are as long as its own longest. */
static void test_wrapped_with_labels(void **state) {
    (void)state;
    const double v[] = {4, 30, 12, 50, 20, 1, 25};
    const char *const l[] = {"9s", "8s", "", "6s", "5s", "4s", "12m"};
    check(v, l, 7, 5, 4,
          "   # \n"
          " o | \n"
          " | |o\n"
          "_|#||\n"
          "     \n"
          "98 65\n"
          "ss ss\n"
          "\n"
          "  \n"
          "  \n"
          " #\n"
          "_|\n"
          "  \n"
          "41\n"
          "s2\n"
          " m\n");
}

/* A flat sequence (its range of 0 is drawn as 1: every value on the lowest step), no labels: no margin. */
static void test_flat_without_labels(void **state) {
    (void)state;
    const double v[] = {3, 3, 3};
    check(v, NULL, 3, 80, 2, "   \n___\n");
}

static void test_empty(void **state) {
    (void)state;
    check(NULL, NULL, 0, 80, 4, "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrapped_with_labels),
        cmocka_unit_test(test_flat_without_labels),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
