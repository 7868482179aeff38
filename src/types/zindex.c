/* zindex: see zindex.h for the design and invariants. */
#include "types/zindex.h"
#include "types/zelem.h"
#include "util/debug.h"
#include "util/mem.h"
#include <limits.h>
#include <string.h>

#define ZL_CAP 112
#define ZN_CAP 54
#define ZI_MAXH 24
#define HWORDS 7 /* 64-bit words of a leaf's high nibbles: 112 x 4 bits */

/* A leaf's handles are split: the low 32 bits in lo[], the high 4 bits (handles have 36) packed as
 * nibbles in hw[] (nibble i at bits 4i of the 448-bit little-endian string). */
typedef struct zleaf {
    uint32_t n;
    uint32_t lo[ZL_CAP];
    uint64_t hw[HWORDS];
} zleaf;

typedef struct znode {
    uint32_t n, pad;
    double ks[ZN_CAP];   /* score of the smallest element under child i */
    void *c[ZN_CAP];
    uint32_t cnt[ZN_CAP];
    handle_t kh[ZN_CAP]; /* handle of the smallest element under child i */
} znode;

_Static_assert(sizeof(zleaf) == 512, "a leaf fills one allocator class");
_Static_assert(sizeof(znode) <= 1536, "a node fits one allocator class");

static inline handle_t lh(const zleaf *l, uint32_t i) {
    return ((l->hw[i >> 4] >> ((i & 15) << 2)) & 15) << 32 | l->lo[i];
}
static inline void lset(zleaf *l, uint32_t i, handle_t h) {
    DBG_ASSERT(h != 0 && h >> ARENA_HANDLE_BITS == 0);
    l->lo[i] = (uint32_t)h;
    uint64_t *w = &l->hw[i >> 4];
    uint32_t sh = (i & 15) << 2;
    *w = (*w & ~((uint64_t)15 << sh)) | (h >> 32 & 15) << sh;
}

/* out = in >> bits and out = in << bits over HWORDS words. */
static inline void nib_shr(uint64_t *out, const uint64_t *in, uint32_t bits) {
    uint32_t q = bits >> 6, r = bits & 63;
    for (uint32_t i = 0; i < HWORDS; i++) {
        uint64_t a = i + q < HWORDS ? in[i + q] : 0, b = i + q + 1 < HWORDS ? in[i + q + 1] : 0;
        out[i] = r ? (a >> r) | (b << (64 - r)) : a;
    }
}
static inline void nib_shl(uint64_t *out, const uint64_t *in, uint32_t bits) {
    uint32_t q = bits >> 6, r = bits & 63;
    for (uint32_t i = HWORDS; i-- > 0;) {
        uint64_t a = i >= q ? in[i - q] : 0, b = i >= q + 1 ? in[i - q - 1] : 0;
        out[i] = r ? (a << r) | (b >> (64 - r)) : a;
    }
}
/* Copies nibbles [s, s+k) of src to [d, d+k) of dst; src and dst may be the same array. */
static inline void nib_move(uint64_t *dst, uint32_t d, const uint64_t *src, uint32_t s, uint32_t k) {
    uint64_t t[HWORDS], u[HWORDS];
    nib_shr(t, src, s << 2);
    nib_shl(u, t, d << 2);
    uint32_t from = d << 2, to = (d + k) << 2;
    for (uint32_t i = 0; i < HWORDS; i++) {
        uint32_t a = i << 6, lo = from > a ? from : a, hi = to < a + 64 ? to : a + 64;
        if (lo >= hi) continue;
        uint64_t m = (hi - lo == 64 ? ~(uint64_t)0 : (((uint64_t)1 << (hi - lo)) - 1)) << (lo - a);
        dst[i] = (dst[i] & ~m) | (u[i] & m);
    }
}
static inline int nib_zero(const uint64_t *w) {
    uint64_t o = 0;
    for (uint32_t i = 0; i < HWORDS; i++) o |= w[i];
    return o == 0;
}
/* Moves k handles from src[si] to dst[di] (the ranges may overlap).  While the arena is under 16 GiB
 * every high nibble is 0: moving zeros over zeros is skipped. */
static inline void lmove(zleaf *dst, uint32_t di, const zleaf *src, uint32_t si, uint32_t k) {
    if (!k) return;
    memmove(&dst->lo[di], &src->lo[si], (size_t)k * sizeof(uint32_t));
    if (!nib_zero(src->hw) || !nib_zero(dst->hw)) nib_move(dst->hw, di, src->hw, si, k);
}

/* Search keys: the bound kinds of zindex.h plus exact element positions. */
enum { K_LT = 4, K_LE = 5 };
typedef struct zkey {
    int kind;
    double s;
    const char *m;
    size_t len;
} zkey;

/* A root-to-leaf path: n[l] is the internal node at level l, i[l] the child taken. */
typedef struct zpath {
    int depth;
    znode *n[ZI_MAXH];
    int i[ZI_MAXH];
    zleaf *leaf;
    int li;
} zpath;

