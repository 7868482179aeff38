/* bitmap_cmds: the bit commands of Redis 7.0 (SETBIT, GETBIT, BITCOUNT,
 * BITPOS, BITOP, BITFIELD, BITFIELD_RO) on string values, with its order of
 * checks, replies and error texts.
 *
 * Bit 0 is the most significant bit of byte 0.  Reads accept any string
 * encoding (an integer reads as its decimal text, as in Redis); a command
 * that writes bits first makes the value raw (an rstr), zero-extends it to
 * the highest byte written (to the allocator's size class: amortised growth
 * without doubling) and changes it in place, then key_changed.  Offsets follow
 * Redis's limit: the byte must be below proto-max-bulk-len.  Counting and
 * searching go a 64-bit word at a time (hardware popcount when the CPU has it).
 *
 * Quirks kept on purpose (Redis 7.0 behaves so): BITCOUNT and BITPOS look the
 * key up before parsing the range, so a missing key answers 0 (or -1/0) even
 * with bad arguments; BITFIELD parses every operation before touching the key
 * and creates/extends it even when every write fails with OVERFLOW FAIL.  A
 * write is a change (key_changed: WATCH, dirty, propagation) only if it created or grew the
 * string or changed a bit: SETBIT of the bit already there, a BITFIELD SET of
 * the same value or a failed write leave watchers alone. */
#include "commands/command.h"
#include "commands/commands.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "types/rstr.h"
#include "types/tstring.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <stdint.h>
#include <string.h>

#define ERR_OFFSET "ERR bit offset is not an integer or out of range"

/* ---- shared ---- */

/* Redis's getBitOffsetFromArgument: "#N" means N * bits when `bits` is given (the product wraps
 * like Redis's signed multiply); the offset's byte must be under proto-max-bulk-len. */
static int parse_offset(client *c, const arg *a, int bits, uint64_t *off) {
    int hash = bits > 0 && a->len > 0 && a->p[0] == '#';
    long long v;
    if (!str2ll(a->p + hash, a->len - (size_t)hash, &v)) {
        reply_error(c, ERR_OFFSET);
        return 0;
    }
    if (hash) v = (long long)((unsigned long long)v * (unsigned long long)bits);
    if (v < 0 || (v >> 3) >= srv.proto_max_bulk_len) {
        reply_error(c, ERR_OFFSET);
        return 0;
    }
    *off = (uint64_t)v;
    return 1;
}

/* A string to read: 1 found (bytes in *p, *len; buf holds an integer's text), 0 missing, -1 wrong type. */
static int lookup_read(client *c, const arg *k, char *buf, const uint8_t **p, size_t *len) {
    kref r;
    if (!db_lookup(c->db, k->p, k->len, 0, &r)) return 0;
    if (e_type(r.e) != OBJ_STRING) {
        reply_wrongtype(c);
        return -1;
    }
    *p = (const uint8_t *)str_get(r.e, buf, len);
    return 1;
}

/* Room for `need` bytes: the allocator's size class of it, all used (not rstr_reserve's doubling:
 * a bitmap grown by random offsets would keep up to half its bytes unused; the size classes are
 * geometric, so growth byte by byte still reallocates O(log n) times). */
static rstr *grow(rstr *s, size_t need) {
    if (need <= s->cap) return s;
    s = s_realloc(s, sizeof(rstr) + need + 1);
    s->cap = s_usable(s) - sizeof(rstr) - 1;
    return s;
}

/* The string a write reaching byte `byte` works on (Redis's lookupStringForBitCommand): created
 * zeroed, or made raw and zero-extended to byte+1.  *dirty = created or lengthened.  NULL after
 * replying WRONGTYPE. */
