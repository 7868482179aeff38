/* list_cmds: the list commands with Redis 7.0's argument rules, replies and
 * error texts (the order in which Redis checks arguments, types and the key
 * is kept, since it decides which error a client sees).
 *
 * A list key always holds a non-empty quicklist: a command that empties a
 * list deletes the key.  Commands that change a list in place call key_changed;
 * commands that create a list key announce it to clients blocked on it
 * (key_ready): a list that already existed had no one waiting for it, since
 * blocking commands only wait on missing keys. */
#include "commands/command.h"
#include "commands/commands.h"
#include "commands/propagate.h"
#include "protocol/reply.h"
#include "features/blocking.h"
#include "server/server.h"
#include "types/tlist.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define LIST_CMD(name) void cmd_##name(client *c);
LIST_CMD(lpush) LIST_CMD(rpush) LIST_CMD(lpushx) LIST_CMD(rpushx) LIST_CMD(lpop) LIST_CMD(rpop) LIST_CMD(llen)
LIST_CMD(lrange) LIST_CMD(lindex) LIST_CMD(lset) LIST_CMD(linsert) LIST_CMD(lrem) LIST_CMD(ltrim) LIST_CMD(lpos)
LIST_CMD(lmove) LIST_CMD(rpoplpush) LIST_CMD(lmpop) LIST_CMD(blpop) LIST_CMD(brpop) LIST_CMD(blmove)
LIST_CMD(brpoplpush) LIST_CMD(blmpop)
#undef LIST_CMD

/* ---- helpers ---- */

/* 1 found a list, 0 missing, -1 wrong type (replied). */
static int get_list(client *c, const arg *k, int flags, kref *r, quicklist **ql) {
    if (!db_lookup(c->db, k->p, k->len, flags, r)) return 0;
    if (e_type(r->e) != OBJ_LIST) {
        reply_wrongtype(c);
        return -1;
    }
    *ql = e_ptr(r->e);
    return 1;
}

static void key_ready(client *c, const arg *k) { fx_ready(c->db, k->p, k->len); }

/* The source keys of a blocked command executed again: a key that meanwhile holds another type is
 * passed over (Redis 7.0 serves waiters only from keys holding a list), no WRONGTYPE. */
static int get_source(client *c, const arg *k, kref *r, quicklist **ql) {
    if (!(c->flags & CLIENT_REPROCESSING)) return get_list(c, k, LOOKUP_NOSTATS, r, ql);
    if (!db_lookup(c->db, k->p, k->len, LOOKUP_NOSTATS, r) || e_type(r->e) != OBJ_LIST) return 0;
    *ql = e_ptr(r->e);
    return 1;
}

/* Stores a new list under a key found missing by r's lookup. */
static void store_new(client *c, kref *r, const arg *k, quicklist *ql) {
    entry_value v = {.type = OBJ_LIST, .store = VAL_PTR, .ptr = ql};
    db_set_value_at(r, k->p, k->len, &v, -1);
    key_ready(c, k);
}

/* After removing elements: announces Redis's event, then deletes the key of an emptied list ("del"). */
static void removed(client *c, kref *r, const arg *k, quicklist *ql, const char *event) {
    if (ql->count == 0) {
        key_event(c, k, FX_LIST, event); /* the delete counts the change */
        db_delete(r);
    } else {
        key_changed(c, k, FX_LIST, event);
    }
}

/* Redis's events for the ends of a list. */
static const char *pop_event(int where) { return where == QL_HEAD ? "lpop" : "rpop"; }
static const char *push_event(int where) { return where == QL_HEAD ? "lpush" : "rpush"; }

static void reply_val(client *c, const lp_val *v) {
    if (v->s) reply_bulk(c, v->s, v->len);
    else reply_bulk_ll(c, v->i);
}

static void reply_arity_error(client *c) {
    char msg[128];
    snprintf(msg, sizeof(msg), "ERR wrong number of arguments for '%s' command", c->cmd->fullname);
    reply_error(c, msg);
}

/* LEFT / RIGHT. */
static int parse_where(client *c, const arg *a, int *where) {
    if (arg_is(a, "left")) *where = QL_HEAD;
    else if (arg_is(a, "right")) *where = QL_TAIL;
    else {
        reply_syntax_error(c);
        return 0;
    }
    return 1;
}

