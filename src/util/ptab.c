/* ptab: see ptab.h. */
#include "util/ptab.h"
#include "util/debug.h"
#include "util/mem.h"
#include <string.h>

/* An old block's slot whose element left it (moved or deleted): occupied for probing, holds nothing. */
static const char gone_mark;
#define GONE ((void *)&gone_mark)

static size_t block_size(uint32_t cap, int aux) {
    return sizeof(ptab) + (size_t)cap * sizeof(void *) + (aux ? (size_t)cap * sizeof(uint32_t) : 0);
}

static inline uint32_t *aux_of(ptab *t) { return (uint32_t *)(t->slot + t->cap); }

uint64_t ptab_hash_ptr(const void *p) {
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static int same(const ptab_type *ty, const void *elem, const void *key, size_t klen) {
    return ty->eq ? ty->eq(elem, key, klen) : elem == key;
}

long ptab_find(const ptab *t, const ptab_type *ty, const void *key, size_t klen, uint64_t h) {
    if (!t) return -1;
    if (t->cap <= PTAB_SMALL) {
        DBG_ASSERT(!t->rz);
        for (uint32_t i = 0; i < t->count; i++)
            if (same(ty, t->slot[i], key, klen)) return i;
        return -1;
    }
    uint32_t mask = t->cap - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        if (!t->slot[i]) break;
        if (same(ty, t->slot[i], key, klen)) return i;
    }
    const ptab *o = t->rz ? t->rz->old : NULL;
    if (!o) return -1;
    mask = o->cap - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        if (!o->slot[i]) return -1;
        if (o->slot[i] != GONE && same(ty, o->slot[i], key, klen)) return (long)t->cap + i;
    }
}

/* Places elem in a hashed block known to have room; returns its slot. */
static uint32_t place(ptab *t, void *elem, uint64_t h, uint32_t aux) {
    uint32_t mask = t->cap - 1, i = (uint32_t)h & mask;
    while (t->slot[i]) i = (i + 1) & mask;
    t->slot[i] = elem;
    if (t->has_aux) aux_of(t)[i] = aux;
    t->count++;
    return i;
}

/* An empty block of cap slots, its pages left to fault in as they are written (or prepared). */
static ptab *block_new(uint32_t cap, uint32_t has_aux) {
    ptab *n = s_calloc(block_size(cap, (int)has_aux));
    n->cap = cap;
    n->has_aux = has_aux;
    return n;
}

static void rz_end(ptab *t) {
    DBG_ASSERT(t->rz && !t->rz->old && !t->rz->next);
    s_free(t->rz);
    t->rz = NULL;
}

/* An element left the old block: a tombstone keeps its probe runs whole.  When it was the last, the old
 * block is freed and the resize ends (t->rz is gone): returns 1. */
static int old_slot_gone(ptab *t, uint32_t j) {
    ptab *o = t->rz->old;
    o->slot[j] = GONE;
    if (--o->count) return 0;
    s_free(o);
    t->rz->old = NULL;
    rz_end(t);
    return 1;
}

/* Migrating: moves up to `budget` elements of old into t, looking at no more than 16 slots per element
 * allowed (an old block being shrunk is mostly empty); frees old once it is empty. */
static void move_some(ptab *t, const ptab_type *ty, uint32_t budget) {
    ptab_resize *rz = t->rz;
    ptab *o = rz->old;
    DBG_ASSERT(o && t->cap > PTAB_SMALL);
    uint32_t *oa = o->has_aux ? aux_of(o) : NULL;
    uint64_t visits = (uint64_t)budget * 16;
    /* elements holding their keys (ty->eq) are read to be hashed: fetched a few slots ahead */
    uint32_t ahead = ty->eq ? 8 : 0;
    while (budget && visits-- && rz->moved < o->cap) {
        uint32_t j = rz->moved++;
        if (ahead && j + ahead < o->cap) {
            void *f = o->slot[j + ahead];
            if (f && f != GONE) __builtin_prefetch(f);
        }
        void *e = o->slot[j];
        if (!e || e == GONE) continue;
        place(t, e, ty->hash(e), oa ? oa[j] : 0);
        budget--;
        if (old_slot_gone(t, j)) return;
    }
}

