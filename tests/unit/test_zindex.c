/* Unit tests for the sorted-set order index (types/zindex.c) and member
 * entries (types/zelem.h): random inserts, deletes, rescores and range
 * deletes checked against a sorted model array, with the tree's invariants
 * (counts, separators, order, sizes) verified along the way; ranks, bounds,
 * iteration both ways, sequential loads (fill), incremental freeing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mem/arena.h"
#include "util/debug.h"
#include "types/zelem.h"
#include "types/zindex.h"
#include "util/siphash.h"

static int setup(void **state) {
    (void)state;
    siphash_seed_random();
    return arena_init((size_t)1 << 32);
}

/* The model: handles kept sorted by (score, member). */
static handle_t *model;
static size_t mn;

static int hcmp(handle_t a, handle_t b) {
    double sa = zel_score(a), sb = zel_score(b);
    if (sa != sb) return sa < sb ? -1 : 1;
    size_t la, lb;
    const char *ma = zel_member(a, &la), *mb = zel_member(b, &lb);
    return zel_memcmp(ma, la, mb, lb);
}

static size_t model_pos(handle_t h) {
    size_t lo = 0, hi = mn;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (hcmp(model[mid], h) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}
static void model_insert(handle_t h) {
    size_t p = model_pos(h);
    memmove(&model[p + 1], &model[p], (mn - p) * sizeof(handle_t));
    model[p] = h;
    mn++;
}
static void model_delete_at(size_t p) {
    memmove(&model[p], &model[p + 1], (mn - p - 1) * sizeof(handle_t));
    mn--;
}

static void check(const zindex *t) {
    const char *why;
    if (!zi_check(t, &why)) fail_msg("invariant: %s", why);
    assert_int_equal(t->count, mn);
}

static void check_all(const zindex *t) {
    check(t);
    if (!zindex_check(t)) fail_msg("zindex_check: %s", dbg_check_why);
    if (!arena_check()) fail_msg("arena_check: %s", dbg_check_why);
    zi_iter it;
    zi_iter_init(&it, t, 0);
    for (size_t i = 0; i < mn; i++) {
        assert_int_equal(zi_iter_get(&it), model[i]);
        assert_int_equal(zi_iter_move(&it, 1), i + 1 < mn);
    }
    if (mn) {
        zi_iter_init(&it, t, mn - 1);
        for (size_t i = mn; i-- > 0;) {
            assert_int_equal(zi_iter_get(&it), model[i]);
            assert_int_equal(zi_iter_move(&it, -1), i > 0);
        }
    }
}

static void free_visit(void *ud, handle_t h) {
    (void)ud;
    zel_free(h);
}

static void run_random(int nkeys, int steps, int score_range, unsigned seed) {
    zindex t;
    zi_init(&t);
    model = calloc((size_t)nkeys + 1, sizeof(handle_t));
    mn = 0;
    handle_t *byid = calloc((size_t)nkeys, sizeof(handle_t));
    srand(seed);
    for (int step = 0; step < steps; step++) {
        int id = rand() % nkeys, op = rand() % 10;
        char m[32];
        int ml = snprintf(m, sizeof(m), "m%d", id);
        if (op < 5) {
            if (byid[id]) continue;
            handle_t h = zel_new(m, (size_t)ml, (double)(rand() % score_range) / 4.0);
            zi_insert(&t, h);
            model_insert(h);
            byid[id] = h;
        } else if (op < 7) {
            if (!byid[id]) continue;
            handle_t h = byid[id];
            size_t p = model_pos(h);
            assert_int_equal(model[p], h);
            assert_int_equal(zi_rank(&t, h), p);
            zi_delete(&t, h);
            model_delete_at(p);
            zel_free(h);
            byid[id] = 0;
        } else if (op < 9) {
            if (!byid[id]) continue;
            handle_t h = byid[id];
            model_delete_at(model_pos(h));
            double ns = (rand() % 3) ? zel_score(h) + (rand() % 3 - 1) * 0.25 : (double)(rand() % score_range);
            zi_rescore(&t, h, ns);
            assert_true(zel_score(h) == ns);
            model_insert(h);
        } else if (mn > 0 && rand() % 20 == 0) {
            size_t start = (size_t)rand() % mn, n = (size_t)(rand() % 300);
            if (start + n > mn) n = mn - start;
            for (size_t j = 0; j < n; j++) {
                size_t id2;
                size_t len;
                const char *mm = zel_member(model[start + j], &len);
                char num[32];
                memcpy(num, mm + 1, len - 1);
                num[len - 1] = 0;
                id2 = (size_t)atoi(num);
                byid[id2] = 0;
            }
            zi_delete_range(&t, start, n, free_visit, NULL);
            memmove(&model[start], &model[start + n], (mn - start - n) * sizeof(handle_t));
            mn -= n;
        }
        if (step % 997 == 0) check(&t);
        if (step % 20011 == 0) check_all(&t);
        if (step % 101 == 0 && mn) {
            size_t r = (size_t)rand() % mn;
            assert_int_equal(zi_at(&t, r), model[r]);
            double s = (double)(rand() % score_range) / 4.0;
            size_t lt = 0, le = 0;
            for (size_t i = 0; i < mn; i++) {
                lt += zel_score(model[i]) < s;
                le += zel_score(model[i]) <= s;
            }
            assert_int_equal(zi_count_before(&t, ZB_SCORE_LT, s, NULL, 0), lt);
            assert_int_equal(zi_count_before(&t, ZB_SCORE_LE, s, NULL, 0), le);
        }
    }
    check_all(&t);
    /* drain: free_step in small slices */
    size_t before = t.bytes;
    assert_true(before > 0 || mn == 0);
    int rounds = 0;
    while (!zi_free_step(&t, 50, NULL, NULL)) rounds++;
    assert_int_equal(t.bytes, 0);
    assert_null(t.root);
    for (size_t i = 0; i < mn; i++) zel_free(model[i]);
    free(model);
    free(byid);
}

static void test_random_small_tree(void **state) {
    (void)state;
    run_random(300, 200000, 8, 1);
}

static void test_random_big_tree_many_ties(void **state) {
    (void)state;
    run_random(40000, 600000, 40, 2);
}

static void test_random_big_tree_distinct(void **state) {
    (void)state;
    run_random(40000, 400000, 1 << 30, 3);
}

/* Equal scores: lexicographic bounds. */
static void test_lex_bounds(void **state) {
    (void)state;
    zindex t;
    zi_init(&t);
    const int n = 5000;
    handle_t *hs = calloc(n, sizeof(handle_t));
    for (int i = 0; i < n; i++) {
        char m[16];
        int l = snprintf(m, sizeof(m), "%05d", (i * 7919) % n);
        hs[i] = zel_new(m, (size_t)l, 0);
        zi_insert(&t, hs[i]);
    }
    for (int q = 0; q < n; q += 37) {
        char m[16];
        int l = snprintf(m, sizeof(m), "%05d", q);
        assert_int_equal(zi_count_before(&t, ZB_LEX_LT, 0, m, (size_t)l), q);
        assert_int_equal(zi_count_before(&t, ZB_LEX_LE, 0, m, (size_t)l), q + 1);
        /* a prefix sorts before its extensions */
        assert_int_equal(zi_count_before(&t, ZB_LEX_LE, 0, m, 4), q / 10 * 10);
    }
    zi_delete_range(&t, 0, (size_t)n, free_visit, NULL);
    assert_int_equal(t.count, 0);
    assert_null(t.root);
    assert_int_equal(t.bytes, 0);
    free(hs);
}

/* Loading in score order (ascending and descending) fills leaves completely. */
static void test_sequential_fill(void **state) {
    (void)state;
    for (int dir = 0; dir < 2; dir++) {
        zindex t;
        zi_init(&t);
        const int n = 200000;
        for (int i = 0; i < n; i++) {
            char m[24];
            int l = snprintf(m, sizeof(m), "member:%d", i);
            zi_insert(&t, zel_new(m, (size_t)l, dir ? -i : i));
        }
        const char *why;
        assert_true(zi_check(&t, &why));
        double per = (double)t.bytes / n;
        printf("sequential %s: %.2f index bytes per member\n", dir ? "descending" : "ascending", per);
        assert_true(per < 5.2); /* 4.5 bytes per handle in 512-byte leaves of 112 */
        zi_delete_range(&t, 0, (size_t)n, free_visit, NULL);
        assert_int_equal(t.bytes, 0);
    }
}

/* zi_build: any size (one leaf, one full level, several levels) gives a valid index whose ranks are the
 * input order, which then takes inserts and deletes like any other. */
static void test_bulk_build(void **state) {
    (void)state;
    const size_t sizes[] = {1, 2, 111, 112, 113, 112 * 54, 112 * 54 + 1, 200000};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t n = sizes[k];
        handle_t *hs = malloc(n * sizeof(handle_t)), *copy = malloc(n * sizeof(handle_t));
        for (size_t i = 0; i < n; i++) {
            char m[24];
            int l = snprintf(m, sizeof(m), "m:%08zu", i);
            hs[i] = copy[i] = zel_new(m, (size_t)l, (double)(i / 3)); /* ties broken by member */
        }
        zindex t;
        zi_init(&t);
        zi_build(&t, hs, n);
        const char *why;
        if (!zi_check(&t, &why)) fail_msg("n=%zu: %s", n, why);
        assert_int_equal(t.count, n);
        for (size_t i = 0; i < n; i += 1 + n / 97) {
            assert_true(zi_at(&t, i) == copy[i]);
            assert_int_equal(zi_rank(&t, copy[i]), i);
        }
        if (n > 1000) printf("bulk %zu: %.2f index bytes per member\n", n, (double)t.bytes / n);
        char m[24];
        int l = snprintf(m, sizeof(m), "m:%08zu", n / 2);
        handle_t extra = zel_new(m, (size_t)l, -1.0); /* before everything */
        zi_insert(&t, extra);
        assert_true(zi_at(&t, 0) == extra);
        zi_delete(&t, copy[n - 1]);
        zel_free(copy[n - 1]);
        if (!zi_check(&t, &why)) fail_msg("n=%zu after changes: %s", n, why);
        zi_delete_range(&t, 0, t.count, free_visit, NULL);
        assert_int_equal(t.bytes, 0);
        free(hs);
        free(copy);
    }
}

