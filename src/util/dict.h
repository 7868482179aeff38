/* dict: a small chained hash map from byte strings to pointers, for the
 * server's bookkeeping (the command table, watched keys, client names), not
 * for the keyspace (see keyspace/table.h).  It doubles all at once, which is
 * fine for the few thousand entries these maps hold.  Keys are copied into
 * the entry; lookups may fold ASCII case (nocase maps). */
#ifndef SARDINE_DICT_H
#define SARDINE_DICT_H
#include <stddef.h>
#include <stdint.h>

typedef struct dict_entry {
    struct dict_entry *next;
    void *val;
    uint64_t hash;
    size_t klen;
    char key[];
} dict_entry;

typedef struct dict {
    dict_entry **tab;
    size_t size, count;
    int nocase;
} dict;

dict *dict_new(int nocase);
void dict_free(dict *d, void (*free_val)(void *));
dict_entry *dict_find(const dict *d, const char *key, size_t klen);
void *dict_get(const dict *d, const char *key, size_t klen);
/* Returns the entry for key, creating it (val NULL) if absent. */
dict_entry *dict_upsert(dict *d, const char *key, size_t klen, int *created);
/* Removes key; returns its value through *val; 1 if it was there. */
int dict_del(dict *d, const char *key, size_t klen, void **val);
/* Iteration: for (i = 0; i < d->size; i++) for (e = d->tab[i]; e; e = e->next) ... */
#endif
