/* sidx: see sidx.h. */
#include "types/sidx.h"
#include "util/mem.h"
#include <string.h>

#define CHUNK_BYTES 4096
#define MIN_RECS 4

struct sidx_chunk {
    uint32_t n, cap;
    unsigned char rec[]; /* cap records of recsize bytes */
};

static inline unsigned char *recp(const sidx *t, const sidx_chunk *ch, uint32_t i) {
    return (unsigned char *)ch->rec + (size_t)i * t->recsize;
}
static inline sid key_at(const sidx *t, const sidx_chunk *ch, uint32_t i) {
    sid k;
    memcpy(&k, recp(t, ch, i), sizeof(k));
    return k;
}

void sidx_init(sidx *t, size_t recsize) {
    memset(t, 0, sizeof(*t));
    t->recsize = (uint32_t)recsize;
    uint32_t m = (uint32_t)((CHUNK_BYTES - sizeof(sidx_chunk)) / recsize);
    t->maxrecs = m < MIN_RECS * 2 ? MIN_RECS * 2 : m;
}

void sidx_clear(sidx *t) {
    for (uint32_t i = 0; i < t->nc; i++) s_free(t->c[i]);
    s_free(t->c);
    t->c = NULL;
    t->nc = t->capc = 0;
    t->count = 0;
}

size_t sidx_bytes(const sidx *t) {
    size_t n = t->c ? s_usable(t->c) : 0;
    for (uint32_t i = 0; i < t->nc; i++) n += s_usable(t->c[i]);
    return n;
}

static sidx_chunk *chunk_new(const sidx *t, uint32_t cap) {
    sidx_chunk *ch = s_malloc(sizeof(sidx_chunk) + (size_t)cap * t->recsize);
    ch->n = 0;
    ch->cap = cap;
    return ch;
}

static sidx_chunk *chunk_resize(const sidx *t, sidx_chunk *ch, uint32_t cap) {
    ch = s_realloc(ch, sizeof(sidx_chunk) + (size_t)cap * t->recsize);
    ch->cap = cap;
    return ch;
}

static void chunks_insert(sidx *t, uint32_t at, sidx_chunk *ch) {
    if (t->nc == t->capc) {
        t->capc = t->capc ? t->capc * 2 : 4;
        t->c = s_realloc(t->c, sizeof(*t->c) * t->capc);
    }
    memmove(t->c + at + 1, t->c + at, sizeof(*t->c) * (t->nc - at));
    t->c[at] = ch;
    t->nc++;
}

static void chunks_remove(sidx *t, uint32_t at) {
    memmove(t->c + at, t->c + at + 1, sizeof(*t->c) * (t->nc - at - 1));
    t->nc--;
    if (t->nc == 0) {
        s_free(t->c);
        t->c = NULL;
        t->capc = 0;
    } else if (t->capc > 16 && t->nc < t->capc / 4) {
        t->capc /= 2;
        t->c = s_realloc(t->c, sizeof(*t->c) * t->capc);
    }
}

/* The last chunk whose first key is <= key (0 when key precedes everything). */
static uint32_t chunk_for(const sidx *t, const sid *key) {
    uint32_t lo = 0, hi = t->nc; /* answer in [lo, hi) */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        sid k = key_at(t, t->c[mid], 0);
        if (sid_cmp(&k, key) <= 0) lo = mid;
        else hi = mid;
    }
    return lo;
}

/* First index in the chunk whose key is >= key (n when none); *eq set when equal. */
static uint32_t pos_in(const sidx *t, const sidx_chunk *ch, const sid *key, int *eq) {
    uint32_t lo = 0, hi = ch->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        sid k = key_at(t, ch, mid);
        if (sid_cmp(&k, key) < 0) lo = mid + 1;
        else hi = mid;
    }
    if (eq) {
        *eq = 0;
        if (lo < ch->n) {
            sid k = key_at(t, ch, lo);
            *eq = sid_cmp(&k, key) == 0;
        }
    }
    return lo;
}

