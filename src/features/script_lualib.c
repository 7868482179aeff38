/* script_lualib: the two libraries Redis bundles that Debian does not ship
 * for Lua 5.1, written for Sardine with the behaviour of Redis 7.0's copies:
 *
 * cmsgpack: pack(...) (each value: nil, booleans, integers in the smallest
 * MessagePack integer form, other numbers as float32 when exact else
 * float64, strings as fixstr/str8/16/32, tables as arrays when their keys
 * are exactly 1..n else maps, nesting deeper than 16 as nil), unpack(s),
 * unpack_one(s [, offset]), unpack_limit(s, limit [, offset]).
 *
 * struct: pack(fmt, ...), unpack(fmt, s [, pos]), size(fmt) with the
 * formats of Roberto Ierusalimschy's struct library: < > = ! endianness and
 * alignment, x padding, b B h H l L T i[n] I[n] integers, f d floats,
 * s zero-terminated and c[n] fixed strings. */
#include "features/script_lualib.h"
#include <lauxlib.h>
#include <lua.h>
#include <ctype.h>
#include <stdint.h>
#include <string.h>

/* ---------------- cmsgpack ---------------- */

#define MP_MAX_NESTING 16

static void mp_int(luaL_Buffer *b, int64_t n) {
    unsigned char h[9];
    int l;
    if (n >= 0) {
        uint64_t u = (uint64_t)n;
        if (u <= 127)
            h[0] = (unsigned char)u, l = 1;
        else if (u <= 0xff)
            h[0] = 0xcc, h[1] = (unsigned char)u, l = 2;
        else if (u <= 0xffff)
            h[0] = 0xcd, l = 3;
        else if (u <= 0xffffffffULL)
            h[0] = 0xce, l = 5;
        else
            h[0] = 0xcf, l = 9;
        for (int i = 1; i < l && l > 2; i++) h[i] = (unsigned char)(u >> (8 * (l - 1 - i)));
    } else {
        if (n >= -32)
            h[0] = (unsigned char)(n & 0xff), l = 1;
        else if (n >= -128)
            h[0] = 0xd0, h[1] = (unsigned char)(n & 0xff), l = 2;
        else if (n >= -32768)
            h[0] = 0xd1, l = 3;
        else if (n >= -2147483648LL)
            h[0] = 0xd2, l = 5;
        else
            h[0] = 0xd3, l = 9;
        for (int i = 1; i < l && l > 2; i++) h[i] = (unsigned char)((uint64_t)n >> (8 * (l - 1 - i)));
    }
    luaL_addlstring(b, (char *)h, (size_t)l);
}

static void mp_double(luaL_Buffer *b, double d) {
    unsigned char h[9];
    float f = (float)d;
    if ((double)f == d) {
        uint32_t u;
        memcpy(&u, &f, 4);
        h[0] = 0xca;
        for (int i = 0; i < 4; i++) h[1 + i] = (unsigned char)(u >> (24 - 8 * i));
        luaL_addlstring(b, (char *)h, 5);
    } else {
        uint64_t u;
        memcpy(&u, &d, 8);
        h[0] = 0xcb;
        for (int i = 0; i < 8; i++) h[1 + i] = (unsigned char)(u >> (56 - 8 * i));
        luaL_addlstring(b, (char *)h, 9);
    }
}

static void mp_len(luaL_Buffer *b, size_t n, int fix, size_t fixmax, int c8, int c16, int c32) {
    unsigned char h[5];
    int l;
    if (n <= fixmax)
        h[0] = (unsigned char)(fix | (int)n), l = 1;
    else if (c8 && n <= 0xff)
        h[0] = (unsigned char)c8, h[1] = (unsigned char)n, l = 2;
    else if (n <= 0xffff)
        h[0] = (unsigned char)c16, h[1] = (unsigned char)(n >> 8), h[2] = (unsigned char)n, l = 3;
    else {
        h[0] = (unsigned char)c32;
        for (int i = 0; i < 4; i++) h[1 + i] = (unsigned char)(n >> (24 - 8 * i));
        l = 5;
    }
    luaL_addlstring(b, (char *)h, (size_t)l);
}

/* A table whose keys are exactly the integers 1..n. */
static int mp_is_array(lua_State *L, size_t *n) {
    double max = 0;
    size_t count = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TNUMBER) {
            lua_pop(L, 1);
            return 0;
        }
        double k = lua_tonumber(L, -1);
        if (k <= 0 || k != (double)(int64_t)k) {
            lua_pop(L, 1);
            return 0;
        }
        if (k > max) max = k;
        count++;
    }
    *n = count;
    return max == (double)count;
}

