/* keys: commands on the keyspace as a whole and on keys of any type:
 * DEL/UNLINK, EXISTS, TYPE, RENAME, COPY, MOVE, KEYS, SCAN, RANDOMKEY,
 * SELECT, SWAPDB, FLUSHDB/FLUSHALL and OBJECT. */
#include "features/saving.h"
#include "commands/commands.h"
#include "commands/propagate.h"
#include "keyspace/evict.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "types/object.h"
#include "types/rstr.h"
#include "types/tstring.h"
#include "util/glob.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void del_generic(client *c) {
    long long n = 0;
    for (int i = 1; i < c->argc; i++) n += db_delete_key(c->db, c->argv[i].p, c->argv[i].len);
    reply_int(c, n);
}
void cmd_del(client *c) { del_generic(c); }
void cmd_unlink(client *c) { del_generic(c); } /* big values are always freed in the background */

void cmd_exists(client *c) {
    long long n = 0;
    for (int i = 1; i < c->argc; i++) n += db_lookup(c->db, c->argv[i].p, c->argv[i].len, LOOKUP_NOTOUCH, NULL);
    reply_int(c, n);
}

void cmd_type(client *c) {
    kref r;
    if (db_lookup(c->db, c->argv[1].p, c->argv[1].len, LOOKUP_NOTOUCH, &r)) reply_status(c, obj_type_name(e_type(r.e)));
    else reply_status(c, "none");
}

/* Copies a value for COPY: inline values are rebuilt from the entry, heap values duplicated. */
static entry_value value_copy(const uint8_t *e) {
    entry_value v = {.type = e_type(e), .store = e_store(e)};
    switch (v.store) {
    case VAL_INT: v.ival = e_int(e); break;
    case VAL_INLINE: v.sval = e_inline(e, &v.slen); break;
    default: v.ptr = obj_dup(e_heap_kind(e), e_ptr(e)); break;
    }
    return v;
}

/* The value of an entry as it is (no copy): for moving a key. */
static entry_value value_of(const uint8_t *e) {
    entry_value v = {.type = e_type(e), .store = e_store(e)};
    switch (v.store) {
    case VAL_INT: v.ival = e_int(e); break;
    case VAL_INLINE: v.sval = e_inline(e, &v.slen); break;
    default: v.ptr = e_ptr(e); break;
    }
    return v;
}

/* Moves src's value and TTL to dstkey in db dst (which must not hold it). */
static void move_key(kref *src, db *dst, const arg *dstkey) {
    handle_t old = db_detach(src);
    const uint8_t *e = arena_ptr(old);
    entry_value v = value_of(e);
    handle_t h = entry_build(dstkey->p, dstkey->len, e_ttl(e), e_lru(e), &v);
    db_add(dst, dstkey->p, dstkey->len, kt_hash(dstkey->p, dstkey->len), h);
    entry_free(old);
}

static void rename_generic(client *c, int nx) {
    const arg *src = &c->argv[1], *dst = &c->argv[2];
    int same = src->len == dst->len && memcmp(src->p, dst->p, src->len) == 0;
    kref r, d;
    if (!db_lookup(c->db, src->p, src->len, LOOKUP_NOTOUCH | LOOKUP_NOSTATS, &r)) {
        reply_error(c, "ERR no such key");
        return;
    }
    if (same) {
        if (nx) reply_int(c, 0);
        else reply_ok(c);
        return;
    }
    long long mark = dirty_mark();
    if (db_lookup(c->db, dst->p, dst->len, LOOKUP_NOTOUCH | LOOKUP_NOSTATS, &d)) {
        if (nx) {
            reply_int(c, 0);
            return;
        }
        db_delete_replaced(&d);
    }
    move_key(&r, c->db, dst);
    key_event(c, src, FX_GENERIC, "rename_from");
    key_event(c, dst, FX_GENERIC, "rename_to");
    dirty_count(mark, 1); /* Redis: one change for the two keys */
    if (nx) reply_int(c, 1);
    else reply_ok(c);
}
void cmd_rename(client *c) { rename_generic(c, 0); }
void cmd_renamenx(client *c) { rename_generic(c, 1); }

