/* script_lua: see script_lua.h. */
#include "features/script_lua.h"
#include "features/script_lualib.h"
#include "features/acl.h"
#include "commands/call.h"
#include "commands/command.h"
#include "commands/propagate.h"
#include "keyspace/evict.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "util/debug.h"
#include "util/mem.h"
#include "util/numconv.h"
#include "util/sha1.h"
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <lua5.1/lua-bitop.h>
#include <lua5.1/lua-cjson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REDIS_VERSION_STR "7.0.15"
#define REDIS_VERSION_NUM 0x0007000f

static lua_State *lua;    /* the interpreter */
static lua_State *thread; /* where scripts compile and run: its globals are the globals' proxy */
static int thread_ref;    /* keeps `thread` alive */
static size_t lua_mem;    /* bytes the interpreter holds */
static int mem_limited;   /* the limit applies (not while building the environment or closing) */
static script_run *cur;   /* the running script */
static client *fc;        /* the client redis.call runs commands as */
static int in_call;       /* redis.call is not re-entrant */
static int fg_meta_ref;   /* the metatable of the functions' globals: its __index is switched for loading */
static int fg_ref;        /* the functions' globals (a proxy) */
static int load_globals_ref; /* what a library sees while it loads: the load API only */
static int real_globals_ref;
/* while a library loads */
static script_register_fn *reg_cb;
static void *reg_ud;
static int loading;
static long long load_start_us;

/* Registry keys (their addresses). */
static char PROXIES; /* proxy -> real table */

const script_flag script_flags[] = {{SF_NO_WRITES, "no-writes"},
                                    {SF_ALLOW_OOM, "allow-oom"},
                                    {SF_ALLOW_STALE, "allow-stale"},
                                    {SF_NO_CLUSTER, "no-cluster"},
                                    {SF_ALLOW_CROSS_SLOT, "allow-cross-slot-keys"},
                                    {0, NULL}};

script_run *script_lua_current(void) {
    return cur;
}
size_t script_lua_memory(void) {
    return lua_mem;
}

void sha1_hex(char out[41], const void *p, size_t len) {
    static const char hex[] = "0123456789abcdef";
    unsigned char d[20];
    sha1(p, len, d);
    for (int i = 0; i < 20; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[40] = 0;
}

/* ---- the allocator ---- */

static void *lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    (void)ud;
    if (nsize == 0) {
        free(ptr);
        lua_mem -= osize;
        return NULL;
    }
    if (mem_limited && nsize > osize && lua_mem - osize + nsize > SCRIPT_LUA_MEM_LIMIT) return NULL;
    void *p = realloc(ptr, nsize);
    if (!p) return NULL;
    lua_mem = lua_mem - osize + nsize;
    return p;
}

/* ---- Redis's lrand48 (the same sequence on every platform; never reseeded between scripts) ---- */

static uint64_t rand48 = 0x1234ABCD330EULL;

static int32_t lrand48_next(void) {
    rand48 = (rand48 * 0x5DEECE66DULL + 0xB) & 0xFFFFFFFFFFFFULL;
    return (int32_t)(rand48 >> 17);
}

static void srand48_seed(int32_t seed) {
    rand48 = ((uint64_t)(uint32_t)seed << 16) | 0x330E;
}

static int math_random(lua_State *L) {
    if (!cur) return luaL_error(L, "math.random can only be called inside a script invocation");
    lua_Number r = (lua_Number)(lrand48_next() % INT32_MAX) / (lua_Number)INT32_MAX;
    switch (lua_gettop(L)) {
    case 0: lua_pushnumber(L, r); break;
    case 1: {
        int u = luaL_checkint(L, 1);
        luaL_argcheck(L, 1 <= u, 1, "interval is empty");
        lua_pushnumber(L, floor(r * u) + 1);
        break;
    }
    case 2: {
        int l = luaL_checkint(L, 1), u = luaL_checkint(L, 2);
        luaL_argcheck(L, l <= u, 2, "interval is empty");
        lua_pushnumber(L, floor(r * (u - l + 1)) + l);
        break;
    }
    default: return luaL_error(L, "wrong number of arguments");
    }
    return 1;
}

static int math_randomseed(lua_State *L) {
    if (!cur) return luaL_error(L, "math.randomseed can only be called inside a script invocation");
    srand48_seed(luaL_checkint(L, 1));
    return 0;
}

/* ---- errors as Redis's scripts see them: a table {err="CODE message"} ---- */

/* Pushes {err=...}: a message starting with '-' keeps its own code, any other gets "ERR"; trailing CR/LF
 * are trimmed. */
static void push_error(lua_State *L, const char *msg, size_t len) {
    luaL_Buffer b;
    while (len && (msg[len - 1] == '\r' || msg[len - 1] == '\n')) len--;
    lua_newtable(L);
    luaL_buffinit(L, &b);
    if (len && msg[0] == '-') {
        const char *sp = memchr(msg, ' ', len);
        if (!sp) {
            luaL_addstring(&b, "ERR ");
            luaL_addlstring(&b, msg + 1, len - 1);
        } else {
            luaL_addlstring(&b, msg + 1, len - 1);
        }
    } else {
        luaL_addstring(&b, "ERR ");
        luaL_addlstring(&b, msg, len);
    }
    luaL_pushresult(&b);
    lua_setfield(L, -2, "err");
}

static int raise_error(lua_State *L, const char *msg) {
    push_error(L, msg, strlen(msg));
    return lua_error(L);
}

/* The pcall error handler: a table error gets the source and line of the Lua code that raised it (the
 * caller's when a C function raised it); anything else becomes {err="ERR " .. tostring(err)}. */
static int error_handler(lua_State *L) {
    lua_Debug ar;
    int have = lua_getstack(L, 1, &ar) && lua_getinfo(L, "nSl", &ar);
    if (have && !strcmp(ar.what, "C")) have = lua_getstack(L, 2, &ar) && lua_getinfo(L, "nSl", &ar);
    if (!lua_istable(L, 1)) {
        const char *s;
        char tmp[64];
        switch (lua_type(L, 1)) {
        case LUA_TSTRING:
        case LUA_TNUMBER: s = lua_tostring(L, 1); break;
        case LUA_TNIL: s = "nil"; break;
        case LUA_TBOOLEAN: s = lua_toboolean(L, 1) ? "true" : "false"; break;
        default: snprintf(tmp, sizeof(tmp), "%s: %p", luaL_typename(L, 1), lua_topointer(L, 1)); s = tmp;
        }
        lua_newtable(L);
        lua_pushfstring(L, "ERR %s", s);
        lua_setfield(L, -2, "err");
        lua_replace(L, 1);
    }
    if (have) {
        lua_pushstring(L, ar.source);
        lua_setfield(L, 1, "source");
        lua_pushinteger(L, ar.currentline);
        lua_setfield(L, 1, "line");
    }
    lua_settop(L, 1);
    return 1;
}