/* Replies an array of up to count elements popped from one end, in pop order. */
static size_t pop_range_reply(client *c, quicklist *ql, int where, long long count) {
    size_t n = (unsigned long long)count > ql->count ? ql->count : (size_t)count;
    reply_array(c, (long)n);
    qliter it;
    lp_val v;
    ql_iter_init(&it, ql, where == QL_HEAD ? 0 : -1, where == QL_HEAD ? QL_TAIL : QL_HEAD);
    for (size_t i = 0; i < n && ql_iter_next(&it, &v); i++) reply_val(c, &v);
    ql_iter_done(&it);
    ql_del_range(ql, where == QL_HEAD ? 0 : ql->count - n, n);
    return n;
}

/* A copy of one element, kept across changes to the list it came from. */
typedef struct elem_copy {
    char buf[128];
    char *p;
    size_t len;
} elem_copy;

static void elem_copy_set(elem_copy *e, const lp_val *v) {
    if (!v->s) {
        e->len = (size_t)ll2str(e->buf, v->i);
        e->p = e->buf;
        return;
    }
    e->len = v->len;
    e->p = v->len <= sizeof(e->buf) ? e->buf : s_malloc(v->len);
    memcpy(e->p, v->s, v->len);
}

static void elem_copy_free(elem_copy *e) {
    if (e->p != e->buf) s_free(e->p);
}

/* ---- push ---- */

static void push_generic(client *c, int where, int only_existing) {
    const arg *k = &c->argv[1];
    kref r;
    quicklist *ql;
    int f = get_list(c, k, LOOKUP_NOSTATS, &r, &ql);
    if (f < 0) return;
    if (!f && only_existing) {
        reply_int(c, 0);
        return;
    }
    if (!f) ql = tlist_new();
    long long mark = dirty_mark();
    for (int j = 2; j < c->argc; j++) ql_push(ql, c->argv[j].p, c->argv[j].len, where);
    long long n = (long long)ql->count;
    if (!f) {
        store_new(c, &r, k, ql);
        key_event(c, k, FX_LIST, push_event(where));
    } else {
        key_changed(c, k, FX_LIST, push_event(where));
    }
    dirty_count(mark, c->argc - 2); /* Redis: one per element pushed */
    reply_int(c, n);
}

void cmd_lpush(client *c) { push_generic(c, QL_HEAD, 0); }
void cmd_rpush(client *c) { push_generic(c, QL_TAIL, 0); }
void cmd_lpushx(client *c) { push_generic(c, QL_HEAD, 1); }
void cmd_rpushx(client *c) { push_generic(c, QL_TAIL, 1); }

void cmd_linsert(client *c) {
    int after;
    if (arg_is(&c->argv[2], "after")) after = 1;
    else if (arg_is(&c->argv[2], "before")) after = 0;
    else {
        reply_syntax_error(c);
        return;
    }
    const arg *k = &c->argv[1], *pivot = &c->argv[3], *val = &c->argv[4];
    kref r;
    quicklist *ql;
    int f = get_list(c, k, LOOKUP_NOSTATS, &r, &ql);
    if (f <= 0) {
        if (!f) reply_int(c, 0);
        return;
    }
    qliter it;
    lp_val v;
    ql_iter_init(&it, ql, 0, QL_TAIL);
    while (ql_iter_next(&it, &v)) {
        if (lp_eq(it.cur, pivot->p, (uint32_t)pivot->len)) {
            ql_iter_insert(&it, val->p, val->len, after);
            key_changed(c, k, FX_LIST, "linsert");
            reply_int(c, (long long)ql->count);
            return;
        }
    }
    ql_iter_done(&it);
    reply_int(c, -1);
}

/* ---- pop ---- */

static void pop_generic(client *c, int where) {
    const arg *k = &c->argv[1];
    long long count = 0;
    int has_count = c->argc == 3;
    if (c->argc > 3) {
        reply_arity_error(c);
        return;
    }
    if (has_count && !arg_ll_range(c, &c->argv[2], &count, 0, LONG_MAX, "ERR value is out of range, must be positive"))
        return;
    kref r;
    quicklist *ql;
    int f = get_list(c, k, LOOKUP_NOSTATS, &r, &ql);
    if (f < 0) return;
    if (!f) {
        if (has_count) reply_null_array(c);
        else reply_null(c);
        return;
    }
    if (has_count && count == 0) {
        reply_array(c, 0);
        return;
    }
    long long mark = dirty_mark(), n = 1;
    if (has_count) {
        n = (long long)pop_range_reply(c, ql, where, count);
    } else {
        lp_val v;
        ql_peek(ql, where, &v);
        reply_val(c, &v);
        ql_pop(ql, where);
    }
    removed(c, &r, k, ql, pop_event(where));
    dirty_count(mark, n); /* Redis: one per element popped */
}