void cmd_copy(client *c) {
    const arg *src = &c->argv[1], *dst = &c->argv[2];
    int replace = 0, dbid = c->db->id;
    for (int j = 3; j < c->argc; j++) {
        if (arg_is(&c->argv[j], "replace")) {
            replace = 1;
        } else if (arg_is(&c->argv[j], "db") && j + 1 < c->argc) {
            if (!select_db(c, &c->argv[++j], &dbid)) return;
        } else {
            reply_syntax_error(c);
            return;
        }
    }
    if (dbid == c->db->id && src->len == dst->len && memcmp(src->p, dst->p, src->len) == 0) {
        reply_error(c, "ERR source and destination objects are the same");
        return;
    }
    kref r, d;
    if (!db_lookup(c->db, src->p, src->len, 0, &r)) {
        reply_int(c, 0);
        return;
    }
    db *target = &srv.dbs[dbid];
    entry_value v = value_copy(r.e);
    long long ttl = e_ttl(r.e), mark = dirty_mark();
    if (db_lookup(target, dst->p, dst->len, LOOKUP_NOTOUCH | LOOKUP_NOSTATS, &d)) {
        if (!replace) {
            if (v.store >= VAL_PTR) obj_free(v_heap_kind(&v), v.ptr);
            reply_int(c, 0);
            return;
        }
        db_delete_replaced(&d);
    }
    handle_t h = entry_build(dst->p, dst->len, ttl, lru_initial(), &v);
    db_add(target, dst->p, dst->len, kt_hash(dst->p, dst->len), h);
    fx_event(target, dst->p, dst->len, FX_GENERIC, "copy_to");
    dirty_count(mark, 1); /* Redis: one, the replaced key included */
    reply_int(c, 1);
}

void cmd_move(client *c) {
    long long id;
    if (!str2ll(c->argv[2].p, c->argv[2].len, &id) || id < INT_MIN || id > INT_MAX) {
        reply_not_int(c);
        return;
    }
    if (id < 0 || id >= srv.dbnum) {
        reply_error(c, "ERR DB index is out of range");
        return;
    }
    if (id == c->db->id) {
        reply_error(c, "ERR source and destination objects are the same");
        return;
    }
    kref r;
    const arg *k = &c->argv[1];
    if (!db_lookup(c->db, k->p, k->len, LOOKUP_NOTOUCH | LOOKUP_NOSTATS, &r)) {
        reply_int(c, 0);
        return;
    }
    db *target = &srv.dbs[id];
    if (db_lookup(target, k->p, k->len, LOOKUP_NOTOUCH | LOOKUP_NOSTATS, NULL)) {
        reply_int(c, 0);
        return;
    }
    long long mark = dirty_mark();
    move_key(&r, target, k);
    key_event(c, k, FX_GENERIC, "move_from");
    fx_event(target, k->p, k->len, FX_GENERIC, "move_to");
    dirty_count(mark, 1); /* Redis: one change for the two keys */
    reply_int(c, 1);
}