/* ---- RESP (a command's reply) -> Lua ---- */

static const char *resp_to_lua(lua_State *L, const char *p, const char *end);

static const char *line_end(const char *p, const char *end) {
    const char *e = memchr(p, '\r', (size_t)(end - p));
    return e ? e : end;
}

static long long line_ll(const char *p, const char *e) {
    long long v = 0;
    str2ll(p, (size_t)(e - p), &v);
    return v;
}

static const char *resp_aggregate(lua_State *L, const char *p, const char *end, long long n, int kind) {
    lua_newtable(L);
    if (kind == '%' || kind == '~') {
        lua_newtable(L);
        for (long long i = 0; i < n && p < end; i++) {
            p = resp_to_lua(L, p, end);
            if (kind == '%')
                p = resp_to_lua(L, p, end);
            else
                lua_pushboolean(L, 1);
            lua_settable(L, -3);
        }
        lua_setfield(L, -2, kind == '%' ? "map" : "set");
        return p;
    }
    for (long long i = 0; i < n && p < end; i++) {
        p = resp_to_lua(L, p, end);
        lua_rawseti(L, -2, (int)(i + 1));
    }
    return p;
}

static const char *resp_to_lua(lua_State *L, const char *p, const char *end) {
    if (!lua_checkstack(L, 5)) luaL_error(L, "reached lua stack limit");
    char t = *p++;
    const char *e = line_end(p, end), *next = e + 2 <= end ? e + 2 : end;
    switch (t) {
    case ':': lua_pushnumber(L, (lua_Number)line_ll(p, e)); return next;
    case '$': {
        long long n = line_ll(p, e);
        if (n < 0) {
            lua_pushboolean(L, 0);
            return next;
        }
        lua_pushlstring(L, next, (size_t)n);
        return next + n + 2;
    }
    case '+':
        lua_newtable(L);
        lua_pushlstring(L, p, (size_t)(e - p));
        lua_setfield(L, -2, "ok");
        return next;
    case '-':
        lua_newtable(L);
        lua_pushlstring(L, p, (size_t)(e - p));
        lua_setfield(L, -2, "err");
        return next;
    case '*':
    case '%':
    case '~': {
        long long n = line_ll(p, e);
        if (n < 0) {
            lua_pushboolean(L, 0);
            return next;
        }
        return resp_aggregate(L, next, end, n, t);
    }
    case '>': /* push: an array */ return resp_aggregate(L, next, end, line_ll(p, e), '*');
    case '|': { /* attributes: skipped, the value follows */
        long long n = line_ll(p, e);
        p = next;
        for (long long i = 0; i < 2 * n && p < end; i++) {
            p = resp_to_lua(L, p, end);
            lua_pop(L, 1);
        }
        return resp_to_lua(L, p, end);
    }
    case '_': lua_pushnil(L); return next;
    case '#': lua_pushboolean(L, *p == 't'); return next;
    case ',': {
        char buf[128];
        size_t n = (size_t)(e - p) < sizeof(buf) - 1 ? (size_t)(e - p) : sizeof(buf) - 1;
        memcpy(buf, p, n);
        buf[n] = 0;
        lua_newtable(L);
        lua_pushnumber(L, strtod(buf, NULL));
        lua_setfield(L, -2, "double");
        return next;
    }
    case '(':
        lua_newtable(L);
        lua_pushlstring(L, p, (size_t)(e - p));
        lua_setfield(L, -2, "big_number");
        return next;
    case '=': {
        long long n = line_ll(p, e);
        lua_newtable(L);
        lua_newtable(L);
        lua_pushlstring(L, next, n >= 3 ? 3 : 0);
        lua_setfield(L, -2, "format");
        lua_pushlstring(L, n >= 4 ? next + 4 : next, n >= 4 ? (size_t)n - 4 : 0);
        lua_setfield(L, -2, "string");
        lua_setfield(L, -2, "verbatim_string");
        return next + n + 2;
    }
    default: lua_pushnil(L); return end;
    }
}

/* ---- Lua (a script's result) -> the caller's reply ---- */

/* An error reply exactly as msg says (no "ERR" added), CR/LF as spaces. */
static void reply_error_as_is(client *c, const char *msg, size_t len, int count) {
    if (len && msg[0] == '-') msg++, len--;
    char *buf = s_malloc(len + 1);
    memcpy(buf, msg, len);
    buf[len] = 0;
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\r' || buf[i] == '\n') buf[i] = ' ';
    reply_error_verbatim(c, buf, count);
    s_free(buf);
}

/* Reads field name of the table at the top; leaves it pushed and returns its type. */
static int field(lua_State *L, const char *name) {
    lua_pushstring(L, name);
    lua_rawget(L, -2);
    return lua_type(L, -1);
}

