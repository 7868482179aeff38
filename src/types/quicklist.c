/* quicklist: see quicklist.h.
 *
 * Fill rule (Redis 7.0's): with a negative fill a node may grow while its
 * listpack stays within 4, 8, 16, 32 or 64 KiB (-1 .. -5); with a positive
 * fill while it holds at most `fill` elements and stays within 8 KiB (the
 * safety limit).  The size an element adds is estimated from its length as a
 * string (an integer encodes smaller, so the estimate is an upper bound).  A
 * new node accepts any first element, so an element bigger than the limit
 * lives alone in its node.
 *
 * Only listpack.h's API touches listpack bytes: merging and splitting nodes
 * build a new listpack element by element. */
#include "types/quicklist.h"
#include "util/mem.h"
#include <string.h>

#define SAFETY_LIMIT 8192
#define FILL_MAX 32767
#define LP_OVERHEAD 7 /* header (6) + terminator (1) */

static const size_t level_bytes[] = {4096, 8192, 16384, 32768, 65536};

/* Upper bound of the bytes a string of len bytes takes as a listpack element. */
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
    return fits(ql, lp_bytes(n->lp) + entry_est(len), (size_t)n->count + 1);
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
    lp_free(n->lp);
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

quicklist *ql_new(int fill) {
    quicklist *ql = s_malloc(sizeof(*ql));
    ql->head = ql->tail = NULL;
    ql->count = 0;
    ql->len = 0;
    ql->fill = fill > FILL_MAX ? FILL_MAX : fill < -5 ? -5 : fill;
    return ql;
}

void ql_free(quicklist *ql) {
    qlnode *n = ql->head;
    while (n) {
        qlnode *next = n->next;
        lp_free(n->lp);
        s_free(n);
        n = next;
    }
    s_free(ql);
}

quicklist *ql_dup(const quicklist *ql) {
    quicklist *d = ql_new(ql->fill);
    for (qlnode *n = ql->head; n; n = n->next) {
        qlnode *m = s_malloc(sizeof(*m));
        m->lp = lp_dup(n->lp);
        m->count = n->count;
        m->flags = 0;
        node_link(d, d->tail, m, 1);
    }
    d->count = ql->count;
    return d;
}

size_t ql_bytes(const quicklist *ql) {
    size_t total = s_usable((void *)ql);
    for (qlnode *n = ql->head; n; n = n->next) total += s_usable(n) + lp_alloc_size(n->lp);
    return total;
}

void ql_push(quicklist *ql, const char *s, size_t len, int where) {
    qlnode *n = where == QL_HEAD ? ql->head : ql->tail;
    if (!n || !allow_insert(ql, n, len)) {
        qlnode *m = node_new(entry_est(len) + LP_OVERHEAD);
        node_link(ql, n, m, where == QL_TAIL);
        n = m;
    }
    n->lp = where == QL_HEAD ? lp_prepend(n->lp, s, (uint32_t)len) : lp_append(n->lp, s, (uint32_t)len);
    n->count++;
    ql->count++;
}

int ql_peek(quicklist *ql, int where, lp_val *v) {
    qlnode *n = where == QL_HEAD ? ql->head : ql->tail;
    if (!n) return 0;
    lp_get(where == QL_HEAD ? lp_first(n->lp) : lp_last(n->lp), v);
    return 1;
}

void ql_pop(quicklist *ql, int where) {
    qlnode *n = where == QL_HEAD ? ql->head : ql->tail;
    ql->count--;
    if (n->count == 1) {
        node_remove(ql, n);
        return;
    }
    unsigned char *p = where == QL_HEAD ? lp_first(n->lp) : lp_last(n->lp);
    n->lp = lp_delete(n->lp, &p);
    n->count--;
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
    pos->node = n;
    /* seek from the nearer end of the node */
    pos->p = lp_seek(n->lp, off <= n->count / 2 ? (long)off : (long)off - (long)n->count);
    return 1;
}

void ql_replace(quicklist *ql, qlpos *pos, const char *s, size_t len) {
    (void)ql;
    pos->node->lp = lp_replace(pos->node->lp, &pos->p, s, (uint32_t)len);
}

