/* tzset: see tzset.h for the encodings and their invariants. */
#include "types/tzset.h"
#include "keyspace/defrag.h"
#include "keyspace/table.h"
#include "types/listpack.h"
#include "types/object.h"
#include "types/zelem.h"
#include "types/limits.h"
#include "util/mem.h"
#include "util/debug.h"
#include "util/numconv.h"
#include <limits.h>
#include <pthread.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct zbig {
    uint32_t zero;     /* always 0: a listpack starts with its size */
    uint32_t pad;
    ktable t;          /* member -> entry */
    zindex ix;         /* (score, member) order */
    size_t ebytes;     /* arena + heap bytes of the member entries */
    handle_t *pend;     /* accumulator only: members not yet in the index, in arrival order */
    size_t npend, cpend;
    struct zfill *fill; /* accumulator only: the thread filling the member table while members arrive */
    size_t filled;      /* accumulator only: pend[0, filled) are in the member table */
    size_t reserve;     /* accumulator only: members the table is to be sized for before its first insert */
    /* A load of a known count (zs_acc_new_sized) arriving in order, as DUMP and RDB write it: each member
     * goes straight to its place in the index's leaves (bulk), not to pend; `want` is the count and `dir`
     * the order (+1 ascending, -1 descending, 0 while a single member has come).  Input found out of order,
     * or longer than said, goes back to pend (to_pend). */
    zi_bulk *bulk;
    size_t want;
    int dir;
    handle_t last;     /* the member that arrived last and its score: the next is compared with them */
    double last_score;
} zbig;

/* Sets of at least this many members build their table and index on two threads (zs_acc_commit). */
enum { ZS_PARALLEL_MIN = 65536 };

/* A member and its score side by side, for sorting input that came out of order (index_pending). */
typedef struct zpend {
    double s;
    handle_t h;
} zpend;

static inline int is_lp(const zset *z) {
    uint32_t v;
    memcpy(&v, z, sizeof(v));
    return v != 0;
}
#define LP(z) ((unsigned char *)(z))
#define BIG(z) ((zbig *)(z))

static void arena_full(void) {
    fprintf(stderr, "sardine: the entry arena is exhausted (sorted set member)\n");
    abort();
}

/* ---- listpack helpers ---- */

/* Redis's double2ll: the integers a listpack stores as integers. */
static int double2ll(double d, long long *out) {
    if (d < (double)(-LLONG_MAX / 2) || d > (double)(LLONG_MAX / 2)) return 0;
    long long ll = (long long)d;
    if ((double)ll != d) return 0;
    *out = ll;
    return 1;
}

/* The text a listpack stores for a score (an integer text becomes an integer element). */
static int lp_score_text(char *buf, size_t size, double s) {
    long long ll;
    if (double2ll(s, &ll)) return ll2str(buf, ll);
    return d2str(buf, size, s);
}

static double lpz_score(const unsigned char *sp) {
    lp_val v;
    lp_get(sp, &v);
    if (!v.s) return (double)v.i;
    char buf[128];
    size_t n = v.len < sizeof(buf) - 1 ? v.len : sizeof(buf) - 1;
    memcpy(buf, v.s, n);
    buf[n] = 0;
    return strtod(buf, NULL);
}

static const char *lpz_member(const unsigned char *p, char *buf, size_t *len) {
    uint32_t l;
    const unsigned char *s = lp_get_str(p, (unsigned char *)buf, &l);
    *len = l;
    return (const char *)s;
}

static unsigned char *lpz_find(unsigned char *lp, const char *m, size_t len) {
    if (len > UINT32_MAX) return NULL;
    unsigned char *p = lp_first(lp);
    return p ? lp_find(lp, p, m, (uint32_t)len, 1) : NULL;
}

static size_t lpz_card(const unsigned char *lp) { return lp_length(lp) / 2; }

static unsigned char *lpz_insert(unsigned char *lp, const char *m, size_t len, double score) {
    char sb[128];
    int sl = lp_score_text(sb, sizeof(sb), score);
    unsigned char *p = lp_first(lp);
    while (p) {
        unsigned char *sp = lp_next(lp, p);
        double s = lpz_score(sp);
        if (s > score) break;
        if (s == score) {
            char b[LL_STR_SIZE];
            size_t ml;
            const char *mm = lpz_member(p, b, &ml);
            if (zel_memcmp(mm, ml, m, len) > 0) break;
        }
        p = lp_next(lp, sp);
    }
    if (!p) {
        lp = lp_append(lp, m, (uint32_t)len);
        return lp_append(lp, sb, (uint32_t)sl);
    }
    lp = lp_insert(lp, &p, m, (uint32_t)len, LP_BEFORE);
    return lp_insert(lp, &p, sb, (uint32_t)sl, LP_AFTER);
}

