/* Unit tests for the HyperLogLog representation (types/hll.c): golden bytes
 * produced by redis-server 7.0 for the same additions, random register
 * updates against a model (16384 plain registers) with the sparse -> dense
 * conversion at many sparse size limits, the estimator on equal registers,
 * the cached cardinality, corrupt sparse data, PFDEBUG DECODE text and the
 * self test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "types/hll.h"
#include "util/mem.h"

static uint64_t fnv1a(const void *p, size_t n) {
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static void from_hex(const char *hex, uint8_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static uint64_t count_of(const rstr *s) {
    int invalid = 0;
    uint64_t n = hll_count((const uint8_t *)s->data, s->len, &invalid);
    assert_int_equal(invalid, 0);
    return n;
}

static void test_empty(void **state) {
    (void)state;
    rstr *s = hll_new();
    static const uint8_t want[] = {'H', 'Y', 'L', 'L', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff};
    assert_int_equal(s->len, sizeof(want));
    assert_memory_equal(s->data, want, sizeof(want));
    assert_true(hll_valid((uint8_t *)s->data, s->len));
    uint64_t card = 99;
    assert_true(hll_cached((uint8_t *)s->data, &card));
    assert_int_equal(card, 0);
    assert_int_equal(count_of(s), 0);
    s_free(s);
}

/* PFADD g a..z on redis-server 7.0.15, then GET g. */
static const char golden_sparse[] =
    "48594c4c01000000000000000000008044458c42268040898846e89441758440ec840e8040c484449094446680426280443c843880408f"
    "8041ac8047d18043b08042ed8441fc8c43938443188840df80426d8041d080407e8408";

static void test_golden_sparse(void **state) {
    (void)state;
    rstr *s = hll_new();
    int changed = 0;
    for (char ch = 'a'; ch <= 'z'; ch++) changed |= hll_add(&s, &ch, 1, 3000);
    assert_int_equal(changed, 1);
    hll_invalidate((uint8_t *)s->data); /* PFADD invalidates the cache */
    uint8_t want[90];
    from_hex(golden_sparse, want, sizeof(want));
    assert_int_equal(s->len, sizeof(want));
    assert_memory_equal(s->data, want, sizeof(want));
    assert_int_equal(count_of(s), 25); /* Redis's PFCOUNT */
    s_free(s);
}

/* PFADD d e:0 .. e:4999 (dense past 3000 sparse bytes): length, FNV-1a of the bytes, PFCOUNT, FNV-1a after it. */
static void test_golden_dense(void **state) {
    (void)state;
    rstr *s = hll_new();
    for (int i = 0; i < 5000; i++) {
        char e[16];
        int n = snprintf(e, sizeof(e), "e:%d", i);
        assert_true(hll_add(&s, e, (size_t)n, 3000) >= 0);
    }
    hll_invalidate((uint8_t *)s->data);
    assert_int_equal(hll_encoding((uint8_t *)s->data), HLL_DENSE);
    assert_int_equal(s->len, HLL_DENSE_SIZE);
    assert_int_equal(fnv1a(s->data, s->len), 0x1fedc8adf8412158ULL);
    uint64_t card = count_of(s);
    assert_int_equal(card, 5027);
    hll_set_cache((uint8_t *)s->data, card);
    assert_int_equal(fnv1a(s->data, s->len), 0x846b55b7fda0b5a2ULL);
    s_free(s);
}

static void test_hash(void **state) {
    (void)state;
    /* Reference MurmurHash64A values (seed 0): the empty input hashes to 0. */
    assert_int_equal(hll_murmur64a("", 0, 0), 0);
    /* Tail bytes and whole blocks both take part; every length differs. */
    char buf[40];
    for (int i = 0; i < 40; i++) buf[i] = (char)('a' + i % 26);
    uint64_t seen[40];
    for (int n = 0; n < 40; n++) {
        seen[n] = hll_murmur64a(buf, (size_t)n, HLL_SEED);
        for (int m = 0; m < n; m++) assert_true(seen[m] != seen[n]);
    }
    long idx;
    int count = hll_hash("a", 1, &idx);
    assert_true(idx >= 0 && idx < HLL_REGISTERS);
    assert_true(count >= 1 && count <= HLL_Q + 1);
}

static void test_dense_registers(void **state) {
    (void)state;
    static uint8_t regs[HLL_DENSE_SIZE - HLL_HDR_SIZE];
    static uint8_t model[HLL_REGISTERS];
    memset(regs, 0, sizeof(regs));
    memset(model, 0, sizeof(model));
    srand(7);
    for (int round = 0; round < 100000; round++) {
        long i = rand() % HLL_REGISTERS;
        uint8_t v = (uint8_t)(rand() % 64);
        hll_dense_put(regs, i, v);
        model[i] = v;
        long j = rand() % HLL_REGISTERS;
        assert_int_equal(hll_dense_get(regs, j), model[j]);
    }
    for (long i = 0; i < HLL_REGISTERS; i++) assert_int_equal(hll_dense_get(regs, i), model[i]);
    /* the last register lives in the last byte: nothing is written past it */
    hll_dense_put(regs, HLL_REGISTERS - 1, 63);
    assert_int_equal(regs[sizeof(regs) - 1] >> 2, 63);
}

