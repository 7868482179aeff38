/* Unit tests for the listpack (types/listpack.c): byte-for-byte agreement
 * with listpacks produced by Redis 7.0 (golden bytes taken from DUMP), the
 * encoding Redis picks for each value, random operations against a model
 * array with deep validation after each step, the saturating element count,
 * and compact (arena) listpacks moving to the heap as they grow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mem/arena.h"
#include "types/listpack.h"
#include "util/mem.h"

static int setup(void **state) {
    (void)state;
    return arena_init((size_t)1 << 32);
}

/* HSET h a 1 b hello c -5 ... on redis-server 7.0.15 (hash-max-listpack-value 10000), DUMP without compression. */
static const char golden[] =
    "\x1d\x01\x00\x00\x30\x00\x81\x61\x02\x01\x01\x81\x62\x02\x85\x68\x65\x6c\x6c\x6f\x06\x81\x63\x02\xdf\xfb\x02\x81"
    "\x64\x02\xc1\x2c\x02\x81\x65\x02\xe0\x46\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78"
    "\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78"
    "\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78"
    "\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x78\x48\x81\x66\x02\xf2\xa0\x86\x01\x04\x81\x67\x02\xd0\x00\x02\x81"
    "\x68\x02\xcf\xff\x02\x81\x69\x02\xf1\xff\xef\x03\x81\x6a\x02\xf2\x00\x80\x00\x04"
    "\x81\x6b\x02\xf3\x00\x00\x80\x00\x05\x81\x6c\x02\xf4\x00\x00\x00\x80\x00\x00\x00\x00\x09\x81\x6d\x02\xf4\x00\x00"
    "\x00\x00\x00\x00\x00\x80\x09\x81\x6e\x02\x80\x01\x81\x6f\x02\x83\x30\x30\x37\x04"
    "\x81\x70\x02\x82\x2d\x30\x03\x81\x71\x02\x7f\x01\x81\x72\x02\xc0\x80\x02\x81\x75\x02\xf3\xff\xff\x7f\xff\x05\x81"
    "\x76\x02\xf4\xff\xff\xff\x7f\xff\xff\xff\xff\x09\x81\x77\x02\xf2\xff\x7f\xff\x04"
    "\x81\x78\x02\xdf\x7f\x02\x81\x79\x02\x94\x31\x38\x34\x34\x36\x37\x34\x34\x30\x37\x33\x37\x30\x39\x35\x35\x31\x36"
    "\x31\x36\x15\x81\x7a\x02\xf4\xff\xff\xff\xff\xff\xff\xff\x7f\x09\xff";

static const char *golden_pairs[][2] = {
    {"a", "1"}, {"b", "hello"}, {"c", "-5"}, {"d", "300"}, {"e", NULL /* 70 x */}, {"f", "100000"}, {"g", "-4096"},
    {"h", "4095"}, {"i", "-4097"}, {"j", "32768"}, {"k", "8388608"}, {"l", "2147483648"},
    {"m", "-9223372036854775808"}, {"n", ""}, {"o", "007"}, {"p", "-0"}, {"q", "127"}, {"r", "128"},
    {"u", "-8388609"}, {"v", "-2147483649"}, {"w", "-32769"}, {"x", "-129"}, {"y", "18446744073709551616"},
    {"z", "9223372036854775807"},
};

