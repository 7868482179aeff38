/* quicklist: see quicklist.h.
 *
 * Fill rule (Redis 7.0's): with a negative fill a node may grow while its
 * listpack stays within 4, 8, 16, 32 or 64 KiB (-1 .. -5); with a positive
 * fill while it holds at most `fill` elements and stays within 8 KiB (the
 * safety limit).  The sizes are Redis's estimates, so that nodes split where
 * Redis's do and RDB/DUMP carry the same node listpacks: an element adds its
 * length plus 8 bytes, and two merged nodes take their sizes minus 11.  A
 * new node accepts any first element, so an element bigger than the limit
 * lives alone in its node.
 *
 * Compression (list-compress-depth = d > 0): the d nodes at each end stay
 * raw, the others are kept LZF-compressed (a qlzf blob in place of the
 * listpack) with liblzf, Redis's codec, under Redis's rule: listpacks of at
 * least 48 bytes, kept compressed only when that saves more than 8 bytes.
 * So a compressed node holds the very bytes Redis's would, and RDB/DUMP
 * write them as they are (ql_node_lzf).  Every access to a node goes
 * through node_raw(), which decompresses it and marks it RECOMPRESS; settle()
 * re-establishes the rule around a node after an operation (as Redis's
 * __quicklistCompress does): the end nodes are made raw, the nodes just past
 * the window and the given node (if outside it) are compressed.  Nothing but
 * memory depends on the rule: code that reads n->lp has called node_raw().
 *
 * Only listpack.h's API touches listpack bytes: merging and splitting nodes
 * build a new listpack element by element.  A decompressed listpack is a
 * lp_new() allocation of the listpack's exact size, filled with its bytes. */
#include "types/quicklist.h"
#include "util/mem.h"
#include "util/debug.h"
#include "util/numconv.h"
#include <string.h>
#include <lzf.h>

#define SAFETY_LIMIT 8192
#define FILL_MAX 32767
#define COMPRESS_MAX 65535
#define LP_OVERHEAD 7      /* header (6) + terminator (1) */
#define SIZE_ESTIMATE_OVERHEAD 8 /* Redis's estimate of an element's bytes beyond its length */
#define MERGE_ESTIMATE_LESS 11   /* and of the bytes two merged listpacks save */
#define MIN_COMPRESS 48    /* smaller listpacks are not compressed */
#define MIN_IMPROVE 8      /* nor those that would not shrink by more */

enum { QLN_COMPRESSED = 1, QLN_RECOMPRESS = 2 };

/* A compressed node's payload. */
typedef struct qlzf {
    uint32_t raw;  /* listpack bytes */
    uint32_t len;  /* compressed bytes */
    unsigned char data[];
} qlzf;

static const size_t level_bytes[] = {4096, 8192, 16384, 32768, 65536};

/* ---- nodes ---- */

static size_t node_bytes(const qlnode *n) {
    return (n->flags & QLN_COMPRESSED) ? ((const qlzf *)(const void *)n->lp)->raw : lp_bytes(n->lp);
}

static void node_free_payload(qlnode *n) {
    if (n->flags & QLN_COMPRESSED) s_free(n->lp);
    else lp_free(n->lp);
}

/* Makes n's listpack readable (decompressing it: it is compressed again by settle()). */
static void node_raw(qlnode *n) {
    if (!(n->flags & QLN_COMPRESSED)) return;
    qlzf *z = (qlzf *)(void *)n->lp;
    unsigned char *lp = lp_new(z->raw);
    if (lzf_decompress(z->data, z->len, lp, z->raw) != z->raw) __builtin_trap(); /* our own blob: cannot fail */
    s_free(z);
    n->lp = lp;
    n->flags = (n->flags & ~(uint32_t)QLN_COMPRESSED) | QLN_RECOMPRESS;
}

