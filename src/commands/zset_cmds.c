/* zset_cmds: the sorted set commands with Redis 7.0's argument rules,
 * replies and error texts.  Where Redis checks arguments, the key's type and
 * the key in a particular order, that order is kept, because it decides which
 * error a client sees.
 *
 * A sorted set key always holds a non-empty set (types/tzset.h): a command
 * that empties one deletes the key.  Commands that change a set in place
 * store the value's (possibly moved) pointer back into the key's entry and
 * announce it with key_changed (keyspace/effects.h).  Commands that create a zset key announce it to clients
 * blocked on it (fx_ready): blocking commands only wait on keys that
 * hold nothing, so an existing set had no one waiting for it.
 *
 * Ranges of every kind are turned into ascending ranks [lo, hi) first
 * (zs_count_score / zs_count_lex count the members before a bound), then
 * served by rank, which is O(log n) on the big encoding. */
#include "commands/command.h"
#include "commands/commands.h"
#include "commands/propagate.h"
#include "protocol/reply.h"
#include "features/blocking.h"
#include "server/server.h"
#include "types/tset.h" /* ZUNION/ZINTER/ZDIFF also read plain sets */
#include "types/tzset.h"
#include "util/glob.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NANERR "ERR resulting score is not a number (NaN)"
#define FLOATERR "ERR value is not a valid float"

/* ---- helpers ---- */

/* 1 found a sorted set, 0 missing, -1 wrong type (replied). */
static int get_zset(client *c, const arg *k, int flags, kref *r, zset **z) {
    if (!db_lookup(c->db, k->p, k->len, flags, r)) return 0;
    if (e_type(r->e) != OBJ_ZSET) {
        reply_wrongtype(c);
        return -1;
    }
    *z = e_ptr(r->e);
    return 1;
}

/* After an in-place change: the key keeps the (moved) value, or goes away when it is empty. */
static void written(client *c, kref *r, const arg *k, zset *z, const char *event) {
    e_set_ptr(r->e, z);
    if (zs_card(z) == 0) { /* Redis's order: the command's event, then "del" (which counts the change) */
        key_event(c, k, FX_ZSET, event);
        db_delete(r);
    } else {
        key_changed(c, k, FX_ZSET, event);
    }
}

/* A store command's event: its name, GEORADIUS[_RO|BYMEMBER] ... STORE announcing "georadiusstore". */
static const char *store_event(const client *c) {
    return strncmp(c->cmd->name, "georadius", 9) == 0 ? "georadiusstore" : c->cmd->name;
}

/* Stores a new set under a key found missing by r's lookup. */
static void store_new(client *c, kref *r, const arg *k, zset *z) {
    entry_value v = {.type = OBJ_ZSET, .store = VAL_PTR, .ptr = z};
    db_set_value_at(r, k->p, k->len, &v, -1);
    fx_ready(c->db, k->p, k->len);
}

/* A store command's result: replaces the key (any type, TTL dropped), or deletes it when empty. */
static void store_result(client *c, const arg *k, zset *z, size_t maxlen) {
    size_t n = zs_card(z);
    if (n) {
        zs_fit(&z, maxlen);
        entry_value v = {.type = OBJ_ZSET, .store = VAL_PTR, .ptr = z};
        db_set_value(c->db, k->p, k->len, &v, -1);
        key_event(c, k, FX_ZSET, store_event(c));
        fx_ready(c->db, k->p, k->len);
    } else {
        zs_free(z);
        db_delete_key(c->db, k->p, k->len);
    }
    reply_int(c, (long long)n);
}

static int parse_float(const arg *a, double *v) { return str2d(a->p, a->len, v); }

/* A score bound as Redis 7.0 reads one: optional '(' (exclusive), then whatever strtod takes whole
 * (so leading spaces, "" and overflow to inf pass), never NaN. */
static int parse_score_bound(const arg *a, double *v, int *excl) {
    const char *p = a->p;
    size_t len = a->len;
    *excl = 0;
    if (len && p[0] == '(') {
        p++;
        len--;
        *excl = 1;
    }
    char sbuf[128], *buf = len < sizeof(sbuf) ? sbuf : s_malloc(len + 1);
    memcpy(buf, p, len);
    buf[len] = 0;
    char *end;
    *v = strtod(buf, &end);
    int ok = *end == 0 && !isnan(*v);
    if (buf != sbuf) s_free(buf);
    return ok;
}

typedef struct lexbound {
    int inf;        /* -1 "-", +1 "+", 0 a string */
    int excl;
    const char *p;
    size_t len;
} lexbound;

static int parse_lex_bound(const arg *a, lexbound *b) {
    b->inf = b->excl = 0;
    b->p = NULL;
    b->len = 0;
    if (a->len == 0) return 0;
    switch (a->p[0]) {
    case '+':
    case '-':
        if (a->len != 1) return 0;
        b->inf = a->p[0] == '+' ? 1 : -1;
        return 1;
    case '(':
    case '[':
        b->excl = a->p[0] == '(';
        b->p = a->p + 1;
        b->len = a->len - 1;
        return 1;
    default: return 0;
    }
}

/* Ascending ranks [lo, hi) of the members in a score range. */
static void score_ranks(const zset *z, double min, int minex, double max, int maxex, size_t *lo, size_t *hi) {
    *lo = zs_count_score(z, min, minex);
    *hi = zs_count_score(z, max, !maxex);
    if (*hi < *lo) *hi = *lo;
}

