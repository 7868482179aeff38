/* rdb_save: see rdb_save.h.
 *
 * Every value is written the way redis-server 7.0.15 writes the same value
 * in the same encoding (rdb.c's rdbSaveObject), because Sardine keeps the
 * compact encodings in Redis's byte formats:
 *
 *   string          INT8/16/32 when the bytes are the canonical text of an
 *                   integer that fits 32 bits (at most 11 bytes), else LZF
 *                   when compress is on, the string is longer than 20 bytes
 *                   and liblzf fits it in len - 4 bytes, else length + bytes.
 *                   Every string below (keys, members, blobs) goes this way.
 *   list            QUICKLIST_2: node count, then per node PACKED and its
 *                   listpack as a string; a node the quicklist keeps
 *                   compressed is written as its LZF bytes as they are
 *                   (liblzf's, so Redis's bytes), whatever `compress` says.
 *   set             INTSET blob, or SET: count, members.
 *   zset            ZSET_LISTPACK blob, or ZSET_2: count, then member and
 *                   binary score from the greatest to the smallest.
 *   hash            HASH_LISTPACK blob, or HASH: count, field, value.
 *   stream          STREAM_LISTPACKS_2 (see write_stream).
 *
 * Speed: the buffer is reserved once per record part and written through a
 * pointer; nothing is allocated per key (LZF output goes straight into the
 * buffer, behind room for its header, and is moved down over the unused
 * header bytes).  The flush callback is the only indirect call, made when the
 * buffer passes flush_at: after a record, or between the elements of a big
 * value (so a flush never splits less than one element).
 *
 * Invariants: w->len <= w->cap; with a flush function, w->len < flush_at
 * after every maybe_flush(); w->flushed + w->len is every byte written. */
#include "persist/rdb_save.h"
#include "keyspace/entry.h"
#include "keyspace/lru.h"
#include "persist/rdb_format.h"
#include "server/server.h"
#include "types/intset.h"
#include "types/listpack.h"
#include "types/object.h"
#include "types/quicklist.h"
#include "types/rstr.h"
#include "types/tstring.h"
#include "types/thash.h"
#include "types/tset.h"
#include "types/tstream.h"
#include "types/tzset.h"
#include "util/crc64.h"
#include "util/debug.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <limits.h>
#include <lzf.h>
#include <string.h>
#include <time.h>

#define LEN_MAX_BYTES 9               /* 0x81 + 8 bytes */
#define LZF_HDR_MAX (1 + 2 * LEN_MAX_BYTES)

/* ---- the buffer ---- */

void rdbw_init(rdbw *w, int compress, size_t flush_at, rdbw_flush_fn *flush, void *ud) {
    memset(w, 0, sizeof(*w));
    w->compress = compress;
    w->flush = flush;
    w->ud = ud;
    w->flush_at = flush ? (flush_at ? flush_at : 1) : 0;
    w->cap = flush ? w->flush_at + 4096 : 256;
    w->buf = s_malloc(w->cap);
}

int rdbw_policy_lru_mode(void) { return policy_is_lru() ? RDBW_LRU_IDLE : policy_is_lfu() ? RDBW_LRU_FREQ : RDBW_LRU_NONE; }