static rstr *lookup_write(client *c, const arg *k, uint64_t byte, int *dirty) {
    kref r;
    size_t need = (size_t)byte + 1;
    *dirty = 0;
    if (!db_lookup(c->db, k->p, k->len, LOOKUP_NOSTATS, &r)) {
        r.h = 0;
        entry_value v = {.type = OBJ_STRING, .store = VAL_PTR, .ptr = rstr_new(NULL, need, need)};
        db_set_value_at(&r, k->p, k->len, &v, -1);
        *dirty = 1;
        return v.ptr;
    }
    if (e_type(r.e) != OBJ_STRING) {
        reply_wrongtype(c);
        return NULL;
    }
    if (e_store(r.e) == VAL_PTR) {
        rstr *s = e_ptr(r.e);
        if (need > s->len) {
            s = grow(s, need);
            memset(s->data + s->len, 0, need - s->len);
            s->len = need;
            s->data[need] = 0;
            e_set_ptr(r.e, s);
            *dirty = 1;
        }
        return s;
    }
    char buf[LL_STR_SIZE];
    size_t len;
    const char *p = str_get(r.e, buf, &len);
    size_t n = need > len ? need : len;
    rstr *s = rstr_new(NULL, n, n);
    memcpy(s->data, p, len);
    *dirty = n != len;
    entry_value v = {.type = OBJ_STRING, .store = VAL_PTR, .ptr = s};
    db_set_value_at(&r, k->p, k->len, &v, -2);
    return s;
}

/* ---- popcount and search ---- */

static uint64_t popcount_generic(const uint8_t *p, size_t n) {
    uint64_t total = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        total += (uint64_t)__builtin_popcountll(w);
    }
    for (; i < n; i++) total += (uint64_t)__builtin_popcount(p[i]);
    return total;
}

#if defined(__x86_64__)
/* The same loop compiled for the POPCNT instruction, four independent sums per 32 bytes. */
__attribute__((target("popcnt"))) static uint64_t popcount_hw(const uint8_t *p, size_t n) {
    uint64_t a = 0, b = 0, c = 0, d = 0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, 32);
        a += (uint64_t)__builtin_popcountll(w[0]);
        b += (uint64_t)__builtin_popcountll(w[1]);
        c += (uint64_t)__builtin_popcountll(w[2]);
        d += (uint64_t)__builtin_popcountll(w[3]);
    }
    return a + b + c + d + popcount_generic(p + i, n - i);
}
#endif

static uint64_t popcount(const uint8_t *p, size_t n) {
#if defined(__x86_64__)
    static int hw = -1;
    if (hw < 0) hw = __builtin_cpu_supports("popcnt") ? 1 : 0;
    if (hw) return popcount_hw(p, n);
#endif
    return popcount_generic(p, n);
}

static inline int clz8(uint8_t b) { return __builtin_clz(b) - 24; }

/* The first bit equal to `bit` in the bit range [bs, be] of p (both inside the string); -1 if none. */
static long long find_bit(const uint8_t *p, uint64_t bs, uint64_t be, int bit) {
    uint8_t flip = bit ? 0 : 0xff; /* searching for zeros = searching for ones in the complement */
    uint64_t i = bs >> 3, last = be >> 3;
    uint8_t lastmask = (uint8_t)(0xff << (7 - (be & 7)));
    uint8_t b = (uint8_t)((p[i] ^ flip) & (0xff >> (bs & 7)));
    if (i == last) b &= lastmask;
    if (b) return (long long)(i * 8) + clz8(b);
    if (i == last) return -1;
    uint64_t wflip = bit ? 0 : ~0ULL;
    for (i++; i + 8 <= last; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        w ^= wflip;
        if (w) return (long long)(i * 8) + __builtin_clzll(__builtin_bswap64(w));
    }
    for (; i < last; i++) {
        b = p[i] ^ flip;
        if (b) return (long long)(i * 8) + clz8(b);
    }
    b = (uint8_t)((p[last] ^ flip) & lastmask);
    return b ? (long long)(last * 8) + clz8(b) : -1;
}

/* ---- SETBIT / GETBIT ---- */

void cmd_setbit(client *c) {
    uint64_t off;
    long long on;
    if (!parse_offset(c, &c->argv[2], 0, &off)) return;
    if (!str2ll(c->argv[3].p, c->argv[3].len, &on) || (on & ~1)) {
        reply_error(c, "ERR bit is not an integer or out of range");
        return;
    }
    int dirty;
    const arg *k = &c->argv[1];
    long long mark = dirty_mark();
    rstr *s = lookup_write(c, k, off >> 3, &dirty);
    if (!s) return;
    uint8_t *b = (uint8_t *)s->data + (off >> 3);
    int shift = 7 - (int)(off & 7), old = (*b >> shift) & 1;
    if (dirty || old != on) {
        *b = (uint8_t)((*b & ~(1 << shift)) | (on << shift));
        key_changed(c, k, FX_STRING, "setbit");
    }
    dirty_count(mark, dirty || old != on); /* Redis: one change, the key's creation included */
    reply_int(c, old);
}

