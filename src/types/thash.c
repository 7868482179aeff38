/* thash: see thash.h for the two encodings and the conversion rule.
 *
 * Invariants: a listpack hash holds an even number of elements (field then
 * value) and no field twice; a hashtable hash's entries are built with
 * has-TTL 0 and LRU 0 and are only touched by the event loop thread; an
 * empty hash never stays in the keyspace (the commands delete the key). */
#include "types/thash.h"
#include "keyspace/defrag.h"
#include "keyspace/entry.h"
#include "keyspace/table.h"
#include "server/server.h" /* serverLog */
#include "types/limits.h"
#include "types/listpack.h"
#include "types/object.h"
#include "types/rstr.h"
#include "util/mem.h"
#include "util/debug.h"
#include <stdlib.h>
#include <string.h>

typedef struct hbig {
    uint32_t zero; /* 0: tells a hashtable from a listpack (whose size is here) */
    ktable t;
} hbig;

static inline int is_lp(const void *h) {
    uint32_t v; /* unaligned in the arena */
    memcpy(&v, h, 4);
    return v != 0;
}
int hash_is_listpack(const void *h) { return is_lp(h); }

static uint64_t rng_state = 0x853c49e6748fea9bULL;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

void *hash_new(void) { return lp_new_compact(); }

unsigned long hash_len(const void *h) {
    return is_lp(h) ? lp_length(h) / 2 : (unsigned long)((const hbig *)h)->t.count;
}

/* ---- hashtable entries ---- */

static handle_t build_elem(const char *f, size_t flen, const char *v, size_t vlen) {
    entry_value ev = {.type = OBJ_STRING};
    long long iv;
    if (vlen && vlen < LL_STR_SIZE && str2ll(v, vlen, &iv)) {
        ev.store = VAL_INT;
        ev.ival = iv;
    } else if (flen + vlen + 16 <= ARENA_MAX_ALLOC) {
        ev.store = VAL_INLINE;
        ev.sval = v;
        ev.slen = vlen;
    } else {
        ev.store = VAL_PTR;
        ev.ptr = rstr_new(v, vlen, vlen);
    }
    ev.raw_key = 1;
    handle_t h = entry_build(f, flen, -1, 0, &ev);
    if (!h) {
        serverLog(LL_WARNING, "entry arena exhausted while storing a hash field");
        abort();
    }
    return h;
}

static void elem_value(const uint8_t *e, char *buf, const char **v, size_t *vlen) {
    switch (e_store(e)) {
    case VAL_INT: *vlen = (size_t)ll2str(buf, e_int(e)); *v = buf; break;
    case VAL_INLINE: *v = e_inline(e, vlen); break;
    default: {
        const rstr *s = e_ptr(e);
        *v = s->data;
        *vlen = s->len;
    }
    }
}

static void free_elem(void *ud, handle_t h) {
    (void)ud;
    uint8_t *e = arena_ptr(h);
    if (e_store(e) == VAL_PTR) s_free(e_ptr(e));
    entry_free(h);
}

typedef struct visit_ctx {
    hash_visit_fn *fn;
    void *ud;
} visit_ctx;

static void visit_elem(void *ud, handle_t h) {
    visit_ctx *vc = ud;
    const uint8_t *e = arena_ptr(h);
    char buf[LL_STR_SIZE];
    const char *v;
    size_t vlen, flen;
    const char *f = e_key(e, &flen);
    elem_value(e, buf, &v, &vlen);
    vc->fn(vc->ud, f, flen, v, vlen);
}

static void big_foreach(const hbig *b, kt_visit_fn *fn, void *ud) {
    uint64_t cur = 0;
    do cur = kt_scan(&b->t, cur, 4096, fn, ud);
    while (cur);
}

/* ---- conversion ---- */

