/* Unit tests for the command form of a dataset (persist/cmd_form.c): the
 * exact RESP of strings (inline and integer), TTLs as PEXPIREAT after the
 * value, lists batched by 64 (64 and 65 elements, compressed quicklist nodes
 * read as they are), sets, sorted-set scores as "%.17g" with inf/-inf,
 * hashes as HMSET pairs, SELECT, FUNCTION LOAD and #TS, and flushing in
 * pieces (a small flush_at hands out exactly the bytes one buffer holds).
 * The integration tests compare whole bases with redis-server's own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "keyspace/entry.h"
#include "mem/arena.h"
#include "persist/cmd_form.h"
#include "persist/rdb_save.h"
#include "server/server.h"
#include "types/quicklist.h"
#include "types/thash.h"
#include "types/tset.h"
#include "types/tzset.h"
#include "util/mem.h"

static int setup(void **state) {
    (void)state;
    return arena_init((size_t)1 << 32);
}

/* The buffer holds exactly `want` (then emptied). */
static void expect(rdbw *w, const char *want) {
    size_t n = strlen(want);
    if (w->len != n || memcmp(w->buf, want, n) != 0) fail_msg("got %.*s\nwant %s", (int)w->len, w->buf, want);
    w->len = 0;
}

static handle_t ptr_entry(const char *key, int type, void *ptr, long long ttl) {
    return entry_build(key, strlen(key), ttl, 0, &(entry_value){.type = type, .store = VAL_PTR, .ptr = ptr});
}

static void test_strings_and_ttl(void **state) {
    (void)state;
    rdbw w;
    rdbw_init(&w, 0, 0, NULL, NULL);
    entry_value sv = {.type = OBJ_STRING, .store = VAL_INLINE, .sval = "a\r\nb", .slen = 4};
    handle_t h = entry_build("k", 1, -1, 0, &sv);
    cmdf_key(&w, arena_ptr(h));
    expect(&w, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n");
    entry_free(h);
    entry_value iv = {.type = OBJ_STRING, .store = VAL_INT, .ival = -9223372036854775807LL - 1};
    h = entry_build("n", 1, 1700000000123LL, 0, &iv);
    cmdf_key(&w, arena_ptr(h));
    expect(&w, "*3\r\n$3\r\nSET\r\n$1\r\nn\r\n$20\r\n-9223372036854775808\r\n"
               "*3\r\n$9\r\nPEXPIREAT\r\n$1\r\nn\r\n$13\r\n1700000000123\r\n");
    entry_free(h);
    cmdf_select(&w, 12);
    expect(&w, "*2\r\n$6\r\nSELECT\r\n$2\r\n12\r\n");
    cmdf_function(&w, "#!lua name=l\nx", 14);
    expect(&w, "*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n$14\r\n#!lua name=l\nx\r\n");
    cmdf_timestamp(&w, 1700000000);
    expect(&w, "#TS:1700000000\r\n");
    rdbw_free(&w);
}

/* RPUSH of n elements "element-0".."element-<n-1>" as Redis batches them: the expected text. */
static char *rpush_text(const char *key, int n) {
    size_t cap = 64 + (size_t)n * 32, len = 0;
    char *t = s_malloc(cap);
    for (int i = 0; i < n; i++) {
        if (i % CMDF_ITEMS_PER_CMD == 0) {
            int items = n - i < CMDF_ITEMS_PER_CMD ? n - i : CMDF_ITEMS_PER_CMD;
            len += (size_t)sprintf(t + len, "*%d\r\n$5\r\nRPUSH\r\n$%zu\r\n%s\r\n", 2 + items, strlen(key), key);
        }
        char el[32];
        int l = sprintf(el, "element-%d", i);
        len += (size_t)sprintf(t + len, "$%d\r\n%s\r\n", l, el);
    }
    return t;
}

static void test_lists_batched(void **state) {
    (void)state;
    rdbw w;
    rdbw_init(&w, 0, 0, NULL, NULL);
    int sizes[] = {1, 64, 65, 129, 5000};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        quicklist *ql = ql_new(-1, 1); /* 4 KiB nodes, all but the end ones compressed */
        char buf[32];
        for (int i = 0; i < sizes[s]; i++) {
            int l = sprintf(buf, "element-%d", i);
            ql_push(ql, buf, (size_t)l, QL_TAIL);
        }
        if (sizes[s] == 5000) assert_true(ql_compressed_nodes(ql) > 0);
        handle_t h = ptr_entry("list", OBJ_LIST, ql, -1);
        cmdf_key(&w, arena_ptr(h));
        char *want = rpush_text("list", sizes[s]);
        expect(&w, want);
        s_free(want);
        if (sizes[s] == 5000) assert_true(ql_compressed_nodes(ql) > 0); /* left as it was */
        ql_free(ql);
        entry_free(h);
    }
    rdbw_free(&w);
}

