/* Unit tests for the keyspace table (keyspace/table.c) and the entry arena:
 * random operations checked against a simple model, growth and splits, the
 * SCAN guarantee across growth, TTL bookkeeping, random sampling, draining. */
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
#include "util/mem.h"
#include "util/siphash.h"

#define N 60000

static int setup(void **state) {
    (void)state;
    siphash_seed_random();
    return arena_init((size_t)1 << 32);
}

static handle_t make(const char *key, int ttl) {
    entry_value v = {.type = OBJ_STRING, .store = VAL_INT, .ival = 42};
    return entry_build(key, strlen(key), ttl ? 1000 : -1, 0, &v);
}

static void free_entry(void *ud, handle_t h) {
    (void)ud;
    entry_free(h);
}

static void key_of(int i, char *buf) { snprintf(buf, 32, "key:%d", i); }

static void assert_table_ok(const ktable *t) {
    if (!kt_check(t)) fail_msg("kt_check: %s", dbg_check_why);
    if (!arena_check()) fail_msg("arena_check: %s", dbg_check_why);
}

static void test_random_ops_against_model(void **state) {
    (void)state;
    ktable t;
    kt_init(&t);
    static char present[N];
    memset(present, 0, sizeof(present));
    size_t count = 0;
    srand(1);
    for (int step = 0; step < 300000; step++) {
        int i = rand() % N, op = rand() % 3;
        char k[32];
        key_of(i, k);
        uint64_t h = kt_hash(k, strlen(k));
        kslot w;
        handle_t found = kt_find(&t, k, strlen(k), h, &w);
        assert_int_equal(found != 0, present[i]);
        if (op < 2 && !found) {
            kt_insert(&t, h, make(k, i % 3 == 0), i % 3 == 0);
            present[i] = 1;
            count++;
        } else if (op == 2 && found) {
            kt_delete(&t, &w, h);
            entry_free(found);
            present[i] = 0;
            count--;
        }
        assert_int_equal(t.count, count);
        if (step % 50000 == 0) assert_table_ok(&t);
    }
    assert_table_ok(&t);
    for (int i = 0; i < N; i++) {
        char k[32];
        key_of(i, k);
        handle_t h = kt_find(&t, k, strlen(k), kt_hash(k, strlen(k)), NULL);
        assert_int_equal(h != 0, present[i]);
        if (h) {
            size_t len;
            keybuf kb;
            const char *kk = e_keyb(arena_ptr(h), &kb, &len);
            assert_int_equal(len, strlen(k));
            assert_memory_equal(kk, k, len);
        }
    }
    assert_true(t.nsegs > 1); /* it grew past one segment */
    kt_destroy(&t, free_entry, NULL);
    assert_int_equal(t.count, 0);
    assert_int_equal(arena_live_count(), 0);
}

/* kt_reserve: a table sized for n keys takes n (and more, or fewer) with every invariant kept; one
 * sized right is hardly rebuilt while it fills (its segment count stays about what reserve made). */
static void test_reserve(void **state) {
    (void)state;
    const size_t hints[] = {100000, 100000, 20000, 400000};
    const int fills[] = {100000, 30000, 100000, 1000};
    for (int c = 0; c < 4; c++) {
        ktable t;
        kt_init(&t);
        kt_reserve(&t, hints[c]);
        size_t segs = t.nsegs;
        assert_true(segs >= 1);
        for (int i = 0; i < fills[c]; i++) {
            char k[32];
            key_of(i, k);
            uint64_t h = kt_hash(k, strlen(k));
            kt_prefetch(&t, h);
            assert_null((void *)(uintptr_t)kt_find(&t, k, strlen(k), h, NULL));
            kt_insert(&t, h, make(k, i & 1), i & 1);
        }
        /* sized right: hardly any growth on the way (a rare long probe may still split a segment) */
        if (c == 0) assert_true(t.nsegs <= segs + segs / 4);
        assert_int_equal(t.count, (size_t)fills[c]);
        assert_table_ok(&t);
        if (c == 0) printf("reserve: %.2f table bytes per key\n", (double)t.bytes / (double)t.count);
        kt_reserve(&t, 1000000); /* no-op on a table that has keys */
        assert_int_equal(t.count, (size_t)fills[c]);
        kt_destroy(&t, free_entry, NULL);
    }
    assert_int_equal(arena_live_count(), 0);
}

typedef struct seen {
    char *flags;
    long emitted;
} seen;