static void mp_encode(lua_State *L, luaL_Buffer *b, int level);

/* Encodes the value at the top of L (a scratch stack, so that b's own stack use is undisturbed) into b,
 * popping it. */
static void mp_encode(lua_State *L, luaL_Buffer *b, int level) {
    int t = lua_type(L, -1);
    if (t == LUA_TTABLE && level >= MP_MAX_NESTING) t = LUA_TNIL;
    switch (t) {
    case LUA_TBOOLEAN: {
        unsigned char c = lua_toboolean(L, -1) ? 0xc3 : 0xc2;
        luaL_addlstring(b, (char *)&c, 1);
        break;
    }
    case LUA_TNUMBER: {
        double n = lua_tonumber(L, -1);
        if (n == n && n >= -9.2233720368547758e18 && n < 9.2233720368547758e18 && (double)(int64_t)n == n)
            mp_int(b, (int64_t)n);
        else
            mp_double(b, n);
        break;
    }
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        mp_len(b, len, 0xa0, 31, 0xd9, 0xda, 0xdb);
        luaL_addlstring(b, s, len);
        break;
    }
    case LUA_TTABLE: {
        size_t n;
        luaL_checkstack(L, 4, "too deep");
        if (mp_is_array(L, &n)) {
            mp_len(b, n, 0x90, 15, 0, 0xdc, 0xdd);
            for (size_t i = 1; i <= n; i++) {
                lua_rawgeti(L, -1, (int)i);
                mp_encode(L, b, level + 1);
            }
        } else {
            size_t count = 0;
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                lua_pop(L, 1);
                count++;
            }
            mp_len(b, count, 0x80, 15, 0, 0xde, 0xdf);
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                lua_pushvalue(L, -2);
                mp_encode(L, b, level + 1); /* key */
                mp_encode(L, b, level + 1); /* value */
            }
        }
        break;
    }
    default: {
        unsigned char c = 0xc0;
        luaL_addlstring(b, (char *)&c, 1);
    }
    }
    lua_pop(L, 1);
}

static int mp_pack(lua_State *L) {
    int argc = lua_gettop(L);
    if (argc == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
    lua_State *S = lua_newthread(L); /* values are walked on their own stack: the buffer owns L's top */
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= argc; i++) {
        lua_pushvalue(L, i);
        lua_xmove(L, S, 1);
        mp_encode(S, &b, 0);
    }
    luaL_pushresult(&b);
    return 1;
}

typedef struct mp_cur {
    const unsigned char *p;
    size_t left;
    int err; /* 1 missing bytes, 2 bad data */
} mp_cur;