static void node_compress(qlnode *n) {
    n->flags &= ~(uint32_t)QLN_RECOMPRESS;
    if (n->flags & QLN_COMPRESSED) return;
    size_t raw = lp_bytes(n->lp);
    if (raw < MIN_COMPRESS) return;
    /* Redis's call exactly (output room = input size): liblzf's bound checks are conservative, so a
     * smaller room could refuse a node Redis compresses. */
    qlzf *z = s_malloc(sizeof(qlzf) + raw);
    size_t len = lzf_compress(n->lp, (unsigned)raw, z->data, (unsigned)raw);
    if (!len || len + MIN_IMPROVE >= raw) {
        s_free(z);
        return;
    }
    z->raw = (uint32_t)raw;
    z->len = (uint32_t)len;
    z = s_realloc(z, sizeof(qlzf) + len);
    lp_free(n->lp);
    n->lp = (unsigned char *)z;
    n->flags |= QLN_COMPRESSED;
}

/* Restores the compression rule after n changed or was read (n may be NULL). */
static void settle(quicklist *ql, qlnode *n) {
    if (!ql->compress) {
        if (n) n->flags &= ~(uint32_t)QLN_RECOMPRESS;
        return;
    }
    if (ql->len < (uint32_t)ql->compress * 2) {
        /* every node is within the depth of one end */
        for (qlnode *m = ql->head; m; m = m->next) {
            node_raw(m);
            m->flags &= ~(uint32_t)QLN_RECOMPRESS;
        }
        return;
    }
    qlnode *fwd = ql->head, *rev = ql->tail;
    int in_depth = 0;
    for (unsigned d = 0; d < ql->compress; d++) {
        node_raw(fwd);
        node_raw(rev);
        fwd->flags &= ~(uint32_t)QLN_RECOMPRESS;
        rev->flags &= ~(uint32_t)QLN_RECOMPRESS;
        if (fwd == n || rev == n) in_depth = 1;
        if (fwd == rev || fwd->next == rev) return;
        fwd = fwd->next;
        rev = rev->prev;
    }
    /* fwd and rev are the first nodes past the window at each end */
    if (n && !in_depth) node_compress(n);
    node_compress(fwd);
    node_compress(rev);
}

static size_t entry_est(size_t len) {
    size_t t = len + (len < 64 ? 1 : len < 4096 ? 2 : 5);
    return t + (t < 128 ? 1 : t < 16384 ? 2 : t < 2097152 ? 3 : t < 268435456 ? 4 : 5);
}

/* 1 if a node of these listpack bytes and elements is within the fill limit. */
static int fits(const quicklist *ql, size_t bytes, size_t count) {
    if (ql->fill < 0) return bytes <= level_bytes[-ql->fill - 1];
    return bytes <= SAFETY_LIMIT && count <= (size_t)ql->fill;
}

static int allow_insert(const quicklist *ql, const qlnode *n, size_t len) {
    return fits(ql, node_bytes(n) + len + SIZE_ESTIMATE_OVERHEAD, (size_t)n->count + 1);
}

static qlnode *node_new(size_t cap) {
    qlnode *n = s_malloc(sizeof(*n));
    n->prev = n->next = NULL;
    n->lp = lp_new(cap);
    n->count = 0;
    n->flags = 0;
    return n;
}

/* Links n next to ref (after or before it); ref NULL: the list is empty. */
static void node_link(quicklist *ql, qlnode *ref, qlnode *n, int after) {
    if (!ref) {
        n->prev = n->next = NULL;
        ql->head = ql->tail = n;
    } else if (after) {
        n->prev = ref;
        n->next = ref->next;
        if (ref->next) ref->next->prev = n;
        else ql->tail = n;
        ref->next = n;
    } else {
        n->next = ref;
        n->prev = ref->prev;
        if (ref->prev) ref->prev->next = n;
        else ql->head = n;
        ref->prev = n;
    }
    ql->len++;
}

/* Unlinks and frees n (its elements must already be subtracted from ql->count). */
static void node_remove(quicklist *ql, qlnode *n) {
    if (n->prev) n->prev->next = n->next;
    else ql->head = n->next;
    if (n->next) n->next->prev = n->prev;
    else ql->tail = n->prev;
    node_free_payload(n);
    s_free(n);
    ql->len--;
}

static unsigned char *lp_push_val(unsigned char *lp, const lp_val *v) {
    return v->s ? lp_append(lp, (const char *)v->s, v->len) : lp_append_int(lp, v->i);
}