/* Random register raises against a model, for several sparse limits: the registers always match, the
 * estimate equals the estimate of the model, the sparse form never exceeds its limit and turns dense
 * exactly once. */
static void model_run(size_t sparse_max, unsigned seed, int steps, int maxval) {
    static uint8_t model[HLL_REGISTERS], got[HLL_REGISTERS];
    memset(model, 0, sizeof(model));
    rstr *s = hll_new();
    srand(seed);
    int was_dense = 0;
    for (int step = 0; step < steps; step++) {
        long i = rand() % HLL_REGISTERS;
        if (step % 3 == 0 && step) i = (i % 64) + 8000; /* clustered registers: VAL runs and merges */
        uint8_t v = (uint8_t)(1 + rand() % maxval);
        int want = v > model[i];
        int rc = hll_set(&s, i, v, sparse_max);
        assert_int_equal(rc, want);
        if (want) model[i] = v;
        int dense = hll_encoding((uint8_t *)s->data) == HLL_DENSE;
        if (was_dense) assert_true(dense);
        was_dense = dense;
        if (!dense) assert_true(s->len <= (sparse_max > 18 ? sparse_max : 18));
        else assert_int_equal(s->len, HLL_DENSE_SIZE);
        assert_int_equal(s->data[s->len], 0);
        if (step % 97 == 0 || step == steps - 1) {
            hll_invalidate((uint8_t *)s->data); /* PFADD's job; hll_set leaves the cache alone */
            assert_null(hll_check((uint8_t *)s->data, s->len));
            memset(got, 0, sizeof(got));
            assert_int_equal(hll_merge(got, (uint8_t *)s->data, s->len), 0);
            assert_memory_equal(got, model, sizeof(model));
            assert_int_equal(count_of(s), hll_count_registers(model));
        }
    }
    /* the conversion keeps every register */
    rstr *d = s;
    assert_int_equal(hll_to_dense(&d), 0);
    memset(got, 0, sizeof(got));
    assert_int_equal(hll_merge(got, (uint8_t *)d->data, d->len), 0);
    assert_memory_equal(got, model, sizeof(model));
    s_free(d);
}

static void test_check_catches(void **state) {
    (void)state;
    rstr *s = hll_new();
    assert_null(hll_check((uint8_t *)s->data, s->len));
    assert_int_equal(hll_add(&s, "a", 1, 3000), 1);
    hll_set_cache((uint8_t *)s->data, 5); /* a valid-marked cache that is wrong */
    assert_string_equal(hll_check((uint8_t *)s->data, s->len), "hll: cached cardinality differs from the registers");
    hll_set_cache((uint8_t *)s->data, 1);
    assert_null(hll_check((uint8_t *)s->data, s->len));
    s->data[HLL_HDR_SIZE] = 0x00; /* the first opcode now covers 1 register instead of the XZERO's run */
    assert_non_null(hll_check((uint8_t *)s->data, s->len));
    s->data[5] = 1;
    assert_string_equal(hll_check((uint8_t *)s->data, s->len), "hll: unused header bytes are not zero");
    s_free(s);
}

static void test_model(void **state) {
    (void)state;
    size_t limits[] = {0, 18, 19, 25, 64, 200, 1000, 3000, 100000};
    for (size_t k = 0; k < sizeof(limits) / sizeof(limits[0]); k++) {
        model_run(limits[k], (unsigned)(k + 1), 3000, 32);
        model_run(limits[k], (unsigned)(k + 100), 600, 51); /* values above 32 force dense */
    }
}

static void test_estimate(void **state) {
    (void)state;
    rstr *s = hll_new();
    for (long n = 1; n <= 200000; n++) {
        char e[24];
        int len = snprintf(e, sizeof(e), "item-%ld", n);
        assert_true(hll_add(&s, e, (size_t)len, 3000) >= 0);
        if (n == 10 || n == 100 || n == 1000 || n == 10000 || n == 200000) {
            double err = ((double)count_of(s) - (double)n) / (double)n;
            assert_true(err < 0.03 && err > -0.03);
        }
    }
    s_free(s);
}

static void test_cache(void **state) {
    (void)state;
    rstr *s = hll_new();
    uint8_t *p = (uint8_t *)s->data;
    hll_set_cache(p, 0x0011223344556677ULL);
    uint64_t v;
    assert_true(hll_cached(p, &v));
    assert_int_equal(v, 0x0011223344556677ULL);
    hll_invalidate(p);
    assert_false(hll_cached(p, &v));
    assert_int_equal(p[15], 0x80); /* only the top bit: the stale value stays */
    assert_int_equal(p[8], 0x77);
    s_free(s);
}

