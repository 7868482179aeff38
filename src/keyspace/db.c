/* db: see db.h.  Lazy freeing: a whole table emptied by FLUSHDB/FLUSHALL
 * ASYNC is parked on a list and freed a slice at a time by the event loop
 * (entries live in the arena, which only the loop thread may touch); big heap
 * values are handed to the background free thread (bio.h). */
#include "keyspace/db.h"
#include "keyspace/effects.h"
#include "keyspace/lru.h"
#include "server/bio.h"
#include "server/server.h"
#include "types/object.h"
#include <stdint.h>
#include "util/mem.h"
#include <string.h>

void db_init(db *d, int id) {
    memset(d, 0, sizeof(*d));
    kt_init(&d->t);
    d->id = id;
}

int db_is_expired(const uint8_t *e) {
    if (!e_has_ttl(e) || srv.keep_expired) return 0;
    return srv.cmd_now_ms > e_ttl(e);
}

int db_lookup(db *d, const char *key, size_t klen, int flags, kref *out) {
    kref r;
    r.db = d;
    r.hash = kt_hash(key, klen);
    r.h = kt_find(&d->t, key, klen, r.hash, &r.slot);
    if (r.h) {
        r.e = arena_ptr(r.h);
        if (db_is_expired(r.e)) {
            if (!(flags & LOOKUP_NOEXPIRE) && !srv.expiry_held) db_expire_now(&r);
            r.h = 0;
        }
    }
    if (!r.h) {
        if (!(flags & LOOKUP_NOSTATS)) {
            srv.stat_keyspace_misses++;
            fx_key_miss(d, key, klen);
        }
        if (out) {
            out->db = d;
            out->h = 0;
            out->hash = r.hash;
        }
        return 0;
    }
    if (!(flags & LOOKUP_NOSTATS)) srv.stat_keyspace_hits++;
    if (!(flags & LOOKUP_NOTOUCH)) lru_touch(r.e);
    if (out) *out = r;
    return 1;
}

void db_add(db *d, const char *key, size_t klen, uint64_t hash, handle_t h) {
    int type = e_type(arena_ptr(h));
    kt_insert(&d->t, hash, h, e_has_ttl(arena_ptr(h)));
    fx_key(d, key, klen, FX_NEW, "new");
    /* A new list, sorted set or stream may be what a blocked client waits for (RENAME, MOVE, COPY ...). */
    if (type == OBJ_LIST || type == OBJ_ZSET || type == OBJ_STREAM) fx_ready(d, key, klen);
}

int db_load_insert(db *d, handle_t h, uint64_t hash) {
    const uint8_t *e = arena_ptr(h);
    size_t klen;
    keybuf key_kb;
    const char *key = e_keyb(e, &key_kb, &klen);
    if (kt_find(&d->t, key, klen, hash, NULL)) return 0;
    kt_insert(&d->t, hash, h, e_has_ttl(e));
    return 1;
}

void db_replace(kref *r, handle_t h) {
    entry_free(r->h);
    r->h = h;
    r->e = arena_ptr(h);
    kt_replace(&r->db->t, &r->slot, h, e_has_ttl(r->e));
    size_t klen;
    keybuf key_kb;
    const char *key = e_keyb(r->e, &key_kb, &klen);
    fx_key(r->db, key, klen, FX_GENERIC, NULL);
}

static void delete_entry(kref *r, int lazy) {
    uint8_t *e = r->e;
    if (e_on_heap(e)) {
        if (lazy) value_free(e_heap_kind(e), e_ptr(e));
        else obj_free(e_heap_kind(e), e_ptr(e));
    }
    kt_delete(&r->db->t, &r->slot, r->hash);
    entry_free(r->h);
    r->h = 0;
    r->e = NULL;
}

handle_t db_detach(kref *r) {
    size_t klen;
    keybuf key_kb;
    const char *key = e_keyb(r->e, &key_kb, &klen);
    fx_key(r->db, key, klen, FX_GENERIC, NULL);
    handle_t h = r->h;
    kt_delete(&r->db->t, &r->slot, r->hash);
    r->h = 0;
    r->e = NULL;
    return h;
}

int db_delete_key(db *d, const char *key, size_t klen) {
    kref r;
    if (!db_lookup(d, key, klen, LOOKUP_NOTOUCH | LOOKUP_NOSTATS, &r)) return 0;
    db_delete(&r);
    return 1;
}

