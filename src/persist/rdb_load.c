/* rdb_load: see rdb_load.h.
 *
 * The reader is a window over the input: a memory block (DUMP payloads), or
 * a buffer refilled from a file descriptor, which grows only when a single
 * item needs more contiguous bytes than it holds and only as those bytes
 * actually arrive (so a declared length never allocates more than the
 * input has).  Strings are handed out as pointers into the window (or into
 * one of two decode buffers, "slots", for integer and LZF strings), valid
 * until the next read through the same slot; a caller that needs two at
 * once (a field and its value) reads them through different slots (slot 2
 * is the file loader's, for the record's key).  The
 * CRC64 of a file is computed over the window's consumed bytes as it moves.
 *
 * Values:
 * - every length read is checked against what remains (or against what
 *   arrives, for files) before anything is allocated by it;
 * - listpacks, intsets and ziplists are validated element by element
 *   always (it is linear in their bytes and cheaper than the copy that
 *   follows: no later command can walk into a corrupt element); `deep`
 *   (sanitize-dump-payload) adds what costs more: duplicate fields and
 *   members in hash/set/zset payloads, sorted zset listpacks with valid
 *   scores.  Streams are always checked whole (stream_check), PEL owners
 *   included, because Sardine's stream code relies on those invariants;
 * - a value kept as it came (small hash/zset listpacks, intsets, list
 *   nodes) is one validation and one memcpy; the others are rebuilt into
 *   Sardine's encodings with the limits in force (types/limits.h), as Redis
 *   7.0 converts on load; a big sorted set's index is built in bulk from
 *   the members' order (zs_acc_commit: DUMP writes them in reverse order);
 * - on an error everything built for the value is freed and r->err names
 *   the problem.
 *
 * Files: the header (versions 1..11), opcodes, records, EOF and the CRC64
 * trailer.  Keys go straight into the tables (db_load_add), without
 * announcements. */
#include "persist/rdb_load.h"
#include "keyspace/db.h"
#include "keyspace/lru.h"
#include "persist/rdb_format.h"
#include "server/server.h"
#include "types/intset.h"
#include "types/limits.h"
#include "types/listpack.h"
#include "types/object.h"
#include "types/quicklist.h"
#include "types/thash.h"
#include "types/tlist.h"
#include "types/tset.h"
#include "types/tstream.h"
#include "types/tstring.h"
#include "types/tzset.h"
#include "types/zstr.h"
#include "util/crc64.h"
#include "util/dict.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lzf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RD_CHUNK ((size_t)1 << 20)

static const char ERR_EMPTY[] = "empty value";

static int fail(rdbr *r, const char *why) {
    if (!r->err) r->err = why;
    return 0;
}

/* ---- the reader ---- */

void rdbr_init_mem(rdbr *r, const void *p, size_t n, int deep) {
    memset(r, 0, sizeof(*r));
    r->p = p;
    r->len = r->ready = n;
    r->fd = -1;
    r->deep = deep;
}

void rdbr_init_fd(rdbr *r, int fd, int deep) {
    memset(r, 0, sizeof(*r));
    r->fd = fd;
    r->deep = deep;
}

void rdbr_free(rdbr *r) {
    s_free(r->buf);
    s_free(r->sb[0]);
    s_free(r->sb[1]);
    s_free(r->sb[2]);
    r->buf = r->sb[0] = r->sb[1] = r->sb[2] = NULL;
}

static inline uint64_t rd_tell(const rdbr *r) { return r->offset + r->pos; }

/* Brings the checksum up to the current position. */
static void crc_sync(rdbr *r) {
    if (r->crc_on && r->pos > r->crc_pos) r->crc = crc64(r->crc, r->p + r->crc_pos, r->pos - r->crc_pos);
    r->crc_pos = r->pos;
}

/* Makes n contiguous bytes available at r->p + r->pos; 0 (with r->err) if the input ends first. */
static int fill(rdbr *r, size_t n) {
    if (r->ready - r->pos >= n) return 1;
    if (r->fd < 0) {
        if (r->len - r->pos < n || !r->wait) return fail(r, "unexpected end of the payload");
        size_t got = r->wait(r->wait_ud, r->pos + n); /* a payload still arriving */
        if (got < r->pos + n) return fail(r, "the payload stopped arriving");
        r->ready = got < r->len ? got : r->len;
        return 1;
    }
    crc_sync(r);
    size_t keep = r->len - r->pos;
    if (keep && r->pos) memmove(r->buf, r->buf + r->pos, keep);
    r->offset += r->pos;
    r->len = keep;
    r->pos = r->crc_pos = 0;
    while (r->len < n) {
        if (r->len == r->buflen) { /* grow only when full: as the bytes arrive */
            r->buflen = r->buflen ? r->buflen * 2 : RD_CHUNK;
            r->buf = s_realloc(r->buf, r->buflen);
        }
        ssize_t k = read(r->fd, r->buf + r->len, r->buflen - r->len);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            r->p = r->buf;
            return fail(r, "read error");
        }
        if (k == 0) {
            r->p = r->buf;
            return fail(r, "unexpected end of file");
        }
        r->len += (size_t)k;
    }
    r->p = r->buf;
    r->ready = r->len;
    return 1;
}

static const unsigned char *take(rdbr *r, size_t n) {
    if (!fill(r, n)) return NULL;
    const unsigned char *q = r->p + r->pos;
    r->pos += n;
    return q;
}

static int rd_byte(rdbr *r, int *b) {
    const unsigned char *q = take(r, 1);
    if (!q) return 0;
    *b = q[0];
    return 1;
}

static uint64_t be(const unsigned char *q, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | q[i];
    return v;
}
static uint64_t le(const unsigned char *q, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | q[i];
    return v;
}

/* A length; with enc non-NULL a special string encoding is accepted (*enc = 1, *len = its kind). */
static int rd_len_enc(rdbr *r, uint64_t *len, int *enc) {
    int b;
    if (!rd_byte(r, &b)) return 0;
    int t = (b & 0xC0) >> 6;
    if (enc) *enc = 0;
    if (t == RDB_ENCVAL) {
        if (!enc) return fail(r, "unexpected string encoding in a length");
        *enc = 1;
        *len = (uint64_t)(b & 0x3F);
        return 1;
    }
    if (t == RDB_6BITLEN) {
        *len = (uint64_t)(b & 0x3F);
    } else if (t == RDB_14BITLEN) {
        const unsigned char *q = take(r, 1);
        if (!q) return 0;
        *len = (uint64_t)(b & 0x3F) << 8 | q[0];
    } else if (b == RDB_32BITLEN) {
        const unsigned char *q = take(r, 4);
        if (!q) return 0;
        *len = be(q, 4);
    } else if (b == RDB_64BITLEN) {
        const unsigned char *q = take(r, 8);
        if (!q) return 0;
        *len = be(q, 8);
    } else {
        return fail(r, "unknown length encoding");
    }
    return 1;
}
static int rd_len(rdbr *r, uint64_t *len) { return rd_len_enc(r, len, NULL); }