static hbig *convert(unsigned char *lp) {
    hbig *b = s_malloc(sizeof(*b));
    b->zero = 0;
    kt_init(&b->t);
    unsigned char fb[LL_STR_SIZE], vb[LL_STR_SIZE];
    for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, lp_next(lp, p))) {
        uint32_t flen, vlen;
        const unsigned char *f = lp_get_str(p, fb, &flen);
        const unsigned char *v = lp_get_str(lp_next(lp, p), vb, &vlen);
        uint64_t hv = kt_hash((const char *)f, flen);
        kt_insert(&b->t, hv, build_elem((const char *)f, flen, (const char *)v, vlen), 0);
    }
    lp_free(lp);
    return b;
}

void *hash_from_listpack(unsigned char *lp, int check_len) {
    int big = (unsigned long long)lp_length(lp) / 2 > (unsigned long long)limits.hash_max_listpack_entries;
    if (!big && check_len) {
        for (unsigned char *p = lp_first(lp); p && !big; p = lp_next(lp, p)) {
            lp_val v;
            lp_get(p, &v);
            big = v.s && v.len > (unsigned long long)limits.hash_max_listpack_value;
        }
    }
    return big ? (void *)convert(lp) : (void *)lp_move(lp, 1);
}

void *hash_new_table(size_t n) {
    hbig *b = s_malloc(sizeof(*b));
    b->zero = 0;
    kt_init(&b->t);
    kt_reserve(&b->t, n);
    return b;
}

/* ---- access ---- */

int hash_get(const void *h, const char *f, size_t flen, hval *out) {
    if (is_lp(h)) {
        unsigned char *lp = (unsigned char *)h;
        unsigned char *p = lp_find(lp, lp_first(lp), f, (uint32_t)flen, 1);
        if (!p) return 0;
        uint32_t len;
        out->s = (const char *)lp_get_str(lp_next(lp, p), (unsigned char *)out->buf, &len);
        out->len = len;
        return 1;
    }
    const hbig *b = h;
    kslot w;
    handle_t e = kt_find(&b->t, f, flen, kt_hash(f, flen), &w);
    if (!e) return 0;
    elem_value(arena_ptr(e), out->buf, &out->s, &out->len);
    return 1;
}

int hash_set(void **hp, const char *f, size_t flen, const char *v, size_t vlen) {
    if (is_lp(*hp)) {
        unsigned char *lp = *hp;
        size_t maxv = (size_t)limits.hash_max_listpack_value;
        if (flen > maxv || vlen > maxv) {
            *hp = convert(lp);
        } else {
            unsigned char *p = lp_find(lp, lp_first(lp), f, (uint32_t)flen, 1);
            if (p) {
                p = lp_next(lp, p);
                *hp = lp_replace(lp, &p, v, (uint32_t)vlen);
                return 0;
            }
            lp = lp_append(lp, f, (uint32_t)flen);
            lp = lp_append(lp, v, (uint32_t)vlen);
            DBG_ASSERT(lp_length(lp) % 2 == 0); /* field/value pairs */
            *hp = lp;
            if (lp_length(lp) / 2 > (unsigned long long)limits.hash_max_listpack_entries) *hp = convert(lp);
            return 1;
        }
    }
    hbig *b = *hp;
    uint64_t hv = kt_hash(f, flen);
    kslot w;
    handle_t old = kt_find(&b->t, f, flen, hv, &w);
    handle_t n = build_elem(f, flen, v, vlen);
    if (old) {
        kt_replace(&b->t, &w, n, 0);
        free_elem(NULL, old);
        return 0;
    }
    size_t before = b->t.count;
    kt_insert(&b->t, hv, n, 0);
    DBG_ASSERT(b->t.count == before + 1);
    (void)before;
    return 1;
}

void hash_batch_begin(void **hp) {
    if (is_lp(*hp)) *hp = lp_move(*hp, 0);
}

void hash_batch_end(void **hp) {
    if (is_lp(*hp)) *hp = lp_move(*hp, 1);
}