/* Deletes the key, then announces it (listeners see the key gone, as after any change). */
static void delete_announced(kref *r, int lazy, int cls, const char *event) {
    db *d = r->db;
    size_t klen;
    keybuf key_kb;
    const char *key = e_keyb(r->e, &key_kb, &klen);
    char stackbuf[128];
    char *copy = klen <= sizeof(stackbuf) ? stackbuf : s_malloc(klen);
    memcpy(copy, key, klen);
    delete_entry(r, lazy);
    fx_key(d, copy, klen, cls, event);
    if (copy != stackbuf) s_free(copy);
}

void db_delete(kref *r) { delete_announced(r, srv.lazyfree_lazy_server_del, FX_GENERIC, "del"); }
void db_delete_replaced(kref *r) { delete_announced(r, srv.lazyfree_lazy_server_del, FX_GENERIC, NULL); }

/* Tells the effects layer a key is about to go (it still holds its value). */
static void announce_before(kref *r) {
    size_t klen;
    keybuf key_kb;
    const char *key = e_keyb(r->e, &key_kb, &klen);
    fx_before(r->db, key, klen);
}

void db_evict(kref *r) {
    announce_before(r);
    srv.stat_evictedkeys++;
    delete_announced(r, srv.lazyfree_lazy_eviction, FX_EVICTED, "evicted");
}

void db_expire_now(kref *r) {
    announce_before(r);
    srv.stat_expiredkeys++;
    long long start = server_latency_start(); /* Redis's "expire-del" latency event */
    server_debug_slow_op();
    delete_announced(r, srv.lazyfree_lazy_expire, FX_EXPIRED, "expired");
    server_latency_end("expire-del", start);
}

/* Rebuilds the entry with a different TTL shape (present or not, narrow or wide), keeping key, LRU and value. */
static handle_t rebuild(const uint8_t *e, long long ttl) {
    entry_value v = {.type = e_type(e), .store = e_store(e)};
    switch (v.store) {
    case VAL_INT: v.ival = e_int(e); break;
    case VAL_INLINE: v.sval = e_inline(e, &v.slen); break;
    default: v.ptr = e_ptr(e); break;
    }
    size_t klen;
    keybuf key_kb;
    const char *key = e_keyb(e, &key_kb, &klen);
    return entry_build(key, klen, ttl, e_lru(e), &v);
}

void db_set_ttl(kref *r, long long when) {
    int has = e_has_ttl(r->e);
    if (when >= 0 && has && e_set_ttl(r->e, when)) {
        size_t klen;
        keybuf key_kb;
        const char *key = e_keyb(r->e, &key_kb, &klen);
        fx_key(r->db, key, klen, FX_GENERIC, NULL);
        return;
    }
    if (when < 0 && !has) return;
    handle_t h = rebuild(r->e, when);
    if (!h) return; /* arena exhausted: keep the old shape */
    db_replace(r, h);
}

void db_set_value(db *d, const char *key, size_t klen, const entry_value *v, long long ttl) {
    kref r;
    db_lookup(d, key, klen, LOOKUP_NOTOUCH | LOOKUP_NOSTATS, &r);
    db_set_value_at(&r, key, klen, v, ttl);
}

void db_set_value_at(kref *r, const char *key, size_t klen, const entry_value *v, long long ttl) {
    uint32_t lru = lru_initial();
    if (r->h) {
        if (ttl == -2) ttl = e_ttl(r->e);
        if (policy_is_lfu()) lru = e_lru(r->e);
        if (e_on_heap(r->e) && !(v->store >= VAL_PTR && v->ptr == e_ptr(r->e)))
            value_free(e_heap_kind(r->e), e_ptr(r->e));
        handle_t h = entry_build(key, klen, ttl, lru, v);
        db_replace(r, h);
        if (!policy_is_lfu()) lru_touch(r->e);
    } else {
        if (ttl == -2) ttl = -1;
        handle_t h = entry_build(key, klen, ttl, lru, v);
        db_add(r->db, key, klen, r->hash, h);
        r->h = h;
        r->e = arena_ptr(h);
    }
}

/* ---- values ---- */

#define LAZYFREE_THRESHOLD 64 /* elements (or KiB of string) above which freeing goes to the background */