static unsigned char *slot_buf(rdbr *r, int slot, size_t n) {
    if (r->sbcap[slot] < n || !r->sb[slot]) { /* never NULL, even for an empty string */
        r->sbcap[slot] = n < 64 ? 64 : n;
        r->sb[slot] = s_realloc(r->sb[slot], r->sbcap[slot]);
    }
    return r->sb[slot];
}

/* A string: *s points into the window or into the slot's buffer, valid until the next read through
 * that slot (window pointers: until the next read at all, unless copy is set, which puts every string
 * into the slot's buffer). */
static int rd_str(rdbr *r, int slot, int copy, const char **s, size_t *len) {
    uint64_t l;
    int enc;
    if (!rd_len_enc(r, &l, &enc)) return 0;
    if (!enc) {
        if (l > SIZE_MAX / 2) return fail(r, "string length out of range");
        const unsigned char *q = take(r, (size_t)l);
        if (!q) return 0;
        if (copy) {
            unsigned char *b = slot_buf(r, slot, (size_t)l);
            if (l) memcpy(b, q, (size_t)l);
            q = b;
        }
        *s = (const char *)q;
        *len = (size_t)l;
        return 1;
    }
    if (l == RDB_ENC_INT8 || l == RDB_ENC_INT16 || l == RDB_ENC_INT32) {
        int n = l == RDB_ENC_INT8 ? 1 : l == RDB_ENC_INT16 ? 2 : 4;
        const unsigned char *q = take(r, (size_t)n);
        if (!q) return 0;
        uint64_t u = le(q, n);
        long long v = n == 1 ? (int8_t)u : n == 2 ? (int16_t)u : (int32_t)u;
        char *b = (char *)slot_buf(r, slot, LL_STR_SIZE);
        *len = (size_t)ll2str(b, v);
        *s = b;
        return 1;
    }
    if (l == RDB_ENC_LZF) {
        uint64_t clen, ulen;
        if (!rd_len(r, &clen) || !rd_len(r, &ulen)) return 0;
        /* an LZF back reference of 3 bytes expands to at most 264: a bigger claim is corrupt */
        if (clen == 0 || ulen == 0 || clen > SIZE_MAX / 128 || ulen > clen * 100 + 64)
            return fail(r, "LZF string with an impossible length");
        const unsigned char *q = take(r, (size_t)clen);
        if (!q) return 0;
        unsigned char *b = slot_buf(r, slot, (size_t)ulen);
        if (lzf_decompress(q, (unsigned)clen, b, (unsigned)ulen) != ulen) return fail(r, "LZF string does not decompress");
        *s = (const char *)b;
        *len = (size_t)ulen;
        return 1;
    }
    return fail(r, "unknown string encoding");
}

/* A string kept in memory the caller owns (s_malloc'd), for payloads taken over whole: an LZF string
 * is decompressed straight into it (one pass over the bytes, not a decompression and a copy). */
static unsigned char *rd_blob(rdbr *r, size_t *len) {
    size_t save = r->pos;
    uint64_t l;
    int enc;
    if (!rd_len_enc(r, &l, &enc)) return NULL;
    if (enc && l == RDB_ENC_LZF) {
        uint64_t clen, ulen;
        if (!rd_len(r, &clen) || !rd_len(r, &ulen)) return NULL;
        if (clen == 0 || ulen == 0 || clen > SIZE_MAX / 128 || ulen > clen * 100 + 64) {
            fail(r, "LZF string with an impossible length");
            return NULL;
        }
        const unsigned char *q = take(r, (size_t)clen);
        if (!q) return NULL;
        unsigned char *b = s_malloc((size_t)ulen);
        if (lzf_decompress(q, (unsigned)clen, b, (unsigned)ulen) != ulen) {
            s_free(b);
            fail(r, "LZF string does not decompress");
            return NULL;
        }
        *len = (size_t)ulen;
        return b;
    }
    r->pos = save; /* any other form: read again by rd_str */
    const char *s;
    if (!rd_str(r, 0, 0, &s, len)) return NULL;
    unsigned char *b = s_malloc(*len ? *len : 1);
    if (*len) memcpy(b, s, *len);
    return b;
}

static int rd_double_str(rdbr *r, double *d) {
    int n;
    if (!rd_byte(r, &n)) return 0;
    if (n == 253) *d = NAN;
    else if (n == 254) *d = INFINITY;
    else if (n == 255) *d = -INFINITY;
    else {
        const unsigned char *q = take(r, (size_t)n);
        if (!q) return 0;
        char buf[256];
        memcpy(buf, q, (size_t)n);
        buf[n] = 0;
        char *end;
        *d = strtod(buf, &end);
        if (end == buf) return fail(r, "bad double value");
    }
    return 1;
}

static int rd_double_bin(rdbr *r, double *d) {
    const unsigned char *q = take(r, 8);
    if (!q) return 0;
    uint64_t u = le(q, 8);
    memcpy(d, &u, 8);
    return 1;
}

static int rd_ms(rdbr *r, long long *ms) {
    const unsigned char *q = take(r, 8);
    if (!q) return 0;
    *ms = (long long)le(q, 8);
    return 1;
}

/* ---- ziplists and zipmaps (read only, to convert them) ---- */

typedef int elem_fn(void *ud, const lp_val *v);

/* Walks a ziplist checking every byte it reads, calling fn for each element; 0 if malformed or fn fails. */
static int zl_walk(const unsigned char *zl, size_t n, elem_fn *fn, void *ud, unsigned long *count) {
    if (n < 11 || le(zl, 4) != n || zl[n - 1] != 0xFF) return 0;
    uint64_t tail = le(zl + 4, 4);
    unsigned zllen = (unsigned)le(zl + 8, 2);
    const unsigned char *p = zl + 10, *end = zl + n - 1, *last = NULL;
    size_t prevlen = 0;
    unsigned long cnt = 0;
    while (p < end) {
        size_t pl, ps;
        if (p[0] < 254) {
            pl = p[0];
            ps = 1;
        } else if (p[0] == 254) {
            if (end - p < 5) return 0;
            pl = (size_t)le(p + 1, 4);
            ps = 5;
        } else {
            return 0;
        }
        if (pl != prevlen) return 0;
        const unsigned char *q = p + ps;
        if (q >= end) return 0;
        unsigned char b = q[0];
        size_t hdr, dlen = 0;
        lp_val v = {0};
        int isstr = 1;
        switch (b >> 6) {
        case 0: hdr = 1; dlen = b & 0x3F; break;
        case 1:
            if (end - q < 2) return 0;
            hdr = 2;
            dlen = (size_t)(b & 0x3F) << 8 | q[1];
            break;
        case 2:
            if (b != 0x80 || end - q < 5) return 0;
            hdr = 5;
            dlen = (size_t)be(q + 1, 4);
            break;
        default:
            isstr = 0;
            hdr = 1;
            if (b == 0xC0) dlen = 2;
            else if (b == 0xD0) dlen = 4;
            else if (b == 0xE0) dlen = 8;
            else if (b == 0xF0) dlen = 3;
            else if (b == 0xFE) dlen = 1;
            else if (b >= 0xF1 && b <= 0xFD) dlen = 0;
            else return 0;
        }
        if (hdr > (size_t)(end - q) || dlen > (size_t)(end - q) - hdr) return 0;
        const unsigned char *d = q + hdr;
        if (isstr) {
            v.s = d;
            v.len = (uint32_t)dlen;
        } else if (dlen == 0) {
            v.i = (b & 0x0F) - 1;
        } else {
            uint64_t u = le(d, (int)dlen);
            v.i = dlen == 1 ? (int8_t)u : dlen == 2 ? (int16_t)u : dlen == 3 ? ((int32_t)(u << 8) >> 8)
                  : dlen == 4 ? (int32_t)u : (int64_t)u;
        }
        if (fn && !fn(ud, &v)) return 0;
        last = p;
        prevlen = ps + hdr + dlen;
        p = d + dlen;
        cnt++;
    }
    if (p != end) return 0;
    if (zllen != 0xFFFF && zllen != cnt) return 0;
    if (cnt ? zl + tail != last : tail != 10) return 0;
    if (count) *count = cnt;
    return 1;
}

