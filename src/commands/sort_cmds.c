/* sort_cmds: SORT and SORT_RO on lists, sets and sorted sets, with Redis
 * 7.0's options (BY, LIMIT, GET, ASC/DESC, ALPHA, STORE), replies, errors and
 * ordering.
 *
 * The elements (and, with ALPHA BY, their sort keys) are copied into one
 * byte pool, each NUL-terminated, and sorted as an array of small records.
 * The order of elements that compare equal is visible in the reply, so the
 * sorts are Redis's: libc's qsort (the same library Redis calls) for a full
 * sort, and Redis's partial quicksort (the NetBSD Bentley-McIlroy qsort that
 * stops sorting partitions outside the wanted range; sort_partial below,
 * also used by the GEO commands) when BY and LIMIT select a range.  The
 * comparisons are Redis's too: numbers, then the elements' bytes on equal
 * numbers; ALPHA compares C strings (strcoll: bytes up to the first NUL)
 * unless STORE is given, which compares all the bytes.
 *
 * Known differences from Redis (hash order, not semantics): a set in a
 * hashtable is visited in sardine's table order, so BY <constant> on such a
 * set without STORE, and ties under ALPHA BY on sets and sorted sets, list
 * elements in a different (equally valid) order.  Like Redis, SORT leaves a
 * sorted set it reads in the skiplist encoding. */
#include "commands/command.h"
#include "commands/commands.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "types/quicklist.h"
#include "types/thash.h"
#include "types/tlist.h"
#include "types/tset.h"
#include "types/tstring.h"
#include "types/tzset.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- Redis's partial quicksort ---- */

typedef int sort_cmp_fn(const void *, const void *);

