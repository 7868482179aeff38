/* hash_cmds: the hash commands of Redis 7.0 (HSET ... HSCAN) with its
 * argument order of checks, replies and error texts.  The value and its
 * encodings live in types/thash.c; this file parses, looks keys up, and
 * replies.  Every command that changes a hash stores the (possibly moved)
 * value pointer back into the key's entry, calls key_changed, and deletes the
 * key when the hash becomes empty. */
#include "commands/command.h"
#include "commands/commands.h"
#include "commands/propagate.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "types/thash.h"
#include "util/glob.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <ctype.h>
#include <limits.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 1 found a hash, 0 missing, -1 wrong type (replied). */
static int lookup_hash(client *c, int flags, kref *r) {
    if (!db_lookup(c->db, c->argv[1].p, c->argv[1].len, flags, r)) {
        r->h = 0;
        return 0;
    }
    if (e_type(r->e) != OBJ_HASH) {
        reply_wrongtype(c);
        return -1;
    }
    return 1;
}

/* After a change: store the value (creating the key if it did not exist) and signal it. */
static void commit(client *c, kref *r, int found, void *h) {
    const arg *k = &c->argv[1];
    if (!found) {
        entry_value v = {.type = OBJ_HASH, .store = VAL_PTR, .ptr = h};
        db_set_value_at(r, k->p, k->len, &v, -1);
    } else if (e_ptr(r->e) != h) {
        e_set_ptr(r->e, h);
    }
    /* Redis's event: the command's name, HMSET and HSETNX announce "hset" */
    const char *ev = c->cmd->name;
    if (!strcmp(ev, "hmset") || !strcmp(ev, "hsetnx")) ev = "hset";
    if (found) key_changed(c, k, FX_HASH, ev);
    else key_event(c, k, FX_HASH, ev); /* the new key was counted */
}

static void reply_arity_error(client *c) {
    reply_errorf(c, "ERR wrong number of arguments for '%s' command", c->cmd->fullname);
}

static void hset_generic(client *c, int is_hmset) {
    if (c->argc % 2 == 1) {
        reply_arity_error(c);
        return;
    }
    kref r;
    int f = lookup_hash(c, LOOKUP_NOSTATS, &r);
    if (f < 0) return;
    long long mark = dirty_mark();
    void *h = f ? e_ptr(r.e) : hash_new();
    long long created = 0;
    int batch = c->argc > 4;
    if (batch) hash_batch_begin(&h);
    for (int i = 2; i < c->argc; i += 2)
        created += hash_set(&h, c->argv[i].p, c->argv[i].len, c->argv[i + 1].p, c->argv[i + 1].len);
    if (batch) hash_batch_end(&h);
    commit(c, &r, f, h);
    dirty_count(mark, (c->argc - 2) / 2); /* Redis: every field given, new or not */
    if (is_hmset) reply_ok(c);
    else reply_int(c, created);
}

void cmd_hset(client *c) { hset_generic(c, 0); }
void cmd_hmset(client *c) { hset_generic(c, 1); }

void cmd_hsetnx(client *c) {
    kref r;
    int f = lookup_hash(c, LOOKUP_NOSTATS, &r);
    if (f < 0) return;
    hval v;
    if (f && hash_get(e_ptr(r.e), c->argv[2].p, c->argv[2].len, &v)) {
        reply_int(c, 0);
        return;
    }
    void *h = f ? e_ptr(r.e) : hash_new();
    hash_set(&h, c->argv[2].p, c->argv[2].len, c->argv[3].p, c->argv[3].len);
    commit(c, &r, f, h);
    reply_int(c, 1);
}

void cmd_hget(client *c) {
    kref r;
    int f = lookup_hash(c, 0, &r);
    if (f < 0) return;
    hval v;
    if (f && hash_get(e_ptr(r.e), c->argv[2].p, c->argv[2].len, &v)) reply_bulk(c, v.s, v.len);
    else reply_null(c);
}

void cmd_hmget(client *c) {
    kref r;
    int f = lookup_hash(c, 0, &r);
    if (f < 0) return;
    reply_array(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        hval v;
        if (f && hash_get(e_ptr(r.e), c->argv[i].p, c->argv[i].len, &v)) reply_bulk(c, v.s, v.len);
        else reply_null(c);
    }
}

void cmd_hdel(client *c) {
    kref r;
    int f = lookup_hash(c, LOOKUP_NOSTATS, &r);
    if (f < 0) return;
    if (!f) {
        reply_int(c, 0);
        return;
    }
    void *h = e_ptr(r.e);
    long long deleted = 0, mark = dirty_mark();
    for (int i = 2; i < c->argc; i++) {
        deleted += hash_del(&h, c->argv[i].p, c->argv[i].len);
        if (hash_len(h) == 0) break;
    }
    if (h != e_ptr(r.e)) e_set_ptr(r.e, h);
    if (deleted) {
        if (hash_len(h) == 0) {
            key_event(c, &c->argv[1], FX_HASH, "hdel"); /* the delete counts the change */
            db_delete(&r);
        } else {
            key_changed(c, &c->argv[1], FX_HASH, "hdel");
        }
    }
    dirty_count(mark, deleted);
    reply_int(c, deleted);
}

