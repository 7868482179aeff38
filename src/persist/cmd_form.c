/* cmd_form: see cmd_form.h.
 *
 * Every command is written as a RESP array of bulk strings, its element count
 * known before its first element: a collection's batch holds
 * min(64, elements left) elements, so the count of the next batch is computed
 * from what remains (as Redis does), never patched afterwards.  Elements are
 * visited in each encoding's own order (lists head to tail, sorted sets by
 * ascending rank, sets and hashes as their foreach gives them, streams by ID,
 * groups and consumers by name); the loaded value is the same whatever the
 * order.
 *
 * Invariant: after cmdf_key returns, w holds whole commands only (a flush
 * between elements hands out a prefix; the command is complete once the last
 * element is in). */
#include "persist/cmd_form.h"
#include "keyspace/entry.h"
#include "types/listpack.h"
#include "types/object.h"
#include "types/quicklist.h"
#include "types/thash.h"
#include "types/tset.h"
#include "types/tstream.h"
#include "types/tstring.h"
#include "types/tzset.h"
#include "util/debug.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <limits.h>
#include <lzf.h>
#include <stdio.h>
#include <string.h>

/* ---- RESP ---- */

static void count(rdbw *w, long long n) {
    char h[32];
    h[0] = '*';
    int k = 1 + ll2str(h + 1, n);
    h[k++] = '\r';
    h[k++] = '\n';
    rdbw_raw(w, h, (size_t)k);
}

static void bulk(rdbw *w, const void *p, size_t len) {
    char h[32];
    h[0] = '$';
    int k = 1 + ull2str(h + 1, len);
    h[k++] = '\r';
    h[k++] = '\n';
    rdbw_raw(w, h, (size_t)k);
    rdbw_raw(w, p, len);
    rdbw_raw(w, "\r\n", 2);
}

#define BULK_LIT(w, s) bulk((w), (s), sizeof(s) - 1)

static void bulk_ll(rdbw *w, long long v) {
    char b[LL_STR_SIZE];
    bulk(w, b, (size_t)ll2str(b, v));
}

static void bulk_lpval(rdbw *w, const lp_val *v) {
    if (v->s) bulk(w, v->s, v->len);
    else bulk_ll(w, v->i);
}

static void bulk_sid(rdbw *w, const sid *id) {
    char b[SID_MAX_STR];
    bulk(w, b, (size_t)sid_format(b, id));
}

static void bulk_key(rdbw *w, const uint8_t *e) {
    size_t klen;
    keybuf k_kb;
    const char *k = e_keyb(e, &k_kb, &klen);
    bulk(w, k, klen);
}

/* A batch of a variadic command: at each multiple of 64 elements, the header of the next command
 * (name, key) with the count of what it will hold. */
typedef struct batch {
    rdbw *w;
    const uint8_t *e;
    const char *name;
    size_t namelen;
    int per_item;        /* arguments per element (2 for ZADD score member, HMSET field value) */
    unsigned long left;  /* elements not written yet */
    unsigned in_cmd;     /* elements written in the current command */
} batch;

static void batch_init(batch *b, rdbw *w, const uint8_t *e, const char *name, int per_item, unsigned long total) {
    *b = (batch){w, e, name, strlen(name), per_item, total, 0};
}

/* Before each element. */
static void batch_next(batch *b) {
    DBG_ASSERT(b->left > 0);
    if (b->in_cmd == 0) {
        unsigned long n = b->left < CMDF_ITEMS_PER_CMD ? b->left : CMDF_ITEMS_PER_CMD;
        count(b->w, 2 + (long long)n * b->per_item);
        bulk(b->w, b->name, b->namelen);
        bulk_key(b->w, b->e);
    }
    if (++b->in_cmd == CMDF_ITEMS_PER_CMD) b->in_cmd = 0;
    b->left--;
}

/* After each element: a big value's bytes are handed out as they come. */
static void batch_done_one(batch *b) { rdbw_maybe_flush(b->w); }

/* ---- the types ---- */