static void swap_bytes(char *a, char *b, size_t n) {
    while (n--) {
        char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

static char *median3(char *a, char *b, char *c, sort_cmp_fn *cmp) {
    if (cmp(a, b) < 0) return cmp(b, c) < 0 ? b : (cmp(a, c) < 0 ? c : a);
    return cmp(b, c) > 0 ? b : (cmp(a, c) < 0 ? a : c);
}

static void insertion_sort(char *a, size_t n, size_t es, sort_cmp_fn *cmp) {
    for (char *m = a + es; m < a + n * es; m += es)
        for (char *l = m; l > a && cmp(l - es, l) > 0; l -= es) swap_bytes(l, l - es, es);
}

/* Does the partition [p, p + bytes) hold any byte of the wanted range [lo, hi]?  (Addresses as integers:
 * the range may start before the array when it is empty.) */
static int wanted(const char *p, size_t bytes, uintptr_t lo, uintptr_t hi) {
    uintptr_t l = (uintptr_t)p, r = l + bytes - 1;
    return !((lo < l && hi < l) || (lo > r && hi > r));
}

/* Three-way partitioning around a median (of medians above 40 elements), insertion sort below 7
 * elements; recursion on the left part, iteration on the right, each only if it overlaps the wanted
 * range.  (This is the Redis 7.0 version: later Redis versions switch to insertion sort when a pass
 * moves nothing, which orders equal elements differently.) */
static void psort(char *a, size_t n, size_t es, sort_cmp_fn *cmp, uintptr_t lo, uintptr_t hi) {
    for (;;) {
        if (n < 7) {
            insertion_sort(a, n, es, cmp);
            return;
        }
        char *pm = a + (n / 2) * es;
        if (n > 7) {
            char *pl = a, *pn = a + (n - 1) * es;
            if (n > 40) {
                size_t d = (n / 8) * es;
                pl = median3(pl, pl + d, pl + 2 * d, cmp);
                pm = median3(pm - d, pm, pm + d, cmp);
                pn = median3(pn - 2 * d, pn - d, pn, cmp);
            }
            pm = median3(pl, pm, pn, cmp);
        }
        swap_bytes(a, pm, es);
        char *pa = a + es, *pb = pa, *pc = a + (n - 1) * es, *pd = pc;
        int r;
        for (;;) {
            while (pb <= pc && (r = cmp(pb, a)) <= 0) {
                if (r == 0) { /* equal to the pivot: parked at the left end */
                    swap_bytes(pa, pb, es);
                    pa += es;
                }
                pb += es;
            }
            while (pb <= pc && (r = cmp(pc, a)) >= 0) {
                if (r == 0) { /* parked at the right end */
                    swap_bytes(pc, pd, es);
                    pd -= es;
                }
                pc -= es;
            }
            if (pb > pc) break;
            swap_bytes(pb, pc, es);
            pb += es;
            pc -= es;
        }
        /* the parked equal elements move to the middle */
        char *pn = a + n * es;
        size_t s = (size_t)(pa - a) < (size_t)(pb - pa) ? (size_t)(pa - a) : (size_t)(pb - pa);
        if (s) swap_bytes(a, pb - s, s);
        s = (size_t)(pd - pc) < (size_t)(pn - pd) - es ? (size_t)(pd - pc) : (size_t)(pn - pd) - es;
        if (s) swap_bytes(pb, pn - s, s);
        if ((s = (size_t)(pb - pa)) > es && wanted(a, s, lo, hi)) psort(a, s / es, es, cmp, lo, hi);
        if ((s = (size_t)(pd - pc)) > es) {
            a = pn - s;
            n = s / es;
            if (wanted(a, s, lo, hi)) continue;
        }
        return;
    }
}

/* Sorts enough of base[0..n) that positions lo..hi hold what a full sort would put there (Redis's
 * pqsort, element for element).  Also used by geo_cmds.c. */
void sort_partial(void *base, size_t n, size_t es, sort_cmp_fn *cmp, size_t lo, size_t hi) {
    if (n == 0) return;
    uintptr_t b = (uintptr_t)base;
    psort(base, n, es, cmp, b + lo * es, b + (hi + 1) * es - 1);
}

/* ---- the sort vector ---- */

typedef struct sort_item {
    size_t off, len;       /* the element, NUL-terminated in the pool */
    double score;
    size_t coff, clen;     /* ALPHA BY: the sort key in the pool */
    int has_cmp;
    int is_int;            /* the element was an integer in its list: score already set */
} sort_item;

typedef struct pool {
    char *p;
    size_t used, size;
} pool;

static size_t pool_add(pool *pl, const char *s, size_t len) {
    if (pl->used + len + 1 > pl->size) {
        size_t want = pl->used + len + 1;
        int inside = pl->p && s >= pl->p && s < pl->p + pl->used; /* bytes already in the pool */
        size_t at = inside ? (size_t)(s - pl->p) : 0;
        pl->size = pl->size * 2 > want ? pl->size * 2 : want + 256;
        pl->p = s_realloc(pl->p, pl->size);
        if (inside) s = pl->p + at;
    }
    size_t off = pl->used;
    if (len) memcpy(pl->p + off, s, len);
    pl->p[off + len] = 0;
    pl->used += len + 1;
    return off;
}

typedef struct vec {
    sort_item *v;
    size_t n, cap;
    pool pl;
} vec;

static void vec_add(vec *v, const char *s, size_t len) {
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->v = s_realloc(v->v, v->cap * sizeof(sort_item));
    }
    v->v[v->n++] = (sort_item){pool_add(&v->pl, s, len), len, 0, 0, 0, 0, 0};
}

static void vec_add_lp(vec *v, const lp_val *x) {
    if (x->s) {
        vec_add(v, (const char *)x->s, x->len);
    } else { /* an integer needs no parsing to be a weight (Redis casts its integer objects) */
        char buf[LL_STR_SIZE];
        vec_add(v, buf, (size_t)ll2str(buf, x->i));
        v->v[v->n - 1].score = (double)x->i;
        v->v[v->n - 1].is_int = 1;
    }
}

static void set_visit(void *ud, const char *m, size_t len) { vec_add(ud, m, len); }

/* The comparison's parameters (the sort functions take no context). */
static struct {
    const char *pool;
    int desc, alpha, bypattern, store;
} ctx;

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen) {
    int r = memcmp(a, b, alen < blen ? alen : blen);
    if (r) return r;
    return alen < blen ? -1 : alen > blen;
}

