/* Unit tests for the entry arena (mem/arena.c): random allocation and free
 * workloads checked against a model (contents survive, counters match) with
 * arena_check verifying the page/free-list invariants after each phase; the
 * slot cap of small classes; the class table; the checks' own ability to see corruption; and
 * handles past 2^32 (36-bit) carried through the key table and the sorted
 * set index, which store them split into a low word and high bits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "keyspace/entry.h"
#include "keyspace/table.h"
#include "mem/arena.h"
#include "util/debug.h"
#include "types/zelem.h"
#include "types/zindex.h"
#include "util/siphash.h"

static int setup(void **state) {
    (void)state;
    siphash_seed_random();
    return arena_init(0); /* the default (1 TiB) reservation: the last test reaches past 2^32 handles */
}

static void assert_arena_ok(void) {
    if (!arena_check()) fail_msg("arena_check: %s", dbg_check_why);
}

typedef struct live {
    handle_t h;
    uint32_t size;
    uint8_t fill;
} live;

static size_t random_size(void) {
    switch (rand() % 4) {
    case 0: return 1 + (size_t)rand() % 32;
    case 1: return 1 + (size_t)rand() % 128;
    case 2: return 1 + (size_t)rand() % 1024;
    default: return 1 + (size_t)rand() % ARENA_MAX_ALLOC;
    }
}

static void test_random_alloc_free(void **state) {
    (void)state;
    const size_t cap = 60000;
    live *v = calloc(cap, sizeof(*v));
    size_t n = 0, bytes = 0;
    srand(3);
    for (int round = 0; round < 4; round++) {
        for (int step = 0; step < 100000; step++) {
            if (n < cap && (n == 0 || rand() % 100 < (round % 2 ? 40 : 60))) {
                size_t size = random_size();
                handle_t h = arena_alloc(size);
                assert_true(h != 0 && (uint32_t)h != 0);
                assert_true(arena_usable(h) >= size && arena_usable(h) == arena_class_size(size));
                assert_true(arena_handle_of(arena_ptr(h)) == h);
                uint8_t fill = (uint8_t)rand();
                memset(arena_ptr(h), fill, size);
                v[n++] = (live){h, (uint32_t)size, fill};
                bytes += arena_usable(h);
            } else {
                size_t i = (size_t)rand() % n;
                const uint8_t *p = arena_ptr(v[i].h);
                for (uint32_t k = 0; k < v[i].size; k++) assert_int_equal(p[k], v[i].fill);
                bytes -= arena_usable(v[i].h);
                arena_free(v[i].h);
                v[i] = v[--n];
            }
        }
        assert_int_equal(arena_live_count(), n);
        assert_int_equal(arena_live_bytes(), bytes);
        assert_arena_ok();
        handle_t *hs = malloc(sizeof(handle_t) * (n ? n : 1));
        for (size_t i = 0; i < n; i++) hs[i] = v[i].h;
        if (!arena_check_handles(hs, n)) fail_msg("arena_check_handles: %s", dbg_check_why);
        free(hs);
        arena_release_free_pages();
        assert_arena_ok();
    }
    while (n) arena_free(v[--n].h);
    assert_int_equal(arena_live_count(), 0);
    assert_int_equal(arena_live_bytes(), 0);
    assert_arena_ok();
    free(v);
}

/* Small classes stop at 8192 slots a page (the slot index has 13 bits); bigger ones fill the page. */
static void test_slots_per_page(void **state) {
    (void)state;
    size_t sizes[] = {8, 15, 16, 17, 31, 32, 4096};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        size_t per = ARENA_PAGE_SIZE / sizes[s] < 8192 ? ARENA_PAGE_SIZE / sizes[s] : 8192;
        size_t n = per * 2 + 1;
        handle_t *hs = malloc(n * sizeof(handle_t));
        for (size_t i = 0; i < n; i++) hs[i] = arena_alloc(sizes[s]);
        for (size_t i = 1; i < per; i++) assert_true(hs[i] >> ARENA_SLOT_BITS == hs[0] >> ARENA_SLOT_BITS);
        assert_true(hs[per] >> ARENA_SLOT_BITS != hs[0] >> ARENA_SLOT_BITS);
        assert_int_equal(hs[per - 1] & ((1u << ARENA_SLOT_BITS) - 1), per - 1);
        assert_arena_ok();
        for (size_t i = 0; i < n; i++) arena_free(hs[i]);
        free(hs);
    }
    assert_int_equal(arena_live_count(), 0);
    assert_arena_ok();
}