/* Appends the elements of src from p on to dst. */
static unsigned char *lp_append_from(unsigned char *dst, unsigned char *src, unsigned char *p) {
    lp_val v;
    for (; p; p = lp_next(src, p)) {
        lp_get(p, &v);
        dst = lp_push_val(dst, &v);
    }
    return dst;
}

/* ---- the list ---- */

quicklist *ql_new(int fill, int compress) {
    quicklist *ql = s_malloc(sizeof(*ql));
    ql->head = ql->tail = NULL;
    ql->count = 0;
    ql->len = 0;
    ql->fill = (int16_t)(fill > FILL_MAX ? FILL_MAX : fill < -5 ? -5 : fill);
    ql->compress = (uint16_t)(compress > COMPRESS_MAX ? COMPRESS_MAX : compress < 0 ? 0 : compress);
    return ql;
}

static uint64_t node_moves;
uint64_t ql_node_moves(void) { return node_moves; }

size_t ql_defrag(quicklist *ql, size_t from, long budget, void *(*mv)(void *)) {
    qlnode *n = ql->head;
    size_t i = 0;
    for (; n && i < from; i++) n = n->next;
    for (; n && budget > 0; i++, budget--) {
        qlnode *m = mv(n);
        if (m) {
            node_moves++;
            n = m;
            if (n->prev) n->prev->next = n;
            else ql->head = n;
            if (n->next) n->next->prev = n;
            else ql->tail = n;
        }
        unsigned char *lp = mv(n->lp); /* a listpack or a compressed node's qlzf, one block either way */
        if (lp) n->lp = lp;
        n = n->next;
    }
    return n ? i : 0;
}

void ql_free(quicklist *ql) {
    qlnode *n = ql->head;
    while (n) {
        qlnode *next = n->next;
        node_free_payload(n);
        s_free(n);
        n = next;
    }
    s_free(ql);
}

quicklist *ql_dup(const quicklist *ql) {
    quicklist *d = ql_new(ql->fill, ql->compress);
    for (qlnode *n = ql->head; n; n = n->next) {
        qlnode *m = s_malloc(sizeof(*m));
        if (n->flags & QLN_COMPRESSED) {
            const qlzf *z = (const qlzf *)(const void *)n->lp;
            m->lp = s_memdup(z, sizeof(qlzf) + z->len);
        } else {
            m->lp = lp_dup(n->lp);
        }
        m->count = n->count;
        m->flags = n->flags & QLN_COMPRESSED;
        node_link(d, d->tail, m, 1);
    }
    d->count = ql->count;
    return d;
}

size_t ql_bytes(const quicklist *ql) {
    size_t total = s_usable((void *)ql);
    for (qlnode *n = ql->head; n; n = n->next)
        total += s_usable(n) + ((n->flags & QLN_COMPRESSED) ? s_usable(n->lp) : lp_alloc_size(n->lp));
    return total;
}

size_t ql_compressed_nodes(const quicklist *ql) {
    size_t k = 0;
    for (qlnode *n = ql->head; n; n = n->next) k += (n->flags & QLN_COMPRESSED) != 0;
    return k;
}

void ql_push(quicklist *ql, const char *s, size_t len, int where) {
    qlnode *n = where == QL_HEAD ? ql->head : ql->tail;
    int created = 0;
    if (!n || !allow_insert(ql, n, len)) {
        qlnode *m = node_new(entry_est(len) + LP_OVERHEAD);
        node_link(ql, n, m, where == QL_TAIL);
        n = m;
        created = 1;
    }
    node_raw(n);
    n->lp = where == QL_HEAD ? lp_prepend(n->lp, s, (uint32_t)len) : lp_append(n->lp, s, (uint32_t)len);
    n->count++;
    ql->count++;
    DBG_ASSERT(lp_length(n->lp) == n->count); /* the node's count is its listpack's */
    if (created || (n->flags & QLN_RECOMPRESS)) settle(ql, n); /* a new end node pushes one out of the window */
}

