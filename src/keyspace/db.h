/* db: one numbered database: its key table plus the rules every command
 * relies on.
 *
 * - An expired key is never visible: db_lookup deletes a key whose TTL has
 *   passed (lazy expiry) before anyone sees it, and activeexpire.c reclaims
 *   the rest in the background.  "Passed" means now > when, with `now` frozen
 *   for the duration of one command (srv.cmd_now_ms), as in Redis.  While a
 *   propagated stream is applied (srv.keep_expired: a replica's link to its
 *   primary, the AOF loader, DEBUG APPLY-STREAM) nothing expires: the source
 *   decides, and its DELs follow.
 * - Every modification is announced to the effects layer (effects.h), which
 *   tells its listeners (WATCH, blocked clients, propagation ...): db_add,
 *   db_replace, db_delete, db_set_ttl, expiry, eviction, flush and swap do it
 *   here; commands that change a value in place announce it themselves.
 * - A kref is a found key: its handle, entry bytes and table slot.  It is
 *   valid until the next insert into the same db or any delete. */
#ifndef SARDINE_DB_H
#define SARDINE_DB_H
#include <stddef.h>
#include <stdint.h>
#include "keyspace/entry.h"
#include "keyspace/table.h"

struct dict;

typedef struct db {
    ktable t;
    int id;
    uint64_t expire_cursor;   /* active expiry's position in hash order */
    long long avg_ttl;        /* running estimate, ms (INFO keyspace) */
    struct dict *watched;     /* key -> list of watching clients (multi.c) */
    struct dict *blocking;    /* key -> queue of clients blocked on it (features/blocking.c) */
} db;

typedef struct kref {
    db *db;
    handle_t h;
    uint8_t *e;
    kslot slot;
    uint64_t hash;
} kref;

enum {
    LOOKUP_NOTOUCH = 1,   /* leave LRU/LFU alone (OBJECT, TYPE, TTL ...) */
    LOOKUP_NOSTATS = 2,   /* no keyspace_hits/misses */
    LOOKUP_NOEXPIRE = 4,  /* report expired keys as missing but don't delete them */
};

void db_init(db *d, int id);
int db_lookup(db *d, const char *key, size_t klen, int flags, kref *out);
/* Adds a key known to be absent (hash from kt_hash). */
void db_add(db *d, const char *key, size_t klen, uint64_t hash, handle_t h);
/* Loading a dataset (RDB): puts a key's entry, built by the loader with its TTL and LRU field, straight
 * into the table, announcing nothing (there is nothing to tell while a dataset is loaded).  hash is
 * kt_hash of its key.  1 inserted; 0 the key already exists (the entry is left to the caller). */
int db_load_insert(db *d, handle_t h, uint64_t hash);
/* Points the key at a new entry; frees the old entry but not its value. */
void db_replace(kref *r, handle_t h);
/* Takes the key out of the table without freeing its entry or value; returns the entry. */
handle_t db_detach(kref *r);
/* Deletes the key with its value. */
void db_delete(kref *r);
/* The same for a key about to be replaced by the running command (RENAME, COPY REPLACE): announced without
 * an event name, as Redis notifies no "del" there (the command names its own events). */
void db_delete_replaced(kref *r);
int db_delete_key(db *d, const char *key, size_t klen);
/* Deletes a key chosen by eviction (stats, WATCH, lazyfree-lazy-eviction). */
void db_evict(kref *r);
/* Sets (when >= 0) or removes (when < 0) the key's TTL, rebuilding the entry if its shape changes. */
void db_set_ttl(kref *r, long long when);
/* Replaces the key's value (or creates the key).  ttl: absolute ms, -1 none, -2 keep the old one. */
void db_set_value(db *d, const char *key, size_t klen, const entry_value *v, long long ttl);
/* The same, reusing r from a db_lookup of this key (found or not) with no insert since. */
void db_set_value_at(kref *r, const char *key, size_t klen, const entry_value *v, long long ttl);
/* Deletes an expired key found by lookup or the active cycle, with Redis's side effects. */
void db_expire_now(kref *r);
int db_is_expired(const uint8_t *e);
void db_flush(db *d, int async);
void db_swap(db *a, db *b);
static inline size_t db_size(const db *d) { return d->t.count; }
/* Frees a key's value (the heap object behind VAL_PTR), in the background if it is big. */
void value_free(int type, void *ptr);
size_t value_bytes(int type, void *ptr);
/* Called by the event loop: frees a slice of tables emptied by FLUSH ASYNC; 1 while work remains. */
int db_lazyfree_step(long max_entries);
size_t db_lazyfree_pending(void);
#endif