static uint64_t fnv(const unsigned char *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static void test_golden_bytes(void **state) {
    (void)state;
    char xs[70];
    memset(xs, 'x', sizeof(xs));
    unsigned char *lp = lp_new(0);
    for (size_t i = 0; i < sizeof(golden_pairs) / sizeof(golden_pairs[0]); i++) {
        lp = lp_append(lp, golden_pairs[i][0], 1);
        const char *v = golden_pairs[i][1];
        lp = v ? lp_append(lp, v, (uint32_t)strlen(v)) : lp_append(lp, xs, sizeof(xs));
    }
    assert_int_equal(lp_bytes(lp), sizeof(golden) - 1);
    assert_memory_equal(lp, golden, sizeof(golden) - 1);
    assert_true(lp_validate((const unsigned char *)golden, sizeof(golden) - 1, 1));
    /* reading back: every value formats to its original text */
    unsigned char *p = lp_first(lp);
    for (size_t i = 0; i < sizeof(golden_pairs) / sizeof(golden_pairs[0]); i++) {
        assert_true(lp_eq(p, golden_pairs[i][0], 1));
        p = lp_next(lp, p);
        unsigned char buf[32];
        uint32_t len;
        const unsigned char *s = lp_get_str(p, buf, &len);
        const char *v = golden_pairs[i][1];
        if (v) {
            assert_int_equal(len, strlen(v));
            assert_memory_equal(s, v, len);
            assert_true(lp_eq(p, v, len));
        } else {
            assert_int_equal(len, 70);
        }
        p = lp_next(lp, p);
    }
    assert_null(p);
    lp_free(lp);

    /* 200 'y' (12-bit string, 2-byte backlen) and 5000 'z' (32-bit string) as well: length and FNV-1a of Redis's bytes */
    static char ys[200], zs[5000];
    memset(ys, 'y', sizeof(ys));
    memset(zs, 'z', sizeof(zs));
    static const char *order[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k",
                                  "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v"};
    static const char *vals[] = {"1", "hello", "-5", "300", NULL, "100000", "-4096", "4095", "-4097", "32768", "8388608",
                                 "2147483648", "-9223372036854775808", "", "007", "-0", "127", "128", NULL, NULL,
                                 "-8388609", "-2147483649"};
    lp = lp_new(0);
    for (int i = 0; i < 22; i++) {
        lp = lp_append(lp, order[i], 1);
        if (vals[i]) lp = lp_append(lp, vals[i], (uint32_t)strlen(vals[i]));
        else if (i == 4) lp = lp_append(lp, xs, 70);
        else if (i == 18) lp = lp_append(lp, ys, 200);
        else lp = lp_append(lp, zs, 5000);
    }
    assert_int_equal(lp_bytes(lp), 5450);
    assert_true(fnv(lp, 5450) == 0xc441f2609f44eb09ULL);
    assert_true(lp_validate(lp, 5450, 1));
    lp_free(lp);
}

/* The encoding byte Redis chooses for a value. */
static void test_encodings(void **state) {
    (void)state;
    struct { const char *s; unsigned char first; size_t size; } cases[] = {
        {"0", 0x00, 2}, {"127", 0x7f, 2}, {"128", 0xc0, 3}, {"-1", 0xdf, 3}, {"4095", 0xcf, 3},
        {"-4096", 0xd0, 3}, {"4096", 0xf1, 4}, {"-32768", 0xf1, 4}, {"32768", 0xf2, 5}, {"8388607", 0xf2, 5},
        {"8388608", 0xf3, 6}, {"-2147483648", 0xf3, 6}, {"2147483648", 0xf4, 10}, {"", 0x80, 2},
        {"01", 0x82, 4}, {"-0", 0x82, 4}, {"+1", 0x82, 4}, {" 1", 0x82, 4}, {"1 ", 0x82, 4},
        {"9223372036854775808", 0x93, 21},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned char *lp = lp_new(0);
        lp = lp_append(lp, cases[i].s, (uint32_t)strlen(cases[i].s));
        assert_int_equal(lp[6], cases[i].first);
        assert_int_equal(lp_bytes(lp), 7 + cases[i].size);
        lp_free(lp);
    }
    /* string lengths: 63 -> 6 bit, 64 -> 12 bit, 4095 -> 12 bit, 4096 -> 32 bit; backlen sizes 1/2/3 */
    static char big[20000];
    memset(big, 'q', sizeof(big));
    struct { uint32_t len; size_t size; } sc[] = {
        {63, 1 + 63 + 1}, {64, 2 + 64 + 1}, {125, 2 + 125 + 1}, {126, 2 + 126 + 2}, {4095, 2 + 4095 + 2},
        {4096, 5 + 4096 + 2}, {16377, 5 + 16377 + 2}, {16378, 5 + 16378 + 3},
    };
    for (size_t i = 0; i < sizeof(sc) / sizeof(sc[0]); i++) {
        unsigned char *lp = lp_new(0);
        lp = lp_append(lp, big, sc[i].len);
        assert_int_equal(lp_bytes(lp), 7 + sc[i].size);
        assert_true(lp_validate(lp, lp_bytes(lp), 1));
        unsigned char *p = lp_last(lp);
        assert_ptr_equal(p, lp + 6);
        lp_val v;
        lp_get(p, &v);
        assert_int_equal(v.len, sc[i].len);
        lp_free(lp);
    }
    /* integers read back through lp_get */
    unsigned char *lp = lp_new(0);
    long long ints[] = {0, 1, -1, 127, 128, -4096, -4097, 4095, 4096, 32767, -32768, 32768, 8388607, -8388608,
                        8388608, 2147483647, -2147483648LL, 2147483648LL, (long long)0x7fffffffffffffffULL,
                        -(long long)0x7fffffffffffffffULL - 1};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) lp = lp_append_int(lp, ints[i]);
    unsigned char *p = lp_first(lp);
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++, p = lp_next(lp, p)) {
        lp_val v;
        lp_get(p, &v);
        assert_null(v.s);
        assert_true(v.i == ints[i]);
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%lld", ints[i]);
        assert_true(lp_eq(p, buf, (uint32_t)n));
        assert_ptr_equal(lp_find(lp, lp_first(lp), buf, (uint32_t)n, 0), p);
    }
    lp_free(lp);
}

