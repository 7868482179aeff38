/* Unit tests for the RESP request parser (protocol/request.c): complete and
 * split commands, inline commands and quoting, and every malformed input we
 * could think of, each with Redis's exact error text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "net/client.h"
#include "protocol/request.h"
#include "server/server.h"
#include "util/mem.h"

static client *mk(int authed) {
    client *c = calloc(1, sizeof(client));
    c->bulklen = -1;
    if (authed) c->flags |= CLIENT_AUTHENTICATED;
    srv.proto_max_bulk_len = 512LL * 1024 * 1024;
    return c;
}

static void feed(client *c, const char *p, size_t n) {
    if (c->qlen + n > c->qcap) {
        c->qcap = (c->qlen + n) * 2;
        c->qbuf = s_realloc(c->qbuf, c->qcap);
    }
    memcpy(c->qbuf + c->qlen, p, n);
    c->qlen += n;
}

static void done(client *c) {
    s_free(c->qbuf);
    s_free(c->argv);
    s_free(c->argoff);
    free(c);
}

static int parse_all(client *c, const char *input, const char **err) {
    feed(c, input, strlen(input));
    return parse_request(c, err);
}

static void test_multibulk_whole_and_bytewise(void **state) {
    (void)state;
    static const char in[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv\r\n\0x\r\n";
    size_t n = sizeof(in) - 1;
    client *c = mk(1);
    const char *err = NULL;
    for (size_t i = 0; i < n - 1; i++) {
        feed(c, in + i, 1);
        assert_int_equal(parse_request(c, &err), PARSE_MORE);
    }
    feed(c, in + n - 1, 1);
    assert_int_equal(parse_request(c, &err), PARSE_OK);
    assert_int_equal(c->argc, 3);
    assert_int_equal(c->argv[2].len, 5);
    assert_memory_equal(c->argv[2].p, "v\r\n\0x", 5);
    parse_done(c);
    assert_int_equal(c->qstart, n);
    done(c);
}

static void test_pipeline(void **state) {
    (void)state;
    client *c = mk(1);
    const char *err;
    feed(c, "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING\r\n", 43);
    assert_int_equal(parse_request(c, &err), PARSE_OK);
    assert_int_equal(c->argc, 1);
    parse_done(c);
    assert_int_equal(parse_request(c, &err), PARSE_OK);
    assert_int_equal(c->argc, 2);
    parse_done(c);
    assert_int_equal(parse_request(c, &err), PARSE_OK); /* inline */
    assert_int_equal(c->argc, 1);
    assert_memory_equal(c->argv[0].p, "PING", 4);
    parse_done(c);
    assert_int_equal(parse_request(c, &err), PARSE_MORE);
    done(c);
}

static void test_inline_quoting(void **state) {
    (void)state;
    client *c = mk(1);
    const char *err;
    assert_int_equal(parse_all(c, "set \"a b\" 'c d' \"\\x41\\n\"\n", &err), PARSE_OK);
    assert_int_equal(c->argc, 4);
    assert_int_equal(c->argv[1].len, 3);
    assert_memory_equal(c->argv[1].p, "a b", 3);
    assert_memory_equal(c->argv[2].p, "c d", 3);
    assert_int_equal(c->argv[3].len, 2);
    assert_memory_equal(c->argv[3].p, "A\n", 2);
    done(c);
    c = mk(1);
    assert_int_equal(parse_all(c, "set \"a b\n", &err), PARSE_ERROR);
    assert_string_equal(err, "Protocol error: unbalanced quotes in request");
    done(c);
    c = mk(1);
    assert_int_equal(parse_all(c, "   \r\n", &err), PARSE_EMPTY);
    done(c);
}

typedef struct bad_case {
    const char *input;
    int authed;
    const char *error;
} bad_case;