static void lpz_fill(unsigned char *lp, unsigned char *p, zs_elem *e) {
    e->m = lpz_member(p, e->buf, &e->len);
    e->score = lpz_score(lp_next(lp, p));
}

/* ---- skiplist (zbig) helpers ---- */

static zbig *big_new(void) {
    zbig *b = s_calloc(sizeof(*b));
    kt_init(&b->t);
    zi_init(&b->ix);
    return b;
}

static handle_t big_insert_new(zbig *b, const char *m, size_t len, uint64_t hash, double score) {
    handle_t h = zel_new(m, len, score);
    if (!h) arena_full();
    kt_insert(&b->t, hash, h, 0);
    zi_insert(&b->ix, h);
    b->ebytes += zel_bytes(h);
    return h;
}

static void big_drop(zbig *b, handle_t h) {
    size_t len;
    const char *m = zel_member(h, &len);
    uint64_t hash = kt_hash(m, len);
    kslot w;
    kt_find(&b->t, m, len, hash, &w);
    kt_delete(&b->t, &w, hash);
    b->ebytes -= zel_bytes(h);
    zel_free(h);
}

static void drop_visit(void *ud, handle_t h) { big_drop(ud, h); }

static void free_member(void *ud, handle_t h) {
    (void)ud;
    zel_free(h);
}

static zbig *big_from_lp(unsigned char *lp) {
    zbig *b = big_new();
    for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, lp_next(lp, p))) {
        zs_elem e;
        lpz_fill(lp, p, &e);
        big_insert_new(b, e.m, e.len, kt_hash(e.m, e.len), e.score);
    }
    lp_free(lp);
    return b;
}

static int fill_join(zbig *b);

/* The rank a loaded member's place holds in the index being built in bulk (arrival order i). */
static inline size_t bulk_rank(const zbig *b, size_t i) { return b->dir < 0 ? b->want - 1 - i : i; }

/* The accumulator's i-th member in arrival order. */
static inline handle_t arrived(const zbig *b, size_t i) {
    return b->bulk ? zi_bulk_get(b->bulk, bulk_rank(b, i)) : b->pend[i];
}

static void big_free(zbig *b) {
    fill_join(b); /* a load dropped before its commit */
    if (b->npend) { /* an accumulator: members not in the index yet */
        for (size_t i = 0; i < b->npend; i++) zel_free(arrived(b, i));
        b->npend = 0;
    }
    if (b->bulk) zi_bulk_free(b->bulk);
    zi_destroy(&b->ix, free_member, NULL);
    kt_destroy(&b->t, NULL, NULL); /* its handles were freed through the index */
    s_free(b->pend);
    s_free(b);
}

/* ---- the value ---- */

zset *zs_new(size_t size_hint, size_t maxlen_hint) {
    if (limits.zset_max_listpack_entries > 0 && size_hint <= (unsigned long long)limits.zset_max_listpack_entries &&
        maxlen_hint <= (unsigned long long)limits.zset_max_listpack_value)
        return (zset *)lp_new_compact();
    return (zset *)big_new();
}

void zs_free(zset *z) {
    if (is_lp(z)) lp_free(LP(z));
    else big_free(BIG(z));
}

int zs_is_listpack(const zset *z) { return is_lp(z); }

size_t zs_card(const zset *z) { return is_lp(z) ? lpz_card(LP(z)) : BIG(z)->t.count; }

size_t zs_bytes(const zset *z) {
    if (is_lp(z)) return lp_alloc_size(LP(z));
    const zbig *b = BIG(z);
    return s_usable((void *)b) + b->t.bytes + b->ix.bytes + b->ebytes;
}

zset *zs_dup(const zset *z) {
    if (is_lp(z)) return (zset *)lp_dup(LP(z));
    const zbig *b = BIG(z);
    zbig *d = big_new();
    zi_iter it;
    zi_iter_init(&it, &b->ix, 0);
    for (size_t i = 0; i < b->ix.count; i++) {
        handle_t h = zi_iter_get(&it);
        size_t len;
        const char *m = zel_member(h, &len);
        big_insert_new(d, m, len, kt_hash(m, len), zel_score(h));
        zi_iter_move(&it, 1);
    }
    return (zset *)d;
}

int zs_score(const zset *z, const char *m, size_t len, double *score) {
    if (is_lp(z)) {
        unsigned char *lp = LP(z), *p = lpz_find(lp, m, len);
        if (!p) return 0;
        *score = lpz_score(lp_next(lp, p));
        return 1;
    }
    handle_t h = kt_find(&BIG(z)->t, m, len, kt_hash(m, len), NULL);
    if (!h) return 0;
    *score = zel_score(h);
    return 1;
}