static void lua_to_reply(client *c, lua_State *L, int script_resp) {
    if (!lua_checkstack(L, 4)) {
        reply_error(c, "ERR reached lua stack limit");
        lua_pop(L, 1);
        return;
    }
    switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        reply_bulk(c, s, len);
        break;
    }
    case LUA_TBOOLEAN:
        if (script_resp == 2) {
            if (lua_toboolean(L, -1))
                reply_int(c, 1);
            else
                reply_null(c);
        } else {
            reply_bool(c, lua_toboolean(L, -1));
        }
        break;
    case LUA_TNUMBER: reply_int(c, (long long)lua_tonumber(L, -1)); break;
    case LUA_TTABLE: {
        if (field(L, "err") == LUA_TSTRING) {
            lua_pop(L, 1);
            size_t len;
            int counted = field(L, "ignore_error_stats_update") != LUA_TNIL && lua_toboolean(L, -1);
            lua_pop(L, 1);
            lua_getfield(L, -1, "err");
            const char *s = lua_tolstring(L, -1, &len);
            reply_error_as_is(c, s, len,
                              !counted); /* a command's error returned by pcall was counted already */
            lua_pop(L, 2);
            return;
        }
        lua_pop(L, 1);
        if (field(L, "ok") == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(L, -1, &len);
            char *buf = s_malloc(len + 1);
            for (size_t i = 0; i < len; i++) buf[i] = s[i] == '\r' || s[i] == '\n' ? ' ' : s[i];
            buf[len] = 0;
            reply_status_len(c, buf, len);
            s_free(buf);
            lua_pop(L, 2);
            return;
        }
        lua_pop(L, 1);
        if (field(L, "double") == LUA_TNUMBER) {
            reply_double(c, lua_tonumber(L, -1));
            lua_pop(L, 2);
            return;
        }
        lua_pop(L, 1);
        if (field(L, "big_number") == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(L, -1, &len);
            char *buf = s_malloc(len + 1);
            for (size_t i = 0; i < len; i++) buf[i] = s[i] == '\r' || s[i] == '\n' ? ' ' : s[i];
            buf[len] = 0;
            reply_bignum(c, buf, len);
            s_free(buf);
            lua_pop(L, 2);
            return;
        }
        lua_pop(L, 1);
        if (field(L, "verbatim_string") == LUA_TTABLE) {
            if (field(L, "format") == LUA_TSTRING) {
                const char *fmt = lua_tostring(L, -1);
                lua_pushstring(L, "string");
                lua_rawget(L, -3);
                if (lua_type(L, -1) == LUA_TSTRING) {
                    size_t len;
                    const char *s = lua_tolstring(L, -1, &len);
                    char ext[4] = {0};
                    strncpy(ext, fmt, 3);
                    reply_verbatim(c, s, len, ext);
                    lua_pop(L, 4);
                    return;
                }
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        if (field(L, "map") == LUA_TTABLE) {
            size_t pos = reply_defer(c);
            long n = 0;
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                lua_pushvalue(L, -2);
                lua_to_reply(c, L, script_resp); /* the key */
                lua_to_reply(c, L, script_resp); /* the value */
                n++;
            }
            reply_defer_set(c, pos, n, '%');
            lua_pop(L, 2);
            return;
        }
        lua_pop(L, 1);
        if (field(L, "set") == LUA_TTABLE) {
            size_t pos = reply_defer(c);
            long n = 0;
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                lua_pop(L, 1);
                lua_pushvalue(L, -1);
                lua_to_reply(c, L, script_resp);
                n++;
            }
            reply_defer_set(c, pos, n, '~');
            lua_pop(L, 2);
            return;
        }
        lua_pop(L, 1);
        size_t pos = reply_defer(c);
        long n = 0;
        for (int j = 1;; j++) {
            lua_rawgeti(L, -1, j);
            if (lua_isnil(L, -1)) {
                lua_pop(L, 1);
                break;
            }
            lua_to_reply(c, L, script_resp);
            n++;
        }
        reply_defer_set(c, pos, n, '*');
        break;
    }
    default: reply_null(c);
    }
    lua_pop(L, 1);
}

/* ---- redis.* ---- */

static char *argbuf; /* the arguments of redis.call, copied */
static size_t argbuf_cap;
static arg *argv_buf;
static int argv_cap;

/* The arguments on the stack as a command line (numbers as "%.17g"); 0 when one is neither a string nor a
 * number. */
static int lua_args(lua_State *L, int argc) {
    size_t total = 0;
    char num[64];
    for (int i = 1; i <= argc; i++) {
        int t = lua_type(L, i);
        if (t == LUA_TNUMBER)
            total += 64;
        else if (t == LUA_TSTRING)
            total += lua_objlen(L, i) + 1;
        else
            return 0;
    }
    if (total > argbuf_cap) {
        argbuf_cap = total < 4096 ? 4096 : total;
        s_free(argbuf);
        argbuf = s_malloc(argbuf_cap);
    }
    if (argc > argv_cap) {
        argv_cap = argc < 16 ? 16 : argc;
        argv_buf = s_realloc(argv_buf, sizeof(arg) * (size_t)argv_cap);
    }
    char *o = argbuf;
    for (int i = 1; i <= argc; i++) {
        const char *s;
        size_t len;
        if (lua_type(L, i) == LUA_TNUMBER) {
            double d = lua_tonumber(L, i);
            /* "%.17g" as Redis; integers below 1e17 print the same as their decimal digits, faster */
            if (d > -1e17 && d < 1e17 && d == (double)(long long)d && (d != 0 || !signbit(d)))
                len = (size_t)ll2str(num, (long long)d);
            else len = (size_t)snprintf(num, sizeof(num), "%.17g", d);
            s = num;
        } else {
            s = lua_tolstring(L, i, &len);
        }
        memcpy(o, s, len);
        o[len] = 0;
        argv_buf[i - 1].p = o;
        argv_buf[i - 1].len = len;
        o += len + 1;
    }
    return 1;
}

/* Redis's checks before a script's command runs; NULL when it may run, else the error. */
static const char *check_command(command *cmd, int argc) {
    if (!cmd) {
        /* a Redis command Sardine does not have (SUBSCRIBE ...) is refused as Redis refuses it when it may
         * not run */
        const cmd_def *def = command_def_find(argv_buf[0].p, argv_buf[0].len);
        if (def && !strchr(def->fullname, '|') && (def->flags & CMD_NOSCRIPT))
            return "This Redis command is not allowed from script";
        return "Unknown Redis command called from script";
    }
    if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity)
        return "Wrong number of args calling Redis command from script";
    if (cmd->flags & CMD_NOSCRIPT) return "This Redis command is not allowed from script";
    const acl_user *u = cur->caller->user;
    if (u && !u->unrestricted) { /* the caller's ACL rules apply to each command the script runs */
        int errpos = 0, r = acl_check(u, cmd->def, argv_buf, argc, &errpos);
        if (r != ACL_OK) {
            const char *obj = r == ACL_DENIED_CMD ? cmd->fullname : argv_buf[errpos].p;
            size_t olen = r == ACL_DENIED_CMD ? strlen(obj) : argv_buf[errpos].len;
            acl_log(cur->caller, u, r, ACL_CTX_LUA, obj, olen, NULL, 0);
            return r == ACL_DENIED_CMD   ? "The user executing the script can't run this command or subcommand"
                   : r == ACL_DENIED_KEY ? "The user executing the script can't access at least one of the keys "
                                           "mentioned in the command arguments"
                                         : "The user executing the script can't publish to the channel mentioned "
                                           "in the command";
        }
    }
    if ((cur->flags & SR_READ_ONLY) && (cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE)))
        return "Write commands are not allowed from read-only scripts.";
    if (!(cur->flags & SR_ALLOW_OOM) && srv.maxmemory && !(cur->flags & SR_WRITE_DIRTY) &&
        cur->oom_at_start && (cmd->flags & CMD_DENYOOM))
        return "-OOM command not allowed when used memory > 'maxmemory'.";
    return NULL;
}