void cmd_getbit(client *c) {
    uint64_t off;
    if (!parse_offset(c, &c->argv[2], 0, &off)) return;
    char buf[LL_STR_SIZE];
    const uint8_t *p;
    size_t len;
    int f = lookup_read(c, &c->argv[1], buf, &p, &len);
    if (f < 0) return;
    reply_int(c, f && (off >> 3) < len ? (p[off >> 3] >> (7 - (off & 7))) & 1 : 0);
}

/* ---- BITCOUNT / BITPOS ---- */

/* BYTE|BIT keyword: 1 bit, 0 byte, -1 syntax error (replied). */
static int unit_arg(client *c, const arg *a) {
    if (arg_is(a, "bit")) return 1;
    if (arg_is(a, "byte")) return 0;
    reply_syntax_error(c);
    return -1;
}

/* Redis's range normalisation: negative from the end, clamped to [0, total-1]. */
static void clamp_range(long long total, long long *start, long long *end) {
    if (*start < 0) *start = total + *start;
    if (*end < 0) *end = total + *end;
    if (*start < 0) *start = 0;
    if (*end < 0) *end = 0;
    if (*end >= total) *end = total - 1;
}

void cmd_bitcount(client *c) {
    char buf[LL_STR_SIZE];
    const uint8_t *p;
    size_t len;
    int f = lookup_read(c, &c->argv[1], buf, &p, &len);
    if (f < 0) return;
    if (!f) {
        reply_int(c, 0);
        return;
    }
    long long start = 0, end = (long long)len - 1;
    int isbit = 0;
    if (c->argc == 4 || c->argc == 5) {
        if (!arg_ll(c, &c->argv[2], &start, NULL) || !arg_ll(c, &c->argv[3], &end, NULL)) return;
        if (start < 0 && end < 0 && start > end) { /* before the unit is even looked at */
            reply_int(c, 0);
            return;
        }
        if (c->argc == 5 && (isbit = unit_arg(c, &c->argv[4])) < 0) return;
        clamp_range(isbit ? (long long)len * 8 : (long long)len, &start, &end);
    } else if (c->argc != 2) {
        reply_syntax_error(c);
        return;
    }
    if (start > end) {
        reply_int(c, 0);
        return;
    }
    if (!isbit) {
        reply_int(c, (long long)popcount(p + start, (size_t)(end - start + 1)));
        return;
    }
    uint64_t fb = (uint64_t)start >> 3, lb = (uint64_t)end >> 3;
    long long n = (long long)popcount(p + fb, lb - fb + 1);
    n -= __builtin_popcount(p[fb] & ~(0xffu >> (start & 7)) & 0xff);    /* bits before start */
    n -= __builtin_popcount(p[lb] & (0xffu >> ((end & 7) + 1)));        /* bits after end */
    reply_int(c, n);
}

void cmd_bitpos(client *c) {
    long long bit;
    if (!arg_ll(c, &c->argv[2], &bit, NULL)) return;
    if (bit != 0 && bit != 1) {
        reply_error(c, "ERR The bit argument must be 1 or 0.");
        return;
    }
    char buf[LL_STR_SIZE];
    const uint8_t *p;
    size_t len;
    int f = lookup_read(c, &c->argv[1], buf, &p, &len);
    if (f < 0) return;
    if (!f) {
        reply_int(c, bit ? -1 : 0); /* a missing key is an endless run of zeros */
        return;
    }
    long long start = 0, end = (long long)len - 1;
    int isbit = 0, end_given = 0;
    if (c->argc >= 4 && c->argc <= 6) {
        if (!arg_ll(c, &c->argv[3], &start, NULL)) return;
        if (c->argc == 6 && (isbit = unit_arg(c, &c->argv[5])) < 0) return;
        if (c->argc >= 5) {
            if (!arg_ll(c, &c->argv[4], &end, NULL)) return;
            end_given = 1;
        } else {
            end = isbit ? (long long)len * 8 - 1 : (long long)len - 1;
        }
        clamp_range(isbit ? (long long)len * 8 : (long long)len, &start, &end);
    } else if (c->argc != 3) {
        reply_syntax_error(c);
        return;
    }
    if (start > end) {
        reply_int(c, -1);
        return;
    }
    uint64_t bs = isbit ? (uint64_t)start : (uint64_t)start * 8;
    uint64_t be = isbit ? (uint64_t)end : (uint64_t)end * 8 + 7;
    long long pos = find_bit(p, bs, be, (int)bit);
    /* No clear bit in range: without an explicit end the string continues with zeros. */
    if (pos < 0 && bit == 0 && !end_given) pos = (long long)be + 1;
    reply_int(c, pos);
}