/* Walks a zipmap (Redis 2.4 hashes) checking every byte; fn receives field then value. */
static int zm_walk(const unsigned char *zm, size_t n, elem_fn *fn, void *ud) {
    if (n < 2 || zm[n - 1] != 0xFF) return 0;
    const unsigned char *p = zm + 1, *end = zm + n - 1;
    while (p < end) {
        for (int k = 0; k < 2; k++) {
            if (p >= end) return 0;
            size_t l;
            if (p[0] < 254) {
                l = p[0];
                p++;
            } else if (p[0] == 254) {
                if (end - p < 5) return 0;
                l = (size_t)le(p + 1, 4);
                p += 5;
            } else {
                return 0;
            }
            size_t fr = 0;
            if (k == 1) {
                if (p >= end) return 0;
                fr = p[0];
                p++;
            }
            if (l > (size_t)(end - p) || fr > (size_t)(end - p) - l) return 0;
            lp_val v = {.s = p, .len = (uint32_t)l};
            if (!fn(ud, &v)) return 0;
            p += l + fr;
        }
    }
    return p == end;
}

/* ---- builders fed element by element ---- */

static unsigned char *lp_push_val(unsigned char *lp, const lp_val *v) {
    return v->s ? lp_append(lp, (const char *)v->s, v->len) : lp_append_int(lp, v->i);
}

static int to_lp(void *ud, const lp_val *v) {
    unsigned char **lp = ud;
    if (v->s && lp_bytes(*lp) + v->len > ((size_t)1 << 30)) return 0; /* listpacks stay under 1 GiB */
    *lp = lp_push_val(*lp, v);
    return 1;
}

static int to_list(void *ud, const lp_val *v) {
    char buf[LL_STR_SIZE];
    if (v->s) ql_push(ud, (const char *)v->s, v->len, QL_TAIL);
    else ql_push(ud, buf, (size_t)ll2str(buf, v->i), QL_TAIL);
    return 1;
}

/* Duplicate detection over every `step`-th element of a listpack (fields of a hash, members of a zset). */
static int lp_has_dups(unsigned char *lp, int step) {
    dict *d = dict_new(0);
    int dup = 0;
    unsigned char buf[LL_STR_SIZE];
    for (unsigned char *p = lp_first(lp); p && !dup;) {
        uint32_t len;
        const unsigned char *s = lp_get_str(p, buf, &len);
        int created;
        dict_upsert(d, (const char *)s, len, &created);
        dup = !created;
        for (int i = 0; i < step && p; i++) p = lp_next(lp, p);
    }
    dict_free(d, NULL);
    return dup;
}

static double lp_score(const unsigned char *p, int *ok) {
    lp_val v;
    lp_get(p, &v);
    *ok = 1;
    if (!v.s) return (double)v.i;
    char buf[128];
    if (v.len == 0 || v.len >= sizeof(buf)) {
        *ok = 0;
        return 0;
    }
    memcpy(buf, v.s, v.len);
    buf[v.len] = 0;
    char *end;
    double d = strtod(buf, &end);
    if (end != buf + v.len || isnan(d)) *ok = 0;
    return d;
}

/* Deep checks of a member/score listpack: scores parse, pairs in (score, member) order. */
static int zlp_sorted(unsigned char *lp) {
    double prev = 0;
    unsigned char pb[LL_STR_SIZE], mb[LL_STR_SIZE];
    const unsigned char *pm = NULL;
    uint32_t pml = 0;
    for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, lp_next(lp, p))) {
        int ok;
        double s = lp_score(lp_next(lp, p), &ok);
        if (!ok) return 0;
        uint32_t ml;
        const unsigned char *m = lp_get_str(p, pm == pb ? mb : pb, &ml);
        if (pm) {
            if (s < prev) return 0;
            if (s == prev) {
                int c = memcmp(pm, m, pml < ml ? pml : ml);
                if (c > 0 || (c == 0 && pml >= ml)) return 0;
            }
        }
        prev = s;
        pm = m;
        pml = ml;
    }
    return 1;
}

/* ---- values ---- */

static void set_ptr(entry_value *v, int type, void *ptr) {
    v->type = type;
    v->store = VAL_PTR;
    v->ptr = ptr;
}

static int load_string(rdbr *r, entry_value *v) {
    const char *s;
    size_t len;
    if (!rd_str(r, 0, 0, &s, &len)) return 0;
    *v = str_value(s, len);
    return 1;
}

static int load_list_linked(rdbr *r, entry_value *v) {
    uint64_t n;
    if (!rd_len(r, &n)) return 0;
    if (n == 0) return fail(r, ERR_EMPTY);
    quicklist *ql = tlist_new();
    while (n--) {
        const char *s;
        size_t len;
        if (!rd_str(r, 0, 0, &s, &len)) {
            ql_free(ql);
            return 0;
        }
        ql_push(ql, s, len, QL_TAIL);
    }
    set_ptr(v, OBJ_LIST, ql);
    return 1;
}

/* How many elements of at least min_bytes each the rest of the input can hold (files: a guess). */
static size_t plausible(const rdbr *r, uint64_t n, size_t min_bytes) {
    uint64_t most = r->fd >= 0 ? ((uint64_t)1 << 20) : (uint64_t)(r->len - r->pos) / min_bytes;
    return (size_t)(n < most ? n : most);
}

static int load_set(rdbr *r, entry_value *v) {
    uint64_t n;
    if (!rd_len(r, &n)) return 0;
    if (n == 0) return fail(r, ERR_EMPTY);
    /* Redis 7.0 makes a hashtable at once when the count is over set-max-intset-entries */
    void *set = n > (unsigned long long)limits.set_max_intset_entries ? set_new_table(plausible(r, n, 1)) : NULL;
    while (n--) {
        const char *s;
        size_t len;
        if (!rd_str(r, 0, 0, &s, &len)) goto err;
        if (!set) set = set_create_for(s, len);
        if (!set_add(&set, s, len)) {
            fail(r, "Duplicate set members detected");
            goto err;
        }
    }
    set_ptr(v, OBJ_SET, set);
    return 1;
err:
    if (set) set_free(set);
    return 0;
}

typedef struct zmem {
    char *m;
    size_t len;
    double score;
} zmem;

