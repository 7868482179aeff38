/* Unit tests for the quicklist (types/quicklist.c): random pushes, pops,
 * indexed reads and writes, range deletes, deletes and inserts through
 * iterators, checked against a plain array model after every step, for every
 * kind of fill (sizes -1..-5, counts 1, 2, 5, 128), with and without
 * compression of interior nodes, and with elements from 0 bytes to beyond a
 * node's size limit; node limits, merging, compression and dup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "types/quicklist.h"
#include "util/mem.h"
#include "util/numconv.h"

typedef struct model {
    char **v;
    size_t *len;
    size_t n, cap;
} model;

static void m_insert(model *m, size_t at, const char *s, size_t len) {
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->v = realloc(m->v, m->cap * sizeof(char *));
        m->len = realloc(m->len, m->cap * sizeof(size_t));
    }
    memmove(m->v + at + 1, m->v + at, (m->n - at) * sizeof(char *));
    memmove(m->len + at + 1, m->len + at, (m->n - at) * sizeof(size_t));
    m->v[at] = malloc(len + 1);
    memcpy(m->v[at], s, len);
    m->len[at] = len;
    m->n++;
}

static void m_delete(model *m, size_t at) {
    free(m->v[at]);
    memmove(m->v + at, m->v + at + 1, (m->n - at - 1) * sizeof(char *));
    memmove(m->len + at, m->len + at + 1, (m->n - at - 1) * sizeof(size_t));
    m->n--;
}

static void m_free(model *m) {
    for (size_t i = 0; i < m->n; i++) free(m->v[i]);
    free(m->v);
    free(m->len);
}

/* The element as text. */
static const char *val_str(const lp_val *v, char *buf, size_t *len) {
    if (v->s) {
        *len = v->len;
        return (const char *)v->s;
    }
    *len = (size_t)ll2str(buf, v->i);
    return buf;
}

static void assert_val(const lp_val *v, const char *s, size_t len) {
    char buf[LL_STR_SIZE];
    size_t l;
    const char *p = val_str(v, buf, &l);
    assert_int_equal(l, len);
    assert_memory_equal(p, s, len);
}

static void assert_same(quicklist *ql, const model *m) {
    assert_null(ql_check(ql));
    assert_int_equal(ql->count, m->n);
    qliter it;
    lp_val v;
    size_t i = 0;
    ql_iter_init(&it, ql, 0, QL_TAIL);
    while (ql_iter_next(&it, &v)) {
        assert_true(i < m->n);
        assert_val(&v, m->v[i], m->len[i]);
        i++;
    }
    ql_iter_done(&it);
    assert_int_equal(i, m->n);
    /* and backwards */
    ql_iter_init(&it, ql, -1, QL_HEAD);
    while (ql_iter_next(&it, &v)) {
        assert_true(i > 0);
        i--;
        assert_val(&v, m->v[i], m->len[i]);
    }
    ql_iter_done(&it);
    assert_int_equal(i, 0);
    assert_null(ql_check(ql));
}

static char big[20000];

/* A random element: small ints, short strings, a few values around and above node limits. */
static size_t rand_val(char *buf) {
    int k = rand() % 100;
    if (k < 30) return (size_t)snprintf(buf, 32, "%d", rand() % 2000 - 1000);
    if (k < 35) return (size_t)snprintf(buf, 32, "%lld", (long long)rand() * 100000000LL);
    if (k < 37) return 0;
    if (k < 39) {
        size_t len = 4000 + (size_t)(rand() % 14000);
        memcpy(buf, big, len);
        return len;
    }
    size_t len = 1 + (size_t)(rand() % (k < 90 ? 20 : 300));
    for (size_t i = 0; i < len; i++) buf[i] = (char)('a' + rand() % 3);
    return len;
}