static zleaf *leaf_new(zindex *t) {
    zleaf *l = s_malloc(sizeof(zleaf));
    l->n = 0;
    memset(l->hw, 0, sizeof(l->hw));
    t->bytes += s_usable(l);
    return l;
}
static void leaf_free(zindex *t, zleaf *l) {
    t->bytes -= s_usable(l);
    s_free(l);
}
static znode *node_new(zindex *t) {
    znode *x = s_malloc(sizeof(znode));
    x->n = x->pad = 0;
    t->bytes += s_usable(x);
    return x;
}
static void node_free(zindex *t, znode *x) {
    t->bytes -= s_usable(x);
    s_free(x);
}

/* Is the element (s, h) before the key? Monotone over the index's order. */
static inline int before(const zkey *k, double s, handle_t h) {
    switch (k->kind) {
    case ZB_SCORE_LT: return s < k->s;
    case ZB_SCORE_LE: return s <= k->s;
    default: break;
    }
    if (k->kind >= K_LT && s != k->s) return s < k->s;
    size_t l;
    const char *m = zel_member(h, &l);
    int c = zel_memcmp(m, l, k->m, k->len);
    return (k->kind == K_LT || k->kind == ZB_LEX_LT) ? c < 0 : c <= 0;
}

/* The same for a leaf element, reading its score only when the key needs it. */
static inline int before_h(const zkey *k, handle_t h) {
    if (k->kind == ZB_LEX_LT || k->kind == ZB_LEX_LE) return before(k, 0, h);
    return before(k, zel_score(h), h);
}

/* The child to descend into: the last one whose smallest element is before the key (child 0 if none). */
static inline int node_child(const znode *x, const zkey *k) {
    int lo = 1, hi = (int)x->n;
    while (lo < hi) {
        int mid = (lo + hi) >> 1;
        if (before(k, x->ks[mid], x->kh[mid])) lo = mid + 1;
        else hi = mid;
    }
    return lo - 1;
}

/* Prefetches the entries the binary search over [lo, hi) may compare in its next `levels` steps. */
static inline void prefetch_search(const zleaf *l, int lo, int hi, int levels) {
    if (lo >= hi || levels == 0) return;
    int mid = (lo + hi) >> 1;
    __builtin_prefetch(arena_ptr(lh(l, (uint32_t)mid)));
    prefetch_search(l, lo, mid, levels - 1);
    prefetch_search(l, mid + 1, hi, levels - 1);
}

/* Binary search of a leaf.  Each comparison reads a random entry (a cache miss on a big set), so the
 * entries of the first four steps are requested together up front and, from there on, those two
 * steps ahead: the misses overlap instead of forming one chain of seven. */
