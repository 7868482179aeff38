/* tset: see tset.h for the two encodings and the conversion rules.
 *
 * Invariants: an intset set holds only integers and at most
 * set-max-intset-entries of them at the moment it was last added to (a
 * CONFIG SET that lowers the limit applies from the next add, as in Redis);
 * a hashtable set's entries are built with has-TTL 0 and LRU 0 and are only
 * touched by the event loop thread; empty sets never stay in the keyspace
 * (the commands delete the key). */
#include "types/tset.h"
#include "keyspace/defrag.h"
#include "keyspace/entry.h"
#include "keyspace/table.h"
#include "server/server.h" /* serverLog */
#include "types/limits.h"
#include "types/intset.h"
#include "types/object.h"
#include "util/mem.h"
#include "util/debug.h"
#include "util/numconv.h"
#include <stdlib.h>
#include <string.h>

typedef struct sbig {
    uint32_t zero; /* 0: tells a hashtable from an intset (whose encoding is here) */
    ktable t;
} sbig;

static inline int is_is(const void *s) {
    uint32_t v; /* unaligned in the arena */
    memcpy(&v, s, 4);
    return v != 0;
}
int set_is_intset(const void *s) { return is_is(s); }

static uint64_t rng_state = 0x2f8b1d3c4e5a6978ULL;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static inline int as_int(const char *m, size_t len, long long *v) {
    return len && len < LL_STR_SIZE && str2ll(m, len, v);
}

static sbig *big_new(void) {
    sbig *b = s_malloc(sizeof(*b));
    b->zero = 0;
    kt_init(&b->t);
    return b;
}

void *set_new_intset(void) { return is_new(); }

void *set_new_table(size_t n) {
    sbig *b = big_new();
    kt_reserve(&b->t, n);
    return b;
}

void *set_create_for(const char *m, size_t len) {
    long long v;
    return as_int(m, len, &v) ? (void *)is_new() : (void *)big_new();
}

unsigned long set_len(const void *s) { return is_is(s) ? is_len(s) : (unsigned long)((const sbig *)s)->t.count; }

/* ---- hashtable members ---- */

static void big_insert(sbig *b, const char *m, size_t len, uint64_t hv) {
    entry_value ev = {.type = OBJ_STRING, .store = VAL_INT, .ival = 0};
    ev.raw_key = 1;
    handle_t h = entry_build(m, len, -1, 0, &ev);
    if (!h) {
        serverLog(LL_WARNING, "entry arena exhausted while storing a set member");
        abort();
    }
    kt_insert(&b->t, hv, h, 0);
}

static void free_elem(void *ud, handle_t h) {
    (void)ud;
    entry_free(h);
}

typedef struct visit_ctx {
    set_visit_fn *fn;
    void *ud;
} visit_ctx;

static void visit_elem(void *ud, handle_t h) {
    visit_ctx *vc = ud;
    size_t len;
    const char *m = e_key(arena_ptr(h), &len);
    vc->fn(vc->ud, m, len);
}

static void big_foreach(const sbig *b, kt_visit_fn *fn, void *ud) {
    uint64_t cur = 0;
    do cur = kt_scan(&b->t, cur, 4096, fn, ud);
    while (cur);
}

static void visit_int(set_visit_fn *fn, void *ud, int64_t v) {
    char buf[LL_STR_SIZE];
    int n = ll2str(buf, v);
    fn(ud, buf, (size_t)n);
}

static sbig *convert(intset *is) {
    sbig *b = big_new();
    char buf[LL_STR_SIZE];
    for (uint32_t i = 0; i < is_len(is); i++) {
        int n = ll2str(buf, is_get(is, i));
        big_insert(b, buf, (size_t)n, kt_hash(buf, (size_t)n));
    }
    DBG_ASSERT(b->t.count == is_len(is)); /* every member converted, none twice */
    is_free(is);
    return b;
}

void *set_from_intset(intset *is) {
    if (is_len(is) > (unsigned long long)limits.set_max_intset_entries) return convert(is);
    return is;
}

/* ---- access ---- */

int set_has(const void *s, const char *m, size_t len) {
    if (is_is(s)) {
        long long v;
        return as_int(m, len, &v) && is_find(s, v);
    }
    kslot w;
    return kt_find(&((const sbig *)s)->t, m, len, kt_hash(m, len), &w) != 0;
}

