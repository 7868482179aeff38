/* Unit tests for the RDB writer (persist/rdb_save.c): the exact bytes of each
 * primitive (length encodings at every boundary, integer-encoded strings and
 * the texts that must not be, LZF strings, doubles, times), the header and
 * database opcodes, key records with TTL/IDLE/FREQ, flushing in pieces, and
 * DUMP payloads compared with bytes redis-server 7.0.15 replied to DUMP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <lzf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "keyspace/entry.h"
#include "keyspace/lru.h"
#include "mem/arena.h"
#include "persist/rdb_format.h"
#include "persist/rdb_save.h"
#include "server/server.h"
#include "types/quicklist.h"
#include "types/thash.h"
#include "types/tset.h"
#include "types/tzset.h"
#include "util/crc64.h"
#include "util/mem.h"

static int setup(void **state) {
    (void)state;
    return arena_init((size_t)1 << 32);
}

/* The bytes of a hex string into out; returns the length. */
static size_t unhex(const char *h, unsigned char *out) {
    size_t n = 0;
    for (; h[0] && h[1]; h += 2) {
        unsigned v;
        sscanf(h, "%2x", &v);
        out[n++] = (unsigned char)v;
    }
    return n;
}

#define EXPECT_HEX(w, hex)                                                                                         \
    do {                                                                                                           \
        unsigned char exp_[256];                                                                                   \
        size_t n_ = unhex(hex, exp_);                                                                              \
        assert_int_equal((w)->len, n_);                                                                            \
        assert_memory_equal((w)->buf, exp_, n_);                                                                   \
        (w)->len = 0;                                                                                              \
    } while (0)

static void test_lengths(void **state) {
    (void)state;
    rdbw w;
    rdbw_init(&w, 0, 0, NULL, NULL);
    rdbw_len(&w, 0);
    EXPECT_HEX(&w, "00");
    rdbw_len(&w, 63);
    EXPECT_HEX(&w, "3f");
    rdbw_len(&w, 64);
    EXPECT_HEX(&w, "4040");
    rdbw_len(&w, 16383);
    EXPECT_HEX(&w, "7fff");
    rdbw_len(&w, 16384);
    EXPECT_HEX(&w, "8000004000");
    rdbw_len(&w, 0xffffffffULL);
    EXPECT_HEX(&w, "80ffffffff");
    rdbw_len(&w, 0x100000000ULL);
    EXPECT_HEX(&w, "810000000100000000");
    rdbw_len(&w, UINT64_MAX); /* a stream group's unknown entries_read (-1) */
    EXPECT_HEX(&w, "81ffffffffffffffff");
    rdbw_free(&w);
}

static void test_integer_strings(void **state) {
    (void)state;
    rdbw w;
    rdbw_init(&w, 1, 0, NULL, NULL);
    rdbw_string(&w, "0", 1);
    EXPECT_HEX(&w, "c000");
    rdbw_string(&w, "-1", 2);
    EXPECT_HEX(&w, "c0ff");
    rdbw_string(&w, "127", 3);
    EXPECT_HEX(&w, "c07f");
    rdbw_string(&w, "-128", 4);
    EXPECT_HEX(&w, "c080");
    rdbw_string(&w, "128", 3);
    EXPECT_HEX(&w, "c18000");
    rdbw_string(&w, "-32769", 6);
    EXPECT_HEX(&w, "c2ff7fffff");
    rdbw_string(&w, "-2147483648", 11);
    EXPECT_HEX(&w, "c200000080");
    /* not integer-encoded: out of 32 bits, not canonical, empty */
    rdbw_string(&w, "2147483648", 10);
    EXPECT_HEX(&w, "0a32313437343833363438");
    rdbw_string(&w, "01", 2);
    EXPECT_HEX(&w, "023031");
    rdbw_string(&w, "-0", 2);
    EXPECT_HEX(&w, "022d30");
    rdbw_string(&w, "+1", 2);
    EXPECT_HEX(&w, "022b31");
    rdbw_string(&w, " 1", 2);
    EXPECT_HEX(&w, "022031");
    rdbw_string(&w, "", 0);
    EXPECT_HEX(&w, "00");
    /* rdbw_ll: 32-bit values integer-encoded, others as text */
    rdbw_ll(&w, 10);
    EXPECT_HEX(&w, "c00a");
    rdbw_ll(&w, 1099511627776LL);
    EXPECT_HEX(&w, "0d31303939353131363237373736");
    rdbw_ll(&w, -9223372036854775807LL - 1);
    EXPECT_HEX(&w, "142d39323233333732303336383534373735383038");
    rdbw_free(&w);
}