/* Random order: sibling shifts keep leaves well filled. */
static void test_random_fill(void **state) {
    (void)state;
    zindex t;
    zi_init(&t);
    const int n = 300000;
    srand(7);
    for (int i = 0; i < n; i++) {
        char m[24];
        int l = snprintf(m, sizeof(m), "member:%d", i);
        zi_insert(&t, zel_new(m, (size_t)l, (double)rand() / RAND_MAX));
    }
    const char *why;
    assert_true(zi_check(&t, &why));
    double per = (double)t.bytes / n;
    printf("random: %.2f index bytes per member\n", per);
    assert_true(per < 6.0);
    /* delete every other element: merges keep the tree valid */
    for (size_t r = 0; r < t.count; r++) {
        handle_t h = zi_at(&t, r);
        zi_delete(&t, h);
        zel_free(h);
    }
    assert_true(zi_check(&t, &why));
    assert_int_equal(t.count, n / 2);
    zi_delete_range(&t, 0, t.count, free_visit, NULL);
    assert_int_equal(t.bytes, 0);
}

/* The checks are not vacuous: a member whose score changed behind the index's back breaks the order. */
static void test_check_sees_corruption(void **state) {
    (void)state;
    zindex t;
    zi_init(&t);
    const int n = 5000;
    for (int i = 0; i < n; i++) {
        char m[24];
        int l = snprintf(m, sizeof(m), "member:%d", i);
        zi_insert(&t, zel_new(m, (size_t)l, i));
    }
    assert_true(zindex_check(&t));
    handle_t h = zi_at(&t, 2500);
    zel_set_score(h, -1);
    const char *why;
    assert_false(zi_check(&t, &why));
    assert_false(zindex_check(&t));
    zel_set_score(h, 2500);
    assert_true(zindex_check(&t));
    zi_delete_range(&t, 0, t.count, free_visit, NULL);
    assert_int_equal(t.bytes, 0);
}