static void test_valid(void **state) {
    (void)state;
    uint8_t b[HLL_DENSE_SIZE];
    memset(b, 0, sizeof(b));
    memcpy(b, "HYLL", 4);
    assert_true(hll_valid(b, HLL_DENSE_SIZE));
    assert_false(hll_valid(b, HLL_DENSE_SIZE - 1));
    assert_false(hll_valid(b, 15));
    b[4] = 1;
    assert_true(hll_valid(b, 16));
    b[4] = 2;
    assert_false(hll_valid(b, 16));
    b[4] = 1;
    b[0] = 'h';
    assert_false(hll_valid(b, 100));
}

static void test_corrupt(void **state) {
    (void)state;
    rstr *s = hll_new();
    for (int i = 0; i < 50; i++) {
        char e[8];
        int n = snprintf(e, sizeof(e), "%d", i);
        hll_add(&s, e, (size_t)n, 3000);
    }
    s->len -= 2; /* cut the last opcodes: registers no longer add up to 16384 */
    s->data[s->len] = 0;
    int invalid = 0;
    hll_count((uint8_t *)s->data, s->len, &invalid);
    assert_int_equal(invalid, 1);
    uint8_t max[HLL_REGISTERS] = {0};
    assert_int_equal(hll_merge(max, (uint8_t *)s->data, s->len), -1);
    assert_int_equal(hll_set(&s, HLL_REGISTERS - 1, 1, 3000), -1);
    rstr *d = s;
    assert_int_equal(hll_to_dense(&d), -1);
    assert_ptr_equal(d, s);
    /* too many registers: a VAL run past the end */
    rstr *t = hll_new();
    t->data[16] = (char)0x7f;
    t->data[17] = (char)0xfe; /* XZERO 16383 */
    t = rstr_reserve(t, 19);
    t->data[18] = (char)0x83; /* VAL 1 x4: 16387 registers */
    t->len = 19;
    t->data[19] = 0;
    memset(max, 0, sizeof(max));
    assert_int_equal(hll_merge(max, (uint8_t *)t->data, t->len), -1);
    invalid = 0;
    hll_count((uint8_t *)t->data, t->len, &invalid);
    assert_int_equal(invalid, 1);
    rstr *u = t;
    assert_int_equal(hll_to_dense(&u), -1);
    /* exactly 16384 registers then one more opcode: corrupt too (as redis-server 7.0.15 judges it) */
    t->data[18] = (char)0x80; /* XZERO 16383 + VAL 1 = 16384 */
    t->len = 19;
    memset(max, 0, sizeof(max));
    assert_int_equal(hll_merge(max, (uint8_t *)t->data, t->len), 0);
    t = rstr_reserve(t, 20);
    t->data[19] = (char)0x80;
    t->len = 20;
    t->data[20] = 0;
    assert_int_equal(hll_merge(max, (uint8_t *)t->data, t->len), -1);
    u = t;
    assert_int_equal(hll_to_dense(&u), -1);
    assert_int_equal(hll_set(&t, 5, 3, 3000), 1); /* an update reads only up to its register */
    s_free(t);
    s_free(s);
}

static void test_decode(void **state) {
    (void)state;
    rstr *s = hll_new();
    size_t n;
    char *txt = hll_decode((uint8_t *)s->data, s->len, &n);
    assert_int_equal(n, strlen("Z:16384"));
    assert_memory_equal(txt, "Z:16384", n);
    s_free(txt);
    assert_int_equal(hll_set(&s, 3, 2, 3000), 1);
    assert_int_equal(hll_set(&s, 4, 2, 3000), 1); /* merges into v:2,2 */
    txt = hll_decode((uint8_t *)s->data, s->len, &n);
    assert_memory_equal(txt, "z:3 v:2,2 Z:16379", n);
    assert_int_equal(n, strlen("z:3 v:2,2 Z:16379"));
    s_free(txt);
    assert_int_equal(hll_to_dense(&s), 0);
    assert_null(hll_decode((uint8_t *)s->data, s->len, &n));
    s_free(s);
}

static void test_selftest(void **state) {
    (void)state;
    char err[256] = "";
    assert_int_equal(hll_selftest(err, sizeof(err)), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),        cmocka_unit_test(test_golden_sparse), cmocka_unit_test(test_golden_dense),
        cmocka_unit_test(test_hash),         cmocka_unit_test(test_dense_registers), cmocka_unit_test(test_model),
        cmocka_unit_test(test_estimate),     cmocka_unit_test(test_cache),         cmocka_unit_test(test_valid),
        cmocka_unit_test(test_corrupt),      cmocka_unit_test(test_decode),        cmocka_unit_test(test_selftest),
        cmocka_unit_test(test_check_catches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