void cmd_hexists(client *c) {
    kref r;
    int f = lookup_hash(c, 0, &r);
    if (f < 0) return;
    hval v;
    reply_int(c, f && hash_get(e_ptr(r.e), c->argv[2].p, c->argv[2].len, &v));
}

void cmd_hlen(client *c) {
    kref r;
    int f = lookup_hash(c, 0, &r);
    if (f < 0) return;
    reply_int(c, f ? (long long)hash_len(e_ptr(r.e)) : 0);
}

void cmd_hstrlen(client *c) {
    kref r;
    int f = lookup_hash(c, 0, &r);
    if (f < 0) return;
    hval v;
    reply_int(c, f && hash_get(e_ptr(r.e), c->argv[2].p, c->argv[2].len, &v) ? (long long)v.len : 0);
}

/* ---- whole-hash replies ---- */

enum { WANT_FIELD = 1, WANT_VALUE = 2 };
typedef struct out_ctx {
    client *c;
    int what;
    int pairs; /* RESP3 WITHVALUES: each pair as a 2-element array */
} out_ctx;

static void emit(void *ud, const char *f, size_t flen, const char *v, size_t vlen) {
    out_ctx *o = ud;
    if (o->pairs) reply_array(o->c, 2);
    if (o->what & WANT_FIELD) reply_bulk(o->c, f, flen);
    if (o->what & WANT_VALUE) reply_bulk(o->c, v, vlen);
}

static void getall_generic(client *c, int what) {
    kref r;
    int f = lookup_hash(c, 0, &r);
    if (f < 0) return;
    void *h = f ? e_ptr(r.e) : NULL;
    long n = h ? (long)hash_len(h) : 0;
    if (what == (WANT_FIELD | WANT_VALUE)) reply_map(c, n);
    else reply_array(c, n);
    if (!h) return;
    out_ctx o = {c, what, 0};
    hash_foreach(h, emit, &o);
}

void cmd_hgetall(client *c) { getall_generic(c, WANT_FIELD | WANT_VALUE); }
void cmd_hkeys(client *c) { getall_generic(c, WANT_FIELD); }
void cmd_hvals(client *c) { getall_generic(c, WANT_VALUE); }

/* ---- counters ---- */

void cmd_hincrby(client *c) {
    long long by, old = 0;
    if (!arg_ll(c, &c->argv[3], &by, NULL)) return;
    kref r;
    int f = lookup_hash(c, LOOKUP_NOSTATS, &r);
    if (f < 0) return;
    hval v;
    if (f && hash_get(e_ptr(r.e), c->argv[2].p, c->argv[2].len, &v)) {
        if (!str2ll(v.s, v.len, &old)) {
            reply_error(c, "ERR hash value is not an integer");
            return;
        }
    }
    if ((by < 0 && old < 0 && by < LLONG_MIN - old) || (by > 0 && old > 0 && by > LLONG_MAX - old)) {
        reply_error(c, "ERR increment or decrement would overflow");
        return;
    }
    long long nv = old + by;
    char buf[LL_STR_SIZE];
    int n = ll2str(buf, nv);
    void *h = f ? e_ptr(r.e) : hash_new();
    hash_set(&h, c->argv[2].p, c->argv[2].len, buf, (size_t)n);
    commit(c, &r, f, h);
    reply_int(c, nv);
}

void cmd_hincrbyfloat(client *c) {
    long double by, old = 0;
    if (!str2ld(c->argv[3].p, c->argv[3].len, &by)) {
        reply_error(c, "ERR value is not a valid float");
        return;
    }
    if (isnan(by) || isinf(by)) {
        reply_error(c, "ERR value is NaN or Infinity");
        return;
    }
    kref r;
    int f = lookup_hash(c, LOOKUP_NOSTATS, &r);
    if (f < 0) return;
    hval v;
    if (f && hash_get(e_ptr(r.e), c->argv[2].p, c->argv[2].len, &v)) {
        if (!str2ld(v.s, v.len, &old)) {
            reply_error(c, "ERR hash value is not a float");
            return;
        }
    }
    long double nv = old + by;
    if (isnan(nv) || isinf(nv)) {
        reply_error(c, "ERR increment would produce NaN or Infinity");
        return;
    }
    char buf[LD_STR_SIZE];
    int n = ld2str(buf, sizeof(buf), nv);
    void *h = f ? e_ptr(r.e) : hash_new();
    hash_set(&h, c->argv[2].p, c->argv[2].len, buf, (size_t)n);
    commit(c, &r, f, h);
    /* The sum as text, so that a replica does not redo the floating-point arithmetic. */
    const char *pv[4] = {"HSET", c->argv[1].p, c->argv[2].p, buf};
    size_t pl[4] = {4, c->argv[1].len, c->argv[2].len, (size_t)n};
    prop_rewrite_strs(c, 4, pv, pl);
    reply_bulk(c, buf, (size_t)n);
}

