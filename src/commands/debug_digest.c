/* debug_digest: DEBUG DIGEST and DEBUG DIGEST-VALUE, giving the same 40 hex
 * digits as Redis 7.0 for the same data, so two servers (Sardine and Redis, a
 * master and its replica, a server before and after a reload) can be compared
 * with one command.
 *
 * The procedure (Redis 7.0's debug.c, reimplemented):
 *   xor(d, data)  d ^= SHA1(data)                 (order-independent)
 *   mix(d, data)  d = SHA1(d ^ SHA1(data))        (order-dependent)
 * - a value's digest v starts at 20 zero bytes: mix(v, big-endian u32 type);
 *   then by type: string: mix(bytes); list: mix(each element) head to tail;
 *   set: xor(each member); zset: for each member, e = mix(mix(0, member),
 *   "%.17g" score), xor(v, e) (so v ^= SHA1(e): xor hashes its input);
 *   hash: for each field, e = mix(mix(0, field), value), xor(v, e); stream: for each live entry in ID order,
 *   mix("<ms>.<seq>") then mix(field), mix(value) for each pair (Redis 7.0
 *   digests neither deleted entries, nor node layout, nor consumer groups);
 *   finally xor(v, "!!expire!!") when the key has a TTL (its value is not
 *   digested);
 * - a key's digest is k = mix(0, key name) followed by the value's steps
 *   applied to k; DIGEST-VALUE is the value's steps applied to zeros;
 * - the dataset: D = 0; for each non-empty db j in order: mix(D, big-endian
 *   u32 j), then xor(D, k) for each of its keys (D ^= SHA1(k)).
 * Integers (int strings, intset members, listpack integers) are digested as
 * their decimal text.  Nothing depends on table order, encodings or memory
 * layout: every unordered collection is combined with xor.  Like Redis, keys
 * whose TTL has passed but are not yet deleted are included. */
#include "commands/debug_cmds.h"
#include "keyspace/db.h"
#include "mem/arena.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "types/quicklist.h"
#include "types/tset.h"
#include "types/thash.h"
#include "types/tstream.h"
#include "types/tstring.h"
#include "types/tzset.h"
#include "util/numconv.h"
#include "util/sha1.h"
#include <stdio.h>
#include <string.h>

static void dg_xor(unsigned char *d, const void *p, size_t len) {
    unsigned char h[20];
    sha1(p, len, h);
    for (int i = 0; i < 20; i++) d[i] ^= h[i];
}

static void dg_mix(unsigned char *d, const void *p, size_t len) {
    dg_xor(d, p, len);
    sha1(d, 20, d);
}

static void dg_mix_lpval(unsigned char *d, const lp_val *v) {
    if (v->s) {
        dg_mix(d, v->s, v->len);
    } else {
        char buf[LL_STR_SIZE];
        int n = ll2str(buf, (long long)v->i);
        dg_mix(d, buf, (size_t)n);
    }
}

static void set_visit(void *ud, const char *m, size_t len) { dg_xor(ud, m, len); }

static void hash_visit(void *ud, const char *f, size_t flen, const char *v, size_t vlen) {
    unsigned char e[20] = {0};
    dg_mix(e, f, flen);
    dg_mix(e, v, vlen);
    dg_xor(ud, e, 20);
}

static void digest_zset(unsigned char *d, const zset *z) {
    zs_iter it;
    zs_elem el;
    zs_iter_init(&it, z, 0, 1);
    while (zs_iter_next(&it, &el)) {
        unsigned char e[20] = {0};
        char buf[128];
        int n = snprintf(buf, sizeof(buf), "%.17g", el.score);
        dg_mix(e, el.m, el.len);
        dg_mix(e, buf, (size_t)n);
        dg_xor(d, e, 20);
    }
}

static void digest_list(unsigned char *d, quicklist *ql) {
    qliter it;
    lp_val v;
    ql_iter_init(&it, ql, 0, QL_TAIL);
    while (ql_iter_next(&it, &v)) dg_mix_lpval(d, &v);
    ql_iter_done(&it);
}

static void digest_stream(unsigned char *d, stream *s) {
    stream_iter it;
    sid id;
    int64_t nf;
    stream_iter_start(&it, s, NULL, NULL, 0);
    while (stream_iter_next(&it, &id, &nf)) {
        char buf[48];
        int n = snprintf(buf, sizeof(buf), "%llu.%llu", (unsigned long long)id.ms, (unsigned long long)id.seq);
        dg_mix(d, buf, (size_t)n);
        while (nf-- > 0) {
            lp_val f, v;
            stream_iter_field(&it, &f, &v);
            dg_mix_lpval(d, &f);
            dg_mix_lpval(d, &v);
        }
    }
    stream_iter_done(&it);
}

/* Redis's xorObjectDigest: the value's steps applied to d. */
static void digest_value_into(unsigned char *d, const uint8_t *e) {
    int type = e_type(e);
    unsigned char be[4] = {0, 0, 0, (unsigned char)type};
    dg_mix(d, be, 4);
    if (type == OBJ_STRING) {
        char buf[LL_STR_SIZE];
        size_t len;
        static str_buf sb; /* a compressed value's bytes: one buffer for a whole DEBUG DIGEST */
        const char *p = str_read(e, buf, &len, &sb);
        dg_mix(d, p, len);
    } else {
        void *v = e_ptr(e);
        switch (type) {
        case OBJ_LIST: digest_list(d, v); break;
        case OBJ_SET: set_foreach(v, set_visit, d); break;
        case OBJ_ZSET: digest_zset(d, v); break;
        case OBJ_HASH: hash_foreach(v, hash_visit, d); break;
        case OBJ_STREAM: digest_stream(d, v); break;
        default: break;
        }
    }
    if (e_has_ttl(e)) dg_xor(d, "!!expire!!", 10);
}

void digest_value(const uint8_t *e, unsigned char out[20]) {
    memset(out, 0, 20);
    digest_value_into(out, e);
}

static void key_visit(void *ud, handle_t h) {
    const uint8_t *e = arena_ptr(h);
    unsigned char k[20] = {0};
    size_t klen;
    keybuf key_kb;
    const char *key = e_keyb(e, &key_kb, &klen);
    dg_mix(k, key, klen);
    digest_value_into(k, e);
    dg_xor(ud, k, 20);
}

void digest_dataset(unsigned char out[20]) {
    memset(out, 0, 20);
    for (int j = 0; j < srv.dbnum; j++) {
        db *d = &srv.dbs[j];
        if (db_size(d) == 0) continue;
        unsigned char be[4] = {(unsigned char)(j >> 24), (unsigned char)(j >> 16), (unsigned char)(j >> 8),
                               (unsigned char)j};
        dg_mix(out, be, 4);
        uint64_t cur = 0;
        do cur = kt_scan(&d->t, cur, 1024, key_visit, out);
        while (cur);
    }
}

static void reply_hex(client *c, const unsigned char d[20]) {
    char hex[41];
    for (int i = 0; i < 20; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    reply_status(c, hex);
}

void debug_digest(client *c) {
    unsigned char d[20];
    digest_dataset(d);
    reply_hex(c, d);
}

void debug_digest_value(client *c) {
    reply_array(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        unsigned char d[20] = {0};
        /* Like Redis, logically expired keys are digested too: a raw table lookup, no expiry. */
        const arg *k = &c->argv[j];
        kslot slot;
        handle_t h = kt_find(&c->db->t, k->p, k->len, kt_hash(k->p, k->len), &slot);
        if (h) digest_value(arena_ptr(h), d);
        reply_hex(c, d);
    }
}