static int load_zset(rdbr *r, int bin, entry_value *v) {
    uint64_t n;
    if (!rd_len(r, &n)) return 0;
    if (n == 0) return fail(r, ERR_EMPTY);
    if (n > (unsigned long long)limits.zset_max_listpack_entries) {
        /* big: member entries straight into the table, the index built once at the end */
        /* sized by the declared count only as far as the input can hold it (a member takes >= 9 bytes) */
        zset *acc = zs_acc_new_sized(plausible(r, n, 9));
        while (n--) {
            const char *s;
            size_t len;
            double d;
            /* Most members of a DUMP or an RDB file: a plain string of under 64 bytes and a binary score,
             * both already in the window (arrived, or read from the file): read in place, without the
             * general readers (zs_acc_push copies the member before the window can move). */
            const unsigned char *q = bin && r->ready - r->pos > 9 ? r->p + r->pos : NULL;
            if (q && q[0] < 0x40 && r->ready - r->pos >= 9u + q[0]) {
                s = (const char *)q + 1;
                len = q[0];
                uint64_t u = le(q + 1 + len, 8);
                memcpy(&d, &u, 8);
                r->pos += 9u + len;
            } else {
                if (!rd_str(r, 0, 0, &s, &len)) goto big_err;
                /* s stays valid across the score's 8 or so bytes only in memory mode: keep it in the slot */
                if (r->fd >= 0) {
                    unsigned char *b = slot_buf(r, 1, len);
                    if (len) memcpy(b, s, len);
                    s = (const char *)b;
                }
                if (!(bin ? rd_double_bin(r, &d) : rd_double_str(r, &d))) goto big_err;
            }
            if (isnan(d)) {
                fail(r, "Zset with NAN score detected");
                goto big_err;
            }
            zs_acc_push(acc, s, len, d);
        }
        if (!zs_acc_commit(acc)) {
            fail(r, "Duplicate zset fields detected");
            goto big_err;
        }
        set_ptr(v, OBJ_ZSET, acc);
        return 1;
    big_err:
        zs_free(acc); /* frees the pending members too */
        return 0;
    }
    /* the array grows as members arrive: zset-max-listpack-entries may be configured huge */
    size_t cap = plausible(r, n, 2), got = 0, maxlen = 0;
    if (cap == 0) cap = 1;
    zmem *ms = s_malloc(cap * sizeof(zmem));
    zset *z = NULL;
    for (; got < n; got++) {
        const char *s;
        size_t len;
        if (got == cap) {
            cap *= 2;
            ms = s_realloc(ms, cap * sizeof(zmem));
        }
        if (!rd_str(r, 0, 0, &s, &len)) goto err;
        ms[got].m = s_malloc(len ? len : 1);
        if (len) memcpy(ms[got].m, s, len);
        ms[got].len = len;
        if (len > maxlen) maxlen = len;
        if (!(bin ? rd_double_bin(r, &ms[got].score) : rd_double_str(r, &ms[got].score))) {
            got++;
            goto err;
        }
        if (isnan(ms[got].score)) {
            got++;
            fail(r, "Zset with NAN score detected");
            goto err;
        }
    }
    z = zs_new((size_t)n, maxlen);
    for (size_t i = 0; i < got; i++) {
        int out = 0;
        zs_add(&z, ms[i].score, ms[i].m, ms[i].len, ZA_NX, &out, NULL);
        if (!(out & ZA_OUT_ADDED)) {
            fail(r, "Duplicate zset fields detected");
            goto err;
        }
    }
    for (size_t i = 0; i < got; i++) s_free(ms[i].m);
    s_free(ms);
    set_ptr(v, OBJ_ZSET, z);
    return 1;
err:
    for (size_t i = 0; i < got; i++) s_free(ms[i].m);
    s_free(ms);
    if (z) zs_free(z);
    return 0;
}

static int load_hash(rdbr *r, entry_value *v) {
    uint64_t n;
    if (!rd_len(r, &n)) return 0;
    if (n == 0) return fail(r, ERR_EMPTY);
    /* Redis 7.0 makes a hashtable at once when the count is over hash-max-listpack-entries */
    void *h = n > (unsigned long long)limits.hash_max_listpack_entries ? hash_new_table(plausible(r, n, 2)) : hash_new();
    hash_batch_begin(&h);
    while (n--) {
        const char *f, *val;
        size_t fl, vl;
        if (!rd_str(r, 0, 1, &f, &fl) || !rd_str(r, 1, 0, &val, &vl)) goto err;
        if (!hash_set(&h, f, fl, val, vl)) {
            fail(r, "Duplicate hash fields detected");
            goto err;
        }
    }
    hash_batch_end(&h);
    set_ptr(v, OBJ_HASH, h);
    return 1;
err:
    hash_batch_end(&h);
    hash_free(h);
    return 0;
}

/* Fields of a hash pair walk (zipmap, ziplist) into a listpack, rejecting duplicates and oversized ones. */
typedef struct pair_ctx {
    unsigned char *lp;
    dict *seen;
    unsigned long i;
    int dup;
} pair_ctx;

static int to_pairs(void *ud, const lp_val *v) {
    pair_ctx *c = ud;
    if ((c->i++ & 1) == 0) {
        unsigned char buf[LL_STR_SIZE];
        uint32_t len;
        const unsigned char *s = v->s ? v->s : buf;
        if (v->s) len = v->len;
        else len = (uint32_t)ll2str((char *)buf, v->i);
        int created;
        dict_upsert(c->seen, (const char *)s, len, &created);
        if (!created) {
            c->dup = 1;
            return 0;
        }
    }
    return to_lp(&c->lp, v);
}

static int load_hash_zipmap(rdbr *r, entry_value *v) {
    size_t n;
    unsigned char *zm = rd_blob(r, &n);
    if (!zm) return 0;
    pair_ctx c = {lp_new(0), dict_new(0), 0, 0};
    int ok = zm_walk(zm, n, to_pairs, &c);
    s_free(zm);
    dict_free(c.seen, NULL);
    if (!ok) {
        lp_free(c.lp);
        return fail(r, c.dup ? "Hash zipmap with dup elements" : "Zipmap integrity check failed.");
    }
    if (c.i == 0) {
        lp_free(c.lp);
        return fail(r, ERR_EMPTY);
    }
    set_ptr(v, OBJ_HASH, hash_from_listpack(c.lp, 1));
    return 1;
}

static int load_list_ziplist(rdbr *r, entry_value *v) {
    size_t n;
    unsigned char *zl = rd_blob(r, &n);
    if (!zl) return 0;
    if (!zl_walk(zl, n, NULL, NULL, NULL)) { /* validate first: nothing half-built */
        s_free(zl);
        return fail(r, "List ziplist integrity check failed.");
    }
    quicklist *ql = tlist_new();
    zl_walk(zl, n, to_list, ql, NULL);
    s_free(zl);
    if (ql_count(ql) == 0) {
        ql_free(ql);
        return fail(r, ERR_EMPTY);
    }
    set_ptr(v, OBJ_LIST, ql);
    return 1;
}

