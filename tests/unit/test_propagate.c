/* Unit tests for the effects layer (keyspace/effects.c) and propagation (commands/propagate.c):
 * listeners see every announcement in order; ops of one outermost call reach the sinks together, several
 * wrapped in MULTI/EXEC; a rewrite counts only if the command wrote; expiry and eviction become DEL; ops
 * reach only the sinks of their targets (redis.set_repl), MULTI/EXEC all of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "commands/propagate.h"
#include "keyspace/effects.h"
#include "server/server.h"

/* ---- a sink that records the stream as one line per command ---- */

#define GOT_SIZE 4096
static char got[GOT_SIZE];     /* the replica sink's stream */
static char got_aof[GOT_SIZE]; /* the AOF sink's */

static void sink(void *ud, int dbid, int argc, const arg *argv) {
    char *got = ud;
    size_t n = strlen(got);
    n += (size_t)snprintf(got + n, GOT_SIZE - n, "%d:", dbid);
    for (int i = 0; i < argc; i++) n += (size_t)snprintf(got + n, GOT_SIZE - n, " %.*s", (int)argv[i].len, argv[i].p);
    snprintf(got + n, GOT_SIZE - n, "\n");
}

static db dbs[2];
static client cl;

static arg A(const char *s) { return (arg){(char *)s, strlen(s)}; }

static void set_argv(client *c, arg *v, int n) {
    c->argv = v;
    c->argc = n;
}

static int setup(void **state) {
    (void)state;
    static int once;
    if (!once) {
        prop_init();
        prop_add_sink(sink, got, PROP_REPL);
        prop_add_sink(sink, got_aof, PROP_AOF);
        dbs[0].id = 0;
        dbs[1].id = 1;
        once = 1;
    }
    got[0] = got_aof[0] = 0;
    memset(&cl, 0, sizeof(cl));
    cl.db = &dbs[0];
    return 0;
}

static void test_one_write_goes_alone(void **state) {
    (void)state;
    arg v[3] = {A("SET"), A("k"), A("v")};
    set_argv(&cl, v, 3);
    prop_call_begin();
    prop_call_end(&cl, 1);
    assert_string_equal(got, "0: SET k v\n");
}

static void test_a_read_propagates_nothing(void **state) {
    (void)state;
    arg v[2] = {A("GET"), A("k")};
    set_argv(&cl, v, 2);
    prop_call_begin();
    prop_call_end(&cl, 0);
    assert_string_equal(got, "");
}

static void test_rewrite_counts_only_when_written(void **state) {
    (void)state;
    arg v[3] = {A("BLMOVE"), A("a"), A("b")};
    arg r[3] = {A("LMOVE"), A("a"), A("b")};
    set_argv(&cl, v, 3);
    prop_call_begin();
    prop_rewrite(&cl, 3, r);
    prop_call_end(&cl, 0); /* it failed after all: nothing */
    assert_string_equal(got, "");
    prop_call_begin();
    prop_rewrite(&cl, 3, r);
    prop_call_end(&cl, 1);
    assert_string_equal(got, "0: LMOVE a b\n");
}

static void test_nested_calls_are_wrapped_and_ordered(void **state) {
    (void)state;
    arg exec[1] = {A("EXEC")};
    arg s1[3] = {A("SET"), A("a"), A("1")}, s2[2] = {A("INCR"), A("a")};
    set_argv(&cl, exec, 1);
    prop_call_begin(); /* EXEC */
    prop_prevent(&cl);
    set_argv(&cl, s1, 3);
    prop_call_begin();
    prop_call_end(&cl, 1);
    set_argv(&cl, s2, 2);
    cl.db = &dbs[1];
    prop_call_begin();
    prop_call_end(&cl, 1);
    assert_string_equal(got, ""); /* nothing leaves before the outermost call returns */
    set_argv(&cl, exec, 1);
    prop_call_end(&cl, 1);
    assert_string_equal(got, "-1: MULTI\n0: SET a 1\n1: INCR a\n-1: EXEC\n");
}