/* Preparing: faults in `bytes` more of the next block (all of it when bytes is SIZE_MAX). */
static void prepare_some(ptab *t, size_t bytes) {
    ptab_resize *rz = t->rz;
    size_t total = block_size(rz->next->cap, (int)rz->next->has_aux);
    if (bytes > total - rz->ready) bytes = total - rz->ready;
    if (bytes) s_map_populate((char *)rz->next + rz->ready, bytes);
    rz->ready += bytes;
}

/* Preparing: the share of the next block to fault in at this add or delete, so that it is ready by the
 * time the table is 4/5 full (adds left until then; deletes only add time). */
static void prepare_step(ptab *t) {
    ptab_resize *rz = t->rz;
    size_t total = block_size(rz->next->cap, (int)rz->next->has_aux), left = total - rz->ready;
    uint64_t full = (uint64_t)t->cap * 4 / 5, n = t->count;
    uint64_t adds = full > n ? full - n : 1;
    size_t share = (size_t)((left + adds - 1) / adds);
    if (share < 4096 && left) share = 4096 < left ? 4096 : left; /* a page at a time at least */
    prepare_some(t, share);
}

/* A new block of cap slots holding t's elements, built at once (small tables). */
static ptab *rebuild(ptab *t, const ptab_type *ty, uint32_t cap) {
    DBG_ASSERT(!t->rz);
    ptab *n = block_new(cap, t->has_aux);
    uint32_t *oa = t->has_aux ? aux_of(t) : NULL;
    for (uint32_t i = 0; i < t->cap; i++) {
        if (!t->slot[i]) continue;
        if (cap <= PTAB_SMALL) {
            n->slot[n->count] = t->slot[i];
            if (oa) aux_of(n)[n->count] = oa[i];
            n->count++;
        } else {
            place(n, t->slot[i], ty->hash(t->slot[i]), oa ? oa[i] : 0);
        }
    }
    s_free(t);
    return n;
}

/* t resized to cap slots: at once when small, else into n (the prepared block, or a new one) which takes
 * t's elements over as it goes. */
static ptab *resize(ptab *t, const ptab_type *ty, uint32_t cap, ptab *n) {
    DBG_ASSERT(!t->rz);
    if (!n && (t->cap <= PTAB_STEP_MIN || cap <= PTAB_SMALL)) return rebuild(t, ty, cap);
    if (!n) n = block_new(cap, t->has_aux);
    n->rz = s_calloc(sizeof(ptab_resize));
    n->rz->old = t;
    move_some(n, ty, PTAB_STEP);
    return n;
}

/* One add's or delete's share of a resize under way. */
static void advance(ptab *t, const ptab_type *ty) {
    if (!t->rz) return;
    if (t->rz->old) move_some(t, ty, PTAB_STEP);
    else prepare_step(t);
}

long ptab_add(ptab **tp, const ptab_type *ty, void *elem, uint64_t h, int aux) {
    ptab *t = *tp;
    if (!t) {
        t = block_new(1, aux ? 1 : 0);
    } else if (t->cap <= PTAB_SMALL) {
        if (t->count == t->cap) t = rebuild(t, ty, t->cap * 2);
    } else {
        advance(t, ty);
        uint64_t total = ptab_count(t) + 1;
        if (total * 5 > (uint64_t)t->cap * 4) {
            ptab *n = NULL;
            if (t->rz && t->rz->old) move_some(t, ty, UINT32_MAX); /* not expected: a migration ends long before */
            if (t->rz) { /* preparing: whatever is not faulted in yet, now; then it takes over */
                prepare_some(t, SIZE_MAX);
                n = t->rz->next;
                t->rz->next = NULL;
                rz_end(t);
            }
            t = resize(t, ty, t->cap * 2, n);
        } else if (!t->rz && t->cap > PTAB_STEP_MIN && total * 50 > (uint64_t)t->cap * 39) {
            t->rz = s_calloc(sizeof(ptab_resize));
            t->rz->next = block_new(t->cap * 2, t->has_aux);
        }
    }
    *tp = t;
    if (t->cap <= PTAB_SMALL) {
        t->slot[t->count] = elem;
        return t->count++;
    }
    return place(t, elem, h, 0);
}