void rdbw_free(rdbw *w) {
    s_free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

void rdbw_flush(rdbw *w) {
    if (!w->flush || !w->len) return;
    w->flush(w->ud, w->buf, w->len);
    w->flushed += w->len;
    w->len = 0;
}

static void grow(rdbw *w, size_t need) {
    size_t cap = w->cap * 2;
    if (cap < w->len + need) cap = w->len + need;
    w->buf = s_realloc(w->buf, cap);
    w->cap = cap;
}

/* Room for n more bytes; returns where they go. */
static inline unsigned char *reserve(rdbw *w, size_t n) {
    if (__builtin_expect(w->cap - w->len < n, 0)) grow(w, n);
    return w->buf + w->len;
}

static inline void maybe_flush(rdbw *w) {
    DBG_ASSERT(w->len <= w->cap);
    if (w->flush && w->len >= w->flush_at) rdbw_flush(w);
    DBG_ASSERT(!w->flush || w->len < w->flush_at);
}

void rdbw_maybe_flush(rdbw *w) { maybe_flush(w); }

/* ---- primitives ---- */

static inline size_t put_len(unsigned char *p, uint64_t len) {
    if (len < (1u << 6)) {
        p[0] = (unsigned char)len;
        return 1;
    }
    if (len < (1u << 14)) {
        p[0] = (unsigned char)(len >> 8 | RDB_14BITLEN << 6);
        p[1] = (unsigned char)len;
        return 2;
    }
    if (len <= UINT32_MAX) {
        p[0] = RDB_32BITLEN;
        for (int i = 0; i < 4; i++) p[1 + i] = (unsigned char)(len >> (24 - 8 * i));
        return 5;
    }
    p[0] = RDB_64BITLEN;
    for (int i = 0; i < 8; i++) p[1 + i] = (unsigned char)(len >> (56 - 8 * i));
    return 9;
}

/* INT8/16/32 of v into p; 0 when v needs more than 32 bits. */
static inline size_t put_int(unsigned char *p, long long v) {
    if (v >= INT8_MIN && v <= INT8_MAX) {
        p[0] = RDB_ENCVAL << 6 | RDB_ENC_INT8;
        p[1] = (unsigned char)v;
        return 2;
    }
    if (v >= INT16_MIN && v <= INT16_MAX) {
        p[0] = RDB_ENCVAL << 6 | RDB_ENC_INT16;
        p[1] = (unsigned char)v;
        p[2] = (unsigned char)(v >> 8);
        return 3;
    }
    if (v >= INT32_MIN && v <= INT32_MAX) {
        p[0] = RDB_ENCVAL << 6 | RDB_ENC_INT32;
        for (int i = 0; i < 4; i++) p[1 + i] = (unsigned char)(v >> (8 * i));
        return 5;
    }
    return 0;
}

static inline void put_u64le(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

void rdbw_raw(rdbw *w, const void *p, size_t n) {
    memcpy(reserve(w, n), p, n);
    w->len += n;
}

void rdbw_byte(rdbw *w, int b) {
    *reserve(w, 1) = (unsigned char)b;
    w->len++;
}

void rdbw_len(rdbw *w, uint64_t len) { w->len += put_len(reserve(w, LEN_MAX_BYTES), len); }

/* Redis's rdbSaveLzfBlob: the LZF marker, compressed length, raw length, bytes. */
static void lzf_blob(rdbw *w, const unsigned char *data, size_t clen, size_t raw) {
    unsigned char *p = reserve(w, LZF_HDR_MAX + clen);
    size_t h = 1;
    p[0] = RDB_ENCVAL << 6 | RDB_ENC_LZF;
    h += put_len(p + h, clen);
    h += put_len(p + h, raw);
    memcpy(p + h, data, clen);
    w->len += h + clen;
}

/* Redis's rdbSaveLzfStringObject: kept only when liblzf fits it in len - 4 bytes.  The output goes into
 * the buffer behind room for the largest header, then moves down next to the real one. */
static int lzf_string(rdbw *w, const char *s, size_t len) {
    if (len > UINT_MAX) return 0;
    unsigned char *p = reserve(w, LZF_HDR_MAX + len);
    unsigned clen = lzf_compress(s, (unsigned)len, p + LZF_HDR_MAX, (unsigned)(len - 4));
    if (!clen) return 0;
    DBG_ASSERT(clen <= len - 4);
    size_t h = 1;
    p[0] = RDB_ENCVAL << 6 | RDB_ENC_LZF;
    h += put_len(p + h, clen);
    h += put_len(p + h, len);
    memmove(p + h, p + LZF_HDR_MAX, clen);
    w->len += h + clen;
    return 1;
}

/* Could these bytes be the canonical text of an integer?  (Cheap test before str2ll.) */
static inline int maybe_int(const char *s, size_t len) {
    if (len == 0 || len > 11) return 0;
    unsigned char c = (unsigned char)s[0];
    return (c >= '1' && c <= '9') || c == '-' || (c == '0' && len == 1);
}

void rdbw_string(rdbw *w, const char *s, size_t len) {
    long long v;
    if (maybe_int(s, len) && str2ll(s, len, &v)) {
        size_t n = put_int(reserve(w, 5), v);
        if (n) {
            w->len += n;
            return;
        }
    }
    if (w->compress && len > 20 && lzf_string(w, s, len)) return;
    unsigned char *p = reserve(w, LEN_MAX_BYTES + len);
    size_t h = put_len(p, len);
    memcpy(p + h, s, len);
    w->len += h + len;
}

void rdbw_ll(rdbw *w, long long v) {
    unsigned char *p = reserve(w, 1 + LL_STR_SIZE);
    size_t n = put_int(p, v);
    if (!n) {
        char buf[LL_STR_SIZE];
        size_t l = (size_t)ll2str(buf, v);
        n = put_len(p, l);
        memcpy(p + n, buf, l);
        n += l;
    }
    w->len += n;
}

void rdbw_binary_double(rdbw *w, double d) {
    uint64_t b;
    memcpy(&b, &d, sizeof(b));
    put_u64le(reserve(w, 8), b);
    w->len += 8;
}

void rdbw_ms(rdbw *w, long long ms) {
    put_u64le(reserve(w, 8), (uint64_t)ms);
    w->len += 8;
}

/* ---- file structure ---- */

void rdbw_aux(rdbw *w, const char *key, const char *val) {
    rdbw_byte(w, RDB_OPCODE_AUX);
    rdbw_string(w, key, strlen(key));
    rdbw_string(w, val, strlen(val));
}

static void aux_ll(rdbw *w, const char *key, long long v) {
    char buf[LL_STR_SIZE];
    ll2str(buf, v);
    rdbw_aux(w, key, buf);
}

void rdbw_header(rdbw *w, int aof_base) {
    char magic[10];
    memcpy(magic, "REDIS", 5);
    magic[5] = (char)('0' + RDB_VERSION / 1000 % 10);
    magic[6] = (char)('0' + RDB_VERSION / 100 % 10);
    magic[7] = (char)('0' + RDB_VERSION / 10 % 10);
    magic[8] = (char)('0' + RDB_VERSION % 10);
    rdbw_raw(w, magic, 9);
    rdbw_aux(w, "redis-ver", SARDINE_VERSION);
    aux_ll(w, "redis-bits", (long long)sizeof(void *) * 8);
    aux_ll(w, "ctime", (long long)time(NULL));
    aux_ll(w, "used-mem", (long long)server_used_memory());
    aux_ll(w, "aof-base", aof_base != 0);
}

void rdbw_select_db(rdbw *w, int dbid, uint64_t keys, uint64_t expires) {
    unsigned char *p = reserve(w, 3 + 3 * LEN_MAX_BYTES);
    size_t n = 0;
    p[n++] = RDB_OPCODE_SELECTDB;
    n += put_len(p + n, (uint64_t)dbid);
    p[n++] = RDB_OPCODE_RESIZEDB;
    n += put_len(p + n, keys);
    n += put_len(p + n, expires);
    w->len += n;
}

void rdbw_eof(rdbw *w) { rdbw_byte(w, RDB_OPCODE_EOF); }

/* ---- values ---- */

static int rdb_type_of(const uint8_t *e) {
    int t = e_type(e);
    if (t == OBJ_STRING) return RDB_TYPE_STRING;
    void *v = e_ptr(e);
    switch (t) {
    case OBJ_LIST: return RDB_TYPE_LIST_QUICKLIST_2;
    case OBJ_SET: return set_is_intset(v) ? RDB_TYPE_SET_INTSET : RDB_TYPE_SET;
    case OBJ_ZSET: return zs_is_listpack(v) ? RDB_TYPE_ZSET_LISTPACK : RDB_TYPE_ZSET_2;
    case OBJ_HASH: return hash_is_listpack(v) ? RDB_TYPE_HASH_LISTPACK : RDB_TYPE_HASH;
    default: DBG_ASSERT(t == OBJ_STREAM); return RDB_TYPE_STREAM_LISTPACKS_2;
    }
}

static void write_string_value(rdbw *w, const uint8_t *e) {
    switch (e_store(e)) {
    case VAL_INT: rdbw_ll(w, e_int(e)); break;
    case VAL_INLINE: {
        size_t len;
        const char *s = e_inline(e, &len);
        rdbw_string(w, s, len);
        break;
    }
    case VAL_PTR: {
        const rstr *r = e_ptr(e);
        rdbw_string(w, r->data, r->len);
        break;
    }
    default: { /* compressed (value-compression): written as its plain bytes, which Redis loads */
        static str_buf sb;
        char buf[LL_STR_SIZE];
        size_t len;
        const char *p = str_read(e, buf, &len, &sb);
        rdbw_string(w, p, len);
    }
    }
}

/* ---- collections, element by element ----
 *
 * A list, and a set, sorted set or hash in its table encoding, is a count then its elements (list
 * nodes), so it can be written in parts: write_elems resumes at *pos, a position that stays valid while
 * the value is not written (moves of its parts by active defragmentation do not matter): a list's node
 * index, a sorted set's count of members written, a table's directory index (types' *_walk_stored). */

static int in_parts(const uint8_t *e) {
    switch (e_type(e)) {
    case OBJ_LIST: return 1;
    case OBJ_SET: return !set_is_intset(e_ptr(e));
    case OBJ_ZSET: return !zs_is_listpack(e_ptr(e));
    case OBJ_HASH: return !hash_is_listpack(e_ptr(e));
    default: return 0;
    }
}

static void write_count(rdbw *w, const uint8_t *e) {
    const void *v = e_ptr(e);
    switch (e_type(e)) {
    case OBJ_LIST: rdbw_len(w, ((const quicklist *)v)->len); break; /* nodes */
    case OBJ_SET: rdbw_len(w, set_len(v)); break;
    case OBJ_ZSET: rdbw_len(w, zs_card(v)); break;
    default: rdbw_len(w, hash_len(v)); break;
    }
}

static void visit_member(void *ud, const char *m, size_t len) {
    rdbw *w = ud;
    rdbw_string(w, m, len);
    maybe_flush(w);
}

static void visit_pair(void *ud, const char *f, size_t flen, const char *v, size_t vlen) {
    rdbw *w = ud;
    rdbw_string(w, f, flen);
    rdbw_string(w, v, vlen);
    maybe_flush(w);
}

/* Where the last list part ended, so that the next one starts there instead of walking from the head (a
 * walk per part would make a 100M-element list's late parts take milliseconds each): valid for the same
 * list at the same position while no node moved.  Loop thread only, as every serializer. */
static struct {
    const quicklist *ql;
    size_t pos;
    const qlnode *n;
    uint64_t moves;
} list_resume;

/* Whole nodes from node *pos until at least min elements are out. */
static int list_elems(rdbw *w, const quicklist *ql, size_t *pos, long min) {
    const qlnode *n = ql->head;
    if (*pos && list_resume.ql == ql && list_resume.pos == *pos && list_resume.moves == ql_node_moves())
        n = list_resume.n;
    else
        for (size_t i = 0; n && i < *pos; i++) n = n->next;
    for (long seen = 0; n && seen < min; n = n->next, ++*pos) {
        const unsigned char *data;
        size_t clen, raw;
        rdbw_byte(w, QUICKLIST_NODE_CONTAINER_PACKED);
        if (ql_node_lzf(n, &data, &clen, &raw)) lzf_blob(w, data, clen, raw);
        else rdbw_string(w, (const char *)n->lp, lp_bytes(n->lp));
        maybe_flush(w);
        seen += n->count;
    }
    list_resume.ql = n ? ql : NULL;
    list_resume.pos = *pos;
    list_resume.n = n;
    list_resume.moves = ql_node_moves();
    return n == NULL;
}

/* Members from the greatest down (loaders then insert at the head), *pos of them already out. */
static int zset_elems(rdbw *w, const zset *z, size_t *pos, long min) {
    size_t card = zs_card(z);
    if (*pos >= card) return 1;
    zs_iter it;
    zs_elem el;
    zs_iter_init(&it, z, card - 1 - *pos, -1);
    for (long seen = 0; seen < min && zs_iter_next(&it, &el); seen++, ++*pos) {
        rdbw_string(w, el.m, el.len);
        rdbw_binary_double(w, el.score);
        maybe_flush(w);
    }
    return *pos >= card;
}

static int write_elems(rdbw *w, const uint8_t *e, size_t *pos, long min) {
    const void *v = e_ptr(e);
    switch (e_type(e)) {
    case OBJ_LIST: return list_elems(w, v, pos, min);
    case OBJ_SET: return set_walk_stored(v, pos, min, visit_member, w);
    case OBJ_ZSET: return zset_elems(w, v, pos, min);
    default: DBG_ASSERT(e_type(e) == OBJ_HASH); return hash_walk_stored(v, pos, min, visit_pair, w);
    }
}

/* A stream ID as Redis's radix trees key it: 128 bits big endian. */
static void put_sid(rdbw *w, const sid *id) {
    unsigned char *p = reserve(w, 16);
    for (int i = 0; i < 8; i++) {
        p[i] = (unsigned char)(id->ms >> (56 - 8 * i));
        p[8 + i] = (unsigned char)(id->seq >> (56 - 8 * i));
    }
    w->len += 16;
}

/* Redis 7.0's STREAM_LISTPACKS_2: node count, each node as (master ID as a 16-byte string, listpack);
 * length, last ID, first ID, max deleted ID, entries_added; the groups, each: name, last ID,
 * entries_read, its PEL (ID, delivery time, delivery count), its consumers, each: name, seen time,
 * its PEL's IDs. */
static void write_stream(rdbw *w, const stream *s) {
    unsigned char *buf = NULL;
    size_t cap = 0;
    sidx_cur c;
    rdbw_len(w, s->nodes.count);
    for (int ok = sidx_first(&s->nodes, &c); ok; ok = sidx_next(&s->nodes, &c)) {
        const snode *n = sidx_at(&s->nodes, &c);
        const unsigned char *lp = stream_node_lp(n, &buf, &cap);
        rdbw_byte(w, 16); /* the ID's length: 16 bytes are never integer- or LZF-encoded */
        put_sid(w, &n->master);
        rdbw_string(w, (const char *)lp, lp_bytes(lp));
        maybe_flush(w);
    }
    s_free(buf);
    rdbw_len(w, s->length);
    rdbw_len(w, s->last_id.ms);
    rdbw_len(w, s->last_id.seq);
    rdbw_len(w, s->first_id.ms);
    rdbw_len(w, s->first_id.seq);
    rdbw_len(w, s->max_deleted_id.ms);
    rdbw_len(w, s->max_deleted_id.seq);
    rdbw_len(w, s->entries_added);
    rdbw_len(w, s->ngroups);
    for (uint32_t gi = 0; gi < s->ngroups; gi++) {
        const sgroup *g = s->groups[gi];
        rdbw_string(w, g->name, g->nlen);
        rdbw_len(w, g->last_id.ms);
        rdbw_len(w, g->last_id.seq);
        rdbw_len(w, (uint64_t)g->entries_read); /* -1 (unknown) as Redis writes it: 2^64 - 1 */
        rdbw_len(w, g->pel.count);
        for (int ok = sidx_first(&g->pel, &c); ok; ok = sidx_next(&g->pel, &c)) {
            const spel *p = sidx_at(&g->pel, &c);
            put_sid(w, &p->id);
            rdbw_ms(w, p->delivery_time);
            rdbw_len(w, p->delivery_count);
            maybe_flush(w);
        }
        rdbw_len(w, g->ncons);
        for (uint32_t ci = 0; ci < g->ncons; ci++) {
            const sconsumer *k = g->cons[ci];
            rdbw_string(w, k->name, k->nlen);
            rdbw_ms(w, k->seen_time);
            rdbw_len(w, k->pel.count);
            for (int ok = sidx_first(&k->pel, &c); ok; ok = sidx_next(&k->pel, &c)) {
                put_sid(w, sidx_at(&k->pel, &c));
                maybe_flush(w);
            }
        }
    }
}

static void write_value(rdbw *w, const uint8_t *e) {
    if (in_parts(e)) {
        write_count(w, e);
        size_t pos = 0;
        write_elems(w, e, &pos, LONG_MAX);
        return;
    }
    if (e_type(e) == OBJ_STRING) {
        write_string_value(w, e);
        return;
    }
    const void *v = e_ptr(e);
    switch (e_type(e)) { /* the one-blob encodings */
    case OBJ_SET: rdbw_string(w, v, is_blob_len(v)); break;
    case OBJ_ZSET: rdbw_string(w, v, lp_bytes(v)); break;
    case OBJ_HASH: rdbw_string(w, v, lp_bytes(v)); break;
    default: write_stream(w, v); break;
    }
}

void rdbw_value(rdbw *w, const uint8_t *e) {
    rdbw_byte(w, rdb_type_of(e));
    write_value(w, e);
}

/* A record up to its value: [EXPIRETIME_MS] [IDLE | FREQ] type key. */
static void key_head(rdbw *w, const uint8_t *e) {
    unsigned char *p = reserve(w, 1 + 8 + 1 + LEN_MAX_BYTES + 1);
    size_t n = 0;
    if (e_has_ttl(e)) {
        p[n++] = RDB_OPCODE_EXPIRETIME_MS;
        put_u64le(p + n, (uint64_t)e_ttl(e));
        n += 8;
    }
    if (w->lru_mode == RDBW_LRU_IDLE) {
        p[n++] = RDB_OPCODE_IDLE;
        n += put_len(p + n, lru_idle_ms(e_lru(e)) / 1000);
    } else if (w->lru_mode == RDBW_LRU_FREQ) {
        p[n++] = RDB_OPCODE_FREQ;
        p[n++] = (unsigned char)lfu_decayed_counter(e_lru(e));
    }
    p[n++] = (unsigned char)rdb_type_of(e);
    w->len += n;
    size_t klen;
    keybuf k_kb;
    const char *k = e_keyb(e, &k_kb, &klen);
    rdbw_string(w, k, klen);
}

void rdbw_key(rdbw *w, const uint8_t *e) {
    key_head(w, e);
    write_value(w, e);
    maybe_flush(w);
}

size_t rdbw_part_elems(const uint8_t *e) {
    if (!in_parts(e)) return 0;
    const void *v = e_ptr(e);
    switch (e_type(e)) {
    case OBJ_LIST: return ((const quicklist *)v)->count;
    case OBJ_SET: return set_len(v);
    case OBJ_ZSET: return zs_card(v);
    default: return hash_len(v);
    }
}

void rdbw_key_begin(rdbw *w, const uint8_t *e) {
    DBG_ASSERT(in_parts(e));
    key_head(w, e);
    write_count(w, e);
}

int rdbw_key_part(rdbw *w, const uint8_t *e, size_t *pos, long min) {
    int done = write_elems(w, e, pos, min);
    maybe_flush(w);
    return done;
}

/* Room for a value's serialized bytes, so that a big one is written into one allocation instead of being
 * copied at every doubling (on a VM each copy also faults in fresh pages): the value's memory size, which
 * exceeds its serialized size for every encoding but compressed stream nodes (those grow the buffer). */
static size_t size_hint(const uint8_t *e) {
    if (e_type(e) == OBJ_STRING) return str_len(e) + 64;
    return obj_bytes(e_type(e), e_ptr(e)) + 64;
}

/* A DUMP payload's footer: the RDB version (2 bytes LE) and the CRC64 of everything before it (8 bytes
 * LE).  Hands the writer's buffer over as the payload. */
static unsigned char *dump_footer(rdbw *w, size_t *len) {
    unsigned char *p = reserve(w, 2 + 8);
    p[0] = RDB_VERSION & 0xff;
    p[1] = RDB_VERSION >> 8;
    w->len += 2;
    put_u64le(p + 2, crc64(0, w->buf, w->len));
    w->len += 8;
    *len = w->len;
    return w->buf;
}

unsigned char *rdb_dump_functions(int n, const char *const *codes, const size_t *lens, size_t *len) {
    rdbw w;
    rdbw_init(&w, srv.rdb_compression, 0, NULL, NULL);
    for (int i = 0; i < n; i++) {
        rdbw_byte(&w, RDB_OPCODE_FUNCTION2);
        rdbw_string(&w, codes[i], lens[i]);
    }
    return dump_footer(&w, len);
}

unsigned char *rdb_dump_payload(const uint8_t *entry, size_t *len) {
    rdbw w;
    rdbw_init(&w, srv.rdb_compression, 0, NULL, NULL);
    reserve(&w, size_hint(entry));
    rdbw_value(&w, entry);
    return dump_footer(&w, len);
}