/* ZSET_ZIPLIST and HASH_ZIPLIST: pairs converted to a listpack. */
static int load_pairs_ziplist(rdbr *r, int zset, entry_value *v) {
    size_t n;
    unsigned char *zl = rd_blob(r, &n);
    if (!zl) return 0;
    pair_ctx c = {lp_new(n), dict_new(0), 0, 0};
    int ok = zl_walk(zl, n, to_pairs, &c, NULL) && (c.i & 1) == 0;
    s_free(zl);
    dict_free(c.seen, NULL);
    if (ok && zset && r->deep && !zlp_sorted(c.lp)) ok = 0;
    if (!ok) {
        lp_free(c.lp);
        return fail(r, zset ? "Zset ziplist integrity check failed." : "Hash ziplist integrity check failed.");
    }
    if (c.i == 0) {
        lp_free(c.lp);
        return fail(r, ERR_EMPTY);
    }
    if (zset) set_ptr(v, OBJ_ZSET, zs_from_listpack(c.lp));
    else set_ptr(v, OBJ_HASH, hash_from_listpack(c.lp, 0));
    return 1;
}

static int load_intset(rdbr *r, entry_value *v) {
    const char *s;
    size_t n;
    if (!rd_str(r, 0, 0, &s, &n)) return 0;
    if (!is_validate((const unsigned char *)s, n)) return fail(r, "Intset integrity check failed.");
    set_ptr(v, OBJ_SET, set_from_intset(is_from_blob((const unsigned char *)s, n)));
    return 1;
}

/* A listpack payload taken to the heap (rd_blob), then validated (deeply: lp_validate includes the
 * encodings Redis itself writes, narrowest integer and length forms, exact count); NULL with r->err. */
static unsigned char *rd_listpack(rdbr *r, const char *bad) {
    size_t n;
    unsigned char *lp = rd_blob(r, &n);
    if (!lp) return NULL;
    if (n > UINT32_MAX || !lp_validate(lp, n, 1)) {
        lp_free(lp);
        fail(r, bad);
        return NULL;
    }
    return lp;
}

static int load_pairs_listpack(rdbr *r, int zset, entry_value *v) {
    const char *bad = zset ? "Zset listpack integrity check failed." : "Hash listpack integrity check failed.";
    unsigned char *lp = rd_listpack(r, bad);
    if (!lp) return 0;
    unsigned long n = lp_length(lp);
    long long limit = zset ? limits.zset_max_listpack_entries : limits.hash_max_listpack_entries;
    int ok = (n & 1) == 0;
    /* duplicates: checked when asked, and always before a conversion (which would index them) */
    if (ok && (r->deep || (unsigned long long)n / 2 > (unsigned long long)limit)) ok = !lp_has_dups(lp, 2);
    if (ok && zset && (r->deep || (unsigned long long)n / 2 > (unsigned long long)limit)) ok = zlp_sorted(lp);
    if (!ok) {
        lp_free(lp);
        return fail(r, bad);
    }
    if (n == 0) {
        lp_free(lp);
        return fail(r, ERR_EMPTY);
    }
    if (zset) set_ptr(v, OBJ_ZSET, zs_from_listpack(lp));
    else set_ptr(v, OBJ_HASH, hash_from_listpack(lp, 0));
    return 1;
}

/* RDB 11's listpack sets: Sardine keeps Redis 7.0's set encodings, so an intset or a hashtable. */
static int load_set_listpack(rdbr *r, entry_value *v) {
    unsigned char *lp = rd_listpack(r, "Set listpack integrity check failed.");
    if (!lp) return 0;
    if (lp_length(lp) == 0) {
        lp_free(lp);
        return fail(r, ERR_EMPTY);
    }
    void *set = NULL;
    unsigned char buf[LL_STR_SIZE];
    for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, p)) {
        uint32_t len;
        const unsigned char *s = lp_get_str(p, buf, &len);
        if (!set) set = set_create_for((const char *)s, len);
        if (!set_add(&set, (const char *)s, len)) {
            set_free(set);
            lp_free(lp);
            return fail(r, "Duplicate set members detected");
        }
    }
    lp_free(lp);
    set_ptr(v, OBJ_SET, set);
    return 1;
}

static int load_quicklist(rdbr *r, int v2, entry_value *v) {
    uint64_t n;
    if (!rd_len(r, &n)) return 0;
    if (n == 0) return fail(r, ERR_EMPTY);
    quicklist *ql = tlist_new();
    while (n--) {
        uint64_t container = QUICKLIST_NODE_CONTAINER_PACKED;
        if (v2) {
            if (!rd_len(r, &container)) goto err;
            if (container != QUICKLIST_NODE_CONTAINER_PACKED && container != QUICKLIST_NODE_CONTAINER_PLAIN) {
                fail(r, "Quicklist integrity check failed.");
                goto err;
            }
        }
        if (v2 && container == QUICKLIST_NODE_CONTAINER_PACKED) {
            /* the node is taken as it is: decompressed into its own buffer, validated deeply (one walk) */
            size_t len;
            unsigned char *lp = rd_blob(r, &len);
            if (!lp) goto err;
            if (len == 0 || len > UINT32_MAX || !lp_validate(lp, len, 1)) {
                lp_free(lp);
                fail(r, len ? "Listpack integrity check failed." : "empty quicklist node");
                goto err;
            }
            if (lp_length(lp) == 0) lp_free(lp); /* skipped, as Redis does */
            else ql_append_lp(ql, lp);
            continue;
        }
        const char *s;
        size_t len;
        if (!rd_str(r, 0, 0, &s, &len)) goto err;
        if (len == 0) {
            fail(r, "empty quicklist node");
            goto err;
        }
        if (container == QUICKLIST_NODE_CONTAINER_PLAIN) {
            ql_push(ql, s, len, QL_TAIL);
            continue;
        } else {
            if (!zl_walk((const unsigned char *)s, len, NULL, NULL, NULL)) {
                fail(r, "Ziplist integrity check failed.");
                goto err;
            }
            unsigned char *lp = lp_new(len);
            zl_walk((const unsigned char *)s, len, to_lp, &lp, NULL);
            if (lp_length(lp) == 0) lp_free(lp);
            else ql_append_lp(ql, lp);
        }
    }
    if (ql_count(ql) == 0) {
        ql_free(ql);
        return fail(r, ERR_EMPTY);
    }
    set_ptr(v, OBJ_LIST, ql);
    return 1;
err:
    ql_free(ql);
    return 0;
}

static int rd_sid_raw(rdbr *r, sid *id) {
    const unsigned char *q = take(r, 16);
    if (!q) return 0;
    id->ms = be(q, 8);
    id->seq = be(q + 8, 8);
    return 1;
}