static void test_lzf_strings(void **state) {
    (void)state;
    char a30[30];
    memset(a30, 'a', sizeof(a30));
    rdbw w;
    rdbw_init(&w, 1, 0, NULL, NULL);
    /* redis-server 7.0.15: SET a <30 x 'a'>, DUMP -> 00 c3 09 1e 01 61 61 e0 11 00 01 61 61 ... */
    rdbw_string(&w, a30, 30);
    EXPECT_HEX(&w, "c3091e016161e01100016161");
    rdbw_free(&w);

    rdbw_init(&w, 1, 0, NULL, NULL);
    rdbw_string(&w, a30, 20); /* 20 bytes and less: never compressed */
    assert_int_equal(w.len, 21);
    assert_int_equal(w.buf[0], 20);
    w.len = 0;
    /* incompressible: raw */
    char rnd[60];
    srand(7);
    for (size_t i = 0; i < sizeof(rnd); i++) rnd[i] = (char)rand();
    rdbw_string(&w, rnd, sizeof(rnd));
    assert_int_equal(w.len, 61);
    assert_int_equal(w.buf[0], 60);
    assert_memory_equal(w.buf + 1, rnd, 60);
    w.len = 0;
    /* a long compressible string decompresses to itself; the header's lengths are right */
    size_t n = 100000;
    char *big = s_malloc(n);
    for (size_t i = 0; i < n; i++) big[i] = (char)('a' + i % 7);
    rdbw_string(&w, big, n);
    assert_int_equal(w.buf[0], 0xc3);
    unsigned char *p = w.buf + 1;
    uint64_t clen = 0, raw = 0;
    assert_int_equal((p[0] & 0xc0) >> 6, 1); /* 14-bit length for the compressed size */
    clen = (uint64_t)(p[0] & 0x3f) << 8 | p[1];
    p += 2;
    assert_int_equal(p[0], 0x80); /* 32-bit length for 100000 */
    raw = (uint64_t)p[1] << 24 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 8 | p[4];
    p += 5;
    assert_int_equal(raw, n);
    assert_int_equal(w.len, (size_t)(p - w.buf) + clen);
    char *out = s_malloc(n);
    assert_int_equal(lzf_decompress(p, (unsigned)clen, out, (unsigned)n), n);
    assert_memory_equal(out, big, n);
    s_free(out);
    w.len = 0;
    /* compression off: raw */
    w.compress = 0;
    rdbw_string(&w, a30, 30);
    assert_int_equal(w.len, 31);
    s_free(big);
    rdbw_free(&w);
}

static void test_doubles_and_times(void **state) {
    (void)state;
    rdbw w;
    rdbw_init(&w, 0, 0, NULL, NULL);
    rdbw_binary_double(&w, 1.5);
    EXPECT_HEX(&w, "000000000000f83f");
    rdbw_binary_double(&w, -1.0 / 0.0);
    EXPECT_HEX(&w, "000000000000f0ff");
    rdbw_ms(&w, 1700000000123LL);
    EXPECT_HEX(&w, "7b68e5cf8b010000");
    rdbw_free(&w);
}

static void test_file_structure(void **state) {
    (void)state;
    rdbw w;
    rdbw_init(&w, 1, 0, NULL, NULL);
    rdbw_header(&w, 1);
    const char *head = "REDIS0010\xfa\x09redis-ver\x06" "7.0.15\xfa\x0aredis-bits\xc0\x40\xfa\x05" "ctime";
    assert_memory_equal(w.buf, head, strlen(head));
    /* ... ctime and used-mem values, then aof-base 1 last */
    const char *tail = "\xfa\x08" "aof-base\xc0\x01";
    assert_memory_equal(w.buf + w.len - strlen(tail), tail, strlen(tail));
    w.len = 0;
    rdbw_select_db(&w, 0, 2, 1);
    EXPECT_HEX(&w, "fe00fb0201");
    rdbw_select_db(&w, 15, 100000, 70);
    EXPECT_HEX(&w, "fe0ffb80000186a04046");
    rdbw_eof(&w);
    EXPECT_HEX(&w, "ff");
    rdbw_aux(&w, "k", "v");
    EXPECT_HEX(&w, "fa016b0176");
    rdbw_free(&w);
}

