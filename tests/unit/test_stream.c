/* Unit tests for the stream value (types/tstream.c) and its ordered index (types/sidx.c): sidx against
 * a sorted-array model under random inserts/deletes/seeks; stream appends, deletes and trims against a
 * model of live entries with the node limits set so that nodes split at every size (entries and bytes),
 * iteration both ways over random ranges; Redis's node-opening rules (keys per node); the radix tree node
 * count against a brute-force count of a compressed trie; consumer group PEL bookkeeping; duplication and
 * the incremental free. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mem/arena.h"
#include "server/server.h"
#include "types/limits.h"
#include "types/object.h"
#include "types/slz.h"
#include "types/tstream.h"

static int setup(void **state) {
    (void)state;
    return arena_init((size_t)1 << 32);
}

/* ---- sidx ---- */

typedef struct rec {
    sid k;
    uint64_t v;
} rec;

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_sidx_against_model(void **state) {
    (void)state;
    enum { U = 5000 };
    static uint8_t present[U];
    memset(present, 0, sizeof(present));
    sidx t;
    sidx_init(&t, sizeof(rec));
    srand(3);
    size_t count = 0;
    for (int step = 0; step < 200000; step++) {
        uint64_t k = (uint64_t)(rand() % U);
        sid key = {k / 7, k % 7};
        int op = rand() % 10;
        if (op < 5) {
            int existed;
            rec *r = sidx_insert(&t, &key, &existed);
            assert_int_equal(existed, present[k]);
            if (!existed) {
                r->v = k * 3;
                present[k] = 1;
                count++;
            }
            assert_int_equal(r->v, k * 3);
        } else if (op < 9) {
            assert_int_equal(sidx_delete(&t, &key), present[k]);
            if (present[k]) count--;
            present[k] = 0;
        } else {
            sidx_cur cur;
            /* seek_ge / seek_le agree with the model */
            uint64_t ge = k;
            while (ge < U && !present[ge]) ge++;
            int ok = sidx_seek_ge(&t, &key, &cur);
            assert_int_equal(ok, ge < U);
            if (ok) assert_int_equal(((rec *)sidx_at(&t, &cur))->v, ge * 3);
            int64_t le = (int64_t)k;
            while (le >= 0 && !present[le]) le--;
            ok = sidx_seek_le(&t, &key, &cur);
            assert_int_equal(ok, le >= 0);
            if (ok) assert_int_equal(((rec *)sidx_at(&t, &cur))->v, (uint64_t)le * 3);
        }
        assert_int_equal(t.count, count);
    }
    /* a full walk both ways */
    uint64_t *keys = malloc(sizeof(uint64_t) * (count + 1));
    size_t n = 0;
    sidx_cur cur;
    for (int ok = sidx_first(&t, &cur); ok; ok = sidx_next(&t, &cur)) keys[n++] = ((rec *)sidx_at(&t, &cur))->v / 3;
    assert_int_equal(n, count);
    for (size_t i = 1; i < n; i++) assert_true(keys[i - 1] < keys[i]);
    for (int ok = sidx_last(&t, &cur); ok; ok = sidx_prev(&t, &cur)) assert_int_equal(((rec *)sidx_at(&t, &cur))->v / 3, keys[--n]);
    assert_int_equal(n, 0);
    qsort(keys, 0, sizeof(uint64_t), cmp_u64);
    free(keys);
    sidx_clear(&t);
    assert_int_equal(t.count, 0);
}

/* ---- streams against a model ---- */

typedef struct ment {
    sid id;
    int nf;
    char f[3][8], v[3][80];
} ment;

static void fmt_val(const lp_val *v, char *buf) {
    if (v->s) {
        memcpy(buf, v->s, v->len);
        buf[v->len] = 0;
    } else {
        snprintf(buf, 32, "%lld", (long long)v->i);
    }
}

