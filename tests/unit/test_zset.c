/* Unit tests for the sorted set value (types/tzset.c): random operations on several sets checked
 * against a simple model (a sorted array), with the listpack limits set so that sets convert at
 * every size and member length, including members too long for an arena slot; accumulators,
 * zs_fit, duplication, ranks and bounds, range deletion, iteration both ways, ZSCAN's coverage,
 * and the incremental free (obj_ops.free_step) interleaved with other work. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mem/arena.h"
#include "server/server.h"
#include "types/limits.h"
#include "types/object.h"
#include "types/listpack.h"
#include "types/tzset.h"
#include "types/zelem.h"
#include "util/siphash.h"

static int setup(void **state) {
    (void)state;
    siphash_seed_random();
    return arena_init((size_t)1 << 32);
}

/* ---- the model ---- */

typedef struct mel {
    char *m;
    size_t len;
    double s;
} mel;

typedef struct model {
    mel *e;
    size_t n, cap;
} model;

static int mcmp(double s1, const char *m1, size_t l1, double s2, const char *m2, size_t l2) {
    if (s1 != s2) return s1 < s2 ? -1 : 1;
    return zel_memcmp(m1, l1, m2, l2);
}

static long m_find(const model *md, const char *m, size_t len) {
    for (size_t i = 0; i < md->n; i++)
        if (md->e[i].len == len && memcmp(md->e[i].m, m, len) == 0) return (long)i;
    return -1;
}

static void m_del_at(model *md, size_t i) {
    free(md->e[i].m);
    memmove(&md->e[i], &md->e[i + 1], (md->n - i - 1) * sizeof(mel));
    md->n--;
}

static void m_put(model *md, const char *m, size_t len, double s) {
    long f = m_find(md, m, len);
    if (f >= 0) m_del_at(md, (size_t)f);
    if (md->n == md->cap) {
        md->cap = md->cap ? md->cap * 2 : 16;
        md->e = realloc(md->e, md->cap * sizeof(mel));
    }
    size_t i = 0;
    while (i < md->n && mcmp(md->e[i].s, md->e[i].m, md->e[i].len, s, m, len) < 0) i++;
    memmove(&md->e[i + 1], &md->e[i], (md->n - i) * sizeof(mel));
    md->e[i].m = malloc(len ? len : 1);
    memcpy(md->e[i].m, m, len);
    md->e[i].len = len;
    md->e[i].s = s;
    md->n++;
}

static void m_clear(model *md) {
    while (md->n) m_del_at(md, md->n - 1);
    free(md->e);
    memset(md, 0, sizeof(*md));
}

static void check_same(const zset *z, const model *md) {
    assert_int_equal(zs_card(z), md->n);
    assert_null(zs_check(z));
    zs_iter it;
    zs_elem e;
    zs_iter_init(&it, z, 0, 1);
    for (size_t i = 0; i < md->n; i++) {
        assert_true(zs_iter_next(&it, &e));
        assert_int_equal(e.len, md->e[i].len);
        assert_memory_equal(e.m, md->e[i].m, e.len);
        assert_true(e.score == md->e[i].s || (isnan(e.score) && isnan(md->e[i].s)));
    }
    assert_false(zs_iter_next(&it, &e));
    if (md->n) {
        zs_iter_init(&it, z, md->n - 1, -1);
        for (size_t i = md->n; i-- > 0;) {
            assert_true(zs_iter_next(&it, &e));
            assert_int_equal(e.len, md->e[i].len);
            assert_memory_equal(e.m, md->e[i].m, e.len);
        }
        assert_false(zs_iter_next(&it, &e));
    }
}

/* Member i: short, integer-looking, 70 bytes (past the default value limit) or 5000 bytes (heap key). */
static size_t member_of(int i, char *buf) {
    switch (i % 7) {
    case 0: return (size_t)sprintf(buf, "%d", i);
    case 1: memset(buf, 'L', 70); return (size_t)(70 + sprintf(buf + 70, "%d", i));
    case 2: memset(buf, 'H', 5000); return (size_t)(5000 + sprintf(buf + 5000, "%d", i));
    default: return (size_t)sprintf(buf, "m%d", i);
    }
}

static double score_of(unsigned r) {
    static const double fixed[] = {0.0, -0.0, 1.0, 2.5, -3.0, 1e18, 1e300, -1e-300, 0.1, 7.0};
    if (r % 5 == 0) return fixed[(r / 5) % 10];
    if (r % 11 == 0) return (r & 1) ? INFINITY : -INFINITY;
    return (double)(r % 40) / 4.0;
}

#define NSETS 4

