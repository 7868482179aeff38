/* tstream: see tstream.h for the layout and its invariants. */
#include "types/tstream.h"
#include "keyspace/defrag.h"
#include "mem/arena.h"
#include "types/limits.h"
#include "types/slz.h"
#include "types/object.h"
#include "util/mem.h"
#include "util/debug.h"
#include "util/numconv.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLAG_DELETED 1
#define FLAG_SAMEFIELDS 2
#define LISTPACK_MAX_SIZE (1u << 30)

/* ---- IDs ---- */

int sid_format(char *buf, const sid *id) {
    int n = ull2str(buf, id->ms);
    buf[n++] = '-';
    return n + ull2str(buf + n, id->seq);
}

int sid_incr(sid *id) {
    if (id->seq == UINT64_MAX) {
        if (id->ms == UINT64_MAX) {
            id->ms = id->seq = 0;
            return 0;
        }
        id->ms++;
        id->seq = 0;
    } else {
        id->seq++;
    }
    return 1;
}

int sid_decr(sid *id) {
    if (id->seq == 0) {
        if (id->ms == 0) {
            id->ms = id->seq = UINT64_MAX;
            return 0;
        }
        id->ms--;
        id->seq = UINT64_MAX;
    } else {
        id->seq--;
    }
    return 1;
}

/* ---- listpack helpers ---- */

static int64_t lp_int(const unsigned char *p) {
    lp_val v;
    lp_get(p, &v);
    if (!v.s) return v.i;
    long long x = 0;
    str2ll((const char *)v.s, v.len, &x);
    return x;
}

static unsigned char *lp_replace_int(unsigned char *lp, unsigned char **p, int64_t v) {
    char buf[LL_STR_SIZE];
    int n = ll2str(buf, v);
    return lp_replace(lp, p, buf, (uint32_t)n);
}

/* Walks past the master entry: returns the first entry's flags element; sets the field count and list. */
static unsigned char *skip_master(unsigned char *lp, int64_t *mcount, unsigned char **mfields) {
    unsigned char *p = lp_first(lp);  /* count */
    p = lp_next(lp, p);               /* deleted */
    p = lp_next(lp, p);               /* num-fields */
    *mcount = lp_int(p);
    p = lp_next(lp, p);
    *mfields = p;
    for (int64_t i = 0; i < *mcount; i++) p = lp_next(lp, p);
    return lp_next(lp, p);            /* past the 0 terminator */
}

static inline snode *node_at(const stream *s, const sidx_cur *c) { return sidx_at(&s->nodes, c); }

/* ---- sealed node compression ----
 * A node NODE_RAW_DEPTH places behind the tail is replaced by a compressed blob when that saves at least
 * 1/8 of it: [u32 0][u32 raw bytes][u32 compressed bytes][slz data].  The leading zero tells a blob from a
 * listpack (which starts with its size).  Readers decompress into a buffer of their own; a change to a
 * compressed node decompresses it into a listpack, applies the change and compresses it again. */
#define NODE_RAW_DEPTH 1
#define BLOB_HDR 12