static void check_range(stream *s, ment *m, size_t n, size_t lo, size_t hi, int rev) {
    stream_iter it;
    sid a = m[lo].id, b = m[hi].id;
    stream_iter_start(&it, s, &a, &b, rev);
    sid id;
    int64_t nf;
    for (size_t k = 0; k <= hi - lo; k++) {
        const ment *e = &m[rev ? hi - k : lo + k];
        assert_true(stream_iter_next(&it, &id, &nf));
        assert_int_equal(sid_cmp(&id, &e->id), 0);
        assert_int_equal(nf, e->nf);
        for (int j = 0; j < e->nf; j++) {
            lp_val f, v;
            char fb[100], vb[100];
            stream_iter_field(&it, &f, &v);
            fmt_val(&f, fb);
            fmt_val(&v, vb);
            assert_string_equal(fb, e->f[j]);
            assert_string_equal(vb, e->v[j]);
        }
    }
    assert_false(stream_iter_next(&it, &id, &nf));
    stream_iter_done(&it);
    (void)n;
}

static void test_stream_against_model(void **state) {
    (void)state;
    static const char *fields[] = {"a", "b", "c", "7", "-3"};
    static const char *vals[] = {"x", "1", "-1", "128", "9223372036854775807", "", "hello", "007"};
    srand(11);
    for (int round = 0; round < 12; round++) {
        limits.stream_node_max_entries = round % 4 == 0 ? 0 : 1 + rand() % 12;
        limits.stream_node_max_bytes = round % 3 == 0 ? 0 : 20 + rand() % 300;
        stream *s = stream_new();
        size_t cap = 4000, n = 0;
        ment *m = calloc(cap, sizeof(ment));
        sid last = {0, 0};
        for (int step = 0; step < 3000; step++) {
            int op = rand() % 10;
            if (op < 7 && n < cap) {
                ment e;
                memset(&e, 0, sizeof(e));
                last.ms += (uint64_t)(rand() % 3);
                last.seq = rand() % 2 ? last.seq + 1 : 0;
                if (sid_cmp(&last, &s->last_id) <= 0) {
                    last = s->last_id;
                    sid_incr(&last);
                }
                e.id = last;
                e.nf = 1 + rand() % 3;
                sbuf fv[6];
                int base = rand() % 2;
                for (int j = 0; j < e.nf; j++) {
                    strcpy(e.f[j], fields[base ? j : rand() % 5]);
                    if (rand() % 8 == 0) memset(e.v[j], 'v', 70);
                    else strcpy(e.v[j], vals[rand() % 8]);
                    fv[2 * j] = (sbuf){e.f[j], strlen(e.f[j])};
                    fv[2 * j + 1] = (sbuf){e.v[j], strlen(e.v[j])};
                }
                stream_append(s, &e.id, fv, e.nf);
                m[n++] = e;
            } else if (op < 9 && n) {
                size_t i = (size_t)rand() % n;
                assert_true(stream_delete(s, &m[i].id));
                assert_false(stream_delete(s, &m[i].id));
                memmove(m + i, m + i + 1, (n - i - 1) * sizeof(ment));
                n--;
            } else if (n > 10) {
                strim t = {.strategy = rand() % 2 ? TRIM_MAXLEN : TRIM_MINID, .approx = rand() % 2};
                size_t keep = n - (size_t)rand() % 10;
                t.maxlen = (long long)keep;
                t.minid = m[n - keep].id;
                long long del = stream_trim(s, &t);
                if (!t.approx) assert_int_equal(del, (long long)(n - keep));
                assert_true(del <= (long long)(n - keep));
                memmove(m, m + del, (n - (size_t)del) * sizeof(ment));
                n -= (size_t)del;
            }
            assert_int_equal(s->length, n);
            if (step % 97 == 0 && n) {
                { const char *why = stream_check(s); if (why) fail_msg("stream_check: %s", why); }
                size_t lo = (size_t)rand() % n, hi = lo + (size_t)rand() % (n - lo);
                check_range(s, m, n, lo, hi, rand() % 2);
                check_range(s, m, n, 0, n - 1, 0);
                sid fst, lst;
                assert_true(stream_first_valid(s, &fst) && stream_last_valid(s, &lst));
                assert_int_equal(sid_cmp(&fst, &m[0].id), 0);
                assert_int_equal(sid_cmp(&lst, &m[n - 1].id), 0);
                assert_true(stream_entry_exists(s, &m[lo].id));
            }
        }
        /* a duplicate is equal, and independent */
        stream *d = stream_dup(s);
        if (n) check_range(d, m, n, 0, n - 1, 1);
        stream_free(d);
        /* the incremental free, a few nodes at a time */
        while (!stream_ops.free_step(s, 3)) {
        }
        free(m);
    }
    limits.stream_node_max_entries = 100;
    limits.stream_node_max_bytes = 4096;
}