static int sort_compare(const void *pa, const void *pb) {
    const sort_item *a = pa, *b = pb;
    int r;
    if (!ctx.alpha) {
        if (a->score > b->score) r = 1;
        else if (a->score < b->score) r = -1;
        else r = bytes_cmp(ctx.pool + a->off, a->len, ctx.pool + b->off, b->len);
    } else if (ctx.bypattern) {
        if (!a->has_cmp || !b->has_cmp) r = a->has_cmp == b->has_cmp ? 0 : !a->has_cmp ? -1 : 1;
        else if (ctx.store) r = bytes_cmp(ctx.pool + a->coff, a->clen, ctx.pool + b->coff, b->clen);
        else r = strcoll(ctx.pool + a->coff, ctx.pool + b->coff);
    } else {
        if (ctx.store) r = bytes_cmp(ctx.pool + a->off, a->len, ctx.pool + b->off, b->len);
        else r = strcoll(ctx.pool + a->off, ctx.pool + b->off);
    }
    return ctx.desc ? -r : r;
}

/* ---- BY and GET patterns ---- */

typedef struct val {
    const char *s;
    size_t len;
    char buf[LL_STR_SIZE];
} val;

/* The value a pattern names for one element, as Redis's lookupKeyByPattern finds it: "#" is the element;
 * the first '*' is replaced by the element; "key->field" reads a hash field; otherwise a string key.
 * The pattern is read as a C string where Redis reads it so (up to a NUL byte).  1 found. */
static int pattern_value(client *c, const arg *pat, const char *elem, size_t elen, val *out) {
    const char *sp = pat->p;
    size_t plen = pat->len, clen = strnlen(sp, plen);
    if (clen == 1 && sp[0] == '#') {
        out->s = elem;
        out->len = elen;
        return 1;
    }
    const char *star = memchr(sp, '*', clen);
    if (!star) return 0;
    const char *arrow = NULL;
    for (const char *q = star + 1; q + 1 < sp + clen; q++)
        if (q[0] == '-' && q[1] == '>') {
            arrow = q;
            break;
        }
    size_t fieldlen = 0;
    if (arrow && arrow + 2 < sp + clen) fieldlen = plen - (size_t)(arrow - sp) - 2;
    else arrow = NULL;
    size_t prefix = (size_t)(star - sp), postfix = plen - (prefix + 1) - (fieldlen ? fieldlen + 2 : 0);
    size_t klen = prefix + elen + postfix;
    char kbuf[256], *key = klen <= sizeof(kbuf) ? kbuf : s_malloc(klen);
    memcpy(key, sp, prefix);
    if (elen) memcpy(key + prefix, elem, elen);
    memcpy(key + prefix + elen, star + 1, postfix);
    kref r;
    int found = db_lookup(c->db, key, klen, 0, &r);
    if (key != kbuf) s_free(key);
    if (!found) return 0;
    if (arrow) {
        if (e_type(r.e) != OBJ_HASH) return 0;
        hval hv;
        if (!hash_get(e_ptr(r.e), arrow + 2, fieldlen, &hv)) return 0;
        if (hv.s == hv.buf) { /* an integer formatted into hv's own buffer */
            memcpy(out->buf, hv.buf, hv.len);
            out->s = out->buf;
        } else {
            out->s = hv.s;
        }
        out->len = hv.len;
        return 1;
    }
    if (e_type(r.e) != OBJ_STRING) return 0;
    out->s = str_get(r.e, out->buf, &out->len);
    return 1;
}

/* A sort weight as Redis reads one: strtod over the whole C string (so "", " 5" and "0x10" pass). */
static int weight(const char *s, double *out) {
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return !(end[0] != 0 || errno == ERANGE || isnan(*out));
}

/* ---- the command ---- */

/* An option word compared as Redis compares it (strcasecmp: the argument ends at its first NUL). */
static int opt_is(const arg *a, const char *word) {
    size_t n = strnlen(a->p, a->len);
    return n == strlen(word) && strncasecmp(a->p, word, n) == 0;
}

/* Gives a sorted set the skiplist encoding, as Redis's SORT does to any sorted set it reads. */
static void zset_to_skiplist(kref *r) {
    zset *z = e_ptr(r->e);
    if (!zs_is_listpack(z)) return;
    zset *big = zs_new(SIZE_MAX, SIZE_MAX);
    zs_iter it;
    zs_elem e;
    zs_iter_init(&it, z, 0, 1);
    while (zs_iter_next(&it, &e)) {
        int out;
        double ns;
        zs_add(&big, e.score, e.m, e.len, 0, &out, &ns);
    }
    e_set_ptr(r->e, big);
    zs_free(z);
}