static int redis_generic_call(lua_State *L, int raise) {
    if (!cur) return raise_error(L, "redis.call/pcall can only be called inside a script invocation");
    int argc = lua_gettop(L);
    if (argc == 0) {
        push_error(L, "Please specify at least one argument for this redis lib call", 61);
        return raise ? lua_error(L) : 1;
    }
    if (!lua_args(L, argc)) {
        lua_settop(L, 0);
        push_error(L, "Lua redis lib command arguments must be strings or integers", 59);
        return raise ? lua_error(L) : 1;
    }
    lua_settop(L, 0);
    if (in_call)
        return raise_error(L, "luaRedisGenericCommand() recursive call detected. Are you doing funny stuff "
                              "with Lua debug hooks?");
    command *cmd = command_lookup(argv_buf, argc);
    const char *err = check_command(cmd, argc);
    if (err) {
        if (cmd) cmd->rejected++;
        push_error(L, err, strlen(err));
        /* counted in the error stats now, as Redis counts a rejected command (the reply itself is dropped) */
        lua_getfield(L, -1, "err");
        reply_error_verbatim(fc, lua_tostring(L, -1), 1);
        lua_pop(L, 1);
        fc->olen = fc->opos = 0;
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "ignore_error_stats_update");
        return raise ? lua_error(L) : 1;
    }
    if (cmd->flags & CMD_WRITE) cur->flags |= SR_WRITE_DIRTY;
    in_call = 1;
    fc->argv = argv_buf;
    fc->argc = argc;
    fc->olen = fc->opos = 0;
    int targets = prop_set_targets(cur->repl);
    call(fc, cmd);
    prop_set_targets(targets);
    fc->argv = NULL;
    fc->argc = 0;
    in_call = 0;
    const char *p = fc->obuf, *end = fc->obuf + fc->olen;
    if (fc->olen == 0) {
        lua_pushboolean(L, 0);
    } else {
        if (!lua_checkstack(L, 8)) return raise_error(L, "reached lua stack limit");
        resp_to_lua(L, p, end);
    }
    int is_err = fc->olen && fc->obuf[0] == '-';
    fc->olen = fc->opos = 0;
    if (fc->ocap > 64 * 1024) { /* a big reply's buffer is not kept */
        cbuf_free(fc->obuf);
        fc->obuf = NULL;
        fc->ocap = 0;
    }
    if (is_err) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "ignore_error_stats_update");
        if (raise) return lua_error(L);
    }
    return 1;
}

static int redis_call(lua_State *L) {
    return redis_generic_call(L, 1);
}
static int redis_pcall(lua_State *L) {
    return redis_generic_call(L, 0);
}

/* The global pcall: an error that is a {err=...} table is given to the script as its message (Redis 7.0's
 * compatibility with scripts written when errors were strings). */
static int lua_pcall_compat(lua_State *L) {
    int argc = lua_gettop(L);
    luaL_checkany(L, 1);
    lua_pushboolean(L, 1);
    lua_insert(L, 1);
    if (lua_pcall(L, argc - 1, LUA_MULTRET, 0)) {
        lua_remove(L, 1);
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "err");
            if (lua_isstring(L, -1))
                lua_replace(L, -2);
            else
                lua_pop(L, 1);
        }
        lua_pushboolean(L, 0);
        lua_insert(L, 1);
    }
    return lua_gettop(L);
}

static int redis_sha1hex(lua_State *L) {
    if (lua_gettop(L) != 1) return raise_error(L, "wrong number of arguments");
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    char hex[41];
    sha1_hex(hex, s ? s : "", s ? len : 0);
    lua_pushstring(L, hex);
    return 1;
}

static int redis_error_reply(lua_State *L) {
    if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
        push_error(L, "wrong number or type of arguments", 33);
        return 1;
    }
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    if (len && s[0] == '-') {
        push_error(L, s, len);
    } else {
        lua_pushfstring(L, "-%s", s);
        size_t l2;
        const char *m = lua_tolstring(L, -1, &l2);
        push_error(L, m, l2);
    }
    return 1;
}

static int redis_status_reply(lua_State *L) {
    if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
        push_error(L, "wrong number or type of arguments", 33);
        return 1;
    }
    lua_newtable(L);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "ok");
    return 1;
}

static int redis_log(lua_State *L) {
    int argc = lua_gettop(L);
    if (argc < 2) return raise_error(L, "redis.log() requires two arguments or more.");
    if (!lua_isnumber(L, 1)) return raise_error(L, "First argument must be a number (log level).");
    int level = (int)lua_tonumber(L, 1);
    if (level < LL_DEBUG || level > LL_WARNING) return raise_error(L, "Invalid debug level.");
    if (level < srv.verbosity) return 0;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    int first = 1;
    for (int j = 2; j <= argc; j++) {
        size_t len;
        const char *s = lua_tolstring(L, j, &len);
        if (!s) continue;
        if (!first) luaL_addchar(&b, ' ');
        luaL_addlstring(&b, s, len);
        first = 0;
    }
    luaL_pushresult(&b);
    log_msg(level, "%s", lua_tostring(L, -1));
    return 0;
}

static int redis_setresp(lua_State *L) {
    if (!cur) return raise_error(L, "redis.setresp can only be called inside a script invocation");
    if (lua_gettop(L) != 1) return raise_error(L, "redis.setresp() requires one argument.");
    int resp = (int)lua_tonumber(L, 1);
    if (resp != 2 && resp != 3) return raise_error(L, "RESP version must be 2 or 3.");
    fc->resp = resp;
    return 0;
}

