/* strings: the string commands (GET, SET and friends, counters, ranges, LCS),
 * with Redis 7.0's argument rules, replies and error texts. */
#include "commands/command.h"
#include "commands/commands.h"
#include "commands/propagate.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "types/rstr.h"
#include "types/tstring.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* 1 found a string, 0 missing, -1 wrong type (replied). */
static int lookup_string(client *c, const arg *k, int flags, kref *r) {
    if (!db_lookup(c->db, k->p, k->len, flags, r)) return 0;
    if (e_type(r->e) != OBJ_STRING) {
        reply_wrongtype(c);
        return -1;
    }
    return 1;
}

static void reply_value(client *c, const uint8_t *e) {
    static str_buf sb; /* a compressed value's bytes, copied into the reply at once */
    char buf[LL_STR_SIZE];
    size_t len;
    const char *p = str_read(e, buf, &len, &sb);
    reply_bulk(c, p, len);
}

static int check_len(client *c, unsigned long long total) {
    if (total > (unsigned long long)srv.proto_max_bulk_len) {
        reply_error(c, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return 0;
    }
    return 1;
}

void cmd_get(client *c) {
    kref r;
    int f = lookup_string(c, &c->argv[1], 0, &r);
    if (f == 0) reply_null(c);
    else if (f > 0) reply_value(c, r.e);
}

enum { SET_NX = 1, SET_XX = 2, SET_GET = 4, SET_KEEPTTL = 8, SET_EX = 16, SET_PX = 32, SET_EXAT = 64,
       SET_PXAT = 128, SET_PERSIST = 256 };
#define SET_ANY_EXPIRE (SET_EX | SET_PX | SET_EXAT | SET_PXAT)

/* Parses SET/GETEX options from argv[first].  Returns 0 after replying an error. */
static int parse_set_flags(client *c, int first, int is_getex, int *flags, arg **expire) {
    *flags = 0;
    *expire = NULL;
    for (int j = first; j < c->argc; j++) {
        arg *a = &c->argv[j];
        int more = j + 1 < c->argc;
        int f = *flags;
        if (!is_getex && arg_is(a, "nx") && !(f & SET_XX)) *flags |= SET_NX;
        else if (!is_getex && arg_is(a, "xx") && !(f & SET_NX)) *flags |= SET_XX;
        else if (!is_getex && arg_is(a, "get")) *flags |= SET_GET;
        else if (!is_getex && arg_is(a, "keepttl") && !(f & (SET_ANY_EXPIRE | SET_PERSIST))) *flags |= SET_KEEPTTL;
        else if (is_getex && arg_is(a, "persist") && !(f & (SET_ANY_EXPIRE | SET_KEEPTTL))) *flags |= SET_PERSIST;
        else if (more && (arg_is(a, "ex") || arg_is(a, "px") || arg_is(a, "exat") || arg_is(a, "pxat"))) {
            /* Each expire option excludes the others, but may repeat (the last one wins), as in Redis. */
            int kind = arg_is(a, "ex") ? SET_EX : arg_is(a, "px") ? SET_PX : arg_is(a, "exat") ? SET_EXAT : SET_PXAT;
            if (f & ((SET_ANY_EXPIRE & ~kind) | SET_KEEPTTL | SET_PERSIST)) {
                reply_syntax_error(c);
                return 0;
            }
            *flags |= kind;
            *expire = &c->argv[++j];
        } else {
            reply_syntax_error(c);
            return 0;
        }
    }
    return 1;
}

/* Converts an EX/PX/EXAT/PXAT argument into an absolute time in ms. */
static int expire_arg(client *c, const arg *a, int flags, long long *when) {
    long long v;
    if (!arg_ll(c, a, &v, NULL)) return 0;
    char err[128];
    snprintf(err, sizeof(err), "ERR invalid expire time in '%s' command", c->cmd->fullname);
    if (v <= 0) {
        reply_error(c, err);
        return 0;
    }
    if (flags & (SET_EX | SET_EXAT)) {
        if (v > LLONG_MAX / 1000) {
            reply_error(c, err);
            return 0;
        }
        v *= 1000;
    }
    if (flags & (SET_EX | SET_PX)) {
        long long now = srv.cmd_now_ms;
        if (v > LLONG_MAX - now) {
            reply_error(c, err);
            return 0;
        }
        v += now;
    }
    *when = v;
    return 1;
}

static void set_generic(client *c, const arg *key, const arg *val, int flags, long long when) {
    kref r;
    int found;
    if (flags & SET_GET) {
        found = lookup_string(c, key, 0, &r);
        if (found < 0) return;
        if (found) reply_value(c, r.e);
        else reply_null(c);
    } else {
        found = db_lookup(c->db, key->p, key->len, LOOKUP_NOTOUCH | LOOKUP_NOSTATS, &r);
    }
    if (((flags & SET_NX) && found) || ((flags & SET_XX) && !found)) {
        if (!(flags & SET_GET)) reply_null(c);
        return;
    }
    if (!found) r.h = 0;
    entry_value v = str_value(val->p, val->len);
    db_set_value_at(&r, key->p, key->len, &v, (flags & SET_KEEPTTL) ? -2 : (flags & SET_ANY_EXPIRE) ? when : -1);
    key_event(c, key, FX_STRING, "set");
    if (flags & SET_ANY_EXPIRE) key_event(c, key, FX_GENERIC, "expire");
    if (flags & SET_ANY_EXPIRE) { /* relative and second-based expiries propagate as one absolute form */
        char ms[24];
        int n = snprintf(ms, sizeof(ms), "%lld", when);
        const char *pv[5] = {"SET", key->p, val->p, "PXAT", ms};
        size_t pl[5] = {3, key->len, val->len, 4, (size_t)n};
        prop_rewrite_strs(c, 5, pv, pl);
    }
    if (!(flags & SET_GET)) reply_ok(c);
}

void cmd_set(client *c) {
    int flags;
    arg *exp;
    long long when = -1;
    if (!parse_set_flags(c, 3, 0, &flags, &exp)) return;
    if (exp && !expire_arg(c, exp, flags, &when)) return;
    set_generic(c, &c->argv[1], &c->argv[2], flags, when);
}

void cmd_setnx(client *c) {
    kref r;
    if (db_lookup(c->db, c->argv[1].p, c->argv[1].len, LOOKUP_NOTOUCH | LOOKUP_NOSTATS, &r)) {
        reply_int(c, 0);
        return;
    }
    entry_value v = str_value(c->argv[2].p, c->argv[2].len);
    db_set_value(c->db, c->argv[1].p, c->argv[1].len, &v, -1);
    key_event(c, &c->argv[1], FX_STRING, "set");
    reply_int(c, 1);
}

static void setex_generic(client *c, int flags) {
    long long when;
    if (!expire_arg(c, &c->argv[2], flags, &when)) return;
    set_generic(c, &c->argv[1], &c->argv[3], flags, when);
}
void cmd_setex(client *c) { setex_generic(c, SET_EX); }
void cmd_psetex(client *c) { setex_generic(c, SET_PX); }

void cmd_getset(client *c) { set_generic(c, &c->argv[1], &c->argv[2], SET_GET, -1); }

void cmd_getdel(client *c) {
    kref r;
    int f = lookup_string(c, &c->argv[1], 0, &r);
    if (f < 0) return;
    if (!f) {
        reply_null(c);
        return;
    }
    reply_value(c, r.e);
    db_delete(&r);
    prop_rewrite_del(c, &c->argv[1]);
}

void cmd_getex(client *c) {
    int flags;
    arg *exp;
    long long when = -1;
    if (!parse_set_flags(c, 2, 1, &flags, &exp)) return;
    kref r;
    int f = lookup_string(c, &c->argv[1], 0, &r);
    if (f < 0) return;
    if (!f) {
        reply_null(c);
        return;
    }
    if (exp && !expire_arg(c, exp, flags, &when)) return;
    reply_value(c, r.e);
    if ((flags & (SET_EXAT | SET_PXAT)) && when < srv.cmd_now_ms && !srv.keep_expired) {
        db_delete(&r); /* an absolute time already past deletes the key */
        prop_rewrite_del(c, &c->argv[1]);
    } else if (flags & SET_ANY_EXPIRE) {
        db_set_ttl(&r, when);
        key_event(c, &c->argv[1], FX_GENERIC, "expire");
        prop_rewrite_pexpireat(c, &c->argv[1], when);
    } else if ((flags & SET_PERSIST) && e_has_ttl(r.e)) {
        db_set_ttl(&r, -1);
        key_event(c, &c->argv[1], FX_GENERIC, "persist");
        arg pv[2] = {{(char *)"PERSIST", 7}, c->argv[1]};
        prop_rewrite(c, 2, pv);
    }
}

void cmd_mget(client *c) {
    reply_array(c, c->argc - 1);
    for (int i = 1; i < c->argc; i++) {
        kref r;
        if (db_lookup(c->db, c->argv[i].p, c->argv[i].len, 0, &r) && e_type(r.e) == OBJ_STRING) reply_value(c, r.e);
        else reply_null(c);
    }
}

static void mset_generic(client *c, int nx) {
    if (c->argc % 2 == 0) {
        char buf[96];
        snprintf(buf, sizeof(buf), "ERR wrong number of arguments for '%s' command", c->cmd->fullname);
        reply_error(c, buf);
        return;
    }
    if (nx) {
        for (int i = 1; i < c->argc; i += 2)
            if (db_lookup(c->db, c->argv[i].p, c->argv[i].len, LOOKUP_NOTOUCH | LOOKUP_NOSTATS, NULL)) {
                reply_int(c, 0);
                return;
            }
    }
    for (int i = 1; i < c->argc; i += 2) {
        entry_value v = str_value(c->argv[i + 1].p, c->argv[i + 1].len);
        db_set_value(c->db, c->argv[i].p, c->argv[i].len, &v, -1);
        key_event(c, &c->argv[i], FX_STRING, "set");
    }
    if (nx) reply_int(c, 1);
    else reply_ok(c);
}
void cmd_mset(client *c) { mset_generic(c, 0); }
void cmd_msetnx(client *c) { mset_generic(c, 1); }

void cmd_append(client *c) {
    kref r;
    const arg *k = &c->argv[1], *add = &c->argv[2];
    int f = lookup_string(c, k, LOOKUP_NOSTATS, &r);
    if (f < 0) return;
    if (!f) {
        entry_value v = str_value(add->p, add->len);
        db_set_value(c->db, k->p, k->len, &v, -1);
        key_event(c, k, FX_STRING, "append");
        reply_int(c, (long long)add->len);
        return;
    }
    char buf[LL_STR_SIZE];
    size_t len;
    const char *old = str_get(r.e, buf, &len);
    if (!check_len(c, (unsigned long long)len + add->len)) return;
    if (e_store(r.e) == VAL_PTR) { /* raw: grow in place */
        rstr *s = rstr_reserve(e_ptr(r.e), len + add->len);
        memcpy(s->data + s->len, add->p, add->len);
        s->len += add->len;
        s->data[s->len] = 0;
        e_set_ptr(r.e, s);
        key_changed(c, k, FX_STRING, "append");
        reply_int(c, (long long)s->len);
        return;
    }
    rstr *s = rstr_new(old, len, len + add->len);
    memcpy(s->data + len, add->p, add->len);
    s->len = len + add->len;
    s->data[s->len] = 0;
    entry_value v = {.type = OBJ_STRING, .store = VAL_PTR, .ptr = s};
    db_set_value(c->db, k->p, k->len, &v, -2);
    key_event(c, k, FX_STRING, "append");
    reply_int(c, (long long)s->len);
}

void cmd_strlen(client *c) {
    kref r;
    int f = lookup_string(c, &c->argv[1], 0, &r);
    if (f < 0) return;
    if (!f) {
        reply_int(c, 0);
        return;
    }
    reply_int(c, (long long)str_len(r.e));
}

static void incr_generic(client *c, long long by) {
    kref r;
    const arg *k = &c->argv[1];
    int f = lookup_string(c, k, LOOKUP_NOSTATS, &r);
    if (f < 0) return;
    long long v = 0;
    if (f) {
        if (e_store(r.e) == VAL_INT) {
            v = e_int(r.e);
        } else {
            char buf[LL_STR_SIZE];
            size_t len;
            const char *p = str_get(r.e, buf, &len);
            if (!str2ll(p, len, &v)) {
                reply_not_int(c);
                return;
            }
        }
    }
    if ((by < 0 && v < 0 && by < LLONG_MIN - v) || (by > 0 && v > 0 && by > LLONG_MAX - v)) {
        reply_error(c, "ERR increment or decrement would overflow");
        return;
    }
    v += by;
    entry_value nv = {.type = OBJ_STRING, .store = VAL_INT, .ival = v};
    if (!f) r.h = 0;
    db_set_value_at(&r, k->p, k->len, &nv, -2);
    key_event(c, k, FX_STRING, "incrby");
    reply_int(c, v);
}

void cmd_incr(client *c) { incr_generic(c, 1); }
void cmd_decr(client *c) { incr_generic(c, -1); }
void cmd_incrby(client *c) {
    long long by;
    if (arg_ll(c, &c->argv[2], &by, NULL)) incr_generic(c, by);
}
void cmd_decrby(client *c) {
    long long by;
    if (!arg_ll(c, &c->argv[2], &by, NULL)) return;
    if (by == LLONG_MIN) {
        reply_error(c, "ERR decrement would overflow");
        return;
    }
    incr_generic(c, -by);
}

void cmd_incrbyfloat(client *c) {
    kref r;
    const arg *k = &c->argv[1];
    int f = lookup_string(c, k, LOOKUP_NOSTATS, &r);
    if (f < 0) return;
    long double v = 0, by;
    if (f) {
        char buf[LL_STR_SIZE];
        size_t len;
        const char *p = str_get(r.e, buf, &len);
        if (!str2ld(p, len, &v)) {
            reply_error(c, "ERR value is not a valid float");
            return;
        }
    }
    if (!str2ld(c->argv[2].p, c->argv[2].len, &by)) {
        reply_error(c, "ERR value is not a valid float");
        return;
    }
    v += by;
    if (isnan(v) || isinf(v)) {
        reply_error(c, "ERR increment would produce NaN or Infinity");
        return;
    }
    char out[LD_STR_SIZE];
    int n = ld2str(out, sizeof(out), v);
    /* Redis stores the result as a plain string (embstr, raw when longer), not as an integer. */
    entry_value nv = str_bytes_value(out, (size_t)n);
    if (!f) r.h = 0;
    db_set_value_at(&r, k->p, k->len, &nv, -2);
    key_event(c, k, FX_STRING, "incrbyfloat");
    /* The sum as text, so that a replica does not redo the floating-point arithmetic. */
    const char *pv[4] = {"SET", k->p, out, "KEEPTTL"};
    size_t pl[4] = {3, k->len, (size_t)n, 7};
    prop_rewrite_strs(c, 4, pv, pl);
    reply_bulk(c, out, (size_t)n);
}

void cmd_getrange(client *c) {
    long long start, end;
    if (!arg_ll(c, &c->argv[2], &start, NULL) || !arg_ll(c, &c->argv[3], &end, NULL)) return;
    kref r;
    int f = lookup_string(c, &c->argv[1], 0, &r);
    if (f < 0) return;
    if (!f) {
        reply_bulk(c, "", 0);
        return;
    }
    char buf[LL_STR_SIZE];
    size_t len;
    const char *p = str_get(r.e, buf, &len);
    long long slen = (long long)len;
    if (start < 0 && end < 0 && start > end) {
        reply_bulk(c, "", 0);
        return;
    }
    if (start < 0) start = slen + start;
    if (end < 0) end = slen + end;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= slen) end = slen - 1;
    if (start > end || slen == 0) reply_bulk(c, "", 0);
    else reply_bulk(c, p + start, (size_t)(end - start + 1));
}

