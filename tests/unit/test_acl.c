/* Unit tests for the ACL rule parser and checks (features/acl.c): rules, their errors, descriptions that
 * read back as the same user, password hashes (SHA-256 of Redis), key/channel/command checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "features/acl.h"
#include "server/server.h"
#include "util/mem.h"

static char *setuser(const char *name, const char *const *rules) {
    arg v[32];
    int n = 0;
    for (; rules[n]; n++) {
        v[n].p = (char *)rules[n];
        v[n].len = strlen(rules[n]);
    }
    return acl_setuser(name, strlen(name), v, n, NULL);
}

#define SET_OK(name, ...)                                                                                     \
    do {                                                                                                      \
        const char *const r_[] = {__VA_ARGS__, NULL};                                                         \
        char *e_ = setuser(name, r_);                                                                         \
        if (e_) fail_msg("%s", e_);                                                                           \
    } while (0)

static void expect_error(const char *name, const char *rule, const char *msg) {
    const char *const r[] = {rule, NULL};
    char *e = setuser(name, r);
    assert_non_null(e);
    assert_string_equal(e, msg);
    s_free(e);
}

static acl_user *user(const char *name) { return acl_find(name, strlen(name)); }

static void expect_describe(const char *name, const char *want) {
    char *d = acl_describe_user(user(name));
    assert_string_equal(d, want);
    s_free(d);
}

static int check(const char *name, int argc, const char *const *words, int *pos) {
    arg v[16];
    for (int i = 0; i < argc; i++) {
        v[i].p = (char *)words[i];
        v[i].len = strlen(words[i]);
    }
    const cmd_def *d = NULL;
    if (argc >= 2) {
        char full[64];
        snprintf(full, sizeof(full), "%s|%s", words[0], words[1]);
        d = command_def_find(full, strlen(full));
    }
    if (!d) d = command_def_find(words[0], strlen(words[0]));
    assert_non_null(d);
    int p = 0;
    int r = acl_check(user(name), d, v, argc, &p);
    if (pos) *pos = p;
    return r;
}
#define CHECK(name, ...) check(name, (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *)), \
                               (const char *const[]){__VA_ARGS__}, NULL)

static void test_default_user(void **state) {
    (void)state;
    expect_describe("default", "on nopass ~* &* +@all");
    assert_true(user("default")->unrestricted);
    assert_int_equal(srv.default_user_open, 1);
    acl_set_default_password("foobared");
    assert_int_equal(srv.default_user_open, 0);
    assert_null(acl_check_credentials("default", 7, "nope", 4));
    assert_non_null(acl_check_credentials("default", 7, "foobared", 8));
    acl_set_default_password("");
    assert_int_equal(srv.default_user_open, 1);
    expect_describe("default", "on nopass ~* &* +@all");
}

static void test_password_hash_is_sha256_hex(void **state) {
    (void)state;
    SET_OK("p", "on", ">password");
    /* sha256("password") */
    expect_describe("p", "on #5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8 resetchannels -@all");
    assert_non_null(acl_check_credentials("p", 1, "password", 8));
    assert_null(acl_check_credentials("p", 1, "passwore", 8));
    assert_null(acl_check_credentials("p", 1, "", 0));
    SET_OK("p", "off");
    assert_null(acl_check_credentials("p", 1, "password", 8)); /* disabled */
    assert_null(acl_check_credentials("nobody", 6, "x", 1));
    assert_int_equal(acl_deluser("p", 1, NULL), 1);
    assert_int_equal(acl_deluser("p", 1, NULL), 0);
}

static void test_rule_errors(void **state) {
    (void)state;
    expect_error("e", "+nosuch", "Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL");
    expect_error("e", "bogus", "Error in ACL SETUSER modifier 'bogus': Syntax error");
    expect_error("e", "%Q~a", "Error in ACL SETUSER modifier '%Q~a': Syntax error");
    expect_error("e", "%RR~a", "Error in ACL SETUSER modifier '%RR~a': Syntax error");
    expect_error("e", "+select|", "Error in ACL SETUSER modifier '+select|': Syntax error");
    expect_error("e", "+config|get|a",
                 "Error in ACL SETUSER modifier '+config|get|a': Allowing first-arg of a subcommand is not supported");
    expect_error("e", "#0123", "Error in ACL SETUSER modifier '#0123': The password hash must be exactly 64 "
                                "characters and contain only lowercase hexadecimal characters");
    expect_error("e", "(on)", "Error in ACL SETUSER modifier '(on)': Syntax error");
    assert_null(user("e")); /* nothing created by a failed change */
    const char *const r[] = {"(+get", "~a", NULL};
    char *err = setuser("e", r);
    assert_string_equal(err, "Unmatched parenthesis in acl selector starting at '(+get'.");
    s_free(err);
}