int set_add(void **sp, const char *m, size_t len) {
    if (is_is(*sp)) {
        long long v;
        if (as_int(m, len, &v)) {
            int added;
            intset *is = is_add(*sp, v, &added);
            *sp = is;
            if (added && is_len(is) > (unsigned long long)limits.set_max_intset_entries) *sp = convert(is);
            return added;
        }
        *sp = convert(*sp);
    }
    sbig *b = *sp;
    uint64_t hv = kt_hash(m, len);
    kslot w;
    if (kt_find(&b->t, m, len, hv, &w)) return 0;
    big_insert(b, m, len, hv);
    DBG_ASSERT(kt_find(&b->t, m, len, hv, &w) != 0);
    return 1;
}

int set_rem(void **sp, const char *m, size_t len) {
    if (is_is(*sp)) {
        long long v;
        if (!as_int(m, len, &v)) return 0;
        int removed;
        *sp = is_remove(*sp, v, &removed);
        return removed;
    }
    sbig *b = *sp;
    uint64_t hv = kt_hash(m, len);
    kslot w;
    handle_t h = kt_find(&b->t, m, len, hv, &w);
    if (!h) return 0;
    kt_delete(&b->t, &w, hv);
    entry_free(h);
    return 1;
}

void set_foreach(const void *s, set_visit_fn *fn, void *ud) {
    if (is_is(s)) {
        for (uint32_t i = 0; i < is_len(s); i++) visit_int(fn, ud, is_get(s, i));
        return;
    }
    visit_ctx vc = {fn, ud};
    big_foreach(s, visit_elem, &vc);
}

int set_walk_stored(const void *s, size_t *pos, long min, set_visit_fn *fn, void *ud) {
    if (is_is(s)) {
        if (*pos == 0) set_foreach(s, fn, ud);
        *pos = 1;
        return 1;
    }
    visit_ctx vc = {fn, ud};
    return kt_walk(&((const sbig *)s)->t, pos, min, visit_elem, &vc);
}

uint64_t set_scan(const void *s, uint64_t cursor, long count, set_visit_fn *fn, void *ud) {
    if (is_is(s)) {
        set_foreach(s, fn, ud);
        return 0;
    }
    visit_ctx vc = {fn, ud};
    return kt_scan(&((const sbig *)s)->t, cursor, count, visit_elem, &vc);
}

/* ---- random ---- */

typedef struct hvec {
    handle_t *h;
    size_t n, cap;
} hvec;

static void collect(void *ud, handle_t h) {
    hvec *v = ud;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 64;
        v->h = s_realloc(v->h, v->cap * sizeof(handle_t));
    }
    v->h[v->n++] = h;
}

void set_random(const void *s, unsigned long count, int distinct, set_visit_fn *fn, void *ud) {
    unsigned long n = set_len(s);
    if (!n || !count) return;
    if (is_is(s)) {
        if (!distinct) {
            for (unsigned long k = 0; k < count; k++) visit_int(fn, ud, is_get(s, (uint32_t)(rnd() % n)));
            return;
        }
        unsigned long need = count < n ? count : n, left = n;
        for (uint32_t i = 0; i < n && need; i++, left--) /* selection sampling, ascending */
            if (rnd() % left < need) {
                visit_int(fn, ud, is_get(s, i));
                need--;
            }
        return;
    }
    const sbig *b = s;
    visit_ctx vc = {fn, ud};
    if (!distinct) {
        for (unsigned long k = 0; k < count; k++) visit_elem(&vc, kt_random(&b->t, rnd(), 0));
        return;
    }
    if (count >= n) {
        big_foreach(b, visit_elem, &vc);
        return;
    }
    if (count * 3 > n) { /* many of them: a partial shuffle of every handle */
        hvec v = {0};
        big_foreach(b, collect, &v);
        for (unsigned long k = 0; k < count; k++) {
            size_t j = k + rnd() % (v.n - k);
            handle_t t = v.h[k];
            v.h[k] = v.h[j];
            v.h[j] = t;
            visit_elem(&vc, v.h[k]);
        }
        s_free(v.h);
        return;
    }
    size_t cap = 16; /* few of them: random picks, skipping repeats */
    while (cap < count * 2) cap <<= 1;
    handle_t *seen = s_calloc(cap * sizeof(handle_t));
    for (unsigned long got = 0; got < count;) {
        handle_t e = kt_random(&b->t, rnd(), 0);
        size_t i = ((uint64_t)e * 0x9E3779B97F4A7C15ULL >> 32) & (cap - 1);
        while (seen[i] && seen[i] != e) i = (i + 1) & (cap - 1);
        if (seen[i]) continue;
        seen[i] = e;
        visit_elem(&vc, e);
        got++;
    }
    s_free(seen);
}