static void random_ops(int fill, int compress, int steps) {
    static char buf[20000];
    quicklist *ql = ql_new(fill, compress);
    model m = {0};
    size_t seen_compressed = 0;
    for (int step = 0; step < steps; step++) {
        int op = rand() % 100;
        size_t len;
        if (op < 30 || m.n < 3) { /* push */
            int where = rand() % 2;
            int n = 1 + rand() % 8;
            for (int j = 0; j < n; j++) {
                len = rand_val(buf);
                ql_push(ql, buf, len, where);
                m_insert(&m, where == QL_HEAD ? 0 : m.n, buf, len);
            }
        } else if (op < 45) { /* pop */
            int where = rand() % 2;
            lp_val v;
            assert_true(ql_peek(ql, where, &v));
            size_t at = where == QL_HEAD ? 0 : m.n - 1;
            assert_val(&v, m.v[at], m.len[at]);
            ql_pop(ql, where);
            m_delete(&m, at);
        } else if (op < 55) { /* index */
            long idx = (long)(rand() % (m.n + 4)) - 2;
            if (rand() % 2) idx = -idx - 1;
            qlpos pos;
            long i = idx < 0 ? (long)m.n + idx : idx;
            int ok = ql_index(ql, idx, &pos);
            assert_int_equal(ok, i >= 0 && i < (long)m.n);
            if (ok) {
                lp_val v;
                lp_get(pos.p, &v);
                assert_val(&v, m.v[i], m.len[i]);
                ql_release(ql, &pos);
            }
        } else if (op < 62) { /* replace */
            size_t i = (size_t)rand() % m.n;
            qlpos pos;
            assert_true(ql_index(ql, (long)i, &pos));
            len = rand_val(buf);
            ql_replace(ql, &pos, buf, len);
            free(m.v[i]);
            m.v[i] = malloc(len + 1);
            memcpy(m.v[i], buf, len);
            m.len[i] = len;
        } else if (op < 70) { /* delete a range */
            size_t start = (size_t)rand() % m.n;
            size_t count = (size_t)rand() % (m.n - start + 1);
            if (rand() % 4 == 0) count = (size_t)rand() % 3;
            if (count > m.n - start) count = m.n - start;
            ql_del_range(ql, start, count);
            for (size_t j = 0; j < count; j++) m_delete(&m, start);
        } else if (op < 85) { /* delete matching elements through an iterator, either direction */
            int dir = rand() % 2 ? QL_TAIL : QL_HEAD;
            char c = (char)('a' + rand() % 3);
            size_t limit = (size_t)(rand() % 4), removed = 0;
            qliter it;
            lp_val v;
            ql_iter_init(&it, ql, dir == QL_TAIL ? 0 : -1, dir);
            long i = dir == QL_TAIL ? 0 : (long)m.n - 1;
            while (ql_iter_next(&it, &v)) {
                assert_val(&v, m.v[i], m.len[i]);
                if (v.s && v.len > 0 && v.s[0] == c) {
                    ql_iter_delete(&it);
                    m_delete(&m, (size_t)i);
                    if (dir == QL_HEAD) i--;
                    if (++removed == limit) break;
                } else {
                    i += dir == QL_TAIL ? 1 : -1;
                }
            }
            ql_iter_done(&it);
        } else { /* insert next to an element found by iteration */
            size_t target = (size_t)rand() % m.n;
            int after = rand() % 2;
            qliter it;
            lp_val v;
            ql_iter_init(&it, ql, (long)target, QL_TAIL);
            assert_true(ql_iter_next(&it, &v));
            len = rand_val(buf);
            ql_iter_insert(&it, buf, len, after);
            m_insert(&m, target + (size_t)after, buf, len);
        }
        if (step % 7 == 0 || m.n < 50) assert_same(ql, &m);
        else assert_null(ql_check(ql));
        if (ql_compressed_nodes(ql) > seen_compressed) seen_compressed = ql_compressed_nodes(ql);
        if (step % 500 == 0) {
            quicklist *d = ql_dup(ql);
            assert_same(d, &m);
            ql_free(d);
        }
    }
    assert_same(ql, &m);
    if (compress && fill < 0) assert_true(seen_compressed > 2);
    if (!compress) assert_int_equal(seen_compressed, 0);
    ql_free(ql);
    m_free(&m);
}