static int load_stream(rdbr *r, int rdbtype, entry_value *v) {
    stream *s = stream_new();
    uint64_t n;
    const char *why;
    if (!rd_len(r, &n)) goto err;
    while (n--) {
        const char *k;
        size_t kl;
        if (!rd_str(r, 0, 0, &k, &kl)) goto err;
        if (kl != 16) {
            fail(r, "Stream node key entry is not the size of a stream ID");
            goto err;
        }
        sid master = {be((const unsigned char *)k, 8), be((const unsigned char *)k + 8, 8)};
        unsigned char *lp = rd_listpack(r, "Stream listpack integrity check failed.");
        if (!lp) goto err;
        if ((why = stream_load_node(s, &master, lp))) {
            lp_free(lp);
            fail(r, why);
            goto err;
        }
    }
    uint64_t len, a, b;
    if (!rd_len(r, &len) || !rd_len(r, &a) || !rd_len(r, &b)) goto err;
    s->length = len;
    s->last_id = (sid){a, b};
    if (rdbtype >= RDB_TYPE_STREAM_LISTPACKS_2) {
        uint64_t c, d, added;
        if (!rd_len(r, &a) || !rd_len(r, &b) || !rd_len(r, &c) || !rd_len(r, &d) || !rd_len(r, &added)) goto err;
        s->first_id = (sid){a, b};
        s->max_deleted_id = (sid){c, d};
        s->entries_added = added;
    } else {
        s->entries_added = len;
        s->max_deleted_id = (sid){0, 0}; /* first_id: set by stream_load_finish from the checked entries */
    }
    if (len && !s->nodes.count) {
        fail(r, "Stream length inconsistent with rax entries");
        goto err;
    }
    uint64_t ngroups;
    if (!rd_len(r, &ngroups)) goto err;
    while (ngroups--) {
        const char *name;
        size_t nl;
        if (!rd_str(r, 1, 1, &name, &nl)) goto err;
        sid last;
        if (!rd_len(r, &a) || !rd_len(r, &b)) goto err;
        last = (sid){a, b};
        long long entries_read;
        if (rdbtype >= RDB_TYPE_STREAM_LISTPACKS_2) {
            uint64_t er;
            if (!rd_len(r, &er)) goto err;
            entries_read = (long long)er;
        } else {
            entries_read = 0; /* estimated once first_id is known, below */
        }
        if (stream_group_find(s, name, nl)) {
            fail(r, "Duplicated consumer group name");
            goto err;
        }
        sgroup *g = stream_group_create(s, name, nl, &last, entries_read);
        uint64_t npel;
        if (!rd_len(r, &npel)) goto err;
        while (npel--) {
            sid id;
            long long dt;
            uint64_t dc;
            if (!rd_sid_raw(r, &id) || !rd_ms(r, &dt) || !rd_len(r, &dc)) goto err;
            int existed;
            spel *pe = stream_pel_add(g, &id, &existed);
            if (existed) {
                fail(r, "Duplicated global PEL entry loading stream consumer group");
                goto err;
            }
            pe->delivery_time = dt;
            pe->delivery_count = dc;
        }
        uint64_t ncons;
        if (!rd_len(r, &ncons)) goto err;
        while (ncons--) {
            const char *cn;
            size_t cl;
            long long seen, active;
            if (!rd_str(r, 0, 1, &cn, &cl)) goto err;
            if (stream_consumer_find(g, cn, cl)) {
                fail(r, "Duplicate stream consumer detected.");
                goto err;
            }
            sconsumer *c = stream_consumer_create(g, cn, cl, 0);
            if (!rd_ms(r, &seen)) goto err;
            if (rdbtype >= RDB_TYPE_STREAM_LISTPACKS_3 && !rd_ms(r, &active)) goto err; /* 7.2's active-time */
            c->seen_time = seen;
            if (!rd_len(r, &npel)) goto err;
            while (npel--) {
                sid id;
                if (!rd_sid_raw(r, &id)) goto err;
                spel *pe = stream_pel_find(g, &id);
                if (!pe) {
                    fail(r, "Consumer entry not found in group global PEL");
                    goto err;
                }
                if (pe->owner) {
                    fail(r, "Duplicated consumer PEL entry loading a stream consumer group");
                    goto err;
                }
                stream_pel_assign(g, pe, c);
            }
        }
    }
    if ((why = stream_load_finish(s))) {
        fail(r, why);
        goto err;
    }
    if (rdbtype == RDB_TYPE_STREAM_LISTPACKS) /* Redis 5/6 streams: entries_read as Redis 7.0 estimates it */
        for (uint32_t i = 0; i < s->ngroups; i++)
            s->groups[i]->entries_read = stream_estimate_distance(s, &s->groups[i]->last_id);
    set_ptr(v, OBJ_STREAM, s);
    return 1;
err:
    stream_free(s);
    return 0;
}

int rdbr_value(rdbr *r, int t, entry_value *v) {
    memset(v, 0, sizeof(*v));
    switch (t) {
    case RDB_TYPE_STRING: return load_string(r, v);
    case RDB_TYPE_LIST: return load_list_linked(r, v);
    case RDB_TYPE_SET: return load_set(r, v);
    case RDB_TYPE_ZSET: return load_zset(r, 0, v);
    case RDB_TYPE_ZSET_2: return load_zset(r, 1, v);
    case RDB_TYPE_HASH: return load_hash(r, v);
    case RDB_TYPE_HASH_ZIPMAP: return load_hash_zipmap(r, v);
    case RDB_TYPE_LIST_ZIPLIST: return load_list_ziplist(r, v);
    case RDB_TYPE_SET_INTSET: return load_intset(r, v);
    case RDB_TYPE_ZSET_ZIPLIST: return load_pairs_ziplist(r, 1, v);
    case RDB_TYPE_HASH_ZIPLIST: return load_pairs_ziplist(r, 0, v);
    case RDB_TYPE_LIST_QUICKLIST: return load_quicklist(r, 0, v);
    case RDB_TYPE_LIST_QUICKLIST_2: return load_quicklist(r, 1, v);
    case RDB_TYPE_HASH_LISTPACK: return load_pairs_listpack(r, 0, v);
    case RDB_TYPE_ZSET_LISTPACK: return load_pairs_listpack(r, 1, v);
    case RDB_TYPE_SET_LISTPACK: return load_set_listpack(r, v);
    case RDB_TYPE_STREAM_LISTPACKS:
    case RDB_TYPE_STREAM_LISTPACKS_2:
    case RDB_TYPE_STREAM_LISTPACKS_3: return load_stream(r, t, v);
    case RDB_TYPE_MODULE:
    case RDB_TYPE_MODULE_2: return fail(r, "module values are not supported (no modules are loaded)");
    default: return fail(r, "unknown value type");
    }
}

void rdb_value_discard(entry_value *v) {
    if (v->store >= VAL_PTR && v->ptr) obj_free(v_heap_kind(v), v->ptr);
    v->ptr = NULL;
}

/* ---- DUMP payloads ---- */

int rdb_dump_verify(const unsigned char *p, size_t n) {
    if (n < 10) return 0;
    return rdb_dump_footer_ok(p, n, crc64(0, p, n - 8));
}

int rdb_dump_footer_ok(const unsigned char *p, size_t n, uint64_t crc) {
    if (n < 10) return 0;
    const unsigned char *footer = p + n - 10;
    unsigned ver = (unsigned)le(footer, 2);
    return ver <= RDB_VERSION_MAX_READ && crc == le(footer + 2, 8);
}