static void write_string(rdbw *w, const uint8_t *e) {
    char buf[LL_STR_SIZE];
    size_t len;
    static str_buf sb; /* a compressed value's bytes (the loop thread's serializer only) */
    const char *p = str_read(e, buf, &len, &sb);
    count(w, 3);
    BULK_LIT(w, "SET");
    bulk_key(w, e);
    bulk(w, p, len);
}

static void write_list(rdbw *w, const uint8_t *e) {
    const quicklist *ql = e_ptr(e);
    batch b;
    batch_init(&b, w, e, "RPUSH", 1, (unsigned long)ql->count);
    unsigned char *raw = NULL;
    size_t rawcap = 0;
    for (const qlnode *n = ql->head; n; n = n->next) {
        const unsigned char *data;
        size_t clen, rlen;
        unsigned char *lp = n->lp;
        if (ql_node_lzf(n, &data, &clen, &rlen)) { /* read it decompressed, leaving the node as it is */
            if (rlen > rawcap) {
                s_free(raw);
                raw = s_malloc(rawcap = rlen);
            }
            unsigned got = lzf_decompress(data, (unsigned)clen, raw, (unsigned)rlen);
            DBG_ASSERT(got == rlen);
            (void)got;
            lp = raw;
        }
        for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, p)) {
            lp_val v;
            lp_get(p, &v);
            batch_next(&b);
            bulk_lpval(w, &v);
            batch_done_one(&b);
        }
    }
    s_free(raw);
    DBG_ASSERT(b.left == 0);
}

static void visit_member(void *ud, const char *m, size_t len) {
    batch *b = ud;
    batch_next(b);
    bulk(b->w, m, len);
    batch_done_one(b);
}

static void write_set(rdbw *w, const uint8_t *e) {
    const void *s = e_ptr(e);
    batch b;
    batch_init(&b, w, e, "SADD", 1, set_len(s));
    size_t pos = 0;
    set_walk_stored(s, &pos, LONG_MAX, visit_member, &b);
    DBG_ASSERT(b.left == 0);
}

static void write_zset(rdbw *w, const uint8_t *e) {
    const zset *z = e_ptr(e);
    size_t card = zs_card(z);
    batch b;
    batch_init(&b, w, e, "ZADD", 2, card);
    if (!card) return;
    zs_iter it;
    zs_elem el;
    zs_iter_init(&it, z, 0, 1);
    while (zs_iter_next(&it, &el)) {
        char sb[64];
        batch_next(&b);
        bulk(w, sb, (size_t)d2str(sb, sizeof(sb), el.score));
        bulk(w, el.m, el.len);
        batch_done_one(&b);
    }
    DBG_ASSERT(b.left == 0);
}

static void visit_pair(void *ud, const char *f, size_t flen, const char *v, size_t vlen) {
    batch *b = ud;
    batch_next(b);
    bulk(b->w, f, flen);
    bulk(b->w, v, vlen);
    batch_done_one(b);
}

static void write_hash(rdbw *w, const uint8_t *e) {
    const void *h = e_ptr(e);
    batch b;
    batch_init(&b, w, e, "HMSET", 2, hash_len(h));
    size_t pos = 0;
    hash_walk_stored(h, &pos, LONG_MAX, visit_pair, &b);
    DBG_ASSERT(b.left == 0);
}