static void run(unsigned seed, long entries, long value, int steps) {
    limits.zset_max_listpack_entries = entries;
    limits.zset_max_listpack_value = value;
    zset *z[NSETS];
    model md[NSETS];
    memset(md, 0, sizeof(md));
    for (int k = 0; k < NSETS; k++) z[k] = zs_new(1, 1);
    srand(seed);
    static char buf[6000];
    for (int step = 0; step < steps; step++) {
        int k = rand() % NSETS, op = rand() % 100;
        int id = rand() % 60;
        size_t len = member_of(id, buf);
        if (op < 40) {
            double s = score_of((unsigned)rand());
            int flags = (rand() % 4 == 0) ? ZA_INCR : 0, out;
            double ns;
            double cur;
            int had = zs_score(z[k], buf, len, &cur);
            int ok = zs_add(&z[k], s, buf, len, flags, &out, &ns);
            double want = (flags & ZA_INCR) && had ? cur + s : s;
            if (isnan(want)) {
                assert_false(ok);
                continue;
            }
            assert_true(ok);
            assert_true(ns == want);
            assert_int_equal(!!(out & ZA_OUT_ADDED), !had);
            /* a listpack stores integral scores as integers: -0 reads back as 0 */
            double stored;
            assert_true(zs_score(z[k], buf, len, &stored));
            if (!had || want != cur) m_put(&md[k], buf, len, stored);
            assert_true(stored == want);
        } else if (op < 55) {
            long f = m_find(&md[k], buf, len);
            assert_int_equal(zs_del(&z[k], buf, len), f >= 0);
            if (f >= 0) m_del_at(&md[k], (size_t)f);
        } else if (op < 62) {
            long long r = zs_rank(z[k], buf, len, NULL);
            long f = m_find(&md[k], buf, len);
            assert_int_equal(r, f);
        } else if (op < 68 && md[k].n) {
            size_t start = (size_t)rand() % md[k].n, n = (size_t)rand() % 6;
            if (start + n > md[k].n) n = md[k].n - start;
            zs_delete_range(&z[k], start, n);
            for (size_t i = 0; i < n; i++) m_del_at(&md[k], start);
        } else if (op < 74) {
            double v = score_of((unsigned)rand());
            int incl = rand() & 1;
            size_t want = 0;
            while (want < md[k].n && (incl ? md[k].e[want].s <= v : md[k].e[want].s < v)) want++;
            assert_int_equal(zs_count_score(z[k], v, incl), want);
        } else if (op < 78) {
            /* rebuild as a store command does: an accumulator, then zs_fit */
            int src = rand() % NSETS, dst = rand() % NSETS;
            zset *acc = zs_acc_new();
            size_t maxlen = 0;
            zs_iter it;
            zs_elem e;
            zs_iter_init(&it, z[src], 0, 1);
            while (zs_iter_next(&it, &e)) {
                zs_acc_merge(acc, e.m, e.len, e.score * 2, ZS_AGG_SUM);
                if (e.len > maxlen) maxlen = e.len;
            }
            zs_acc_finish(acc);
            zs_fit(&acc, maxlen);
            model nm = {0};
            for (size_t i = 0; i < md[src].n; i++) {
                double s = md[src].e[i].s * 2;
                if (isnan(s)) s = 0;
                if (s == 0 && zs_is_listpack(acc)) s = 0.0;
                m_put(&nm, md[src].e[i].m, md[src].e[i].len, s);
            }
            zs_free(z[dst]);
            m_clear(&md[dst]);
            z[dst] = acc;
            md[dst] = nm;
        } else if (op < 80) {
            int src = rand() % NSETS, dst = rand() % NSETS;
            if (src == dst) continue;
            zset *d = zs_dup(z[src]);
            zs_free(z[dst]);
            m_clear(&md[dst]);
            z[dst] = d;
            for (size_t i = 0; i < md[src].n; i++) m_put(&md[dst], md[src].e[i].m, md[src].e[i].len, md[src].e[i].s);
        } else if (op < 82) {
            /* free incrementally, interleaved with the other sets' work */
            zset *old = z[k];
            z[k] = zs_new(1, 1);
            m_clear(&md[k]);
            while (!zset_ops.free_step(old, 1 + rand() % 40)) {
                int o = (k + 1) % NSETS;
                size_t l2 = member_of(rand() % 60, buf);
                int out;
                zs_add(&z[o], 1.0, buf, l2, 0, &out, NULL);
                m_put(&md[o], buf, l2, 1.0);
            }
        } else if (op < 84) {
            limits.zset_max_listpack_entries = rand() % 2 ? entries : rand() % 8;
            limits.zset_max_listpack_value = rand() % 2 ? value : rand() % 80;
        } else {
            long long r = zs_rank(z[k], buf, len, NULL);
            if (r >= 0) {
                zs_elem e;
                zs_at(z[k], (size_t)r, &e);
                assert_int_equal(e.len, len);
                assert_memory_equal(e.m, buf, len);
            }
        }
        if (step % 50 == 0)
            for (int j = 0; j < NSETS; j++) check_same(z[j], &md[j]);
    }
    for (int j = 0; j < NSETS; j++) {
        check_same(z[j], &md[j]);
        zs_free(z[j]);
        m_clear(&md[j]);
    }
}

