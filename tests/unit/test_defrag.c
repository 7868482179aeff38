/* Unit tests for the arena's defragmentation mover (mem/arena.c: arena_defrag_plan, arena_move,
 * arena_defrag_end) against a model: random allocation and free sequences with moves interleaved, after
 * which every handle still reaches its bytes, no slot is reachable twice (arena_check_handles), nothing
 * new is allocated on a page being emptied, the invariants hold (arena_check) and the fragmentation is
 * gone; and the key table's walk (kt_defrag) moving entries in place, with kt_check and every key's value
 * checked afterwards, its segments rebuilt smaller after mass deletion; and the pool's pages given back to
 * the kernel in a batch run by another thread. */
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
#include "util/siphash.h"

static int setup(void **state) {
    (void)state;
    siphash_seed_random();
    return arena_init((size_t)1 << 30);
}

static void assert_arena_ok(void) {
    if (!arena_check()) fail_msg("arena_check: %s", dbg_check_why);
}

typedef struct live {
    handle_t h;
    uint32_t size, id;
} live;

static void fill(handle_t h, uint32_t size, uint32_t id) {
    uint8_t *p = arena_ptr(h);
    for (uint32_t i = 0; i < size; i++) p[i] = (uint8_t)(id * 131 + i * 7);
}

static int same(handle_t h, uint32_t size, uint32_t id) {
    const uint8_t *p = arena_ptr(h);
    for (uint32_t i = 0; i < size; i++)
        if (p[i] != (uint8_t)(id * 131 + i * 7)) return 0;
    return 1;
}

static size_t random_size(void) {
    switch (rand() % 3) {
    case 0: return 8 + (size_t)rand() % 24;
    case 1: return 30 + (size_t)rand() % 100;
    default: return 1 + (size_t)rand() % 700;
    }
}

static void check_all(live *v, size_t n) {
    handle_t *hs = malloc(sizeof(handle_t) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) {
        if (!same(v[i].h, v[i].size, v[i].id)) fail_msg("entry %u lost its bytes", v[i].id);
        hs[i] = v[i].h;
    }
    if (!arena_check_handles(hs, n)) fail_msg("arena_check_handles: %s", dbg_check_why);
    free(hs);
    assert_arena_ok();
}

static void test_mover_model(void **state) {
    (void)state;
    const size_t cap = 200000;
    live *v = calloc(cap, sizeof(*v));
    size_t n = 0;
    uint32_t next_id = 1;
    srand(15);
    for (int round = 0; round < 3; round++) {
        /* Fill, then free a random 60%: many pages of every class half empty. */
        while (n < cap * 3 / 4) {
            uint32_t size = (uint32_t)random_size();
            handle_t h = arena_alloc(size);
            assert_true(h != 0);
            fill(h, size, next_id);
            v[n++] = (live){h, size, next_id++};
        }
        for (size_t i = 0; i < n;) {
            if (rand() % 100 < 60) {
                arena_free(v[i].h);
                v[i] = v[--n];
            } else {
                i++;
            }
        }
        check_all(v, n);
        size_t frag_before = arena_frag_bytes(), pages_before = arena_pages_bytes();
        size_t marked = arena_defrag_plan(1);
        assert_true(marked > 0);
        assert_arena_ok();
        /* Move everything, with allocations and frees interleaved as clients would do between steps. */
        for (size_t i = 0; i < n; i++) {
            if (rand() % 8 == 0 && n < cap) {
                uint32_t size = (uint32_t)random_size();
                handle_t h = arena_alloc(size);
                assert_true(h != 0);
                assert_false(arena_defrag_wants(h)); /* nothing new lands on a page being emptied */
                fill(h, size, next_id);
                v[n++] = (live){h, size, next_id++};
            }
            if (rand() % 10 == 0) {
                size_t j = (size_t)rand() % n;
                arena_free(v[j].h);
                v[j] = v[--n];
                if (j <= i) continue; /* the slot at i (or j) now holds an entry not yet seen: fine either way */
            }
            if (i >= n) break;
            handle_t nh = arena_move(v[i].h);
            if (nh != v[i].h) {
                assert_false(arena_defrag_wants(nh));
                v[i].h = nh;
            }
            if (!same(v[i].h, v[i].size, v[i].id)) fail_msg("entry %u changed while moving", v[i].id);
        }
        /* A second sweep catches entries swapped into already visited indices above. */
        for (size_t i = 0; i < n; i++) v[i].h = arena_move(v[i].h);
        for (size_t i = 0; i < n; i++) assert_false(arena_defrag_wants(v[i].h));
        check_all(v, n);
        arena_defrag_end();
        check_all(v, n);
        size_t frag_after = arena_frag_bytes();
        printf("round %d: %zu entries, %zu pages marked, pages %zu -> %zu KiB, frag %zu -> %zu KiB\n", round, n,
               marked, pages_before >> 10, arena_pages_bytes() >> 10, frag_before >> 10, frag_after >> 10);
        assert_true(frag_after * 4 < frag_before);
    }
    for (size_t i = 0; i < n; i++) arena_free(v[i].h);
    assert_true(arena_live_count() == 0);
    assert_arena_ok();
    free(v);
}

