/* dict: see dict.h. */
#include "util/dict.h"
#include "util/mem.h"
#include "util/siphash.h"
#include <strings.h>
#include <string.h>

dict *dict_new(int nocase) {
    dict *d = s_calloc(sizeof(*d));
    d->nocase = nocase;
    return d;
}

void dict_free(dict *d, void (*free_val)(void *)) {
    if (!d) return;
    for (size_t i = 0; i < d->size; i++) {
        dict_entry *e = d->tab[i];
        while (e) {
            dict_entry *n = e->next;
            if (free_val) free_val(e->val);
            s_free(e);
            e = n;
        }
    }
    s_free(d->tab);
    s_free(d);
}

static uint64_t hash_of(const dict *d, const char *k, size_t n) { return d->nocase ? siphash_nocase(k, n) : siphash(k, n); }

static int same(const dict *d, const dict_entry *e, const char *k, size_t n) {
    if (e->klen != n) return 0;
    return d->nocase ? strncasecmp(e->key, k, n) == 0 : memcmp(e->key, k, n) == 0;
}

dict_entry *dict_find(const dict *d, const char *key, size_t klen) {
    if (!d || !d->size) return NULL;
    uint64_t h = hash_of(d, key, klen);
    for (dict_entry *e = d->tab[h & (d->size - 1)]; e; e = e->next)
        if (e->hash == h && same(d, e, key, klen)) return e;
    return NULL;
}

void *dict_get(const dict *d, const char *key, size_t klen) {
    dict_entry *e = dict_find(d, key, klen);
    return e ? e->val : NULL;
}

static void grow(dict *d) {
    size_t n = d->size ? d->size * 2 : 8;
    dict_entry **t = s_calloc(n * sizeof(*t));
    for (size_t i = 0; i < d->size; i++) {
        dict_entry *e = d->tab[i];
        while (e) {
            dict_entry *nx = e->next;
            e->next = t[e->hash & (n - 1)];
            t[e->hash & (n - 1)] = e;
            e = nx;
        }
    }
    s_free(d->tab);
    d->tab = t;
    d->size = n;
}

dict_entry *dict_upsert(dict *d, const char *key, size_t klen, int *created) {
    dict_entry *e = dict_find(d, key, klen);
    if (created) *created = e == NULL;
    if (e) return e;
    if (d->count >= d->size) grow(d);
    e = s_malloc(sizeof(*e) + klen + 1);
    e->hash = hash_of(d, key, klen);
    e->klen = klen;
    memcpy(e->key, key, klen);
    e->key[klen] = 0;
    e->val = NULL;
    e->next = d->tab[e->hash & (d->size - 1)];
    d->tab[e->hash & (d->size - 1)] = e;
    d->count++;
    return e;
}

int dict_del(dict *d, const char *key, size_t klen, void **val) {
    if (!d || !d->size) return 0;
    uint64_t h = hash_of(d, key, klen);
    for (dict_entry **pp = &d->tab[h & (d->size - 1)]; *pp; pp = &(*pp)->next) {
        dict_entry *e = *pp;
        if (e->hash == h && same(d, e, key, klen)) {
            *pp = e->next;
            if (val) *val = e->val;
            s_free(e);
            d->count--;
            return 1;
        }
    }
    return 0;
}