int zs_add(zset **zp, double score, const char *m, size_t len, int flags, int *out, double *newscore) {
    int incr = flags & ZA_INCR, nx = flags & ZA_NX, xx = flags & ZA_XX, gt = flags & ZA_GT, lt = flags & ZA_LT;
    *out = 0;
    if (isnan(score)) {
        *out = ZA_OUT_NAN;
        return 0;
    }
    zset *z = *zp;
    if (is_lp(z)) {
        unsigned char *lp = LP(z), *p = lpz_find(lp, m, len);
        if (p) {
            double cur = lpz_score(lp_next(lp, p));
            if (nx) {
                *out |= ZA_OUT_NOP;
                return 1;
            }
            if (incr) {
                score += cur;
                if (isnan(score)) {
                    *out |= ZA_OUT_NAN;
                    return 0;
                }
            }
            if ((lt && score >= cur) || (gt && score <= cur)) {
                *out |= ZA_OUT_NOP;
                return 1;
            }
            if (newscore) *newscore = score;
            if (score != cur) {
                lp = lp_delete(lp, &p);
                lp = lp_delete(lp, &p);
                *zp = (zset *)lpz_insert(lp, m, len, score);
                *out |= ZA_OUT_UPDATED;
            }
            return 1;
        }
        if (xx) {
            *out |= ZA_OUT_NOP;
            return 1;
        }
        if (lpz_card(lp) + 1 <= (unsigned long long)limits.zset_max_listpack_entries &&
            len <= (unsigned long long)limits.zset_max_listpack_value) {
            *zp = (zset *)lpz_insert(lp, m, len, score);
            if (newscore) *newscore = score;
            *out |= ZA_OUT_ADDED;
            return 1;
        }
        z = (zset *)big_from_lp(lp);
        *zp = z;
    }
    zbig *b = BIG(z);
    uint64_t hash = kt_hash(m, len);
    handle_t h = kt_find(&b->t, m, len, hash, NULL);
    if (h) {
        double cur = zel_score(h);
        if (nx) {
            *out |= ZA_OUT_NOP;
            return 1;
        }
        if (incr) {
            score += cur;
            if (isnan(score)) {
                *out |= ZA_OUT_NAN;
                return 0;
            }
        }
        if ((lt && score >= cur) || (gt && score <= cur)) {
            *out |= ZA_OUT_NOP;
            return 1;
        }
        if (newscore) *newscore = score;
        if (score != cur) {
            zi_rescore(&b->ix, h, score);
            *out |= ZA_OUT_UPDATED;
        }
        return 1;
    }
    if (xx) {
        *out |= ZA_OUT_NOP;
        return 1;
    }
    big_insert_new(b, m, len, hash, score);
    DBG_ASSERT(b->npend || b->ix.count == b->t.count); /* the index and the member table agree */
    if (newscore) *newscore = score;
    *out |= ZA_OUT_ADDED;
    return 1;
}

int zs_del(zset **zp, const char *m, size_t len) {
    zset *z = *zp;
    if (is_lp(z)) {
        unsigned char *lp = LP(z), *p = lpz_find(lp, m, len);
        if (!p) return 0;
        lp = lp_delete(lp, &p);
        *zp = (zset *)lp_delete(lp, &p);
        return 1;
    }
    zbig *b = BIG(z);
    uint64_t hash = kt_hash(m, len);
    kslot w;
    handle_t h = kt_find(&b->t, m, len, hash, &w);
    if (!h) return 0;
    zi_delete(&b->ix, h);
    kt_delete(&b->t, &w, hash);
    b->ebytes -= zel_bytes(h);
    zel_free(h);
    DBG_ASSERT(b->npend || b->ix.count == b->t.count);
    return 1;
}

long long zs_rank(const zset *z, const char *m, size_t len, double *score) {
    if (is_lp(z)) {
        unsigned char *lp = LP(z);
        long long r = 0;
        for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, lp_next(lp, p)), r++) {
            if (lp_eq(p, m, (uint32_t)len)) {
                if (score) *score = lpz_score(lp_next(lp, p));
                return r;
            }
        }
        return -1;
    }
    const zbig *b = BIG(z);
    handle_t h = kt_find(&b->t, m, len, kt_hash(m, len), NULL);
    if (!h) return -1;
    if (score) *score = zel_score(h);
    return (long long)zi_rank(&b->ix, h);
}

size_t zs_count_score(const zset *z, double v, int incl) {
    if (!is_lp(z)) return zi_count_before(&BIG(z)->ix, incl ? ZB_SCORE_LE : ZB_SCORE_LT, v, NULL, 0);
    unsigned char *lp = LP(z);
    size_t n = 0;
    for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, lp_next(lp, p)), n++) {
        double s = lpz_score(lp_next(lp, p));
        if (incl ? !(s <= v) : !(s < v)) break;
    }
    return n;
}