static uint64_t mp_be(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

static void mp_decode(lua_State *L, mp_cur *c);

#define NEED(n)                                                                                              \
    do {                                                                                                     \
        if (c->left < (size_t)(n)) {                                                                         \
            c->err = 1;                                                                                      \
            return;                                                                                          \
        }                                                                                                    \
    } while (0)

static void mp_decode_seq(lua_State *L, mp_cur *c, size_t n, int map) {
    lua_newtable(L);
    for (size_t i = 0; i < n && !c->err; i++) {
        if (map) {
            mp_decode(L, c);
            if (c->err) return;
            mp_decode(L, c);
            if (c->err) return;
            lua_settable(L, -3);
        } else {
            mp_decode(L, c);
            if (c->err) return;
            lua_rawseti(L, -2, (int)(i + 1));
        }
    }
}

static void mp_decode(lua_State *L, mp_cur *c) {
    luaL_checkstack(L, 4, "too deep");
    NEED(1);
    unsigned char t = c->p[0];
    c->p++, c->left--;
    if (t <= 0x7f) {
        lua_pushnumber(L, t);
    } else if (t >= 0xe0) {
        lua_pushnumber(L, (int8_t)t);
    } else if ((t & 0xe0) == 0xa0 || t == 0xd9 || t == 0xda || t == 0xdb || t == 0xc4 || t == 0xc5 ||
               t == 0xc6) {
        size_t len;
        int hl = (t & 0xe0) == 0xa0 ? 0 : (t == 0xd9 || t == 0xc4) ? 1 : (t == 0xda || t == 0xc5) ? 2 : 4;
        NEED(hl);
        len = hl ? (size_t)mp_be(c->p, hl) : (size_t)(t & 0x1f);
        c->p += hl, c->left -= (size_t)hl;
        NEED(len);
        lua_pushlstring(L, (const char *)c->p, len);
        c->p += len, c->left -= len;
    } else if ((t & 0xf0) == 0x90 || t == 0xdc || t == 0xdd || (t & 0xf0) == 0x80 || t == 0xde || t == 0xdf) {
        int map = (t & 0xf0) == 0x80 || t == 0xde || t == 0xdf;
        int hl = (t & 0xf0) == 0x90 || (t & 0xf0) == 0x80 ? 0 : (t == 0xdc || t == 0xde) ? 2 : 4;
        NEED(hl);
        size_t n = hl ? (size_t)mp_be(c->p, hl) : (size_t)(t & 0x0f);
        c->p += hl, c->left -= (size_t)hl;
        mp_decode_seq(L, c, n, map);
    } else {
        switch (t) {
        case 0xc0: lua_pushnil(L); break;
        case 0xc2: lua_pushboolean(L, 0); break;
        case 0xc3: lua_pushboolean(L, 1); break;
        case 0xcc:
            NEED(1);
            lua_pushnumber(L, c->p[0]);
            c->p += 1, c->left -= 1;
            break;
        case 0xcd:
            NEED(2);
            lua_pushnumber(L, (double)mp_be(c->p, 2));
            c->p += 2, c->left -= 2;
            break;
        case 0xce:
            NEED(4);
            lua_pushnumber(L, (double)mp_be(c->p, 4));
            c->p += 4, c->left -= 4;
            break;
        case 0xcf:
            NEED(8);
            lua_pushnumber(L, (double)mp_be(c->p, 8));
            c->p += 8, c->left -= 8;
            break;
        case 0xd0:
            NEED(1);
            lua_pushnumber(L, (int8_t)c->p[0]);
            c->p += 1, c->left -= 1;
            break;
        case 0xd1:
            NEED(2);
            lua_pushnumber(L, (int16_t)mp_be(c->p, 2));
            c->p += 2, c->left -= 2;
            break;
        case 0xd2:
            NEED(4);
            lua_pushnumber(L, (int32_t)mp_be(c->p, 4));
            c->p += 4, c->left -= 4;
            break;
        case 0xd3:
            NEED(8);
            lua_pushnumber(L, (double)(int64_t)mp_be(c->p, 8));
            c->p += 8, c->left -= 8;
            break;
        case 0xca: {
            NEED(4);
            uint32_t u = (uint32_t)mp_be(c->p, 4);
            float f;
            memcpy(&f, &u, 4);
            lua_pushnumber(L, f);
            c->p += 4, c->left -= 4;
            break;
        }
        case 0xcb: {
            NEED(8);
            uint64_t u = mp_be(c->p, 8);
            double d;
            memcpy(&d, &u, 8);
            lua_pushnumber(L, d);
            c->p += 8, c->left -= 8;
            break;
        }
        default: c->err = 2;
        }
    }
}

static int mp_unpack_full(lua_State *L, int limit, int offset) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    if (offset < 0 || limit < 0)
        return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.", offset, limit);
    if ((size_t)offset > len)
        return luaL_error(L, "Start offset %d greater than input length %d.", offset, (int)len);
    mp_cur c = {(const unsigned char *)s + offset, len - (size_t)offset, 0};
    int cnt = 0, decode_all = !limit && !offset;
    lua_settop(L, 1);
    while (c.left > 0 && (!limit || cnt < limit)) {
        mp_decode(L, &c);
        if (c.err == 1) return luaL_error(L, "Missing bytes in input.");
        if (c.err) return luaL_error(L, "Bad data format in input.");
        cnt++;
    }
    if (!decode_all) {
        long off = c.left ? (long)(len - c.left) : -1;
        lua_pushnumber(L, (lua_Number)off);
        lua_insert(L, 2);
        cnt++;
    }
    return cnt;
}

static int mp_unpack(lua_State *L) {
    return mp_unpack_full(L, 0, 0);
}
static int mp_unpack_one(lua_State *L) {
    return mp_unpack_full(L, 1, (int)luaL_optinteger(L, 2, 0));
}
static int mp_unpack_limit(lua_State *L) {
    return mp_unpack_full(L, (int)luaL_checkinteger(L, 2), (int)luaL_optinteger(L, 3, 0));
}

