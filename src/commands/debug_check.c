/* debug_check: DEBUG CHECK-KEY and DEBUG CHECK-KEYSPACE, the on-demand
 * structure checks of whole values.  Each type's module has one xxx_check()
 * that verifies the invariants its header states and returns NULL or a text
 * naming what is wrong; this file picks the check by the key's type and
 * turns the text into an error reply ("ERR <key>: <what>").  The key's entry
 * itself is checked for what the value relies on (type, storage, TTL flag
 * against the table's TTL accounting is the key table's business). */
#include "commands/debug_cmds.h"
#include "keyspace/db.h"
#include "mem/arena.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "types/hll.h"
#include "types/quicklist.h"
#include "types/rstr.h"
#include "types/thash.h"
#include "types/tset.h"
#include "types/tstream.h"
#include "types/tzset.h"
#include <stdio.h>
#include <string.h>

static const char *check_string(const uint8_t *e) {
    int store = e_store(e);
    if (store == VAL_INT) return NULL;
    if (store == VAL_INLINE) {
        size_t len;
        e_inline(e, &len);
        return len <= EMBSTR_MAX ? NULL : "string: inline value longer than 44 bytes";
    }
    if (store != VAL_PTR) return "string: unknown value storage";
    const rstr *s = e_ptr(e);
    if (!s) return "string: NULL value";
    if (s->len > s->cap) return "string: length above capacity";
    if (s->data[s->len] != '\0') return "string: missing trailing NUL";
    /* A string that claims to be an HLL (magic and a valid encoding) must be a well-formed one. */
    if (s->len >= HLL_HDR_SIZE && !memcmp(s->data, "HYLL", 4) && hll_valid((const uint8_t *)s->data, s->len))
        return hll_check((const uint8_t *)s->data, s->len);
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
            const char *key = e_key(arena_ptr(st.bad), &klen);
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