typedef struct sort_opts {
    int desc, alpha, dontsort;
    long long limit_start, limit_count;
    const arg *sortby, *storekey;
    int ngets;
    const arg **gets;
} sort_opts;

static int parse_sort(client *c, int readonly, sort_opts *o) {
    for (int j = 2; j < c->argc; j++) {
        const arg *a = &c->argv[j];
        int left = c->argc - j - 1;
        if (opt_is(a, "asc")) {
            o->desc = 0;
        } else if (opt_is(a, "desc")) {
            o->desc = 1;
        } else if (opt_is(a, "alpha")) {
            o->alpha = 1;
        } else if (opt_is(a, "limit") && left >= 2) {
            if (!arg_ll(c, a + 1, &o->limit_start, NULL) || !arg_ll(c, a + 2, &o->limit_count, NULL)) return 0;
            j += 2;
        } else if (!readonly && opt_is(a, "store") && left >= 1) {
            o->storekey = a + 1;
            j++;
        } else if (opt_is(a, "by") && left >= 1) {
            o->sortby = a + 1;
            if (!memchr(a[1].p, '*', strnlen(a[1].p, a[1].len))) o->dontsort = 1; /* a constant: nothing to sort by */
            j++;
        } else if (opt_is(a, "get") && left >= 1) {
            o->gets[o->ngets++] = a + 1;
            j++;
        } else {
            reply_syntax_error(c);
            return 0;
        }
    }
    return 1;
}