size_t zs_count_lex(const zset *z, const char *m, size_t len, int incl) {
    if (!is_lp(z)) return zi_count_before(&BIG(z)->ix, incl ? ZB_LEX_LE : ZB_LEX_LT, 0, m, len);
    unsigned char *lp = LP(z);
    size_t n = 0;
    for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, lp_next(lp, p)), n++) {
        char b[LL_STR_SIZE];
        size_t ml;
        const char *mm = lpz_member(p, b, &ml);
        int c = zel_memcmp(mm, ml, m, len);
        if (incl ? c > 0 : c >= 0) break;
    }
    return n;
}

void zs_at(const zset *z, size_t r, zs_elem *e) {
    if (is_lp(z)) {
        unsigned char *lp = LP(z);
        lpz_fill(lp, lp_seek(lp, (long)(2 * r)), e);
        return;
    }
    handle_t h = zi_at(&BIG(z)->ix, r);
    e->m = zel_member(h, &e->len);
    e->score = zel_score(h);
}

void zs_delete_range(zset **zp, size_t start, size_t n) {
    zset *z = *zp;
    if (n == 0) return;
    if (is_lp(z)) {
        *zp = (zset *)lp_delete_range(LP(z), (long)(2 * start), 2 * n);
        return;
    }
    zbig *b = BIG(z);
    zi_delete_range(&b->ix, start, n, drop_visit, b);
}

void zs_iter_init(zs_iter *it, const zset *z, size_t rank, int dir) {
    it->z = z;
    it->dir = dir;
    it->lp = is_lp(z);
    it->p = NULL;
    it->done = rank >= zs_card(z);
    if (it->done) return;
    if (it->lp) it->p = lp_seek(LP(z), (long)(2 * rank));
    else zi_iter_init(&it->it, &BIG(z)->ix, rank);
}

int zs_iter_next(zs_iter *it, zs_elem *e) {
    if (it->done) return 0;
    if (it->lp) {
        unsigned char *lp = LP(it->z), *p = it->p;
        lpz_fill(lp, p, e);
        if (it->dir > 0) {
            it->p = lp_next(lp, lp_next(lp, p));
        } else {
            unsigned char *q = lp_prev(lp, p);
            it->p = q ? lp_prev(lp, q) : NULL;
        }
        if (!it->p) it->done = 1;
        return 1;
    }
    handle_t h = zi_iter_get(&it->it);
    e->m = zel_member(h, &e->len);
    e->score = zel_score(h);
    if (!zi_iter_move(&it->it, it->dir)) it->done = 1;
    return 1;
}

void zs_fit(zset **zp, size_t maxlen) {
    zset *z = *zp;
    if (is_lp(z)) return;
    zbig *b = BIG(z);
    if (limits.zset_max_listpack_entries <= 0 || b->t.count > (unsigned long long)limits.zset_max_listpack_entries ||
        maxlen > (unsigned long long)limits.zset_max_listpack_value)
        return;
    unsigned char *lp = lp_new_compact();
    zi_iter it;
    zi_iter_init(&it, &b->ix, 0);
    for (size_t i = 0; i < b->ix.count; i++) {
        handle_t h = zi_iter_get(&it);
        size_t len;
        const char *m = zel_member(h, &len);
        char sb[128];
        int sl = lp_score_text(sb, sizeof(sb), zel_score(h));
        lp = lp_append(lp, m, (uint32_t)len);
        lp = lp_append(lp, sb, (uint32_t)sl);
        zi_iter_move(&it, 1);
    }
    big_free(b);
    *zp = (zset *)lp;
}

/* ---- ZSCAN ---- */

typedef struct scan_ctx {
    zs_scan_fn *fn;
    void *ud;
} scan_ctx;

static void scan_visit(void *ud, handle_t h) {
    scan_ctx *sc = ud;
    size_t len;
    const char *m = zel_member(h, &len);
    char sb[128];
    int sl = d2str(sb, sizeof(sb), zel_score(h));
    sc->fn(sc->ud, m, len, sb, (size_t)sl);
}

uint64_t zs_scan(const zset *z, uint64_t cursor, long count, zs_scan_fn *fn, void *ud) {
    if (is_lp(z)) {
        unsigned char *lp = LP(z);
        for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, lp_next(lp, p))) {
            char mb[LL_STR_SIZE], sbuf[LL_STR_SIZE];
            size_t ml, sl;
            const char *m = lpz_member(p, mb, &ml);
            const char *s = lpz_member(lp_next(lp, p), sbuf, &sl);
            fn(ud, m, ml, s, sl);
        }
        return 0;
    }
    scan_ctx sc = {fn, ud};
    return kt_scan(&BIG(z)->t, cursor, count, scan_visit, &sc);
}

zset *zs_from_listpack(unsigned char *lp) {
    if ((unsigned long long)lpz_card(lp) > (unsigned long long)limits.zset_max_listpack_entries)
        return (zset *)big_from_lp(lp);
    return (zset *)lp_move(lp, 1);
}

/* ---- accumulator ---- */

zset *zs_acc_new(void) { return (zset *)big_new(); }

