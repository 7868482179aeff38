/* Unit tests for the pointer table (util/ptab.c): random adds, finds and deletes against a model, with
 * a good hash and with a poor one (a few distinct homes: long runs, runs wrapping past the last slot,
 * backward shifts across the wrap), the payload moving with its element, the vector/table switches
 * both ways, tables past 1 MiB, and the table freed when it empties (heap back to where it was).  Tables
 * over PTAB_STEP_MIN slots resize incrementally: the checks run while a resize is under way too (the next
 * block being prepared; elements in both blocks, deletes from the old one, iteration over both), and
 * ptab_step finishes one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "util/mem.h"
#include "util/ptab.h"

#define N 3000

typedef struct item {
    uint32_t key;
} item;

static item items[N];
static int poor; /* hash to a few homes near the end of the table */
static long resizing_seen;  /* checks made while an incremental resize was moving elements */
static long preparing_seen; /* checks made while the next block was being faulted in */

static uint64_t item_hash(const void *e) {
    uint32_t k = ((const item *)e)->key;
    return poor ? ~(uint64_t)(k % 5) : ptab_hash_ptr((const void *)(uintptr_t)(k + 1));
}

static int item_eq(const void *e, const void *key, size_t klen) {
    (void)klen;
    return ((const item *)e)->key == *(const uint32_t *)key;
}

static const ptab_type type = {item_hash, item_eq};

static long find(const ptab *t, uint32_t k) {
    return ptab_find(t, &type, &k, sizeof(k), item_hash(&items[k]));
}

/* Every element present is found with its payload, every absent one is not; the count agrees. */
static void check(const ptab *t, const uint32_t *aux_of, const char *in, int n) {
    uint32_t count = 0;
    for (int k = 0; k < n; k++) {
        long s = find(t, (uint32_t)k);
        if (!in[k]) {
            assert_int_equal(s, -1);
            continue;
        }
        count++;
        assert_true(s >= 0);
        assert_ptr_equal(ptab_get(t, s), &items[k]);
        assert_int_equal(*ptab_aux_at((ptab *)t, s), aux_of[k]);
    }
    assert_int_equal(ptab_count(t), count);
    uint32_t filled = 0;
    for (long i = ptab_next(t, -1); i >= 0; i = ptab_next(t, i)) {
        const item *e = ptab_get(t, i);
        assert_true(e >= items && e < items + n && in[e - items]);
        filled++;
    }
    assert_int_equal(filled, count);
    if (t && t->cap > PTAB_SMALL) assert_true((uint64_t)ptab_count(t) * 5 <= (uint64_t)t->cap * 4);
    if (t && t->rz && t->rz->old) resizing_seen++;
    if (t && t->rz && t->rz->next) preparing_seen++;
}

static void run(int n, int steps, unsigned seed) {
    size_t before = s_heap_used();
    ptab *t = NULL;
    static char in[N];
    static uint32_t aux_of[N];
    memset(in, 0, sizeof(in));
    srand(seed);
    for (int i = 0; i < steps; i++) {
        uint32_t k = (uint32_t)(rand() % n);
        /* grow for the first half, then mostly shrink, so the table passes every size both ways */
        int add = i < steps / 2 ? rand() % 4 != 0 : rand() % 4 == 0;
        if (add && !in[k]) {
            long s = ptab_add(&t, &type, &items[k], item_hash(&items[k]), 1);
            aux_of[k] = (uint32_t)rand();
            *ptab_aux_at(t, s) = aux_of[k];
            in[k] = 1;
        } else if (!add && in[k]) {
            ptab_del(&t, &type, find(t, k));
            in[k] = 0;
        }
        if (i % 97 == 0 || n < 40) check(t, aux_of, in, n);
    }
    check(t, aux_of, in, n);
    for (int k = 0; k < n; k++)
        if (in[k]) ptab_del(&t, &type, find(t, (uint32_t)k));
    assert_null(t);
    assert_int_equal(s_heap_used(), before);
}

static void test_small(void **state) {
    (void)state;
    poor = 0;
    run(20, 4000, 1);
}

static void test_big(void **state) {
    (void)state;
    poor = 0;
    resizing_seen = preparing_seen = 0;
    run(N, 40000, 2);
    assert_true(resizing_seen > 0 && preparing_seen > 0);
}

static void test_poor_hash(void **state) {
    (void)state;
    poor = 1;
    run(300, 20000, 3);
    run(40, 20000, 4);
    resizing_seen = 0;
    run(N, 12000, 5); /* incremental resizes with long runs in both blocks */
    assert_true(resizing_seen > 0);
    poor = 0;
}

static void test_pointer_keys(void **state) {
    (void)state;
    static const ptab_type ptrs = {item_hash, NULL};
    poor = 0;
    ptab *t = NULL;
    for (int k = 0; k < 100; k++) ptab_add(&t, &ptrs, &items[k], item_hash(&items[k]), 0);
    assert_int_equal(ptab_count(t), 100);
    assert_int_equal(t->has_aux, 0);
    for (int k = 0; k < 100; k++) assert_true(ptab_find(t, &ptrs, &items[k], 0, item_hash(&items[k])) >= 0);
    assert_int_equal(ptab_find(t, &ptrs, &items[100], 0, item_hash(&items[100])), -1);
    for (int k = 99; k >= 0; k--)
        ptab_del(&t, &ptrs, ptab_find(t, &ptrs, &items[k], 0, item_hash(&items[k])));
    assert_null(t);
}

/* Tables of over 1 MiB are allocated another way (their pages faulted in at once): grown to that and
 * emptied again. */
static void test_huge(void **state) {
    (void)state;
    static const ptab_type ptrs = {item_hash, NULL};
    enum { M = 200000 };
    size_t before = s_heap_used();
    item *v = calloc(M, sizeof(*v));
    ptab *t = NULL;
    for (uint32_t k = 0; k < M; k++) {
        v[k].key = k;
        long s = ptab_add(&t, &ptrs, &v[k], item_hash(&v[k]), 1);
        *ptab_aux_at(t, s) = k;
    }
    while (ptab_step(t, &ptrs, 1000)) {
    }
    assert_true(!t->rz || !t->rz->old);
    assert_true(t->cap * (sizeof(void *) + 4) >= (1u << 20));
    for (uint32_t k = 0; k < M; k++) {
        long s = ptab_find(t, &ptrs, &v[k], 0, item_hash(&v[k]));
        assert_true(s >= 0);
        assert_int_equal(*ptab_aux_at(t, s), k);
    }
    for (uint32_t k = 0; k < M; k++) ptab_del(&t, &ptrs, ptab_find(t, &ptrs, &v[k], 0, item_hash(&v[k])));
    assert_null(t);
    assert_int_equal(s_heap_used(), before);
    free(v);
}

int main(void) {
    for (uint32_t k = 0; k < N; k++) items[k].key = k;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small),        cmocka_unit_test(test_big),  cmocka_unit_test(test_poor_hash),
        cmocka_unit_test(test_pointer_keys), cmocka_unit_test(test_huge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
