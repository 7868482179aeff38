/* Unit tests for the intset (types/intset.c): byte-for-byte agreement with
 * intsets produced by Redis 7.0 (golden bytes from DUMP), encoding upgrades,
 * random operations against a sorted model, arena/heap placement and
 * validation of foreign payloads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mem/arena.h"
#include "types/intset.h"

static int setup(void **state) {
    (void)state;
    return arena_init((size_t)1 << 32);
}

static intset *build(const int64_t *v, int n) {
    intset *is = is_new();
    for (int i = 0; i < n; i++) {
        int added;
        is = is_add(is, v[i], &added);
        assert_true(added);
    }
    return is;
}

/* SADD a 3 1 2 / SADD b 70000 -5 100 / SADD c 1 5000000000 -3 on redis-server 7.0.15, then DUMP. */
static void test_golden(void **state) {
    (void)state;
    static const char a[] = "\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00\x03\x00";
    static const char b[] = "\x04\x00\x00\x00\x03\x00\x00\x00\xfb\xff\xff\xff\x64\x00\x00\x00\x70\x11\x01\x00";
    static const char c[] = "\x08\x00\x00\x00\x03\x00\x00\x00\xfd\xff\xff\xff\xff\xff\xff\xff\x01\x00\x00\x00"
                            "\x00\x00\x00\x00\x00\xf2\x05\x2a\x01\x00\x00\x00";
    const int64_t va[] = {3, 1, 2}, vb[] = {70000, -5, 100}, vc[] = {1, 5000000000LL, -3};
    struct { const int64_t *v; const char *gold; size_t len; } cases[] = {
        {va, a, sizeof(a) - 1}, {vb, b, sizeof(b) - 1}, {vc, c, sizeof(c) - 1}};
    for (int i = 0; i < 3; i++) {
        intset *is = build(cases[i].v, 3);
        assert_int_equal(is_blob_len(is), cases[i].len);
        assert_memory_equal(is, cases[i].gold, cases[i].len);
        assert_true(is_validate((const unsigned char *)cases[i].gold, cases[i].len));
        is_free(is);
    }
}

static void test_upgrade_and_never_downgrade(void **state) {
    (void)state;
    intset *is = is_new();
    int added, removed;
    is = is_add(is, 5, &added);
    assert_int_equal(is_encoding(is), 2);
    is = is_add(is, -40000, &added); /* prepended by the upgrade */
    assert_int_equal(is_encoding(is), 4);
    assert_true(is_get(is, 0) == -40000 && is_get(is, 1) == 5);
    is = is_add(is, INT64_MAX, &added); /* appended */
    assert_int_equal(is_encoding(is), 8);
    assert_true(is_get(is, 2) == INT64_MAX);
    is = is_add(is, INT64_MAX, &added);
    assert_false(added);
    is = is_remove(is, INT64_MAX, &removed);
    assert_true(removed);
    is = is_remove(is, -40000, &removed);
    assert_int_equal(is_encoding(is), 8);
    assert_int_equal(is_len(is), 1);
    assert_int_equal(is_blob_len(is), 16);
    is = is_remove(is, 6, &removed);
    assert_false(removed);
    assert_false(is_find(is, INT64_MIN));
    assert_true(is_find(is, 5));
    is_free(is);
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_random_against_model(void **state) {
    (void)state;
    enum { N = 3000 };
    static int64_t model[N];
    int n = 0;
    srand(11);
    size_t live = arena_live_bytes();
    intset *is = is_new();
    for (int step = 0; step < 40000; step++) {
        int64_t v;
        int r = rand() % 4;
        v = r == 0 ? rand() % 200 - 100 : r == 1 ? (int64_t)(rand() % 100000) - 50000
            : r == 2 ? ((int64_t)rand() << 20) * (rand() % 2 ? 1 : -1) : rand() % 5000;
        int found = 0;
        for (int i = 0; i < n; i++)
            if (model[i] == v) found = 1;
        assert_int_equal(is_find(is, v), found);
        int changed;
        if (rand() % 3 && n < N) {
            is = is_add(is, v, &changed);
            assert_int_equal(changed, !found);
            if (!found) model[n++] = v;
        } else {
            is = is_remove(is, v, &changed);
            assert_int_equal(changed, found);
            if (found) {
                for (int i = 0; i < n; i++)
                    if (model[i] == v) model[i] = model[--n];
            }
        }
        if (step % 97 == 0 || step > 39900) {
            qsort(model, (size_t)n, sizeof(int64_t), cmp64);
            assert_int_equal(is_len(is), n);
            for (int i = 0; i < n; i++) assert_true(is_get(is, (uint32_t)i) == model[i]);
            assert_true(is_alloc_size(is) >= is_blob_len(is));
            if (n) assert_true(is_validate((const unsigned char *)is, is_blob_len(is)));
            assert_null(is_check(is));
        }
    }
    intset *d = is_dup(is);
    assert_memory_equal(d, is, is_blob_len(is));
    is_free(d);
    is_free(is);
    assert_int_equal(arena_live_bytes(), live);
}

static void test_check_catches(void **state) {
    (void)state;
    int added;
    intset *is = is_new();
    for (int v = 1; v <= 5; v++) is = is_add(is, v * 10, &added);
    assert_null(is_check(is));
    unsigned char *p = (unsigned char *)is;
    unsigned char tmp[2];
    memcpy(tmp, p + 8, 2); /* swap the first two members */
    memcpy(p + 8, p + 10, 2);
    memcpy(p + 10, tmp, 2);
    assert_string_equal(is_check(is), "intset: members not strictly increasing");
    memcpy(p + 10, p + 8, 2); /* a duplicate */
    assert_string_equal(is_check(is), "intset: members not strictly increasing");
    p[0] = 3;
    assert_string_equal(is_check(is), "intset: encoding is not 2, 4 or 8");
    p[0] = 2;
    is_free(is);
}

static void test_validate_rejects(void **state) {
    (void)state;
    const unsigned char unsorted[] = {2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 3, 0};
    const unsigned char dup[] = {2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 5, 0};
    const unsigned char badenc[] = {3, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0};
    const unsigned char shortlen[] = {2, 0, 0, 0, 3, 0, 0, 0, 5, 0, 6, 0};
    const unsigned char empty[] = {2, 0, 0, 0, 0, 0, 0, 0};
    const unsigned char ok[] = {2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 5, 0};
    assert_false(is_validate(unsorted, sizeof(unsorted)));
    assert_false(is_validate(dup, sizeof(dup)));
    assert_false(is_validate(badenc, sizeof(badenc)));
    assert_false(is_validate(shortlen, sizeof(shortlen)));
    assert_false(is_validate(empty, sizeof(empty)));
    assert_true(is_validate(ok, sizeof(ok)));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_upgrade_and_never_downgrade),
        cmocka_unit_test(test_random_against_model),
        cmocka_unit_test(test_validate_rejects),
        cmocka_unit_test(test_check_catches),
    };
    return cmocka_run_group_tests_name("intset", tests, setup, NULL);
}