/* Node opening follows Redis: entries counts live + deleted; bytes compare tail size plus the new fields. */
static void test_node_rules(void **state) {
    (void)state;
    limits.stream_node_max_bytes = 0;
    limits.stream_node_max_entries = 3;
    stream *s = stream_new();
    sbuf fv[2] = {{"f", 1}, {"v", 1}};
    for (uint64_t i = 1; i <= 7; i++) stream_append(s, &(sid){i, 0}, fv, 1);
    assert_int_equal(s->nodes.count, 3); /* 3 + 3 + 1 */
    assert_true(stream_delete(s, &(sid){7, 0}));
    assert_int_equal(s->nodes.count, 2); /* the last node's only entry: node freed */
    assert_true(stream_delete(s, &(sid){5, 0}));
    stream_append(s, &(sid){8, 0}, fv, 1); /* the tail holds 2 live + 1 deleted: full */
    assert_int_equal(s->nodes.count, 3);
    stream_free(s);
    limits.stream_node_max_entries = 0;
    limits.stream_node_max_bytes = 40;
    s = stream_new();
    for (uint64_t i = 1; i <= 10; i++) stream_append(s, &(sid){i, 0}, fv, 1);
    /* a node holds the master entry (5 elements) and entries of 6 elements: 2 per node at 40 bytes */
    assert_true(s->nodes.count >= 4 && s->nodes.count <= 6);
    stream_free(s);
    limits.stream_node_max_entries = 100;
    limits.stream_node_max_bytes = 4096;
}

/* ---- radix tree node count ---- */

static int key_cmp(const void *a, const void *b) { return memcmp(a, b, 16); }

/* Nodes of a radix tree holding n sorted 16-byte keys that all share their first d bytes, starting at a
 * node boundary at depth d. */
static size_t brute(const unsigned char (*k)[16], size_t n, int d) {
    if (n == 1) return d == 16 ? 1 : 2;
    int l = d;
    while (l < 16 && k[0][l] == k[n - 1][l]) l++; /* sorted: first and last bound the common prefix */
    size_t total = (l > d ? 1 : 0) + 1;           /* compressed node for the shared bytes, then a branch */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && k[j][l] == k[i][l]) j++;
        total += brute(k + i, j - i, l + 1);
        i = j;
    }
    return total;
}

static void test_rax_node_count(void **state) {
    (void)state;
    srand(5);
    limits.stream_node_max_entries = 1;
    limits.stream_node_max_bytes = 0;
    for (int round = 0; round < 300; round++) {
        stream *s = stream_new();
        size_t n = (size_t)(rand() % 60);
        unsigned char (*keys)[16] = malloc(16 * (n + 1));
        sid id = {(uint64_t)rand() % 3 ? 0 : (uint64_t)rand() << 20, 0};
        sbuf fv[2] = {{"f", 1}, {"v", 1}};
        for (size_t i = 0; i < n; i++) {
            int how = rand() % 4;
            if (how == 0) id.ms += 1;
            else if (how == 1) id.ms += (uint64_t)rand() % 100000;
            else if (how == 2) id.seq += 1 + (uint64_t)rand() % 300;
            else id.ms += (uint64_t)1 << (rand() % 60);
            if (how != 2) id.seq = rand() % 2 ? 0 : (uint64_t)rand();
            stream_append(s, &id, fv, 1);
            for (int b = 0; b < 8; b++) {
                keys[i][b] = (unsigned char)(id.ms >> (56 - 8 * b));
                keys[i][8 + b] = (unsigned char)(id.seq >> (56 - 8 * b));
            }
        }
        qsort(keys, n, 16, key_cmp);
        size_t want = n == 0 ? 1 : brute((const unsigned char(*)[16])keys, n, 0);
        assert_int_equal(stream_rax_nodes(s), want);
        stream_free(s);
        free(keys);
    }
    limits.stream_node_max_entries = 100;
    limits.stream_node_max_bytes = 4096;
}