static void mark(void *ud, handle_t h) {
    seen *s = ud;
    size_t len;
    keybuf kb;
    const char *k = e_keyb(arena_ptr(h), &kb, &len);
    /* the name is not NUL-terminated (a packed key is printed into kb, whose bytes past len are stale) */
    int i = 0;
    for (size_t j = 4; j < len; j++) i = i * 10 + (k[j] - '0');
    s->flags[i] = 1;
    s->emitted++;
}

static void test_scan_guarantee_across_growth(void **state) {
    (void)state;
    ktable t;
    kt_init(&t);
    const int base = 5000, more = 200000;
    for (int i = 0; i < base; i++) {
        char k[32];
        key_of(i, k);
        kt_insert(&t, kt_hash(k, strlen(k)), make(k, 0), 0);
    }
    seen s = {calloc(base + more, 1), 0};
    uint64_t cursor = 0;
    int added = base, calls = 0;
    do {
        cursor = kt_scan(&t, cursor, 10, mark, &s);
        calls++;
        for (int j = 0; j < 300 && added < base + more; j++, added++) { /* grow between calls */
            char k[32];
            key_of(added, k);
            kt_insert(&t, kt_hash(k, strlen(k)), make(k, 0), 0);
        }
    } while (cursor != 0);
    for (int i = 0; i < base; i++) assert_true(s.flags[i]);
    assert_true(calls > 10);
    assert_true(t.nsegs > 4);
    free(s.flags);
    kt_destroy(&t, free_entry, NULL);
}

/* A table of n keys "key:<i>", grown one insert at a time (segments of unequal depths). */
static void fill_keys(ktable *t, int n) {
    kt_init(t);
    for (int i = 0; i < n; i++) {
        char k[32];
        key_of(i, k);
        kt_insert(t, kt_hash(k, strlen(k)), make(k, 0), 0);
    }
}

static void test_full_scan_returns_each_key_once_without_changes(void **state) {
    (void)state;
    ktable t;
    fill_keys(&t, 50000);
    seen s = {calloc(50000, 1), 0};
    uint64_t cursor = 0;
    do cursor = kt_scan(&t, cursor, 100, mark, &s);
    while (cursor);
    assert_int_equal(s.emitted, 50000);
    for (int i = 0; i < 50000; i++) assert_true(s.flags[i]);
    free(s.flags);
    kt_destroy(&t, free_entry, NULL);
}

/* kt_walk in parts (many segments of unequal depths after growth) visits every key exactly once, each
 * part at least min keys unless it is the last. */
static void test_walk_in_parts(void **state) {
    (void)state;
    ktable t;
    fill_keys(&t, 50000);
    for (long min = 1; min <= 100000; min *= 317) {
        seen s = {calloc(50000, 1), 0};
        size_t pos = 0;
        int parts = 0, done;
        do {
            size_t was = s.emitted;
            done = kt_walk(&t, &pos, min, mark, &s);
            parts++;
            if (!done) assert_true((long)(s.emitted - was) >= min);
        } while (!done);
        assert_int_equal(s.emitted, 50000);
        for (int i = 0; i < 50000; i++) assert_true(s.flags[i]);
        if (min < 1000) assert_true(parts > 1);
        free(s.flags);
    }
    kt_destroy(&t, free_entry, NULL);
}

static void count_visit(void *ud, handle_t h) {
    (void)h;
    (*(long *)ud)++;
}

static void test_ttl_bits_and_random(void **state) {
    (void)state;
    ktable t;
    kt_init(&t);
    for (int i = 0; i < 20000; i++) {
        char k[32];
        key_of(i, k);
        kt_insert(&t, kt_hash(k, strlen(k)), make(k, i % 4 == 0), i % 4 == 0);
    }
    assert_int_equal(t.nttl, 5000);
    long visited = 0;
    uint64_t cursor = 0;
    do cursor = kt_scan_ttl(&t, cursor, 64, count_visit, &visited);
    while (cursor);
    assert_int_equal(visited, 5000);
    /* turn one TTL key into a plain one with kt_replace */
    char k[32];
    key_of(0, k);
    uint64_t h = kt_hash(k, strlen(k));
    kslot w;
    handle_t old = kt_find(&t, k, strlen(k), h, &w);
    assert_true(old != 0);
    kt_replace(&t, &w, make(k, 0), 0);
    assert_table_ok(&t);
    entry_free(old);
    assert_int_equal(t.nttl, 4999);
    for (int r = 0; r < 1000; r++) {
        handle_t any = kt_random(&t, (uint64_t)rand() * 2654435761ULL + (uint64_t)r, 1);
        assert_true(any != 0);
        assert_true(e_has_ttl(arena_ptr(any)));
    }
    kt_destroy(&t, free_entry, NULL);
}