static int redis_set_repl(lua_State *L) {
    if (!cur) return raise_error(L, "redis.set_repl can only be called inside a script invocation");
    if (lua_gettop(L) != 1) return raise_error(L, "redis.set_repl() requires two arguments.");
    int flags = (int)lua_tonumber(L, -1);
    if (flags & ~PROP_ALL)
        return raise_error(L,
                           "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
    cur->repl = flags; /* for the commands it runs from now on (redis_generic_call) */
    return 0;
}

static int redis_replicate_commands(lua_State *L) {
    lua_pushboolean(L, 1);
    return 1;
}

static int redis_noop(lua_State *L) {
    (void)L;
    return 0;
}

static int redis_acl_check_cmd(lua_State *L) {
    if (!cur) return raise_error(L, "redis.acl_check_cmd can only be called inside a script invocation");
    int argc = lua_gettop(L);
    if (argc == 0) return raise_error(L, "Please specify at least one argument for this redis lib call");
    if (!lua_args(L, argc))
        return raise_error(L, "Lua redis lib command arguments must be strings or integers");
    command *cmd = command_lookup(argv_buf, argc);
    if (!cmd) return raise_error(L, "Invalid command passed to redis.acl_check_cmd()");
    int pos = 0;
    lua_settop(L, 0);
    lua_pushboolean(L, acl_check(cur->caller->user, cmd->def, argv_buf, argc, &pos) == ACL_OK);
    return 1;
}

/* ---- the sandbox ---- */

static int nonexistent_global(lua_State *L) {
    if (lua_gettop(L) != 2) return luaL_error(L, "Wrong number of arguments to luaProtectedTableError");
    if (!lua_isstring(L, -1) && !lua_isnumber(L, -1))
        return luaL_error(L, "Second argument to luaProtectedTableError must be a string or number");
    return luaL_error(L, "Script attempted to access nonexistent global variable '%s'", lua_tostring(L, -1));
}

static int readonly_newindex(lua_State *L) {
    return luaL_error(L, "Attempt to modify a readonly table");
}

/* The real table behind proxy at idx, pushed (or the value itself when it is not a proxy). */
static void push_real(lua_State *L, int idx) {
    if (idx < 0 && idx > LUA_REGISTRYINDEX) idx = lua_gettop(L) + idx + 1;
    lua_pushlightuserdata(L, &PROXIES);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, idx);
    lua_rawget(L, -2);
    lua_remove(L, -2);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushvalue(L, idx);
    }
}

static int is_proxy(lua_State *L, int idx) {
    push_real(L, idx);
    int proxy = !lua_rawequal(L, -1, idx);
    lua_pop(L, 1);
    return proxy;
}

static int sb_rawset(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    if (is_proxy(L, 1)) {
        lua_pushstring(L, "Attempt to modify a readonly table");
        return lua_error(L);
    }
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

static int sb_setmetatable(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    if (is_proxy(L, 1)) {
        lua_pushstring(L, "Attempt to modify a readonly table");
        return lua_error(L);
    }
    int t = lua_type(L, 2);
    luaL_argcheck(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table expected");
    if (luaL_getmetafield(L, 1, "__metatable")) luaL_error(L, "cannot change a protected metatable");
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

static int sb_rawget(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    push_real(L, 1);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
}

static int sb_next(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    push_real(L, 1);
    lua_replace(L, 1);
    if (lua_next(L, 1)) return 2;
    lua_pushnil(L);
    return 1;
}

static int sb_pairs(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushcfunction(L, sb_next);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

static int sb_ipairs_aux(lua_State *L) {
    int i = luaL_checkint(L, 2) + 1;
    lua_pushinteger(L, i);
    lua_rawgeti(L, 1, i);
    return lua_isnil(L, -1) ? 0 : 2;
}

static int sb_ipairs(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushcfunction(L, sb_ipairs_aux);
    push_real(L, 1);
    lua_pushinteger(L, 0);
    return 3;
}

/* Replaces the table at the top by its read-only proxy (the table stays reachable only through it). */
static void make_proxy(lua_State *L, int index_fn) {
    int real = lua_gettop(L);
    lua_newtable(L); /* the proxy */
    lua_newtable(L); /* its metatable */
    if (index_fn) {
        /* the globals: reads go to the real table, whose own metatable raises on a missing name */
        lua_newtable(L);
        lua_pushcfunction(L, nonexistent_global);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, readonly_newindex);
        lua_setfield(L, -2, "__newindex");
        lua_setmetatable(L, real);
    }
    lua_pushvalue(L, real);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, readonly_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_pushlightuserdata(L, &PROXIES);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, -2);
    lua_pushvalue(L, real);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    lua_replace(L, real);
}

static void set_fn(lua_State *L, const char *name, lua_CFunction f) {
    lua_pushcfunction(L, f);
    lua_setfield(L, -2, name);
}

static void set_num(lua_State *L, const char *name, lua_Number v) {
    lua_pushnumber(L, v);
    lua_setfield(L, -2, name);
}

static void open_lib(lua_State *L, const char *name, lua_CFunction f) {
    lua_pushcfunction(L, f);
    lua_pushstring(L, name);
    lua_call(L, 1, 0);
}

/* ---- function libraries ---- */

static int read_flags(lua_State *L, int idx, int *flags) {
    *flags = 0;
    for (int j = 1;; j++) {
        lua_rawgeti(L, idx, j);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            return 0;
        }
        if (!lua_isstring(L, -1)) {
            lua_pop(L, 1);
            return -1;
        }
        const char *f = lua_tostring(L, -1);
        int i;
        for (i = 0; script_flags[i].name; i++)
            if (!strcasecmp(script_flags[i].name, f)) break;
        lua_pop(L, 1);
        if (!script_flags[i].name) return -1;
        *flags |= script_flags[i].flag;
    }
}

static int redis_register_function(lua_State *L) {
    if (!loading)
        return raise_error(L, "redis.register_function can only be called on FUNCTION LOAD command");
    int argc = lua_gettop(L), flags = 0, ref;
    const char *name = NULL, *desc = NULL;
    if (argc < 1 || argc > 2) return raise_error(L, "wrong number of arguments to redis.register_function");
    if (argc == 2) {
        if (!lua_isstring(L, 1))
            return raise_error(L, "first argument to redis.register_function must be a string");
        if (!lua_isfunction(L, 2))
            return raise_error(L, "second argument to redis.register_function must be a function");
        name = lua_tostring(L, 1);
        lua_pushvalue(L, 2);
    } else {
        if (!lua_istable(L, 1))
            return raise_error(
                L, "calling redis.register_function with a single argument is only applicable to Lua "
                   "table (representing named arguments).");
        int have_cb = 0;
        lua_pushnil(L);
        while (lua_next(L, 1)) {
            if (lua_type(L, -2) != LUA_TSTRING && lua_type(L, -2) != LUA_TNUMBER)
                return raise_error(L, "named argument key given to redis.register_function is not a string");
            lua_pushvalue(L, -2);
            const char *key = lua_tostring(L, -1);
            lua_pop(L, 1);
            if (!strcasecmp(key, "function_name")) {
                if (!lua_isstring(L, -1))
                    return raise_error(
                        L, "function_name argument given to redis.register_function must be a string");
                lua_pushvalue(L, -1);
                lua_setfield(L, LUA_REGISTRYINDEX, "sardine.fname"); /* kept alive while we read */
                name = lua_tostring(L, -1);
            } else if (!strcasecmp(key, "description")) {
                if (!lua_isstring(L, -1))
                    return raise_error(
                        L, "description argument given to redis.register_function must be a string");
                desc = lua_tostring(L, -1);
                lua_pushvalue(L, -1);
                lua_setfield(L, LUA_REGISTRYINDEX, "sardine.fdesc");
            } else if (!strcasecmp(key, "callback")) {
                if (!lua_isfunction(L, -1))
                    return raise_error(
                        L, "callback argument given to redis.register_function must be a function");
                lua_pushvalue(L, -1);
                lua_setfield(L, LUA_REGISTRYINDEX, "sardine.fcb");
                have_cb = 1;
            } else if (!strcasecmp(key, "flags")) {
                if (!lua_istable(L, -1))
                    return raise_error(L, "flags argument to redis.register_function must be a table "
                                          "representing function flags");
                if (read_flags(L, lua_gettop(L), &flags) < 0) return raise_error(L, "unknown flag given");
            } else {
                return raise_error(L, "unknown argument given to redis.register_function");
            }
            lua_pop(L, 1);
        }
        if (!name) return raise_error(L, "redis.register_function must get a function name argument");
        if (!have_cb) return raise_error(L, "redis.register_function must get a callback argument");
        lua_getfield(L, LUA_REGISTRYINDEX, "sardine.fcb");
    }
    ref = luaL_ref(L, LUA_REGISTRYINDEX);
    const char *err = reg_cb(reg_ud, name, desc, flags, ref);
    if (err) {
        luaL_unref(L, LUA_REGISTRYINDEX, ref);
        return raise_error(L, err);
    }
    return 0;
}

static void load_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    if (monotonic_us() - load_start_us <= 500000) return;
    lua_sethook(L, load_hook, LUA_MASKLINE, 0);
    raise_error(L, "FUNCTION LOAD timeout");
}