static void test_sets_zsets_hashes(void **state) {
    (void)state;
    rdbw w;
    rdbw_init(&w, 0, 0, NULL, NULL);
    void *set = set_create_for("3", 1);
    set_add(&set, "3", 1);
    set_add(&set, "-1", 2);
    handle_t h = ptr_entry("s", OBJ_SET, set, -1);
    cmdf_key(&w, arena_ptr(h));
    expect(&w, "*4\r\n$4\r\nSADD\r\n$1\r\ns\r\n$2\r\n-1\r\n$1\r\n3\r\n"); /* intset: ascending */
    set_free(set);
    entry_free(h);

    zset *z = zs_new(4, 4);
    int out;
    double ns;
    zs_add(&z, 1.0 / 3, "t", 1, 0, &out, &ns);
    zs_add(&z, -__builtin_inf(), "lo", 2, 0, &out, &ns);
    zs_add(&z, __builtin_inf(), "hi", 2, 0, &out, &ns);
    zs_add(&z, 2.5, "x", 1, 0, &out, &ns);
    h = ptr_entry("z", OBJ_ZSET, z, -1);
    cmdf_key(&w, arena_ptr(h));
    expect(&w, "*10\r\n$4\r\nZADD\r\n$1\r\nz\r\n$4\r\n-inf\r\n$2\r\nlo\r\n$19\r\n0.33333333333333331\r\n$1\r\nt\r\n"
               "$3\r\n2.5\r\n$1\r\nx\r\n$3\r\ninf\r\n$2\r\nhi\r\n");
    zs_free(z);
    entry_free(h);

    void *hash = hash_new();
    hash_set(&hash, "f", 1, "v", 1);
    hash_set(&hash, "n", 1, "12", 2);
    h = ptr_entry("h", OBJ_HASH, hash, 4102444800000LL);
    cmdf_key(&w, arena_ptr(h));
    expect(&w, "*6\r\n$5\r\nHMSET\r\n$1\r\nh\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\nn\r\n$2\r\n12\r\n"
               "*3\r\n$9\r\nPEXPIREAT\r\n$1\r\nh\r\n$13\r\n4102444800000\r\n");
    hash_free(hash);
    entry_free(h);
    rdbw_free(&w);
}

/* Flushing in pieces hands out exactly the bytes one buffer would hold, also inside a big value. */
typedef struct sink {
    unsigned char *p;
    size_t n;
    int calls;
} sink;
static void to_sink(void *ud, const unsigned char *p, size_t n) {
    sink *s = ud;
    s->p = s_realloc(s->p, s->n + n);
    memcpy(s->p + s->n, p, n);
    s->n += n;
    s->calls++;
}

static void test_flush_pieces(void **state) {
    (void)state;
    void *hash = hash_new();
    char f[32], v[32];
    for (int i = 0; i < 3000; i++) { /* a hashtable hash: 47 commands of 64 pairs, the last of 56 */
        int fl = sprintf(f, "field:%d", i), vl = sprintf(v, "value:%d", i);
        hash_set(&hash, f, (size_t)fl, v, (size_t)vl);
    }
    handle_t h = ptr_entry("big", OBJ_HASH, hash, -1);
    rdbw one, pieces;
    sink k = {0};
    rdbw_init(&one, 0, 0, NULL, NULL);
    rdbw_init(&pieces, 0, 100, to_sink, &k);
    cmdf_key(&one, arena_ptr(h));
    cmdf_key(&pieces, arena_ptr(h));
    assert_true(pieces.len < 100);
    assert_true(k.calls > 100);
    rdbw_flush(&pieces);
    assert_int_equal(k.n, one.len);
    assert_memory_equal(k.p, one.buf, one.len);
    int cmds = 0, pairs = 0;
    for (size_t i = 0; i + 10 < one.len; i++)
        if (!memcmp(one.buf + i, "$5\r\nHMSET\r\n", 11)) cmds++;
    for (size_t i = 0; i + 8 < one.len; i++)
        if (!memcmp(one.buf + i, "\r\nfield:", 8)) pairs++;
    assert_int_equal(cmds, 47);
    assert_int_equal(pairs, 3000);
    assert_memory_equal(one.buf, "*130\r\n$5\r\nHMSET\r\n", 17);
    s_free(k.p);
    rdbw_free(&one);
    rdbw_free(&pieces);
    hash_free(hash);
    entry_free(h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings_and_ttl),
        cmocka_unit_test(test_lists_batched),
        cmocka_unit_test(test_sets_zsets_hashes),
        cmocka_unit_test(test_flush_pieces),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