/* ---- random operations against a model ---- */

#define MAXN 300
typedef struct { char s[600]; uint32_t len; } mstr;
static mstr model[MAXN];
static int mn;

static void rand_str(mstr *m) {
    int kind = rand() % 6;
    if (kind == 0) m->len = (uint32_t)snprintf(m->s, sizeof(m->s), "%d", rand() % 300 - 150);
    else if (kind == 1) m->len = (uint32_t)snprintf(m->s, sizeof(m->s), "%lld", (long long)rand() * rand() * (rand() % 2 ? 1 : -1));
    else if (kind == 2) m->len = (uint32_t)snprintf(m->s, sizeof(m->s), "0%d", rand() % 100);
    else {
        m->len = (uint32_t)(kind == 5 ? rand() % 600 : rand() % 70);
        for (uint32_t i = 0; i < m->len; i++) m->s[i] = (char)(rand() % 256);
    }
}

static void check_model(unsigned char *lp) {
    assert_true(lp_validate(lp, lp_bytes(lp), 1));
    assert_null(lp_check(lp));
    assert_int_equal(lp_length(lp), mn);
    unsigned char *p = lp_first(lp);
    for (int i = 0; i < mn; i++) {
        assert_non_null(p);
        unsigned char buf[32];
        uint32_t len;
        const unsigned char *s = lp_get_str(p, buf, &len);
        assert_int_equal(len, model[i].len);
        assert_memory_equal(s, model[i].s, len);
        assert_true(lp_eq(p, model[i].s, model[i].len));
        p = lp_next(lp, p);
    }
    assert_null(p);
    p = lp_last(lp);
    for (int i = mn - 1; i >= 0; i--) {
        assert_non_null(p);
        assert_true(lp_eq(p, model[i].s, model[i].len));
        p = lp_prev(lp, p);
    }
    assert_null(p);
    if (mn) {
        int i = rand() % mn;
        assert_true(lp_eq(lp_seek(lp, i), model[i].s, model[i].len));
        assert_true(lp_eq(lp_seek(lp, i - mn), model[i].s, model[i].len));
    }
    assert_null(lp_seek(lp, mn));
    assert_null(lp_seek(lp, -mn - 1));
}

