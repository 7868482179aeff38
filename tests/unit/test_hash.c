/* Unit tests for the hash and set values (types/thash.c, types/tset.c):
 * random operations against a model with the encoding conversions at every
 * threshold (listpack/intset -> hashtable, never back), iteration, SCAN
 * coverage, random sampling, duplication and freeing in slices. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mem/arena.h"
#include "server/server.h"
#include "types/limits.h"
#include "types/object.h"
#include "types/thash.h"
#include "types/tset.h"
#include "util/siphash.h"

static int setup(void **state) {
    (void)state;
    siphash_seed_random();
    return arena_init((size_t)1 << 32);
}

/* ---- hashes ---- */

#define HN 400
static char hval_model[HN][80];
static int hpresent[HN];

static void field_of(int i, char *buf) { snprintf(buf, 32, i % 5 == 0 ? "%d" : "field:%d", i); }

typedef struct counter {
    int n, bad;
} counter;

static void count_pair(void *ud, const char *f, size_t flen, const char *v, size_t vlen) {
    counter *c = ud;
    c->n++;
    char buf[32];
    int i = -1;
    if (flen && flen < 31) {
        memcpy(buf, f, flen);
        buf[flen] = 0;
        i = atoi(strchr(buf, ':') ? strchr(buf, ':') + 1 : buf);
    }
    if (i < 0 || i >= HN || !hpresent[i] || strlen(hval_model[i]) != vlen || memcmp(hval_model[i], v, vlen))
        c->bad++;
}

static void check_hash(void *h, int expect_n) {
    assert_int_equal(hash_len(h), expect_n);
    assert_null(hash_check(h));
    counter c = {0, 0};
    hash_foreach(h, count_pair, &c);
    assert_int_equal(c.n, expect_n);
    assert_int_equal(c.bad, 0);
    /* a full SCAN returns every pair at least once */
    counter s = {0, 0};
    uint64_t cur = 0;
    do cur = hash_scan(h, cur, 7, count_pair, &s);
    while (cur);
    assert_int_equal(s.bad, 0);
    assert_true(s.n >= expect_n);
}

static void hash_model_run(long max_entries, long max_value, unsigned seed) {
    limits.hash_max_listpack_entries = max_entries;
    limits.hash_max_listpack_value = max_value;
    memset(hpresent, 0, sizeof(hpresent));
    srand(seed);
    size_t live = arena_live_bytes();
    void *h = hash_new();
    int n = 0, converted = 0;
    for (int step = 0; step < 6000; step++) {
        int i = rand() % (max_entries * 2 + 10 < HN ? (int)max_entries * 2 + 10 : HN);
        char f[32];
        field_of(i, f);
        hval hv;
        int found = hash_get(h, f, strlen(f), &hv);
        assert_int_equal(found, hpresent[i]);
        if (found) assert_memory_equal(hv.s, hval_model[i], hv.len);
        if (rand() % 3) {
            char v[80];
            int kind = rand() % 4;
            if (kind == 0) snprintf(v, sizeof(v), "%d", rand() - RAND_MAX / 2);
            else if (kind == 1) snprintf(v, sizeof(v), "v%d", rand() % 1000);
            else memset(v, 'x', (size_t)(rand() % 70)), v[rand() % 70] = 0;
            if (kind >= 2) v[strlen(v)] = 0;
            size_t vl = strlen(v);
            if (vl > (size_t)max_value || strlen(f) > (size_t)max_value) converted = 1;
            int isnew = hash_set(&h, f, strlen(f), v, vl);
            assert_int_equal(isnew, !hpresent[i]);
            if (isnew) n++;
            if (n > max_entries) converted = 1;
            hpresent[i] = 1;
            strcpy(hval_model[i], v);
        } else {
            int del = hash_del(&h, f, strlen(f));
            assert_int_equal(del, hpresent[i]);
            if (del) n--;
            hpresent[i] = 0;
        }
        assert_int_equal(hash_is_listpack(h), !converted);
        if (step % 50 == 0) check_hash(h, n);
    }
    check_hash(h, n);
    void *d = hash_ops.dup(h);
    check_hash(d, n);
    assert_string_equal(hash_ops.encoding(d), hash_ops.encoding(h));
    /* random pairs: distinct ones are distinct and real */
    if (n > 3) {
        counter c = {0, 0};
        hash_random(h, (unsigned long)n / 2, 1, count_pair, &c);
        assert_int_equal(c.n, n / 2);
        assert_int_equal(c.bad, 0);
        counter r = {0, 0};
        hash_random(h, 3 * (unsigned long)n, 0, count_pair, &r);
        assert_int_equal(r.n, 3 * n);
        assert_int_equal(r.bad, 0);
    }
    hash_free(h);
    if (hash_ops.free_effort(d) > 1) {
        int steps = 0; /* kt_drain frees whole segments: one step for a small table */
        while (!hash_ops.free_step(d, 16)) assert_true(++steps < 1000);
    } else {
        hash_free(d);
    }
    assert_int_equal(arena_live_bytes(), live);
}