static handle_t str_entry(const char *key, long long ttl, uint32_t lru, const char *val) {
    entry_value v = {.type = OBJ_STRING, .store = VAL_INLINE, .sval = val, .slen = strlen(val)};
    return entry_build(key, strlen(key), ttl, lru, &v);
}

static void test_key_records(void **state) {
    (void)state;
    rdbw w;
    rdbw_init(&w, 1, 0, NULL, NULL);
    handle_t h = str_entry("k1", 1700000000123LL, 0, "hello");
    rdbw_key(&w, arena_ptr(h));
    EXPECT_HEX(&w, "fc7b68e5cf8b01000000026b310568656c6c6f");
    entry_free(h);

    entry_value iv = {.type = OBJ_STRING, .store = VAL_INT, .ival = 300};
    h = entry_build("7", 1, -1, 0, &iv);
    rdbw_key(&w, arena_ptr(h));
    EXPECT_HEX(&w, "00c007c12c01"); /* an integer key is integer-encoded too, as Redis does */
    entry_free(h);

    /* FREQ: the LFU counter (no decay configured) */
    w.lru_mode = RDBW_LRU_FREQ;
    h = str_entry("k", -1, 12u << 8 | 9, "v");
    rdbw_key(&w, arena_ptr(h));
    EXPECT_HEX(&w, "f90900016b0176");
    /* IDLE: whole seconds since the LRU clock's value */
    w.lru_mode = RDBW_LRU_IDLE;
    e_set_lru(arena_ptr(h), lru_clock_now());
    rdbw_key(&w, arena_ptr(h));
    assert_int_equal(w.buf[0], RDB_OPCODE_IDLE);
    assert_true(w.buf[1] <= 1);
    assert_int_equal(w.len, 7);
    w.len = 0;
    entry_free(h);
    rdbw_free(&w);
    srv.maxmemory_policy = MM_ALLKEYS_LFU;
    assert_int_equal(rdbw_policy_lru_mode(), RDBW_LRU_FREQ);
    srv.maxmemory_policy = MM_VOLATILE_LRU;
    assert_int_equal(rdbw_policy_lru_mode(), RDBW_LRU_IDLE);
    srv.maxmemory_policy = MM_NOEVICTION;
    assert_int_equal(rdbw_policy_lru_mode(), RDBW_LRU_NONE);
}

/* Flushing in pieces hands out exactly the bytes one buffer would hold. */
typedef struct sink {
    unsigned char *p;
    size_t n;
    int calls;
} sink;
static void to_sink(void *ud, const unsigned char *p, size_t n) {
    sink *s = ud;
    s->p = s_realloc(s->p, s->n + n);
    memcpy(s->p + s->n, p, n);
    s->n += n;
    s->calls++;
}

static void test_flush_pieces(void **state) {
    (void)state;
    handle_t h = entry_build("set", 3, -1, 0,
                             &(entry_value){.type = OBJ_SET, .store = VAL_PTR, .ptr = set_create_for("a", 1)});
    void *s = e_ptr(arena_ptr(h));
    char m[32];
    for (int i = 0; i < 2000; i++) {
        int n = snprintf(m, sizeof(m), "member:%d", i);
        set_add(&s, m, (size_t)n);
    }
    e_set_ptr(arena_ptr(h), s);
    rdbw one, pieces;
    sink k = {0};
    rdbw_init(&one, 1, 0, NULL, NULL);
    rdbw_init(&pieces, 1, 100, to_sink, &k);
    for (int i = 0; i < 3; i++) {
        rdbw_key(&one, arena_ptr(h));
        rdbw_key(&pieces, arena_ptr(h));
        assert_true(pieces.len < 100); /* flushed after the record */
    }
    assert_true(k.calls > 100); /* also between the set's members */
    rdbw_flush(&pieces);
    assert_int_equal(pieces.len, 0);
    assert_int_equal(pieces.flushed, one.len);
    assert_int_equal(k.n, one.len);
    assert_memory_equal(k.p, one.buf, one.len);
    s_free(k.p);
    rdbw_free(&one);
    rdbw_free(&pieces);
    set_free(s);
    entry_free(h);
}