int rdb_functions_payload(const unsigned char *p, size_t n, void (*each)(void *ud, const char *code, size_t len),
                          void *ud, const char **err) {
    rdbr r;
    rdbr_init_mem(&r, p, n - 10, 0);
    r.version = (int)le(p + n - 10, 2);
    int rc = 0;
    while (r.pos < r.len) {
        int t;
        const char *code;
        size_t len;
        if (!rd_byte(&r, &t)) {
            *err = "can not read data type";
            rc = -1;
            break;
        }
        if (t != RDB_OPCODE_FUNCTION2) {
            *err = "given type is not a function";
            rc = -1;
            break;
        }
        if (!rd_str(&r, 0, 0, &code, &len)) {
            *err = "failed loading the given functions payload";
            rc = -1;
            break;
        }
        each(ud, code, len);
    }
    rdbr_free(&r);
    return rc;
}

static int dump_load(rdbr *r, const unsigned char *p, size_t n, entry_value *v, const char **err);

int rdb_dump_load(const unsigned char *p, size_t n, int deep, entry_value *v, const char **err) {
    rdbr r;
    rdbr_init_mem(&r, p, n - 10, deep);
    r.version = (int)le(p + n - 10, 2);
    return dump_load(&r, p, n, v, err);
}

int rdb_dump_load_arriving(const unsigned char *p, size_t n, size_t ready, size_t (*wait)(void *ud, size_t need),
                           void *ud, int deep, entry_value *v, const char **err) {
    rdbr r;
    rdbr_init_mem(&r, p, n - 10, deep);
    r.ready = ready < n - 10 ? ready : n - 10;
    r.wait = wait;
    r.wait_ud = ud;
    r.version = RDB_VERSION_MAX_READ; /* the footer is not there yet; values do not depend on it */
    return dump_load(&r, p, n, v, err);
}

static int dump_load(rdbr *r, const unsigned char *p, size_t n, entry_value *v, const char **err) {
    static _Thread_local char inline_copy[STR_INLINE_MAX + 1]; /* an inline string decoded from LZF: valid until the next call */
    int t, ok = 0;
    if (n >= ((size_t)1 << 20)) arena_bulk(1); /* a big value: its entries fill fresh arena pages */
    if (rd_byte(r, &t)) {
        if (!rdb_is_object_type(t) && t != RDB_TYPE_MODULE && t != RDB_TYPE_MODULE_2) fail(r, "unknown value type");
        else ok = rdbr_value(r, t, v);
    }
    arena_bulk(0);
    if (ok && v->store == VAL_INLINE && !((const unsigned char *)v->sval >= p && (const unsigned char *)v->sval < p + n)) {
        memcpy(inline_copy, v->sval, v->slen);
        v->sval = inline_copy;
    }
    if (!ok) *err = r->err ? r->err : "bad payload";
    rdbr_free(r);
    return ok;
}

/* ---- files ---- */

static void skip_function(rdbr *r, int type) {
    const char *s;
    size_t len;
    char name[128] = "?";
    if (type == RDB_OPCODE_FUNCTION_PRE_GA) {
        /* 7.0 release candidates: name, engine, [description], code */
        uint64_t has_desc;
        if (!rd_str(r, 1, 1, &s, &len)) return;
        snprintf(name, sizeof(name), "%.*s", (int)(len < 100 ? len : 100), s);
        if (!rd_str(r, 0, 0, &s, &len) || !rd_len(r, &has_desc)) return;
        if (has_desc && !rd_str(r, 0, 0, &s, &len)) return;
        if (!rd_str(r, 0, 0, &s, &len)) return;
    } else {
        if (!rd_str(r, 0, 0, &s, &len)) return;
        /* "#!lua name=mylib ..." */
        const char *q = memmem(s, len < 256 ? len : 256, "name=", 5);
        if (q) {
            size_t i = 0;
            q += 5;
            while (i < sizeof(name) - 1 && q + i < s + len && q[i] != ' ' && q[i] != '\n' && q[i] != '\r') i++;
            memcpy(name, q, i);
            name[i] = 0;
        }
    }
    serverLog(LL_WARNING,
              "WARNING: the RDB file holds the function library '%s', which is NOT loaded: this load takes keys "
              "only (DEBUG LOAD-RDB). FCALL to its functions will fail.",
              name);
}

/* Keys are built as they are read and inserted in batches: the table probes of a batch are prefetched
 * together, so their cache misses overlap instead of costing one each (the table is much bigger than
 * the caches: this is most of a load's time). */
#define BATCH 16
typedef struct kbatch {
    db *d[BATCH];
    handle_t h[BATCH];
    uint64_t hash[BATCH];
    int n;
} kbatch;

static void free_built(handle_t h) {
    uint8_t *e = arena_ptr(h);
    if (e_on_heap(e)) obj_free(e_heap_kind(e), e_ptr(e));
    entry_free(h);
}

/* Inserts the batch; on a duplicate key the rest is freed, the key named in err, and 0 returned. */
static int batch_flush(kbatch *b, char *err, size_t errlen) {
    int ok = 1;
    for (int i = 0; i < b->n; i++) {
        if (ok && !db_load_insert(b->d[i], b->h[i], b->hash[i])) {
            size_t kl;
            keybuf k_kb;
            const char *k = e_keyb(arena_ptr(b->h[i]), &k_kb, &kl);
            snprintf(err, errlen, "Duplicate key '%.*s' found in RDB file", (int)(kl < 128 ? kl : 128), k);
            ok = 0;
        }
        if (!ok) free_built(b->h[i]);
    }
    b->n = 0;
    return ok;
}

static void progress(const rdb_load_opts *o, rdbr *r, uint64_t *next) {
    uint64_t at = rd_tell(r);
    if (at >= *next) {
        if (o && o->progress) o->progress(o->ud, at);
        *next = at + RD_CHUNK;
    }
}