static void test_hash_small_limits(void **state) {
    (void)state;
    hash_model_run(8, 16, 1);
}
static void test_hash_default_limits(void **state) {
    (void)state;
    hash_model_run(128, 64, 2);
}
static void test_hash_zero_entries(void **state) {
    (void)state;
    limits.hash_max_listpack_entries = 0;
    limits.hash_max_listpack_value = 64;
    void *h = hash_new();
    assert_true(hash_is_listpack(h));
    hash_set(&h, "a", 1, "1", 1);
    assert_false(hash_is_listpack(h));
    hash_free(h);
}

/* ---- sets ---- */

#define SN 2000
static int spresent[SN];

static void member_of(int i, char *buf) {
    if (i % 7 == 3) snprintf(buf, 32, "m%d", i); /* a few non-integers */
    else snprintf(buf, 32, "%d", i * 1000 - 500000);
}

typedef struct scount {
    int n, bad;
    long long last;
    int ordered;
} scount;

static void count_member(void *ud, const char *m, size_t len) {
    scount *c = ud;
    c->n++;
    char buf[40];
    memcpy(buf, m, len);
    buf[len] = 0;
    int i = buf[0] == 'm' ? atoi(buf + 1) : (atoi(buf) + 500000) / 1000;
    if (i < 0 || i >= SN || !spresent[i]) c->bad++;
    if (buf[0] != 'm') {
        long long v = atoll(buf);
        if (c->n > 1 && v <= c->last) c->ordered = 0;
        c->last = v;
    }
}

static void set_model_run(long max_intset, int with_strings, unsigned seed) {
    limits.set_max_intset_entries = max_intset;
    memset(spresent, 0, sizeof(spresent));
    srand(seed);
    size_t live = arena_live_bytes();
    void *s = NULL;
    int n = 0, converted = 0;
    for (int step = 0; step < 20000; step++) {
        int i = rand() % SN;
        if (!with_strings && i % 7 == 3) i++;
        char m[32];
        member_of(i, m);
        if (!s) {
            s = set_create_for(m, strlen(m));
            converted = !set_is_intset(s);
        }
        assert_int_equal(set_has(s, m, strlen(m)), spresent[i]);
        if (rand() % 4) {
            int added = set_add(&s, m, strlen(m));
            assert_int_equal(added, !spresent[i]);
            n += added;
            spresent[i] = 1;
            if (m[0] == 'm' || n > max_intset) converted = 1;
        } else {
            int rem = set_rem(&s, m, strlen(m));
            assert_int_equal(rem, spresent[i]);
            n -= rem;
            spresent[i] = 0;
        }
        assert_int_equal(set_is_intset(s), !converted);
        assert_int_equal(set_len(s), n);
        if (step % 500 == 0) {
            assert_null(set_check(s));
            scount c = {0, 0, 0, 1};
            set_foreach(s, count_member, &c);
            assert_int_equal(c.n, n);
            assert_int_equal(c.bad, 0);
            if (set_is_intset(s)) assert_true(c.ordered);
            scount sc = {0, 0, 0, 1};
            uint64_t cur = 0;
            do cur = set_scan(s, cur, 5, count_member, &sc);
            while (cur);
            assert_true(sc.n >= n);
            assert_int_equal(sc.bad, 0);
        }
    }
    scount r = {0, 0, 0, 1};
    set_random(s, (unsigned long)n / 3, 1, count_member, &r);
    assert_int_equal(r.n, n / 3);
    assert_int_equal(r.bad, 0);
    void *d = set_ops.dup(s);
    assert_int_equal(set_len(d), n);
    set_free(s);
    if (set_ops.free_effort(d) > 1) {
        while (!set_ops.free_step(d, 100)) {
        }
    } else {
        set_free(d);
    }
    assert_int_equal(arena_live_bytes(), live);
}

static void test_set_intset_only(void **state) {
    (void)state;
    set_model_run(100000, 0, 3); /* stays an intset throughout */
}
static void test_set_intset_limit(void **state) {
    (void)state;
    set_model_run(512, 0, 4);
}
static void test_set_with_strings(void **state) {
    (void)state;
    set_model_run(512, 1, 5);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_small_limits), cmocka_unit_test(test_hash_default_limits),
        cmocka_unit_test(test_hash_zero_entries), cmocka_unit_test(test_set_intset_only),
        cmocka_unit_test(test_set_intset_limit),  cmocka_unit_test(test_set_with_strings),
    };
    return cmocka_run_group_tests_name("hash_set", tests, setup, NULL);
}