static void sort_generic(client *c, int readonly) {
    sort_opts o = {0};
    o.limit_count = -1;
    o.gets = s_malloc(sizeof(arg *) * (size_t)c->argc);
    vec v = {0};
    quicklist *dst = NULL;
    if (!parse_sort(c, readonly, &o)) goto out;

    kref r;
    int type = -1;
    void *obj = NULL;
    if (db_lookup(c->db, c->argv[1].p, c->argv[1].len, 0, &r)) {
        type = e_type(r.e);
        if (type != OBJ_LIST && type != OBJ_SET && type != OBJ_ZSET) {
            reply_wrongtype(c);
            goto out;
        }
        if (type == OBJ_ZSET) zset_to_skiplist(&r);
        obj = e_ptr(r.e);
    }
    /* A set's own order is its hash order: stored results are sorted (as ALPHA) to be reproducible. */
    if (o.dontsort && type == OBJ_SET && o.storekey) {
        o.dontsort = 0;
        o.alpha = 1;
        o.sortby = NULL;
    }
    long vlen = type == OBJ_LIST ? (long)ql_count(obj)
              : type == OBJ_SET  ? (long)set_len(obj)
              : type == OBJ_ZSET ? (long)zs_card(obj)
                                 : 0;
    long start = o.limit_start < 0 ? 0 : o.limit_start > vlen ? vlen : (long)o.limit_start;
    long count = o.limit_count < -1 ? -1 : o.limit_count > vlen ? vlen : (long)o.limit_count;
    long end = count < 0 ? vlen - 1 : start + count - 1;
    if (start >= vlen) {
        start = vlen - 1;
        end = vlen - 2;
    }
    if (end >= vlen) end = vlen - 1;
    /* Lists and sorted sets in their own order: only the range asked for is loaded. */
    if ((type == OBJ_ZSET || type == OBJ_LIST) && o.dontsort && (start != 0 || end != vlen - 1)) vlen = end - start + 1;

    if (type == OBJ_LIST) {
        quicklist *ql = obj;
        long total = (long)ql_count(ql);
        if (!o.dontsort || end >= start) {
            long first = !o.dontsort ? 0 : o.desc ? total - start - 1 : start;
            qliter it;
            lp_val x;
            ql_iter_init(&it, ql, first, (o.dontsort && o.desc) ? QL_HEAD : QL_TAIL);
            while ((long)v.n < vlen && ql_iter_next(&it, &x)) vec_add_lp(&v, &x);
            ql_iter_done(&it);
            if (o.dontsort) {
                end -= start;
                start = 0;
            }
        }
    } else if (type == OBJ_SET) {
        set_foreach(obj, set_visit, &v);
    } else if (type == OBJ_ZSET) {
        zset *z = obj;
        size_t card = zs_card(z);
        zs_iter it;
        zs_elem e;
        if (o.dontsort) {
            zs_iter_init(&it, z, o.desc ? card - 1 - (size_t)start : (size_t)start, o.desc ? -1 : 1);
            end -= start;
            start = 0;
        } else {
            zs_iter_init(&it, z, 0, 1);
        }
        while ((long)v.n < vlen && zs_iter_next(&it, &e)) vec_add(&v, e.m, e.len);
    }

    int conv_error = 0;
    if (!o.dontsort) {
        for (size_t j = 0; j < v.n; j++) {
            sort_item *it = &v.v[j];
            const char *by;
            size_t bylen;
            val bv;
            if (!o.sortby && !o.alpha && it->is_int) continue;
            if (o.sortby) {
                it->score = 0; /* a missing weight is 0 */
                if (!pattern_value(c, o.sortby, v.pl.p + it->off, it->len, &bv)) continue;
                by = bv.s;
                bylen = bv.len;
            } else {
                by = v.pl.p + it->off;
                bylen = it->len;
            }
            if (o.alpha) {
                if (o.sortby) {
                    size_t coff = pool_add(&v.pl, by, bylen);
                    it->coff = coff;
                    it->clen = bylen;
                    it->has_cmp = 1;
                }
            } else {
                char sbuf[128], *s = bylen < sizeof(sbuf) ? sbuf : s_malloc(bylen + 1);
                memcpy(s, by, bylen);
                s[bylen] = 0;
                if (!weight(s, &it->score)) conv_error = 1;
                if (s != sbuf) s_free(s);
            }
        }
        ctx.pool = v.pl.p;
        ctx.desc = o.desc;
        ctx.alpha = o.alpha;
        ctx.bypattern = o.sortby != NULL;
        ctx.store = o.storekey != NULL;
        if (o.sortby && (start != 0 || end != (long)v.n - 1))
            sort_partial(v.v, v.n, sizeof(sort_item), sort_compare, (size_t)start, (size_t)end);
        else if (v.n)
            qsort(v.v, v.n, sizeof(sort_item), sort_compare);
    }

    long outlen = o.ngets ? o.ngets * (end - start + 1) : end - start + 1;
    if (conv_error) {
        reply_error(c, "ERR One or more scores can't be converted into double");
    } else if (!o.storekey) {
        reply_array(c, outlen);
        for (long j = start; j <= end; j++) {
            const sort_item *it = &v.v[j];
            const char *elem = v.pl.p + it->off;
            if (!o.ngets) reply_bulk(c, elem, it->len);
            for (int g = 0; g < o.ngets; g++) {
                val gv;
                if (pattern_value(c, o.gets[g], elem, it->len, &gv)) reply_bulk(c, gv.s, gv.len);
                else reply_null(c);
            }
        }
    } else {
        dst = tlist_new();
        for (long j = start; j <= end; j++) {
            const sort_item *it = &v.v[j];
            const char *elem = v.pl.p + it->off;
            if (!o.ngets) ql_push(dst, elem, it->len, QL_TAIL);
            for (int g = 0; g < o.ngets; g++) {
                val gv;
                if (pattern_value(c, o.gets[g], elem, it->len, &gv)) ql_push(dst, gv.s, gv.len, QL_TAIL);
                else ql_push(dst, "", 0, QL_TAIL);
            }
        }
        if (outlen) {
            entry_value ev = {.type = OBJ_LIST, .store = VAL_PTR, .ptr = dst};
            long long mark = dirty_mark();
            db_set_value(c->db, o.storekey->p, o.storekey->len, &ev, -1);
            key_event(c, o.storekey, FX_LIST, "sortstore");
            dirty_count(mark, outlen); /* Redis: one per element stored */
            dst = NULL;
        } else {
            db_delete_key(c->db, o.storekey->p, o.storekey->len);
        }
        reply_int(c, outlen);
    }
out:
    if (dst) ql_free(dst);
    s_free(v.v);
    s_free(v.pl.p);
    s_free(o.gets);
}

static void cmd_sort(client *c) { sort_generic(c, 0); }
static void cmd_sort_ro(client *c) { sort_generic(c, 1); }

command sort_commands[] = {
    {"sort", cmd_sort},
    {"sort_ro", cmd_sort_ro},
    {0}};