static void test_random_default_limits(void **state) {
    (void)state;
    run(1, 128, 64, 20000);
}

static void test_random_tiny_limits(void **state) {
    (void)state;
    run(2, 3, 8, 20000);
    run(3, 1, 1, 10000);
    run(4, 0, 64, 10000);
}

static void test_conversion_at_every_threshold(void **state) {
    (void)state;
    for (long lim = 1; lim <= 20; lim++) {
        limits.zset_max_listpack_entries = lim;
        limits.zset_max_listpack_value = 64;
        zset *z = zs_new(1, 1);
        for (long i = 0; i <= lim; i++) {
            char m[16];
            int l = sprintf(m, "m%ld", i), out;
            zs_add(&z, (double)(lim - i), m, (size_t)l, 0, &out, NULL);
            assert_int_equal(zs_is_listpack(z), i < lim);
        }
        assert_int_equal(zs_card(z), lim + 1);
        zs_elem e;
        char want[32];
        zs_at(z, 0, &e);
        assert_int_equal(e.len, (size_t)snprintf(want, sizeof(want), "m%ld", lim));
        assert_memory_equal(e.m, want, e.len);
        zs_free(z);
    }
    for (long v = 0; v <= 10; v++) {
        limits.zset_max_listpack_entries = 128;
        limits.zset_max_listpack_value = v;
        zset *z = zs_new(1, 0);
        char m[16] = "abcdefghijk";
        int out;
        zs_add(&z, 1, m, (size_t)v, 0, &out, NULL);
        assert_true(zs_is_listpack(z));
        zs_add(&z, 2, m, (size_t)v + 1, 0, &out, NULL);
        assert_false(zs_is_listpack(z));
        zs_fit(&z, (size_t)v + 1);
        assert_false(zs_is_listpack(z));
        zs_del(&z, m, (size_t)v + 1);
        zs_fit(&z, (size_t)v);
        assert_true(zs_is_listpack(z));
        assert_int_equal(zs_card(z), 1);
        zs_free(z);
    }
    limits.zset_max_listpack_entries = 128;
    limits.zset_max_listpack_value = 64;
}

typedef struct seen {
    char hit[5000];
    int dup;
} seen;

static void scan_fn(void *ud, const char *m, size_t mlen, const char *s, size_t slen) {
    seen *sn = ud;
    char tmp[32];
    memcpy(tmp, m + 1, mlen - 1);
    tmp[mlen - 1] = 0;
    int i = atoi(tmp);
    sn->hit[i]++;
    memcpy(tmp, s, slen);
    tmp[slen] = 0;
    assert_true(strtod(tmp, NULL) == i * 0.5);
}

static void test_scan_and_big_free(void **state) {
    (void)state;
    limits.zset_max_listpack_entries = 128;
    zset *z = zs_new(5000, 8);
    for (int i = 0; i < 5000; i++) {
        char m[16];
        int l = sprintf(m, "m%d", i), out;
        zs_add(&z, i * 0.5, m, (size_t)l, 0, &out, NULL);
    }
    seen sn = {0};
    uint64_t cur = 0;
    int calls = 0;
    do {
        cur = zs_scan(z, cur, 100, scan_fn, &sn);
        calls++;
    } while (cur);
    assert_true(calls > 10);
    for (int i = 0; i < 5000; i++) assert_true(sn.hit[i] >= 1);
    assert_true(zset_ops.free_effort(z) > 64);
    size_t live = arena_live_count();
    int steps = 0;
    while (!zset_ops.free_step(z, 5000)) steps++;
    assert_true(steps > 3);
    assert_int_equal(arena_live_count(), live - 5000);
}