static size_t lex_before(const zset *z, const lexbound *b, int as_max) {
    if (b->inf < 0) return 0;
    if (b->inf > 0) return zs_card(z);
    /* min: members before it are < (or <= for an exclusive bound); max: members up to it are <= (or <). */
    return zs_count_lex(z, b->p, b->len, as_max ? !b->excl : b->excl);
}

static void lex_ranks(const zset *z, const lexbound *min, const lexbound *max, size_t *lo, size_t *hi) {
    *lo = lex_before(z, min, 0);
    *hi = lex_before(z, max, 1);
    if (*hi < *lo) *hi = *lo;
}

/* Sanitizes a rank range as Redis does; 0 when empty, else ascending [*s, *e]. */
static int rank_range(long long start, long long end, long long llen, long long *s, long long *e) {
    if (start < 0) start = llen + start;
    if (end < 0) end = llen + end;
    if (start < 0) start = 0;
    if (start > end || start >= llen) return 0;
    if (end >= llen) end = llen - 1;
    *s = start;
    *e = end;
    return 1;
}

static void reply_elem(client *c, const zs_elem *e, int withscores) {
    if (withscores && c->resp > 2) reply_array(c, 2);
    reply_bulk(c, e->m, e->len);
    if (withscores) reply_double(c, e->score);
}

static void reply_elems_header(client *c, long n, int withscores) { reply_array(c, withscores && c->resp == 2 ? 2 * n : n); }

/* Replies n members from ascending rank `first`, going up (dir 1) or down (dir -1). */
static void reply_range(client *c, const zset *z, size_t first, size_t n, int dir, int withscores) {
    reply_elems_header(c, (long)n, withscores);
    if (!n) return;
    zs_iter it;
    zs_elem e;
    zs_iter_init(&it, z, first, dir);
    for (size_t i = 0; i < n && zs_iter_next(&it, &e); i++) reply_elem(c, &e, withscores);
}

/* ---- ZADD / ZINCRBY ---- */