void cmd_lpop(client *c) { pop_generic(c, QL_HEAD); }
void cmd_rpop(client *c) { pop_generic(c, QL_TAIL); }

/* ---- reads ---- */

void cmd_llen(client *c) {
    kref r;
    quicklist *ql;
    int f = get_list(c, &c->argv[1], 0, &r, &ql);
    if (f >= 0) reply_int(c, f ? (long long)ql->count : 0);
}

void cmd_lindex(client *c) {
    kref r;
    quicklist *ql;
    int f = get_list(c, &c->argv[1], 0, &r, &ql);
    if (f <= 0) {
        if (!f) reply_null(c);
        return;
    }
    long long index;
    if (!arg_ll(c, &c->argv[2], &index, NULL)) return;
    qlpos pos;
    if (!ql_index(ql, (long)index, &pos)) {
        reply_null(c);
        return;
    }
    lp_val v;
    lp_get(pos.p, &v);
    reply_val(c, &v);
    ql_release(ql, &pos);
}

void cmd_lrange(client *c) {
    long long start, end;
    if (!arg_ll(c, &c->argv[2], &start, NULL) || !arg_ll(c, &c->argv[3], &end, NULL)) return;
    kref r;
    quicklist *ql;
    int f = get_list(c, &c->argv[1], 0, &r, &ql);
    if (f <= 0) {
        if (!f) reply_array(c, 0);
        return;
    }
    long long llen = (long long)ql->count;
    if (start < 0) start += llen;
    if (end < 0) end += llen;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
        reply_array(c, 0);
        return;
    }
    if (end >= llen) end = llen - 1;
    long long n = end - start + 1;
    reply_array(c, (long)n);
    qliter it;
    lp_val v;
    ql_iter_init(&it, ql, (long)start, QL_TAIL);
    while (n-- > 0 && ql_iter_next(&it, &v)) reply_val(c, &v);
    ql_iter_done(&it);
}

void cmd_lpos(client *c) {
    const arg *ele = &c->argv[2];
    long long rank = 1, count = -1, maxlen = 0;
    for (int j = 3; j < c->argc; j++) {
        const arg *opt = &c->argv[j];
        int more = j + 1 < c->argc;
        if (arg_is(opt, "rank") && more) {
            if (!arg_ll(c, &c->argv[++j], &rank, NULL)) return;
            if (rank == 0) {
                reply_error(c, "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
                               "or use negative to start from the end of the list");
                return;
            }
        } else if (arg_is(opt, "count") && more) {
            if (!arg_ll_range(c, &c->argv[++j], &count, 0, LONG_MAX, "ERR COUNT can't be negative")) return;
        } else if (arg_is(opt, "maxlen") && more) {
            if (!arg_ll_range(c, &c->argv[++j], &maxlen, 0, LONG_MAX, "ERR MAXLEN can't be negative")) return;
        } else {
            reply_syntax_error(c);
            return;
        }
    }
    /* A negative rank searches from the tail.  Redis negates LONG_MIN into itself: every match then
     * qualifies and COUNT never stops the search; `unbounded` reproduces that. */
    int dir = QL_TAIL, unbounded = 0;
    if (rank < 0) {
        dir = QL_HEAD;
        if (rank == LLONG_MIN) {
            rank = 1;
            unbounded = 1;
        } else {
            rank = -rank;
        }
    }
    kref r;
    quicklist *ql;
    int f = get_list(c, &c->argv[1], 0, &r, &ql);
    if (f < 0) return;
    if (!f) {
        if (count != -1) reply_array(c, 0);
        else reply_null(c);
        return;
    }
    size_t deferred = count != -1 ? reply_defer(c) : 0;
    long long llen = (long long)ql->count, index = 0, matches = 0, found = -1, arraylen = 0;
    qliter it;
    lp_val v;
    ql_iter_init(&it, ql, dir == QL_TAIL ? 0 : -1, dir);
    while ((maxlen == 0 || index < maxlen) && ql_iter_next(&it, &v)) {
        if (lp_eq(it.cur, ele->p, (uint32_t)ele->len)) {
            matches++;
            long long at = dir == QL_TAIL ? index : llen - index - 1;
            if (matches >= rank) {
                if (count == -1) {
                    found = at;
                    break;
                }
                arraylen++;
                reply_int(c, at);
                if (count && !unbounded && matches - rank + 1 >= count) break;
            }
        }
        index++;
    }
    ql_iter_done(&it);
    if (count != -1) reply_defer_set(c, deferred, (long)arraylen, '*');
    else if (found != -1) reply_int(c, found);
    else reply_null(c);
}