/* One big set under heavy churn: the member table's deletes and growth, the index's merges. */
/* zs_check names what is wrong in a listpack set, and accepts a big set built by inserts and deletes. */
static void test_check_catches(void **state) {
    (void)state;
    unsigned char *lp = lp_new(0);
    lp = lp_append(lp, "b", 1);
    lp = lp_append(lp, "2", 1);
    lp = lp_append(lp, "a", 1);
    lp = lp_append(lp, "1", 1);
    assert_string_equal(zs_check((zset *)lp), "zset: listpack not in (score, member) order");
    lp_free(lp);
    lp = lp_new(0);
    lp = lp_append(lp, "a", 1);
    lp = lp_append(lp, "1.0", 3); /* an integer score must be an integer element */
    assert_string_equal(zs_check((zset *)lp), "zset: score not stored as Redis stores it");
    lp_free(lp);
    zset *z = zs_new(1000, 10);
    int out;
    char m[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(m, sizeof(m), "m%d", i);
        zs_add(&z, (double)(i % 17), m, strlen(m), 0, &out, NULL);
    }
    for (int i = 0; i < 1000; i += 3) {
        snprintf(m, sizeof(m), "m%d", i);
        zs_del(&z, m, strlen(m));
    }
    assert_false(zs_is_listpack(z));
    assert_null(zs_check(z));
    zs_free(z);
}

/* The loading accumulator (zs_acc_push/zs_acc_commit) at sizes below and above the one where the table
 * and the index are built on two threads: members pushed in order, in reverse order (as DUMP writes a
 * skiplist), shuffled and with tied scores; then a duplicate, which must be refused and leave a set
 * that zs_free frees whole (ASan sees any leak or double free).  At 200000 members the table is filled
 * by a second thread while members are still pushed, so duplicates are met there too. */
static void check_loaded(zset *z, size_t n) {
    assert_int_equal(zs_card(z), n);
    assert_null(zs_check(z));
    zs_iter it;
    zs_elem e;
    size_t seen = 0;
    double prev = -INFINITY;
    zs_iter_init(&it, z, 0, 1);
    while (zs_iter_next(&it, &e)) {
        assert_true(e.score >= prev);
        prev = e.score;
        char m[24];
        memcpy(m, e.m, e.len);
        m[e.len] = 0;
        double s;
        assert_true(zs_score(z, m, e.len, &s));
        assert_true(s == e.score);
        assert_int_equal(zs_rank(z, m, e.len, NULL), (long long)seen);
        seen++;
    }
    assert_int_equal(seen, n);
}

static void test_acc_load_orders(void **state) {
    (void)state;
    limits.zset_max_listpack_entries = 128;
    limits.zset_max_listpack_value = 64;
    static const size_t sizes[] = {1000, 70000, 200000};
    for (size_t si = 0; si < 3; si++) {
        size_t n = sizes[si];
        size_t *perm = malloc(n * sizeof(size_t));
        for (int order = 0; order < 4; order++) { /* ascending, descending, shuffled, tied scores */
            for (size_t i = 0; i < n; i++) perm[i] = order == 1 ? n - 1 - i : i;
            if (order >= 2) {
                srand(7 + order);
                for (size_t i = n - 1; i > 0; i--) {
                    size_t j = (size_t)rand() % (i + 1), t = perm[i];
                    perm[i] = perm[j];
                    perm[j] = t;
                }
            }
            zset *z = zs_acc_new_sized(n);
            for (size_t i = 0; i < n; i++) {
                char m[24];
                int l = sprintf(m, "member:%zu", perm[i]);
                zs_acc_push(z, m, (size_t)l, order == 3 ? (double)(perm[i] % 7) : (double)perm[i] * 0.5);
            }
            assert_true(zs_acc_commit(z));
            check_loaded(z, n);
            zs_free(z);
        }
        for (int where = 0; where < 3; where++) { /* a duplicate first, in the middle, last */
            zset *z = zs_acc_new_sized(n + 1);
            size_t at = where == 0 ? 1 : where == 1 ? n / 2 : n;
            for (size_t i = 0, k = 0; i <= n; i++) {
                char m[24];
                int l = sprintf(m, "member:%zu", i == at ? 0 : k++);
                zs_acc_push(z, m, (size_t)l, (double)i);
            }
            assert_false(zs_acc_commit(z));
            zs_free(z);
        }
        free(perm);
    }
    /* the pending array outgrowing its size while the table is being filled beside the pushes (a file's
     * count hint is capped), a duplicate after that, and a set dropped before its commit */
    for (int kase = 0; kase < 3; kase++) {
        size_t n = 200000;
        zset *z = zs_acc_new_sized(66000);
        for (size_t i = 0; i < n; i++) {
            char m[24];
            int l = sprintf(m, "member:%zu", kase == 1 && i == 150000 ? (size_t)70000 : i);
            zs_acc_push(z, m, (size_t)l, (double)(n - i));
            if (kase == 2 && i == 100000) break;
        }
        if (kase == 0) {
            assert_true(zs_acc_commit(z));
            check_loaded(z, n);
        } else if (kase == 1) {
            assert_false(zs_acc_commit(z));
        }
        zs_free(z);
    }
}