static void test_random_size_fills(void **state) {
    (void)state;
    srand(1);
    for (int fill = -1; fill >= -5; fill--) random_ops(fill, 0, 4000);
}

static void test_random_count_fills(void **state) {
    (void)state;
    srand(2);
    int fills[] = {0, 1, 2, 5, 128, 100000};
    for (size_t i = 0; i < sizeof(fills) / sizeof(fills[0]); i++) random_ops(fills[i], 0, 3000);
}

static void test_random_compressed(void **state) {
    (void)state;
    srand(3);
    int cases[][2] = {{-1, 1}, {-2, 2}, {2, 1}, {5, 3}, {1, 1}, {3, 50}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) random_ops(cases[i][0], cases[i][1], 3000);
}

/* A long list with depth 1 keeps only its end nodes raw, reads through the compressed middle and costs less. */
static void test_compression(void **state) {
    (void)state;
    quicklist *plain = ql_new(-2, 0), *packed = ql_new(-2, 1);
    char buf[32];
    for (int i = 0; i < 50000; i++) {
        int len = snprintf(buf, sizeof(buf), "member:%d", i);
        ql_push(plain, buf, (size_t)len, QL_TAIL);
        ql_push(packed, buf, (size_t)len, QL_TAIL);
    }
    assert_null(ql_check(packed));
    assert_int_equal(ql_compressed_nodes(plain), 0);
    assert_int_equal(ql_compressed_nodes(packed), packed->len - 2);
    assert_true(ql_bytes(packed) < ql_bytes(plain) * 3 / 4);
    qlpos pos;
    lp_val v;
    assert_true(ql_index(packed, 25000, &pos));
    lp_get(pos.p, &v);
    assert_int_equal(v.len, 12);
    assert_memory_equal(v.s, "member:25000", 12);
    ql_release(packed, &pos);
    assert_null(ql_check(packed));
    assert_int_equal(ql_compressed_nodes(packed), packed->len - 2);
    quicklist *d = ql_dup(packed);
    assert_null(ql_check(d));
    assert_int_equal(ql_compressed_nodes(d), d->len - 2);
    /* popping everything through the ends decompresses node after node */
    for (int i = 0; i < 50000; i++) {
        assert_true(ql_peek(d, i % 2 ? QL_HEAD : QL_TAIL, &v));
        ql_pop(d, i % 2 ? QL_HEAD : QL_TAIL);
        if (i % 997 == 0) assert_null(ql_check(d));
    }
    assert_int_equal(d->count, 0);
    assert_int_equal(d->len, 0);
    ql_free(d);
    ql_free(plain);
    ql_free(packed);
}

/* Nodes respect the fill when built by pushes; merging after deletes packs them again. */
static void test_node_limits_and_merge(void **state) {
    (void)state;
    quicklist *ql = ql_new(-2, 0);
    char buf[32];
    for (int i = 0; i < 100000; i++) {
        int len = snprintf(buf, sizeof(buf), "element:%d", i);
        ql_push(ql, buf, (size_t)len, i % 2 ? QL_TAIL : QL_HEAD);
    }
    assert_null(ql_check(ql));
    size_t nodes = 0;
    for (qlnode *n = ql->head; n; n = n->next, nodes++) assert_true(lp_bytes(n->lp) <= 8192);
    assert_int_equal(nodes, ql->len);
    assert_true(ql->len < 100000 / 400); /* ~15-byte elements: >500 per 8 KiB node */
    size_t before = ql->len;
    /* remove 9 of every 10 elements from the interior: nodes must merge */
    qliter it;
    lp_val v;
    long i = 0;
    ql_iter_init(&it, ql, 0, QL_TAIL);
    while (ql_iter_next(&it, &v))
        if (i++ % 10) ql_iter_delete(&it);
    ql_iter_done(&it);
    assert_null(ql_check(ql));
    assert_int_equal(ql->count, 10000);
    assert_true(ql->len <= before / 5);

    /* positive fill: at most `fill` elements per node */
    quicklist *q2 = ql_new(3, 0);
    for (int j = 0; j < 100; j++) ql_push(q2, "x", 1, QL_TAIL);
    for (qlnode *n = q2->head; n; n = n->next) assert_true(n->count <= 3);
    assert_int_equal(q2->len, 34);
    /* clamping */
    quicklist *q3 = ql_new(-100, -1);
    assert_int_equal(q3->fill, -5);
    assert_int_equal(q3->compress, 0);
    quicklist *q4 = ql_new(1 << 20, 1 << 20);
    assert_int_equal(q4->fill, 32767);
    assert_int_equal(q4->compress, 65535);
    ql_free(ql);
    ql_free(q2);
    ql_free(q3);
    ql_free(q4);
}