/* DUMP payloads against redis-server 7.0.15's replies. */
static void expect_dump(handle_t h, const char *hex) {
    unsigned char exp[256];
    size_t n = unhex(hex, exp), len;
    unsigned char *p = rdb_dump_payload(arena_ptr(h), &len);
    assert_int_equal(len, n);
    assert_memory_equal(p, exp, n);
    assert_int_equal(crc64(0, p, len), 0); /* a CRC64 footer makes the whole payload's CRC zero */
    s_free(p);
    entry_free(h);
}

static void test_dump_payloads(void **state) {
    (void)state;
    srv.rdb_compression = 1;
    entry_value iv = {.type = OBJ_STRING, .store = VAL_INT, .ival = 10};
    expect_dump(entry_build("a", 1, -1, 0, &iv), "00c00a0a006e9f57450eae63bb");
    expect_dump(str_entry("a", -1, 0, "hello"), "000568656c6c6f0a006372df766534200a");
    expect_dump(str_entry("a", -1, 0, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), "00c3091e016161e011000161610a0045737cbb2b647bbb");
    void *s = set_create_for("1", 1);
    set_add(&s, "1", 1);
    set_add(&s, "2", 1);
    set_add(&s, "3", 1);
    expect_dump(entry_build("s", 1, -1, 0, &(entry_value){.type = OBJ_SET, .store = VAL_PTR, .ptr = s}),
                "0b0e02000000030000000100020003000a00a5025ce26d6e4d1b");
    set_free(s);
}

/* A whole file written with the file-structure calls (header with its aux fields, SELECTDB/RESIZEDB,
 * key records with EXPIRETIME_MS, IDLE and FREQ, EOF, CRC64): redis-check-rdb 7.0 must accept it. */
static handle_t ptr_entry(const char *key, int type, void *ptr, long long ttl) {
    return entry_build(key, strlen(key), ttl, 0, &(entry_value){.type = type, .store = VAL_PTR, .ptr = ptr});
}

static void test_whole_file_passes_redis_check_rdb(void **state) {
    (void)state;
    if (system("command -v redis-check-rdb > /dev/null 2>&1") != 0) skip();
    srv.rdb_compression = 1;
    handle_t hs[8];
    int n = 0;
    entry_value iv = {.type = OBJ_STRING, .store = VAL_INT, .ival = -5};
    hs[n++] = entry_build("int", 3, 4102444800000LL, 0, &iv);
    hs[n++] = str_entry("str", -1, 0, "a string value that is long enough to be compressed by lzf lzf lzf");
    quicklist *ql = ql_new(-2, 1);
    char buf[64];
    for (int i = 0; i < 5000; i++) {
        int l = snprintf(buf, sizeof(buf), "element-%d", i % 100);
        ql_push(ql, buf, (size_t)l, QL_TAIL);
    }
    assert_true(ql_compressed_nodes(ql) > 0);
    hs[n++] = ptr_entry("list", OBJ_LIST, ql, -1);
    void *set = set_create_for("1", 1);
    set_add(&set, "1", 1);
    set_add(&set, "300000", 6);
    hs[n++] = ptr_entry("intset", OBJ_SET, set, 4102444800000LL);
    void *hash = hash_new();
    hash_set(&hash, "f", 1, "v", 1);
    hash_set(&hash, "n", 1, "12", 2);
    hs[n++] = ptr_entry("hash", OBJ_HASH, hash, -1);
    zset *z = zs_new(1000, 10);
    int out;
    double ns;
    for (int i = 0; i < 1000; i++) {
        int l = snprintf(buf, sizeof(buf), "m%d", i);
        zs_add(&z, i / 7.0, buf, (size_t)l, 0, &out, &ns);
    }
    hs[n++] = ptr_entry("zset", OBJ_ZSET, z, -1);

    sink k = {0};
    rdbw w;
    rdbw_init(&w, 1, 4096, to_sink, &k);
    rdbw_header(&w, 0);
    rdbw_select_db(&w, 0, (uint64_t)n, 2);
    for (int i = 0; i < n; i++) {
        w.lru_mode = i % 3; /* none, IDLE, FREQ */
        rdbw_key(&w, arena_ptr(hs[i]));
    }
    rdbw_select_db(&w, 3, 1, 0);
    rdbw_key(&w, arena_ptr(hs[0]));
    rdbw_eof(&w);
    rdbw_flush(&w);
    uint64_t crc = crc64(0, k.p, k.n);
    unsigned char foot[8];
    for (int i = 0; i < 8; i++) foot[i] = (unsigned char)(crc >> (8 * i));
    to_sink(&k, foot, 8);

    char path[] = "/tmp/test_rdb_save_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, k.p, k.n), (ssize_t)k.n);
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "redis-check-rdb %s > %s.out 2>&1", path, path);
    int rc = system(cmd);
    if (rc != 0) {
        snprintf(cmd, sizeof(cmd), "cat %s.out", path);
        assert_int_equal(system(cmd), 0);
    }
    assert_int_equal(rc, 0);
    snprintf(cmd, sizeof(cmd), "grep -q 'RDB looks OK' %s.out", path);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "%s.out", path);
    unlink(cmd);
    unlink(path);

    s_free(k.p);
    rdbw_free(&w);
    for (int i = 0; i < n; i++) entry_free(hs[i]);
    ql_free(ql);
    set_free(set);
    hash_free(hash);
    zs_free(z);
}