static void copy_into(void *ud, handle_t h) {
    size_t len;
    keybuf kb;
    const char *k = e_keyb(arena_ptr(h), &kb, &len);
    char buf[32];
    memcpy(buf, k, len);
    buf[len] = 0;
    kt_insert(ud, kt_hash(k, len), make(buf, 0), 0);
}

/* Copying a table by scanning it inserts keys in hash order, all crowding the start of each segment of
 * the copy: the copy must stay correct and its probes short (this once looped forever). */
static void test_copy_in_hash_order(void **state) {
    (void)state;
    ktable a, b;
    kt_init(&a);
    kt_init(&b);
    const int n = 300000;
    for (int i = 0; i < n; i++) {
        char k[32];
        key_of(i, k);
        kt_insert(&a, kt_hash(k, strlen(k)), make(k, 0), 0);
    }
    uint64_t cursor = 0;
    do cursor = kt_scan(&a, cursor, 4096, copy_into, &b);
    while (cursor);
    assert_int_equal(b.count, n);
    for (int i = 0; i < n; i += 7) {
        char k[32];
        key_of(i, k);
        assert_true(kt_find(&b, k, strlen(k), kt_hash(k, strlen(k)), NULL) != 0);
    }
    assert_table_ok(&b);
    /* the copy is about as compact as the original */
    assert_true(b.bytes < a.bytes * 2);
    kt_destroy(&a, free_entry, NULL);
    kt_destroy(&b, free_entry, NULL);
}

static void test_drain_in_slices(void **state) {
    (void)state;
    ktable t;
    kt_init(&t);
    for (int i = 0; i < 100000; i++) {
        char k[32];
        key_of(i, k);
        kt_insert(&t, kt_hash(k, strlen(k)), make(k, 0), 0);
    }
    int steps = 0;
    while (!kt_drain(&t, 5000, free_entry, NULL)) steps++;
    assert_true(steps > 3);
    assert_int_equal(t.count, 0);
    assert_int_equal(arena_live_count(), 0);
}

static handle_t keep_in_place(void *ud, handle_t h) {
    (void)ud;
    return h;
}

static size_t segs_in_block(const ktable *t) {
    size_t n = 0;
    for (size_t i = 0; i < ((size_t)1 << t->gdepth);) {
        const kseg *s = t->dir[i];
        n += s->blk != NULL;
        i += (size_t)1 << (t->gdepth - s->depth);
    }
    return n;
}

static void insert_keys(ktable *t, int from, int to) {
    char k[32];
    for (int i = from; i < to; i++) {
        key_of(i, k);
        kt_insert(t, kt_hash(k, strlen(k)), make(k, i % 7 == 0), i % 7 == 0);
    }
}

/* kt_reserve of a table of 4 MiB and more puts every segment's buckets in one mapping; segments that grow
 * or shrink later move to the heap, the mapping's 2 MiB chunks are given back as their last segments
 * leave, and the table counts exactly the heap memory it holds (kt_check compares its bytes with its
 * parts, the test with the heap's own count): after growth, a drain in slices and a shrinking pass. */