zset *zs_acc_new_sized(size_t n) {
    zbig *b = big_new();
    b->reserve = n; /* the member table is sized where it is filled (zeroing ~7 B per member) */
    if (n >= ZS_PARALLEL_MIN) {
        b->bulk = zi_bulk_new(n);
        b->want = n;
        return (zset *)b;
    }
    b->cpend = n;
    b->pend = s_malloc(n * sizeof(handle_t));
    s_map_populate(b->pend, n * sizeof(handle_t)); /* n is bounded by the input's bytes (the caller's check) */
    return (zset *)b;
}

void zs_acc_add(zset *acc, const char *m, size_t len, double score) {
    zbig *b = BIG(acc);
    handle_t h = zel_new(m, len, score);
    if (!h) arena_full();
    kt_insert(&b->t, kt_hash(m, len), h, 0);
    b->ebytes += zel_bytes(h);
    if (b->npend == b->cpend) {
        b->cpend = b->cpend ? b->cpend * 2 : 64;
        b->pend = s_realloc(b->pend, b->cpend * sizeof(handle_t));
    }
    b->pend[b->npend++] = h;
}

void zs_acc_merge(zset *acc, const char *m, size_t len, double score, int aggr) {
    zbig *b = BIG(acc);
    handle_t h = kt_find(&b->t, m, len, kt_hash(m, len), NULL);
    if (!h) {
        zs_acc_add(acc, m, len, score);
        return;
    }
    double cur = zel_score(h);
    if (aggr == ZS_AGG_SUM) {
        cur += score;
        if (isnan(cur)) cur = 0.0;
    } else if (aggr == ZS_AGG_MIN) {
        cur = score < cur ? score : cur;
    } else {
        cur = score > cur ? score : cur;
    }
    zel_set_score(h, cur);
}

static int pend_cmp(const void *a, const void *b) {
    const zpend *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    size_t xl, yl;
    const char *xm = zel_member(x->h, &xl), *ym = zel_member(y->h, &yl);
    return zel_memcmp(xm, xl, ym, yl);
}

/* ---- filling the member table while members arrive ----
 *
 * A load pushes members on one thread (zs_acc_push); a second one (zfill) puts them into the member table as
 * they come, so the table is mostly built by the time the last member arrives and commit is left with the
 * index.  The pending array is preallocated (zs_acc_new_sized) and does not move while a filler runs: the
 * builder publishes how many members are complete every FILL_BATCH pushes under the mutex, the filler reads
 * only below that mark, and only the filler touches the table until it is joined.  A push that would grow the
 * array stops the filler first (commit then fills the rest as without one).  A duplicate member stops the
 * filler early; commit reports it. */
enum { FILL_BATCH = 4096 };

typedef struct zfill {
    pthread_t t;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    zbig *b;
    size_t avail; /* members the builder has published (under mu) */
    int final;    /* no more will be published (under mu) */
    int ok;       /* 0 once a member came twice */
} zfill;

/* Puts pend[from, to) into the member table; 0 at a member already there (b->filled stops before it). */
static int fill_range(zbig *b, size_t from, size_t to) {
    enum { AHEAD = 8 };
    if (b->reserve) {
        kt_reserve(&b->t, b->reserve);
        b->reserve = 0;
    }
    /* Where the members are, read once: the loading thread writes next to these fields for every member
     * (b->last ...), and reading them for every member here would pull that cache line back and forth. */
    const zbig at = {.bulk = b->bulk, .want = b->want, .dir = b->dir, .pend = b->pend};
    uint64_t ring[AHEAD];
    for (size_t i = from; i < to && i < from + AHEAD; i++) {
        size_t len;
        const char *m = zel_member(arrived(&at, i), &len);
        ring[i % AHEAD] = kt_hash(m, len);
        kt_prefetch(&b->t, ring[i % AHEAD]);
    }
    for (size_t i = from; i < to; i++) {
        uint64_t hv = ring[i % AHEAD];
        if (i + AHEAD < to) {
            size_t len;
            const char *m = zel_member(arrived(&at, i + AHEAD), &len);
            ring[i % AHEAD] = kt_hash(m, len);
            kt_prefetch(&b->t, ring[i % AHEAD]);
        }
        size_t len;
        handle_t h = arrived(&at, i);
        const char *m = zel_member(h, &len);
        if (kt_find(&b->t, m, len, hv, NULL)) {
            b->filled = i;
            return 0;
        }
        kt_insert(&b->t, hv, h, 0);
    }
    b->filled = to;
    return 1;
}