/* ---- BITOP ---- */

enum { OP_AND, OP_OR, OP_XOR, OP_NOT };

static void bitop_apply(int op, uint8_t *d, const uint8_t *s, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t a, b;
        memcpy(&a, d + i, 8);
        memcpy(&b, s + i, 8);
        a = op == OP_AND ? a & b : op == OP_OR ? a | b : a ^ b;
        memcpy(d + i, &a, 8);
    }
    for (; i < n; i++) d[i] = op == OP_AND ? d[i] & s[i] : op == OP_OR ? d[i] | s[i] : d[i] ^ s[i];
}

void cmd_bitop(client *c) {
    const arg *name = &c->argv[1], *dest = &c->argv[2];
    int op;
    if (arg_is(name, "and")) op = OP_AND;
    else if (arg_is(name, "or")) op = OP_OR;
    else if (arg_is(name, "xor")) op = OP_XOR;
    else if (arg_is(name, "not")) op = OP_NOT;
    else {
        reply_syntax_error(c);
        return;
    }
    if (op == OP_NOT && c->argc != 4) {
        reply_error(c, "ERR BITOP NOT must be called with a single source key.");
        return;
    }
    /* Sources as byte ranges (pointers stay valid: later lookups can only expire other keys). */
    int n = c->argc - 3;
    const uint8_t **src = s_malloc(sizeof(*src) * (size_t)n);
    size_t *lens = s_malloc(sizeof(*lens) * (size_t)n), maxlen = 0;
    char (*bufs)[LL_STR_SIZE] = s_malloc(sizeof(*bufs) * (size_t)n);
    for (int j = 0; j < n; j++) {
        int f = lookup_read(c, &c->argv[3 + j], bufs[j], &src[j], &lens[j]);
        if (f < 0) goto done;
        if (!f) src[j] = NULL, lens[j] = 0;
        if (lens[j] > maxlen) maxlen = lens[j];
    }
    if (maxlen) {
        /* Start from the first source (zero-padded), then fold the others in. */
        rstr *res = rstr_new(lens[0] == maxlen ? (const char *)src[0] : NULL, maxlen, maxlen);
        uint8_t *d = (uint8_t *)res->data;
        if (lens[0] && lens[0] < maxlen) memcpy(d, src[0], lens[0]);
        if (op == OP_NOT) {
            size_t i = 0;
            for (; i + 8 <= maxlen; i += 8) {
                uint64_t w;
                memcpy(&w, d + i, 8);
                w = ~w;
                memcpy(d + i, &w, 8);
            }
            for (; i < maxlen; i++) d[i] = (uint8_t)~d[i];
        } else {
            for (int j = 1; j < n; j++) {
                if (lens[j]) bitop_apply(op, d, src[j], lens[j]);
                if (op == OP_AND && lens[j] < maxlen) memset(d + lens[j], 0, maxlen - lens[j]);
            }
        }
        entry_value v = {.type = OBJ_STRING, .store = VAL_PTR, .ptr = res};
        db_set_value(c->db, dest->p, dest->len, &v, -1);
        key_event(c, dest, FX_STRING, "set");
    } else {
        db_delete_key(c->db, dest->p, dest->len);
    }
    reply_int(c, (long long)maxlen);
done:
    s_free(src);
    s_free(lens);
    s_free(bufs);
}

/* ---- BITFIELD ---- */

enum { BF_GET, BF_SET, BF_INCRBY };
enum { OW_WRAP, OW_SAT, OW_FAIL };