/* ---- in-place changes ---- */

void cmd_lset(client *c) {
    const arg *k = &c->argv[1];
    kref r;
    quicklist *ql;
    int f = get_list(c, k, LOOKUP_NOSTATS, &r, &ql);
    if (f <= 0) {
        if (!f) reply_error(c, "ERR no such key");
        return;
    }
    long long index;
    if (!arg_ll(c, &c->argv[2], &index, NULL)) return;
    qlpos pos;
    if (!ql_index(ql, (long)index, &pos)) {
        reply_error(c, "ERR index out of range");
        return;
    }
    ql_replace(ql, &pos, c->argv[3].p, c->argv[3].len);
    key_changed(c, k, FX_LIST, "lset");
    reply_ok(c);
}

void cmd_lrem(client *c) {
    const arg *k = &c->argv[1], *ele = &c->argv[3];
    long long count;
    if (!arg_ll(c, &c->argv[2], &count, NULL)) return;
    kref r;
    quicklist *ql;
    int f = get_list(c, k, LOOKUP_NOSTATS, &r, &ql);
    if (f <= 0) {
        if (!f) reply_int(c, 0);
        return;
    }
    unsigned long long limit = count < 0 ? -(unsigned long long)count : (unsigned long long)count, n = 0;
    qliter it;
    lp_val v;
    ql_iter_init(&it, ql, count < 0 ? -1 : 0, count < 0 ? QL_HEAD : QL_TAIL);
    while (ql_iter_next(&it, &v)) {
        if (lp_eq(it.cur, ele->p, (uint32_t)ele->len)) {
            ql_iter_delete(&it);
            if (++n == limit) break;
        }
    }
    ql_iter_done(&it);
    long long mark = dirty_mark();
    if (n) removed(c, &r, k, ql, "lrem");
    dirty_count(mark, (long long)n); /* Redis: one per element removed */
    reply_int(c, (long long)n);
}

void cmd_ltrim(client *c) {
    const arg *k = &c->argv[1];
    long long start, end;
    if (!arg_ll(c, &c->argv[2], &start, NULL) || !arg_ll(c, &c->argv[3], &end, NULL)) return;
    kref r;
    quicklist *ql;
    int f = get_list(c, k, LOOKUP_NOSTATS, &r, &ql);
    if (f <= 0) {
        if (!f) reply_ok(c);
        return;
    }
    long long llen = (long long)ql->count, ltrim, rtrim;
    if (start < 0) start += llen;
    if (end < 0) end += llen;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
        ltrim = llen;
        rtrim = 0;
    } else {
        if (end >= llen) end = llen - 1;
        ltrim = start;
        rtrim = llen - end - 1;
    }
    ql_del_range(ql, 0, (size_t)ltrim);
    ql_del_range(ql, ql->count - (size_t)rtrim, (size_t)rtrim);
    long long mark = dirty_mark();
    removed(c, &r, k, ql, "ltrim");
    dirty_count(mark, ltrim + rtrim); /* Redis: the elements trimmed */
    reply_ok(c);
}

/* ---- moves between lists ---- */