static void random_ops(int compact) {
    srand(compact ? 7 : 3);
    unsigned char *lp = compact ? lp_new_compact() : lp_new(0);
    mn = 0;
    int moved = 0;
    for (int step = 0; step < 6000; step++) {
        int op = rand() % 9;
        mstr m;
        rand_str(&m);
        if (op <= 2 && mn < MAXN) { /* append / prepend / insert */
            int at = op == 0 ? mn : op == 1 ? 0 : rand() % (mn + 1);
            if (op == 0) lp = lp_append(lp, m.s, m.len);
            else if (op == 1) lp = lp_prepend(lp, m.s, m.len);
            else if (at == mn) {
                if (mn == 0) lp = lp_append(lp, m.s, m.len);
                else {
                    unsigned char *p = lp_seek(lp, mn - 1);
                    lp = lp_insert(lp, &p, m.s, m.len, LP_AFTER);
                    assert_true(lp_eq(p, m.s, m.len));
                }
            } else {
                unsigned char *p = lp_seek(lp, at);
                lp = lp_insert(lp, &p, m.s, m.len, LP_BEFORE);
                assert_true(lp_eq(p, m.s, m.len));
            }
            memmove(&model[at + 1], &model[at], sizeof(mstr) * (size_t)(mn - at));
            model[at] = m;
            mn++;
        } else if (op == 3 && mn) { /* replace */
            int at = rand() % mn;
            unsigned char *p = lp_seek(lp, at);
            lp = lp_replace(lp, &p, m.s, m.len);
            assert_true(lp_eq(p, m.s, m.len));
            model[at] = m;
        } else if (op == 4 && mn) { /* replace with an element of the same listpack (it moves while copied) */
            int at = rand() % mn, from = rand() % mn;
            unsigned char *p = lp_seek(lp, at), *q = lp_seek(lp, from);
            lp_val v;
            lp_get(q, &v);
            if (v.s) {
                lp = lp_replace(lp, &p, (const char *)v.s, v.len);
                model[at] = model[from];
            }
        } else if ((op == 5 || op == 6) && mn) { /* delete */
            int at = rand() % mn;
            unsigned char *p = lp_seek(lp, at);
            lp = lp_delete(lp, &p);
            if (at < mn - 1) assert_true(lp_eq(p, model[at + 1].s, model[at + 1].len));
            else assert_null(p);
            memmove(&model[at], &model[at + 1], sizeof(mstr) * (size_t)(mn - at - 1));
            mn--;
        } else if (op == 7 && mn) { /* delete a range */
            int at = rand() % mn, cnt = rand() % 5;
            lp = lp_delete_range(lp, at, (unsigned long)cnt);
            if (cnt > mn - at) cnt = mn - at;
            memmove(&model[at], &model[at + cnt], sizeof(mstr) * (size_t)(mn - at - cnt));
            mn -= cnt;
        } else if (op == 8 && mn) { /* find with a skip */
            int at = rand() % mn, skip = rand() % 2;
            unsigned char *p = lp_find(lp, lp_first(lp), model[at].s, model[at].len, (unsigned)skip);
            int want = -1;
            for (int i = 0; i < mn; i += skip + 1)
                if (model[i].len == model[at].len && memcmp(model[i].s, model[at].s, model[i].len) == 0) {
                    want = i;
                    break;
                }
            if (want < 0) assert_null(p);
            else assert_ptr_equal(p, lp_seek(lp, want));
        }
        if (compact && lp_bytes(lp) > ARENA_MAX_ALLOC) moved = 1;
        if (compact) assert_true(lp_alloc_size(lp) >= lp_bytes(lp));
        if (compact && lp_bytes(lp) <= 256) assert_true(lp_alloc_size(lp) < lp_bytes(lp) + 8);
        check_model(lp);
    }
    if (compact) {
        while (lp_bytes(lp) <= 2 * ARENA_MAX_ALLOC && mn < MAXN) { /* grow past the arena's largest class */
            mstr m;
            m.len = 500;
            memset(m.s, 'g', m.len);
            lp = lp_append(lp, m.s, m.len);
            model[mn++] = m;
            if (lp_bytes(lp) > ARENA_MAX_ALLOC) moved = 1;
            check_model(lp);
        }
        assert_true(moved);
    }
    unsigned char *d = lp_dup(lp);
    assert_memory_equal(d, lp, lp_bytes(lp));
    lp_free(d);
    lp_free(lp);
}

static void test_random_ops(void **state) {
    (void)state;
    random_ops(0);
}

