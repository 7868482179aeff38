/* Unit tests for util/debug.h: DBG_ASSERT is active in the test build
 * (SARDINE_DEBUG): a false condition aborts with a message naming it, a true
 * one does nothing, and the condition is evaluated once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "util/debug.h"

static void test_true_is_silent(void **state) {
    (void)state;
    int n = 0;
    DBG_ASSERT(++n == 1);
#ifdef SARDINE_DEBUG
    assert_int_equal(n, 1); /* evaluated exactly once */
#else
    assert_int_equal(n, 0); /* not evaluated at all */
#endif
}

static void test_false_aborts_with_message(void **state) {
    (void)state;
#ifndef SARDINE_DEBUG
    skip();
#else
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        signal(SIGABRT, SIG_DFL);
        int broken = 1;
        DBG_ASSERT(broken == 0);
        _exit(0); /* not reached */
    }
    close(fds[1]);
    char buf[512] = {0};
    size_t got = 0;
    ssize_t n;
    while (got < sizeof(buf) - 1 && (n = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0) got += (size_t)n;
    close(fds[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    assert_non_null(strstr(buf, "DBG_ASSERT failed: broken == 0"));
    assert_non_null(strstr(buf, "test_debug.c"));
#endif
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_true_is_silent),
        cmocka_unit_test(test_false_aborts_with_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