int hash_del(void **hp, const char *f, size_t flen) {
    if (is_lp(*hp)) {
        unsigned char *lp = *hp;
        unsigned char *p = lp_find(lp, lp_first(lp), f, (uint32_t)flen, 1);
        if (!p) return 0;
        lp = lp_delete(lp, &p);
        lp = lp_delete(lp, &p);
        DBG_ASSERT(lp_length(lp) % 2 == 0);
        *hp = lp;
        return 1;
    }
    hbig *b = *hp;
    uint64_t hv = kt_hash(f, flen);
    kslot w;
    handle_t old = kt_find(&b->t, f, flen, hv, &w);
    if (!old) return 0;
    kt_delete(&b->t, &w, hv);
    free_elem(NULL, old);
    return 1;
}

static void lp_visit(unsigned char *lp, unsigned char *p, hash_visit_fn *fn, void *ud) {
    unsigned char fb[LL_STR_SIZE], vb[LL_STR_SIZE];
    uint32_t flen, vlen;
    const unsigned char *f = lp_get_str(p, fb, &flen);
    const unsigned char *v = lp_get_str(lp_next(lp, p), vb, &vlen);
    fn(ud, (const char *)f, flen, (const char *)v, vlen);
}

void hash_foreach(const void *h, hash_visit_fn *fn, void *ud) {
    if (is_lp(h)) {
        unsigned char *lp = (unsigned char *)h;
        for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, lp_next(lp, p))) lp_visit(lp, p, fn, ud);
        return;
    }
    visit_ctx vc = {fn, ud};
    big_foreach(h, visit_elem, &vc);
}

int hash_walk_stored(const void *h, size_t *pos, long min, hash_visit_fn *fn, void *ud) {
    if (is_lp(h)) {
        if (*pos == 0) hash_foreach(h, fn, ud);
        *pos = 1;
        return 1;
    }
    visit_ctx vc = {fn, ud};
    return kt_walk(&((const hbig *)h)->t, pos, min, visit_elem, &vc);
}

uint64_t hash_scan(const void *h, uint64_t cursor, long count, hash_visit_fn *fn, void *ud) {
    if (is_lp(h)) {
        hash_foreach(h, fn, ud);
        return 0;
    }
    visit_ctx vc = {fn, ud};
    return kt_scan(&((const hbig *)h)->t, cursor, count, visit_elem, &vc);
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

void hash_random(const void *h, unsigned long count, int distinct, hash_visit_fn *fn, void *ud) {
    unsigned long n = hash_len(h);
    if (!n || !count) return;
    if (is_lp(h)) {
        unsigned char *lp = (unsigned char *)h;
        if (distinct) { /* selection sampling: count distinct pairs, in listpack order */
            unsigned long need = count < n ? count : n, left = n;
            for (unsigned char *p = lp_first(lp); p && need; p = lp_next(lp, lp_next(lp, p)), left--) {
                if (rnd() % left < need) {
                    lp_visit(lp, p, fn, ud);
                    need--;
                }
            }
            return;
        }
        unsigned char **fields = s_malloc(n * sizeof(*fields));
        unsigned long i = 0;
        for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, lp_next(lp, p))) fields[i++] = p;
        for (unsigned long k = 0; k < count; k++) lp_visit(lp, fields[rnd() % n], fn, ud);
        s_free(fields);
        return;
    }
    const hbig *b = h;
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
    /* few of them: random picks, skipping repeats (an open-addressing set of handles) */
    size_t cap = 16;
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

void hash_free(void *h) {
    if (is_lp(h)) {
        lp_free(h);
        return;
    }
    hbig *b = h;
    kt_destroy(&b->t, free_elem, NULL);
    s_free(b);
}

static int hash_free_step(void *h, long budget) {
    hbig *b = h; /* only hashtables are big enough to be freed in steps */
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
    const uint8_t *e = arena_ptr(h);
    if (e_store(e) == VAL_PTR) bc->bytes += s_usable(e_ptr(e));
    bc->seen++;
}