int luaopen_cmsgpack(lua_State *L) {
    static const luaL_Reg fns[] = {{"pack", mp_pack},
                                   {"unpack", mp_unpack},
                                   {"unpack_one", mp_unpack_one},
                                   {"unpack_limit", mp_unpack_limit},
                                   {NULL, NULL}};
    luaL_register(L, "cmsgpack", fns);
    lua_pushliteral(L, "lua-cmsgpack");
    lua_setfield(L, -2, "_NAME");
    lua_pushliteral(L, "lua-cmsgpack 0.4.0");
    lua_setfield(L, -2, "_VERSION");
    lua_pushliteral(L, "Copyright (C) 2012, Salvatore Sanfilippo");
    lua_setfield(L, -2, "_COPYRIGHT");
    lua_pushliteral(L, "MessagePack C implementation for Lua");
    lua_setfield(L, -2, "_DESCRIPTION");
    return 1;
}

/* ---------------- struct ---------------- */

#define ST_MAXINTSIZE 32
#define ST_MAXALIGN   8

typedef struct st_header {
    int little; /* little-endian */
    int align;
} st_header;

static size_t st_num(const char **f, size_t df) {
    if (!isdigit((unsigned char)**f)) return df;
    size_t a = 0;
    do {
        a = a * 10 + (size_t)(*((*f)++) - '0');
    } while (isdigit((unsigned char)**f) && a < 100000000);
    return a;
}

static size_t st_optsize(lua_State *L, char opt, const char **f) {
    switch (opt) {
    case 'B':
    case 'b': return 1;
    case 'H':
    case 'h': return sizeof(short);
    case 'L':
    case 'l': return sizeof(long);
    case 'T': return sizeof(size_t);
    case 'f': return sizeof(float);
    case 'd': return sizeof(double);
    case 'x': return 1;
    case 'c': return st_num(f, 1);
    case 'i':
    case 'I': {
        size_t sz = st_num(f, sizeof(int));
        if (sz > ST_MAXINTSIZE)
            luaL_error(L, "integral size %d is larger than limit of %d", (int)sz, ST_MAXINTSIZE);
        return sz;
    }
    default: return 0;
    }
}

static size_t st_gettoalign(size_t len, st_header *h, char opt, size_t size) {
    if (size == 0 || opt == 'c') return 0;
    size_t align = size;
    if ((int)align > h->align) align = (size_t)h->align;
    return (align - (len & (align - 1))) & (align - 1);
}

static void st_controloptions(lua_State *L, char opt, const char **f, st_header *h) {
    switch (opt) {
    case ' ': return;
    case '>': h->little = 0; return;
    case '<': h->little = 1; return;
    case '!': {
        size_t a = st_num(f, ST_MAXALIGN);
        if (a == 0 || (a & (a - 1))) luaL_error(L, "alignment %d is not a power of 2", (int)a);
        h->align = (int)a;
        return;
    }
    default: {
        const char *msg = lua_pushfstring(L, "invalid format option '%c'", opt);
        luaL_argerror(L, 1, msg);
    }
    }
}

static void st_putinteger(luaL_Buffer *b, lua_Number n, int little, size_t size) {
    char buff[ST_MAXINTSIZE];
    unsigned long long value = n < 0 ? (unsigned long long)(long long)n : (unsigned long long)n;
    for (size_t i = 0; i < size; i++) {
        size_t at = little ? i : size - 1 - i;
        buff[at] = (char)(i < 8 ? (value >> (8 * i)) & 0xff : (n < 0 ? 0xff : 0));
    }
    luaL_addlstring(b, buff, size);
}

static void st_correctbytes(char *b, size_t size, int little) {
    int host_little = 1;
    host_little = *(char *)&host_little;
    if (little != host_little)
        for (size_t i = 0; i < size / 2; i++) {
            char t = b[i];
            b[i] = b[size - 1 - i];
            b[size - 1 - i] = t;
        }
}

static int st_pack(lua_State *L) {
    st_header h = {1, 1};
    const char *fmt = luaL_checkstring(L, 1);
    int arg = 2;
    size_t totalsize = 0;
    luaL_Buffer b;
    lua_pushnil(L); /* mark to separate arguments from string buffer */
    luaL_buffinit(L, &b);
    while (*fmt) {
        char opt = *fmt++;
        size_t size = st_optsize(L, opt, &fmt);
        size_t toalign = st_gettoalign(totalsize, &h, opt, size);
        totalsize += toalign;
        while (toalign-- > 0) luaL_addchar(&b, '\0');
        switch (opt) {
        case 'b':
        case 'B':
        case 'h':
        case 'H':
        case 'l':
        case 'L':
        case 'T':
        case 'i':
        case 'I': st_putinteger(&b, luaL_checknumber(L, arg++), h.little, size); break;
        case 'x': luaL_addchar(&b, '\0'); break;
        case 'f': {
            float f = (float)luaL_checknumber(L, arg++);
            st_correctbytes((char *)&f, size, h.little);
            luaL_addlstring(&b, (char *)&f, size);
            break;
        }
        case 'd': {
            double d = luaL_checknumber(L, arg++);
            st_correctbytes((char *)&d, size, h.little);
            luaL_addlstring(&b, (char *)&d, size);
            break;
        }
        case 'c':
        case 's': {
            size_t l;
            const char *s = luaL_checklstring(L, arg++, &l);
            if (size == 0) size = l;
            luaL_argcheck(L, l >= size, arg - 1, "string too short");
            luaL_addlstring(&b, s, size);
            if (opt == 's') {
                luaL_addchar(&b, '\0');
                size++;
            }
            break;
        }
        default: st_controloptions(L, opt, &fmt, &h);
        }
        totalsize += size;
    }
    luaL_pushresult(&b);
    return 1;
}