/* An element bigger than the node limit lives alone; inserting next to elements of full nodes splits them. */
static void test_big_elements_and_splits(void **state) {
    (void)state;
    quicklist *ql = ql_new(-1, 0);
    memset(big, 'z', sizeof(big));
    ql_push(ql, "a", 1, QL_TAIL);
    ql_push(ql, big, 10000, QL_TAIL);
    ql_push(ql, "b", 1, QL_TAIL);
    assert_int_equal(ql->len, 3);
    assert_int_equal(ql->head->next->count, 1);
    for (int i = 0; i < 2000; i++) ql_push(ql, "0123456789", 10, QL_TAIL);
    /* insert in the middle of a full node */
    qliter it;
    lp_val v;
    ql_iter_init(&it, ql, 1000, QL_TAIL);
    assert_true(ql_iter_next(&it, &v));
    size_t len0 = ql->len;
    ql_iter_insert(&it, "mid", 3, 1);
    assert_null(ql_check(ql));
    assert_true(ql->len >= len0);
    qlpos pos;
    assert_true(ql_index(ql, 1001, &pos));
    lp_get(pos.p, &v);
    assert_int_equal(v.len, 3);
    assert_memory_equal(v.s, "mid", 3);
    ql_release(ql, &pos);
    assert_true(ql_index(ql, -1, &pos));
    assert_true(ql_index(ql, -(long)ql->count, &pos));
    assert_false(ql_index(ql, -(long)ql->count - 1, &pos));
    assert_false(ql_index(ql, (long)ql->count, &pos));
    assert_false(ql_index(ql, -9223372036854775807L - 1, &pos));
    assert_true(ql_bytes(ql) > 10000 + 2000 * 12);
    ql_free(ql);
}

/* ql_check names what is wrong. */
static void test_check_catches(void **state) {
    (void)state;
    quicklist *ql = ql_new(4, 0);
    for (int i = 0; i < 20; i++) ql_push(ql, "elem", 4, QL_TAIL);
    assert_null(ql_check(ql));
    ql->count++;
    assert_string_equal(ql_check(ql), "quicklist: count differs from the sum of node counts");
    ql->count--;
    ql->head->count++;
    assert_string_equal(ql_check(ql), "quicklist: node above the fill count");
    ql->head->count--;
    ql->len++;
    assert_string_equal(ql_check(ql), "quicklist: len differs from the number of nodes");
    ql->len--;
    assert_null(ql_check(ql));
    ql_free(ql);
}

int main(void) {
    memset(big, 'q', sizeof(big));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_size_fills),
        cmocka_unit_test(test_random_count_fills),
        cmocka_unit_test(test_random_compressed),
        cmocka_unit_test(test_compression),
        cmocka_unit_test(test_node_limits_and_merge),
        cmocka_unit_test(test_big_elements_and_splits),
        cmocka_unit_test(test_check_catches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