typedef struct bf_op {
    uint64_t offset;
    int64_t value;
    int opcode, overflow, bits, sign;
} bf_op;

static inline uint64_t field_mask(int bits) { return bits == 64 ? ~0ULL : (1ULL << bits) - 1; }

/* `bits` bits at bit `off` (most significant first), zeros past len. */
static uint64_t field_read(const uint8_t *p, size_t len, uint64_t off, int bits) {
    uint64_t byte = off >> 3;
    unsigned __int128 w = 0;
    for (int i = 0; i < 9; i++) w = w << 8 | (byte + (uint64_t)i < len ? p[byte + (uint64_t)i] : 0);
    return (uint64_t)(w >> (72 - (int)(off & 7) - bits)) & field_mask(bits);
}

/* Writes the low `bits` of v at bit `off`; the bytes touched lie inside the string. */
static void field_write(uint8_t *p, uint64_t off, int bits, uint64_t v) {
    uint64_t byte = off >> 3;
    int shift = (int)(off & 7), nbytes = (shift + bits + 7) / 8, low = nbytes * 8 - shift - bits;
    unsigned __int128 w = 0, m = (unsigned __int128)field_mask(bits) << low;
    for (int i = 0; i < nbytes; i++) w = w << 8 | p[byte + (uint64_t)i];
    w = (w & ~m) | ((unsigned __int128)(v & field_mask(bits)) << low);
    for (int i = nbytes - 1; i >= 0; i--, w >>= 8) p[byte + (uint64_t)i] = (uint8_t)w;
}

static int64_t sign_extend(uint64_t v, int bits) {
    if (bits < 64 && (v >> (bits - 1)) & 1) v |= ~field_mask(bits);
    return (int64_t)v;
}

/* value + incr in a signed field: 0 fits (*out), 1 overflowed (*out = the WRAP or SAT result). */
static int add_signed(int64_t value, int64_t incr, int bits, int ow, int64_t *out) {
    __int128 r = (__int128)value + incr;
    __int128 max = bits == 64 ? INT64_MAX : ((__int128)1 << (bits - 1)) - 1, min = -max - 1;
    if (r >= min && r <= max) {
        *out = (int64_t)r;
        return 0;
    }
    if (ow == OW_SAT) *out = (int64_t)(r > max ? max : min);
    else *out = sign_extend(((uint64_t)value + (uint64_t)incr) & field_mask(bits), bits);
    return 1;
}

static int add_unsigned(uint64_t value, int64_t incr, int bits, int ow, uint64_t *out) {
    __int128 r = (__int128)value + incr, max = (__int128)field_mask(bits);
    if (r >= 0 && r <= max) {
        *out = (uint64_t)r;
        return 0;
    }
    if (ow == OW_SAT) *out = r > max ? (uint64_t)max : 0;
    else *out = (value + (uint64_t)incr) & field_mask(bits);
    return 1;
}

/* i1..i64 or u1..u63; the number ends at the first NUL like Redis's strlen. */
static int parse_type(client *c, const arg *a, int *sign, int *bits) {
    long long b;
    if (a->len > 0 && (a->p[0] == 'i' || a->p[0] == 'u')) {
        *sign = a->p[0] == 'i';
        if (str2ll(a->p + 1, strnlen(a->p + 1, a->len - 1), &b) && b >= 1 && b <= (*sign ? 64 : 63)) {
            *bits = (int)b;
            return 1;
        }
    }
    reply_error(c, "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.");
    return 0;
}