/* A load of a known count whose members arrive in order goes straight into the index's leaves
 * (zi_bulk); every other input falls back to the pending array at the member that shows it: a set dropped
 * while still in the leaves, fewer members than said, one out of order after 150000 in order (with the
 * table being filled beside), and the first two members identical. */
static void test_acc_bulk_fallbacks(void **state) {
    (void)state;
    limits.zset_max_listpack_entries = 128;
    limits.zset_max_listpack_value = 64;
    size_t n = 200000;
    for (int kase = 0; kase < 5; kase++) {
        zset *z = zs_acc_new_sized(n);
        size_t pushed = kase == 0 ? 100000 : kase == 1 ? 150000 : kase == 4 ? 2 : n;
        for (size_t i = 0; i < pushed; i++) {
            char m[24];
            size_t k = kase == 4 ? 0 : i;
            double score = (double)(n - i);
            if (kase == 2 && i == 150000) score = (double)n * 2; /* out of order, still distinct */
            if (kase == 3) score = (double)i; /* ascending */
            if (kase == 4) score = 1;
            int l = sprintf(m, "member:%zu", k);
            zs_acc_push(z, m, (size_t)l, score);
        }
        if (kase == 0) {
            zs_free(z);
            continue;
        }
        if (kase == 4) {
            assert_false(zs_acc_commit(z));
        } else {
            assert_true(zs_acc_commit(z));
            check_loaded(z, pushed);
        }
        zs_free(z);
    }
}

static void test_big_churn(void **state) {
    (void)state;
    limits.zset_max_listpack_entries = 128;
    limits.zset_max_listpack_value = 64;
    enum { N = 30000 };
    static double score[N];
    static char present[N];
    memset(present, 0, sizeof(present));
    zset *z = zs_new(N, 8);
    size_t card = 0;
    srand(99);
    for (int step = 0; step < 300000; step++) {
        int i = rand() % N, op = rand() % 10;
        char m[16];
        int l = sprintf(m, "k%d", i), out;
        if (op < 5) {
            double s = (double)(rand() % 1000);
            zs_add(&z, s, m, (size_t)l, 0, &out, NULL);
            card += !present[i];
            present[i] = 1;
            score[i] = s;
        } else if (op < 8) {
            assert_int_equal(zs_del(&z, m, (size_t)l), present[i]);
            card -= present[i];
            present[i] = 0;
        } else if (present[i]) {
            double s;
            assert_true(zs_score(z, m, (size_t)l, &s));
            assert_true(s == score[i]);
            long long r = zs_rank(z, m, (size_t)l, NULL);
            zs_elem e;
            zs_at(z, (size_t)r, &e);
            assert_int_equal(e.len, (size_t)l);
            assert_memory_equal(e.m, m, (size_t)l);
        } else {
            double s;
            assert_false(zs_score(z, m, (size_t)l, &s));
        }
        if (step % 1000 == 0 && card > 50) { /* a range deletion now and then */
            size_t start = (size_t)rand() % (card - 20), n = (size_t)rand() % 20;
            zs_iter it;
            zs_elem e;
            zs_iter_init(&it, z, start, 1);
            for (size_t j = 0; j < n && zs_iter_next(&it, &e); j++) {
                char tmp[16];
                memcpy(tmp, e.m + 1, e.len - 1);
                tmp[e.len - 1] = 0;
                present[atoi(tmp)] = 0;
            }
            zs_delete_range(&z, start, n);
            card -= n;
        }
        assert_int_equal(zs_card(z), card);
    }
    double prev = -INFINITY;
    zs_iter it;
    zs_elem e;
    size_t seen = 0;
    zs_iter_init(&it, z, 0, 1);
    while (zs_iter_next(&it, &e)) {
        assert_true(e.score >= prev);
        prev = e.score;
        seen++;
    }
    assert_int_equal(seen, card);
    zs_free(z);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conversion_at_every_threshold),
        cmocka_unit_test(test_random_default_limits),
        cmocka_unit_test(test_random_tiny_limits),
        cmocka_unit_test(test_scan_and_big_free),
        cmocka_unit_test(test_big_churn),
        cmocka_unit_test(test_acc_load_orders),
        cmocka_unit_test(test_acc_bulk_fallbacks),
        cmocka_unit_test(test_check_catches),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