void *sidx_find(const sidx *t, const sid *key) {
    if (!t->nc) return NULL;
    sidx_chunk *ch = t->c[chunk_for(t, key)];
    int eq;
    uint32_t p = pos_in(t, ch, key, &eq);
    return eq ? recp(t, ch, p) : NULL;
}

void *sidx_insert(sidx *t, const sid *key, int *existed) {
    if (existed) *existed = 0;
    if (!t->nc) chunks_insert(t, 0, chunk_new(t, MIN_RECS));
    uint32_t ci = chunk_for(t, key);
    sidx_chunk *ch = t->c[ci];
    int eq;
    uint32_t p = pos_in(t, ch, key, &eq);
    if (eq) {
        if (existed) *existed = 1;
        return recp(t, ch, p);
    }
    if (ch->n == ch->cap && ch->cap < t->maxrecs) {
        uint32_t cap = ch->cap * 2 > t->maxrecs ? t->maxrecs : ch->cap * 2;
        ch = t->c[ci] = chunk_resize(t, ch, cap);
    }
    if (ch->n == ch->cap) { /* full at the maximum size */
        if (p == ch->n && ci == t->nc - 1) { /* an append: open a new chunk */
            sidx_chunk *nw = chunk_new(t, MIN_RECS);
            chunks_insert(t, ci + 1, nw);
            ch = nw;
            ci++;
            p = 0;
        } else { /* split in half */
            uint32_t half = ch->n / 2, moved = ch->n - half;
            sidx_chunk *nw = chunk_new(t, t->maxrecs);
            memcpy(nw->rec, recp(t, ch, half), (size_t)moved * t->recsize);
            nw->n = moved;
            ch->n = half;
            chunks_insert(t, ci + 1, nw);
            if (p > half) {
                ch = nw;
                ci++;
                p -= half;
            }
        }
    }
    unsigned char *r = recp(t, ch, p);
    memmove(r + t->recsize, r, (size_t)(ch->n - p) * t->recsize);
    memset(r, 0, t->recsize);
    memcpy(r, key, sizeof(*key));
    ch->n++;
    t->count++;
    return r;
}

/* Merges chunk ci+1 into chunk ci. */
static void merge_next(sidx *t, uint32_t ci) {
    sidx_chunk *a = t->c[ci], *b = t->c[ci + 1];
    if (a->cap < a->n + b->n) a = t->c[ci] = chunk_resize(t, a, a->n + b->n);
    memcpy(recp(t, a, a->n), b->rec, (size_t)b->n * t->recsize);
    a->n += b->n;
    s_free(b);
    chunks_remove(t, ci + 1);
}

int sidx_delete(sidx *t, const sid *key) {
    if (!t->nc) return 0;
    uint32_t ci = chunk_for(t, key);
    sidx_chunk *ch = t->c[ci];
    int eq;
    uint32_t p = pos_in(t, ch, key, &eq);
    if (!eq) return 0;
    unsigned char *r = recp(t, ch, p);
    memmove(r, r + t->recsize, (size_t)(ch->n - p - 1) * t->recsize);
    ch->n--;
    t->count--;
    if (ch->n == 0) {
        s_free(ch);
        chunks_remove(t, ci);
        return 1;
    }
    if (ch->n < t->maxrecs / 4) {
        if (ci + 1 < t->nc && ch->n + t->c[ci + 1]->n <= t->maxrecs / 2) {
            merge_next(t, ci);
            return 1;
        }
        if (ci > 0 && ch->n + t->c[ci - 1]->n <= t->maxrecs / 2) {
            merge_next(t, ci - 1);
            return 1;
        }
    }
    if (ch->cap > MIN_RECS && ch->n <= ch->cap / 4) t->c[ci] = chunk_resize(t, ch, ch->cap / 2);
    return 1;
}

int sidx_first(const sidx *t, sidx_cur *cur) {
    cur->ci = 0;
    cur->pos = 0;
    if (!t->nc) cur->ci = UINT32_MAX;
    return t->nc != 0;
}