static int load_stream_fd(int fd, const rdb_load_opts *o, rdb_load_info *info, char *err, size_t errlen) {
    rdbr r;
    rdbr_init_fd(&r, fd, o ? o->deep : 0);
    r.crc_on = !(o && o->no_checksum);
    kbatch batch = {.n = 0}; /* before any goto out */
    rdb_load_info local;
    if (!info) info = &local;
    memset(info, 0, sizeof(*info));
    info->ctime = -1;
    int rc = -1;
    const unsigned char *h = take(&r, 9);
    if (!h) {
        snprintf(err, errlen, "Short read or OOM loading DB. Unrecoverable error, aborting now.");
        goto out;
    }
    if (memcmp(h, "REDIS", 5) != 0) {
        snprintf(err, errlen, "Wrong signature trying to load DB from file");
        goto out;
    }
    char vbuf[5];
    memcpy(vbuf, h + 5, 4);
    vbuf[4] = 0;
    int ver = atoi(vbuf);
    if (ver < 1 || ver > RDB_VERSION_MAX_READ) {
        snprintf(err, errlen, "Can't handle RDB format version %d", ver);
        goto out;
    }
    r.version = info->version = ver;
    db *d = &srv.dbs[0];
    long long expire = -1, idle = -1, freq = -1, now = mstime();
    uint64_t next_progress = RD_CHUNK;
    for (;;) {
        int type;
        progress(o, &r, &next_progress);
        if (!rd_byte(&r, &type)) goto bad;
        if (type == RDB_OPCODE_EXPIRETIME) {
            const unsigned char *q = take(&r, 4);
            if (!q) goto bad;
            expire = (long long)(int32_t)le(q, 4) * 1000;
        } else if (type == RDB_OPCODE_EXPIRETIME_MS) {
            if (!rd_ms(&r, &expire)) goto bad;
        } else if (type == RDB_OPCODE_FREQ) {
            int b;
            if (!rd_byte(&r, &b)) goto bad;
            freq = b;
        } else if (type == RDB_OPCODE_IDLE) {
            uint64_t l;
            if (!rd_len(&r, &l)) goto bad;
            idle = (long long)(l > (uint64_t)LLONG_MAX ? LLONG_MAX : l);
        } else if (type == RDB_OPCODE_EOF) {
            if (!batch_flush(&batch, err, errlen)) goto out;
            break;
        } else if (type == RDB_OPCODE_SELECTDB) {
            uint64_t id;
            if (!rd_len(&r, &id)) goto bad;
            if (id >= (uint64_t)srv.dbnum) {
                snprintf(err, errlen,
                         "FATAL: Data file was created with a Redis server configured to handle more than %d "
                         "databases. Exiting\n",
                         srv.dbnum);
                goto out;
            }
            d = &srv.dbs[id];
        } else if (type == RDB_OPCODE_RESIZEDB) {
            uint64_t a, b;
            if (!rd_len(&r, &a) || !rd_len(&r, &b)) goto bad;
            /* the table sized at once (grown later as usual if the hint was short); a hint bigger than
             * the file could hold (>= 3 bytes a key) is capped by the file's size */
            struct stat st;
            uint64_t most = fstat(fd, &st) == 0 && st.st_size > 0 ? (uint64_t)st.st_size / 3 : ((uint64_t)1 << 20);
            if (!batch_flush(&batch, err, errlen)) goto out;
            if (d->t.count == 0) kt_reserve(&d->t, (size_t)(a < most ? a : most));
        } else if (type == RDB_OPCODE_AUX) {
            const char *k, *val;
            size_t kl, vl;
            if (!rd_str(&r, 1, 1, &k, &kl) || !rd_str(&r, 0, 1, &val, &vl)) goto bad;
            if (kl == 9 && !memcmp(k, "redis-ver", 9)) {
                serverLog(LL_NOTICE, "Loading RDB produced by version %.*s", (int)(vl < 64 ? vl : 64), val);
            } else if (kl == 5 && !memcmp(k, "ctime", 5)) {
                long long t;
                if (str2ll(val, vl, &t)) {
                    info->ctime = t;
                    long long age = now / 1000 - t;
                    if (age < 0) age = 0;
                    serverLog(LL_NOTICE, "RDB age %lld seconds", age);
                }
            } else if (kl == 8 && !memcmp(k, "aof-base", 8)) {
                long long t;
                info->aof_base = str2ll(val, vl, &t) && t != 0;
            } else if (kl == 8 && !memcmp(k, "used-mem", 8)) {
                long long t;
                if (str2ll(val, vl, &t)) serverLog(LL_NOTICE, "RDB memory usage when created %.2f Mb", (double)t / (1024 * 1024));
            }
        } else if (type == RDB_OPCODE_MODULE_AUX) {
            snprintf(err, errlen, "The RDB file contains AUX module data I can't load: no modules are loaded");
            goto out;
        } else if (type == RDB_OPCODE_FUNCTION2 && o && o->function) {
            const char *code;
            size_t cl;
            if (!rd_str(&r, 0, 0, &code, &cl)) goto bad;
            char ferr[512];
            if (o->function(o->ud, code, cl, ferr, sizeof(ferr)) != 0) {
                snprintf(err, errlen, "Failed loading library: %s", ferr);
                goto out;
            }
        } else if (type == RDB_OPCODE_FUNCTION2 || type == RDB_OPCODE_FUNCTION_PRE_GA) {
            skip_function(&r, type);
            if (r.err) goto bad;
        } else {
            if (!rdb_is_object_type(type) && type != RDB_TYPE_MODULE && type != RDB_TYPE_MODULE_2) {
                snprintf(err, errlen, "Unknown RDB encoding type %d", type);
                goto out;
            }
            if (batch.n == BATCH && !batch_flush(&batch, err, errlen)) goto out;
            const char *k;
            size_t kl;
            if (!rd_str(&r, 2, 1, &k, &kl)) goto bad;
            entry_value v;
            if (!rdbr_value(&r, type, &v)) {
                if (r.err == ERR_EMPTY) { /* old Redis could write empty keys: skipped, as Redis does */
                    r.err = NULL;
                    info->empty_skipped++;
                    expire = idle = freq = -1;
                    continue;
                }
                goto bad;
            }
            if (expire != -1 && !(o && o->keep_expired) && expire < now) {
                rdb_value_discard(&v);
                info->expired_skipped++;
            } else {
                handle_t h = entry_build(k, kl, expire, lru_restored(idle, freq), &v);
                if (!h) {
                    rdb_value_discard(&v);
                    snprintf(err, errlen, "the entry arena is exhausted");
                    goto out;
                }
                uint64_t hash = kt_hash(k, kl);
                kt_prefetch(&d->t, hash);
                batch.d[batch.n] = d;
                batch.h[batch.n] = h;
                batch.hash[batch.n++] = hash;
                info->keys++;
            }
            expire = idle = freq = -1;
        }
    }
    crc_sync(&r);
    uint64_t computed = r.crc;
    info->end_offset = rd_tell(&r);
    if (ver >= 5) {
        const unsigned char *q = take(&r, 8);
        if (!q) goto bad;
        uint64_t expected = le(q, 8);
        info->end_offset = rd_tell(&r);
        if (r.crc_on && expected != 0 && expected != computed) {
            snprintf(err, errlen, "Wrong RDB checksum expected: (%llx) got: (%llx). Aborting now.",
                     (unsigned long long)expected, (unsigned long long)computed);
            goto out;
        }
    }
    if (o && o->progress) o->progress(o->ud, rd_tell(&r));
    rc = 0;
    goto out;
bad:
    snprintf(err, errlen, "Short read or corrupt RDB at offset %llu: %s", (unsigned long long)rd_tell(&r),
             r.err ? r.err : "bad data");
out:
    if (batch.n) { /* an error with keys not yet inserted */
        for (int i = 0; i < batch.n; i++) free_built(batch.h[i]);
        batch.n = 0;
    }
    rdbr_free(&r);
    return rc;
}

int rdb_load_fd(int fd, const rdb_load_opts *o, rdb_load_info *info, char *err, size_t errlen) {
    arena_bulk(1);
    zstr_bulk(1);
    int rc = load_stream_fd(fd, o, info, err, errlen);
    zstr_bulk(0);
    arena_bulk(0);
    return rc;
}

int rdb_load_file(const char *path, const rdb_load_opts *o, rdb_load_info *info, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "Can't open %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = rdb_load_fd(fd, o, info, err, errlen);
    close(fd);
    return rc;
}
