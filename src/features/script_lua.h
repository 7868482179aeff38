/* script_lua: the Lua 5.1 engine behind EVAL (features/eval.c): one
 * interpreter for the whole server, Redis 7.0's environment and sandbox, and
 * the conversions between Lua values and RESP.
 *
 * The environment: redis.call/pcall (commands run through call() on a
 * client of the engine's own, with Redis's checks), error_reply,
 * status_reply, sha1hex, log and LOG_*, setresp, set_repl and REPL_*,
 * replicate_commands, breakpoint/debug (no-ops), REDIS_VERSION(_NUM); the
 * libraries base (without dofile/loadfile/print/getfenv/setfenv/newproxy, as
 * the oracle), table, string, math (random from Redis's own lrand48, never
 * reseeded between scripts), cjson and bit (Debian's), struct and cmsgpack
 * (script_lualib.c).  No io, os, package, require or debug.
 *
 * The sandbox.  Debian's Lua has no read-only tables, so the globals and
 * every library table are seen through proxies: an empty table whose
 * metatable reads through to the real one (__index) and refuses writes
 * (__newindex: "Attempt to modify a readonly table"), its metatable hidden.
 * Reading a global that does not exist raises "Script attempted to access
 * nonexistent global variable 'x'".  Scripts are compiled and run in a Lua
 * thread whose globals table is the globals' proxy, so loadstring() and
 * coroutines get the proxy too.  rawset refuses proxies; rawget, next, pairs
 * and ipairs read through them.  Invariant: no value reachable from a script
 * is a real library table or the real globals table.
 *
 * Memory: the interpreter's allocator counts every byte (used_memory_lua)
 * and refuses to grow past SCRIPT_LUA_MEM_LIMIT: the script fails with
 * "not enough memory" and the server goes on.
 *
 * Time: while a script runs, a count hook calls the run's interrupt callback
 * every 100000 instructions (eval.c checks busy-reply-threshold there and
 * lets the event loop answer other clients); when it says kill, the script
 * fails with "Script killed by user with SCRIPT KILL..." and cannot catch it. */
#ifndef SARDINE_SCRIPT_LUA_H
#define SARDINE_SCRIPT_LUA_H
#include <stddef.h>
#include <stdint.h>
#include "net/client.h"

#define SCRIPT_LUA_MEM_LIMIT ((size_t)256 << 20)

enum {
    SR_READ_ONLY = 1 << 0,   /* no-writes script, or *_RO command: write commands are refused */
    SR_ALLOW_OOM = 1 << 1,   /* allow-oom flag: denyoom commands run past maxmemory */
    SR_WRITE_DIRTY = 1 << 2, /* a write command ran: the script can no longer be killed */
    SR_KILLED = 1 << 3,      /* SCRIPT KILL asked to stop it */
    SR_TIMED_OUT = 1 << 4,   /* past busy-reply-threshold: other clients get -BUSY */
};

/* Script flags (shebang "#!lua flags=..." or a function's flags), in Redis's order. */
enum {
    SF_NO_WRITES = 1 << 0,
    SF_ALLOW_OOM = 1 << 1,
    SF_ALLOW_STALE = 1 << 2,
    SF_NO_CLUSTER = 1 << 3,
    SF_ALLOW_CROSS_SLOT = 1 << 4,
    SF_COMPAT = 1 << 5, /* EVAL without a shebang: Redis 7.0's compatibility mode */
};
typedef struct script_flag {
    int flag;
    const char *name;
} script_flag;
extern const script_flag script_flags[]; /* ends with {0, NULL} */

typedef struct script_run {
    client *caller;     /* the client whose EVAL runs */
    int is_function;    /* FCALL (errors name FUNCTION KILL) rather than EVAL */
    const char *name;   /* the script's SHA1 (error messages, logs) */
    int flags;          /* SR_* */
    int oom_at_start;   /* used memory was past maxmemory when the script started */
    uint64_t started;   /* util/durclock reading at its start */
    int saved_in_exec;  /* srv.in_exec before the script */
    int repl;           /* redis.set_repl: where the effects of its commands go (PROP_*, propagate.h) */
    /* Called from the count hook; returns 1 to kill the script. */
    int (*interrupt)(struct script_run *r);
} script_run;

void script_lua_init(void);
/* Throws away every compiled script (SCRIPT FLUSH): a fresh interpreter, then calls the function given to
 * script_lua_on_reset (features/functions.c loads its libraries into the new interpreter). */
void script_lua_reset(void);
void script_lua_on_reset(void (*fn)(void));
size_t script_lua_memory(void);
/* Compiles body (the shebang line already blanked) into a function kept in the interpreter as *ref (valid
 * until script_lua_reset).  0 ok; -1 with Lua's message in err. */
int script_lua_compile(const char *body, size_t len, int *ref, char *err, size_t errlen);
/* Runs the compiled function ref with KEYS and ARGV, replying to r->caller. */
void script_lua_run(script_run *r, int ref, const arg *keys, int nkeys, const arg *args, int nargs);
/* Function libraries (features/functions.c).  Loading runs the library's code with only the load API
 * (redis.register_function, redis.log, LOG_*, REDIS_VERSION*) as globals, for at most 500 ms; each
 * registered function goes to cb, which returns NULL to keep it or an error text.  0 ok; -1 with the error
 * (Redis's text, without "ERR ") in err. */
typedef const char *script_register_fn(void *ud, const char *name, const char *desc, int flags, int ref);
int script_lua_load_library(const char *code, size_t len, script_register_fn *cb, void *ud, char *err,
                            size_t errlen);
/* Forgets a registered function (its registry reference). */
void script_lua_unref(int ref);
/* Calls a registered function with the KEYS and ARGV tables as its two arguments, replying to r->caller. */
void script_lua_call_function(script_run *r, int ref, const arg *keys, int nkeys, const arg *args, int nargs);
/* The running script, or NULL. */
script_run *script_lua_current(void);
/* The SHA1 of len bytes as 40 lower-case hex digits and a NUL. */
void sha1_hex(char out[41], const void *p, size_t len);
#endif
