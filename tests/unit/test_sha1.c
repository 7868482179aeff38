/* Unit tests for util/sha1: the FIPS 180 test vectors, one-shot and fed in
 * pieces of every size (block boundaries and padding at 55/56/64 bytes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "util/sha1.h"

static void hex(const unsigned char d[20], char out[41]) {
    for (int i = 0; i < 20; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_vectors(void **state) {
    (void)state;
    static const struct {
        const char *in, *want;
    } v[] = {
        {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
        {"The quick brown fox jumps over the lazy dog", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"},
    };
    unsigned char d[20];
    char h[41];
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        sha1(v[i].in, strlen(v[i].in), d);
        hex(d, h);
        assert_string_equal(h, v[i].want);
    }
}

static void test_million_a_in_pieces(void **state) {
    (void)state;
    static unsigned char a[1000];
    memset(a, 'a', sizeof(a));
    unsigned char d[20];
    char h[41];
    for (size_t piece = 1; piece <= 131; piece += 13) {
        sha1_ctx c;
        sha1_init(&c);
        size_t left = 1000000;
        while (left) {
            size_t n = left < piece ? left : piece;
            sha1_update(&c, a, n);
            left -= n;
        }
        sha1_final(&c, d);
        hex(d, h);
        assert_string_equal(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    }
}

static void test_pieces_equal_one_shot(void **state) {
    (void)state;
    unsigned char buf[200], d1[20], d2[20];
    for (size_t i = 0; i < sizeof(buf); i++) buf[i] = (unsigned char)(i * 7 + 3);
    for (size_t n = 0; n <= sizeof(buf); n++) {
        sha1(buf, n, d1);
        sha1_ctx c;
        sha1_init(&c);
        sha1_update(&c, buf, n / 3);
        sha1_update(&c, buf + n / 3, n - n / 3);
        sha1_final(&c, d2);
        assert_memory_equal(d1, d2, 20);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_million_a_in_pieces),
        cmocka_unit_test(test_pieces_equal_one_shot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