static void test_random_ops_compact(void **state) {
    (void)state;
    size_t live = arena_live_bytes();
    random_ops(1);
    assert_int_equal(arena_live_bytes(), live);
}

static void test_count_saturates(void **state) {
    (void)state;
    unsigned char *lp = lp_new(0);
    for (int i = 0; i < 70000; i++) lp = lp_append_int(lp, i % 100);
    assert_int_equal(lp[4] | lp[5] << 8, 65535);
    assert_int_equal(lp_length(lp), 70000);
    assert_true(lp_validate(lp, lp_bytes(lp), 1));
    lp = lp_delete_range(lp, 0, 3000);
    assert_int_equal(lp_length(lp), 67000);
    assert_int_equal(lp[4] | lp[5] << 8, 65535);
    lp = lp_delete_range(lp, -5000, 5000);
    assert_int_equal(lp_length(lp), 62000);
    assert_int_equal(lp[4] | lp[5] << 8, 62000); /* recounted and written back */
    lp_val v;
    lp_get(lp_seek(lp, -1), &v);
    assert_true(v.i == (61999 + 3000) % 100);
    lp_free(lp);
}

/* lp_check names what is wrong: each corruption below is caught. */
static void test_check_catches(void **state) {
    (void)state;
    unsigned char *lp = lp_new(0);
    lp = lp_append(lp, "hello", 5);
    lp = lp_append(lp, "12", 2);
    lp = lp_append(lp, "world", 5);
    assert_null(lp_check(lp));
    size_t n = lp_bytes(lp);
    unsigned char *bad = malloc(n);
    memcpy(bad, lp, n);
    bad[4] = 7; /* element count */
    assert_string_equal(lp_check(bad), "listpack: header count differs from the elements");
    memcpy(bad, lp, n);
    bad[6 + 6] ^= 1; /* the first element's backlen (after 0x85 "hello") */
    assert_string_equal(lp_check(bad), "listpack: backlen differs from the element size");
    memcpy(bad, lp, n);
    bad[n - 1] = 0; /* terminator */
    assert_non_null(lp_check(bad));
    memcpy(bad, lp, n);
    memcpy(bad + 6 + 1, "1234", 4); /* "1234o": still a string; "12345" would be integer text */
    bad[6 + 5] = '5';
    assert_string_equal(lp_check(bad), "listpack: integer text stored as a string");
    free(bad);
    lp_free(lp);
}

static void test_validate_rejects(void **state) {
    (void)state;
    unsigned char buf[400];
    memcpy(buf, golden, 285);
    assert_true(lp_validate(buf, 285, 1));
    assert_false(lp_validate(buf, 284, 1));
    for (int i = 0; i < 285; i++) { /* one flipped byte is never accepted as the same bytes... unless harmless */
        unsigned char save = buf[i];
        buf[i] ^= 0x80;
        int ok = lp_validate(buf, 285, 1);
        if (i < 6 || i == 284) assert_false(ok); /* header and terminator */
        buf[i] = save;
    }
    unsigned char bad[] = {9, 0, 0, 0, 1, 0, 0xF5, 2, 0xFF};
    assert_false(lp_validate(bad, sizeof(bad), 1));
    unsigned char cnt[] = {9, 0, 0, 0, 2, 0, 0x01, 1, 0xFF};
    assert_false(lp_validate(cnt, sizeof(cnt), 1));
    cnt[4] = 1;
    assert_true(lp_validate(cnt, sizeof(cnt), 1));
    unsigned char trunc[] = {9, 0, 0, 0, 1, 0, 0xE0, 0x40, 0xFF};
    assert_false(lp_validate(trunc, sizeof(trunc), 1));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_bytes),     cmocka_unit_test(test_encodings),
        cmocka_unit_test(test_random_ops),       cmocka_unit_test(test_random_ops_compact),
        cmocka_unit_test(test_count_saturates),  cmocka_unit_test(test_validate_rejects),
        cmocka_unit_test(test_check_catches),
    };
    return cmocka_run_group_tests_name("listpack", tests, setup, NULL);
}