/* lazyfreed_objects, as Redis counts it: a value freed in the background counts once its memory is back
 * (the background thread adds atomically); a FLUSHALL/FLUSHDB ASYNC counts each of its keys once, those
 * whose value is small when the key goes. */
static void lazyfreed(long long n) { __atomic_fetch_add(&srv.stat_lazyfreed_objects, n, __ATOMIC_RELAXED); }

static void bg_free_value(void *arg, void *arg2) {
    obj_free((int)(intptr_t)arg2, arg);
    lazyfreed(1);
}

/* Values freed a slice at a time by the loop thread (their elements live in the arena). */
typedef struct stepped {
    void *ptr;
    const obj_ops *ops;
    struct stepped *next;
} stepped;
static stepped *step_head, **step_tail = &step_head;
static size_t step_pending;
/* Frees a value now, or, when big, in the background (counted when done); 1 if deferred. */
static int free_value(int type, void *ptr) {
    if (obj_free_effort(type, ptr) <= LAZYFREE_THRESHOLD) {
        obj_free(type, ptr);
        return 0;
    }
    const obj_ops *ops = obj_ops_of(type);
    if (ops && ops->free_step) {
        stepped *s = s_malloc(sizeof(*s));
        s->ptr = ptr;
        s->ops = ops;
        s->next = NULL;
        *step_tail = s;
        step_tail = &s->next;
        step_pending++;
    } else {
        bio_submit(bg_free_value, ptr, (void *)(intptr_t)type);
    }
    return 1;
}

void value_free(int type, void *ptr) { free_value(type, ptr); }

/* Frees slices of big arena-backed values; 1 while work remains. */
static int stepped_free(long budget) {
    while (step_head && budget > 0) {
        if (step_head->ops->free_step(step_head->ptr, budget)) {
            stepped *s = step_head;
            step_head = s->next;
            if (!step_head) step_tail = &step_head;
            lazyfreed(1);
            s_free(s);
            step_pending--;
        }
        budget = 0; /* one slice per call keeps every loop iteration short */
    }
    return step_head != NULL;
}

size_t value_bytes(int type, void *ptr) { return obj_bytes(type, ptr); }

/* ---- flushing ---- */

typedef struct parked {
    ktable t;
    struct parked *next;
} parked;

static parked *lazy_tables;
static size_t lazy_pending;

static int flushing_async; /* freeing an ASYNC flush's keys */

static void free_handle(void *ud, handle_t h) {
    uint8_t *e = arena_ptr(h);
    int deferred = e_on_heap(e) && free_value(e_heap_kind(e), e_ptr(e));
    entry_free(h);
    if (flushing_async && !deferred) lazyfreed(1); /* a deferred value counts when freed */
    if (ud && lazy_pending) lazy_pending--; /* ud set: a parked (FLUSH ASYNC) table */
}

void db_flush(db *d, int async) {
    fx_flushing(d);
    if (async && d->t.count > 1000) {
        parked *p = s_malloc(sizeof(*p));
        p->t = d->t;
        p->next = lazy_tables;
        lazy_tables = p;
        lazy_pending += d->t.count;
    } else {
        flushing_async = async; /* a small ASYNC flush is done at once, its keys counted as Redis counts them */
        kt_destroy(&d->t, free_handle, NULL);
        flushing_async = 0;
    }
    kt_init(&d->t);
    d->expire_cursor = 0;
    d->avg_ttl = 0;
}

int db_lazyfree_step(long max_entries) {
    int more = stepped_free(max_entries);
    while (lazy_tables && max_entries > 0) {
        size_t before = lazy_tables->t.count;
        flushing_async = 1;
        int done = kt_drain(&lazy_tables->t, (size_t)max_entries, free_handle, &lazy_pending);
        flushing_async = 0;
        max_entries -= (long)(before - lazy_tables->t.count) + 1;
        if (done) {
            parked *p = lazy_tables;
            lazy_tables = p->next;
            s_free(p);
        }
    }
    return more || lazy_tables != NULL;
}

size_t db_lazyfree_pending(void) { return lazy_pending + step_pending; }

void db_swap(db *a, db *b) {
    fx_swapping(a, b);
    ktable t = a->t;
    a->t = b->t;
    b->t = t;
    uint64_t c = a->expire_cursor;
    a->expire_cursor = b->expire_cursor;
    b->expire_cursor = c;
    long long at = a->avg_ttl;
    a->avg_ttl = b->avg_ttl;
    b->avg_ttl = at;
}