void ql_append_lp(quicklist *ql, unsigned char *lp) {
    size_t count = lp_length(lp);
    DBG_ASSERT(count > 0);
    if (count > UINT32_MAX || !fits(ql, lp_bytes(lp), count)) {
        unsigned char buf[LL_STR_SIZE];
        for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, p)) {
            uint32_t len;
            const unsigned char *s = lp_get_str(p, buf, &len);
            ql_push(ql, (const char *)s, len, QL_TAIL);
        }
        lp_free(lp);
        return;
    }
    qlnode *n = s_malloc(sizeof(*n));
    n->lp = lp;
    n->count = (uint32_t)count;
    n->flags = 0;
    node_link(ql, ql->tail, n, 1);
    ql->count += count;
    settle(ql, n);
}

int ql_peek(quicklist *ql, int where, lp_val *v) {
    qlnode *n = where == QL_HEAD ? ql->head : ql->tail;
    if (!n) return 0;
    node_raw(n);
    lp_get(where == QL_HEAD ? lp_first(n->lp) : lp_last(n->lp), v);
    return 1;
}

void ql_pop(quicklist *ql, int where) {
    qlnode *n = where == QL_HEAD ? ql->head : ql->tail;
    DBG_ASSERT(n && ql->count >= n->count);
    ql->count--;
    if (n->count == 1) {
        node_remove(ql, n);
        if (ql->compress) settle(ql, NULL); /* a compressed node may have entered the window */
        return;
    }
    node_raw(n);
    unsigned char *p = where == QL_HEAD ? lp_first(n->lp) : lp_last(n->lp);
    n->lp = lp_delete(n->lp, &p);
    n->count--;
    DBG_ASSERT(n->count > 0 && lp_length(n->lp) == n->count);
    if (n->flags & QLN_RECOMPRESS) settle(ql, n);
}

/* The node holding element i (0-based from the head) and i's offset in it; walks from the nearer end. */
static qlnode *locate(const quicklist *ql, size_t i, size_t *off) {
    qlnode *n;
    if (i < ql->count / 2) {
        n = ql->head;
        while (i >= n->count) {
            i -= n->count;
            n = n->next;
        }
        *off = i;
    } else {
        size_t back = ql->count - 1 - i; /* distance from the tail */
        n = ql->tail;
        while (back >= n->count) {
            back -= n->count;
            n = n->prev;
        }
        *off = n->count - 1 - back;
    }
    return n;
}

int ql_index(quicklist *ql, long index, qlpos *pos) {
    size_t i;
    if (index >= 0) {
        i = (size_t)index;
        if (i >= ql->count) return 0;
    } else {
        size_t back = (size_t)(-(index + 1)); /* no overflow for LONG_MIN */
        if (back >= ql->count) return 0;
        i = ql->count - 1 - back;
    }
    size_t off;
    qlnode *n = locate(ql, i, &off);
    node_raw(n);
    pos->node = n;
    /* seek from the nearer end of the node */
    pos->p = lp_seek(n->lp, off <= n->count / 2 ? (long)off : (long)off - (long)n->count);
    return 1;
}

void ql_release(quicklist *ql, qlpos *pos) {
    if (pos->node->flags & QLN_RECOMPRESS) settle(ql, pos->node);
}

void ql_replace(quicklist *ql, qlpos *pos, const char *s, size_t len) {
    pos->node->lp = lp_replace(pos->node->lp, &pos->p, s, (uint32_t)len);
    ql_release(ql, pos);
}

/* Merges b into a (a->next == b) when the two fit in one node; returns the surviving node or NULL. */
static qlnode *merge(quicklist *ql, qlnode *a, qlnode *b) {
    if (!a || !b) return a ? a : b;
    size_t bytes = node_bytes(a) + node_bytes(b) - LP_OVERHEAD;
    if (!fits(ql, node_bytes(a) + node_bytes(b) - MERGE_ESTIMATE_LESS, (size_t)a->count + b->count)) return NULL;
    node_raw(a);
    node_raw(b);
    unsigned char *lp = lp_new(bytes);
    lp = lp_append_from(lp, a->lp, lp_first(a->lp));
    lp = lp_append_from(lp, b->lp, lp_first(b->lp));
    lp_free(a->lp);
    a->lp = lp;
    a->count += b->count;
    if (ql->compress) a->flags |= QLN_RECOMPRESS; /* let settle() decide where the merged node belongs */
    node_remove(ql, b);
    return a;
}

