/* hll_cmds: the HyperLogLog commands of Redis 7.0 (PFADD, PFCOUNT, PFMERGE,
 * PFDEBUG, PFSELFTEST) with its order of checks, replies and error texts.
 * The representation lives in types/hll.c; an HLL is a plain string value.
 *
 * Like Redis, every command that may write an HLL first makes the value raw
 * (an rstr on the heap): a short sparse HLL written with SET is an embstr
 * until PFADD/PFCOUNT/PFMERGE/PFDEBUG touch it.  PFCOUNT of one key writes
 * the cached cardinality back into the header (and so counts as a change for
 * WATCH), exactly when Redis does.  Multi-key commands read each source's
 * bytes right after its lookup, never keeping a kref across lookups. */
#include "commands/command.h"
#include "commands/commands.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "types/limits.h"
#include "types/hll.h"
#include "types/rstr.h"
#include "types/tstring.h"
#include "util/mem.h"
#include <string.h>
#include <strings.h>

#define ERR_NOT_HLL "WRONGTYPE Key is not a valid HyperLogLog string value."
#define ERR_CORRUPT "INVALIDOBJ Corrupted HLL object detected"

static size_t sparse_max(void) {
    return limits.hll_sparse_max_bytes < 0 ? 0 : (size_t)limits.hll_sparse_max_bytes;
}

/* 1: a valid HLL (bytes in *p, *len); 0: missing; -1: not a string / not an HLL (replied).
 * An inline value is copied into tmp with a NUL after it: readers may look at p[len]. */
static int lookup_hll(client *c, const arg *k, int flags, kref *r, const uint8_t **p, size_t *len,
                      uint8_t *tmp) {
    if (!db_lookup(c->db, k->p, k->len, flags, r)) {
        r->h = 0;
        return 0;
    }
    if (e_type(r->e) != OBJ_STRING) {
        reply_wrongtype(c);
        return -1;
    }
    if (e_store(r->e) == VAL_INT) { /* an integer is never an HLL */
        reply_error(c, ERR_NOT_HLL);
        return -1;
    }
    char buf[LL_STR_SIZE];
    const uint8_t *b = (const uint8_t *)str_get(r->e, buf, len);
    if (!hll_valid(b, *len)) {
        reply_error(c, ERR_NOT_HLL);
        return -1;
    }
    if (e_store(r->e) == VAL_INLINE) {
        memcpy(tmp, b, *len);
        tmp[*len] = 0;
        b = tmp;
    }
    *p = b;
    return 1;
}

/* Makes the found value raw (Redis's dbUnshareStringValue) and returns it. */
static rstr *unshare(kref *r, const arg *k) {
    if (e_store(r->e) == VAL_PTR) return e_ptr(r->e);
    char buf[LL_STR_SIZE];
    size_t len;
    const char *p = str_get(r->e, buf, &len); /* embstr or compressed */
    entry_value v = {.type = OBJ_STRING, .store = VAL_PTR, .ptr = rstr_new(p, len, len)};
    db_set_value_at(r, k->p, k->len, &v, -2);
    return v.ptr;
}

static rstr *create(kref *r, const arg *k) {
    entry_value v = {.type = OBJ_STRING, .store = VAL_PTR, .ptr = hll_new()};
    db_set_value_at(r, k->p, k->len, &v, -1);
    return v.ptr;
}

void cmd_pfadd(client *c) {
    kref r;
    const arg *k = &c->argv[1];
    const uint8_t *p;
    size_t len;
    uint8_t tmp[STR_INLINE_MAX + 1];
    int f = lookup_hll(c, k, LOOKUP_NOSTATS, &r, &p, &len, tmp);
    if (f < 0) return;
    long long updated = 0, mark = dirty_mark(); /* Redis: the creation and each element that changed a register */
    rstr *s;
    if (f) {
        s = unshare(&r, k);
    } else {
        s = create(&r, k);
        updated = 1;
    }
    size_t max = sparse_max();
    for (int j = 2; j < c->argc; j++) {
        int rc = hll_add(&s, c->argv[j].p, c->argv[j].len, max);
        if (rc < 0) {
            e_set_ptr(r.e, s);
            reply_error(c, ERR_CORRUPT);
            return;
        }
        updated += rc;
    }
    if (s != e_ptr(r.e)) e_set_ptr(r.e, s);
    if (updated) {
        hll_invalidate((uint8_t *)s->data);
        if (f) key_changed(c, k, FX_STRING, "pfadd");
        else key_event(c, k, FX_STRING, "pfadd"); /* the new key was counted */
    }
    dirty_count(mark, updated);
    reply_int(c, updated ? 1 : 0);
}