int sidx_last(const sidx *t, sidx_cur *cur) {
    if (!t->nc) {
        cur->ci = UINT32_MAX;
        return 0;
    }
    cur->ci = t->nc - 1;
    cur->pos = t->c[cur->ci]->n - 1;
    return 1;
}

int sidx_seek_ge(const sidx *t, const sid *key, sidx_cur *cur) {
    cur->ci = UINT32_MAX;
    if (!t->nc) return 0;
    uint32_t ci = chunk_for(t, key);
    uint32_t p = pos_in(t, t->c[ci], key, NULL);
    if (p == t->c[ci]->n) {
        if (ci + 1 >= t->nc) return 0;
        ci++;
        p = 0;
    }
    cur->ci = ci;
    cur->pos = p;
    return 1;
}

int sidx_seek_le(const sidx *t, const sid *key, sidx_cur *cur) {
    cur->ci = UINT32_MAX;
    if (!t->nc) return 0;
    uint32_t ci = chunk_for(t, key);
    int eq;
    uint32_t p = pos_in(t, t->c[ci], key, &eq);
    if (!eq) {
        if (p == 0) return 0; /* only possible in chunk 0: everything is greater */
        p--;
    }
    cur->ci = ci;
    cur->pos = p;
    return 1;
}

int sidx_next(const sidx *t, sidx_cur *cur) {
    if (cur->ci >= t->nc) return 0;
    if (++cur->pos < t->c[cur->ci]->n) return 1;
    cur->pos = 0;
    if (++cur->ci < t->nc) return 1;
    cur->ci = UINT32_MAX;
    return 0;
}

int sidx_prev(const sidx *t, sidx_cur *cur) {
    if (cur->ci >= t->nc) return 0;
    if (cur->pos > 0) {
        cur->pos--;
        return 1;
    }
    if (cur->ci == 0) {
        cur->ci = UINT32_MAX;
        return 0;
    }
    cur->ci--;
    cur->pos = t->c[cur->ci]->n - 1;
    return 1;
}

void *sidx_at(const sidx *t, const sidx_cur *cur) {
    if (cur->ci >= t->nc || cur->pos >= t->c[cur->ci]->n) return NULL;
    return recp(t, t->c[cur->ci], cur->pos);
}

void sidx_each(const sidx *t, void (*fn)(void *rec, void *ud), void *ud) {
    for (uint32_t i = 0; i < t->nc; i++)
        for (uint32_t j = 0; j < t->c[i]->n; j++) fn(recp(t, t->c[i], j), ud);
}

uint32_t sidx_defrag(sidx *t, uint32_t from, long budget, void (*fn)(void *rec, void *ud), void *ud,
                     void *(*mv)(void *)) {
    if (from == 0 && t->c) {
        sidx_chunk **c = mv(t->c);
        if (c) t->c = c;
    }
    uint32_t i = from;
    for (; i < t->nc && budget > 0; i++) {
        sidx_chunk *ch = mv(t->c[i]);
        if (ch) t->c[i] = ch;
        ch = t->c[i];
        for (uint32_t j = 0; j < ch->n; j++) fn(recp(t, ch, j), ud);
        budget -= ch->n;
    }
    return i < t->nc ? i : 0;
}

/* The header's invariants: every chunk non-empty and within its capacity and maxrecs, keys strictly
 * increasing across the whole sequence, count the number of records.  NULL if all hold. */
const char *sidx_check(const sidx *t) {
    uint64_t n = 0;
    sid prev = {0, 0};
    if (t->nc > t->capc) return "sidx: more chunks than capacity";
    for (uint32_t i = 0; i < t->nc; i++) {
        const sidx_chunk *ch = t->c[i];
        if (ch->n == 0) return "sidx: empty chunk";
        if (ch->n > ch->cap || ch->cap > t->maxrecs) return "sidx: chunk over its capacity";
        for (uint32_t j = 0; j < ch->n; j++) {
            sid k = key_at(t, ch, j);
            if (n && sid_cmp(&prev, &k) >= 0) return "sidx: keys not strictly increasing";
            prev = k;
            n++;
        }
    }
    if (n != t->count) return "sidx: count differs from the records";
    return NULL;
}