/* A big value written in parts (a snapshot's slices) gives the bytes of the same record written whole, in
 * more than one part, also when active defragmentation moves a list's nodes between parts; values in a
 * one-blob encoding are not written in parts. */
static void test_key_in_parts(void **state) {
    (void)state;
    char buf[64];
    quicklist *ql = ql_new(-2, 1);
    void *hash = hash_new(), *set = set_create_for("a", 1), *small = hash_new(), *ints = set_create_for("1", 1);
    zset *z = zs_new(3000, 10);
    int out;
    double ns;
    for (int i = 0; i < 3000; i++) {
        int l = snprintf(buf, sizeof(buf), "element-%d", i % 100 + i / 1000);
        ql_push(ql, buf, (size_t)l, QL_TAIL);
        l = snprintf(buf, sizeof(buf), "m%d", i);
        hash_set(&hash, buf, (size_t)l, buf, (size_t)l);
        set_add(&set, buf, (size_t)l);
        zs_add(&z, i % 11 / 7.0, buf, (size_t)l, 0, &out, &ns);
    }
    hash_set(&small, "f", 1, "v", 1);
    set_add(&ints, "2", 1);
    assert_true(ql_compressed_nodes(ql) > 0);
    handle_t big[] = {ptr_entry("list", OBJ_LIST, ql, -1), ptr_entry("hash", OBJ_HASH, hash, 4102444800000LL),
                      ptr_entry("set", OBJ_SET, set, -1), ptr_entry("zset", OBJ_ZSET, z, -1)};
    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
        const uint8_t *e = arena_ptr(big[i]);
        assert_int_equal(rdbw_part_elems(e), 3000);
        rdbw whole, parts;
        rdbw_init(&whole, 1, 0, NULL, NULL);
        rdbw_init(&parts, 1, 0, NULL, NULL);
        whole.lru_mode = parts.lru_mode = RDBW_LRU_FREQ;
        rdbw_key(&whole, e);
        rdbw_key_begin(&parts, e);
        s_defrag_always(1);
        size_t pos = 0;
        int n = 1;
        while (!rdbw_key_part(&parts, e, &pos, 7))
            if (++n % 2 == 0 && i == 0) ql_defrag(ql, 0, 1000000, s_defrag); /* every node moves (always on) */
        s_defrag_always(0);
        assert_true(n > 1);
        assert_int_equal(parts.len, whole.len);
        assert_memory_equal(parts.buf, whole.buf, whole.len);
        rdbw_free(&whole);
        rdbw_free(&parts);
        entry_free(big[i]);
    }
    handle_t one[] = {ptr_entry("small", OBJ_HASH, small, -1), ptr_entry("ints", OBJ_SET, ints, -1),
                      str_entry("str", -1, 0, "value")};
    for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
        assert_int_equal(rdbw_part_elems(arena_ptr(one[i])), 0);
        entry_free(one[i]);
    }
    ql_free(ql);
    hash_free(hash);
    hash_free(small);
    set_free(set);
    set_free(ints);
    zs_free(z);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lengths),         cmocka_unit_test(test_integer_strings),
        cmocka_unit_test(test_lzf_strings),     cmocka_unit_test(test_doubles_and_times),
        cmocka_unit_test(test_file_structure),  cmocka_unit_test(test_key_records),
        cmocka_unit_test(test_flush_pieces),    cmocka_unit_test(test_dump_payloads),
        cmocka_unit_test(test_whole_file_passes_redis_check_rdb), cmocka_unit_test(test_key_in_parts),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