/* Tries to merge n with its neighbours; returns the node that holds n's elements. */
static qlnode *merge_around(quicklist *ql, qlnode *n) {
    if (!n) return NULL;
    qlnode *m = merge(ql, n->prev, n);
    if (m) n = m;
    merge(ql, n, n->next);
    return n;
}

/* Redis's _quicklistMergeNodes after a split: the two nodes before center, the two after it, center with
 * its predecessor, then the result with its successor, each pair when it fits in one node. */
static void merge_nodes(quicklist *ql, qlnode *center) {
    qlnode *prev = center->prev, *next = center->next;
    if (prev && prev->prev) merge(ql, prev->prev, prev);
    if (next && next->next) merge(ql, next, next->next);
    qlnode *cp = center->prev;
    qlnode *target = cp ? merge(ql, cp, center) : NULL; /* center is gone when this merges */
    if (!target) target = center;
    merge(ql, target, target->next);
}

void ql_del_range(quicklist *ql, size_t start, size_t count) {
    if (!count) return;
    size_t off;
    qlnode *n = locate(ql, start, &off);
    qlnode *before = n->prev;
    while (count) {
        qlnode *next = n->next;
        size_t k = n->count - off;
        if (k > count) k = count;
        if (off == 0 && k == n->count) {
            node_remove(ql, n);
        } else {
            node_raw(n);
            n->lp = lp_delete_range(n->lp, (long)off, k);
            n->count -= (uint32_t)k;
            if (n->flags & QLN_RECOMPRESS) settle(ql, n);
        }
        ql->count -= k;
        count -= k;
        off = 0;
        n = next;
    }
    n = merge_around(ql, before ? before->next : ql->head);
    if (ql->compress) settle(ql, n);
}

/* Offset of element p in node n. */
static size_t offset_of(qlnode *n, unsigned char *p) {
    size_t off = 0;
    for (unsigned char *q = lp_first(n->lp); q != p; q = lp_next(n->lp, q)) off++;
    return off;
}

/* Moves the elements of n (raw) from offset off on to a new node linked after n. */
static qlnode *split(quicklist *ql, qlnode *n, size_t off) {
    qlnode *m = node_new(lp_bytes(n->lp));
    m->lp = lp_append_from(m->lp, n->lp, lp_seek(n->lp, (long)off));
    m->count = n->count - (uint32_t)off;
    n->lp = lp_delete_range(n->lp, (long)off, m->count);
    n->count = (uint32_t)off;
    node_link(ql, n, m, 1);
    return m;
}

/* Inserts an element next to element p of node n (raw). */
static void insert_at(quicklist *ql, qlnode *n, unsigned char *p, const char *s, size_t len, int after) {
    ql->count++;
    if (allow_insert(ql, n, len)) {
        n->lp = lp_insert(n->lp, &p, s, (uint32_t)len, after ? LP_AFTER : LP_BEFORE);
        n->count++;
        settle(ql, n);
        return;
    }
    int at_tail = after && !lp_next(n->lp, p);
    int at_head = !after && !lp_prev(n->lp, p);
    if (at_tail || at_head) {
        qlnode *nb = at_tail ? n->next : n->prev;
        if (!nb || !allow_insert(ql, nb, len)) {
            nb = node_new(entry_est(len) + LP_OVERHEAD);
            node_link(ql, n, nb, at_tail);
        }
        node_raw(nb);
        nb->lp = at_tail ? lp_prepend(nb->lp, s, (uint32_t)len) : lp_append(nb->lp, s, (uint32_t)len);
        nb->count++;
        settle(ql, n);
        settle(ql, nb);
        return;
    }
    /* A full node, inserting inside it: as Redis's _quicklistInsert, split it, give the element to the
     * half that does not hold the reference element (before: the first half gets it at its tail; after:
     * the second half at its head), then merge around the half that holds it (merge_nodes), so the nodes
     * come out as Redis's do. */
    size_t off = offset_of(n, p);
    qlnode *m = split(ql, n, after ? off + 1 : off), *center;
    if (after) {
        m->lp = lp_prepend(m->lp, s, (uint32_t)len);
        m->count++;
        center = n;
    } else {
        n->lp = lp_append(n->lp, s, (uint32_t)len);
        n->count++;
        center = m;
    }
    if (ql->compress) n->flags |= QLN_RECOMPRESS, m->flags |= QLN_RECOMPRESS;
    merge_nodes(ql, center);
    if (ql->compress)
        for (qlnode *k = ql->head; k; k = k->next)
            if (k->flags & QLN_RECOMPRESS) settle(ql, k);
}