void cmd_setrange(client *c) {
    long long off;
    const arg *k = &c->argv[1], *val = &c->argv[3];
    if (!arg_ll(c, &c->argv[2], &off, NULL)) return;
    if (off < 0) {
        reply_error(c, "ERR offset is out of range");
        return;
    }
    kref r;
    int f = lookup_string(c, k, LOOKUP_NOSTATS, &r);
    if (f < 0) return;
    if (!f) {
        if (val->len == 0) {
            reply_int(c, 0);
            return;
        }
        if (!check_len(c, (unsigned long long)off + val->len)) return;
        rstr *s = rstr_new(NULL, (size_t)off + val->len, 0);
        memcpy(s->data + off, val->p, val->len);
        entry_value v = {.type = OBJ_STRING, .store = VAL_PTR, .ptr = s};
        db_set_value(c->db, k->p, k->len, &v, -1);
        key_event(c, k, FX_STRING, "setrange");
        reply_int(c, (long long)s->len);
        return;
    }
    char buf[LL_STR_SIZE];
    size_t len;
    const char *old = str_get(r.e, buf, &len);
    if (val->len == 0) {
        reply_int(c, (long long)len);
        return;
    }
    if (!check_len(c, (unsigned long long)off + val->len)) return;
    size_t newlen = (size_t)off + val->len > len ? (size_t)off + val->len : len;
    if (e_store(r.e) == VAL_PTR) {
        rstr *s = rstr_reserve(e_ptr(r.e), newlen);
        if (newlen > s->len) memset(s->data + s->len, 0, newlen - s->len);
        memcpy(s->data + off, val->p, val->len);
        s->len = newlen;
        s->data[newlen] = 0;
        e_set_ptr(r.e, s);
        key_changed(c, k, FX_STRING, "setrange");
        reply_int(c, (long long)newlen);
        return;
    }
    rstr *s = rstr_new(NULL, newlen, 0);
    memcpy(s->data, old, len);
    memcpy(s->data + off, val->p, val->len);
    entry_value v = {.type = OBJ_STRING, .store = VAL_PTR, .ptr = s};
    db_set_value(c->db, k->p, k->len, &v, -2);
    key_event(c, k, FX_STRING, "setrange");
    reply_int(c, (long long)newlen);
}

