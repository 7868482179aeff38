/* Unit tests for the entry layout (keyspace/entry.c): packed keys (trailing digits kept as a number) and the
 * 5-byte TTL with its wide escape.  Every key and time must come back exactly; a key is packed exactly when that
 * is shorter; collection elements (raw_key) never are; sizes match the layout's arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "keyspace/entry.h"
#include "mem/arena.h"

static int setup(void **state) {
    (void)state;
    return arena_init((size_t)1 << 32);
}

static handle_t build(const char *key, size_t klen, long long ttl, int raw) {
    entry_value v = {.type = OBJ_STRING, .store = VAL_INT, .ival = 7, .raw_key = raw};
    handle_t h = entry_build(key, klen, ttl, 0x123456, &v);
    assert_true(h != 0);
    return h;
}

static void check_roundtrip(const char *key, size_t klen, long long ttl) {
    handle_t h = build(key, klen, ttl, 0);
    const uint8_t *e = arena_ptr(h);
    keybuf kb;
    size_t len;
    const char *k = e_keyb(e, &kb, &len);
    assert_int_equal(len, klen);
    assert_memory_equal(k, key, klen);
    assert_int_equal(e_ttl(e), ttl < 0 ? -1 : ttl);
    assert_int_equal(e_int(e), 7);
    assert_int_equal(e_lru(e), 0x123456);
    assert_true(e_value(e) < e + arena_usable(h));
    /* equality without printing: the same bytes only */
    assert_true(e_key_eq(e, key, klen));
    char other[200];
    memcpy(other, key, klen);
    for (size_t i = 0; i < klen; i += 1 + klen / 7) {
        char saved = other[i];
        other[i] = (char)(saved == '9' ? 'x' : saved + 1);
        assert_false(e_key_eq(e, other, klen));
        other[i] = saved;
    }
    if (klen) assert_false(e_key_eq(e, key, klen - 1));
    other[klen] = '0';
    assert_false(e_key_eq(e, other, klen + 1));
    entry_free(h);
}

static void test_keys_roundtrip(void **state) {
    (void)state;
    const char *keys[] = {"", "1", "12", "123", "0000", "key:000000001234", "key:999999999999", "user:1042",
                          "a0", "x000", "abcdefgh:12345678", "000000000000000000", "999999999999999999",
                          "9999999999999999999", "18446744073709551615", "123456789012345678901234567890",
                          "key:1234:tail", "k:00000000000000000000000001", "über:0042"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        check_roundtrip(keys[i], strlen(keys[i]), -1);
        check_roundtrip(keys[i], strlen(keys[i]), 1700000000000LL);
    }
    /* random keys: random prefixes (with binary bytes) and digit runs of every length */
    srand(42);
    char buf[200];
    for (int n = 0; n < 200000; n++) {
        size_t p = (size_t)(rand() % 70), d = (size_t)(rand() % 25);
        for (size_t i = 0; i < p; i++) buf[i] = (char)(rand() % 256);
        for (size_t i = 0; i < d; i++) buf[p + i] = (char)('0' + rand() % 10);
        check_roundtrip(buf, p + d, n % 3 ? -1 : (long long)rand() * 1000);
    }
    assert_int_equal(arena_live_count(), 0);
}

static void test_packing_sizes(void **state) {
    (void)state;
    /* the seed's key with the integer 7: 4 + (1 + 4 + 5) + 1 = 15 bytes; with a TTL 20 */
    handle_t h = build("key:000000001234", 16, -1, 0);
    assert_true(((const uint8_t *)arena_ptr(h))[0] & E_KEY_PACKED);
    assert_int_equal(e_key_end(arena_ptr(h)), 4 + 1 + 4 + 5);
    assert_int_equal(arena_usable(h), 15);
    entry_free(h);
    h = build("key:000000001234", 16, 1700000000000LL, 0);
    assert_int_equal(arena_usable(h), 20);
    entry_free(h);
    /* two digits do not pay; a prefix of 8 bytes costs a second header byte, which 3 digits do not pay for */
    h = build("ab12", 4, -1, 0);
    assert_false(((const uint8_t *)arena_ptr(h))[0] & E_KEY_PACKED);
    entry_free(h);
    h = build("abcdefgh123", 11, -1, 0);
    assert_false(((const uint8_t *)arena_ptr(h))[0] & E_KEY_PACKED);
    entry_free(h);
    h = build("abcdefgh123456", 14, -1, 0);
    assert_true(((const uint8_t *)arena_ptr(h))[0] & E_KEY_PACKED);
    entry_free(h);
    /* past KEY_PACK_MAX bytes, plain */
    char big[KEY_PACK_MAX + 1];
    memset(big, '5', sizeof(big));
    h = build(big, KEY_PACK_MAX, -1, 0);
    assert_true(((const uint8_t *)arena_ptr(h))[0] & E_KEY_PACKED);
    entry_free(h);
    h = build(big, KEY_PACK_MAX + 1, -1, 0);
    assert_false(((const uint8_t *)arena_ptr(h))[0] & E_KEY_PACKED);
    entry_free(h);
    /* elements are never packed */
    h = build("member:123456", 13, -1, 1);
    assert_false(((const uint8_t *)arena_ptr(h))[0] & E_KEY_PACKED);
    size_t len;
    assert_memory_equal(e_key(arena_ptr(h), &len), "member:123456", 13);
    entry_free(h);
}

static void test_ttl_forms(void **state) {
    (void)state;
    long long narrow[] = {TTL_EPOCH_MS, TTL_EPOCH_MS + 1, 1733000000000LL, TTL_EPOCH_MS + (long long)TTL_WIDE - 1};
    long long wide[] = {0, 1, TTL_EPOCH_MS - 1, TTL_EPOCH_MS + (long long)TTL_WIDE, 9223372036854775807LL};
    for (size_t i = 0; i < sizeof(narrow) / sizeof(narrow[0]); i++) {
        handle_t h = build("key:1", 5, narrow[i], 0);
        assert_int_equal(e_ttl_size(arena_ptr(h)), TTL_NARROW_BYTES);
        assert_int_equal(e_ttl(arena_ptr(h)), narrow[i]);
        entry_free(h);
    }
    for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++) {
        handle_t h = build("key:1", 5, wide[i], 0);
        assert_int_equal(e_ttl_size(arena_ptr(h)), TTL_NARROW_BYTES + 8);
        assert_int_equal(e_ttl(arena_ptr(h)), wide[i]);
        assert_int_equal(e_int(arena_ptr(h)), 7);
        entry_free(h);
    }
    /* in place: narrow to narrow and wide to anything succeed; narrow to wide asks for a rebuild */
    handle_t h = build("key:1", 5, 1733000000000LL, 0);
    uint8_t *e = arena_ptr(h);
    assert_true(e_set_ttl(e, 1733000005000LL));
    assert_int_equal(e_ttl(e), 1733000005000LL);
    assert_false(e_set_ttl(e, 5));
    assert_int_equal(e_ttl(e), 1733000005000LL);
    entry_free(h);
    h = build("key:1", 5, 5, 0);
    e = arena_ptr(h);
    assert_true(e_set_ttl(e, 1733000000000LL));
    assert_int_equal(e_ttl(e), 1733000000000LL);
    assert_int_equal(e_int(e), 7);
    assert_true(e_set_ttl(e, 9));
    assert_int_equal(e_ttl(e), 9);
    entry_free(h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_roundtrip),
        cmocka_unit_test(test_packing_sizes),
        cmocka_unit_test(test_ttl_forms),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