/* Merges b into a (a->next == b) when the two fit in one node; returns the surviving node. */
static qlnode *merge(quicklist *ql, qlnode *a, qlnode *b) {
    if (!a || !b) return a ? a : b;
    size_t bytes = lp_bytes(a->lp) + lp_bytes(b->lp) - LP_OVERHEAD;
    if (!fits(ql, bytes, (size_t)a->count + b->count)) return NULL;
    unsigned char *lp = lp_new(bytes);
    lp = lp_append_from(lp, a->lp, lp_first(a->lp));
    lp = lp_append_from(lp, b->lp, lp_first(b->lp));
    lp_free(a->lp);
    a->lp = lp;
    a->count += b->count;
    node_remove(ql, b);
    return a;
}

/* Tries to merge n with its neighbours. */
static void merge_around(quicklist *ql, qlnode *n) {
    if (!n) return;
    qlnode *m = merge(ql, n->prev, n);
    if (m) n = m;
    merge(ql, n, n->next);
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
            n->lp = lp_delete_range(n->lp, (long)off, k);
            n->count -= (uint32_t)k;
        }
        ql->count -= k;
        count -= k;
        off = 0;
        n = next;
    }
    merge_around(ql, before ? before->next : ql->head);
}

/* Offset of element p in node n. */
static size_t offset_of(qlnode *n, unsigned char *p) {
    size_t off = 0;
    for (unsigned char *q = lp_first(n->lp); q != p; q = lp_next(n->lp, q)) off++;
    return off;
}

/* Moves the elements of n from offset off on to a new node linked after n. */
static qlnode *split(quicklist *ql, qlnode *n, size_t off) {
    qlnode *m = node_new(lp_bytes(n->lp));
    m->lp = lp_append_from(m->lp, n->lp, lp_seek(n->lp, (long)off));
    m->count = n->count - (uint32_t)off;
    n->lp = lp_delete_range(n->lp, (long)off, m->count);
    n->count = (uint32_t)off;
    node_link(ql, n, m, 1);
    return m;
}

/* Inserts an element next to element p of node n. */
static void insert_at(quicklist *ql, qlnode *n, unsigned char *p, const char *s, size_t len, int after) {
    ql->count++;
    if (allow_insert(ql, n, len)) {
        n->lp = lp_insert(n->lp, &p, s, (uint32_t)len, after ? LP_AFTER : LP_BEFORE);
        n->count++;
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
        nb->lp = at_tail ? lp_prepend(nb->lp, s, (uint32_t)len) : lp_append(nb->lp, s, (uint32_t)len);
        nb->count++;
        return;
    }
    /* A full node, inserting inside it: split it and append the element to the first half. */
    qlnode *m = split(ql, n, offset_of(n, p) + (after ? 1 : 0));
    n->lp = lp_append(n->lp, s, (uint32_t)len);
    n->count++;
    merge(ql, m, m->next);
    merge(ql, n->prev, n);
}

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
        if (it->dirty == n) {
            /* leaving a node that lost elements: merge it with the neighbour behind us */
            if (it->dir == QL_TAIL) merge(it->ql, n->prev, n);
            else merge(it->ql, n, n->next);
            it->dirty = NULL;
        }
        it->node = nx;
        if (nx) it->p = it->dir == QL_TAIL ? lp_first(nx->lp) : lp_last(nx->lp);
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
        it->p = nx ? (it->dir == QL_TAIL ? lp_first(nx->lp) : lp_last(nx->lp)) : NULL;
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
    if (it->dirty) merge_around(it->ql, it->dirty);
    it->dirty = NULL;
}

int ql_check(const quicklist *ql) {
    size_t count = 0, len = 0;
    const qlnode *prev = NULL;
    for (const qlnode *n = ql->head; n; n = n->next) {
        if (n->prev != prev || n->count == 0 || lp_length(n->lp) != n->count) return 0;
        count += n->count;
        len++;
        prev = n;
    }
    return prev == ql->tail && count == ql->count && len == ql->len;
}