/* A page marked for emptying whose slots are not moved (another owner's) goes back into service. */
static void test_unmoved_pages_return(void **state) {
    (void)state;
    enum { N = 20000 };
    handle_t *hs = malloc(sizeof(handle_t) * N);
    for (int i = 0; i < N; i++) hs[i] = arena_alloc(48);
    for (int i = 0; i < N; i++)
        if (i % 3) {
            arena_free(hs[i]);
            hs[i] = 0;
        }
    assert_true(arena_defrag_plan(1) > 0);
    arena_defrag_end();
    assert_arena_ok();
    /* The pages take allocations again: new slots fill the holes before any fresh page is used. */
    size_t pages = arena_pages_bytes();
    for (int i = 0; i < N; i++)
        if (!hs[i]) hs[i] = arena_alloc(48);
    assert_true(arena_pages_bytes() == pages);
    for (int i = 0; i < N; i++) arena_free(hs[i]);
    assert_arena_ok();
    free(hs);
}

/* Pages given back by another thread: out of the pool while the batch runs, in it (released) after. */
static void test_release_batch(void **state) {
    (void)state;
    enum { N = 120000 };
    handle_t *hs = malloc(sizeof(handle_t) * N);
    for (int i = 0; i < N; i++) hs[i] = arena_alloc(100);
    for (int i = 0; i < N; i++) arena_free(hs[i]);
    arena_set_pool_reserve(8, 64);
    size_t n = arena_release_prepare(64);
    assert_true(n == 64);
    assert_true(arena_release_prepare(64) == 0); /* one batch at a time */
    assert_arena_ok();
    for (int i = 0; i < N / 2; i++) hs[i] = arena_alloc(100); /* allocations meanwhile use other pages */
    assert_false(arena_release_finish());
    arena_release_run();
    assert_true(arena_release_finish());
    assert_arena_ok();
    for (int i = 0; i < N / 2; i++) arena_free(hs[i]);
    while (arena_release_prepare(64)) {
        arena_release_run();
        assert_true(arena_release_finish());
    }
    assert_arena_ok();
    arena_set_pool_reserve(64, 16);
    free(hs);
}

typedef struct tctx {
    int moved;
} tctx;

static handle_t move_fn(void *ud, handle_t h) {
    handle_t nh = arena_move(h);
    if (nh != h) ((tctx *)ud)->moved++;
    return nh;
}

static void free_fn(void *ud, handle_t h) {
    (void)ud;
    entry_free(h);
}

static void test_table_walk(void **state) {
    (void)state;
    enum { N = 60000 };
    ktable t;
    kt_init(&t);
    char key[32], val[48];
    for (int i = 0; i < N; i++) {
        int kl = snprintf(key, sizeof(key), "key:%012d", i), vl = snprintf(val, sizeof(val), "value-%d", i * 7);
        entry_value ev = {.type = OBJ_STRING, .store = VAL_INLINE, .sval = val, .slen = (size_t)vl};
        handle_t h = entry_build(key, (size_t)kl, i % 3 ? -1 : 1000000 + i, 0, &ev);
        kt_insert(&t, kt_hash(key, (size_t)kl), h, i % 3 == 0);
    }
    for (int i = 0; i < N; i++) {
        if (i % 5 == 0) continue;
        int kl = snprintf(key, sizeof(key), "key:%012d", i);
        uint64_t hash = kt_hash(key, (size_t)kl);
        kslot w;
        handle_t h = kt_find(&t, key, (size_t)kl, hash, &w);
        assert_true(h != 0);
        kt_delete(&t, &w, hash);
        entry_free(h);
    }
    size_t pages = arena_pages_bytes(), table_bytes = t.bytes;
    assert_true(arena_defrag_plan(1) > 0);
    tctx c = {0};
    uint64_t cur = 0;
    int steps = 0;
    do {
        cur = kt_defrag(&t, cur, 16, move_fn, &c);
        steps++;
    } while (cur != 0);
    arena_defrag_end();
    if (!kt_check(&t)) fail_msg("kt_check: %s", dbg_check_why);
    assert_arena_ok();
    printf("table walk: %d steps, %d moved, pages %zu -> %zu KiB\n", steps, c.moved, pages >> 10, arena_pages_bytes() >> 10);
    assert_true(c.moved > 0 && arena_pages_bytes() <= pages / 2); /* 20% of the keys, in 11 pages of 22 */
    /* 80% of the keys deleted: the walk rebuilt the segments smaller. */
    printf("table: %zu -> %zu bytes\n", table_bytes, t.bytes);
    assert_true(t.bytes < table_bytes / 2);
    for (int i = 0; i < N; i += 5) {
        int kl = snprintf(key, sizeof(key), "key:%012d", i), vl = snprintf(val, sizeof(val), "value-%d", i * 7);
        handle_t h = kt_find(&t, key, (size_t)kl, kt_hash(key, (size_t)kl), NULL);
        assert_true(h != 0);
        size_t len;
        const char *s = e_inline(arena_ptr(h), &len);
        assert_true(len == (size_t)vl && memcmp(s, val, len) == 0);
        assert_true(e_ttl(arena_ptr(h)) == (i % 3 ? -1 : 1000000 + i));
    }
    kt_destroy(&t, free_fn, NULL);
    assert_true(arena_live_count() == 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mover_model),
        cmocka_unit_test(test_unmoved_pages_return),
        cmocka_unit_test(test_release_batch),
        cmocka_unit_test(test_table_walk),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