/* ---- obj_ops ---- */

void set_free(void *s) {
    if (is_is(s)) {
        is_free(s);
        return;
    }
    sbig *b = s;
    kt_destroy(&b->t, free_elem, NULL);
    s_free(b);
}

static int set_free_step(void *s, long budget) {
    sbig *b = s; /* only hashtables are big enough to be freed in steps */
    if (!kt_drain(&b->t, budget > 0 ? (size_t)budget : 1, free_elem, NULL)) return 0;
    s_free(b);
    return 1;
}

typedef struct bytes_ctx {
    size_t bytes, seen;
} bytes_ctx;

static void elem_bytes(void *ud, handle_t h) {
    bytes_ctx *bc = ud;
    bc->bytes += entry_bytes(h);
    bc->seen++;
}

static size_t set_bytes(const void *s) {
    if (is_is(s)) return is_alloc_size(s);
    const sbig *b = s;
    bytes_ctx bc = {0, 0};
    kt_scan(&b->t, 0, 64, elem_bytes, &bc); /* a sample, scaled */
    size_t elems = bc.seen ? bc.bytes * b->t.count / bc.seen : 0;
    return s_usable((void *)b) + b->t.bytes + elems;
}

static size_t set_free_effort(const void *s) { return is_is(s) ? 1 : ((const sbig *)s)->t.count + 1; }

static const char *set_encoding(const void *s) { return is_is(s) ? "intset" : "hashtable"; }

static void dup_elem(void *ud, handle_t h) {
    size_t len;
    const char *m = e_key(arena_ptr(h), &len);
    big_insert(ud, m, len, kt_hash(m, len));
}

static void *set_dup(const void *s) {
    if (is_is(s)) return is_dup(s);
    sbig *d = big_new();
    big_foreach(s, dup_elem, d);
    return d;
}

/* Active defragmentation: the intset as one block; a hashtable's header, then its member entries bucket by
 * bucket from a hash position (about 8 entries a bucket), each slot rewritten in place. */
static void *set_defrag(void *v, uint64_t cur[2], long budget) {
    if (is_is(v)) return defrag_block_value(v, cur);
    sbig *b = v;
    if (cur[0] == 0) {
        sbig *n = defrag_alloc(b);
        if (n) b = n;
    }
    cur[0] = defrag_entries(&b->t, cur[0], budget / 8 + 1);
    cur[1] = 0;
    return b;
}

const obj_ops set_ops = {
    .free = set_free,
    .bytes = set_bytes,
    .free_effort = set_free_effort,
    .free_step = set_free_step,
    .encoding = set_encoding,
    .dup = set_dup,
    .defrag = set_defrag,
};

/* ---- structure check ---- */

typedef struct check_ctx {
    const ktable *t;
    size_t n;
    const char *why;
} check_ctx;

static void check_elem(void *ud, handle_t h) {
    check_ctx *cc = ud;
    cc->n++;
    if (cc->why) return;
    const uint8_t *e = arena_ptr(h);
    size_t len;
    const char *m = e_key(e, &len);
    kslot w;
    if (e_has_ttl(e)) cc->why = "set: a member entry has a TTL";
    else if (kt_find(cc->t, m, len, kt_hash(m, len), &w) != h) cc->why = "set: a member is not found under its own name";
}

/* The header's invariants: an intset passes is_check; a hashtable's entries are each found under
 * their own member (so no duplicates), carry no TTL, and their number equals the table's count (the
 * set's cardinality).  NULL if all hold, else what is wrong. */
const char *set_check(const void *s) {
    if (!s) return "set: NULL";
    if (is_is(s)) return is_check(s);
    const sbig *b = s;
    check_ctx cc = {&b->t, 0, NULL};
    big_foreach(b, check_elem, &cc);
    if (cc.why) return cc.why;
    if (cc.n != b->t.count) return "set: table count differs from its entries";
    return NULL;
}