void cmd_touch(client *c) {
    long long n = 0;
    for (int i = 1; i < c->argc; i++) n += db_lookup(c->db, c->argv[i].p, c->argv[i].len, 0, NULL);
    reply_int(c, n);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd64(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

void cmd_randomkey(client *c) {
    for (int tries = 0; tries < 100; tries++) {
        handle_t h = kt_random(&c->db->t, rnd64(), 0);
        if (!h) break;
        uint8_t *e = arena_ptr(h);
        size_t klen;
        keybuf k_kb;
        const char *k = e_keyb(e, &k_kb, &klen);
        if (db_is_expired(e)) {
            if (tries < 99) {
                db_lookup(c->db, k, klen, LOOKUP_NOSTATS, NULL); /* reclaims it */
                continue;
            }
        }
        reply_bulk(c, k, klen);
        return;
    }
    reply_null(c);
}

typedef struct collect {
    handle_t *h;
    size_t n, cap;
} collect;

static void collect_fn(void *ud, handle_t h) {
    collect *col = ud;
    if (col->n == col->cap) {
        col->cap = col->cap ? col->cap * 2 : 64;
        col->h = s_realloc(col->h, col->cap * sizeof(handle_t));
    }
    col->h[col->n++] = h;
}

void cmd_keys(client *c) {
    const arg *pat = &c->argv[1];
    int all = pat->len == 1 && pat->p[0] == '*';
    size_t pos = reply_defer(c);
    long n = 0;
    uint64_t cursor = 0;
    collect col = {0};
    do {
        col.n = 0;
        cursor = kt_scan(&c->db->t, cursor, 1000, collect_fn, &col);
        for (size_t i = 0; i < col.n; i++) {
            const uint8_t *e = arena_ptr(col.h[i]);
            size_t klen;
            keybuf k_kb;
            const char *k = e_keyb(e, &k_kb, &klen);
            if (db_is_expired(e)) continue;
            if (!all && !glob_match(pat->p, pat->len, k, klen, 0)) continue;
            reply_bulk(c, k, klen);
            n++;
        }
    } while (cursor);
    s_free(col.h);
    reply_defer_set(c, pos, n, '*');
}

void cmd_scan(client *c) {
    unsigned long long cursor;
    long long count;
    const arg *pat, *type;
    if (!parse_scan_cursor(c, &c->argv[1], &cursor) || !parse_scan_options(c, 2, &count, &pat, &type)) return;
    collect col = {0};
    uint64_t next = kt_scan(&c->db->t, cursor, count, collect_fn, &col);
    reply_array(c, 2);
    char buf[LL_STR_SIZE];
    int blen = ull2str(buf, next);
    reply_bulk(c, buf, (size_t)blen);
    size_t pos = reply_defer(c);
    long n = 0;
    for (size_t i = 0; i < col.n; i++) {
        const uint8_t *e = arena_ptr(col.h[i]);
        size_t klen;
        keybuf k_kb;
        const char *k = e_keyb(e, &k_kb, &klen);
        if (pat && !glob_match(pat->p, pat->len, k, klen, 0)) continue;
        if (type) {
            /* As Redis 7.0: the key is looked up (a keyspace hit or miss; one found expired is deleted, and
             * its type is then "none").  The name is copied first: the lookup may free the entry it is in. */
            char small[128];
            char *name = klen <= sizeof(small) ? small : s_malloc(klen);
            memcpy(name, k, klen);
            kref r;
            const char *tn = db_lookup(c->db, name, klen, LOOKUP_NOTOUCH, &r) ? obj_type_name(e_type(r.e)) : "none";
            if (strlen(tn) == type->len && strncasecmp(tn, type->p, type->len) == 0) {
                reply_bulk(c, name, klen);
                n++;
            }
            if (name != small) s_free(name);
            continue;
        }
        if (db_is_expired(e)) { /* as Redis 7.0: a matching key found expired is deleted (and propagated) */
            db_lookup(c->db, k, klen, LOOKUP_NOSTATS, NULL);
            continue;
        }
        reply_bulk(c, k, klen);
        n++;
    }
    s_free(col.h);
    reply_defer_set(c, pos, n, '*');
}

void cmd_dbsize(client *c) { reply_int(c, (long long)db_size(c->db)); }

void cmd_select(client *c) {
    long long id;
    if (!str2ll(c->argv[1].p, c->argv[1].len, &id) || id < INT_MIN || id > INT_MAX) {
        reply_not_int(c);
        return;
    }
    if (id < 0 || id >= srv.dbnum) {
        reply_error(c, "ERR DB index is out of range");
        return;
    }
    c->db = &srv.dbs[id];
    reply_ok(c);
}

void cmd_swapdb(client *c) {
    long long a, b;
    if (!str2ll(c->argv[1].p, c->argv[1].len, &a) || a < INT_MIN || a > INT_MAX) {
        reply_error(c, "ERR invalid first DB index");
        return;
    }
    if (!str2ll(c->argv[2].p, c->argv[2].len, &b) || b < INT_MIN || b > INT_MAX) {
        reply_error(c, "ERR invalid second DB index");
        return;
    }
    if (a < 0 || a >= srv.dbnum || b < 0 || b >= srv.dbnum) {
        reply_error(c, "ERR DB index is out of range");
        return;
    }
    if (a != b) {
        db_swap(&srv.dbs[a], &srv.dbs[b]);
    }
    reply_ok(c);
}

/* 1 async, 0 sync, -1 syntax error (replied). */
static int flush_flags(client *c) {
    if (c->argc == 1) return srv.lazyfree_lazy_user_flush;
    if (c->argc == 2 && arg_is(&c->argv[1], "sync")) return 0;
    if (c->argc == 2 && arg_is(&c->argv[1], "async")) return 1;
    reply_syntax_error(c);
    return -1;
}

void cmd_flushdb(client *c) {
    int async = flush_flags(c);
    if (async < 0) return;
    db_flush(c->db, async);
    prop_force(); /* also when there was nothing to flush (Redis 7.0 forces it too) */
    reply_ok(c);
}

void cmd_flushall(client *c) {
    int async = flush_flags(c);
    if (async < 0) return;
    saving_flushall_begin();
    for (int i = 0; i < srv.dbnum; i++) db_flush(&srv.dbs[i], async);
    saving_flushall_end();
    prop_force(); /* also when there was nothing to flush */
    reply_ok(c);
}

static int object_lookup(client *c, kref *r) {
    if (db_lookup(c->db, c->argv[2].p, c->argv[2].len, LOOKUP_NOTOUCH, r)) return 1;
    reply_null(c);
    return 0;
}

void cmd_object_encoding(client *c) {
    kref r;
    if (!object_lookup(c, &r)) return;
    if (e_store(r.e) == VAL_PTR && e_type(r.e) != OBJ_STRING) reply_bulk_cstr(c, obj_encoding(e_type(r.e), e_ptr(r.e)));
    else reply_bulk_cstr(c, str_encoding(r.e));
}

void cmd_object_freq(client *c) {
    kref r;
    if (!object_lookup(c, &r)) return;
    if (!policy_is_lfu()) {
        reply_error(c, "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that "
                       "when switching between policies at runtime LRU and LFU data will take some time to adjust.");
        return;
    }
    reply_int(c, (long long)lfu_decayed_counter(e_lru(r.e)));
}

void cmd_object_idletime(client *c) {
    kref r;
    if (!object_lookup(c, &r)) return;
    if (policy_is_lfu()) {
        reply_error(c, "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
                       "switching between policies at runtime LRU and LFU data will take some time to adjust.");
        return;
    }
    reply_int(c, (long long)(lru_idle_ms(e_lru(r.e)) / 1000));
}

void cmd_object_refcount(client *c) {
    kref r;
    if (!object_lookup(c, &r)) return;
    /* Redis shares the integers 0..9999 unless an LRU/LFU policy limits memory; they report INT_MAX. */
    int shared = e_type(r.e) == OBJ_STRING && e_store(r.e) == VAL_INT && e_int(r.e) >= 0 && e_int(r.e) < 10000 &&
                 (srv.maxmemory == 0 || !(policy_is_lru() || policy_is_lfu()));
    reply_int(c, shared ? INT_MAX : 1);
}

void cmd_object_help(client *c) {
    static const char *lines[] = {
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        NULL};
    reply_help(c, "OBJECT", lines);
}