static inline int leaf_pos(const zleaf *l, const zkey *k) {
    int lo = 0, hi = (int)l->n, step = 0;
    if (l->n > 8) prefetch_search(l, lo, hi, 4);
    while (lo < hi) {
        int mid = (lo + hi) >> 1;
        if (++step >= 3 && l->n > 8) {
            prefetch_search(l, lo, mid, 2);
            prefetch_search(l, mid + 1, hi, 2);
        }
        if (before_h(k, lh(l, (uint32_t)mid))) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static void descend(const zindex *t, const zkey *k, zpath *p) {
    void *x = t->root;
    p->depth = (int)t->height;
    for (int l = 0; l < p->depth; l++) {
        znode *nd = x;
        int i = node_child(nd, k);
        p->n[l] = nd;
        p->i[l] = i;
        x = nd->c[i];
        __builtin_prefetch(x);
    }
    p->leaf = x;
    p->li = leaf_pos(x, k);
}

/* Path to the element of rank r (r < count). */
static void descend_rank(const zindex *t, size_t r, zpath *p) {
    void *x = t->root;
    p->depth = (int)t->height;
    for (int l = 0; l < p->depth; l++) {
        znode *nd = x;
        int i = 0;
        while (i + 1 < (int)nd->n && r >= nd->cnt[i]) r -= nd->cnt[i++];
        p->n[l] = nd;
        p->i[l] = i;
        x = nd->c[i];
    }
    p->leaf = x;
    p->li = (int)r;
}

/* The node at path level `level` (the leaf at level depth) has a new smallest element. */
static void fix_min(zpath *p, int level, double s, handle_t h) {
    for (int l = level - 1; l >= 0; l--) {
        p->n[l]->ks[p->i[l]] = s;
        p->n[l]->kh[p->i[l]] = h;
        if (p->i[l]) break;
    }
}

/* Are the ancestors above `level` all on their rightmost (or leftmost) child? */
static int at_edge(const zpath *p, int level, int right) {
    for (int l = 0; l < level; l++)
        if (p->i[l] != (right ? (int)p->n[l]->n - 1 : 0)) return 0;
    return 1;
}

static void leaf_put(zleaf *l, int pos, handle_t h) {
    DBG_ASSERT(l->n < ZL_CAP && pos >= 0 && (uint32_t)pos <= l->n);
    lmove(l, (uint32_t)pos + 1, l, (uint32_t)pos, l->n - (uint32_t)pos);
    lset(l, (uint32_t)pos, h);
    l->n++;
}

static void node_put(znode *x, int pos, void *c, uint32_t cnt, double ks, handle_t kh) {
    size_t m = x->n - (uint32_t)pos;
    memmove(&x->ks[pos + 1], &x->ks[pos], m * sizeof(double));
    memmove(&x->c[pos + 1], &x->c[pos], m * sizeof(void *));
    memmove(&x->cnt[pos + 1], &x->cnt[pos], m * sizeof(uint32_t));
    memmove(&x->kh[pos + 1], &x->kh[pos], m * sizeof(handle_t));
    x->ks[pos] = ks;
    x->c[pos] = c;
    x->cnt[pos] = cnt;
    x->kh[pos] = kh;
    x->n++;
}

/* Moves children [from, from+k) of a to position `to` of b (b has room, positions at `to` shift). */
static void node_move(znode *b, int to, znode *a, int from, int k) {
    size_t m = b->n - (uint32_t)to;
    memmove(&b->ks[to + k], &b->ks[to], m * sizeof(double));
    memmove(&b->c[to + k], &b->c[to], m * sizeof(void *));
    memmove(&b->cnt[to + k], &b->cnt[to], m * sizeof(uint32_t));
    memmove(&b->kh[to + k], &b->kh[to], m * sizeof(handle_t));
    memcpy(&b->ks[to], &a->ks[from], (size_t)k * sizeof(double));
    memcpy(&b->c[to], &a->c[from], (size_t)k * sizeof(void *));
    memcpy(&b->cnt[to], &a->cnt[from], (size_t)k * sizeof(uint32_t));
    memcpy(&b->kh[to], &a->kh[from], (size_t)k * sizeof(handle_t));
    b->n += (uint32_t)k;
    size_t rest = a->n - (uint32_t)(from + k);
    memmove(&a->ks[from], &a->ks[from + k], rest * sizeof(double));
    memmove(&a->c[from], &a->c[from + k], rest * sizeof(void *));
    memmove(&a->cnt[from], &a->cnt[from + k], rest * sizeof(uint32_t));
    memmove(&a->kh[from], &a->kh[from + k], rest * sizeof(handle_t));
    a->n -= (uint32_t)k;
}

static uint32_t node_sum(const znode *x) {
    uint32_t s = 0;
    for (uint32_t i = 0; i < x->n; i++) s += x->cnt[i];
    return s;
}

/* Node at path level `level` (leaf when level == depth) was split; nw goes right of it. */
static void insert_child(zindex *t, zpath *p, int level, void *nw, uint32_t ncnt, double nks, handle_t nkh,
                         uint32_t lcnt) {
    if (level == 0) {
        znode *r = node_new(t);
        void *old = t->root;
        if (t->height == 0) {
            zleaf *l = old;
            r->ks[0] = zel_score(lh(l, 0));
            r->kh[0] = lh(l, 0);
        } else {
            znode *o = old;
            r->ks[0] = o->ks[0];
            r->kh[0] = o->kh[0];
        }
        r->c[0] = old;
        r->cnt[0] = lcnt;
        r->ks[1] = nks;
        r->kh[1] = nkh;
        r->c[1] = nw;
        r->cnt[1] = ncnt;
        r->n = 2;
        t->root = r;
        t->height++;
        return;
    }
    znode *x = p->n[level - 1];
    int pi = p->i[level - 1], pos = pi + 1;
    x->cnt[pi] = lcnt;
    if (x->n < ZN_CAP) {
        node_put(x, pos, nw, ncnt, nks, nkh);
        return;
    }
    int n = (int)x->n;
    int sp = (pos == n && at_edge(p, level - 1, 1)) ? n : (n + 1) / 2;
    znode *q = node_new(t);
    node_move(q, 0, x, sp, n - sp);
    if (pos < sp || (pos == sp && sp < n)) node_put(x, pos, nw, ncnt, nks, nkh);
    else node_put(q, pos - sp, nw, ncnt, nks, nkh);
    insert_child(t, p, level - 1, q, node_sum(q), q->ks[0], q->kh[0], node_sum(x));
}

static void split_leaf(zindex *t, zpath *p, handle_t h, double s) {
    zleaf *l = p->leaf;
    int pos = p->li, d = p->depth, n = (int)l->n;
    int sp = (pos == n && at_edge(p, d, 1)) ? n : (pos == 0 && at_edge(p, d, 0)) ? 0 : (n + 1) / 2;
    zleaf *nl = leaf_new(t);
    nl->n = (uint32_t)(n - sp);
    lmove(nl, 0, l, (uint32_t)sp, (uint32_t)(n - sp));
    l->n = (uint32_t)sp;
    if (pos < sp || (pos == sp && sp < n)) {
        leaf_put(l, pos, h);
        if (pos == 0) fix_min(p, d, s, h);
    } else {
        leaf_put(nl, pos - sp, h);
    }
    insert_child(t, p, d, nl, nl->n, lh(nl, 0) == h ? s : zel_score(lh(nl, 0)), lh(nl, 0), l->n);
}

/* Inserts into a full leaf: first try to shift elements into a sibling with room, else split. */
static void leaf_insert(zindex *t, zpath *p, handle_t h, double s) {
    zleaf *l = p->leaf;
    int pos = p->li, d = p->depth;
    if (l->n < ZL_CAP) {
        leaf_put(l, pos, h);
        if (pos == 0) fix_min(p, d, s, h);
        return;
    }
    if (d > 0) {
        znode *x = p->n[d - 1];
        int pi = p->i[d - 1];
        if (pi + 1 < (int)x->n && ((zleaf *)x->c[pi + 1])->n <= ZL_CAP - 4) {
            zleaf *r = x->c[pi + 1];
            int k = (int)(ZL_CAP - r->n) / 2;
            lmove(r, (uint32_t)k, r, 0, r->n);
            lmove(r, 0, l, l->n - (uint32_t)k, (uint32_t)k);
            r->n += (uint32_t)k;
            l->n -= (uint32_t)k;
            if (pos <= (int)l->n) {
                leaf_put(l, pos, h);
                if (pos == 0) fix_min(p, d, s, h);
            } else {
                leaf_put(r, pos - (int)l->n, h);
            }
            x->ks[pi + 1] = lh(r, 0) == h ? s : zel_score(lh(r, 0));
            x->kh[pi + 1] = lh(r, 0);
            x->cnt[pi] = l->n;
            x->cnt[pi + 1] = r->n;
            return;
        }
        if (pi > 0 && ((zleaf *)x->c[pi - 1])->n <= ZL_CAP - 4) {
            zleaf *lf = x->c[pi - 1];
            int k = (int)(ZL_CAP - lf->n) / 2;
            lmove(lf, lf->n, l, 0, (uint32_t)k);
            lf->n += (uint32_t)k;
            lmove(l, 0, l, (uint32_t)k, l->n - (uint32_t)k);
            l->n -= (uint32_t)k;
            if (pos <= k) leaf_put(lf, (int)lf->n - k + pos, h);
            else leaf_put(l, pos - k, h);
            x->ks[pi] = lh(l, 0) == h ? s : zel_score(lh(l, 0));
            x->kh[pi] = lh(l, 0);
            x->cnt[pi - 1] = lf->n;
            x->cnt[pi] = l->n;
            return;
        }
    }
    split_leaf(t, p, h, s);
}

void zi_init(zindex *t) { memset(t, 0, sizeof(*t)); }

/* A node's child as the level above it sees it: pointer, element count, smallest element. */
typedef struct zkid {
    void *c;
    uint32_t cnt;
    double ks;
    handle_t kh;
} zkid;

/* Makes the levels of nodes above m children (kids, overwritten from its start) and installs them as t's
 * tree of n elements; frees kids. */
static void build_levels(zindex *t, zkid *kids, size_t m, size_t n) {
    uint32_t height = 0;
    while (m > 1) {
        size_t np = (m + ZN_CAP - 1) / ZN_CAP;
        for (size_t i = 0, j = 0; i < np; i++) {
            znode *x = node_new(t);
            uint32_t k = (uint32_t)(m - j < ZN_CAP ? m - j : ZN_CAP), sum = 0;
            for (uint32_t y = 0; y < k; y++) {
                x->c[y] = kids[j + y].c;
                x->cnt[y] = kids[j + y].cnt;
                x->ks[y] = kids[j + y].ks;
                x->kh[y] = kids[j + y].kh;
                sum += kids[j + y].cnt;
            }
            x->n = k;
            kids[i] = (zkid){x, sum, x->ks[0], x->kh[0]};
            j += k;
        }
        m = np;
        height++;
    }
    t->root = kids[0].c;
    t->height = height;
    t->count = n;
    s_free(kids);
}

void zi_build_strided(zindex *t, const handle_t *hs, size_t stride, size_t n, int reverse) {
    DBG_ASSERT(t->count == 0 && !t->root);
#define H(i) hs[(reverse ? n - 1 - (i) : (i)) * stride]
    if (!n) return;
    /* Level 0: full leaves, the last one holding the rest; then each level of nodes above. */
    size_t m = (n + ZL_CAP - 1) / ZL_CAP;
    zkid *kids = s_malloc(m * sizeof(zkid));
    for (size_t i = 0, j = 0; i < m; i++) {
        zleaf *l = leaf_new(t);
        uint32_t k = (uint32_t)(n - j < ZL_CAP ? n - j : ZL_CAP);
        for (uint32_t x = 0; x < k; x++) lset(l, x, H(j + x));
        l->n = k;
        kids[i] = (zkid){l, k, zel_score(H(j)), H(j)};
        j += k;
    }
    build_levels(t, kids, m, n);
#undef H
}

/* The leaves of zi_build_strided's layout (rank r in leaf r / ZL_CAP at r % ZL_CAP), allocated when first
 * written.  Their bytes are counted in the index only when it takes them (zi_bulk_finish). */
struct zi_bulk {
    size_t n, m;
    zleaf **leaves;
    int taken; /* the leaves belong to an index (zi_bulk_finish) */
};

zi_bulk *zi_bulk_new(size_t n) {
    zi_bulk *b = s_malloc(sizeof(*b));
    b->n = n;
    b->m = (n + ZL_CAP - 1) / ZL_CAP;
    b->leaves = s_calloc((b->m ? b->m : 1) * sizeof(zleaf *));
    b->taken = 0;
    return b;
}

void zi_bulk_set(zi_bulk *b, size_t rank, handle_t h) {
    DBG_ASSERT(rank < b->n);
    zleaf **lp = &b->leaves[rank / ZL_CAP];
    if (!*lp) {
        zleaf *l = s_malloc(sizeof(zleaf));
        size_t first = rank / ZL_CAP * ZL_CAP;
        l->n = (uint32_t)(b->n - first < ZL_CAP ? b->n - first : ZL_CAP);
        memset(l->hw, 0, sizeof(l->hw));
        *lp = l;
    }
    lset(*lp, (uint32_t)(rank % ZL_CAP), h);
}

handle_t zi_bulk_get(const zi_bulk *b, size_t rank) {
    DBG_ASSERT(rank < b->n && b->leaves[rank / ZL_CAP]);
    return lh(b->leaves[rank / ZL_CAP], (uint32_t)(rank % ZL_CAP));
}

void zi_bulk_finish(zindex *t, zi_bulk *b) {
    DBG_ASSERT(t->count == 0 && !t->root && !b->taken);
    b->taken = 1;
    if (b->n) {
        zkid *kids = s_malloc(b->m * sizeof(zkid));
        for (size_t i = 0; i < b->m; i++) {
            zleaf *l = b->leaves[i];
            DBG_ASSERT(l);
            t->bytes += s_usable(l);
            kids[i] = (zkid){l, l->n, zel_score(lh(l, 0)), lh(l, 0)};
        }
        build_levels(t, kids, b->m, b->n);
    }
}

void zi_bulk_free(zi_bulk *b) {
    for (size_t i = 0; i < b->m && !b->taken; i++) s_free(b->leaves[i]);
    s_free(b->leaves);
    s_free(b);
}

static void key_of(handle_t h, int kind, zkey *k) {
    k->kind = kind;
    k->s = zel_score(h);
    k->m = zel_member(h, &k->len);
}

void zi_insert(zindex *t, handle_t h) {
    zkey k;
    key_of(h, K_LT, &k);
    t->count++;
    if (!t->root) {
        zleaf *l = leaf_new(t);
        lset(l, 0, h);
        l->n = 1;
        t->root = l;
        t->height = 0;
        return;
    }
    zpath p;
    descend(t, &k, &p);
    for (int l = 0; l < p.depth; l++) p.n[l]->cnt[p.i[l]]++;
    leaf_insert(t, &p, h, k.s);
}

static void remove_child(zindex *t, zpath *p, int level);

static void try_merge_leaf(zindex *t, zpath *p) {
    int d = p->depth;
    zleaf *l = p->leaf;
    znode *x = p->n[d - 1];
    int pi = p->i[d - 1];
    if (pi + 1 < (int)x->n) {
        zleaf *r = x->c[pi + 1];
        if (l->n + r->n <= ZL_CAP * 3 / 4) {
            lmove(l, l->n, r, 0, r->n);
            l->n += r->n;
            x->cnt[pi] = l->n;
            leaf_free(t, r);
            p->i[d - 1] = pi + 1;
            remove_child(t, p, d - 1);
            return;
        }
    }
    if (pi > 0) {
        zleaf *lf = x->c[pi - 1];
        if (lf->n + l->n <= ZL_CAP * 3 / 4) {
            lmove(lf, lf->n, l, 0, l->n);
            lf->n += l->n;
            x->cnt[pi - 1] = lf->n;
            leaf_free(t, l);
            remove_child(t, p, d - 1);
        }
    }
}

static void try_merge_node(zindex *t, zpath *p, int level) {
    znode *a = p->n[level], *x = p->n[level - 1];
    int pi = p->i[level - 1];
    if (pi + 1 < (int)x->n) {
        znode *b = x->c[pi + 1];
        if (a->n + b->n <= ZN_CAP * 3 / 4) {
            x->cnt[pi] += x->cnt[pi + 1];
            node_move(a, (int)a->n, b, 0, (int)b->n);
            node_free(t, b);
            p->i[level - 1] = pi + 1;
            remove_child(t, p, level - 1);
            return;
        }
    }
    if (pi > 0) {
        znode *b = x->c[pi - 1];
        if (a->n + b->n <= ZN_CAP * 3 / 4) {
            x->cnt[pi - 1] += x->cnt[pi];
            node_move(b, (int)b->n, a, 0, (int)a->n);
            node_free(t, a);
            remove_child(t, p, level - 1);
        }
    }
}

/* Removes child p->i[level] from node p->n[level] (its subtree is already gone or merged away). */
static void remove_child(zindex *t, zpath *p, int level) {
    znode *x = p->n[level];
    int i = p->i[level];
    size_t m = x->n - (uint32_t)i - 1;
    memmove(&x->ks[i], &x->ks[i + 1], m * sizeof(double));
    memmove(&x->c[i], &x->c[i + 1], m * sizeof(void *));
    memmove(&x->cnt[i], &x->cnt[i + 1], m * sizeof(uint32_t));
    memmove(&x->kh[i], &x->kh[i + 1], m * sizeof(handle_t));
    x->n--;
    if (x->n == 0) {
        node_free(t, x);
        if (level == 0) {
            t->root = NULL;
            t->height = 0;
        } else {
            remove_child(t, p, level - 1);
        }
        return;
    }
    if (i == 0) fix_min(p, level, x->ks[0], x->kh[0]);
    if (level == 0) {
        while (t->height > 0 && ((znode *)t->root)->n == 1) {
            znode *r = t->root;
            t->root = r->c[0];
            t->height--;
            node_free(t, r);
        }
        return;
    }
    if (x->n < ZN_CAP / 4) try_merge_node(t, p, level);
}

/* Removes k elements from index idx of the path's leaf (the counts above are not yet adjusted). */
static void leaf_remove(zindex *t, zpath *p, int idx, int k) {
    zleaf *l = p->leaf;
    int d = p->depth;
    lmove(l, (uint32_t)idx, l, (uint32_t)(idx + k), l->n - (uint32_t)(idx + k));
    l->n -= (uint32_t)k;
    t->count -= (size_t)k;
    for (int lv = 0; lv < d; lv++) p->n[lv]->cnt[p->i[lv]] -= (uint32_t)k;
    if (l->n == 0) {
        leaf_free(t, l);
        if (d == 0) {
            t->root = NULL;
            t->height = 0;
        } else {
            remove_child(t, p, d - 1);
        }
        return;
    }
    if (idx == 0) fix_min(p, d, zel_score(lh(l, 0)), lh(l, 0));
    if (d > 0 && l->n < ZL_CAP / 4) try_merge_leaf(t, p);
}

void zi_delete(zindex *t, handle_t h) {
    zkey k;
    key_of(h, K_LE, &k);
    zpath p;
    descend(t, &k, &p);
    leaf_remove(t, &p, p.li - 1, 1);
}

static int elem_cmp(double s, const char *m, size_t len, handle_t h) {
    double hs = zel_score(h);
    if (s != hs) return s < hs ? -1 : 1;
    size_t hl;
    const char *hm = zel_member(h, &hl);
    return zel_memcmp(m, len, hm, hl);
}

void zi_rescore(zindex *t, handle_t h, double score) {
    zkey k;
    key_of(h, K_LE, &k);
    zpath p;
    descend(t, &k, &p);
    zleaf *l = p.leaf;
    int idx = p.li - 1;
    if (idx > 0 && idx + 1 < (int)l->n && elem_cmp(score, k.m, k.len, lh(l, (uint32_t)(idx - 1))) > 0 &&
        elem_cmp(score, k.m, k.len, lh(l, (uint32_t)(idx + 1))) < 0) {
        zel_set_score(h, score);
        return;
    }
    leaf_remove(t, &p, idx, 1);
    zel_set_score(h, score);
    zi_insert(t, h);
}

handle_t zi_at(const zindex *t, size_t r) {
    zpath p;
    descend_rank(t, r, &p);
    return lh(p.leaf, (uint32_t)p.li);
}

static size_t count_before(const zindex *t, const zkey *k) {
    if (!t->root) return 0;
    const void *x = t->root;
    size_t rank = 0;
    for (uint32_t l = 0; l < t->height; l++) {
        const znode *nd = x;
        int i = node_child(nd, k);
        for (int j = 0; j < i; j++) rank += nd->cnt[j];
        x = nd->c[i];
    }
    return rank + (size_t)leaf_pos(x, k);
}

size_t zi_rank(const zindex *t, handle_t h) {
    zkey k;
    key_of(h, K_LT, &k);
    return count_before(t, &k);
}

size_t zi_count_before(const zindex *t, int kind, double s, const char *m, size_t len) {
    zkey k = {kind, s, m, len};
    return count_before(t, &k);
}

void zi_delete_range(zindex *t, size_t start, size_t n, zi_visit_fn *fn, void *ud) {
    while (n > 0 && start < t->count) {
        zpath p;
        descend_rank(t, start, &p);
        zleaf *l = p.leaf;
        size_t k = l->n - (uint32_t)p.li;
        if (k > n) k = n;
        if (fn)
            for (size_t j = 0; j < k; j++) fn(ud, lh(l, (uint32_t)((size_t)p.li + j)));
        leaf_remove(t, &p, p.li, (int)k);
        n -= k;
    }
}

void zi_iter_init(zi_iter *it, const zindex *t, size_t rank) {
    it->t = t;
    it->rank = rank;
    it->leaf = NULL;
    it->idx = 0;
    if (rank >= t->count) return;
    zpath p;
    descend_rank(t, rank, &p);
    it->leaf = p.leaf;
    it->idx = p.li;
}

handle_t zi_iter_get(const zi_iter *it) { return lh(it->leaf, (uint32_t)it->idx); }

int zi_iter_move(zi_iter *it, int dir) {
    if (!it->leaf) return 0;
    if (dir > 0) {
        if (it->rank + 1 >= it->t->count) {
            it->leaf = NULL;
            return 0;
        }
        it->rank++;
        if (++it->idx < (int)((const zleaf *)it->leaf)->n) return 1;
    } else {
        if (it->rank == 0) {
            it->leaf = NULL;
            return 0;
        }
        it->rank--;
        if (--it->idx >= 0) return 1;
    }
    zi_iter_init(it, it->t, it->rank);
    return 1;
}

/* Frees the leaves of the last bottom-level node (calling fn for every handle, prefetching the entries a
 * few handles ahead so that the misses overlap), then every node left empty above it. */
static long free_last_leaves(zindex *t, zi_visit_fn *fn, void *ud) {
    znode *path[ZI_MAXH] = {0};
    void *x = t->root;
    int h = (int)t->height;
    for (int l = 0; l < h; l++) {
        path[l] = x;
        x = path[l]->c[path[l]->n - 1];
    }
    znode *last = path[h - 1];
    long done = 0;
    for (uint32_t i = 0; i < last->n; i++) {
        zleaf *lf = last->c[i];
        if (fn) {
            for (uint32_t j = 0; j < lf->n && j < 8; j++) __builtin_prefetch(arena_ptr(lh(lf, j)), 1);
            for (uint32_t j = 0; j < lf->n; j++) {
                if (j + 8 < lf->n) __builtin_prefetch(arena_ptr(lh(lf, (uint32_t)(j + 8))), 1);
                fn(ud, lh(lf, j));
            }
        }
        done += lf->n;
        leaf_free(t, lf);
    }
    last->n = 0;
    for (int l = h - 1; l >= 0 && path[l]->n == 0; l--) {
        node_free(t, path[l]);
        if (l == 0) t->root = NULL;
        else path[l - 1]->n--;
    }
    return done;
}

int zi_free_step(zindex *t, long budget, zi_visit_fn *fn, void *ud) {
    while (t->root && budget > 0) {
        if (t->height == 0) {
            zleaf *lf = t->root;
            if (fn)
                for (uint32_t j = 0; j < lf->n; j++) fn(ud, lh(lf, j));
            leaf_free(t, lf);
            t->root = NULL;
            break;
        }
        /* one bottom node at a time when it fits the budget, else its last leaf alone */
        znode *x = t->root;
        for (uint32_t l = 1; l < t->height; l++) x = x->c[x->n - 1];
        long n = 0;
        for (uint32_t i = 0; i < x->n; i++) n += ((zleaf *)x->c[i])->n;
        if (n <= budget || x->n == 1) {
            budget -= free_last_leaves(t, fn, ud);
            continue;
        }
        zleaf *lf = x->c[x->n - 1];
        if (fn)
            for (uint32_t j = 0; j < lf->n; j++) {
                if (j + 8 < lf->n) __builtin_prefetch(arena_ptr(lh(lf, (uint32_t)(j + 8))), 1);
                fn(ud, lh(lf, j));
            }
        budget -= lf->n;
        leaf_free(t, lf);
        x->n--;
    }
    if (t->root) return 0;
    t->height = 0;
    t->count = 0;
    return 1;
}

void zi_destroy(zindex *t, zi_visit_fn *fn, void *ud) { zi_free_step(t, LONG_MAX, fn, ud); }

/* ---- active defragmentation ---- */

handle_t zi_move(zindex *t, handle_t h, handle_t (*mv)(handle_t)) {
    zkey k;
    key_of(h, K_LE, &k);
    zpath p;
    descend(t, &k, &p); /* while h is live: the descent reads its member */
    int idx = p.li - 1;
    DBG_ASSERT(idx >= 0 && lh(p.leaf, (uint32_t)idx) == h);
    if (idx < 0 || lh(p.leaf, (uint32_t)idx) != h) return h;
    handle_t nh = mv(h);
    if (nh == h) return h;
    lset(p.leaf, (uint32_t)idx, nh);
    /* h is named as a separator only as the smallest of a subtree on its own path. */
    for (int l = 0; l < p.depth; l++)
        if (p.n[l]->kh[p.i[l]] == h) p.n[l]->kh[p.i[l]] = nh;
    return nh;
}

typedef struct zdefrag {
    size_t skip;  /* elements still to pass before the walk starts */
    long budget;  /* elements still to pass over */
    int height;
    void *(*mv)(void *);
} zdefrag;

/* Walks the subtree in *slot, moving each node it enters (the parent's pointer rewritten). */
static void defrag_rec(zdefrag *d, void **slot, int level) {
    void *x = *slot, *nx = d->mv(x);
    if (nx) *slot = x = nx;
    if (level == d->height) {
        zleaf *l = x;
        d->budget -= (long)(l->n - d->skip);
        d->skip = 0;
        return;
    }
    znode *nd = x;
    for (uint32_t i = 0; i < nd->n && d->budget > 0; i++) {
        if (d->skip >= nd->cnt[i]) {
            d->skip -= nd->cnt[i];
            continue;
        }
        defrag_rec(d, &nd->c[i], level + 1);
    }
}

size_t zi_defrag(zindex *t, size_t rank, long budget, void *(*mv)(void *)) {
    if (!t->root || rank >= t->count || budget <= 0) return t->count;
    zdefrag d = {rank, budget, (int)t->height, mv};
    defrag_rec(&d, &t->root, 0);
    return rank + (size_t)(budget - d.budget);
}

/* ---- checking (tests) ---- */

static int cmp_h(handle_t a, handle_t b) {
    size_t al;
    const char *am = zel_member(a, &al);
    return elem_cmp(zel_score(a), am, al, b);
}

static int check_rec(const void *x, int level, int height, size_t *count, handle_t *prev, int *has_prev, double *mins,
                     handle_t *minh, const char **why) {
    if (level == height) {
        const zleaf *l = x;
        if (l->n == 0 || l->n > ZL_CAP) return *why = "leaf size", 0;
        for (uint32_t i = 0; i < l->n; i++) {
            if (*has_prev && cmp_h(*prev, lh(l, i)) >= 0) return *why = "order", 0;
            *prev = lh(l, i);
            *has_prev = 1;
        }
        *count = l->n;
        *mins = zel_score(lh(l, 0));
        *minh = lh(l, 0);
        return 1;
    }
    const znode *nd = x;
    if (nd->n == 0 || nd->n > ZN_CAP) return *why = "node size", 0;
    if (level == 0 && nd->n < 2) return *why = "root with one child", 0;
    size_t total = 0;
    for (uint32_t i = 0; i < nd->n; i++) {
        size_t c;
        double s;
        handle_t h;
        if (!check_rec(nd->c[i], level + 1, height, &c, prev, has_prev, &s, &h, why)) return 0;
        if (c != nd->cnt[i]) return *why = "count", 0;
        if (h != nd->kh[i] || !(s == nd->ks[i])) return *why = "separator", 0;
        total += c;
    }
    *count = total;
    *mins = nd->ks[0];
    *minh = nd->kh[0];
    return 1;
}

int zi_check(const zindex *t, const char **why) {
    *why = "";
    if (!t->root) return t->count == 0 ? 1 : (*why = "empty root with count", 0);
    size_t c;
    double s;
    handle_t h, prev = 0;
    int has_prev = 0;
    if (!check_rec(t->root, 0, (int)t->height, &c, &prev, &has_prev, &s, &h, why)) return 0;
    if (c != t->count) return *why = "total count", 0;
    return 1;
}

static void collect_rec(const void *x, int level, int height, handle_t *out, size_t *n, size_t cap) {
    if (level == height) {
        const zleaf *l = x;
        for (uint32_t i = 0; i < l->n && *n < cap; i++) out[(*n)++] = lh(l, i);
        return;
    }
    const znode *nd = x;
    for (uint32_t i = 0; i < nd->n; i++) collect_rec(nd->c[i], level + 1, height, out, n, cap);
}

int zindex_check(const zindex *t) {
    /* The handles first: zi_check reads every member's entry. */
    if (t->root) {
        handle_t *hs = s_malloc(sizeof(handle_t) * (t->count ? t->count : 1));
        size_t n = 0;
        collect_rec(t->root, 0, (int)t->height, hs, &n, t->count);
        int ok = arena_check_handles(hs, n);
        s_free(hs);
        if (!ok) return 0;
    }
    const char *why;
    if (!zi_check(t, &why)) {
        dbg_check_why = why;
        return 0;
    }
    return 1;
}