static lua_Number st_getinteger(const char *buff, int little, int issigned, size_t size) {
    unsigned long long l = 0;
    for (size_t i = 0; i < size; i++) {
        l <<= 8;
        l |= (unsigned char)buff[little ? size - 1 - i : i];
    }
    if (!issigned) return (lua_Number)l;
    unsigned long long mask = size >= 8 ? ~0ULL : (~0ULL << (size * 8 - 1));
    if (size < 8 && (l & mask)) l |= mask;
    return (lua_Number)(long long)l;
}

static int st_unpack(lua_State *L) {
    st_header h = {1, 1};
    const char *fmt = luaL_checkstring(L, 1);
    size_t ld;
    const char *data = luaL_checklstring(L, 2, &ld);
    size_t pos = (size_t)luaL_optinteger(L, 3, 1) - 1;
    luaL_argcheck(L, pos <= ld, 3, "offset must be 1 or greater");
    lua_settop(L, 2);
    while (*fmt) {
        char opt = *fmt++;
        size_t size = st_optsize(L, opt, &fmt);
        pos += st_gettoalign(pos, &h, opt, size);
        luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
        luaL_checkstack(L, 2, "too many results");
        switch (opt) {
        case 'b':
        case 'B':
        case 'h':
        case 'H':
        case 'l':
        case 'L':
        case 'T':
        case 'i':
        case 'I':
            lua_pushnumber(L, st_getinteger(data + pos, h.little, islower((unsigned char)opt), size));
            break;
        case 'x': break;
        case 'f': {
            float f;
            memcpy(&f, data + pos, size);
            st_correctbytes((char *)&f, sizeof(f), h.little);
            lua_pushnumber(L, f);
            break;
        }
        case 'd': {
            double d;
            memcpy(&d, data + pos, size);
            st_correctbytes((char *)&d, sizeof(d), h.little);
            lua_pushnumber(L, d);
            break;
        }
        case 'c': {
            if (size == 0) {
                if (lua_gettop(L) == 2 || !lua_isnumber(L, -1))
                    luaL_error(L, "format 'c0' needs a previous size");
                size = (size_t)lua_tonumber(L, -1);
                lua_pop(L, 1);
                luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
            }
            lua_pushlstring(L, data + pos, size);
            break;
        }
        case 's': {
            const char *e = memchr(data + pos, '\0', ld - pos);
            if (e == NULL) luaL_error(L, "unfinished string in data");
            size = (size_t)(e - (data + pos)) + 1;
            lua_pushlstring(L, data + pos, size - 1);
            break;
        }
        default: st_controloptions(L, opt, &fmt, &h);
        }
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)pos + 1);
    return lua_gettop(L) - 2;
}

static int st_size(lua_State *L) {
    st_header h = {1, 1};
    const char *fmt = luaL_checkstring(L, 1);
    size_t pos = 0;
    while (*fmt) {
        char opt = *fmt++;
        size_t size = st_optsize(L, opt, &fmt);
        pos += st_gettoalign(pos, &h, opt, size);
        if (opt == 's')
            luaL_argerror(L, 1, "option 's' has no fixed size");
        else if (opt == 'c' && size == 0)
            luaL_argerror(L, 1, "option 'c0' has no fixed size");
        if (!isalnum((unsigned char)opt)) st_controloptions(L, opt, &fmt, &h);
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)pos);
    return 1;
}

int luaopen_struct(lua_State *L) {
    static const luaL_Reg fns[] = {{"pack", st_pack}, {"unpack", st_unpack}, {"size", st_size}, {NULL, NULL}};
    luaL_register(L, "struct", fns);
    return 1;
}