static void *fill_main(void *arg) {
    zfill *f = arg;
    zbig *b = f->b;
    pthread_mutex_lock(&f->mu);
    for (;;) {
        while (b->filled == f->avail && !f->final) pthread_cond_wait(&f->cv, &f->mu);
        size_t to = f->avail;
        int last = f->final;
        pthread_mutex_unlock(&f->mu);
        DBG_ASSERT(b->filled <= to);
        int ok = b->filled == to || fill_range(b, b->filled, to);
        pthread_mutex_lock(&f->mu);
        if (!ok) f->ok = 0;
        if (!ok || (last && b->filled == f->avail)) break;
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

static void fill_publish(zbig *b, int final) {
    zfill *f = b->fill;
    pthread_mutex_lock(&f->mu);
    f->avail = b->npend;
    f->final = final;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* Joins the filler (after letting it finish what was published); returns 0 if it met a duplicate. */
static int fill_join(zbig *b) {
    zfill *f = b->fill;
    if (!f) return 1;
    pthread_mutex_lock(&f->mu);
    f->final = 1;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->t, NULL);
    int ok = f->ok;
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    s_free(f);
    b->fill = NULL;
    return ok;
}

static void fill_start(zbig *b) {
    zfill *f = s_malloc(sizeof(*f));
    memset(f, 0, sizeof(*f));
    f->b = b;
    f->ok = 1;
    f->avail = b->filled; /* what it may fill starts where an earlier filler stopped */
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    if (pthread_create(&f->t, NULL, fill_main, f) != 0) {
        pthread_cond_destroy(&f->cv);
        pthread_mutex_destroy(&f->mu);
        s_free(f);
        return;
    }
    b->fill = f;
}

static int handle_cmp(handle_t x, handle_t y);

/* Gives up building in bulk: the members so far go to pend, in arrival order (the filler, which reads
 * them, is stopped first; commit restarts one if it pays). */
static void to_pend(zbig *b) {
    fill_join(b);
    b->cpend = b->npend * 2 > 64 ? b->npend * 2 : 64;
    b->pend = s_malloc(b->cpend * sizeof(handle_t));
    for (size_t i = 0; i < b->npend; i++) b->pend[i] = arrived(b, i);
    zi_bulk_free(b->bulk);
    b->bulk = NULL;
}

/* Places the new member h (arrival npend) in the bulk index, or gives up the bulk build when it is out of
 * order or one too many; 0 then (h is not placed). */
static int bulk_place(zbig *b, handle_t h, double score) {
    size_t i = b->npend;
    if (i == b->want) return 0;
    if (i == 1) { /* the order is the first two members' (the first waits in place 0 until then) */
        handle_t first = zi_bulk_get(b->bulk, 0);
        int c = handle_cmp(first, h);
        if (c == 0) return 0;
        b->dir = c < 0 ? 1 : -1;
        if (b->dir < 0) zi_bulk_set(b->bulk, b->want - 1, first);
    } else if (i > 1) { /* after the last member: the scores first, the bytes only on a tie */
        int c = b->last_score < score ? -1 : b->last_score > score ? 1 : handle_cmp(b->last, h);
        if (c != -b->dir) return 0;
    }
    zi_bulk_set(b->bulk, i == 0 ? 0 : bulk_rank(b, i), h);
    b->last = h;
    b->last_score = score;
    return 1;
}

void zs_acc_push(zset *acc, const char *m, size_t len, double score) {
    zbig *b = BIG(acc);
    handle_t h = zel_new(m, len, score);
    if (!h) arena_full();
    b->ebytes += zel_bytes(h);
    if (b->bulk && !bulk_place(b, h, score)) to_pend(b);
    if (!b->bulk) {
        if (b->npend == b->cpend) {
            fill_join(b); /* the array moves: the filler must not be reading it */
            b->cpend = b->cpend ? b->cpend * 2 : 64;
            b->pend = s_realloc(b->pend, b->cpend * sizeof(handle_t));
        }
        b->pend[b->npend] = h;
    }
    b->npend++;
    if (b->npend % FILL_BATCH == 0) {
        if (b->fill) fill_publish(b, 0);
        else if (b->npend == ZS_PARALLEL_MIN && b->filled == 0 && (b->bulk || b->cpend > b->npend))
            fill_start(b), fill_publish(b, 0);
    }
}

static int handle_cmp(handle_t x, handle_t y) {
    double xs = zel_score(x), ys = zel_score(y);
    if (xs != ys) return xs < ys ? -1 : 1;
    size_t xl, yl;
    const char *xm = zel_member(x, &xl), *ym = zel_member(y, &yl);
    return zel_memcmp(xm, xl, ym, yl);
}

/* The index of the pending members, built in bulk.  Reads the pending array and the entries; writes only
 * the index.  Input already in order or in reverse order (DUMP and RDB write a skiplist from the greatest
 * score down) is indexed straight from the pending array; other input is sorted in a copy. */
static void index_pending(zbig *b) {
    size_t n = b->npend;
    _Static_assert(sizeof(zpend) == 2 * sizeof(handle_t), "zpend is two 8-byte fields: a stride of 2 handles");
    if (n == 0) return;
    int asc = 1, desc = 1;
    for (size_t i = 1; i < n && (asc || desc); i++) {
        if (handle_cmp(b->pend[i - 1], b->pend[i]) > 0) asc = 0;
        else desc = 0;
    }
    if (asc || desc) {
        zi_build_strided(&b->ix, b->pend, 1, n, !asc);
        return;
    }
    zpend *sp = s_malloc(n * sizeof(zpend));
    for (size_t i = 0; i < n; i++) sp[i] = (zpend){zel_score(b->pend[i]), b->pend[i]};
    qsort(sp, n, sizeof(zpend), pend_cmp);
    zi_build_strided(&b->ix, &sp[0].h, 2, n, 0);
    s_free(sp);
}

/* The pending array, once the index owns its members. */
static void drop_pending(zbig *b) {
    s_free(b->pend);
    b->pend = NULL;
    b->npend = b->cpend = 0;
}

/* The table and the index are independent (each reads only the pending array and the entries, and
 * allocates from the heap, not the arena), so a big set builds them at once on two threads: the filler,
 * running since the first members arrived (or started now), finishes the table while this thread builds the
 * index.  A RESTORE's or a load's time after its last byte is then the index's build. */
int zs_acc_commit(zset *acc) {
    zbig *b = BIG(acc);
    DBG_ASSERT(b->ix.count == 0);
    if (b->bulk && b->npend != b->want) to_pend(b); /* fewer members came than were said */
    if (b->npend == 0) return 1;
    if (!b->fill && b->npend - b->filled >= ZS_PARALLEL_MIN) fill_start(b);
    if (b->fill) {
        fill_publish(b, 1);
    } else if (!fill_range(b, b->filled, b->npend)) {
        return 0; /* the pending members are still owned by pend or bulk */
    }
    if (b->bulk) zi_bulk_finish(&b->ix, b->bulk); /* the filler still reads the leaves through b->bulk */
    else index_pending(b);
    int ok = fill_join(b) && b->filled == b->ix.count;
    if (b->bulk) {
        zi_bulk_free(b->bulk);
        b->bulk = NULL;
    }
    /* the index owns every member now, even when the table stopped at a duplicate (zs_free then frees
     * them through the index and only the table's buckets after) */
    drop_pending(b);
    return ok;
}

/* Makes the accumulator a regular set: the index built in bulk from the pending members (index_pending),
 * or, when it already has one, each of them inserted. */
void zs_acc_finish(zset *acc) {
    zbig *b = BIG(acc);
    if (b->ix.count == 0) {
        index_pending(b);
    } else {
        for (size_t i = 0; i < b->npend; i++) zi_insert(&b->ix, b->pend[i]);
    }
    drop_pending(b);
}

/* ---- obj_ops ---- */

static void ops_free(void *p) { zs_free(p); }
static size_t ops_bytes(const void *p) { return zs_bytes(p); }
static size_t ops_effort(const void *p) { return is_lp(p) ? 1 : BIG(p)->t.count + 1; }
static const char *ops_encoding(const void *p) { return is_lp(p) ? "listpack" : "skiplist"; }
static void *ops_dup(const void *p) { return zs_dup(p); }

/* One slice of a big set's freeing: members through the index's leaves (a member costs a cache miss,
 * ~50-100 ns with prefetching, so a slice frees budget/4 of them, ~0.1-0.2 ms), then the member
 * table's buckets, whose handles are already gone (no entry is read: a segment costs ~10 us). */
static int ops_free_step(void *p, long budget) {
    if (is_lp(p)) {
        lp_free(p);
        return 1;
    }
    zbig *b = p;
    if (b->ix.root) {
        zi_free_step(&b->ix, budget / 4 + 1, free_member, NULL);
        return 0;
    }
    if (!kt_drain(&b->t, (size_t)budget * 8, NULL, NULL)) return 0;
    s_free(b->pend);
    s_free(b);
    return 1;
}

/* Active defragmentation: a listpack as one block.  A big set: its header, then (stage 0) its members by
 * walking the member table by hash position, which changes between two calls do not shift (a member
 * missed would keep its whole arena page): each member on a page being emptied is found in the index
 * while its slot is live, moved, and its new handle written in the index (zi_move) and, by kt_defrag, in
 * the table; then (stage 1, the position a rank + 1) the index's nodes as heap blocks. */
static handle_t move_member(void *ud, handle_t h) {
    zbig *b = ud;
    if (!arena_defrag_wants(h)) return defrag_entry(h); /* stays: only its heap member may move */
    return zi_move(&b->ix, h, defrag_entry);
}

static void *ops_defrag(void *p, uint64_t cur[2], long budget) {
    if (is_lp(p)) return defrag_block_value(p, cur);
    zbig *b = p;
    if (b->pend) { /* an accumulator (a load), never in the keyspace */
        cur[0] = cur[1] = 0;
        return p;
    }
    if (cur[0] == 0 && cur[1] == 0) {
        zbig *n = defrag_alloc(b);
        if (n) b = n;
    }
    if (cur[1] == 0) {
        cur[0] = kt_defrag(&b->t, cur[0], budget / 8 + 1, move_member, b);
        if (cur[0] != 0) return b;
        cur[1] = 1; /* the members are done: the index's nodes from rank 0 */
        if (budget != LONG_MAX) return b;
    }
    size_t next = zi_defrag(&b->ix, cur[1] - 1, budget == LONG_MAX ? budget : budget * 16, defrag_alloc);
    cur[1] = next >= b->ix.count ? 0 : next + 1;
    return b;
}

const obj_ops zset_ops = {
    .free = ops_free,
    .bytes = ops_bytes,
    .free_effort = ops_effort,
    .free_step = ops_free_step,
    .encoding = ops_encoding,
    .dup = ops_dup,
    .defrag = ops_defrag,
};

/* ---- structure check ---- */

typedef struct zcheck_ctx {
    const ktable *t;
    size_t n;
    const char *why;
} zcheck_ctx;

static void zcheck_elem(void *ud, handle_t h) {
    zcheck_ctx *cc = ud;
    cc->n++;
    if (cc->why) return;
    size_t len;
    const char *m = zel_member(h, &len);
    kslot w;
    if (kt_find(cc->t, m, len, kt_hash(m, len), &w) != h) cc->why = "zset: a member is not found under its own name";
    else if (isnan(zel_score(h))) cc->why = "zset: a member's score is NaN";
}

/* The header's invariants.  A listpack passes lp_check and holds member/score pairs in strictly
 * increasing (score, member) order, no member twice, no NaN score, each score stored as Redis stores
 * it (an integer element exactly when it is an integer within +-2^62).  A skiplist has no pending
 * accumulator members; the member table's entries are each found under their own member; the index
 * passes zindex_check, holds as many members as the table, in strictly increasing (score, member)
 * order, each of them the table's entry for its member.  NULL if all hold, else what is wrong. */
const char *zs_check(const zset *z) {
    if (!z) return "zset: NULL";
    if (is_lp(z)) {
        unsigned char *lp = LP(z);
        const char *why = lp_check(lp);
        if (why) return why;
        if (lp_length(lp) % 2) return "zset: listpack holds an odd number of elements";
        double prev = 0;
        char pbuf[LL_STR_SIZE], mbuf[LL_STR_SIZE];
        const char *pm = NULL;
        size_t plen = 0;
        for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, p)) {
            unsigned char *sp = lp_next(lp, p);
            size_t len;
            const char *m = lpz_member(p, mbuf, &len);
            double s = lpz_score(sp);
            lp_val sv;
            lp_get(sp, &sv);
            long long ll;
            if (isnan(s)) return "zset: NaN score in the listpack";
            if ((sv.s == NULL) != double2ll(s, &ll)) return "zset: score not stored as Redis stores it";
            if (pm && (s < prev || (s == prev && zel_memcmp(pm, plen, m, len) >= 0)))
                return "zset: listpack not in (score, member) order";
            unsigned char *q = lp_next(lp, sp);
            if (q && lp_find(lp, q, m, (uint32_t)len, 1)) return "zset: listpack holds a member twice";
            pm = (m == mbuf) ? memcpy(pbuf, mbuf, len) : m; /* integer members are formatted into mbuf */
            plen = len;
            prev = s;
            p = sp;
        }
        return NULL;
    }
    const zbig *b = BIG(z);
    if (b->npend) return "zset: accumulator members left out of the index";
    const char *why = zindex_check(&b->ix) ? NULL : dbg_check_why;
    if (why) return why;
    zcheck_ctx cc = {&b->t, 0, NULL};
    uint64_t cur = 0;
    do cur = kt_scan(&b->t, cur, 4096, zcheck_elem, &cc);
    while (cur);
    if (cc.why) return cc.why;
    if (cc.n != b->t.count) return "zset: table count differs from its entries";
    if (b->ix.count != b->t.count) return "zset: index and member table hold different counts";
    zi_iter it;
    handle_t prev = 0;
    size_t n = 0;
    if (b->ix.count) {
        zi_iter_init(&it, &b->ix, 0);
        do {
            handle_t h = zi_iter_get(&it);
            size_t len;
            const char *m = zel_member(h, &len);
            kslot w;
            if (kt_find(&b->t, m, len, kt_hash(m, len), &w) != h) return "zset: index holds a handle the table does not";
            if (prev) {
                double ps = zel_score(prev), s = zel_score(h);
                size_t plen;
                const char *pm = zel_member(prev, &plen);
                if (ps > s || (ps == s && zel_memcmp(pm, plen, m, len) >= 0))
                    return "zset: index not in (score, member) order";
            }
            prev = h;
            n++;
        } while (zi_iter_move(&it, 1));
    }
    if (n != b->ix.count) return "zset: index walk differs from its count";
    return NULL;
}