static void set_fg_index(lua_State *L, int ref) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, fg_meta_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

int script_lua_load_library(const char *code, size_t len, script_register_fn *cb, void *ud, char *err,
                            size_t errlen) {
    lua_State *L = thread;
    if (luaL_loadbuffer(L, code, len, "@user_function")) {
        snprintf(err, errlen, "Error compiling function: %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, fg_ref);
    lua_setfenv(L, -2);
    set_fg_index(L, load_globals_ref);
    loading = 1;
    reg_cb = cb;
    reg_ud = ud;
    load_start_us = monotonic_us();
    lua_sethook(L, load_hook, LUA_MASKCOUNT, 100000);
    mem_limited = 1;
    int rc = lua_pcall(L, 0, 0, 0);
    mem_limited = 0;
    lua_sethook(L, NULL, 0, 0);
    loading = 0;
    set_fg_index(L, real_globals_ref);
    if (rc) {
        const char *msg = NULL;
        if (lua_isstring(L, -1)) {
            snprintf(err, errlen, "Error registering functions: ERR %s", lua_tostring(L, -1));
        } else {
            if (lua_istable(L, -1)) {
                lua_getfield(L, -1, "err");
                msg = lua_tostring(L, -1);
            }
            snprintf(err, errlen, "Error registering functions: %s", msg ? msg : "(null)");
            if (lua_istable(L, -2)) lua_pop(L, 1);
        }
        lua_pop(L, 1);
        DBG_ASSERT(lua_gettop(L) == 0);
        return -1;
    }
    DBG_ASSERT(lua_gettop(L) == 0);
    return 0;
}

void script_lua_unref(int ref) {
    luaL_unref(lua, LUA_REGISTRYINDEX, ref);
}

static void argtabs_forget(void);

static void build(void) {
    argtabs_forget();
    lua_mem = 0;
    mem_limited = 0;
    lua = lua_newstate(lua_alloc, NULL);
    lua_State *L = lua;
    lua_pushlightuserdata(L, &PROXIES);
    lua_newtable(L);
    lua_rawset(L, LUA_REGISTRYINDEX);
    open_lib(L, "", luaopen_base);
    open_lib(L, LUA_TABLIBNAME, luaopen_table);
    open_lib(L, LUA_STRLIBNAME, luaopen_string);
    open_lib(L, LUA_MATHLIBNAME, luaopen_math);
    lua_pushcfunction(L, luaopen_cjson); /* Debian's module returns its table without setting the global */
    lua_call(L, 0, 1);
    lua_setglobal(L, "cjson");
    open_lib(L, "struct", luaopen_struct);
    open_lib(L, "cmsgpack", luaopen_cmsgpack);
    open_lib(L, "bit", luaopen_bit);
    /* What Redis 7.0 (as Debian ships it) leaves out of the base library. */
    static const char *const removed[] = {"dofile",   "loadfile", "print",  "getfenv", "setfenv",
                                          "newproxy", "require",  "module", "package", NULL};
    for (int i = 0; removed[i]; i++) {
        lua_pushnil(L);
        lua_setglobal(L, removed[i]);
    }
    lua_pushcfunction(L, lua_pcall_compat);
    lua_setglobal(L, "pcall");
    lua_pushcfunction(L, sb_rawset);
    lua_setglobal(L, "rawset");
    lua_pushcfunction(L, sb_rawget);
    lua_setglobal(L, "rawget");
    lua_pushcfunction(L, sb_setmetatable);
    lua_setglobal(L, "setmetatable");
    lua_pushcfunction(L, sb_next);
    lua_setglobal(L, "next");
    lua_pushcfunction(L, sb_pairs);
    lua_setglobal(L, "pairs");
    lua_pushcfunction(L, sb_ipairs);
    lua_setglobal(L, "ipairs");
    lua_pushcfunction(L, error_handler);
    lua_setglobal(L, "__redis__err__handler");

    lua_getglobal(L, "math");
    set_fn(L, "random", math_random);
    set_fn(L, "randomseed", math_randomseed);
    lua_pop(L, 1);

    lua_newtable(L);
    set_fn(L, "call", redis_call);
    set_fn(L, "pcall", redis_pcall);
    set_fn(L, "log", redis_log);
    set_num(L, "LOG_DEBUG", LL_DEBUG);
    set_num(L, "LOG_VERBOSE", LL_VERBOSE);
    set_num(L, "LOG_NOTICE", LL_NOTICE);
    set_num(L, "LOG_WARNING", LL_WARNING);
    set_num(L, "REDIS_VERSION_NUM", REDIS_VERSION_NUM);
    lua_pushstring(L, REDIS_VERSION_STR);
    lua_setfield(L, -2, "REDIS_VERSION");
    set_fn(L, "setresp", redis_setresp);
    set_fn(L, "sha1hex", redis_sha1hex);
    set_fn(L, "error_reply", redis_error_reply);
    set_fn(L, "status_reply", redis_status_reply);
    set_fn(L, "set_repl", redis_set_repl);
    set_num(L, "REPL_NONE", PROP_NONE);
    set_num(L, "REPL_AOF", PROP_AOF);
    set_num(L, "REPL_SLAVE", PROP_REPL);
    set_num(L, "REPL_REPLICA", PROP_REPL);
    set_num(L, "REPL_ALL", PROP_ALL);
    set_fn(L, "acl_check_cmd", redis_acl_check_cmd);
    set_fn(L, "breakpoint", redis_noop);
    set_fn(L, "debug", redis_noop);
    set_fn(L, "replicate_commands", redis_replicate_commands);
    lua_setglobal(L, "redis");

    /* What a function library sees while it loads: redis.register_function, log, LOG_*, the version. */
    lua_newtable(L);
    lua_newtable(L);
    set_fn(L, "register_function", redis_register_function);
    set_fn(L, "log", redis_log);
    set_num(L, "LOG_DEBUG", LL_DEBUG);
    set_num(L, "LOG_VERBOSE", LL_VERBOSE);
    set_num(L, "LOG_NOTICE", LL_NOTICE);
    set_num(L, "LOG_WARNING", LL_WARNING);
    set_num(L, "REDIS_VERSION_NUM", REDIS_VERSION_NUM);
    lua_pushstring(L, REDIS_VERSION_STR);
    lua_setfield(L, -2, "REDIS_VERSION");
    make_proxy(L, 1); /* as Redis: a missing name in it raises like a missing global */
    lua_setfield(L, -2, "redis");
    make_proxy(L, 1);
    load_globals_ref = luaL_ref(L, LUA_REGISTRYINDEX);

    /* Every library table behind a proxy, then the globals themselves. */
    static const char *const libs[] = {"string", "table",    "math", "coroutine", "cjson",
                                       "struct", "cmsgpack", "bit",  "redis",     NULL};
    for (int i = 0; libs[i]; i++) {
        lua_getglobal(L, libs[i]);
        if (!lua_istable(L, -1)) {
            lua_pop(L, 1);
            continue;
        }
        make_proxy(L, 0);
        lua_setglobal(L, libs[i]);
    }
    /* Strings' metatable: its __index (the string library) through the proxy, the metatable itself hidden
     * behind a read-only look-alike. */
    lua_pushstring(L, "");
    lua_getmetatable(L, -1);
    lua_getglobal(L, "string");
    lua_setfield(L, -2, "__index");
    lua_newtable(L);
    lua_getglobal(L, "string");
    lua_setfield(L, -2, "__index");
    make_proxy(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    lua_pushvalue(L, LUA_GLOBALSINDEX);
    real_globals_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    /* The functions' globals: reads go to the load API while a library loads, to the globals after. */
    lua_newtable(L);
    lua_newtable(L);
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, readonly_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pushvalue(L, -1);
    fg_meta_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_setmetatable(L, -2);
    lua_pushlightuserdata(L, &PROXIES);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, -2);
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    fg_ref = luaL_ref(L, LUA_REGISTRYINDEX);

    lua_pushvalue(L, LUA_GLOBALSINDEX);
    make_proxy(L, 1);
    /* _G is the proxy */
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_GLOBALSINDEX, "_G"); /* _G exists already: a raw update */
    thread = lua_newthread(L);
    thread_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_xmove(L, thread, 1);
    lua_replace(thread, LUA_GLOBALSINDEX);
    lua_gc(L, LUA_GCCOLLECT, 0);
}

void script_lua_init(void) {
    fc = client_create(-1, 0);
    fc->flags |= CLIENT_AUTHENTICATED;
    fc->xflags |= CLIENT_SCRIPT;
    build();
}

static void (*after_reset)(void);

void script_lua_on_reset(void (*fn)(void)) { after_reset = fn; }

void script_lua_reset(void) {
    mem_limited = 0;
    lua_close(lua);
    build();
    if (after_reset) after_reset();
}

int script_lua_compile(const char *body, size_t len, int *ref, char *err, size_t errlen) {
    lua_State *L = thread;
    if (luaL_loadbuffer(L, body, len, "@user_script")) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    *ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* Every 100000 instructions: asks the run whether to go on. */
static void count_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    if (!cur || !cur->interrupt || !cur->interrupt(cur)) return;
    log_msg(LL_WARNING, "Lua script killed by user with SCRIPT KILL.");
    /* From now on at every line, so that a pcall catching the error cannot keep the script alive. */
    lua_sethook(L, count_hook, LUA_MASKLINE, 0);
    raise_error(L, "Script killed by user with SCRIPT KILL...");
}

/* Runs the function below its error handler on thread's stack with nargs arguments above it, then replies
 * to r->caller with its result or error. */
static void run_and_reply(script_run *r, lua_State *L, int nargs) {
    client *c = r->caller;
    if (srv.busy_reply_threshold > 0) lua_sethook(L, count_hook, LUA_MASKCOUNT, 100000);
    mem_limited = 1;
    int err = lua_pcall(L, nargs, 1, -2 - nargs);
    mem_limited = 0;
    /* Garbage is left to Lua's incremental collector, which paces itself by what is allocated (Redis's
     * extra step every 50 scripts re-marks the whole interpreter for the little garbage a script leaves);
     * a script that left a lot is collected at once. */
    if (lua_mem > SCRIPT_LUA_MEM_LIMIT / 2) lua_gc(L, LUA_GCCOLLECT, 0);
    if (err) {
        if (!lua_istable(L, -1)) {
            const char *msg = lua_isstring(L, -1) ? lua_tostring(L, -1) : "execution failure";
            reply_errorf(c, "Error running script %s, %.100s", r->name, msg);
        } else {
            lua_getfield(L, -1, "err");
            const char *msg = lua_tostring(L, -1);
            lua_getfield(L, -2, "source");
            const char *source = lua_tostring(L, -1);
            lua_getfield(L, -3, "line");
            const char *line = lua_tostring(L, -1);
            lua_getfield(L, -4, "ignore_error_stats_update");
            int no_stats = lua_toboolean(L, -1);
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            luaL_addstring(&b, msg ? msg : "");
            if (source && line) {
                luaL_addstring(&b, " script: ");
                luaL_addstring(&b, r->name);
                luaL_addstring(&b, ", on ");
                luaL_addstring(&b, source);
                luaL_addchar(&b, ':');
                luaL_addstring(&b, line);
                luaL_addchar(&b, '.');
            }
            luaL_pushresult(&b);
            size_t len;
            const char *full = lua_tolstring(L, -1, &len);
            reply_error_as_is(c, full, len, !no_stats); /* an error of a command was counted when it failed */
            lua_pop(L, 5);
        }
        lua_pop(L, 1);
    } else {
        lua_to_reply(c, L, fc->resp);
    }
    lua_pop(L, 1); /* the error handler */
    lua_sethook(L, NULL, 0, 0);
    cur = NULL;
    srv.script_caller = NULL;
    DBG_ASSERT(lua_gettop(L) == 0); /* nothing left on the thread's stack between scripts */
}

static void push_array(lua_State *L, const arg *v, int n) {
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushlstring(L, v[i].p, v[i].len);
        lua_rawseti(L, -2, i + 1);
    }
}