/* ---- HRANDFIELD ---- */

void cmd_hrandfield(client *c) {
    if (c->argc >= 3) {
        long long l;
        if (!str2ll(c->argv[2].p, c->argv[2].len, &l)) {
            reply_not_int(c);
            return;
        }
        if (l < -LLONG_MAX) {
            reply_error(c, "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
            return;
        }
        int withvalues = 0;
        if (c->argc > 4 || (c->argc == 4 && !arg_is(&c->argv[3], "withvalues"))) {
            reply_syntax_error(c);
            return;
        }
        if (c->argc == 4) {
            withvalues = 1;
            if (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2) {
                reply_error(c, "ERR value is out of range");
                return;
            }
        }
        kref r;
        int f = lookup_hash(c, 0, &r);
        if (f < 0) return;
        if (!f || l == 0) {
            reply_array(c, 0);
            return;
        }
        void *h = e_ptr(r.e);
        unsigned long size = hash_len(h), count = l < 0 ? (unsigned long)-l : (unsigned long)l;
        int distinct = l > 0;
        if (distinct && count > size) count = size;
        int resp3_pairs = withvalues && c->resp >= 3;
        reply_array(c, (long)(withvalues && !resp3_pairs ? count * 2 : count));
        out_ctx o = {c, withvalues ? WANT_FIELD | WANT_VALUE : WANT_FIELD, resp3_pairs};
        if (distinct && count == size) hash_foreach(h, emit, &o); /* the whole hash, in its order */
        else hash_random(h, count, distinct, emit, &o);
        return;
    }
    kref r;
    int f = lookup_hash(c, 0, &r);
    if (f < 0) return;
    if (!f) {
        reply_null(c);
        return;
    }
    out_ctx o = {c, WANT_FIELD, 0};
    hash_random(e_ptr(r.e), 1, 1, emit, &o);
}

/* ---- HSCAN ---- */


typedef struct scan_buf {
    char *data;
    size_t len, cap;
    long n;
    const arg *pat;
} scan_buf;

static void sb_put(scan_buf *b, const char *p, size_t len) {
    if (b->len + len + sizeof(size_t) > b->cap) {
        b->cap = (b->len + len + sizeof(size_t)) * 2;
        b->data = s_realloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, &len, sizeof(size_t));
    memcpy(b->data + b->len + sizeof(size_t), p, len);
    b->len += sizeof(size_t) + len;
    b->n++;
}

static void scan_visit(void *ud, const char *f, size_t flen, const char *v, size_t vlen) {
    scan_buf *b = ud;
    if (b->pat && !glob_match(b->pat->p, b->pat->len, f, flen, 0)) return;
    sb_put(b, f, flen);
    sb_put(b, v, vlen);
}

void cmd_hscan(client *c) {
    unsigned long long cursor;
    if (!parse_scan_cursor(c, &c->argv[2], &cursor)) return;
    kref r;
    int f = lookup_hash(c, 0, &r);
    if (f < 0) return;
    if (!f) {
        reply_array(c, 2);
        reply_bulk(c, "0", 1);
        reply_array(c, 0);
        return;
    }
    long long count;
    const arg *pat;
    if (!parse_scan_options(c, 3, &count, &pat, NULL)) return;
    scan_buf b = {.pat = pat};
    uint64_t next = hash_scan(e_ptr(r.e), cursor, (long)count, scan_visit, &b);
    reply_array(c, 2);
    char buf[LL_STR_SIZE];
    reply_bulk(c, buf, (size_t)ull2str(buf, next));
    reply_array(c, b.n);
    for (size_t off = 0; off < b.len;) {
        size_t len;
        memcpy(&len, b.data + off, sizeof(size_t));
        reply_bulk(c, b.data + off + sizeof(size_t), len);
        off += sizeof(size_t) + len;
    }
    s_free(b.data);
}


command hash_commands[] = {
    {"hset", cmd_hset},
    {"hsetnx", cmd_hsetnx},
    {"hget", cmd_hget},
    {"hmget", cmd_hmget},
    {"hmset", cmd_hmset},
    {"hgetall", cmd_hgetall},
    {"hdel", cmd_hdel},
    {"hexists", cmd_hexists},
    {"hlen", cmd_hlen},
    {"hstrlen", cmd_hstrlen},
    {"hkeys", cmd_hkeys},
    {"hvals", cmd_hvals},
    {"hincrby", cmd_hincrby},
    {"hincrbyfloat", cmd_hincrbyfloat},
    {"hrandfield", cmd_hrandfield},
    {"hscan", cmd_hscan},
    {0}};