static void write_stream(rdbw *w, const uint8_t *e) {
    stream *s = e_ptr(e);
    if (s->length) {
        stream_iter it;
        sid id;
        int64_t nf;
        stream_iter_start(&it, s, NULL, NULL, 0);
        while (stream_iter_next(&it, &id, &nf)) {
            count(w, 3 + nf * 2);
            BULK_LIT(w, "XADD");
            bulk_key(w, e);
            bulk_sid(w, &id);
            while (nf-- > 0) {
                lp_val f, v;
                stream_iter_field(&it, &f, &v);
                bulk_lpval(w, &f);
                bulk_lpval(w, &v);
            }
            rdbw_maybe_flush(w);
        }
        stream_iter_done(&it);
    } else { /* an empty stream: one entry added and trimmed at once */
        count(w, 7);
        BULK_LIT(w, "XADD");
        bulk_key(w, e);
        BULK_LIT(w, "MAXLEN");
        BULK_LIT(w, "0");
        BULK_LIT(w, "0-1");
        BULK_LIT(w, "x");
        BULK_LIT(w, "y");
    }
    /* the last ID, the count of entries ever added and the greatest deleted ID, which entries alone lose */
    count(w, 7);
    BULK_LIT(w, "XSETID");
    bulk_key(w, e);
    bulk_sid(w, &s->last_id);
    BULK_LIT(w, "ENTRIESADDED");
    bulk_ll(w, (long long)s->entries_added);
    BULK_LIT(w, "MAXDELETEDID");
    bulk_sid(w, &s->max_deleted_id);
    for (uint32_t gi = 0; gi < s->ngroups; gi++) {
        sgroup *g = s->groups[gi];
        count(w, 7);
        BULK_LIT(w, "XGROUP");
        BULK_LIT(w, "CREATE");
        bulk_key(w, e);
        bulk(w, g->name, g->nlen);
        bulk_sid(w, &g->last_id);
        BULK_LIT(w, "ENTRIESREAD");
        bulk_ll(w, g->entries_read);
        for (uint32_t ci = 0; ci < g->ncons; ci++) {
            const sconsumer *k = g->cons[ci];
            if (!k->pel.count) {
                count(w, 5);
                BULK_LIT(w, "XGROUP");
                BULK_LIT(w, "CREATECONSUMER");
                bulk_key(w, e);
                bulk(w, g->name, g->nlen);
                bulk(w, k->name, k->nlen);
                continue;
            }
            sidx_cur c;
            for (int ok = sidx_first(&k->pel, &c); ok; ok = sidx_next(&k->pel, &c)) {
                const sid *id = sidx_at(&k->pel, &c);
                const spel *p = stream_pel_find(g, id);
                DBG_ASSERT(p && p->owner == k);
                count(w, 12);
                BULK_LIT(w, "XCLAIM");
                bulk_key(w, e);
                bulk(w, g->name, g->nlen);
                bulk(w, k->name, k->nlen);
                BULK_LIT(w, "0");
                bulk_sid(w, id);
                BULK_LIT(w, "TIME");
                bulk_ll(w, p ? p->delivery_time : 0);
                BULK_LIT(w, "RETRYCOUNT");
                bulk_ll(w, p ? (long long)p->delivery_count : 0);
                BULK_LIT(w, "JUSTID");
                BULK_LIT(w, "FORCE");
                rdbw_maybe_flush(w);
            }
        }
    }
}

/* ---- the file ---- */

void cmdf_timestamp(rdbw *w, long long unix_time) {
    char b[48];
    int n = snprintf(b, sizeof(b), "#TS:%lld\r\n", unix_time);
    rdbw_raw(w, b, (size_t)n);
}

void cmdf_function(rdbw *w, const char *code, size_t len) {
    count(w, 3);
    BULK_LIT(w, "FUNCTION");
    BULK_LIT(w, "LOAD");
    bulk(w, code, len);
    rdbw_maybe_flush(w);
}

void cmdf_select(rdbw *w, int dbid) {
    count(w, 2);
    BULK_LIT(w, "SELECT");
    bulk_ll(w, dbid);
}

void cmdf_key(rdbw *w, const uint8_t *e) {
    switch (e_type(e)) {
    case OBJ_STRING: write_string(w, e); break;
    case OBJ_LIST: write_list(w, e); break;
    case OBJ_SET: write_set(w, e); break;
    case OBJ_ZSET: write_zset(w, e); break;
    case OBJ_HASH: write_hash(w, e); break;
    default: DBG_ASSERT(e_type(e) == OBJ_STREAM); write_stream(w, e); break;
    }
    if (e_has_ttl(e)) {
        count(w, 3);
        BULK_LIT(w, "PEXPIREAT");
        bulk_key(w, e);
        bulk_ll(w, e_ttl(e));
    }
    rdbw_maybe_flush(w);
}