/* The class table: every size up to 128 exact, then 8-byte steps to 512, 16 to 1 KiB, 64 to 2 KiB, 128
 * to ARENA_MAX_ALLOC (so an entry holding a string of hundreds of bytes wastes at most 7 or 15 bytes);
 * each class serves the sizes since the previous one, and a page of a new class is filled and reused. */
static void test_class_table(void **state) {
    (void)state;
    size_t prev = 0, classes = 0;
    for (size_t s = 1; s <= ARENA_MAX_ALLOC; s++) {
        size_t c = arena_class_size(s), step = s <= 128 ? 1 : s <= 512 ? 8 : s <= 1024 ? 16 : s <= 2048 ? 64 : 128;
        size_t want = s < 8 ? 8 : (s + step - 1) / step * step;
        if (c != want) fail_msg("arena_class_size(%zu) = %zu, want %zu", s, c, want);
        if (c != prev) classes++, prev = c;
    }
    assert_int_equal(classes, 121 + 48 + 32 + 16 + 16);
    size_t sizes[] = {129, 136, 137, 505, 513, 520, 1000, 1025, 2049, 4090};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t size = sizes[k], slot = arena_class_size(size), per = ARENA_PAGE_SIZE / slot, n = per + 1;
        handle_t *hs = malloc(n * sizeof(handle_t));
        for (size_t i = 0; i < n; i++) {
            hs[i] = arena_alloc(size);
            assert_int_equal(arena_usable(hs[i]), slot);
            memset(arena_ptr(hs[i]), (int)i, size);
        }
        for (size_t i = 1; i < per; i++) assert_true(hs[i] >> ARENA_SLOT_BITS == hs[0] >> ARENA_SLOT_BITS);
        assert_true(hs[per] >> ARENA_SLOT_BITS != hs[0] >> ARENA_SLOT_BITS);
        for (size_t i = 0; i < n; i++) assert_int_equal(((uint8_t *)arena_ptr(hs[i]))[size - 1], (uint8_t)i);
        assert_int_equal(arena_live_bytes(), n * slot);
        arena_free(hs[3]);
        assert_true(arena_alloc(size) == hs[3]); /* the freed slot is reused first */
        assert_arena_ok();
        for (size_t i = 0; i < n; i++) arena_free(hs[i]);
        free(hs);
    }
    assert_int_equal(arena_live_count(), 0);
    assert_arena_ok();
}

/* The checks are not vacuous: they catch a handle named twice and a handle to a freed slot. */
static void test_checks_see_corruption(void **state) {
    (void)state;
    handle_t a = arena_alloc(40), b = arena_alloc(40), c = arena_alloc(40);
    handle_t hs[3] = {a, b, a};
    assert_false(arena_check_handles(hs, 3));
    assert_non_null(strstr(dbg_check_why, "twice"));
    arena_free(b);
    handle_t hs2[2] = {a, b};
    assert_false(arena_check_handles(hs2, 2));
    assert_non_null(strstr(dbg_check_why, "freed"));
    handle_t hs3[2] = {c, a};
    assert_true(arena_check_handles(hs3, 2));
    assert_arena_ok();
    /* a free list that loops back on itself is malformed */
    arena_free(c); /* free list of the page: c -> b */
    uint16_t self = (uint16_t)(c & ((1u << ARENA_SLOT_BITS) - 1)), saved;
    memcpy(&saved, arena_ptr(c), 2);
    memcpy(arena_ptr(c), &self, 2);
    assert_false(arena_check());
    memcpy(arena_ptr(c), &saved, 2);
    assert_arena_ok();
    arena_free(a);
    assert_arena_ok();
}

