/* Unit tests for the collections' defragmentation walks (types/zindex.c zi_defrag, types/quicklist.c
 * ql_defrag, types/sidx.c sidx_defrag), each against a model and with the structure changed between two
 * batches, as the incremental stage allows (the cursor is a position that may then be stale): every
 * heap block the walk is given moves (a copy, the old block freed, so under ASan a reference left behind
 * is a use-after-free), sorted-set members on arena pages being emptied move too; afterwards the
 * structure's own check holds and its contents are the model's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mem/arena.h"
#include "types/quicklist.h"
#include "types/sidx.h"
#include "types/zelem.h"
#include "types/zindex.h"
#include "util/debug.h"
#include "util/mem.h"

static int setup(void **state) {
    (void)state;
    return arena_init((size_t)1 << 30);
}

static int blocks_moved;

/* Every block moves. */
static void *mv_always(void *p) {
    size_t n = s_usable(p);
    void *q = s_malloc(n);
    memcpy(q, p, n);
    s_free(p);
    blocks_moved++;
    return q;
}

/* ---- sorted set index ---- */

enum { ZN = 30000, ZMAX = ZN + 20000 };
static double zscore[ZMAX];
static handle_t zh[ZMAX]; /* each live member's handle by id (the member table's part), 0 when deleted */
static int members_moved;

static handle_t zmember(int id, double score) {
    char m[16];
    int n = snprintf(m, sizeof(m), "m%06d", id);
    return zel_new(m, (size_t)n, score);
}

static int member_id(handle_t h) {
    size_t len;
    const char *m = zel_member(h, &len);
    int id = 0; /* the member is not NUL-terminated: the score's bytes follow it */
    for (size_t j = 1; j < len; j++) id = id * 10 + (m[j] - '0');
    return id;
}

static handle_t move_entry(handle_t h) {
    handle_t nh = arena_move(h);
    if (nh != h) members_moved++;
    return nh;
}

static void free_member(void *ud, handle_t h) {
    (void)ud;
    zel_free(h);
}

static int cmp_ids(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    if (zscore[x] != zscore[y]) return zscore[x] < zscore[y] ? -1 : 1;
    return x < y ? -1 : x > y; /* same-width names: member order is id order */
}

/* Inserts and deletes anywhere in the set. */
static void zchange(zindex *t, int *next) {
    for (int k = rand() % 4; k > 0; k--) {
        if (rand() % 2 && *next < ZMAX) {
            zscore[*next] = (double)(rand() % 500);
            zi_insert(t, zh[*next] = zmember(*next, zscore[*next]));
            ++*next;
        } else if (t->count) {
            handle_t h = zi_at(t, (size_t)rand() % t->count);
            zh[member_id(h)] = 0;
            zi_delete(t, h);
            zel_free(h);
        }
    }
}

/* The sorted set's walk: members by a stable position (here their id, the table's hash position in the
 * server), each on a page being emptied moved through zi_move; then the nodes by rank (zi_defrag).  The
 * set changes between batches of both. */
static void test_zindex_walk(void **state) {
    (void)state;
    zindex t;
    zi_init(&t);
    srand(15);
    int next = 0;
    for (; next < ZN; next++) {
        zscore[next] = (double)(rand() % 500);
        zi_insert(&t, zh[next] = zmember(next, zscore[next]));
    }
    for (int i = 0; i < ZN; i++) { /* 60% deleted at random: sparse arena pages */
        if (rand() % 5 < 2) continue;
        handle_t h = zi_at(&t, (size_t)rand() % t.count);
        zh[member_id(h)] = 0;
        zi_delete(&t, h);
        zel_free(h);
    }
    size_t pages = arena_pages_bytes();
    assert_true(arena_defrag_plan(1) > 0);
    int batches = 0;
    members_moved = blocks_moved = 0;
    for (int id = 0; id < next; batches++) {
        for (int end = id + 37; id < end && id < next; id++)
            if (zh[id] && arena_defrag_wants(zh[id])) zh[id] = zi_move(&t, zh[id], move_entry);
        zchange(&t, &next);
    }
    size_t rank = 0;
    do {
        rank = zi_defrag(&t, rank, 300, mv_always);
        batches++;
        zchange(&t, &next);
    } while (rank < t.count);
    arena_defrag_end();
    const char *why = NULL;
    if (!zi_check(&t, &why)) fail_msg("zi_check: %s", why);
    if (!zindex_check(&t)) fail_msg("zindex_check: %s", dbg_check_why);
    if (!arena_check()) fail_msg("arena_check: %s", dbg_check_why);
    printf("zindex walk: %d batches, %d members and %d nodes moved, pages %zu -> %zu KiB\n", batches,
           members_moved, blocks_moved, pages >> 10, arena_pages_bytes() >> 10);
    assert_true(members_moved > 0 && blocks_moved > 0 && arena_pages_bytes() <= pages / 2);
    int *ids = malloc(sizeof(int) * ZMAX), n = 0;
    for (int i = 0; i < next; i++)
        if (zh[i]) ids[n++] = i;
    qsort(ids, (size_t)n, sizeof(int), cmp_ids);
    assert_int_equal(t.count, n);
    zi_iter it;
    zi_iter_init(&it, &t, 0);
    for (int i = 0; i < n; i++) {
        handle_t h = zi_iter_get(&it);
        assert_true(h == zh[ids[i]]); /* the index holds the handle the table holds */
        assert_int_equal(member_id(h), ids[i]);
        assert_true(zel_score(h) == zscore[ids[i]]);
        zi_iter_move(&it, 1);
    }
    free(ids);
    zi_destroy(&t, free_member, NULL);
}