/* LMOVE's body once `from`/`to` are parsed: pops from argv[1], pushes to argv[2], replies the element. */
static void move_generic(client *c, int from, int to) {
    const arg *sk = &c->argv[1], *dk = &c->argv[2];
    kref rs, rd;
    quicklist *src, *dst = NULL;
    int f = get_source(c, sk, &rs, &src);
    if (f <= 0) {
        if (!f) reply_null(c);
        return;
    }
    int g = get_list(c, dk, LOOKUP_NOSTATS, &rd, &dst);
    if (g < 0) return;
    /* rs may be stale now (the destination's lookup can expire a key): the source is deleted by name */
    long long mark = dirty_mark();
    lp_val v;
    elem_copy e;
    ql_peek(src, from, &v);
    elem_copy_set(&e, &v);
    ql_pop(src, from);
    if (!g) {
        dst = tlist_new();
        ql_push(dst, e.p, e.len, to);
        store_new(c, &rd, dk, dst);
        key_event(c, dk, FX_LIST, push_event(to));
    } else {
        ql_push(dst, e.p, e.len, to);
        key_changed(c, dk, FX_LIST, push_event(to));
    }
    if (src->count == 0) {
        key_event(c, sk, FX_LIST, pop_event(from));
        db_delete_key(c->db, sk->p, sk->len);
    } else {
        key_changed(c, sk, FX_LIST, pop_event(from));
    }
    dirty_count(mark, 1); /* Redis: one move */
    reply_bulk(c, e.p, e.len);
    elem_copy_free(&e);
}

void cmd_lmove(client *c) {
    int from, to;
    if (!parse_where(c, &c->argv[3], &from) || !parse_where(c, &c->argv[4], &to)) return;
    move_generic(c, from, to);
}

void cmd_rpoplpush(client *c) { move_generic(c, QL_TAIL, QL_HEAD); }

/* What a pop from one chosen key propagates: LPOP/RPOP key [count] (BLPOP, LMPOP, BLMPOP ...). */
static void propagate_pop(client *c, int where, const arg *k, long long count) {
    char num[24];
    int n = snprintf(num, sizeof(num), "%lld", count);
    const char *v[3] = {where == QL_HEAD ? "LPOP" : "RPOP", k->p, num};
    size_t l[3] = {4, k->len, (size_t)n};
    prop_rewrite_strs(c, count < 0 ? 2 : 3, v, l);
}

/* ---- LMPOP ---- */

/* Parses "numkeys key... LEFT|RIGHT [COUNT n]" from argv[idx]. */
static int parse_mpop(client *c, int idx, long long *numkeys, int *where, long long *count) {
    if (!arg_ll_range(c, &c->argv[idx], numkeys, 1, LONG_MAX, "ERR numkeys should be greater than 0")) return 0;
    if (*numkeys > c->argc - idx - 2) { /* no room for LEFT|RIGHT after the keys */
        reply_syntax_error(c);
        return 0;
    }
    int w = idx + (int)*numkeys + 1;
    if (!parse_where(c, &c->argv[w], where)) return 0;
    *count = -1;
    for (int j = w + 1; j < c->argc; j++) {
        if (*count == -1 && arg_is(&c->argv[j], "count") && j + 1 < c->argc) {
            if (!arg_ll_range(c, &c->argv[++j], count, 1, LONG_MAX, "ERR count should be greater than 0")) return 0;
        } else {
            reply_syntax_error(c);
            return 0;
        }
    }
    if (*count == -1) *count = 1;
    return 1;
}

/* Pops from the first non-empty list among keys; 1 if it replied (elements or an error). */
static int mpop_keys(client *c, const arg *keys, long long numkeys, int where, long long count) {
    for (long long j = 0; j < numkeys; j++) {
        kref r;
        quicklist *ql;
        int f = get_source(c, &keys[j], &r, &ql);
        if (f < 0) return 1;
        if (!f) continue;
        reply_array(c, 2);
        reply_bulk(c, keys[j].p, keys[j].len);
        long long mark = dirty_mark(), n = (long long)pop_range_reply(c, ql, where, count);
        removed(c, &r, &keys[j], ql, pop_event(where));
        dirty_count(mark, n);
        propagate_pop(c, where, &keys[j], count);
        return 1;
    }
    return 0;
}

void cmd_lmpop(client *c) {
    long long numkeys, count;
    int where;
    if (!parse_mpop(c, 1, &numkeys, &where, &count)) return;
    if (!mpop_keys(c, &c->argv[2], numkeys, where, count)) reply_null_array(c);
}

/* ---- blocking variants ---- */