static void zadd_generic(client *c, int flags) {
    int idx = 2, ch = 0;
    while (idx < c->argc) {
        const arg *a = &c->argv[idx];
        if (arg_is(a, "nx")) flags |= ZA_NX;
        else if (arg_is(a, "xx")) flags |= ZA_XX;
        else if (arg_is(a, "ch")) ch = 1;
        else if (arg_is(a, "incr")) flags |= ZA_INCR;
        else if (arg_is(a, "gt")) flags |= ZA_GT;
        else if (arg_is(a, "lt")) flags |= ZA_LT;
        else break;
        idx++;
    }
    int elements = c->argc - idx;
    if (elements % 2 || !elements) {
        reply_syntax_error(c);
        return;
    }
    elements /= 2;
    int nx = flags & ZA_NX, xx = flags & ZA_XX, gt = flags & ZA_GT, lt = flags & ZA_LT, incr = flags & ZA_INCR;
    if (nx && xx) {
        reply_error(c, "ERR XX and NX options at the same time are not compatible");
        return;
    }
    if ((gt && nx) || (lt && nx) || (gt && lt)) {
        reply_error(c, "ERR GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if (incr && elements > 1) {
        reply_error(c, "ERR INCR option supports a single increment-element pair");
        return;
    }
    double sbuf[16], *scores = elements <= 16 ? sbuf : s_malloc(sizeof(double) * (size_t)elements);
    for (int j = 0; j < elements; j++) {
        if (!parse_float(&c->argv[idx + 2 * j], &scores[j])) {
            reply_error(c, FLOATERR);
            goto done;
        }
    }
    const arg *k = &c->argv[1];
    kref r;
    zset *z = NULL;
    int found = get_zset(c, k, LOOKUP_NOSTATS, &r, &z);
    if (found < 0) goto done;
    long long added = 0, updated = 0, processed = 0, mark = dirty_mark();
    double score = 0;
    if (!found) {
        if (xx) goto reply;
        z = zs_new(1, c->argv[idx + 1].len);
    }
    int nan = 0;
    for (int j = 0; j < elements; j++) {
        const arg *m = &c->argv[idx + 1 + 2 * j];
        int out;
        double ns;
        if (!zs_add(&z, scores[j], m->p, m->len, flags, &out, &ns)) {
            nan = 1;
            break;
        }
        if (out & ZA_OUT_ADDED) added++;
        if (out & ZA_OUT_UPDATED) updated++;
        if (!(out & ZA_OUT_NOP)) {
            processed++;
            score = ns;
        }
    }
    if (!found) {
        if (zs_card(z)) {
            store_new(c, &r, k, z);
            key_event(c, k, FX_ZSET, (incr ? "zincr" : "zadd")); /* the new key was counted */
        } else {
            zs_free(z);
        }
    } else {
        e_set_ptr(r.e, z);
        if (added || updated) key_changed(c, k, FX_ZSET, (incr ? "zincr" : "zadd"));
    }
    dirty_count(mark, nan ? 0 : added + updated); /* Redis counts nothing when a score was NaN */
    if (nan) {
        reply_error(c, NANERR);
        goto done;
    }
reply:
    if (incr) {
        if (processed) reply_double(c, score);
        else reply_null(c);
    } else {
        reply_int(c, ch ? added + updated : added);
    }
done:
    if (scores != sbuf) s_free(scores);
}

static void cmd_zadd(client *c) { zadd_generic(c, 0); }
static void cmd_zincrby(client *c) { zadd_generic(c, ZA_INCR); }

/* ---- simple reads and removal ---- */

static void cmd_zrem(client *c) {
    kref r;
    zset *z;
    int f = get_zset(c, &c->argv[1], LOOKUP_NOSTATS, &r, &z);
    if (f < 0) return;
    if (!f) {
        reply_int(c, 0);
        return;
    }
    long long deleted = 0, mark = dirty_mark();
    for (int j = 2; j < c->argc; j++) {
        deleted += zs_del(&z, c->argv[j].p, c->argv[j].len);
        if (zs_card(z) == 0) break;
    }
    if (deleted) written(c, &r, &c->argv[1], z, "zrem");
    else e_set_ptr(r.e, z);
    dirty_count(mark, deleted);
    reply_int(c, deleted);
}

static void cmd_zcard(client *c) {
    kref r;
    zset *z;
    int f = get_zset(c, &c->argv[1], 0, &r, &z);
    if (f >= 0) reply_int(c, f ? (long long)zs_card(z) : 0);
}

static void cmd_zscore(client *c) {
    kref r;
    zset *z;
    double s;
    int f = get_zset(c, &c->argv[1], 0, &r, &z);
    if (f < 0) return;
    if (f && zs_score(z, c->argv[2].p, c->argv[2].len, &s)) reply_double(c, s);
    else reply_null(c);
}

static void cmd_zmscore(client *c) {
    kref r;
    zset *z = NULL;
    int f = get_zset(c, &c->argv[1], 0, &r, &z);
    if (f < 0) return;
    reply_array(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double s;
        if (f && zs_score(z, c->argv[j].p, c->argv[j].len, &s)) reply_double(c, s);
        else reply_null(c);
    }
}

static void rank_generic(client *c, int rev) {
    kref r;
    zset *z;
    int f = get_zset(c, &c->argv[1], 0, &r, &z);
    if (f < 0) return;
    long long rank = f ? zs_rank(z, c->argv[2].p, c->argv[2].len, NULL) : -1;
    if (rank < 0) reply_null(c);
    else reply_int(c, rev ? (long long)zs_card(z) - 1 - rank : rank);
}

static void cmd_zrank(client *c) { rank_generic(c, 0); }
static void cmd_zrevrank(client *c) { rank_generic(c, 1); }

static void cmd_zcount(client *c) {
    double min, max;
    int minex, maxex;
    if (!parse_score_bound(&c->argv[2], &min, &minex) || !parse_score_bound(&c->argv[3], &max, &maxex)) {
        reply_error(c, "ERR min or max is not a float");
        return;
    }
    kref r;
    zset *z;
    int f = get_zset(c, &c->argv[1], 0, &r, &z);
    if (f < 0) return;
    size_t lo = 0, hi = 0;
    if (f) score_ranks(z, min, minex, max, maxex, &lo, &hi);
    reply_int(c, (long long)(hi - lo));
}

static void cmd_zlexcount(client *c) {
    lexbound min, max;
    if (!parse_lex_bound(&c->argv[2], &min) || !parse_lex_bound(&c->argv[3], &max)) {
        reply_error(c, "ERR min or max not valid string range item");
        return;
    }
    kref r;
    zset *z;
    int f = get_zset(c, &c->argv[1], 0, &r, &z);
    if (f < 0) return;
    size_t lo = 0, hi = 0;
    if (f) lex_ranks(z, &min, &max, &lo, &hi);
    reply_int(c, (long long)(hi - lo));
}

/* ---- ZRANGE and friends ---- */

enum { RT_AUTO, RT_RANK, RT_SCORE, RT_LEX };
enum { DIR_AUTO, DIR_FWD, DIR_REV };

/* Z[REV]RANGE[BYSCORE|BYLEX] and ZRANGESTORE: arguments from argv[start] (the source key). */
static void zrange_generic(client *c, int start, const arg *dst, int rt, int dir) {
    const arg *key = &c->argv[start];
    int minidx = start + 1, maxidx = start + 2;
    int withscores = 0;
    long long offset = 0, limit = -1;
    for (int j = start + 3; j < c->argc; j++) {
        int left = c->argc - j - 1;
        const arg *a = &c->argv[j];
        if (!dst && arg_is(a, "withscores")) {
            withscores = 1;
        } else if (arg_is(a, "limit") && left >= 2) {
            if (!arg_ll(c, &c->argv[j + 1], &offset, NULL) || !arg_ll(c, &c->argv[j + 2], &limit, NULL)) return;
            j += 2;
        } else if (dir == DIR_AUTO && arg_is(a, "rev")) {
            dir = DIR_REV;
        } else if (rt == RT_AUTO && arg_is(a, "bylex")) {
            rt = RT_LEX;
        } else if (rt == RT_AUTO && arg_is(a, "byscore")) {
            rt = RT_SCORE;
        } else {
            reply_syntax_error(c);
            return;
        }
    }
    if (dir == DIR_AUTO) dir = DIR_FWD;
    if (rt == RT_AUTO) rt = RT_RANK;
    if (limit != -1 && rt == RT_RANK) {
        reply_error(c, "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
        return;
    }
    if (withscores && rt == RT_LEX) {
        reply_error(c, "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return;
    }
    int rev = dir == DIR_REV;
    if (rev && rt != RT_RANK) {
        int t = minidx;
        minidx = maxidx;
        maxidx = t;
    }
    long long rs = 0, re = 0;
    double smin = 0, smax = 0;
    int sminex = 0, smaxex = 0;
    lexbound lmin, lmax;
    if (rt == RT_RANK) {
        if (!arg_ll(c, &c->argv[minidx], &rs, NULL) || !arg_ll(c, &c->argv[maxidx], &re, NULL)) return;
    } else if (rt == RT_SCORE) {
        if (!parse_score_bound(&c->argv[minidx], &smin, &sminex) ||
            !parse_score_bound(&c->argv[maxidx], &smax, &smaxex)) {
            reply_error(c, "ERR min or max is not a float");
            return;
        }
    } else {
        if (!parse_lex_bound(&c->argv[minidx], &lmin) || !parse_lex_bound(&c->argv[maxidx], &lmax)) {
            reply_error(c, "ERR min or max not valid string range item");
            return;
        }
    }
    kref r;
    zset *z;
    int f = get_zset(c, key, 0, &r, &z);
    if (f < 0) return;
    /* the members to emit: n of them from ascending rank `first`, in direction d */
    size_t first = 0, n = 0;
    if (f) {
        size_t card = zs_card(z);
        if (rt == RT_RANK) {
            long long s, e;
            if (rank_range(rs, re, (long long)card, &s, &e)) {
                n = (size_t)(e - s + 1);
                first = rev ? card - 1 - (size_t)s : (size_t)s;
            }
        } else {
            size_t lo, hi;
            if (rt == RT_SCORE) score_ranks(z, smin, sminex, smax, smaxex, &lo, &hi);
            else lex_ranks(z, &lmin, &lmax, &lo, &hi);
            size_t avail = hi - lo;
            if (offset >= 0 && (unsigned long long)offset < avail) {
                n = avail - (size_t)offset;
                if (limit >= 0 && (unsigned long long)limit < n) n = (size_t)limit;
                first = rev ? hi - 1 - (size_t)offset : lo + (size_t)offset;
            }
        }
    }
    if (!dst) {
        reply_range(c, f ? z : NULL, first, n, rev ? -1 : 1, withscores);
        return;
    }
    /* ZRANGESTORE */
    zset *out = zs_new(n, 0);
    size_t maxlen = 0;
    if (n) {
        zs_iter it;
        zs_elem e;
        zs_iter_init(&it, z, first, rev ? -1 : 1);
        for (size_t i = 0; i < n && zs_iter_next(&it, &e); i++) {
            int o;
            zs_add(&out, e.score, e.m, e.len, 0, &o, NULL);
            if (e.len > maxlen) maxlen = e.len;
        }
    }
    store_result(c, dst, out, maxlen);
}

static void cmd_zrange(client *c) { zrange_generic(c, 1, NULL, RT_AUTO, DIR_AUTO); }
static void cmd_zrangestore(client *c) { zrange_generic(c, 2, &c->argv[1], RT_AUTO, DIR_AUTO); }
static void cmd_zrevrange(client *c) { zrange_generic(c, 1, NULL, RT_RANK, DIR_REV); }
static void cmd_zrangebyscore(client *c) { zrange_generic(c, 1, NULL, RT_SCORE, DIR_FWD); }
static void cmd_zrevrangebyscore(client *c) { zrange_generic(c, 1, NULL, RT_SCORE, DIR_REV); }
static void cmd_zrangebylex(client *c) { zrange_generic(c, 1, NULL, RT_LEX, DIR_FWD); }
static void cmd_zrevrangebylex(client *c) { zrange_generic(c, 1, NULL, RT_LEX, DIR_REV); }

/* ---- ZREMRANGEBY* ---- */

static void zremrange_generic(client *c, int rt) {
    long long rs = 0, re = 0;
    double smin = 0, smax = 0;
    int sminex = 0, smaxex = 0;
    lexbound lmin, lmax;
    if (rt == RT_RANK) {
        if (!arg_ll(c, &c->argv[2], &rs, NULL) || !arg_ll(c, &c->argv[3], &re, NULL)) return;
    } else if (rt == RT_SCORE) {
        if (!parse_score_bound(&c->argv[2], &smin, &sminex) || !parse_score_bound(&c->argv[3], &smax, &smaxex)) {
            reply_error(c, "ERR min or max is not a float");
            return;
        }
    } else if (!parse_lex_bound(&c->argv[2], &lmin) || !parse_lex_bound(&c->argv[3], &lmax)) {
        reply_error(c, "ERR min or max not valid string range item");
        return;
    }
    kref r;
    zset *z;
    int f = get_zset(c, &c->argv[1], LOOKUP_NOSTATS, &r, &z);
    if (f < 0) return;
    if (!f) {
        reply_int(c, 0);
        return;
    }
    size_t lo = 0, hi = 0;
    if (rt == RT_RANK) {
        long long s, e;
        if (rank_range(rs, re, (long long)zs_card(z), &s, &e)) {
            lo = (size_t)s;
            hi = (size_t)e + 1;
        }
    } else if (rt == RT_SCORE) {
        score_ranks(z, smin, sminex, smax, smaxex, &lo, &hi);
    } else {
        lex_ranks(z, &lmin, &lmax, &lo, &hi);
    }
    if (hi > lo) {
        long long mark = dirty_mark();
        zs_delete_range(&z, lo, hi - lo);
        written(c, &r, &c->argv[1], z, c->cmd->name);
        dirty_count(mark, (long long)(hi - lo));
    }
    reply_int(c, (long long)(hi - lo));
}

static void cmd_zremrangebyrank(client *c) { zremrange_generic(c, RT_RANK); }
static void cmd_zremrangebyscore(client *c) { zremrange_generic(c, RT_SCORE); }
static void cmd_zremrangebylex(client *c) { zremrange_generic(c, RT_LEX); }

/* ---- pops ---- */

/* A source key of a pop; a blocked command executed again passes over keys that meanwhile hold
 * another type (Redis serves waiters only from keys holding a sorted set), with no WRONGTYPE. */
static int get_source(client *c, const arg *k, kref *r, zset **z) {
    if (!(c->flags & CLIENT_REPROCESSING)) return get_zset(c, k, LOOKUP_NOSTATS, r, z);
    if (!db_lookup(c->db, k->p, k->len, LOOKUP_NOSTATS, r) || e_type(r->e) != OBJ_ZSET) return 0;
    *z = e_ptr(r->e);
    return 1;
}

/* Pops up to count members from the low (max = 0) or high end, replying each as member + score
 * (a [member, score] pair when nested); the key goes away when emptied. */
static void pop_reply(client *c, kref *r, const arg *k, zset *z, long long count, int max, int nested) {
    size_t card = zs_card(z), n = (unsigned long long)count < card ? (size_t)count : card;
    size_t first = max ? card - 1 : 0;
    zs_iter it;
    zs_elem e;
    zs_iter_init(&it, z, first, max ? -1 : 1);
    for (size_t i = 0; i < n && zs_iter_next(&it, &e); i++) {
        if (nested) reply_array(c, 2);
        reply_bulk(c, e.m, e.len);
        reply_double(c, e.score);
    }
    long long mark = dirty_mark();
    zs_delete_range(&z, max ? card - n : 0, n);
    written(c, r, k, z, max ? "zpopmax" : "zpopmin");
    dirty_count(mark, (long long)n); /* Redis: one per member popped */
}

/* BZPOPMIN/MAX (count < 0), ZMPOP and BZMPOP propagate as the plain pop from the key they chose, as Redis. */
static void propagate_zpop(client *c, const arg *k, int max, long long count) {
    char num[24];
    int len = snprintf(num, sizeof(num), "%lld", count);
    const char *pv[3] = {max ? "ZPOPMAX" : "ZPOPMIN", k->p, num};
    size_t pl[3] = {7, k->len, (size_t)len};
    prop_rewrite_strs(c, count < 0 ? 2 : 3, pv, pl);
}

static void zpop_generic(client *c, int max) {
    if (c->argc > 3) {
        reply_syntax_error(c);
        return;
    }
    long long count = -1;
    if (c->argc == 3 && (!str2ll(c->argv[2].p, c->argv[2].len, &count) || count < 0)) {
        reply_error(c, "ERR value is out of range, must be positive");
        return;
    }
    int nested = c->resp > 2 && count != -1;
    kref r;
    zset *z;
    int f = get_zset(c, &c->argv[1], LOOKUP_NOSTATS, &r, &z);
    if (f < 0) return;
    if (!f || count == 0) {
        reply_array(c, 0);
        return;
    }
    if (count == -1) count = 1;
    size_t card = zs_card(z), n = (unsigned long long)count < card ? (size_t)count : card;
    reply_array(c, nested ? (long)n : (long)(2 * n));
    pop_reply(c, &r, &c->argv[1], z, (long long)n, max, nested);
}

static void cmd_zpopmin(client *c) { zpop_generic(c, 0); }
static void cmd_zpopmax(client *c) { zpop_generic(c, 1); }

/* Parses "numkeys key... MIN|MAX [COUNT n]" from argv[idx]. */
static int parse_mpop(client *c, int idx, long long *numkeys, int *max, long long *count) {
    if (!arg_ll_range(c, &c->argv[idx], numkeys, 1, LONG_MAX, "ERR numkeys should be greater than 0")) return 0;
    if (*numkeys > c->argc - idx - 2) {
        reply_syntax_error(c);
        return 0;
    }
    int w = idx + (int)*numkeys + 1;
    if (arg_is(&c->argv[w], "min")) {
        *max = 0;
    } else if (arg_is(&c->argv[w], "max")) {
        *max = 1;
    } else {
        reply_syntax_error(c);
        return 0;
    }
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

/* Pops from the first non-empty set among keys as [key, [[member, score]...]]; 1 if it replied. */
static int mpop_keys(client *c, const arg *keys, long long numkeys, int max, long long count) {
    for (long long j = 0; j < numkeys; j++) {
        kref r;
        zset *z;
        int f = get_source(c, &keys[j], &r, &z);
        if (f < 0) return 1;
        if (!f) continue;
        size_t card = zs_card(z), n = (unsigned long long)count < card ? (size_t)count : card;
        reply_array(c, 2);
        reply_bulk(c, keys[j].p, keys[j].len);
        reply_array(c, (long)n);
        pop_reply(c, &r, &keys[j], z, (long long)n, max, 1);
        propagate_zpop(c, &keys[j], max, count);
        return 1;
    }
    return 0;
}

static void cmd_zmpop(client *c) {
    long long numkeys, count;
    int max;
    if (!parse_mpop(c, 1, &numkeys, &max, &count)) return;
    if (!mpop_keys(c, &c->argv[2], numkeys, max, count)) reply_null_array(c);
}

static void bzpop_generic(client *c, int max) {
    long long deadline;
    if (!parse_block_timeout(c, &c->argv[c->argc - 1], &deadline)) return;
    int nkeys = c->argc - 2;
    for (int j = 1; j <= nkeys; j++) {
        const arg *k = &c->argv[j];
        kref r;
        zset *z;
        int f = get_source(c, k, &r, &z);
        if (f < 0) return;
        if (!f) continue;
        reply_array(c, 3);
        reply_bulk(c, k->p, k->len);
        pop_reply(c, &r, k, z, 1, max, 0);
        propagate_zpop(c, k, max, -1);
        return;
    }
    if (!blocking_allowed(c)) { /* inside MULTI: as if timed out */
        reply_null_array(c);
        return;
    }
    block_for_keys(c, &c->argv[1], nkeys, deadline, BLOCK_TIMEOUT_NULL_ARRAY);
}

static void cmd_bzpopmin(client *c) { bzpop_generic(c, 0); }
static void cmd_bzpopmax(client *c) { bzpop_generic(c, 1); }

static void cmd_bzmpop(client *c) {
    long long numkeys, count, deadline;
    int max;
    if (!parse_mpop(c, 2, &numkeys, &max, &count)) return;
    if (!parse_block_timeout(c, &c->argv[1], &deadline)) return;
    if (mpop_keys(c, &c->argv[3], numkeys, max, count)) return;
    if (!blocking_allowed(c)) {
        reply_null_array(c);
        return;
    }
    block_for_keys(c, &c->argv[3], (int)numkeys, deadline, BLOCK_TIMEOUT_NULL_ARRAY);
}

/* ---- ZRANDMEMBER ---- */

static uint64_t rnd_state;
static uint64_t rnd(void) {
    if (!rnd_state) rnd_state = (uint64_t)ustime() * 0x9E3779B97F4A7C15ULL | 1;
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

/* A small set of ranks (open addressing) for picking distinct random members. */
typedef struct rankset {
    size_t *slot;
    size_t cap;
} rankset;

static int rankset_add(rankset *s, size_t v) {
    size_t i = (size_t)((v * 0x9E3779B97F4A7C15ULL) >> 7) & (s->cap - 1);
    while (s->slot[i] != (size_t)-1) {
        if (s->slot[i] == v) return 0;
        i = (i + 1) & (s->cap - 1);
    }
    s->slot[i] = v;
    return 1;
}

static void cmd_zrandmember(client *c) {
    kref r;
    zset *z;
    if (c->argc == 2) {
        int f = get_zset(c, &c->argv[1], 0, &r, &z);
        if (f < 0) return;
        if (!f) {
            reply_null(c);
            return;
        }
        zs_elem e;
        zs_at(z, rnd() % zs_card(z), &e);
        reply_bulk(c, e.m, e.len);
        return;
    }
    long long l;
    if (!str2ll(c->argv[2].p, c->argv[2].len, &l)) {
        reply_not_int(c);
        return;
    }
    if (l < -LLONG_MAX) {
        reply_error(c, "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
        return;
    }
    int withscores = 0;
    if (c->argc > 4 || (c->argc == 4 && !arg_is(&c->argv[3], "withscores"))) {
        reply_syntax_error(c);
        return;
    }
    if (c->argc == 4) {
        withscores = 1;
        if (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2) {
            reply_error(c, "ERR value is out of range");
            return;
        }
    }
    int f = get_zset(c, &c->argv[1], 0, &r, &z);
    if (f < 0) return;
    if (!f || l == 0) {
        reply_array(c, 0);
        return;
    }
    size_t size = zs_card(z);
    int uniq = l > 0;
    unsigned long long count = l > 0 ? (unsigned long long)l : (unsigned long long)-l;
    zs_elem e;
    if (!uniq || count == 1) {
        reply_elems_header(c, (long)count, withscores);
        for (unsigned long long i = 0; i < count; i++) {
            zs_at(z, rnd() % size, &e);
            reply_elem(c, &e, withscores);
        }
        return;
    }
    if (count >= size) { /* the whole set, from the top (as Redis 7.0 replies it) */
        reply_range(c, z, size - 1, size, -1, withscores);
        return;
    }
    /* distinct members in random order */
    rankset rs = {NULL, 16};
    while (rs.cap < count * 2) rs.cap <<= 1;
    rs.slot = s_malloc(rs.cap * sizeof(size_t));
    memset(rs.slot, 0xff, rs.cap * sizeof(size_t));
    reply_elems_header(c, (long)count, withscores);
    for (unsigned long long got = 0; got < count;) {
        size_t pick = rnd() % size;
        if (!rankset_add(&rs, pick)) continue;
        zs_at(z, pick, &e);
        reply_elem(c, &e, withscores);
        got++;
    }
    s_free(rs.slot);
}

/* ---- ZUNION / ZINTER / ZDIFF and their stores ---- */

enum { OP_UNION, OP_INTER, OP_DIFF };

typedef struct zsrc {
    int type; /* 0 missing, OBJ_ZSET or OBJ_SET */
    void *v;
    double weight;
    size_t len;
} zsrc;

static int src_find(const zsrc *s, const char *m, size_t len, double *score) {
    if (s->type == OBJ_ZSET) return zs_score(s->v, m, len, score);
    if (s->type == OBJ_SET && set_has(s->v, m, len)) {
        *score = 1.0;
        return 1;
    }
    return 0;
}

typedef void src_visit_fn(void *ud, const char *m, size_t len, double score);

typedef struct set_walk {
    src_visit_fn *fn;
    void *ud;
} set_walk;

static void set_walk_visit(void *ud, const char *m, size_t len) {
    set_walk *w = ud;
    w->fn(w->ud, m, len, 1.0);
}

static void src_foreach(const zsrc *s, src_visit_fn *fn, void *ud) {
    if (s->type == OBJ_ZSET) {
        zs_iter it;
        zs_elem e;
        zs_iter_init(&it, s->v, 0, 1);
        while (zs_iter_next(&it, &e)) fn(ud, e.m, e.len, e.score);
    } else if (s->type == OBJ_SET) {
        set_walk w = {fn, ud};
        set_foreach(s->v, set_walk_visit, &w);
    }
}

static void aggregate(double *target, double v, int aggr) {
    if (aggr == ZS_AGG_SUM) {
        *target += v;
        if (isnan(*target)) *target = 0.0;
    } else if (aggr == ZS_AGG_MIN) {
        *target = v < *target ? v : *target;
    } else {
        *target = v > *target ? v : *target;
    }
}

typedef struct setop {
    zsrc *src;
    int n, aggr, card_only;
    zset *acc;
    size_t maxlen;
    unsigned long long card, limit;
    int i; /* the source being walked (union) */
} setop;

static void note_len(setop *op, size_t len) {
    if (len > op->maxlen) op->maxlen = len;
}

static void union_visit(void *ud, const char *m, size_t len, double score) {
    setop *op = ud;
    double s = op->src[op->i].weight * score;
    if (isnan(s)) s = 0;
    zs_acc_merge(op->acc, m, len, s, op->aggr);
    note_len(op, len);
}

static void inter_visit(void *ud, const char *m, size_t len, double score) {
    setop *op = ud;
    if (op->card_only && op->limit && op->card >= op->limit) return;
    double s = op->src[0].weight * score, v;
    if (isnan(s)) s = 0;
    int j;
    for (j = 1; j < op->n; j++) {
        if (op->src[j].v == op->src[0].v) {
            v = score * op->src[j].weight;
        } else if (src_find(&op->src[j], m, len, &v)) {
            v *= op->src[j].weight;
        } else {
            break;
        }
        aggregate(&s, v, op->aggr);
    }
    if (j < op->n) return;
    if (op->card_only) {
        op->card++;
    } else {
        zs_acc_add(op->acc, m, len, s);
        note_len(op, len);
    }
}

static void diff_visit(void *ud, const char *m, size_t len, double score) {
    setop *op = ud;
    double v;
    for (int j = 1; j < op->n; j++)
        if (op->src[j].type && (op->src[j].v == op->src[0].v || src_find(&op->src[j], m, len, &v))) return;
    zs_acc_add(op->acc, m, len, score);
    note_len(op, len);
}

static void setop_generic(client *c, const arg *dst, int numidx, int opk, int card_only) {
    long long setnum;
    if (!arg_ll(c, &c->argv[numidx], &setnum, NULL)) return;
    if (setnum < 1) {
        reply_errorf(c, "ERR at least 1 input key is needed for '%s' command", c->cmd->fullname);
        return;
    }
    if (setnum > c->argc - (numidx + 1)) {
        reply_syntax_error(c);
        return;
    }
    zsrc *src = s_calloc(sizeof(zsrc) * (size_t)setnum);
    int j = numidx + 1;
    for (long long i = 0; i < setnum; i++, j++) {
        kref r;
        if (db_lookup(c->db, c->argv[j].p, c->argv[j].len, 0, &r)) {
            int t = e_type(r.e);
            if (t != OBJ_ZSET && t != OBJ_SET) {
                s_free(src);
                reply_wrongtype(c);
                return;
            }
            src[i].type = t;
            src[i].v = e_ptr(r.e);
            src[i].len = t == OBJ_ZSET ? zs_card(src[i].v) : set_len(src[i].v);
        }
        src[i].weight = 1.0;
    }
    int aggr = ZS_AGG_SUM, withscores = 0;
    long long limit = 0;
    while (j < c->argc) {
        int remaining = c->argc - j;
        const arg *a = &c->argv[j];
        if (opk != OP_DIFF && !card_only && remaining >= setnum + 1 && arg_is(a, "weights")) {
            j++;
            for (long long i = 0; i < setnum; i++, j++) {
                if (!parse_float(&c->argv[j], &src[i].weight)) {
                    s_free(src);
                    reply_error(c, "ERR weight value is not a float");
                    return;
                }
            }
        } else if (opk != OP_DIFF && !card_only && remaining >= 2 && arg_is(a, "aggregate")) {
            const arg *v = &c->argv[j + 1];
            if (arg_is(v, "sum")) aggr = ZS_AGG_SUM;
            else if (arg_is(v, "min")) aggr = ZS_AGG_MIN;
            else if (arg_is(v, "max")) aggr = ZS_AGG_MAX;
            else {
                s_free(src);
                reply_syntax_error(c);
                return;
            }
            j += 2;
        } else if (!dst && !card_only && arg_is(a, "withscores")) {
            j++;
            withscores = 1;
        } else if (card_only && remaining >= 2 && arg_is(a, "limit")) {
            if (!str2ll(c->argv[j + 1].p, c->argv[j + 1].len, &limit) || limit < 0) {
                s_free(src);
                reply_error(c, "ERR LIMIT can't be negative");
                return;
            }
            j += 2;
        } else {
            s_free(src);
            reply_syntax_error(c);
            return;
        }
    }
    if (opk != OP_DIFF) { /* smallest first (stable, as Redis's sort of equal sizes leaves them) */
        for (long long a = 1; a < setnum; a++) {
            zsrc t = src[a];
            long long b = a - 1;
            while (b >= 0 && src[b].len > t.len) {
                src[b + 1] = src[b];
                b--;
            }
            src[b + 1] = t;
        }
    }
    setop op = {.src = src, .n = (int)setnum, .aggr = aggr, .card_only = card_only, .limit = (unsigned long long)limit};
    op.acc = card_only ? NULL : zs_acc_new();
    if (opk == OP_INTER) {
        if (src[0].len > 0) src_foreach(&src[0], inter_visit, &op);
    } else if (opk == OP_UNION) {
        for (op.i = 0; op.i < op.n; op.i++)
            if (src[op.i].len) src_foreach(&src[op.i], union_visit, &op);
    } else if (src[0].len > 0) {
        src_foreach(&src[0], diff_visit, &op);
    }
    s_free(src);
    if (card_only) {
        reply_int(c, (long long)op.card);
        return;
    }
    zs_acc_finish(op.acc);
    if (dst) {
        store_result(c, dst, op.acc, op.maxlen);
    } else {
        reply_range(c, op.acc, 0, zs_card(op.acc), 1, withscores);
        zs_free(op.acc);
    }
}

static void cmd_zunion(client *c) { setop_generic(c, NULL, 1, OP_UNION, 0); }
static void cmd_zinter(client *c) { setop_generic(c, NULL, 1, OP_INTER, 0); }
static void cmd_zdiff(client *c) { setop_generic(c, NULL, 1, OP_DIFF, 0); }
static void cmd_zintercard(client *c) { setop_generic(c, NULL, 1, OP_INTER, 1); }
static void cmd_zunionstore(client *c) { setop_generic(c, &c->argv[1], 2, OP_UNION, 0); }
static void cmd_zinterstore(client *c) { setop_generic(c, &c->argv[1], 2, OP_INTER, 0); }
static void cmd_zdiffstore(client *c) { setop_generic(c, &c->argv[1], 2, OP_DIFF, 0); }

/* ---- ZSCAN ---- */

/* The step's member/score texts, kept until the cursor (which goes first) is known. */
typedef struct scan_buf {
    const arg *pat;
    char *data;
    size_t len, cap;
    long n;
} scan_buf;

static void sb_put(scan_buf *b, const char *p, size_t len) {
    if (b->len + len + sizeof(size_t) > b->cap) {
        b->cap = (b->len + len + sizeof(size_t)) * 2 + 256;
        b->data = s_realloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, &len, sizeof(size_t));
    memcpy(b->data + b->len + sizeof(size_t), p, len);
    b->len += sizeof(size_t) + len;
    b->n++;
}

static void scan_collect(void *ud, const char *m, size_t mlen, const char *s, size_t slen) {
    scan_buf *b = ud;
    if (b->pat && !glob_match(b->pat->p, b->pat->len, m, mlen, 0)) return;
    sb_put(b, m, mlen);
    sb_put(b, s, slen);
}

static void cmd_zscan(client *c) {
    unsigned long long cursor;
    if (!parse_scan_cursor(c, &c->argv[2], &cursor)) return;
    kref r;
    zset *z;
    int f = get_zset(c, &c->argv[1], 0, &r, &z);
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
    uint64_t next = zs_scan(z, cursor, (long)count, scan_collect, &b);
    char buf[LL_STR_SIZE];
    int blen = ull2str(buf, next);
    reply_array(c, 2);
    reply_bulk(c, buf, (size_t)blen);
    reply_array(c, b.n);
    for (size_t off = 0; off < b.len;) {
        size_t l;
        memcpy(&l, b.data + off, sizeof(size_t));
        reply_bulk(c, b.data + off + sizeof(size_t), l);
        off += sizeof(size_t) + l;
    }
    s_free(b.data);
}

/* ---- the command table ---- */


command zset_commands[] = {
    {"zadd", cmd_zadd},
    {"zincrby", cmd_zincrby},
    {"zrem", cmd_zrem},
    {"zcard", cmd_zcard},
    {"zscore", cmd_zscore},
    {"zmscore", cmd_zmscore},
    {"zrank", cmd_zrank},
    {"zrevrank", cmd_zrevrank},
    {"zcount", cmd_zcount},
    {"zlexcount", cmd_zlexcount},
    {"zrange", cmd_zrange},
    {"zrangestore", cmd_zrangestore},
    {"zrevrange", cmd_zrevrange},
    {"zrangebyscore", cmd_zrangebyscore},
    {"zrevrangebyscore", cmd_zrevrangebyscore},
    {"zrangebylex", cmd_zrangebylex},
    {"zrevrangebylex", cmd_zrevrangebylex},
    {"zremrangebyrank", cmd_zremrangebyrank},
    {"zremrangebyscore", cmd_zremrangebyscore},
    {"zremrangebylex", cmd_zremrangebylex},
    {"zpopmin", cmd_zpopmin},
    {"zpopmax", cmd_zpopmax},
    {"zmpop", cmd_zmpop},
    {"bzpopmin", cmd_bzpopmin},
    {"bzpopmax", cmd_bzpopmax},
    {"bzmpop", cmd_bzmpop},
    {"zrandmember", cmd_zrandmember},
    {"zunion", cmd_zunion},
    {"zinter", cmd_zinter},
    {"zdiff", cmd_zdiff},
    {"zintercard", cmd_zintercard},
    {"zunionstore", cmd_zunionstore},
    {"zinterstore", cmd_zinterstore},
    {"zdiffstore", cmd_zdiffstore},
    {"zscan", cmd_zscan},
    {0}};
