/* Unit tests for compressed string values (types/zstr.c): the bytes come back exactly, what is not
 * compressed (off, too short, too long, incompressible, another thread), the dictionary trained from
 * the first values (at once, as during a file's load) and used after, and the count of values per
 * dictionary through dup and free. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "types/zstr.h"
#include "util/mem.h"

static unsigned long long seed = 88172645463325252ull;
static unsigned rnd(void) {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return (unsigned)seed;
}

/* A JSON-like document of 600-1000 bytes: fixed field names, random numbers and ids. */
static size_t doc(char *out, size_t cap) {
    static const char *words[] = {"alpha", "bravo", "charlie", "delta", "echo", "golf", "hotel", "kilo"};
    size_t n =
        (size_t)snprintf(out, cap, "{\"id\":\"%08x%08x\",\"type\":\"order\",\"items\":[", rnd(), rnd());
    int items = 4 + (int)(rnd() % 4);
    for (int i = 0; i < items; i++)
        n += (size_t)snprintf(out + n, cap - n,
                              "%s{\"sku\":\"SKU-%06u\",\"qty\":%u,\"price\":%u.%02u,\"name\":\"%s %s\"}",
                              i ? "," : "", rnd() % 1000000, 1 + rnd() % 9, rnd() % 500, rnd() % 100,
                              words[rnd() % 8], words[rnd() % 8]);
    n += (size_t)snprintf(out + n, cap - n, "],\"status\":\"%s\",\"notes\":\"", words[rnd() % 8]);
    for (int i = 0; i < 20; i++) n += (size_t)snprintf(out + n, cap - n, "%s ", words[rnd() % 8]);
    n += (size_t)snprintf(out + n, cap - n, "\"}");
    return n;
}

static void roundtrip(const zstr *z, const char *p, size_t len) {
    char *back = s_malloc(len + 1);
    zstr_unpack(z, back);
    assert_int_equal(z->len, len);
    assert_memory_equal(back, p, len);
    assert_int_equal(back[len], 0);
    assert_null(zstr_check(z));
    s_free(back);
}

static void *other_thread(void *arg) {
    char *d = arg;
    return zstr_make(d, strlen(d));
}

static void test_not_compressed(void **state) {
    (void)state;
    char d[2048];
    size_t n = doc(d, sizeof(d));
    zparams.algo = ZCOMP_NO;
    assert_null(zstr_make(d, n));
    zparams.algo = ZCOMP_ZSTD;
    zparams.dict = 0;
    zparams.min_size = (long long)n + 1;
    assert_null(zstr_make(d, n));
    zparams.min_size = 64;
    char noise[600];
    for (size_t i = 0; i < sizeof(noise); i++) noise[i] = (char)rnd();
    assert_null(zstr_make(noise, sizeof(noise)));
    char *big = s_calloc(ZSTR_MAX + 1);
    assert_null(zstr_make(big, ZSTR_MAX + 1));
    zstr *z = zstr_make(big, ZSTR_MAX); /* zeros: the longest value compressed */
    assert_non_null(z);
    roundtrip(z, big, ZSTR_MAX);
    zstr_free(z);
    s_free(big);
    pthread_t t;
    void *res;
    assert_int_equal(pthread_create(&t, NULL, other_thread, d), 0);
    pthread_join(t, &res);
    assert_null(res); /* only the loop thread compresses */
}

static void test_without_dictionary(void **state) {
    (void)state;
    zparams.algo = ZCOMP_ZSTD;
    zparams.dict = 0;
    zparams.min_size = 64;
    for (int level = 1; level <= 19; level += 6) {
        zparams.level = level;
        char d[2048];
        size_t n = doc(d, sizeof(d));
        zstr *z = zstr_make(d, n);
        assert_non_null(z);
        assert_int_equal(z->dict, 0);
        assert_true(z->clen + sizeof(zstr) <= n - n / 8);
        roundtrip(z, d, n);
        zstr *c = zstr_dup(z);
        zstr_free(z);
        roundtrip(c, d, n);
        zstr_free(c);
    }
    zparams.level = 3;
    zstr_stats st;
    zstr_get_stats(&st);
    assert_int_equal(st.values, 0);
    assert_int_equal(st.bytes_in, 0);
}

static void test_dictionary(void **state) {
    (void)state;
    zparams.algo = ZCOMP_ZSTD;
    zparams.dict = 1;
    zparams.min_size = 64;
    zstr_bulk(1); /* train at once when the samples are complete */
    static zstr *zs[ZSTR_SAMPLES + 200];
    static char docs[ZSTR_SAMPLES + 200][1200];
    static size_t lens[ZSTR_SAMPLES + 200];
    size_t before = 0, after = 0, nb = 0, na = 0;
    for (int i = 0; i < ZSTR_SAMPLES + 200; i++) {
        lens[i] = doc(docs[i], sizeof(docs[i]));
        zs[i] = zstr_make(docs[i], lens[i]);
        assert_non_null(zs[i]);
        if (i < ZSTR_SAMPLES - 1) { /* the last sample completes the set: trained, then used for it */
            assert_int_equal(zs[i]->dict, 0);
            before += zs[i]->clen, nb += lens[i];
        } else {
            assert_int_not_equal(zs[i]->dict, 0);
            after += zs[i]->clen, na += lens[i];
        }
    }
    zstr_bulk(0);
    zstr_stats st;
    zstr_get_stats(&st);
    assert_string_equal(st.dict_state, "ready");
    assert_int_equal(st.dicts, 1);
    assert_true((double)after / (double)na < 0.8 * (double)before / (double)nb); /* it pays */
    for (int i = 0; i < ZSTR_SAMPLES + 200; i++) roundtrip(zs[i], docs[i], lens[i]);
    zstr *c = zstr_dup(zs[ZSTR_SAMPLES + 5]);
    for (int i = 0; i < ZSTR_SAMPLES + 200; i++) zstr_free(zs[i]);
    roundtrip(c, docs[ZSTR_SAMPLES + 5], lens[ZSTR_SAMPLES + 5]); /* its dictionary is still there */
    zstr_free(c);
    zstr_get_stats(&st);
    assert_int_equal(st.values, 0);
    assert_int_equal(st.dicts, 1); /* the current one stays with no values */
    char d[2048];
    size_t n = doc(d, sizeof(d));
    zstr *z = zstr_make(d, n);
    assert_int_not_equal(z->dict, 0);
    zparams.dict = 0; /* off: new values without it, old ones still read */
    zstr *z2 = zstr_make(d, n);
    assert_int_equal(z2->dict, 0);
    roundtrip(z, d, n);
    roundtrip(z2, d, n);
    zstr_free(z);
    zstr_free(z2);
}

int main(void) {
    zstr_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_compressed),
        cmocka_unit_test(test_without_dictionary),
        cmocka_unit_test(test_dictionary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