/* ---- consumer groups ---- */

static void test_groups_and_pel(void **state) {
    (void)state;
    stream *s = stream_new();
    sid zero = {0, 0};
    assert_non_null(stream_group_create(s, "g2", 2, &zero, -1));
    sgroup *g = stream_group_create(s, "g1", 2, &zero, -1);
    assert_null(stream_group_create(s, "g1", 2, &zero, -1));
    assert_string_equal(s->groups[0]->name, "g1"); /* ordered by name, as Redis's rax */
    sconsumer *a = stream_consumer_create(g, "bob", 3, 1), *b = stream_consumer_create(g, "al", 2, 1);
    assert_null(stream_consumer_create(g, "al", 2, 1));
    assert_ptr_equal(g->cons[0], b);
    for (uint64_t i = 1; i <= 1000; i++) {
        spel *p = stream_pel_add(g, &(sid){i, 0}, NULL);
        p->delivery_count = 1;
        stream_pel_assign(g, p, i % 3 ? a : b);
    }
    assert_int_equal(g->pel.count, 1000);
    assert_int_equal(a->pel.count + b->pel.count, 1000);
    assert_null(stream_check(s));
    for (uint64_t i = 1; i <= 1000; i += 2) {
        spel *p = stream_pel_find(g, &(sid){i, 0});
        stream_pel_assign(g, p, a); /* moving keeps the group record in place */
        assert_ptr_equal(stream_pel_find(g, &(sid){i, 0}), p);
    }
    for (uint64_t i = 1; i <= 1000; i += 5) stream_pel_remove(g, &(sid){i, 0});
    assert_int_equal(g->pel.count, 800);
    assert_int_equal(a->pel.count + b->pel.count, 800);
    uint64_t bp = b->pel.count;
    assert_int_equal(stream_consumer_delete(g, b), bp);
    assert_int_equal(g->pel.count, 800 - bp);
    assert_null(stream_check(s));
    /* a group PEL record whose owner lost it from its own PEL is caught */
    spel *orphan = stream_pel_find(g, &(sid){2, 0});
    assert_non_null(orphan);
    assert_int_equal(sidx_delete(&orphan->owner->pel, &(sid){2, 0}), 1);
    assert_non_null(stream_check(s));
    sidx_insert(&a->pel, &(sid){2, 0}, NULL);
    assert_null(stream_check(s));
    s->length++;
    assert_string_equal(stream_check(s), "stream: length differs from the sum of node counts");
    s->length--;
    stream *d = stream_dup(s);
    sgroup *dg = stream_group_find(d, "g1", 2);
    assert_int_equal(dg->pel.count, g->pel.count);
    assert_int_equal(stream_consumer_find(dg, "bob", 3)->pel.count, a->pel.count);
    stream_free(d);
    stream_group_destroy(s, stream_group_find(s, "g2", 2));
    assert_int_equal(s->ngroups, 1);
    stream_free(s);
}

/* ---- the node compressor ---- */