/* ---- iteration ---- */

void ql_iter_init(qliter *it, quicklist *ql, long index, int dir) {
    qlpos pos;
    it->ql = ql;
    it->dir = dir;
    it->cur = NULL;
    it->cur_node = NULL;
    it->dirty = NULL;
    if (ql_index(ql, index, &pos)) {
        it->node = pos.node;
        it->p = pos.p;
    } else {
        it->node = NULL;
        it->p = NULL;
    }
}

/* Done with node n (the iterator moves on or stops): merges it if it lost elements, recompresses it. */
static void leave_node(qliter *it, qlnode *n) {
    quicklist *ql = it->ql;
    if (it->dirty == n) {
        /* merge with the neighbour behind us: the nodes ahead are untouched */
        qlnode *m = it->dir == QL_TAIL ? merge(ql, n->prev, n) : merge(ql, n, n->next);
        if (m) n = m;
        it->dirty = NULL;
    }
    if (n->flags & QLN_RECOMPRESS) settle(ql, n);
}

int ql_iter_next(qliter *it, lp_val *v) {
    while (it->node) {
        qlnode *n = it->node;
        if (it->p) {
            lp_get(it->p, v);
            it->cur = it->p;
            it->cur_node = n;
            it->p = it->dir == QL_TAIL ? lp_next(n->lp, it->p) : lp_prev(n->lp, it->p);
            return 1;
        }
        qlnode *nx = it->dir == QL_TAIL ? n->next : n->prev;
        leave_node(it, n);
        it->node = nx;
        if (nx) {
            node_raw(nx);
            it->p = it->dir == QL_TAIL ? lp_first(nx->lp) : lp_last(nx->lp);
        }
    }
    it->cur = NULL;
    it->cur_node = NULL;
    return 0;
}

void ql_iter_delete(qliter *it) {
    quicklist *ql = it->ql;
    qlnode *n = it->cur_node;
    unsigned char *p = it->cur;
    ql->count--;
    if (n->count == 1) {
        qlnode *nx = it->dir == QL_TAIL ? n->next : n->prev;
        if (it->dirty == n) it->dirty = NULL;
        node_remove(ql, n);
        it->node = nx;
        it->p = NULL;
        if (nx) {
            node_raw(nx);
            it->p = it->dir == QL_TAIL ? lp_first(nx->lp) : lp_last(nx->lp);
        }
    } else {
        n->lp = lp_delete(n->lp, &p); /* p: the element that followed, or NULL */
        n->count--;
        it->node = n;
        if (it->dir == QL_TAIL) it->p = p;
        else it->p = p ? lp_prev(n->lp, p) : lp_last(n->lp);
        it->dirty = n;
    }
    it->cur = NULL;
    it->cur_node = NULL;
}

void ql_iter_insert(qliter *it, const char *s, size_t len, int after) {
    insert_at(it->ql, it->cur_node, it->cur, s, len, after);
    it->node = NULL;
    it->p = NULL;
    it->cur = NULL;
    it->cur_node = NULL;
    it->dirty = NULL;
}

void ql_iter_done(qliter *it) {
    quicklist *ql = it->ql;
    if (it->dirty) {
        qlnode *n = merge_around(ql, it->dirty);
        it->dirty = NULL;
        if (ql->compress) settle(ql, n);
    } else if (it->node && (it->node->flags & QLN_RECOMPRESS)) {
        settle(ql, it->node);
    }
    if (ql->compress) settle(ql, NULL); /* nodes removed by deletes may have shifted the window */
    it->node = NULL;
    it->p = NULL;
}

