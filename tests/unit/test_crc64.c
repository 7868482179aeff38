/* Unit tests for util/crc64: the check value of the RDB checksum, and that the 8-byte fold agrees with the
 * byte-at-a-time definition for every length and alignment, and so does the carry-less multiply path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include "util/crc64.h"

static uint64_t bitwise(uint64_t crc, const unsigned char *p, size_t n) {
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++) crc = (crc & 1) ? (crc >> 1) ^ 0x95ac9329ac4bc9b5ULL : crc >> 1;
    }
    return crc;
}

static void check_value(void **state) {
    (void)state;
    assert_true(crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9caULL);
    assert_true(crc64(0, "", 0) == 0);
}

static void matches_bitwise(void **state) {
    (void)state;
    unsigned char buf[300];
    for (size_t i = 0; i < sizeof(buf); i++) buf[i] = (unsigned char)(i * 131 + 7);
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n + off <= sizeof(buf); n += 7) {
            assert_true(crc64(0, buf + off, n) == bitwise(0, buf + off, n));
            /* incremental: two pieces give the crc of the whole */
            size_t h = n / 2;
            assert_true(crc64(crc64(0, buf + off, h), buf + off + h, n - h) == bitwise(0, buf + off, n));
        }
}

/* Long inputs take the carry-less multiply path where the CPU has it: every length around its thresholds
 * and block sizes (64-byte lanes, 16-byte blocks, the table tail), every alignment, running crcs. */
static void long_inputs_match_bitwise(void **state) {
    (void)state;
    static unsigned char buf[8192];
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < sizeof(buf); i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (unsigned char)x;
    }
    for (size_t off = 0; off < 16; off += 3)
        for (size_t n = 200; n < 1200; n++) {
            uint64_t want = bitwise(0, buf + off, n);
            assert_true(crc64(0, buf + off, n) == want);
            size_t h = n % 301;
            assert_true(crc64(crc64(0, buf + off, h), buf + off + h, n - h) == want);
        }
    assert_true(crc64(0, buf, sizeof(buf)) == bitwise(0, buf, sizeof(buf)));
    assert_true(crc64(0x123456789abcdefULL, buf + 1, 5000) == bitwise(0x123456789abcdefULL, buf + 1, 5000));
    memset(buf, 0, sizeof(buf));
    assert_true(crc64(0, buf, sizeof(buf)) == bitwise(0, buf, sizeof(buf)));
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(check_value), cmocka_unit_test(matches_bitwise),
                                       cmocka_unit_test(long_inputs_match_bitwise)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