static inline uint32_t rd32u(const unsigned char *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static inline int is_blob(const unsigned char *p) { return rd32u(p) == 0; }
static inline int in_arena(const unsigned char *p) {
    return arena_base && p >= arena_base && p < arena_base + arena_reserved_bytes();
}

static unsigned char *blob_alloc(size_t n) {
    if (arena_base && n <= ARENA_MAX_ALLOC) {
        handle_t h = arena_alloc(n);
        if (h) return arena_ptr(h);
    }
    return s_malloc(n);
}

/* Frees a node's storage, listpack or blob. */
static void node_mem_free(unsigned char *p) {
    if (!is_blob(p)) lp_free(p);
    else if (in_arena(p)) arena_free(arena_handle_of(p));
    else s_free(p);
}

static size_t node_mem_size(const unsigned char *p) {
    if (!is_blob(p)) return lp_alloc_size(p);
    return in_arena(p) ? arena_usable(arena_handle_of(p)) : s_usable((void *)p);
}

static unsigned char *node_mem_dup(const unsigned char *p) {
    if (!is_blob(p)) return lp_dup(p);
    size_t n = BLOB_HDR + rd32u(p + 8);
    unsigned char *d = blob_alloc(n);
    memcpy(d, p, n);
    return d;
}

/* The node's listpack: the node itself, or its blob decompressed into *buf (grown as needed). */
static unsigned char *node_view(const snode *n, unsigned char **buf, size_t *cap) {
    if (!is_blob(n->lp)) return n->lp;
    size_t raw = rd32u(n->lp + 4);
    if (*cap < raw) {
        *buf = s_realloc(*buf, raw);
        *cap = raw;
    }
    if (!slz_decompress(n->lp + BLOB_HDR, rd32u(n->lp + 8), *buf, raw)) {
        fprintf(stderr, "sardine: corrupt compressed stream node\n");
        abort();
    }
    return *buf;
}

const unsigned char *stream_node_lp(const snode *n, unsigned char **buf, size_t *cap) { return node_view(n, buf, cap); }

/* A view for short-lived reads that never nest (one shared buffer). */
static unsigned char *scratch;
static size_t scratch_cap;
static unsigned char *node_peek(const snode *n) { return node_view(n, &scratch, &scratch_cap); }

/* Makes the node a plain listpack (to change it); returns 1 if it was compressed. */
static int node_take(snode *n) {
    if (!is_blob(n->lp)) return 0;
    size_t raw = rd32u(n->lp + 4);
    unsigned char *lp = s_malloc(raw);
    if (!slz_decompress(n->lp + BLOB_HDR, rd32u(n->lp + 8), lp, raw)) {
        fprintf(stderr, "sardine: corrupt compressed stream node\n");
        abort();
    }
    node_mem_free(n->lp);
    n->lp = lp;
    return 1;
}

static void node_compress(snode *n) {
    if (is_blob(n->lp)) return;
    size_t raw = lp_bytes(n->lp), cap = raw - raw / 8;
    if (cap <= BLOB_HDR) return;
    unsigned char *tmp = s_malloc(cap);
    size_t c = slz_compress(n->lp, raw, tmp, cap - BLOB_HDR);
    if (c) {
        unsigned char *b = blob_alloc(BLOB_HDR + c);
        uint32_t hdr[3] = {0, (uint32_t)raw, (uint32_t)c};
        memcpy(b, hdr, BLOB_HDR);
        memcpy(b + BLOB_HDR, tmp, c);
        lp_free(n->lp);
        n->lp = b;
    } else {
        n->lp = lp_move(n->lp, 1); /* kept raw: into the arena's exact sizes when it fits */
    }
    s_free(tmp);
}

/* ---- the stream ---- */

stream *stream_new(void) {
    stream *s = s_calloc(sizeof(*s));
    sidx_init(&s->nodes, sizeof(snode));
    return s;
}

static void free_node_lp(void *rec, void *ud) {
    (void)ud;
    node_mem_free(((snode *)rec)->lp);
}

static void consumer_free(sconsumer *c) {
    sidx_clear(&c->pel);
    s_free(c);
}

static void group_free(sgroup *g) {
    for (uint32_t i = 0; i < g->ncons; i++) consumer_free(g->cons[i]);
    s_free(g->cons);
    sidx_clear(&g->pel);
    s_free(g);
}

void stream_free(stream *s) {
    sidx_each(&s->nodes, free_node_lp, NULL);
    sidx_clear(&s->nodes);
    for (uint32_t i = 0; i < s->ngroups; i++) group_free(s->groups[i]);
    s_free(s->groups);
    s_free(s);
}

void stream_append(stream *s, const sid *id, const sbuf *fv, long nfields) {
    DBG_ASSERT(sid_cmp(id, &s->last_id) > 0); /* IDs only grow */
    size_t totelelen = 0;
    for (long i = 0; i < nfields * 2; i++) totelelen += fv[i].len;
    sidx_cur cur;
    snode *tail = sidx_last(&s->nodes, &cur) ? node_at(s, &cur) : NULL;
    if (tail) {
        size_t max_bytes = (size_t)limits.stream_node_max_bytes;
        if (max_bytes == 0 || max_bytes > LISTPACK_MAX_SIZE) max_bytes = LISTPACK_MAX_SIZE;
        int full = 0;
        if (lp_bytes(tail->lp) + totelelen >= max_bytes) {
            full = 1;
        } else if (limits.stream_node_max_entries) {
            unsigned char *p = lp_first(tail->lp);
            int64_t all = lp_int(p) + lp_int(lp_next(tail->lp, p));
            if (all >= limits.stream_node_max_entries) full = 1;
        }
        if (full) {
            tail->lp = lp_move(tail->lp, 1); /* sealed: into the arena's exact sizes when it fits */
            tail = NULL;
            sidx_cur older = cur;
            int ok = 1;
            for (int d = 0; d < NODE_RAW_DEPTH && ok; d++) ok = sidx_prev(&s->nodes, &older);
            if (ok) node_compress(node_at(s, &older));
        }
    }
    int flags = 0;
    sid master;
    unsigned char *lp;
    if (!tail) {
        master = *id;
        lp = lp_new_compact();
        lp = lp_append_int(lp, 1);
        lp = lp_append_int(lp, 0);
        lp = lp_append_int(lp, nfields);
        for (long i = 0; i < nfields; i++) lp = lp_append(lp, fv[2 * i].p, (uint32_t)fv[2 * i].len);
        lp = lp_append_int(lp, 0);
        flags |= FLAG_SAMEFIELDS;
    } else {
        master = tail->master;
        lp = tail->lp;
        unsigned char *p = lp_first(lp);
        lp = lp_replace_int(lp, &p, lp_int(p) + 1);
        p = lp_next(lp, p); /* deleted */
        p = lp_next(lp, p); /* num-fields */
        int64_t mcount = lp_int(p);
        if (mcount == nfields) {
            long i;
            for (i = 0; i < nfields; i++) {
                p = lp_next(lp, p);
                if (!lp_eq(p, fv[2 * i].p, (uint32_t)fv[2 * i].len)) break;
            }
            if (i == nfields) flags |= FLAG_SAMEFIELDS;
        }
    }
    lp = lp_append_int(lp, flags);
    lp = lp_append_int(lp, (int64_t)(id->ms - master.ms));
    lp = lp_append_int(lp, (int64_t)(id->seq - master.seq));
    if (!(flags & FLAG_SAMEFIELDS)) lp = lp_append_int(lp, nfields);
    for (long i = 0; i < nfields; i++) {
        if (!(flags & FLAG_SAMEFIELDS)) lp = lp_append(lp, fv[2 * i].p, (uint32_t)fv[2 * i].len);
        lp = lp_append(lp, fv[2 * i + 1].p, (uint32_t)fv[2 * i + 1].len);
    }
    int64_t lp_count = nfields + 3;
    if (!(flags & FLAG_SAMEFIELDS)) lp_count += nfields + 1;
    lp = lp_append_int(lp, lp_count);
    if (tail) {
        tail->lp = lp;
    } else {
        snode *n = sidx_insert(&s->nodes, &master, NULL);
        n->lp = lp;
    }
    s->length++;
    DBG_ASSERT(s->nodes.count > 0 && s->length >= s->nodes.count);
    s->entries_added++;
    s->last_id = *id;
    if (s->length == 1) s->first_id = *id;
}

/* Decodes the entry whose flags element is at p: its ID, flags, field count, and the element after it. */
typedef struct ent {
    sid id;
    int64_t flags, nfields;
    unsigned char *fp, *vp; /* first field (own or master) and first value */
    unsigned char *next;    /* the element after lp-count (NULL at the end) */
} ent;

static void decode_entry(unsigned char *lp, unsigned char *p, const sid *master, int64_t mcount,
                         unsigned char *mfields, ent *e) {
    e->flags = lp_int(p);
    p = lp_next(lp, p);
    e->id.ms = master->ms + (uint64_t)lp_int(p);
    p = lp_next(lp, p);
    e->id.seq = master->seq + (uint64_t)lp_int(p);
    p = lp_next(lp, p);
    int64_t skip;
    if (e->flags & FLAG_SAMEFIELDS) {
        e->nfields = mcount;
        e->fp = mfields;
        e->vp = p;
        skip = mcount;
    } else {
        e->nfields = lp_int(p);
        p = lp_next(lp, p);
        e->fp = p;
        e->vp = e->nfields ? lp_next(lp, p) : p;
        skip = e->nfields * 2;
    }
    for (int64_t i = 0; i < skip; i++) p = lp_next(lp, p);
    e->next = lp_next(lp, p); /* past lp-count */
}

/* Finds the entry with this exact ID (live or deleted): its node cursor, the offset of its flags element
 * in the node's listpack, and its flags. */
static int find_entry(stream *s, const sid *id, sidx_cur *cur, size_t *off, int64_t *flags) {
    if (!sidx_seek_le(&s->nodes, id, cur)) return 0;
    snode *n = node_at(s, cur);
    unsigned char *lp = node_peek(n);
    int64_t mcount;
    unsigned char *mfields;
    unsigned char *p = skip_master(lp, &mcount, &mfields);
    while (p) {
        ent e;
        decode_entry(lp, p, &n->master, mcount, mfields, &e);
        int c = sid_cmp(&e.id, id);
        if (c == 0) {
            *off = (size_t)(p - lp);
            *flags = e.flags;
            return 1;
        }
        if (c > 0) return 0;
        p = e.next;
    }
    return 0;
}

int stream_delete(stream *s, const sid *id) {
    sidx_cur cur;
    size_t off;
    int64_t flags;
    if (!find_entry(s, id, &cur, &off, &flags) || (flags & FLAG_DELETED)) return 0;
    snode *n = node_at(s, &cur);
    int packed = node_take(n);
    unsigned char *lp = n->lp, *p = lp + off;
    lp = lp_replace_int(lp, &p, flags | FLAG_DELETED);
    p = lp_first(lp);
    int64_t count = lp_int(p);
    if (count == 1) {
        lp_free(lp);
        sid key = n->master;
        sidx_delete(&s->nodes, &key);
    } else {
        lp = lp_replace_int(lp, &p, count - 1);
        p = lp_next(lp, p);
        lp = lp_replace_int(lp, &p, lp_int(p) + 1);
        n->lp = lp;
        if (packed) node_compress(n);
    }
    s->length--;
    return 1;
}

int stream_entry_exists(stream *s, const sid *id) {
    sidx_cur cur;
    size_t off;
    int64_t flags;
    return find_entry(s, id, &cur, &off, &flags) && !(flags & FLAG_DELETED);
}

int stream_last_valid(stream *s, sid *id) {
    stream_iter it;
    int64_t nf;
    stream_iter_start(&it, s, NULL, NULL, 1);
    int ok = stream_iter_next(&it, id, &nf);
    stream_iter_done(&it);
    return ok;
}

int stream_first_valid(stream *s, sid *id) {
    stream_iter it;
    int64_t nf;
    stream_iter_start(&it, s, NULL, NULL, 0);
    int ok = stream_iter_next(&it, id, &nf);
    stream_iter_done(&it);
    return ok;
}

/* The ID of the last entry of a node's listpack, deleted or not. */
static sid lp_last_id(unsigned char *lp, const sid *master) {
    unsigned char *p = lp_last(lp);
    int64_t cnt = lp_int(p);
    for (int64_t i = 0; i < cnt; i++) p = lp_prev(lp, p);
    p = lp_next(lp, p);
    sid id;
    id.ms = master->ms + (uint64_t)lp_int(p);
    p = lp_next(lp, p);
    id.seq = master->seq + (uint64_t)lp_int(p);
    return id;
}

long long stream_trim(stream *s, const strim *t) {
    if (t->strategy == TRIM_NONE) return 0;
    long long deleted = 0;
    sidx_cur cur;
    while (sidx_first(&s->nodes, &cur)) {
        if (t->strategy == TRIM_MAXLEN && s->length <= (uint64_t)t->maxlen) break;
        snode *n = node_at(s, &cur);
        unsigned char *lp = node_peek(n), *p = lp_first(lp);
        int64_t entries = lp_int(p);
        if (t->limit && deleted + entries > t->limit) break;
        int remove;
        if (t->strategy == TRIM_MAXLEN) {
            remove = s->length - (uint64_t)entries >= (uint64_t)t->maxlen;
        } else {
            sid last = lp_last_id(lp, &n->master);
            remove = sid_cmp(&last, &t->minid) < 0;
        }
        if (remove) {
            sid key = n->master;
            node_mem_free(n->lp);
            sidx_delete(&s->nodes, &key);
            s->length -= (uint64_t)entries;
            deleted += entries;
            continue;
        }
        if (t->approx) break;
        /* mark entries deleted inside this node */
        int packed = node_take(n);
        lp = n->lp;
        int64_t mcount;
        unsigned char *mfields;
        p = skip_master(lp, &mcount, &mfields);
        int64_t from_lp = 0;
        while (p) {
            ent e;
            decode_entry(lp, p, &n->master, mcount, mfields, &e);
            int stop = t->strategy == TRIM_MAXLEN ? s->length <= (uint64_t)t->maxlen : sid_cmp(&e.id, &t->minid) >= 0;
            if (stop) break;
            if (!(e.flags & FLAG_DELETED)) {
                size_t from_end = e.next ? lp_bytes(lp) - (size_t)(e.next - lp) : 0;
                lp = lp_replace_int(lp, &p, e.flags | FLAG_DELETED);
                from_lp++;
                s->length--;
                e.next = e.next ? lp + lp_bytes(lp) - from_end : NULL;
            }
            p = e.next;
        }
        deleted += from_lp;
        p = lp_first(lp);
        lp = lp_replace_int(lp, &p, entries - from_lp);
        p = lp_next(lp, p);
        lp = lp_replace_int(lp, &p, lp_int(p) + from_lp);
        n->lp = lp;
        if (packed) node_compress(n);
        break;
    }
    if (deleted) {
        if (!s->length) s->first_id.ms = s->first_id.seq = 0;
        else stream_first_valid(s, &s->first_id);
    }
    return deleted;
}

/* Redis keeps the nodes in a radix tree of 16-byte big-endian IDs; XINFO reports its node count, which
 * depends only on the set of keys: one node per key (leaf), one per branching point, one compressed
 * node for every edge longer than one byte (the branching byte lives in the parent), plus the head. */
static int key_lcp(const sid *a, const sid *b) {
    if (a->ms != b->ms) return __builtin_clzll(a->ms ^ b->ms) / 8;
    if (a->seq != b->seq) return 8 + __builtin_clzll(a->seq ^ b->seq) / 8;
    return 16;
}

size_t stream_rax_nodes(const stream *s) {
    uint64_t n = s->nodes.count;
    if (n == 0) return 1;
    if (n == 1) return 2;
    size_t total = n;
    int stack[17], top = 0; /* depths of open branch nodes, increasing */
    int prev_l = -1;
    sidx_cur cur;
    sidx_first(&s->nodes, &cur);
    sid prev = node_at(s, &cur)->master;
    for (uint64_t i = 1; i <= n; i++) {
        int l = -1;
        if (i < n) {
            sidx_next(&s->nodes, &cur);
            sid k = node_at(s, &cur)->master;
            l = key_lcp(&prev, &k);
            prev = k;
        }
        /* leaf i-1: its parent is the deeper of its two neighbouring branch points */
        int pd = prev_l > l ? prev_l : l;
        if (15 - pd > 0) total++;
        prev_l = l;
        while (top > 0 && stack[top - 1] > l) {
            int t = stack[--top];
            int parent = top > 0 ? stack[top - 1] : -1;
            if (l > parent) parent = l;
            if (parent < 0) {
                if (t > 0) total++; /* the head: a compressed node before the root branch */
            } else if (t - parent - 1 > 0) {
                total++;
            }
        }
        if (l >= 0 && (top == 0 || stack[top - 1] < l)) {
            stack[top++] = l;
            total++;
        }
    }
    return total;
}

int stream_range_has_tombstones(const stream *s, const sid *start, const sid *end) {
    if (!s->length || sid_is_zero(&s->max_deleted_id)) return 0;
    if (sid_cmp(&s->first_id, &s->max_deleted_id) > 0) return 0;
    sid st = start ? *start : (sid){0, 0};
    sid en = end ? *end : (sid){UINT64_MAX, UINT64_MAX};
    return sid_cmp(&st, &s->max_deleted_id) <= 0 && sid_cmp(&s->max_deleted_id, &en) <= 0;
}

long long stream_estimate_distance(const stream *s, const sid *id) {
    if (!s->entries_added) return 0;
    if (!s->length && sid_cmp(id, &s->last_id) < 1) return (long long)s->entries_added;
    int cmp_last = sid_cmp(id, &s->last_id);
    if (cmp_last == 0) return (long long)s->entries_added;
    if (cmp_last > 0) return STREAM_ENTRIES_READ_INVALID;
    int cmp_first = sid_cmp(id, &s->first_id);
    if (sid_is_zero(&s->max_deleted_id) || sid_cmp(&s->max_deleted_id, &s->first_id) < 0) {
        if (cmp_first < 0) return (long long)(s->entries_added - s->length);
        if (cmp_first == 0) return (long long)(s->entries_added - s->length + 1);
    }
    return STREAM_ENTRIES_READ_INVALID;
}

int stream_group_lag(const stream *s, const sgroup *g, long long *lag) {
    if (!s->entries_added) {
        *lag = 0;
        return 1;
    }
    if (g->entries_read != STREAM_ENTRIES_READ_INVALID && !stream_range_has_tombstones(s, &g->last_id, NULL)) {
        *lag = (long long)s->entries_added - g->entries_read;
        return 1;
    }
    long long er = stream_estimate_distance(s, &g->last_id);
    if (er == STREAM_ENTRIES_READ_INVALID) return 0;
    *lag = (long long)s->entries_added - er;
    return 1;
}

/* ---- iteration ---- */

void stream_iter_done(stream_iter *it) {
    s_free(it->buf);
    it->buf = NULL;
    it->cap = 0;
}

void stream_iter_start(stream_iter *it, stream *s, const sid *start, const sid *end, int rev) {
    memset(it, 0, sizeof(*it));
    it->s = s;
    it->start = start ? *start : (sid){0, 0};
    it->end = end ? *end : (sid){UINT64_MAX, UINT64_MAX};
    it->rev = rev;
}

static int load_node(stream_iter *it) {
    stream *s = it->s;
    int ok;
    if (!it->begun) {
        it->begun = 1;
        if (!it->rev) {
            ok = sidx_seek_le(&s->nodes, &it->start, &it->cur) || sidx_first(&s->nodes, &it->cur);
        } else {
            ok = sidx_seek_le(&s->nodes, &it->end, &it->cur);
        }
    } else {
        ok = it->rev ? sidx_prev(&s->nodes, &it->cur) : sidx_next(&s->nodes, &it->cur);
    }
    if (!ok) return 0;
    snode *n = node_at(s, &it->cur);
    if (!it->rev && sid_cmp(&n->master, &it->end) > 0) return 0;
    it->lp = node_view(n, &it->buf, &it->cap);
    it->master = n->master;
    unsigned char *first = skip_master(it->lp, &it->mcount, &it->mfields);
    it->p = it->rev ? lp_last(it->lp) : first;
    return 1;
}

int stream_iter_next(stream_iter *it, sid *id, int64_t *nfields) {
    for (;;) {
        if (!it->lp && !load_node(it)) return 0;
        if (!it->p) {
            it->lp = NULL;
            continue;
        }
        ent e;
        if (!it->rev) {
            decode_entry(it->lp, it->p, &it->master, it->mcount, it->mfields, &e);
            it->p = e.next;
        } else {
            int64_t cnt = lp_int(it->p);
            if (cnt == 0) { /* the master entry's terminator: this node is done */
                it->lp = NULL;
                continue;
            }
            unsigned char *f = it->p;
            for (int64_t i = 0; i < cnt; i++) f = lp_prev(it->lp, f);
            decode_entry(it->lp, f, &it->master, it->mcount, it->mfields, &e);
            it->p = lp_prev(it->lp, f);
        }
        if (e.flags & FLAG_DELETED) continue;
        if (!it->rev) {
            if (sid_cmp(&e.id, &it->start) < 0) continue;
            if (sid_cmp(&e.id, &it->end) > 0) return 0;
        } else {
            if (sid_cmp(&e.id, &it->end) > 0) continue;
            if (sid_cmp(&e.id, &it->start) < 0) return 0;
        }
        *id = e.id;
        *nfields = e.nfields;
        it->fp = e.fp;
        it->vp = e.vp;
        it->same = (e.flags & FLAG_SAMEFIELDS) != 0;
        return 1;
    }
}

void stream_iter_field(stream_iter *it, lp_val *f, lp_val *v) {
    lp_get(it->fp, f);
    lp_get(it->vp, v);
    if (it->same) {
        it->fp = lp_next(it->lp, it->fp);
        it->vp = lp_next(it->lp, it->vp);
    } else {
        unsigned char *n = lp_next(it->lp, it->vp);
        it->fp = n;
        it->vp = n ? lp_next(it->lp, n) : NULL;
    }
}

/* ---- consumer groups ---- */

static int name_cmp(const char *a, size_t al, const char *b, size_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c) return c;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

/* Index of the group with this name, or -(insertion point)-1. */
static long group_pos(const stream *s, const char *name, size_t len) {
    long lo = 0, hi = (long)s->ngroups - 1;
    while (lo <= hi) {
        long mid = (lo + hi) / 2;
        int c = name_cmp(s->groups[mid]->name, s->groups[mid]->nlen, name, len);
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -lo - 1;
}

static long consumer_pos(const sgroup *g, const char *name, size_t len) {
    long lo = 0, hi = (long)g->ncons - 1;
    while (lo <= hi) {
        long mid = (lo + hi) / 2;
        int c = name_cmp(g->cons[mid]->name, g->cons[mid]->nlen, name, len);
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -lo - 1;
}

sgroup *stream_group_find(stream *s, const char *name, size_t len) {
    long i = group_pos(s, name, len);
    return i >= 0 ? s->groups[i] : NULL;
}

sgroup *stream_group_create(stream *s, const char *name, size_t len, const sid *last, long long entries_read) {
    long i = group_pos(s, name, len);
    if (i >= 0) return NULL;
    i = -i - 1;
    sgroup *g = s_calloc(sizeof(*g) + len + 1);
    memcpy(g->name, name, len);
    g->nlen = len;
    g->last_id = *last;
    g->entries_read = entries_read;
    sidx_init(&g->pel, sizeof(spel));
    if (s->ngroups == s->capgroups) {
        s->capgroups = s->capgroups ? s->capgroups * 2 : 2;
        s->groups = s_realloc(s->groups, sizeof(*s->groups) * s->capgroups);
    }
    memmove(s->groups + i + 1, s->groups + i, sizeof(*s->groups) * (s->ngroups - (size_t)i));
    s->groups[i] = g;
    s->ngroups++;
    return g;
}

void stream_group_destroy(stream *s, sgroup *g) {
    long i = group_pos(s, g->name, g->nlen);
    memmove(s->groups + i, s->groups + i + 1, sizeof(*s->groups) * (s->ngroups - (size_t)i - 1));
    s->ngroups--;
    if (!s->ngroups) {
        s_free(s->groups);
        s->groups = NULL;
        s->capgroups = 0;
    }
    group_free(g);
}

sconsumer *stream_consumer_find(sgroup *g, const char *name, size_t len) {
    long i = consumer_pos(g, name, len);
    return i >= 0 ? g->cons[i] : NULL;
}

sconsumer *stream_consumer_create(sgroup *g, const char *name, size_t len, long long now) {
    long i = consumer_pos(g, name, len);
    if (i >= 0) return NULL;
    i = -i - 1;
    sconsumer *c = s_calloc(sizeof(*c) + len + 1);
    memcpy(c->name, name, len);
    c->nlen = len;
    c->seen_time = now;
    sidx_init(&c->pel, sizeof(sid));
    if (g->ncons == g->capcons) {
        g->capcons = g->capcons ? g->capcons * 2 : 2;
        g->cons = s_realloc(g->cons, sizeof(*g->cons) * g->capcons);
    }
    memmove(g->cons + i + 1, g->cons + i, sizeof(*g->cons) * (g->ncons - (size_t)i));
    g->cons[i] = c;
    g->ncons++;
    return c;
}

uint64_t stream_consumer_delete(sgroup *g, sconsumer *c) {
    uint64_t pending = c->pel.count;
    sidx_cur cur;
    for (int ok = sidx_first(&c->pel, &cur); ok; ok = sidx_next(&c->pel, &cur)) {
        sid id = *(sid *)sidx_at(&c->pel, &cur);
        sidx_delete(&g->pel, &id);
    }
    long i = consumer_pos(g, c->name, c->nlen);
    memmove(g->cons + i, g->cons + i + 1, sizeof(*g->cons) * (g->ncons - (size_t)i - 1));
    g->ncons--;
    if (!g->ncons) {
        s_free(g->cons);
        g->cons = NULL;
        g->capcons = 0;
    }
    consumer_free(c);
    return pending;
}

spel *stream_pel_find(sgroup *g, const sid *id) { return sidx_find(&g->pel, id); }

spel *stream_pel_add(sgroup *g, const sid *id, int *existed) { return sidx_insert(&g->pel, id, existed); }

void stream_pel_assign(sgroup *g, spel *p, sconsumer *c) {
    (void)g;
    if (p->owner == c) return;
    if (p->owner) sidx_delete(&p->owner->pel, &p->id);
    p->owner = c;
    if (c) sidx_insert(&c->pel, &p->id, NULL);
}

void stream_pel_remove(sgroup *g, const sid *id) {
    spel *p = sidx_find(&g->pel, id);
    if (!p) return;
    if (p->owner) sidx_delete(&p->owner->pel, id);
    sidx_delete(&g->pel, id);
}

/* ---- the value as the keyspace sees it ---- */

static void add_lp_bytes(void *rec, void *ud) { *(size_t *)ud += node_mem_size(((snode *)rec)->lp); }

size_t stream_bytes(const stream *s) {
    size_t n = s_usable((void *)s) + sidx_bytes(&s->nodes);
    sidx_each(&s->nodes, add_lp_bytes, &n);
    if (s->groups) n += s_usable(s->groups);
    for (uint32_t i = 0; i < s->ngroups; i++) {
        sgroup *g = s->groups[i];
        n += s_usable(g) + sidx_bytes(&g->pel) + (g->cons ? s_usable(g->cons) : 0);
        for (uint32_t j = 0; j < g->ncons; j++) n += s_usable(g->cons[j]) + sidx_bytes(&g->cons[j]->pel);
    }
    return n;
}

static void dup_node(void *rec, void *ud) {
    snode *src = rec;
    snode *d = sidx_insert(ud, &src->master, NULL);
    d->lp = node_mem_dup(src->lp);
}

stream *stream_dup(const stream *s) {
    stream *d = stream_new();
    sidx_each(&s->nodes, dup_node, &d->nodes);
    d->length = s->length;
    d->entries_added = s->entries_added;
    d->last_id = s->last_id;
    d->first_id = s->first_id;
    d->max_deleted_id = s->max_deleted_id;
    for (uint32_t i = 0; i < s->ngroups; i++) {
        sgroup *g = s->groups[i];
        sgroup *ng = stream_group_create(d, g->name, g->nlen, &g->last_id, g->entries_read);
        for (uint32_t j = 0; j < g->ncons; j++) stream_consumer_create(ng, g->cons[j]->name, g->cons[j]->nlen, g->cons[j]->seen_time);
        sidx_cur cur;
        for (int ok = sidx_first(&g->pel, &cur); ok; ok = sidx_next(&g->pel, &cur)) {
            spel *p = sidx_at(&g->pel, &cur);
            spel *q = stream_pel_add(ng, &p->id, NULL);
            q->delivery_time = p->delivery_time;
            q->delivery_count = p->delivery_count;
            if (p->owner) stream_pel_assign(ng, q, stream_consumer_find(ng, p->owner->name, p->owner->nlen));
        }
    }
    return d;
}

static void obj_stream_free(void *ptr) { stream_free(ptr); }
static size_t obj_stream_bytes(const void *ptr) { return stream_bytes(ptr); }

static size_t obj_stream_effort(const void *ptr) {
    const stream *s = ptr;
    size_t n = s->nodes.count;
    for (uint32_t i = 0; i < s->ngroups; i++) n += s->groups[i]->pel.nc + s->groups[i]->ncons;
    return n;
}

/* Frees a slice of nodes (arena listpacks: loop thread only), then the rest at once.  The budget counts
 * small elements (~5000 per 0.2 ms); a node is a listpack of up to ~4 KiB, so it costs 64 of them. */
static int obj_stream_free_step(void *ptr, long budget) {
    stream *s = ptr;
    sidx_cur cur;
    long nodes = budget / 64 > 0 ? budget / 64 : 1;
    while (nodes-- > 0 && sidx_last(&s->nodes, &cur)) {
        snode *n = node_at(s, &cur);
        sid key = n->master;
        node_mem_free(n->lp);
        sidx_delete(&s->nodes, &key);
    }
    if (s->nodes.count) return 0;
    stream_free(s);
    return 1;
}

static const char *obj_stream_encoding(const void *ptr) {
    (void)ptr;
    return "stream";
}

static void *obj_stream_dup(const void *ptr) { return stream_dup(ptr); }

/* Active defragmentation: the stream's header, then its node index chunk by chunk with each node's
 * listpack (or compressed blob; in the arena or on the heap).  Consumer groups stay: pending entries
 * point at their consumers. */
static void defrag_node(void *rec, void *ud) {
    (void)ud;
    snode *n = rec;
    unsigned char *lp = defrag_alloc(n->lp);
    if (lp) n->lp = lp;
}

static void *obj_stream_defrag(void *ptr, uint64_t cur[2], long budget) {
    stream *s = ptr;
    if (cur[0] == 0) {
        stream *n = defrag_alloc(s);
        if (n) s = n;
    }
    cur[0] = sidx_defrag(&s->nodes, (uint32_t)cur[0], budget / 4 + 1, defrag_node, NULL, defrag_alloc); /* KiB nodes */
    cur[1] = 0;
    return s;
}

const obj_ops stream_ops = {
    .free = obj_stream_free,
    .bytes = obj_stream_bytes,
    .free_effort = obj_stream_effort,
    .free_step = obj_stream_free_step,
    .encoding = obj_stream_encoding,
    .dup = obj_stream_dup,
    .defrag = obj_stream_defrag,
};

/* ---- loading ---- */

const char *stream_load_node(stream *s, const sid *master, unsigned char *lp) {
    if (!lp_first(lp)) return "Empty listpack inside stream";
    int existed;
    snode *n = sidx_insert(&s->nodes, master, &existed);
    if (existed) return "Listpack re-added with existing key";
    n->lp = lp;
    return NULL;
}

const char *stream_load_finish(stream *s) {
    const char *why = stream_check(s);
    if (why) return why;
    /* first_id as the commands keep it (the first live entry, 0-0 when empty) whatever the payload said */
    if (!s->length || !stream_first_valid(s, &s->first_id)) s->first_id = (sid){0, 0};
    /* as after appends: the tail raw, the one before it raw in the arena, older ones compressed */
    sidx_cur cur;
    if (!sidx_last(&s->nodes, &cur)) return NULL;
    for (int d = 0; sidx_prev(&s->nodes, &cur); d++) {
        snode *n = node_at(s, &cur);
        if (d < NODE_RAW_DEPTH) n->lp = lp_move(n->lp, 1);
        else node_compress(n);
    }
    return NULL;
}

/* ---- structure check ---- */

/* One node: its listpack (decompressed if sealed) passes lp_check; the master entry is count, deleted,
 * num-fields, the fields and a 0; then exactly count + deleted entries, each flags, ID deltas (from the
 * master ID, not below it), its fields and values and an lp-count equal to the entry's element count;
 * IDs strictly increasing, below `limit` (the next node's master ID, if any), live ones counted in
 * count.  The last entry ID goes to *last. */
static const char *check_node(const snode *n, const sid *limit, uint64_t *live, sid *last, sid *first_live,
                              int *have_first) {
    unsigned char *buf = NULL;
    size_t cap = 0;
    const char *why = NULL;
    if (is_blob(n->lp)) {
        size_t raw = rd32u(n->lp + 4);
        buf = s_malloc(raw ? raw : 1);
        if (!slz_decompress(n->lp + BLOB_HDR, rd32u(n->lp + 8), buf, raw)) {
            s_free(buf);
            return "stream: a compressed node does not decompress";
        }
        cap = raw;
        if (lp_bytes(buf) != raw) why = "stream: a compressed node's listpack size differs from its header";
    }
    unsigned char *lp = buf ? buf : n->lp;
    (void)cap;
    if (!why) why = lp_check(lp);
#define NEXT(q)                                                                                                  \
    do {                                                                                                         \
        if (!(q = lp_next(lp, q))) {                                                                             \
            why = "stream: a node's listpack ends inside an entry";                                            \
            goto out;                                                                                            \
        }                                                                                                        \
    } while (0)
    if (why) goto out;
    unsigned char *p = lp_first(lp);
    if (!p) {
        why = "stream: empty node listpack";
        goto out;
    }
    int64_t count = lp_int(p), deleted, mcount;
    NEXT(p);
    deleted = lp_int(p);
    NEXT(p);
    mcount = lp_int(p);
    if (count <= 0 || deleted < 0 || mcount < 0) {
        why = "stream: a node's master entry has a bad count";
        goto out;
    }
    for (int64_t i = 0; i < mcount; i++) NEXT(p);
    NEXT(p);
    if (lp_int(p) != 0) {
        why = "stream: a node's master entry does not end with 0";
        goto out;
    }
    int64_t seen_live = 0, seen = 0;
    sid prev = {0, 0};
    for (unsigned char *q = lp_next(lp, p); q; q = lp_next(lp, q)) {
        int64_t flags = lp_int(q), elems = 3;
        sid id;
        NEXT(q);
        id.ms = n->master.ms + (uint64_t)lp_int(q);
        if (id.ms < n->master.ms) {
            why = "stream: an entry's ID is below its node's master ID";
            goto out;
        }
        NEXT(q);
        id.seq = n->master.seq + (uint64_t)lp_int(q);
        if (id.ms == n->master.ms && id.seq < n->master.seq) {
            why = "stream: an entry's ID is below its node's master ID";
            goto out;
        }
        int64_t skip;
        if (flags & FLAG_SAMEFIELDS) {
            skip = mcount;
        } else {
            NEXT(q);
            skip = lp_int(q) * 2;
            elems++;
        }
        for (int64_t i = 0; i < skip; i++) NEXT(q);
        elems += skip;
        NEXT(q);
        if (lp_int(q) != elems) {
            why = "stream: an entry's lp-count differs from its elements";
            goto out;
        }
        if (seen && sid_cmp(&prev, &id) >= 0) {
            why = "stream: entry IDs not increasing within a node";
            goto out;
        }
        if (limit && sid_cmp(&id, limit) >= 0) {
            why = "stream: an entry's ID reaches the next node's master ID";
            goto out;
        }
        prev = id;
        seen++;
        if (!(flags & FLAG_DELETED)) {
            seen_live++;
            if (!*have_first) {
                *first_live = id;
                *have_first = 1;
            }
        }
    }
    if (seen != count + deleted) why = "stream: a node's count + deleted differs from its entries";
    else if (seen_live != count) why = "stream: a node's count differs from its live entries";
    *live += (uint64_t)seen_live;
    *last = prev;
out:
#undef NEXT
    s_free(buf);
    return why;
}

/* The header's invariants: the node index passes sidx_check and each node check_node; length is the
 * sum of node counts; last_id >= every entry ID; groups sorted by name and unique, each group's
 * consumers too; every record of a group's PEL is owned by a consumer of that group whose own PEL
 * holds the ID, and every ID in a consumer's PEL is in the group's PEL owned by that consumer.
 * (first_id is kept by the commands, not here: DEBUG CHECK-KEY checks it.)  NULL if all hold. */
const char *stream_check(const stream *s) {
    if (!s) return "stream: NULL";
    const char *why = sidx_check(&s->nodes);
    if (why) return why;
    uint64_t live = 0;
    sid first = {0, 0}, last = {0, 0};
    int have_first = 0; /* first_id is the commands' business (XDEL updates it after stream_delete) */
    sidx_cur cur;
    for (int ok = sidx_first(&s->nodes, &cur); ok;) {
        const snode *n = node_at(s, &cur);
        sidx_cur nx = cur;
        int more = sidx_next(&s->nodes, &nx);
        const sid *limit = more ? &node_at(s, &nx)->master : NULL;
        if ((why = check_node(n, limit, &live, &last, &first, &have_first))) return why;
        if (sid_cmp(&last, &s->last_id) > 0) return "stream: an entry ID is above last_id";
        cur = nx;
        ok = more;
    }
    if (live != s->length) return "stream: length differs from the sum of node counts";
    for (uint32_t i = 0; i < s->ngroups; i++) {
        const sgroup *g = s->groups[i];
        if (i && name_cmp(s->groups[i - 1]->name, s->groups[i - 1]->nlen, g->name, g->nlen) >= 0)
            return "stream: groups not sorted by name";
        if ((why = sidx_check(&g->pel))) return why;
        uint64_t owned = 0;
        for (uint32_t j = 0; j < g->ncons; j++) {
            const sconsumer *c = g->cons[j];
            if (j && name_cmp(g->cons[j - 1]->name, g->cons[j - 1]->nlen, c->name, c->nlen) >= 0)
                return "stream: consumers not sorted by name";
            if ((why = sidx_check(&c->pel))) return why;
            sidx_cur pc;
            for (int ok = sidx_first(&c->pel, &pc); ok; ok = sidx_next(&c->pel, &pc)) {
                const sid *id = sidx_at(&c->pel, &pc);
                const spel *pe = sidx_find(&g->pel, id);
                if (!pe) return "stream: a consumer's pending ID is not in its group's PEL";
                if (pe->owner != c) return "stream: a consumer's pending ID is owned by another consumer";
            }
            owned += c->pel.count;
        }
        sidx_cur gc;
        for (int ok = sidx_first(&g->pel, &gc); ok; ok = sidx_next(&g->pel, &gc)) {
            const spel *pe = sidx_at(&g->pel, &gc);
            if (!pe->owner) return "stream: a group PEL entry has no owner";
            long ci = consumer_pos(g, pe->owner->name, pe->owner->nlen);
            if (ci < 0 || g->cons[ci] != pe->owner) return "stream: a group PEL entry's owner is not in the group";
            if (!sidx_find(&pe->owner->pel, &pe->id)) return "stream: a group PEL entry is missing from its owner's PEL";
        }
        if (owned != g->pel.count) return "stream: the consumers' PELs and the group's PEL differ in size";
    }
    return NULL;
}