/* KEYS and ARGV.  Two tables in the real globals, refilled for each script instead of made anew, so that a
 * script leaves no garbage of its own behind.  The reuse cannot be seen: a script can store nothing that
 * outlives its run (the globals and the libraries are read-only, a script's chunk has no upvalues), so it
 * can only see the tables' contents, and those are restored: positions 1..n are overwritten before each
 * run, the rest cleared, and a table that holds any other key or a metatable after a run is dropped for
 * a fresh one (so is a big table when a run needs less than half of it: its memory goes back).
 * (FCALL hands its functions new tables: a library's upvalues can keep them.) */
enum { ARG_KEYS, ARG_ARGV };
static const char *const argtab_name[2] = {"KEYS", "ARGV"};
static int argtab_ref[2];  /* the tables (registry references); with argtab_n -1: none yet */
static int argtab_n[2];    /* how many entries the last fill set; -1: the table must be made */

static void argtabs_forget(void) {
    argtab_n[ARG_KEYS] = argtab_n[ARG_ARGV] = -1; /* the interpreter (and the references) are new */
}

static void argtab_fill(lua_State *L, int which, const arg *v, int n) {
    if (argtab_n[which] > 64 && n < argtab_n[which] / 2) { /* a big table is not kept for small runs */
        luaL_unref(L, LUA_REGISTRYINDEX, argtab_ref[which]);
        argtab_n[which] = -1;
    }
    if (argtab_n[which] < 0) {
        lua_createtable(L, n, 0);
        lua_pushvalue(L, -1);
        argtab_ref[which] = luaL_ref(L, LUA_REGISTRYINDEX);
        lua_rawgeti(L, LUA_REGISTRYINDEX, real_globals_ref);
        lua_pushstring(L, argtab_name[which]);
        lua_pushvalue(L, -3);
        lua_rawset(L, -3);
        lua_pop(L, 1);
        argtab_n[which] = 0;
    } else {
        lua_rawgeti(L, LUA_REGISTRYINDEX, argtab_ref[which]);
    }
    for (int i = 0; i < n; i++) {
        lua_pushlstring(L, v[i].p, v[i].len);
        lua_rawseti(L, -2, i + 1);
    }
    for (int i = argtab_n[which]; i > n; i--) {
        lua_pushnil(L);
        lua_rawseti(L, -2, i);
    }
    argtab_n[which] = n;
    lua_pop(L, 1);
}

