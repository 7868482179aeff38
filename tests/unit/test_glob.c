/* Unit tests for glob matching (util/glob.c), cases checked against Redis's KEYS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include "util/glob.h"

static int m(const char *p, const char *s) { return glob_match(p, strlen(p), s, strlen(s), 0); }

static void test_basics(void **state) {
    (void)state;
    assert_true(m("*", "anything"));
    assert_true(m("h?llo", "hello"));
    assert_false(m("h?llo", "hllo"));
    assert_true(m("h*llo", "heeeello"));
    assert_true(m("h[ae]llo", "hallo"));
    assert_false(m("h[ae]llo", "hillo"));
    assert_true(m("h[^e]llo", "hallo"));
    assert_false(m("h[^e]llo", "hello"));
    assert_true(m("h[a-b]llo", "hbllo"));
    assert_true(m("h[b-a]llo", "hallo")); /* reversed ranges work */
    assert_true(m("h[!e]llo", "h!llo"));  /* '!' is not negation */
    assert_true(m("h\\*llo", "h*llo"));
    assert_false(m("h\\*llo", "hello"));
    assert_true(m("a*b*c", "aXXbYYc"));
    assert_false(m("a*b*c", "aXXbYY"));
    assert_false(m("abc", "abcd"));
    assert_true(m("[abc", "a")); /* an unterminated class still matches its members */
    assert_false(m("*", ""));    /* as Redis's stringmatchlen; KEYS special-cases "*" */
}

static void test_nocase_and_binary(void **state) {
    (void)state;
    assert_true(glob_match("MAXMEM*", 7, "maxmemory", 9, 1));
    assert_false(glob_match("MAXMEM*", 7, "maxmemory", 9, 0));
    const char key[] = {'a', 0, 'b'};
    assert_true(glob_match("a?b", 3, key, 3, 0));
}

static void test_pathological_pattern_terminates(void **state) {
    (void)state;
    char pat[200], str[200];
    for (int i = 0; i < 199; i++) pat[i] = (i % 2) ? 'a' : '*';
    pat[198] = 'c'; /* no 'c' in the subject: every split must fail */
    pat[199] = 0;
    memset(str, 'a', 150);
    str[150] = 'b';
    str[151] = 0;
    assert_false(m(pat, str)); /* returns quickly instead of exploring every split */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basics),
        cmocka_unit_test(test_nocase_and_binary),
        cmocka_unit_test(test_pathological_pattern_terminates),
    };
    return cmocka_run_group_tests_name("glob", tests, NULL, NULL);
}