static void test_malformed(void **state) {
    (void)state;
    static const bad_case cases[] = {
        {"*abc\r\n", 1, "Protocol error: invalid multibulk length"},
        {"*3000000000\r\n", 1, "Protocol error: invalid multibulk length"},
        {"*1\r\nx\r\n", 1, "Protocol error: expected '$', got 'x'"},
        {"*1\r\n$-5\r\n", 1, "Protocol error: invalid bulk length"},
        {"*1\r\n$abc\r\n", 1, "Protocol error: invalid bulk length"},
        {"*1\r\n$600000000\r\n", 1, "Protocol error: invalid bulk length"},
        {"*11\r\n", 0, "Protocol error: unauthenticated multibulk length"},
        {"*1\r\n$20000\r\n", 0, "Protocol error: unauthenticated bulk length"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        client *c = mk(cases[i].authed);
        const char *err = NULL;
        assert_int_equal(parse_all(c, cases[i].input, &err), PARSE_ERROR);
        assert_string_equal(err, cases[i].error);
        done(c);
    }
}

static void test_overlong_lines(void **state) {
    (void)state;
    size_t n = 70000;
    char *big = malloc(n + 1);
    const char *err;
    memset(big, 'a', n);
    big[n] = 0;
    client *c = mk(1);
    assert_int_equal(parse_all(c, big, &err), PARSE_ERROR);
    assert_string_equal(err, "Protocol error: too big inline request");
    done(c);
    big[0] = '*';
    memset(big + 1, '1', n - 1);
    c = mk(1);
    assert_int_equal(parse_all(c, big, &err), PARSE_ERROR);
    assert_string_equal(err, "Protocol error: too big mbulk count string");
    done(c);
    c = mk(1);
    feed(c, "*1\r\n", 4);
    big[0] = '$';
    assert_int_equal(parse_all(c, big, &err), PARSE_ERROR);
    assert_string_equal(err, "Protocol error: too big bulk count string");
    done(c);
    free(big);
}

static void test_empty_multibulk(void **state) {
    (void)state;
    const char *err;
    client *c = mk(1);
    assert_int_equal(parse_all(c, "*0\r\n", &err), PARSE_EMPTY);
    done(c);
    c = mk(1);
    assert_int_equal(parse_all(c, "*-1\r\n", &err), PARSE_EMPTY);
    done(c);
}

/* Redis ignores every count <= 0; -2 once collided with the parser's own "unparsable" marker. */
static void test_negative_multibulk_counts(void **state) {
    (void)state;
    static const char *counts[] = {"*-2\r\n", "*-3\r\n", "*-100\r\n", "*-9223372036854775808\r\n"};
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        const char *err = NULL;
        client *c = mk(0);
        assert_int_equal(parse_all(c, counts[i], &err), PARSE_EMPTY);
        done(c);
    }
    const char *err = NULL;
    client *c = mk(1);
    assert_int_equal(parse_all(c, "*-9223372036854775809\r\n", &err), PARSE_ERROR);
    assert_string_equal(err, "Protocol error: invalid multibulk length");
    done(c);
}

/* A parsed command (inline or multibulk) can be pointed at again after qbuf moved, without parsing
 * it a second time (how a command held by CLIENT PAUSE survives). */
static void test_restore_argv_after_move(void **state) {
    (void)state;
    static const char *reqs[] = {"SET k \"a b\\x41\"\r\n", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na bA\r\n"};
    for (int i = 0; i < 2; i++) {
        const char *err = NULL;
        client *c = mk(1);
        assert_int_equal(parse_all(c, reqs[i], &err), PARSE_OK);
        c->qcap *= 4;
        c->qbuf = s_realloc(c->qbuf, c->qcap);
        memset(c->qbuf + c->qlen, '#', c->qcap - c->qlen);
        c->argv[0].p = c->argv[1].p = c->argv[2].p = NULL;
        parse_restore_argv(c);
        assert_int_equal(c->argc, 3);
        assert_memory_equal(c->argv[0].p, "SET", 3);
        assert_memory_equal(c->argv[1].p, "k", 1);
        assert_int_equal(c->argv[2].len, 4);
        assert_memory_equal(c->argv[2].p, "a bA", 4);
        done(c);
    }
}

/* Redis finds line ends with strchr: a NUL before them hides them. */
static void test_nul_hides_line_end(void **state) {
    (void)state;
    const char *err = NULL;
    client *c = mk(1);
    feed(c, "ECHO a\0b\r\n", 10);
    assert_int_equal(parse_request(c, &err), PARSE_MORE);
    done(c);
    c = mk(1);
    feed(c, "*1\0\r\n", 6);
    assert_int_equal(parse_request(c, &err), PARSE_MORE);
    done(c);
}

/* A declared bulk reserves nothing: the reader grows qbuf as bytes arrive. */
static void test_declared_bulk_reserves_nothing(void **state) {
    (void)state;
    const char *err = NULL;
    client *c = mk(1);
    assert_int_equal(parse_all(c, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n", &err), PARSE_MORE);
    assert_true(c->qcap < 1024);
    assert_int_equal(c->bulklen, 536870912);
    done(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multibulk_whole_and_bytewise),
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_inline_quoting),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_overlong_lines),
        cmocka_unit_test(test_empty_multibulk),
        cmocka_unit_test(test_negative_multibulk_counts),
        cmocka_unit_test(test_restore_argv_after_move),
        cmocka_unit_test(test_nul_hides_line_end),
        cmocka_unit_test(test_declared_bulk_reserves_nothing),
    };
    return cmocka_run_group_tests_name("request", tests, NULL, NULL);
}