/* After a run: a table holding any key but 1..n (the script added to it), or given a metatable, is made
 * anew by the next fill. */
static void argtab_check(lua_State *L, int which) {
    int n = argtab_n[which], seen = 0, clean = 1;
    lua_rawgeti(L, LUA_REGISTRYINDEX, argtab_ref[which]);
    if (lua_getmetatable(L, -1)) {
        lua_pop(L, 1);
        clean = 0;
    } else {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pop(L, 1);
            lua_Number k = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : 0;
            if (++seen > n || !(k >= 1 && k <= n && k == (lua_Number)(int)k)) {
                clean = 0;
                lua_pop(L, 1); /* the key: the walk stops here */
                break;
            }
        }
    }
    lua_pop(L, 1);
    if (!clean) {
        luaL_unref(L, LUA_REGISTRYINDEX, argtab_ref[which]);
        argtab_n[which] = -1;
    }
}

void script_lua_run(script_run *r, int ref, const arg *keys, int nkeys, const arg *args, int nargs) {
    lua_State *L = thread;
    DBG_ASSERT(!cur);
    cur = r;
    srv.script_caller = r->caller;
    fc->db = r->caller->db;
    fc->user = r->caller->user;
    fc->resp = 2;
    argtab_fill(L, ARG_KEYS, keys, nkeys);
    argtab_fill(L, ARG_ARGV, args, nargs);
    lua_pushcfunction(L, error_handler);
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    run_and_reply(r, L, 0);
    argtab_check(L, ARG_KEYS);
    argtab_check(L, ARG_ARGV);
    DBG_ASSERT(lua_gettop(L) == 0);
}

void script_lua_call_function(script_run *r, int ref, const arg *keys, int nkeys, const arg *args,
                              int nargs) {
    lua_State *L = thread;
    DBG_ASSERT(!cur);
    cur = r;
    srv.script_caller = r->caller;
    fc->db = r->caller->db;
    fc->user = r->caller->user;
    fc->resp = 2;
    lua_pushcfunction(L, error_handler);
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    push_array(L, keys, nkeys);
    push_array(L, args, nargs);
    run_and_reply(r, L, 2);
}