static void test_slz_roundtrip(void **state) {
    (void)state;
    srand(9);
    static unsigned char in[70000], out[80000], back[70000];
    for (int round = 0; round < 400; round++) {
        size_t n = (size_t)rand() % (round < 200 ? 5000 : sizeof(in));
        int kind = round % 4;
        for (size_t i = 0; i < n;) {
            if (kind == 2 && i > 100 && rand() % 3) { /* a copy of an earlier segment */
                size_t len = 8 + (size_t)rand() % 40, from = (size_t)rand() % (i - 50);
                for (size_t k = 0; k < len && i < n; k++, i++) in[i] = in[from + k];
                continue;
            }
            if (kind == 0 || kind == 2) in[i] = (unsigned char)rand();           /* incompressible */
            else if (kind == 1) in[i] = (unsigned char)("member:"[i % 7]);        /* periodic */
            else in[i] = (unsigned char)(i / 50);                                 /* runs */
            i++;
        }
        size_t c = slz_compress(in, n, out, sizeof(out));
        if (n >= 64 && kind != 0) assert_true(c > 0 && c < n);
        if (!c) continue;
        assert_true(slz_decompress(out, c, back, n));
        assert_memory_equal(in, back, n);
        /* a short output buffer is refused, never overrun */
        if (n > 1) assert_false(slz_decompress(out, c, back, n - 1));
        /* a cap too small makes compression give up */
        if (c > 2) assert_int_equal(slz_compress(in, n, out, c - 1), 0);
        /* corrupted input fails cleanly (or decodes to something of the right size) */
        unsigned char bad[80000];
        memcpy(bad, out, c);
        bad[(size_t)rand() % c] ^= (unsigned char)(1 + rand() % 255);
        (void)slz_decompress(bad, c, back, n);
    }
}

/* Sealed nodes behind the tail are compressed, and everything still reads and changes correctly. */
static void test_compressed_nodes(void **state) {
    (void)state;
    limits.stream_node_max_entries = 100;
    limits.stream_node_max_bytes = 4096;
    stream *s = stream_new();
    char v[32];
    size_t raw = 0;
    for (uint64_t i = 1; i <= 20000; i++) {
        int l = snprintf(v, sizeof(v), "member:%llu", (unsigned long long)i);
        sbuf fv[4] = {{"member", 6}, {v, (size_t)l}, {"n", 1}, {v + 7, (size_t)l - 7}};
        stream_append(s, &(sid){1700000000000ull + i, 0}, fv, 2);
        raw += 32;
    }
    assert_true(stream_bytes(s) < raw / 2);
    for (uint64_t i = 1; i <= 20000; i += 3) assert_true(stream_delete(s, &(sid){1700000000000ull + i, 0}));
    assert_int_equal(s->length, 20000 - 6667);
    strim t = {.strategy = TRIM_MAXLEN, .maxlen = 5000};
    assert_int_equal(stream_trim(s, &t), 20000 - 6667 - 5000);
    stream_iter it;
    sid id;
    int64_t nf;
    uint64_t count = 0, prev = 0;
    stream_iter_start(&it, s, NULL, NULL, 0);
    while (stream_iter_next(&it, &id, &nf)) {
        lp_val f, val;
        stream_iter_field(&it, &f, &val);
        char want[32];
        int l = snprintf(want, sizeof(want), "member:%llu", (unsigned long long)(id.ms - 1700000000000ull));
        assert_int_equal(val.len, l);
        assert_memory_equal(val.s, want, (size_t)l);
        assert_true(id.ms > prev && (id.ms - 1700000000000ull) % 3 != 1);
        prev = id.ms;
        count++;
    }
    stream_iter_done(&it);
    assert_int_equal(count, 5000);
    stream *d = stream_dup(s);
    assert_true(stream_bytes(d) < stream_bytes(s) * 11 / 10 && stream_bytes(s) < stream_bytes(d) * 11 / 10);
    stream_free(d);
    stream_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sidx_against_model),
        cmocka_unit_test(test_stream_against_model),
        cmocka_unit_test(test_node_rules),
        cmocka_unit_test(test_rax_node_count),
        cmocka_unit_test(test_groups_and_pel),
        cmocka_unit_test(test_slz_roundtrip),
        cmocka_unit_test(test_compressed_nodes),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