void ptab_del(ptab **tp, const ptab_type *ty, long slot) {
    ptab *t = *tp;
    if (ptab_count(t) == 1) {
        ptab_free(t);
        *tp = NULL;
        return;
    }
    if ((uint64_t)slot >= t->cap) { /* in the old block */
        uint32_t j = (uint32_t)(slot - t->cap);
        DBG_ASSERT(j < t->rz->old->cap && t->rz->old->slot[j] && t->rz->old->slot[j] != GONE);
        old_slot_gone(t, j);
    } else if (t->cap <= PTAB_SMALL) {
        /* the last element fills the hole */
        uint32_t *aux = t->has_aux ? aux_of(t) : NULL;
        uint32_t i = (uint32_t)slot;
        t->count--;
        t->slot[i] = t->slot[t->count];
        if (aux) aux[i] = aux[t->count];
        t->slot[t->count] = NULL;
        if (t->cap > 1 && t->count * 4 <= t->cap) *tp = rebuild(t, ty, t->cap / 2);
        return;
    } else {
        /* backward shift: pull later elements of the run into the hole when their home allows */
        uint32_t *aux = t->has_aux ? aux_of(t) : NULL;
        uint32_t i = (uint32_t)slot, mask = t->cap - 1;
        t->count--;
        for (uint32_t j = (i + 1) & mask; t->slot[j]; j = (j + 1) & mask) {
            uint32_t home = (uint32_t)ty->hash(t->slot[j]) & mask;
            /* j's element may move to i unless its home lies cyclically in (i, j] */
            int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
            if (stays) continue;
            t->slot[i] = t->slot[j];
            if (aux) aux[i] = aux[j];
            i = j;
        }
        t->slot[i] = NULL;
    }
    if (t->rz && t->rz->next && (uint64_t)t->count * 4 < (uint64_t)t->cap * 3) { /* no longer growing */
        s_free(t->rz->next);
        t->rz->next = NULL;
        rz_end(t);
    }
    if (t->rz) {
        advance(t, ty);
        return; /* no shrink while a resize is under way */
    }
    if ((uint64_t)t->count * 8 < t->cap) {
        uint32_t cap = PTAB_SMALL;
        if (t->count > PTAB_SMALL)
            while ((uint64_t)t->count * 2 > cap) cap *= 2; /* at most half full after */
        *tp = resize(t, ty, cap, NULL);
    }
}

void **ptab_slot(ptab *t, long slot) {
    if ((uint64_t)slot < t->cap) return &t->slot[slot];
    DBG_ASSERT(t->rz && t->rz->old && (uint64_t)slot - t->cap < t->rz->old->cap);
    return &t->rz->old->slot[slot - t->cap];
}

uint32_t *ptab_aux_at(ptab *t, long slot) {
    DBG_ASSERT(t->has_aux);
    if ((uint64_t)slot < t->cap) return &aux_of(t)[slot];
    return &aux_of(t->rz->old)[slot - t->cap];
}

long ptab_next(const ptab *t, long slot) {
    if (!t) return -1;
    const ptab *o = t->rz ? t->rz->old : NULL;
    uint64_t end = (uint64_t)t->cap + (o ? o->cap : 0);
    for (uint64_t i = (uint64_t)(slot + 1); i < end; i++) {
        const void *e = i < t->cap ? t->slot[i] : o->slot[i - t->cap];
        if (e && e != GONE) return (long)i;
    }
    return -1;
}

int ptab_step(ptab *t, const ptab_type *ty, uint32_t budget) {
    if (!t || !t->rz) return 0;
    if (t->rz->old) move_some(t, ty, budget);
    else prepare_some(t, (size_t)budget * 64); /* an element's move is worth ~64 bytes of faulting in */
    return t->rz != NULL && t->rz->old != NULL;
}

void ptab_free(ptab *t) {
    if (!t) return;
    if (t->rz) {
        s_free(t->rz->old);
        s_free(t->rz->next);
        s_free(t->rz);
    }
    s_free(t);
}