static void test_reserved_block(void **state) {
    (void)state;
    ktable t;
    kt_init(&t);
    insert_keys(&t, 0, 20000); /* the arena's page pool allocates its stack once: not the table's memory */
    kt_destroy(&t, free_entry, NULL);
    size_t heap0 = s_heap_used();

    /* grown past the reserve: every segment leaves the block, which goes */
    kt_reserve(&t, 600000);
    size_t nseg = t.nsegs;
    assert_int_equal(segs_in_block(&t), nseg);
    assert_true(t.bytes >= ((size_t)4 << 20));
    assert_int_equal(s_heap_used() - heap0, t.bytes);
    insert_keys(&t, 0, 600000);
    assert_table_ok(&t);
    assert_true(segs_in_block(&t) > nseg / 2); /* (a segment whose keys crowd one part splits early) */
    insert_keys(&t, 600000, 900000);
    assert_table_ok(&t);
    assert_int_equal(segs_in_block(&t), 0);
    assert_int_equal(s_heap_used() - heap0, t.bytes);
    kt_destroy(&t, free_entry, NULL);
    assert_int_equal(s_heap_used(), heap0);

    /* fewer keys than reserved, drained in slices: the block's chunks go as their segments do */
    kt_reserve(&t, 600000);
    insert_keys(&t, 0, 300000);
    assert_table_ok(&t);
    size_t before = t.bytes;
    assert_true(!kt_drain(&t, 100000, free_entry, NULL));
    assert_true(t.bytes < before);
    assert_int_equal(s_heap_used() - heap0, t.bytes);
    while (!kt_drain(&t, 3000, free_entry, NULL)) assert_int_equal(s_heap_used() - heap0, t.bytes);
    assert_int_equal(s_heap_used(), heap0);
    kt_init(&t);

    /* most keys deleted, then a defragmentation pass rebuilds the sparse segments smaller, on the heap */
    kt_reserve(&t, 600000);
    insert_keys(&t, 0, 600000);
    char k[32];
    for (int i = 0; i < 600000; i++) {
        if (i % 10 == 0) continue;
        key_of(i, k);
        uint64_t h = kt_hash(k, strlen(k));
        kslot w;
        handle_t found = kt_find(&t, k, strlen(k), h, &w);
        assert_true(found != 0);
        kt_delete(&t, &w, h);
        entry_free(found);
    }
    assert_table_ok(&t);
    uint64_t cur = 0;
    do cur = kt_defrag(&t, cur, 64, keep_in_place, NULL);
    while (cur);
    assert_table_ok(&t);
    assert_int_equal(t.count, 60000);
    assert_int_equal(segs_in_block(&t), 0);
    assert_int_equal(s_heap_used() - heap0, t.bytes);
    kt_destroy(&t, free_entry, NULL);
    assert_int_equal(s_heap_used(), heap0);

    /* a small reserve stays on the heap */
    kt_reserve(&t, 5000);
    assert_null(t.dir[0]->blk);
    kt_destroy(&t, free_entry, NULL);
    assert_int_equal(s_heap_used(), heap0);
}

/* kt_check is not vacuous: it sees a wrong tag, a wrong TTL bit, a wrong overflow counter, a wrong count. */
static void test_check_sees_corruption(void **state) {
    (void)state;
    ktable t;
    kt_init(&t);
    for (int i = 0; i < 5000; i++) {
        char k[32];
        key_of(i, k);
        kt_insert(&t, kt_hash(k, strlen(k)), make(k, i % 2), i % 2);
    }
    assert_table_ok(&t);
    kseg *s = t.dir[0];
    uint32_t b = 0;
    while (!s->b[b].lo[0]) b++;
    kbucket *bk = &s->b[b];
    bk->tag[0] ^= 1;
    assert_false(kt_check(&t));
    assert_non_null(strstr(dbg_check_why, "tag"));
    bk->tag[0] ^= 1;
    bk->ttlmask ^= 1;
    assert_false(kt_check(&t));
    assert_non_null(strstr(dbg_check_why, "TTL"));
    bk->ttlmask ^= 1;
    uint8_t ov = bk->overflow;
    bk->overflow = (uint8_t)(ov + 1);
    assert_false(kt_check(&t));
    assert_non_null(strstr(dbg_check_why, "overflow"));
    bk->overflow = ov;
    t.count++;
    assert_false(kt_check(&t));
    t.count--;
    assert_table_ok(&t);
    kt_destroy(&t, free_entry, NULL);
    assert_int_equal(arena_live_count(), 0);
}

static void test_arena_reuses_slots(void **state) {
    (void)state;
    handle_t a = arena_alloc(30), b = arena_alloc(30);
    assert_int_equal(arena_usable(a), 30); /* exact-size slots */
    assert_true(a != 0 && b != 0 && a != b);
    arena_free(a);
    handle_t c = arena_alloc(30);
    assert_int_equal(c, a); /* same class, freed slot comes back first */
    arena_free(b);
    arena_free(c);
    assert_int_equal(arena_live_bytes(), 0);
    assert_int_equal(arena_alloc(ARENA_MAX_ALLOC + 1), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_reuses_slots),
        cmocka_unit_test(test_random_ops_against_model),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_scan_guarantee_across_growth),
        cmocka_unit_test(test_full_scan_returns_each_key_once_without_changes),
        cmocka_unit_test(test_walk_in_parts),
        cmocka_unit_test(test_ttl_bits_and_random),
        cmocka_unit_test(test_copy_in_hash_order),
        cmocka_unit_test(test_drain_in_slices),
        cmocka_unit_test(test_reserved_block),
        cmocka_unit_test(test_check_sees_corruption),
    };
    return cmocka_run_group_tests_name("table", tests, setup, NULL);
}
