/* set_cmds: the set commands of Redis 7.0 (SADD ... SSCAN) with its order of
 * checks, replies and error texts.  The value and its encodings live in
 * types/tset.c; this file parses, looks keys up and replies.
 *
 * Multi-key commands keep value pointers, not krefs, across lookups: a
 * lookup may lazily delete another expired key, which invalidates krefs but
 * never frees the value of a live key.  Results of SINTER/SUNION/SDIFF(STORE)
 * and of SPOP's "keep the few remaining" path are built as new sets, member
 * by member, so they get the encoding Redis would give them. */
#include "commands/command.h"
#include "commands/commands.h"
#include "commands/propagate.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "types/limits.h"
#include "types/tset.h"
#include "util/glob.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* 1 found a set, 0 missing, -1 wrong type (replied). */
static int lookup_set(client *c, const arg *k, int flags, kref *r) {
    if (!db_lookup(c->db, k->p, k->len, flags, r)) {
        r->h = 0;
        return 0;
    }
    if (e_type(r->e) != OBJ_SET) {
        reply_wrongtype(c);
        return -1;
    }
    return 1;
}

static void store_new(kref *r, const arg *k, void *s) {
    entry_value v = {.type = OBJ_SET, .store = VAL_PTR, .ptr = s};
    db_set_value_at(r, k->p, k->len, &v, -1);
}

static void emit_bulk(void *ud, const char *m, size_t len) { reply_bulk(ud, m, len); }

void cmd_sadd(client *c) {
    kref r;
    const arg *k = &c->argv[1];
    int f = lookup_set(c, k, LOOKUP_NOSTATS, &r);
    if (f < 0) return;
    void *s = f ? e_ptr(r.e) : set_create_for(c->argv[2].p, c->argv[2].len);
    long long added = 0, mark = dirty_mark();
    for (int i = 2; i < c->argc; i++) added += set_add(&s, c->argv[i].p, c->argv[i].len);
    if (!f) {
        store_new(&r, k, s);
        key_event(c, k, FX_SET, "sadd"); /* the new key was counted */
    } else {
        if (s != e_ptr(r.e)) e_set_ptr(r.e, s);
        if (added) key_changed(c, k, FX_SET, "sadd");
    }
    dirty_count(mark, added);
    reply_int(c, added);
}

void cmd_srem(client *c) {
    kref r;
    const arg *k = &c->argv[1];
    int f = lookup_set(c, k, LOOKUP_NOSTATS, &r);
    if (f < 0) return;
    if (!f) {
        reply_int(c, 0);
        return;
    }
    void *s = e_ptr(r.e);
    long long removed = 0, mark = dirty_mark();
    for (int i = 2; i < c->argc; i++) {
        removed += set_rem(&s, c->argv[i].p, c->argv[i].len);
        if (set_len(s) == 0) break;
    }
    if (s != e_ptr(r.e)) e_set_ptr(r.e, s);
    if (removed) {
        if (set_len(s) == 0) {
            key_event(c, k, FX_SET, "srem"); /* the delete counts the change */
            db_delete(&r);
        } else {
            key_changed(c, k, FX_SET, "srem");
        }
    }
    dirty_count(mark, removed);
    reply_int(c, removed);
}

void cmd_sismember(client *c) {
    kref r;
    int f = lookup_set(c, &c->argv[1], 0, &r);
    if (f < 0) return;
    reply_int(c, f && set_has(e_ptr(r.e), c->argv[2].p, c->argv[2].len));
}

void cmd_smismember(client *c) {
    kref r;
    int f = lookup_set(c, &c->argv[1], 0, &r);
    if (f < 0) return;
    reply_array(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) reply_int(c, f && set_has(e_ptr(r.e), c->argv[i].p, c->argv[i].len));
}

void cmd_scard(client *c) {
    kref r;
    int f = lookup_set(c, &c->argv[1], 0, &r);
    if (f < 0) return;
    reply_int(c, f ? (long long)set_len(e_ptr(r.e)) : 0);
}

/* ---- random members ---- */