/* The header's invariants: links both ways, no empty node, each node's count equal to its listpack's
 * (which must itself pass lp_check, compressed ones after decompression), compressed payloads that
 * decompress to their recorded size and saved more than MIN_IMPROVE bytes, nothing left decompressed,
 * count and len the sums over the nodes, the `compress` end nodes raw, and with a positive fill no
 * multi-element node above `fill` elements.  Node byte sizes are not bounded: LSET replaces in place.
 * NULL if all hold, else what is wrong. */
const char *ql_check(const quicklist *ql) {
    size_t count = 0, len = 0;
    const qlnode *prev = NULL;
    if (!ql) return "quicklist: NULL";
    for (const qlnode *n = ql->head; n; n = n->next) {
        if (n->prev != prev) return "quicklist: node's prev link is wrong";
        if (n->count == 0) return "quicklist: empty node";
        if (n->flags & QLN_RECOMPRESS) return "quicklist: node left decompressed after an access";
        if (ql->fill > 0 && n->count > 1 && n->count > (uint32_t)ql->fill) return "quicklist: node above the fill count";
        const char *why = NULL;
        if (n->flags & QLN_COMPRESSED) {
            const qlzf *z = (const qlzf *)(const void *)n->lp;
            if (z->len + MIN_IMPROVE >= z->raw) return "quicklist: node compressed without saving more than MIN_IMPROVE bytes";
            unsigned char *lp = lp_new(z->raw);
            if (lzf_decompress(z->data, z->len, lp, z->raw) != z->raw || lp_bytes(lp) != z->raw) why = "quicklist: compressed node does not decompress to its size";
            else if (!(why = lp_check(lp)) && lp_length(lp) != n->count) why = "quicklist: node count differs from its listpack";
            lp_free(lp);
        } else if (!(why = lp_check(n->lp)) && lp_length(n->lp) != n->count) {
            why = "quicklist: node count differs from its listpack";
        }
        if (why) return why;
        count += n->count;
        len++;
        prev = n;
    }
    if (prev != ql->tail) return "quicklist: tail is not the last node";
    if (count != ql->count) return "quicklist: count differs from the sum of node counts";
    if (len != ql->len) return "quicklist: len differs from the number of nodes";
    /* the compression rule: the `compress` nodes at each end are raw */
    if (ql->compress) {
        const qlnode *f = ql->head, *r = ql->tail;
        for (unsigned d = 0; d < ql->compress && f; d++, f = f->next, r = r->prev)
            if ((f->flags | r->flags) & QLN_COMPRESSED) return "quicklist: a node within compress depth is compressed";
    }
    return NULL;
}

int ql_node_lzf(const qlnode *n, const unsigned char **data, size_t *clen, size_t *raw) {
    if (!(n->flags & QLN_COMPRESSED)) return 0;
    const qlzf *z = (const qlzf *)(const void *)n->lp;
    *data = z->data;
    *clen = z->len;
    *raw = z->raw;
    return 1;
}

/* ---- DEBUG QUICKLIST ---- */

void ql_repr(FILE *f, const quicklist *ql, int full) {
    fprintf(f, "{count : %zu}\n{len : %u}\n{fill : %d}\n{compress : %u}\n", ql->count, ql->len, ql->fill,
            ql->compress);
    int i = 0;
    for (const qlnode *n = ql->head; n; n = n->next, i++) {
        int lzf = (n->flags & QLN_COMPRESSED) != 0;
        fprintf(f, "{quicklist node(%d)\n{container : PACKED, encoding: %s, size: %zu, count: %u, recompress: %d}\n", i,
                lzf ? "LZF" : "RAW", lzf ? (size_t)((const qlzf *)(const void *)n->lp)->len : lp_bytes(n->lp), n->count,
                (n->flags & QLN_RECOMPRESS) != 0);
        if (!full) continue;
        fprintf(f, "{ listpack:\n");
        if (lzf) {
            const qlzf *z = (const qlzf *)(const void *)n->lp;
            unsigned char *lp = s_malloc(z->raw);
            if (lzf_decompress(z->data, z->len, lp, z->raw) == z->raw) lp_repr(f, lp);
            s_free(lp);
        } else {
            lp_repr(f, n->lp);
        }
        fprintf(f, "}\n}\n");
    }
    fflush(f);
}
