/* debug_check: DEBUG CHECK-KEY and DEBUG CHECK-KEYSPACE, the on-demand
 * structure checks of whole values.  Each type's module has one xxx_check()
 * that verifies the invariants its header states and returns NULL or a text
 * naming what is wrong (lp_check, is_check, ql_check, hash_check, set_check,
 * zs_check with zindex_check, stream_check with sidx_check, hll_check); this
 * file picks the check by the key's type, adds what holds at the keyspace
 * level (no empty collection stays in the keyspace; a stream's first_id, kept
 * by the commands), and turns the text into an error reply:
 *   CHECK-KEY key     +OK, "ERR no such key", or "ERR key '<key>' is corrupt: <what>"
 *   CHECK-KEYSPACE    +OK or "ERR db <n> key '<key>' is corrupt: <what>" for
 *                     the first broken key, and "ERR db <n>: ..." when a
 *                     table walk and its count disagree.
 * Keys are looked up raw (no expiry, no LRU or stats change), so the check
 * sees what is stored.  The cost is a full walk of each value: debugging and
 * tests only. */
#include "commands/debug_cmds.h"
#include "keyspace/db.h"
#include "mem/arena.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "types/hll.h"
#include "types/quicklist.h"
#include "types/rstr.h"
#include "types/zstr.h"
#include "types/tstring.h"
#include "types/thash.h"
#include "types/tset.h"
#include "types/tstream.h"
#include "types/tzset.h"
#include <stdio.h>
#include <string.h>

/* A string's storage; a string that claims to be an HLL (magic and a valid encoding, Redis's
 * isHLLObject test) must be a well-formed one: CHECK-KEY reports a client-written imitation too. */
static const char *check_string(const uint8_t *e) {
    int store = e_store(e);
    char buf[STR_INLINE_MAX + 1];
    const char *p;
    size_t len;
    if (store == VAL_INT) return NULL;
    if (store == VAL_INLINE) {
        p = e_inline(e, &len);
        if (len > STR_INLINE_MAX) return "string: inline value longer than STR_INLINE_MAX";
        memcpy(buf, p, len); /* the HLL readers want p[len] readable */
        buf[len] = 0;
        p = buf;
    } else if (store == VAL_PTR) {
        const rstr *s = e_ptr(e);
        if (!s) return "string: NULL value";
        if (s->len > s->cap) return "string: length above capacity";
        if (s->data[s->len] != '\0') return "string: missing trailing NUL";
        p = s->data;
        len = s->len;
    } else if (store == VAL_ZSTR) {
        const char *err = zstr_check(e_ptr(e));
        if (err) return err;
        static str_buf sb; /* one buffer for a whole CHECK-KEYSPACE */
        char num[LL_STR_SIZE];
        p = str_read(e, num, &len, &sb);
    } else {
        return "string: unknown value storage";
    }
    if (hll_valid((const uint8_t *)p, len)) return hll_check((const uint8_t *)p, len);
    return NULL;
}

/* stream_check, plus what the commands maintain on top of the module: first_id is the first live
 * entry's ID (0-0 when empty), as XINFO STREAM reports it. */
static const char *check_stream(stream *s) {
    const char *why = stream_check(s);
    if (why) return why;
    sid first = {0, 0};
    if (s->length && !stream_first_valid(s, &first)) return "stream: no live entry but a length";
    if (sid_cmp(&first, &s->first_id) != 0) return "stream: first_id is not the first entry's ID";
    return NULL;
}

const char *check_value(const uint8_t *e) {
    int type = e_type(e);
    if (type == OBJ_STRING) return check_string(e);
    if (e_store(e) != VAL_PTR || !e_ptr(e)) return "collection without a heap value";
    void *v = e_ptr(e);
    /* Empty collections never stay in the keyspace (a stream may be empty). */
    if ((type == OBJ_LIST && ql_count(v) == 0) || (type == OBJ_SET && set_len(v) == 0) ||
        (type == OBJ_ZSET && zs_card(v) == 0) || (type == OBJ_HASH && hash_len(v) == 0))
        return "empty collection in the keyspace";
    switch (type) {
    case OBJ_LIST: return ql_check(v);
    case OBJ_SET: return set_check(v);
    case OBJ_ZSET: return zs_check(v);
    case OBJ_HASH: return hash_check(v);
    case OBJ_STREAM: return check_stream(v);
    default: return "unknown type";
    }
}

static void reply_broken(client *c, const char *key, size_t klen, const char *why) {
    reply_errorf(c, "ERR key '%.*s' is corrupt: %s", (int)(klen > 200 ? 200 : klen), key, why);
}

void debug_check_key(client *c) {
    const arg *k = &c->argv[2];
    kslot slot;
    handle_t h = kt_find(&c->db->t, k->p, k->len, kt_hash(k->p, k->len), &slot);
    if (!h) {
        reply_error(c, "ERR no such key");
        return;
    }
    const char *why = check_value(arena_ptr(h));
    if (why) reply_broken(c, k->p, k->len, why);
    else reply_ok(c);
}

typedef struct scan_state {
    handle_t bad;
    const char *why;
    size_t n;
} scan_state;

static void check_visit(void *ud, handle_t h) {
    scan_state *st = ud;
    st->n++;
    if (st->bad) return;
    const char *why = check_value(arena_ptr(h));
    if (why) {
        st->bad = h;
        st->why = why;
    }
}

void debug_check_keyspace(client *c) {
    for (int j = 0; j < srv.dbnum; j++) {
        db *d = &srv.dbs[j];
        scan_state st = {0, NULL, 0};
        uint64_t cur = 0;
        do cur = kt_scan(&d->t, cur, 1024, check_visit, &st);
        while (cur && !st.bad);
        if (st.bad) {
            size_t klen;
            keybuf key_kb;
            const char *key = e_keyb(arena_ptr(st.bad), &key_kb, &klen);
            reply_errorf(c, "ERR db %d key '%.*s' is corrupt: %s", j, (int)(klen > 200 ? 200 : klen), key, st.why);
            return;
        }
        if (!st.bad && st.n != db_size(d)) {
            reply_errorf(c, "ERR db %d: the table holds %zu keys but counts %zu", j, st.n, db_size(d));
            return;
        }
    }
    reply_ok(c);
}
