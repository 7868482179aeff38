/* ptab: see ptab.h. */
#include "util/ptab.h"
#include "util/mem.h"
#include <string.h>

static size_t block_size(uint32_t cap, int aux) {
    return sizeof(ptab) + (size_t)cap * sizeof(void *) + (aux ? (size_t)cap * sizeof(uint32_t) : 0);
}

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
        for (uint32_t i = 0; i < t->count; i++)
            if (same(ty, t->slot[i], key, klen)) return i;
        return -1;
    }
    uint32_t mask = t->cap - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        if (!t->slot[i]) return -1;
        if (same(ty, t->slot[i], key, klen)) return i;
    }
}

/* Places elem in a hashed table known to have room; returns its slot. */
static uint32_t place(ptab *t, void *elem, uint64_t h, uint32_t aux) {
    uint32_t mask = t->cap - 1, i = (uint32_t)h & mask;
    while (t->slot[i]) i = (i + 1) & mask;
    t->slot[i] = elem;
    if (t->has_aux) ptab_aux(t)[i] = aux;
    t->count++;
    return i;
}

/* A new block of cap slots holding t's elements. */
static ptab *rebuild(ptab *t, const ptab_type *ty, uint32_t cap) {
    size_t bytes = block_size(cap, (int)t->has_aux);
    /* a big block's pages faulted in with one call (s_aligned), not a trap per page as slots fill */
    ptab *n = bytes >= ((size_t)1 << 20) ? s_aligned(64, bytes) : s_calloc(bytes);
    n->cap = cap;
    n->has_aux = t->has_aux;
    uint32_t *oa = t->has_aux ? ptab_aux(t) : NULL;
    if (cap <= PTAB_SMALL) {
        for (uint32_t i = 0; i < t->cap; i++)
            if (t->slot[i]) {
                n->slot[n->count] = t->slot[i];
                if (oa) ptab_aux(n)[n->count] = oa[i];
                n->count++;
            }
    } else {
        /* elements holding their keys (ty->eq) are read to be hashed: fetched a few slots ahead */
        uint32_t ahead = ty->eq ? 8 : 0;
        for (uint32_t i = 0; i < t->cap; i++) {
            if (ahead && i + ahead < t->cap && t->slot[i + ahead]) __builtin_prefetch(t->slot[i + ahead]);
            if (t->slot[i]) place(n, t->slot[i], ty->hash(t->slot[i]), oa ? oa[i] : 0);
        }
    }
    s_free(t);
    return n;
}

long ptab_add(ptab **tp, const ptab_type *ty, void *elem, uint64_t h, int aux) {
    ptab *t = *tp;
    if (!t) {
        t = s_calloc(block_size(1, aux));
        t->cap = 1;
        t->has_aux = aux ? 1 : 0;
    } else if (t->cap <= PTAB_SMALL ? t->count == t->cap
                                    : (uint64_t)(t->count + 1) * 5 > (uint64_t)t->cap * 4) {
        t = rebuild(t, ty, t->cap * 2);
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
    uint32_t *aux = t->has_aux ? ptab_aux(t) : NULL;
    uint32_t i = (uint32_t)slot;
    if (t->count == 1) {
        s_free(t);
        *tp = NULL;
        return;
    }
    t->count--;
    if (t->cap <= PTAB_SMALL) {
        /* the last element fills the hole */
        t->slot[i] = t->slot[t->count];
        if (aux) aux[i] = aux[t->count];
        t->slot[t->count] = NULL;
        if (t->cap > 1 && t->count * 4 <= t->cap) *tp = rebuild(t, ty, t->cap / 2);
        return;
    }
    /* backward shift: pull later elements of the run into the hole when their home allows */
    uint32_t mask = t->cap - 1;
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
    if (t->count * 8 < t->cap) {
        uint32_t cap = PTAB_SMALL;
        if (t->count > PTAB_SMALL)
            while ((uint64_t)t->count * 2 > cap) cap *= 2; /* at most half full after */
        *tp = rebuild(t, ty, cap);
    }
}