static void free_entry(void *ud, handle_t h) {
    (void)ud;
    entry_free(h);
}

/* Pushes the arena past page 2^19 (handles past 2^32) by holding 32-slot pages, then stores keys and
 * sorted-set members there: the table and the index must carry all 36 bits. */
static void test_handles_past_4g(void **state) {
    (void)state;
    zindex z;
    zi_init(&z);
    const int n = 20000;
    /* members below 2^32 first, so that leaves mix high nibbles 0 and 1 (random scores interleave them) */
    srand(11);
    for (int i = 0; i < n; i++) {
        char k[32];
        int l = snprintf(k, sizeof(k), "low:%d", i);
        handle_t m = zel_new(k, (size_t)l, (double)(rand() % 1000));
        assert_true(m >> 32 == 0);
        zi_insert(&z, m);
    }
    size_t pages = ((size_t)1 << (32 - ARENA_SLOT_BITS)) + 8; /* just past the page numbers of 32-bit handles */
    for (size_t i = 0; i < pages * (ARENA_PAGE_SIZE / ARENA_MAX_ALLOC); i++) assert_true(arena_alloc(ARENA_MAX_ALLOC) != 0);
    ktable t;
    kt_init(&t);
    int high = 0, high_keys = 0;
    for (int i = 0; i < n; i++) {
        char k[32];
        int l = snprintf(k, sizeof(k), "key:%d", i);
        entry_value v = {.type = OBJ_STRING, .store = VAL_INT, .ival = i};
        handle_t h = entry_build(k, (size_t)l, i % 2 ? 1000 : -1, 0, &v);
        high_keys += h >> 32 != 0;
        kt_insert(&t, kt_hash(k, (size_t)l), h, i % 2);
        handle_t m = zel_new(k, (size_t)l, (double)(rand() % 1000));
        high += m >> 32 != 0; /* most: deleted low members' slots are reused first */
        zi_insert(&z, m);
        if (i % 2 == 0) { /* and delete some low ones, shifting mixed leaves */
            handle_t d = zi_at(&z, (size_t)rand() % z.count);
            zi_delete(&z, d);
            zel_free(d);
        }
    }
    printf("handles past 2^32: %d of %d members, %d of %d keys\n", high, n, high_keys, n);
    assert_true(high > n / 8 && high_keys > n / 4); /* members: the low pages keep free slots (up to 8192 a page) */
    for (int i = 0; i < n; i++) {
        char k[32];
        int l = snprintf(k, sizeof(k), "key:%d", i);
        handle_t h = kt_find(&t, k, (size_t)l, kt_hash(k, (size_t)l), NULL);
        assert_int_equal(e_int(arena_ptr(h)), i);
    }
    if (!kt_check(&t)) fail_msg("kt_check: %s", dbg_check_why);
    if (!zindex_check(&z)) fail_msg("zindex_check: %s", dbg_check_why);
    zi_iter it;
    zi_iter_init(&it, &z, 0);
    double prev = -1;
    for (size_t i = 0; i < z.count; i++) {
        assert_int_equal(zi_rank(&z, zi_iter_get(&it)), i);
        double s = zel_score(zi_iter_get(&it));
        assert_true(s >= prev);
        prev = s;
        zi_iter_move(&it, 1);
    }
    zi_destroy(&z, free_entry, NULL);
    kt_destroy(&t, free_entry, NULL);
    assert_arena_ok();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_alloc_free),
        cmocka_unit_test(test_slots_per_page),
        cmocka_unit_test(test_class_table),
        cmocka_unit_test(test_checks_see_corruption),
        cmocka_unit_test(test_handles_past_4g), /* last: it leaves 4 GiB of (untouched) slots allocated */
    };
    return cmocka_run_group_tests_name("arena", tests, setup, NULL);
}