void cmd_pfcount(client *c) {
    const uint8_t *p;
    size_t len;
    uint8_t tmp[STR_INLINE_MAX + 1];
    kref r;
    if (c->argc > 2) {
        /* The union's cardinality: registers maxed over every key, nothing written. */
        uint8_t *max = s_calloc(HLL_REGISTERS);
        for (int j = 1; j < c->argc; j++) {
            int f = lookup_hll(c, &c->argv[j], 0, &r, &p, &len, tmp);
            if (f < 0) goto done;
            if (f && hll_merge(max, p, len) < 0) {
                reply_error(c, ERR_CORRUPT);
                goto done;
            }
        }
        reply_int(c, (long long)hll_count_registers(max));
    done:
        s_free(max);
        return;
    }
    const arg *k = &c->argv[1];
    int f = lookup_hll(c, k, 0, &r, &p, &len, tmp);
    if (f < 0) return;
    if (!f) {
        reply_int(c, 0);
        return;
    }
    rstr *s = unshare(&r, k);
    uint64_t card;
    if (!hll_cached((uint8_t *)s->data, &card)) {
        int invalid = 0;
        card = hll_count((uint8_t *)s->data, s->len, &invalid);
        if (invalid) {
            reply_error(c, ERR_CORRUPT);
            return;
        }
        hll_set_cache((uint8_t *)s->data, card);
        key_changed(c, k, FX_STRING, NULL);
    }
    reply_int(c, (long long)card);
}

void cmd_pfmerge(client *c) {
    uint8_t *max = s_calloc(HLL_REGISTERS);
    int use_dense = 0;
    kref r;
    const uint8_t *p;
    size_t len;
    uint8_t tmp[STR_INLINE_MAX + 1];
    for (int j = 1; j < c->argc; j++) { /* the destination is a source too */
        int f = lookup_hll(c, &c->argv[j], 0, &r, &p, &len, tmp);
        if (f < 0) goto done;
        if (!f) continue;
        if (hll_encoding(p) == HLL_DENSE) use_dense = 1;
        if (hll_merge(max, p, len) < 0) {
            reply_error(c, ERR_CORRUPT);
            goto done;
        }
    }
    const arg *k = &c->argv[1];
    long long mark = dirty_mark();
    rstr *s = db_lookup(c->db, k->p, k->len, LOOKUP_NOSTATS, &r) ? unshare(&r, k) : (r.h = 0, create(&r, k));
    if (use_dense && hll_to_dense(&s) < 0) {
        reply_error(c, ERR_CORRUPT);
        goto done;
    }
    size_t smax = sparse_max();
    for (long i = 0; i < HLL_REGISTERS; i++)
        if (max[i]) hll_set(&s, i, max[i], smax);
    if (s != e_ptr(r.e)) e_set_ptr(r.e, s);
    hll_invalidate((uint8_t *)s->data);
    key_changed(c, k, FX_STRING, "pfadd");
    dirty_count(mark, 1); /* Redis: one, the destination's creation included */
    reply_ok(c);
done:
    s_free(max);
}

void cmd_pfdebug(client *c) {
    const arg *sub = &c->argv[1], *k = &c->argv[2];
    kref r;
    const uint8_t *p;
    size_t len;
    uint8_t tmp[STR_INLINE_MAX + 1];
    int f = lookup_hll(c, k, LOOKUP_NOSTATS, &r, &p, &len, tmp);
    if (f < 0) return;
    if (!f) {
        reply_error(c, "ERR The specified key does not exist");
        return;
    }
    rstr *s = unshare(&r, k);
    int dense = hll_encoding((uint8_t *)s->data) == HLL_DENSE;
    if (arg_is(sub, "getreg") || arg_is(sub, "todense")) {
        if (!dense) {
            if (hll_to_dense(&s) < 0) {
                reply_error(c, ERR_CORRUPT);
                return;
            }
            e_set_ptr(r.e, s);
            key_changed(c, k, FX_STRING, NULL);
        }
        if (arg_is(sub, "todense")) {
            reply_int(c, dense ? 0 : 1);
            return;
        }
        reply_array(c, HLL_REGISTERS);
        for (long i = 0; i < HLL_REGISTERS; i++) reply_int(c, hll_dense_get((uint8_t *)s->data + HLL_HDR_SIZE, i));
    } else if (arg_is(sub, "decode")) {
        size_t n;
        char *text = hll_decode((uint8_t *)s->data, s->len, &n);
        if (!text) {
            reply_error(c, "ERR HLL encoding is not sparse");
            return;
        }
        reply_bulk(c, text, n);
        s_free(text);
    } else if (arg_is(sub, "encoding")) {
        reply_status(c, dense ? "dense" : "sparse");
    } else {
        char name[128];
        size_t n = sub->len < sizeof(name) - 1 ? sub->len : sizeof(name) - 1;
        memcpy(name, sub->p, n);
        name[n] = 0;
        reply_errorf(c, "ERR Unknown PFDEBUG subcommand '%s'", name);
    }
}

void cmd_pfselftest(client *c) {
    char err[256];
    if (hll_selftest(err, sizeof(err)) == 0) reply_ok(c);
    else reply_error(c, err);
}

command hll_commands[] = {
    {"pfadd", cmd_pfadd},
    {"pfcount", cmd_pfcount},
    {"pfmerge", cmd_pfmerge},
    {"pfdebug", cmd_pfdebug},
    {"pfselftest", cmd_pfselftest},
    {0}};