static void bitfield_generic(client *c, int ro) {
    bf_op *ops = NULL;
    int numops = 0, cap = 0, ow = OW_WRAP, readonly = 1, dirty = 0;
    long long mark = 0;
    uint64_t highest = 0;
    for (int j = 2; j < c->argc; j++) {
        int rem = c->argc - j - 1, opcode;
        const arg *a = &c->argv[j];
        if (arg_is(a, "get") && rem >= 2) opcode = BF_GET;
        else if (arg_is(a, "set") && rem >= 3) opcode = BF_SET;
        else if (arg_is(a, "incrby") && rem >= 3) opcode = BF_INCRBY;
        else if (arg_is(a, "overflow") && rem >= 1) {
            const arg *t = &c->argv[++j];
            if (arg_is(t, "wrap")) ow = OW_WRAP;
            else if (arg_is(t, "sat")) ow = OW_SAT;
            else if (arg_is(t, "fail")) ow = OW_FAIL;
            else {
                reply_error(c, "ERR Invalid OVERFLOW type specified");
                goto done;
            }
            continue;
        } else {
            reply_syntax_error(c);
            goto done;
        }
        bf_op op = {.opcode = opcode, .overflow = ow};
        if (!parse_type(c, &c->argv[j + 1], &op.sign, &op.bits)) goto done;
        if (!parse_offset(c, &c->argv[j + 2], op.bits, &op.offset)) goto done;
        if (opcode != BF_GET) {
            readonly = 0;
            if (highest < op.offset + (uint64_t)op.bits - 1) highest = op.offset + (uint64_t)op.bits - 1;
            long long v;
            if (!arg_ll(c, &c->argv[j + 3], &v, NULL)) goto done;
            op.value = v;
        }
        if (numops == cap) {
            cap = cap ? cap * 2 : 4;
            ops = s_realloc(ops, sizeof(*ops) * (size_t)cap);
        }
        ops[numops++] = op;
        j += opcode == BF_GET ? 2 : 3;
    }

    const arg *k = &c->argv[1];
    char buf[LL_STR_SIZE];
    const uint8_t *p = NULL;
    size_t len = 0;
    rstr *s = NULL;
    if (readonly) {
        if (lookup_read(c, k, buf, &p, &len) < 0) goto done;
    } else {
        if (ro) {
            reply_error(c, "ERR BITFIELD_RO only supports the GET subcommand");
            goto done;
        }
        mark = dirty_mark();
        if (!(s = lookup_write(c, k, highest >> 3, &dirty))) goto done;
    }
    reply_array(c, numops);
    int changes = 0;
    for (int i = 0; i < numops; i++) {
        bf_op *op = &ops[i];
        if (op->opcode == BF_GET) {
            if (s) { /* a GET among writes sees the string as written so far */
                p = (const uint8_t *)s->data;
                len = s->len;
            }
            uint64_t v = p ? field_read(p, len, op->offset, op->bits) : 0;
            reply_int(c, op->sign ? sign_extend(v, op->bits) : (long long)v);
            continue;
        }
        /* SET stores the value (reply: the old one); INCRBY adds to the old one (reply: the new one). */
        uint8_t *d = (uint8_t *)s->data;
        uint64_t old = field_read(d, s->len, op->offset, op->bits), store;
        int incr = op->opcode == BF_INCRBY, overflow;
        long long ret;
        if (op->sign) {
            int64_t oldv = sign_extend(old, op->bits), nv;
            overflow = incr ? add_signed(oldv, op->value, op->bits, op->overflow, &nv)
                            : add_signed(op->value, 0, op->bits, op->overflow, &nv);
            ret = incr ? nv : oldv;
            store = (uint64_t)nv;
        } else {
            overflow = incr ? add_unsigned(old, op->value, op->bits, op->overflow, &store)
                            : add_unsigned((uint64_t)op->value, 0, op->bits, op->overflow, &store);
            ret = (long long)(incr ? store : old);
        }
        if (overflow && op->overflow == OW_FAIL) {
            reply_null(c); /* nothing written: not a change */
        } else {
            reply_int(c, ret);
            field_write(d, op->offset, op->bits, store);
            if (dirty || (store & field_mask(op->bits)) != old) changes++;
        }
    }
    if (changes) key_changed(c, k, FX_STRING, "setbit");
    if (s) dirty_count(mark, changes); /* Redis: one per field written, the key's creation included */
done:
    s_free(ops);
}

void cmd_bitfield(client *c) { bitfield_generic(c, 0); }
void cmd_bitfield_ro(client *c) { bitfield_generic(c, 1); }


command bitmap_commands[] = {
    {"setbit", cmd_setbit},
    {"getbit", cmd_getbit},
    {"bitcount", cmd_bitcount},
    {"bitpos", cmd_bitpos},
    {"bitop", cmd_bitop},
    {"bitfield", cmd_bitfield},
    {"bitfield_ro", cmd_bitfield_ro},
    {0}};