static void test_targets_choose_the_sinks(void **state) {
    (void)state;
    arg eval[1] = {A("EVAL")}, sa[3] = {A("SET"), A("a"), A("1")}, sb[3] = {A("SET"), A("b"), A("2")},
        sc[3] = {A("SET"), A("c"), A("3")}, sd[3] = {A("SET"), A("d"), A("4")};
    set_argv(&cl, eval, 1);
    prop_call_begin(); /* a script */
    prop_prevent(&cl);
    arg *each[4] = {sa, sb, sc, sd};
    int targets[4] = {PROP_AOF, PROP_NONE, PROP_REPL, PROP_ALL};
    for (int i = 0; i < 4; i++) {
        int old = prop_set_targets(targets[i]);
        set_argv(&cl, each[i], 3);
        prop_call_begin();
        prop_call_end(&cl, 1);
        assert_int_equal(prop_set_targets(old), targets[i]);
    }
    set_argv(&cl, eval, 1);
    prop_call_end(&cl, 1);
    assert_string_equal(got, "-1: MULTI\n0: SET c 3\n0: SET d 4\n-1: EXEC\n");
    assert_string_equal(got_aof, "-1: MULTI\n0: SET a 1\n0: SET d 4\n-1: EXEC\n");
    /* an op for no target is not recorded: one left, so no MULTI */
    got[0] = got_aof[0] = 0;
    set_argv(&cl, eval, 1);
    prop_call_begin();
    prop_prevent(&cl);
    int old = prop_set_targets(PROP_NONE);
    set_argv(&cl, sa, 3);
    prop_call_begin();
    prop_call_end(&cl, 1);
    prop_set_targets(old);
    set_argv(&cl, sb, 3);
    prop_call_begin();
    prop_call_end(&cl, 1);
    set_argv(&cl, eval, 1);
    prop_call_end(&cl, 1);
    assert_string_equal(got, "0: SET b 2\n");
    assert_string_equal(got_aof, "0: SET b 2\n");
}

static void test_expiry_inside_a_call_precedes_it(void **state) {
    (void)state;
    srv.lazyfree_lazy_expire = 0;
    srv.lazyfree_lazy_eviction = 1;
    arg v[3] = {A("APPEND"), A("k"), A("x")};
    set_argv(&cl, v, 3);
    prop_call_begin();
    fx_key(&dbs[0], "k", 1, FX_EXPIRED, "expired");
    prop_call_end(&cl, 1);
    assert_string_equal(got, "-1: MULTI\n0: DEL k\n0: APPEND k x\n-1: EXEC\n");
    got[0] = 0;
    fx_key(&dbs[1], "e", 1, FX_EVICTED, "evicted"); /* outside any call: at once */
    assert_string_equal(got, "1: UNLINK e\n");
}

static void test_also_ops_come_before_the_command_itself(void **state) {
    (void)state;
    arg v[3] = {A("SPOP"), A("s"), A("2")};
    arg srem[4] = {A("SREM"), A("s"), A("a"), A("b")};
    set_argv(&cl, v, 3);
    prop_call_begin();
    prop_prevent(&cl);
    prop_also(0, 4, srem);
    prop_call_end(&cl, 1);
    assert_string_equal(got, "0: SREM s a b\n");
}

static int seen_changes;
static const char *seen_event;
static void on_change(void *ud, db *d, const char *key, size_t klen, int cls, const char *event) {
    (void)ud, (void)d, (void)key, (void)klen, (void)cls;
    seen_changes++;
    seen_event = event;
}
static const fx_listener counter = {.key_changed = on_change};

static void test_effects_reach_listeners_and_count_writes(void **state) {
    (void)state;
    fx_listen(&counter);
    long long dirty = srv.dirty;
    fx_key(&dbs[0], "k", 1, FX_LIST, "lpush");
    assert_int_equal(seen_changes, 1);
    assert_string_equal(seen_event, "lpush");
    assert_int_equal(srv.dirty, dirty + 1);
    fx_key(&dbs[0], "k", 1, FX_EXPIRED, "expired"); /* not the command's write */
    assert_int_equal(seen_changes, 2);
    assert_int_equal(srv.dirty, dirty + 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_one_write_goes_alone, setup),
        cmocka_unit_test_setup(test_a_read_propagates_nothing, setup),
        cmocka_unit_test_setup(test_rewrite_counts_only_when_written, setup),
        cmocka_unit_test_setup(test_nested_calls_are_wrapped_and_ordered, setup),
        cmocka_unit_test_setup(test_targets_choose_the_sinks, setup),
        cmocka_unit_test_setup(test_expiry_inside_a_call_precedes_it, setup),
        cmocka_unit_test_setup(test_also_ops_come_before_the_command_itself, setup),
        cmocka_unit_test_setup(test_effects_reach_listeners_and_count_writes, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