void cmd_lcs(client *c) {
    kref ra, rb;
    int fa = db_lookup(c->db, c->argv[1].p, c->argv[1].len, 0, &ra);
    int fb = db_lookup(c->db, c->argv[2].p, c->argv[2].len, 0, &rb);
    if ((fa && e_type(ra.e) != OBJ_STRING) || (fb && e_type(rb.e) != OBJ_STRING)) {
        reply_error(c, "ERR The specified keys must contain string values");
        return;
    }
    int getlen = 0, getidx = 0, withmatchlen = 0;
    long long minmatchlen = 0;
    for (int j = 3; j < c->argc; j++) {
        arg *o = &c->argv[j];
        int more = j + 1 < c->argc;
        if (arg_is(o, "idx")) getidx = 1;
        else if (arg_is(o, "len")) getlen = 1;
        else if (arg_is(o, "withmatchlen")) withmatchlen = 1;
        else if (arg_is(o, "minmatchlen") && more) {
            if (!arg_ll(c, &c->argv[++j], &minmatchlen, NULL)) return;
            if (minmatchlen < 0) minmatchlen = 0;
        } else {
            reply_syntax_error(c);
            return;
        }
    }
    if (getidx && getlen) {
        reply_error(c, "ERR If you want both the length and indexes, please just use IDX.");
        return;
    }
    char bufa[LL_STR_SIZE], bufb[LL_STR_SIZE];
    size_t alen = 0, blen = 0;
    const char *a = fa ? str_get(ra.e, bufa, &alen) : "";
    const char *b = fb ? str_get(rb.e, bufb, &blen) : "";
    unsigned long long cells = (unsigned long long)(alen + 1) * (blen + 1);
    if (alen >= UINT32_MAX - 1 || blen >= UINT32_MAX - 1 || cells * sizeof(uint32_t) > (unsigned long long)srv.proto_max_bulk_len) {
        reply_error(c, "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
        return;
    }
    uint32_t *dp = s_malloc((size_t)cells * sizeof(uint32_t));
#define LCS(A, B) dp[(B) + ((A) * (blen + 1))]
    for (uint32_t i = 0; i <= alen; i++) {
        for (uint32_t j = 0; j <= blen; j++) {
            if (i == 0 || j == 0) LCS(i, j) = 0;
            else if (a[i - 1] == b[j - 1]) LCS(i, j) = LCS(i - 1, j - 1) + 1;
            else LCS(i, j) = LCS(i - 1, j) > LCS(i, j - 1) ? LCS(i - 1, j) : LCS(i, j - 1);
        }
    }
    uint32_t idx = LCS(alen, blen);
    char *result = NULL;
    int computelcs = getidx || !getlen;
    if (computelcs) result = s_malloc(idx + 1);
    size_t deferred = 0;
    long arraylen = 0;
    if (getidx) {
        reply_map(c, 2);
        reply_bulk_cstr(c, "matches");
        deferred = reply_defer(c);
    }
    uint32_t arange_start = (uint32_t)alen, arange_end = 0, brange_start = 0, brange_end = 0;
    uint32_t i = (uint32_t)alen, j = (uint32_t)blen;
    while (computelcs && i > 0 && j > 0) {
        int emit = 0;
        if (a[i - 1] == b[j - 1]) {
            result[idx - 1] = a[i - 1];
            if (arange_start == alen) {
                arange_start = arange_end = i - 1;
                brange_start = brange_end = j - 1;
            } else if (arange_start == i && brange_start == j) {
                arange_start--;
                brange_start--;
            } else {
                emit = 1;
            }
            if (arange_start == 0 || brange_start == 0) emit = 1;
            idx--, i--, j--;
        } else {
            if (LCS(i - 1, j) > LCS(i, j - 1)) i--;
            else j--;
            if (arange_start != alen) emit = 1;
        }
        uint32_t match_len = arange_end - arange_start + 1;
        if (emit) {
            if ((minmatchlen == 0 || match_len >= minmatchlen) && getidx) {
                reply_array(c, 2 + withmatchlen);
                reply_array(c, 2);
                reply_int(c, arange_start);
                reply_int(c, arange_end);
                reply_array(c, 2);
                reply_int(c, brange_start);
                reply_int(c, brange_end);
                if (withmatchlen) reply_int(c, match_len);
                arraylen++;
            }
            arange_start = (uint32_t)alen;
        }
    }
    if (getidx) {
        reply_defer_set(c, deferred, arraylen, '*');
        reply_bulk_cstr(c, "len");
        reply_int(c, LCS(alen, blen));
    } else if (getlen) {
        reply_int(c, LCS(alen, blen));
    } else {
        reply_bulk(c, result, LCS(alen, blen));
    }
#undef LCS
    s_free(result);
    s_free(dp);
}