static void bpop_generic(client *c, int where) {
    long long deadline;
    if (!parse_block_timeout(c, &c->argv[c->argc - 1], &deadline)) return;
    int nkeys = c->argc - 2;
    for (int j = 1; j <= nkeys; j++) {
        const arg *k = &c->argv[j];
        kref r;
        quicklist *ql;
        int f = get_source(c, k, &r, &ql);
        if (f < 0) return;
        if (!f) continue;
        lp_val v;
        ql_peek(ql, where, &v);
        reply_array(c, 2);
        reply_bulk(c, k->p, k->len);
        reply_val(c, &v);
        ql_pop(ql, where);
        removed(c, &r, k, ql, pop_event(where));
        propagate_pop(c, where, k, -1);
        return;
    }
    if (!blocking_allowed(c)) { /* inside MULTI: reply as if timed out */
        reply_null_array(c);
        return;
    }
    block_for_keys(c, &c->argv[1], nkeys, deadline, BLOCK_TIMEOUT_NULL_ARRAY);
}

void cmd_blpop(client *c) { bpop_generic(c, QL_HEAD); }
void cmd_brpop(client *c) { bpop_generic(c, QL_TAIL); }

static void bmove_generic(client *c, int from, int to, const arg *timeout) {
    long long deadline;
    if (!parse_block_timeout(c, timeout, &deadline)) return;
    kref r;
    quicklist *ql;
    int f = get_source(c, &c->argv[1], &r, &ql);
    if (f < 0) return;
    if (f) {
        move_generic(c, from, to);
        /* as Redis: BLMOVE as LMOVE, BRPOPLPUSH as RPOPLPUSH */
        const char *v[5] = {"LMOVE", c->argv[1].p, c->argv[2].p, from == QL_HEAD ? "LEFT" : "RIGHT",
                            to == QL_HEAD ? "LEFT" : "RIGHT"};
        size_t l[5] = {5, c->argv[1].len, c->argv[2].len, from == QL_HEAD ? 4 : 5, to == QL_HEAD ? 4 : 5};
        if (c->argc == 4) v[0] = "RPOPLPUSH", l[0] = 9;
        prop_rewrite_strs(c, c->argc == 4 ? 3 : 5, v, l);
        return;
    }
    if (!blocking_allowed(c)) {
        reply_null(c);
        return;
    }
    block_for_keys(c, &c->argv[1], 1, deadline, BLOCK_TIMEOUT_NULL_ARRAY); /* 7.0 times out with *-1 */
}

void cmd_blmove(client *c) {
    int from, to;
    if (!parse_where(c, &c->argv[3], &from) || !parse_where(c, &c->argv[4], &to)) return;
    bmove_generic(c, from, to, &c->argv[5]);
}

void cmd_brpoplpush(client *c) { bmove_generic(c, QL_TAIL, QL_HEAD, &c->argv[3]); }

void cmd_blmpop(client *c) {
    long long numkeys, count, deadline;
    int where;
    if (!parse_mpop(c, 2, &numkeys, &where, &count)) return;
    if (!parse_block_timeout(c, &c->argv[1], &deadline)) return;
    if (mpop_keys(c, &c->argv[3], numkeys, where, count)) return;
    if (!blocking_allowed(c)) {
        reply_null_array(c);
        return;
    }
    block_for_keys(c, &c->argv[3], (int)numkeys, deadline, BLOCK_TIMEOUT_NULL_ARRAY);
}

/* ---- the command table ---- */


command list_commands[] = {
    {"lpush", cmd_lpush},
    {"rpush", cmd_rpush},
    {"lpushx", cmd_lpushx},
    {"rpushx", cmd_rpushx},
    {"lpop", cmd_lpop},
    {"rpop", cmd_rpop},
    {"llen", cmd_llen},
    {"lrange", cmd_lrange},
    {"lindex", cmd_lindex},
    {"lset", cmd_lset},
    {"linsert", cmd_linsert},
    {"lrem", cmd_lrem},
    {"ltrim", cmd_ltrim},
    {"lpos", cmd_lpos},
    {"lmove", cmd_lmove},
    {"rpoplpush", cmd_rpoplpush},
    {"lmpop", cmd_lmpop},
    {"blpop", cmd_blpop},
    {"brpop", cmd_brpop},
    {"blmove", cmd_blmove},
    {"brpoplpush", cmd_brpoplpush},
    {"blmpop", cmd_blmpop},
    {0}};