static size_t hash_bytes(const void *h) {
    if (is_lp(h)) return lp_alloc_size(h);
    const hbig *b = h;
    bytes_ctx bc = {0, 0};
    kt_scan(&b->t, 0, 64, elem_bytes, &bc); /* a sample, scaled (MEMORY USAGE samples too) */
    size_t elems = bc.seen ? bc.bytes * b->t.count / bc.seen : 0;
    return s_usable((void *)b) + b->t.bytes + elems;
}

static size_t hash_free_effort(const void *h) { return is_lp(h) ? 1 : ((const hbig *)h)->t.count + 1; }

static const char *hash_encoding(const void *h) { return is_lp(h) ? "listpack" : "hashtable"; }

static void dup_elem(void *ud, handle_t h) {
    hbig *d = ud;
    const uint8_t *e = arena_ptr(h);
    char buf[LL_STR_SIZE];
    const char *v;
    size_t vlen, flen;
    const char *f = e_key(e, &flen);
    elem_value(e, buf, &v, &vlen);
    kt_insert(&d->t, kt_hash(f, flen), build_elem(f, flen, v, vlen), 0);
}

static void *hash_dup(const void *h) {
    if (is_lp(h)) return lp_dup(h);
    hbig *d = s_malloc(sizeof(*d));
    d->zero = 0;
    kt_init(&d->t);
    big_foreach(h, dup_elem, d);
    return d;
}

/* Active defragmentation: the listpack as one block; a hashtable's header, then its field entries bucket by
 * bucket from a hash position (about 8 entries a bucket), each slot rewritten in place. */
static void *hash_defrag(void *v, uint64_t cur[2], long budget) {
    if (is_lp(v)) return defrag_block_value(v, cur);
    hbig *b = v;
    if (cur[0] == 0) {
        hbig *n = defrag_alloc(b);
        if (n) b = n;
    }
    cur[0] = defrag_entries(&b->t, cur[0], budget / 8 + 1);
    cur[1] = 0;
    return b;
}

const obj_ops hash_ops = {
    .free = hash_free,
    .bytes = hash_bytes,
    .free_effort = hash_free_effort,
    .free_step = hash_free_step,
    .encoding = hash_encoding,
    .dup = hash_dup,
    .defrag = hash_defrag,
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
    size_t flen;
    const char *f = e_key(e, &flen);
    kslot w;
    if (e_has_ttl(e)) cc->why = "hash: a field entry has a TTL";
    else if (kt_find(cc->t, f, flen, kt_hash(f, flen), &w) != h) cc->why = "hash: a field is not found under its own name";
    else if (e_store(e) == VAL_PTR) {
        const rstr *s = e_ptr(e);
        if (!s || s->len > s->cap || s->data[s->len]) cc->why = "hash: a heap value is malformed";
    }
}

/* The header's invariants: a listpack passes lp_check, holds field/value pairs and no field twice; a
 * hashtable's entries are each found under their own field (so no duplicates), carry no TTL, and
 * their number equals the table's count (the hash's length).  NULL if all hold, else what is wrong. */
const char *hash_check(const void *h) {
    if (!h) return "hash: NULL";
    if (is_lp(h)) {
        unsigned char *lp = (unsigned char *)(uintptr_t)h;
        const char *why = lp_check(lp);
        if (why) return why;
        if (lp_length(lp) % 2) return "hash: listpack holds an odd number of elements";
        for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, p)) {
            unsigned char buf[LL_STR_SIZE];
            uint32_t len;
            const unsigned char *f = lp_get_str(p, buf, &len);
            unsigned char *v = lp_next(lp, p);
            unsigned char *q = lp_next(lp, v);
            if (q && lp_find(lp, q, (const char *)f, len, 1)) return "hash: listpack holds a field twice";
            p = v;
        }
        return NULL;
    }
    const hbig *b = h;
    check_ctx cc = {&b->t, 0, NULL};
    big_foreach(b, check_elem, &cc);
    if (cc.why) return cc.why;
    if (cc.n != b->t.count) return "hash: table count differs from its entries";
    return NULL;
}