static void test_descriptions_read_back(void **state) {
    (void)state;
    SET_OK("d", "on", "~a*", "%R~r*", "%W~w*", "&c", "-@all", "+@string", "-append", "+select|0", "(+hset ~h*)");
    expect_describe("d", "on ~a* %R~r* %W~w* resetchannels &c -@all +@string -append +select|0 "
                         "(~h* resetchannels -@all +hset)");
    /* the description applied to a fresh user gives the same user */
    char *d = acl_describe_user(user("d"));
    arg v[64];
    int n = 0;
    v[n].p = "reset";
    v[n++].len = 5;
    for (char *tok = strtok(d, " "); tok; tok = strtok(NULL, " ")) {
        v[n].p = tok;
        v[n++].len = strlen(tok);
    }
    char *e = acl_setuser("d2", 2, v, n, NULL);
    assert_null(e);
    s_free(d);
    d = acl_describe_user(user("d"));
    char *d2 = acl_describe_user(user("d2"));
    /* d2 has the sanitize-payload flag of reset */
    assert_string_equal(d2 + strlen("on sanitize-payload"), d + strlen("on"));
    s_free(d);
    s_free(d2);
    SET_OK("d", "reset");
    expect_describe("d", "off sanitize-payload resetchannels -@all");
    SET_OK("d", "+@all", "-@dangerous", "+flushall");
    d = acl_describe_commands(&user("d")->sels[0]);
    assert_string_equal(strtok(d, " "), "+@all");
    assert_string_equal(strtok(NULL, " "), "-@admin"); /* the best fit, as redis-server describes it */
    s_free(d);
}

static void test_checks(void **state) {
    (void)state;
    SET_OK("k", "on", "nopass", "+@all", "resetkeys", "~rw*", "%R~r:*", "%W~w:*", "resetchannels", "&news.*");
    assert_int_equal(CHECK("k", "get", "rw1"), ACL_OK);
    assert_int_equal(CHECK("k", "get", "r:1"), ACL_OK);
    assert_int_equal(CHECK("k", "set", "r:1", "v"), ACL_DENIED_KEY);
    assert_int_equal(CHECK("k", "set", "w:1", "v"), ACL_OK);
    assert_int_equal(CHECK("k", "get", "w:1"), ACL_DENIED_KEY);
    assert_int_equal(CHECK("k", "get", "other"), ACL_DENIED_KEY);
    int pos = 0;
    const char *const mset[] = {"mset", "rw1", "a", "zz", "b"};
    assert_int_equal(check("k", 5, mset, &pos), ACL_DENIED_KEY);
    assert_int_equal(pos, 3);
    assert_int_equal(CHECK("k", "publish", "news.1", "m"), ACL_OK);
    assert_int_equal(CHECK("k", "publish", "sport", "m"), ACL_DENIED_CHANNEL);
    assert_int_equal(CHECK("k", "psubscribe", "news.*"), ACL_OK);
    assert_int_equal(CHECK("k", "psubscribe", "news.x"), ACL_DENIED_CHANNEL); /* literally */
    SET_OK("k", "-get", "-config|set", "+select|0");
    assert_int_equal(CHECK("k", "get", "rw1"), ACL_DENIED_CMD);
    assert_int_equal(CHECK("k", "config", "get", "x"), ACL_OK);
    assert_int_equal(CHECK("k", "config", "set", "x", "y"), ACL_DENIED_CMD);
    assert_int_equal(CHECK("k", "auth", "a", "b"), ACL_OK); /* no-auth commands always run */
    SET_OK("k", "-select");
    assert_int_equal(CHECK("k", "select", "1"), ACL_DENIED_CMD);
    SET_OK("k", "+select|0");
    assert_int_equal(CHECK("k", "select", "0"), ACL_OK);
    assert_int_equal(CHECK("k", "select", "1"), ACL_DENIED_CMD);
    assert_false(user("k")->unrestricted);
    /* selectors: any one allowing the whole command is enough */
    SET_OK("s", "on", "+get", "~a*", "(+set ~b*)");
    assert_int_equal(CHECK("s", "set", "b1", "v"), ACL_OK);
    assert_int_equal(CHECK("s", "set", "a1", "v"), ACL_DENIED_KEY);
    assert_int_equal(CHECK("s", "del", "a1"), ACL_DENIED_CMD);
    SET_OK("s", "clearselectors");
    assert_int_equal(CHECK("s", "set", "b1", "v"), ACL_DENIED_CMD);
    SET_OK("s", "allkeys", "allchannels", "allcommands");
    assert_true(user("s")->unrestricted);
}

static void test_file_text(void **state) {
    (void)state;
    const char *ok = "user a on >x ~* +@all\n\n  user b off  \r\n";
    assert_null(acl_parse_text(ok, strlen(ok), "f.acl"));
    const char *bad = "user a on +nosuch\nfoo\nuser b on bogus\nuser a\n";
    char *err = acl_parse_text(bad, strlen(bad), "f.acl");
    assert_non_null(err);
    assert_string_equal(err, "f.acl:1: Error in applying operation '+nosuch': Unknown command or category name in "
                             "ACL. f.acl:2 should start with user keyword followed by the username. f.acl:3: "
                             "Syntax error. WARNING: Duplicate user 'a' found on line 4. WARNING: ACL errors "
                             "detected, no change to the previously active ACL rules was performed");
    s_free(err);
    const char *paren = "user a on (+get ~x\n";
    err = acl_parse_text(paren, strlen(paren), "f.acl");
    assert_non_null(strstr(err, "f.acl:1: Unmatched parenthesis in selector definition."));
    s_free(err);
}

int main(void) {
    acl_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_user),   cmocka_unit_test(test_password_hash_is_sha256_hex),
        cmocka_unit_test(test_rule_errors),    cmocka_unit_test(test_descriptions_read_back),
        cmocka_unit_test(test_checks),         cmocka_unit_test(test_file_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