void cmd_srandmember(client *c) {
    if (c->argc > 3) {
        reply_syntax_error(c);
        return;
    }
    kref r;
    if (c->argc == 3) {
        long long l;
        if (!str2ll(c->argv[2].p, c->argv[2].len, &l)) {
            reply_not_int(c);
            return;
        }
        if (l < -LLONG_MAX) {
            reply_error(c, "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
            return;
        }
        int f = lookup_set(c, &c->argv[1], 0, &r);
        if (f < 0) return;
        if (!f || l == 0) {
            reply_array(c, 0);
            return;
        }
        void *s = e_ptr(r.e);
        unsigned long size = set_len(s), count = l < 0 ? (unsigned long)-l : (unsigned long)l;
        if (l > 0 && count >= size) {
            reply_array(c, (long)size);
            set_foreach(s, emit_bulk, c); /* the whole set, in its order */
            return;
        }
        reply_array(c, (long)count);
        set_random(s, count, l > 0, emit_bulk, c);
        return;
    }
    int f = lookup_set(c, &c->argv[1], 0, &r);
    if (f < 0) return;
    if (!f) reply_null(c);
    else set_random(e_ptr(r.e), 1, 1, emit_bulk, c);
}

typedef struct mcopy {
    char *p;
    size_t len;
} mcopy;

static void copy_member(void *ud, const char *m, size_t len) {
    mcopy *mc = ud;
    mc->p = s_memdup(m, len ? len : 1);
    mc->len = len;
}

/* Removes a random member of *sp and replies it. */
/* SPOP propagates the members it took as SREMs (of up to 1024 members each), not its random choice. */
#define SREM_BATCH 1024
typedef struct popped {
    client *c;
    int n;
    arg v[SREM_BATCH + 2];
} popped;

static void popped_flush(popped *p) {
    if (p->n > 2) prop_also(p->c->db->id, p->n, p->v);
    for (int i = 2; i < p->n; i++) s_free(p->v[i].p);
    p->n = 2;
}

static popped *popped_new(client *c, const arg *k) {
    prop_prevent(c);
    if (!prop_has_sinks()) return NULL;
    popped *p = s_malloc(sizeof(*p));
    p->c = c;
    p->n = 2;
    p->v[0] = (arg){(char *)"SREM", 4};
    p->v[1] = *k;
    return p;
}

static void popped_add(popped *p, const char *m, size_t len) {
    if (!p) return;
    p->v[p->n++] = (arg){s_memdup(m, len), len};
    if (p->n == SREM_BATCH + 2) popped_flush(p);
}

static void popped_done(popped *p) {
    if (!p) return;
    popped_flush(p);
    s_free(p);
}

static void pop_one(client *c, void **sp, popped *pp) {
    mcopy m = {0};
    set_random(*sp, 1, 1, copy_member, &m);
    set_rem(sp, m.p, m.len);
    reply_bulk(c, m.p, m.len);
    popped_add(pp, m.p, m.len);
    s_free(m.p);
}

static void keep_member(void *ud, const char *m, size_t len) {
    void **keep = ud;
    if (!*keep) *keep = set_create_for(m, len);
    set_add(keep, m, len);
}

typedef struct not_in {
    client *c;
    const void *keep;
    popped *pp;
} not_in;

static void emit_unless_kept(void *ud, const char *m, size_t len) {
    not_in *ni = ud;
    if (set_has(ni->keep, m, len)) return;
    reply_bulk(ni->c, m, len);
    popped_add(ni->pp, m, len);
}

static void set_to(void *ud, const char *m, size_t len) { set_add(ud, m, len); }

#define SPOP_MOVE_STRATEGY_MUL 5

void cmd_spop(client *c) {
    if (c->argc > 3) {
        reply_syntax_error(c);
        return;
    }
    const arg *k = &c->argv[1];
    kref r;
    if (c->argc == 2) {
        int f = lookup_set(c, k, LOOKUP_NOSTATS, &r);
        if (f < 0) return;
        if (!f) {
            reply_null(c);
            return;
        }
        void *s = e_ptr(r.e);
        popped *pp = popped_new(c, k);
        pop_one(c, &s, pp);
        popped_done(pp);
        if (s != e_ptr(r.e)) e_set_ptr(r.e, s);
        if (set_len(s) == 0) {
            key_event(c, k, FX_SET, "spop");
            db_delete(&r);
        } else {
            key_changed(c, k, FX_SET, "spop");
        }
        return;
    }
    long long count;
    if (!str2ll(c->argv[2].p, c->argv[2].len, &count) || count < 0) {
        reply_error(c, "ERR value is out of range, must be positive");
        return;
    }
    int f = lookup_set(c, k, LOOKUP_NOSTATS, &r);
    if (f < 0) return;
    if (!f || count == 0) {
        reply_set(c, 0);
        return;
    }
    void *s = e_ptr(r.e);
    unsigned long size = set_len(s);
    long long mark = dirty_mark();
    if ((unsigned long long)count >= size) { /* the whole set */
        reply_set(c, (long)size);
        if (!set_is_intset(s) && size <= (unsigned long long)limits.set_max_intset_entries) {
            /* Redis replies a copy built from an intset: sorted if every member is an integer */
            void *copy = set_new_intset();
            set_foreach(s, set_to, &copy);
            set_foreach(copy, emit_bulk, c);
            set_free(copy);
        } else {
            set_foreach(s, emit_bulk, c);
        }
        key_event(c, k, FX_SET, "spop");
        db_delete(&r);
        prop_rewrite_del(c, k);
        dirty_count(mark, (long long)size);
        return;
    }
    unsigned long remaining = size - (unsigned long)count;
    reply_set(c, count);
    popped *pp = popped_new(c, k);
    if (remaining * SPOP_MOVE_STRATEGY_MUL > (unsigned long)count) {
        for (long long i = 0; i < count; i++) pop_one(c, &s, pp);
        if (s != e_ptr(r.e)) e_set_ptr(r.e, s);
    } else { /* few stay: build a new set of them, reply the others */
        void *keep = NULL;
        set_random(s, remaining, 1, keep_member, &keep);
        not_in ni = {c, keep, pp};
        set_foreach(s, emit_unless_kept, &ni);
        e_set_ptr(r.e, keep);
        value_free(OBJ_SET, s);
    }
    popped_done(pp);
    key_changed(c, k, FX_SET, "spop");
    dirty_count(mark, count);
}

/* ---- SMOVE ---- */

static int same_key(const arg *a, const arg *b) { return a->len == b->len && memcmp(a->p, b->p, a->len) == 0; }

void cmd_smove(client *c) {
    const arg *src = &c->argv[1], *dst = &c->argv[2], *ele = &c->argv[3];
    kref rs, rd;
    int fs = db_lookup(c->db, src->p, src->len, LOOKUP_NOSTATS, &rs);
    int fd = db_lookup(c->db, dst->p, dst->len, LOOKUP_NOSTATS, &rd);
    if (fd && e_type(rd.e) != OBJ_SET) fd = -1;
    if (!fs) {
        reply_int(c, 0);
        return;
    }
    /* the second lookup may have deleted an expired key: refresh the first kref */
    if (!db_lookup(c->db, src->p, src->len, LOOKUP_NOSTATS | LOOKUP_NOTOUCH, &rs)) {
        reply_int(c, 0);
        return;
    }
    if (e_type(rs.e) != OBJ_SET || fd < 0) {
        reply_wrongtype(c);
        return;
    }
    if (same_key(src, dst)) {
        reply_int(c, set_has(e_ptr(rs.e), ele->p, ele->len));
        return;
    }
    void *s = e_ptr(rs.e);
    if (!set_rem(&s, ele->p, ele->len)) {
        reply_int(c, 0);
        return;
    }
    if (s != e_ptr(rs.e)) e_set_ptr(rs.e, s);
    if (set_len(s) == 0) {
        key_event(c, src, FX_SET, "srem");
        db_delete(&rs);
    } else {
        key_changed(c, src, FX_SET, "srem");
    }
    fd = lookup_set(c, dst, LOOKUP_NOSTATS | LOOKUP_NOTOUCH, &rd); /* after the delete above */
    if (!fd) {
        void *d = set_create_for(ele->p, ele->len);
        set_add(&d, ele->p, ele->len);
        store_new(&rd, dst, d);
        key_event(c, dst, FX_SET, "sadd");
    } else {
        void *d = e_ptr(rd.e);
        if (set_add(&d, ele->p, ele->len)) {
            if (d != e_ptr(rd.e)) e_set_ptr(rd.e, d);
            key_changed(c, dst, FX_SET, "sadd");
        }
    }
    reply_int(c, 1);
}

/* ---- SINTER / SUNION / SDIFF and their STORE and CARD forms ---- */

/* Looks up argv[first .. first+n-1]; sets[i] NULL when missing.  -1 after a WRONGTYPE reply, else the number missing. */
static int load_sets(client *c, int first, int n, int write, void **sets) {
    (void)write; /* the sources of a STORE form are read lookups too, as in Redis (misses counted, "keymiss") */
    int missing = 0;
    for (int i = 0; i < n; i++) {
        kref r;
        int f = lookup_set(c, &c->argv[first + i], 0, &r);
        if (f < 0) return -1;
        sets[i] = f ? e_ptr(r.e) : NULL;
        missing += !f;
    }
    return missing;
}

typedef struct inter_ctx {
    void **sets;
    int n, smallest;
    client *c;       /* reply members (SINTER) */
    void **out;      /* or add them to a new set (SINTERSTORE) */
    long count, limit;
} inter_ctx;

static void inter_visit(void *ud, const char *m, size_t len) {
    inter_ctx *ic = ud;
    if (ic->limit && ic->count >= ic->limit) return;
    for (int j = 0; j < ic->n; j++) {
        if (j == ic->smallest || ic->sets[j] == ic->sets[ic->smallest]) continue;
        if (!set_has(ic->sets[j], m, len)) return;
    }
    ic->count++;
    if (ic->c) reply_bulk(ic->c, m, len);
    if (ic->out) set_add(ic->out, m, len);
}

static void not_in_others(void *ud, const char *m, size_t len) {
    inter_ctx *ic = ud;
    for (int j = 1; j < ic->n; j++)
        if (ic->sets[j] && set_has(ic->sets[j], m, len)) return;
    set_add(ic->out, m, len);
}

enum { OP_INTER, OP_UNION, OP_DIFF };

/* Stores (or deletes when empty) the result at argv[1] and replies its size. */
static void store_result(client *c, void *res) {
    const arg *dst = &c->argv[1];
    unsigned long n = res ? set_len(res) : 0;
    if (n) {
        entry_value v = {.type = OBJ_SET, .store = VAL_PTR, .ptr = res};
        db_set_value(c->db, dst->p, dst->len, &v, -1);
        key_event(c, dst, FX_SET, c->cmd->name);
    } else {
        if (res) set_free(res);
        kref r;
        if (db_lookup(c->db, dst->p, dst->len, LOOKUP_NOTOUCH | LOOKUP_NOSTATS, &r)) db_delete(&r);
    }
    reply_int(c, (long long)n);
}

static void set_op(client *c, int op, int first, int n, int store, long limit, int card) {
    void *stack[16];
    void **sets = n <= 16 ? stack : s_malloc(sizeof(void *) * (size_t)n);
    int missing = load_sets(c, first, n, store, sets);
    if (missing < 0) goto done;
    if (op == OP_INTER) {
        if (missing) {
            if (store) store_result(c, NULL);
            else if (card) reply_int(c, 0);
            else reply_set(c, 0);
            goto done;
        }
        int smallest = 0; /* first of the smallest, like Redis's stable sort by size */
        for (int j = 1; j < n; j++)
            if (set_len(sets[j]) < set_len(sets[smallest])) smallest = j;
        void *res = store ? set_new_intset() : NULL;
        inter_ctx ic = {sets, n, smallest, (store || card) ? NULL : c, store ? &res : NULL, 0, limit};
        size_t pos = 0;
        if (!store && !card) pos = reply_defer(c);
        set_foreach(sets[smallest], inter_visit, &ic);
        if (store) store_result(c, res);
        else if (card) reply_int(c, ic.count);
        else reply_defer_set(c, pos, ic.count, '~');
        goto done;
    }
    void *res = set_new_intset();
    if (op == OP_UNION) {
        for (int j = 0; j < n; j++)
            if (sets[j]) set_foreach(sets[j], set_to, &res);
    } else if (sets[0]) {
        inter_ctx ic = {sets, n, 0, NULL, &res, 0, 0};
        set_foreach(sets[0], not_in_others, &ic);
    }
    if (store) {
        store_result(c, res);
    } else {
        reply_set(c, (long)set_len(res));
        set_foreach(res, emit_bulk, c);
        value_free(OBJ_SET, res);
    }
done:
    if (sets != stack) s_free(sets);
}

void cmd_smembers(client *c) { set_op(c, OP_INTER, 1, 1, 0, 0, 0); }
void cmd_sinter(client *c) { set_op(c, OP_INTER, 1, c->argc - 1, 0, 0, 0); }
void cmd_sunion(client *c) { set_op(c, OP_UNION, 1, c->argc - 1, 0, 0, 0); }
void cmd_sdiff(client *c) { set_op(c, OP_DIFF, 1, c->argc - 1, 0, 0, 0); }
void cmd_sinterstore(client *c) { set_op(c, OP_INTER, 2, c->argc - 2, 1, 0, 0); }
void cmd_sunionstore(client *c) { set_op(c, OP_UNION, 2, c->argc - 2, 1, 0, 0); }
void cmd_sdiffstore(client *c) { set_op(c, OP_DIFF, 2, c->argc - 2, 1, 0, 0); }

void cmd_sintercard(client *c) {
    long long numkeys, limit = 0;
    if (!str2ll(c->argv[1].p, c->argv[1].len, &numkeys) || numkeys < 1) {
        reply_error(c, "ERR numkeys should be greater than 0");
        return;
    }
    if (numkeys > c->argc - 2) {
        reply_error(c, "ERR Number of keys can't be greater than number of args");
        return;
    }
    for (int j = 2 + (int)numkeys; j < c->argc; j++) {
        if (arg_is(&c->argv[j], "limit") && j + 1 < c->argc) {
            j++;
            if (!str2ll(c->argv[j].p, c->argv[j].len, &limit) || limit < 0) {
                reply_error(c, "ERR LIMIT can't be negative");
                return;
            }
        } else {
            reply_syntax_error(c);
            return;
        }
    }
    set_op(c, OP_INTER, 2, (int)numkeys, 0, (long)limit, 1);
}

/* ---- SSCAN ---- */


typedef struct scan_buf {
    char *data;
    size_t len, cap;
    long n;
    const arg *pat;
} scan_buf;

static void scan_visit(void *ud, const char *m, size_t len) {
    scan_buf *b = ud;
    if (b->pat && !glob_match(b->pat->p, b->pat->len, m, len, 0)) return;
    if (b->len + len + sizeof(size_t) > b->cap) {
        b->cap = (b->len + len + sizeof(size_t)) * 2;
        b->data = s_realloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, &len, sizeof(size_t));
    memcpy(b->data + b->len + sizeof(size_t), m, len);
    b->len += sizeof(size_t) + len;
    b->n++;
}

void cmd_sscan(client *c) {
    unsigned long long cursor;
    if (!parse_scan_cursor(c, &c->argv[2], &cursor)) return;
    kref r;
    int f = lookup_set(c, &c->argv[1], 0, &r);
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
    uint64_t next = set_scan(e_ptr(r.e), cursor, (long)count, scan_visit, &b);
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


command set_commands[] = {
    {"sadd", cmd_sadd},
    {"srem", cmd_srem},
    {"sismember", cmd_sismember},
    {"smismember", cmd_smismember},
    {"scard", cmd_scard},
    {"smembers", cmd_smembers},
    {"srandmember", cmd_srandmember},
    {"spop", cmd_spop},
    {"smove", cmd_smove},
    {"sinter", cmd_sinter},
    {"sintercard", cmd_sintercard},
    {"sunion", cmd_sunion},
    {"sdiff", cmd_sdiff},
    {"sinterstore", cmd_sinterstore},
    {"sunionstore", cmd_sunionstore},
    {"sdiffstore", cmd_sdiffstore},
    {"sscan", cmd_sscan},
    {0}};