/* ---- quicklist ---- */

enum { QN = 4000, QCAP = 64000 };
static int qmodel[2 * QCAP], qhead = QCAP, qtail = QCAP; /* elements' numbers, [qhead, qtail) */

static void qpush(quicklist *ql, int v, int where) {
    char s[16];
    int n = snprintf(s, sizeof(s), "e%d", v);
    ql_push(ql, s, (size_t)n, where);
    if (where == QL_HEAD) qmodel[--qhead] = v;
    else qmodel[qtail++] = v;
}

static void test_quicklist_walk(void **state) {
    (void)state;
    quicklist *ql = ql_new(8, 1); /* 8 elements a node, compressed nodes but for one at each end */
    srand(16);
    for (int i = 0; i < QN; i++) qpush(ql, i, QL_TAIL);
    int v = QN, batches = 0;
    size_t idx = 0;
    blocks_moved = 0;
    do {
        idx = ql_defrag(ql, idx, 7, mv_always);
        batches++;
        for (int k = rand() % 6; k > 0; k--) {
            int where = rand() % 2 ? QL_HEAD : QL_TAIL;
            if (rand() % 2 || qtail - qhead < 2) {
                qpush(ql, v++, where);
            } else {
                ql_pop(ql, where);
                if (where == QL_HEAD) qhead++;
                else qtail--;
            }
        }
    } while (idx != 0);
    const char *why = ql_check(ql);
    if (why) fail_msg("ql_check: %s", why);
    printf("quicklist walk: %d batches, %d blocks moved\n", batches, blocks_moved);
    assert_true(blocks_moved > 2 * QN / 8);
    assert_int_equal(ql->count, qtail - qhead);
    qliter it;
    lp_val e;
    ql_iter_init(&it, ql, 0, QL_TAIL);
    for (int i = qhead; i < qtail; i++) {
        assert_true(ql_iter_next(&it, &e));
        char s[16];
        int n = snprintf(s, sizeof(s), "e%d", qmodel[i]);
        assert_true(e.s && e.len == (uint32_t)n && memcmp(e.s, s, (size_t)n) == 0);
    }
    assert_false(ql_iter_next(&it, &e));
    ql_iter_done(&it);
    ql_free(ql);
}

/* ---- stream ID index ---- */

typedef struct srec {
    sid id;
    uint64_t *blob; /* a heap block holding the record's ms, as a stream node's listpack */
} srec;

enum { SN = 20000 };
static unsigned char slive[SN * 2];

static void move_blob(void *rec, void *ud) {
    (void)ud;
    srec *r = rec;
    r->blob = mv_always(r->blob);
}

static void sinsert(sidx *t, uint64_t ms) {
    sid k = {ms, 1};
    int existed;
    srec *r = sidx_insert(t, &k, &existed);
    if (existed) return;
    r->blob = s_malloc(sizeof(uint64_t));
    *r->blob = ms;
    slive[ms] = 1;
}

static void sdelete(sidx *t, uint64_t ms) {
    sid k = {ms, 1};
    srec *r = sidx_find(t, &k);
    if (!r) return;
    s_free(r->blob);
    sidx_delete(t, &k);
    slive[ms] = 0;
}

static void test_sidx_walk(void **state) {
    (void)state;
    sidx t;
    sidx_init(&t, sizeof(srec));
    srand(17);
    for (uint64_t i = 0; i < SN; i++) sinsert(&t, i * 2);
    uint32_t ci = 0;
    int batches = 0;
    blocks_moved = 0;
    do {
        ci = sidx_defrag(&t, ci, 50, move_blob, NULL, mv_always);
        batches++;
        for (int k = rand() % 8; k > 0; k--) {
            uint64_t ms = (uint64_t)rand() % (SN * 2);
            if (rand() % 2) sinsert(&t, ms);
            else sdelete(&t, ms);
        }
    } while (ci != 0);
    const char *why = sidx_check(&t);
    if (why) fail_msg("sidx_check: %s", why);
    printf("sidx walk: %d batches, %d blocks moved\n", batches, blocks_moved);
    assert_true(blocks_moved > SN);
    uint64_t n = 0;
    sidx_cur cur;
    for (int ok = sidx_first(&t, &cur); ok; ok = sidx_next(&t, &cur)) {
        srec *r = sidx_at(&t, &cur);
        assert_true(slive[r->id.ms] && *r->blob == r->id.ms);
        n++;
    }
    uint64_t want = 0;
    for (size_t i = 0; i < sizeof(slive); i++) want += slive[i];
    assert_int_equal(n, want);
    for (int ok = sidx_first(&t, &cur); ok; ok = sidx_next(&t, &cur)) s_free(((srec *)sidx_at(&t, &cur))->blob);
    sidx_clear(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zindex_walk),
        cmocka_unit_test(test_quicklist_walk),
        cmocka_unit_test(test_sidx_walk),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