static void test_member_entries(void **state) {
    (void)state;
    /* 14-byte member: one 24-byte slot */
    handle_t h = zel_new("member:1234567", 14, 3.25);
    assert_int_equal(arena_usable(h), 24);
    assert_true(zel_score(h) == 3.25);
    zel_set_score(h, -INFINITY);
    assert_true(zel_score(h) == -INFINITY);
    size_t l;
    assert_memory_equal(zel_member(h, &l), "member:1234567", 14);
    assert_int_equal(l, 14);
    zel_free(h);
    /* long members live on the heap; the score still round-trips */
    size_t big = 10000;
    char *m = malloc(big);
    memset(m, 'x', big);
    h = zel_new(m, big, -0.0);
    assert_true(signbit(zel_score(h)));
    const char *got = zel_member(h, &l);
    assert_int_equal(l, big);
    assert_memory_equal(got, m, big);
    /* lengths near the arena limit */
    for (size_t len = 4070; len < 4100; len++) {
        handle_t x = zel_new(m, len, 1.5 + (double)len);
        assert_true(zel_score(x) == 1.5 + (double)len);
        assert_int_equal(zel_member(x, &l) != NULL, 1);
        assert_int_equal(l, len);
        zel_free(x);
    }
    zel_free(h);
    free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_member_entries),
        cmocka_unit_test(test_random_small_tree),
        cmocka_unit_test(test_random_big_tree_many_ties),
        cmocka_unit_test(test_random_big_tree_distinct),
        cmocka_unit_test(test_lex_bounds),
        cmocka_unit_test(test_sequential_fill),
        cmocka_unit_test(test_random_fill),
        cmocka_unit_test(test_bulk_build),
        cmocka_unit_test(test_check_sees_corruption),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
