/* effects: the one place where every change to the keyspace is announced.
 *
 * Whatever changes a key (a command's write, lazy or active expiry, eviction,
 * a flush, SWAPDB, MOVE, RENAME ...) calls one of the fx_* functions below
 * with the database, the key and what happened, named with Redis's keyspace
 * event names ("set", "del", "lpush", "expired", "evicted", "new" ...) and
 * classes (Redis's notify-keyspace-events letters).  Features that react to
 * changes register here as listeners instead of being called from below:
 * WATCH and blocked clients today; propagation to AOF and replicas,
 * keyspace notifications and client tracking plug in the same way.  So
 * keyspace/ and commands/ never call up into the modules that react.
 *
 * Rules every caller keeps:
 * - fx_key is called once the change is done (the key's new state is
 *   visible to listeners), with event NULL where the command names the
 *   event itself in a separate fx_key call (db.c's generic writes).
 * - Every change a client could observe is announced, including changes to
 *   a value in place; a change of LRU/LFU bookkeeping alone is not.
 * - Expiry and eviction are announced as FX_EXPIRED / FX_EVICTED: they
 *   invalidate WATCH and are propagated as DEL, but are not counted as the
 *   running command's own writes (srv.dirty), so a read that meets an
 *   expired key is not itself propagated.
 * - fx_before is called before a key may change, while it still holds its
 *   old state: by call() for every key a write command names (its key
 *   specs) and by db.c before expiry and eviction delete a key.  A listener
 *   that needs a key's state before a change (the snapshot) reads it there.
 *   Announcing a key that then does not change is harmless.
 * - Listeners run synchronously, in registration order, and must not change
 *   the keyspace themselves. */
#ifndef SARDINE_EFFECTS_H
#define SARDINE_EFFECTS_H
#include <stddef.h>

struct db;

/* Event classes: Redis's NOTIFY_* bits (notify-keyspace-events letters in comments). */
enum {
    FX_GENERIC = 1 << 2,  /* g: DEL, EXPIRE, RENAME ... */
    FX_STRING = 1 << 3,   /* $ */
    FX_LIST = 1 << 4,     /* l */
    FX_SET = 1 << 5,      /* s */
    FX_HASH = 1 << 6,     /* h */
    FX_ZSET = 1 << 7,     /* z */
    FX_EXPIRED = 1 << 8,  /* x */
    FX_EVICTED = 1 << 9,  /* e */
    FX_STREAM = 1 << 10,  /* t */
    FX_KEY_MISS = 1 << 11,/* m */
    FX_NEW = 1 << 14,     /* n */
};

typedef struct fx_listener {
    /* A key may be about to change (it holds its old state now). */
    void (*key_before)(void *ud, struct db *d, const char *key, size_t klen);
    /* A key changed (event may be NULL: "modified", its event named by a separate call). */
    void (*key_changed)(void *ud, struct db *d, const char *key, size_t klen, int cls, const char *event);
    /* A lookup of a key found nothing (keyspace_misses counted): keyspace notifications' "keymiss". */
    void (*key_miss)(void *ud, struct db *d, const char *key, size_t klen);
    /* A key received elements a blocked client may be waiting for. */
    void (*key_ready)(void *ud, struct db *d, const char *key, size_t klen);
    /* A database is about to be emptied (FLUSHDB/FLUSHALL). */
    void (*db_flushing)(void *ud, struct db *d);
    /* Two databases are about to exchange their contents (SWAPDB). */
    void (*db_swapping)(void *ud, struct db *a, struct db *b);
    void *ud;
} fx_listener;

/* Registers a listener (kept by pointer: it must outlive the process's use of it). */
void fx_listen(const fx_listener *l);

void fx_before(struct db *d, const char *key, size_t klen);
/* Whether any listener wants fx_before now (callers skip finding the keys otherwise). */
int fx_before_wanted(void);
void fx_before_want(int on);
void fx_key(struct db *d, const char *key, size_t klen, int cls, const char *event);
void fx_ready(struct db *d, const char *key, size_t klen);
/* Names the event of a change already announced (and counted in srv.dirty) by a generic write of db.c
 * (db_set_value, db_set_ttl, db_add ...) or about to be by a delete: listeners see it, srv.dirty does not
 * move again. */
void fx_event(struct db *d, const char *key, size_t klen, int cls, const char *event);
/* A lookup missed (no change: not counted in srv.dirty, WATCH unaffected). */
void fx_key_miss(struct db *d, const char *key, size_t klen);
void fx_flushing(struct db *d);
void fx_swapping(struct db *a, struct db *b);
#endif
