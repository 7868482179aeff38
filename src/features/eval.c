/* eval: see eval.h. */
#include "features/eval.h"
#include "features/monitor.h"
#include "commands/command.h"
#include "commands/commands.h"
#include "commands/propagate.h"
#include "features/script_lua.h"
#include "keyspace/evict.h"
#include "mem/arena.h"
#include "net/eventloop.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "util/dict.h"
#include "util/durclock.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A cached script: its flags and its compiled function (a reference in the interpreter); the body is not
 * kept (effects replication never needs it again).  Its SHA1 is the key of its entry in `scripts`. */
typedef struct script {
    int flags;
    int ref;
} script;

static dict *scripts; /* sha (40 hex digits, any case) -> script */
static size_t scripts_bytes;
static script_run *busy; /* the running script once it passed busy-reply-threshold */

/* EVALSHA's look-ups, remembered by the SHA1 exactly as the client spelled it: most applications call a
 * few scripts over and over.  Direct-mapped by the first two hex digits; emptied with the cache (entries
 * are only ever removed all at once). */
#define SHA_CACHE 64
static struct {
    char sha[40];
    dict_entry *e;
} sha_cache[SHA_CACHE];

static unsigned hexval(char ch) {
    return ch <= '9' ? (unsigned)(ch - '0') & 15 : (unsigned)((ch | 0x20) - 'a' + 10) & 15;
}

/* The entry of the cached script whose SHA1 is sha (40 characters, any case), or NULL. */
static dict_entry *find_sha(const char *sha) {
    unsigned slot = ((hexval(sha[0]) << 4) | hexval(sha[1])) & (SHA_CACHE - 1);
    if (sha_cache[slot].e && !memcmp(sha_cache[slot].sha, sha, 40)) return sha_cache[slot].e;
    dict_entry *e = dict_find(scripts, sha, 40);
    if (e) {
        memcpy(sha_cache[slot].sha, sha, 40);
        sha_cache[slot].e = e;
    }
    return e;
}

void eval_init(void) {
    scripts = dict_new(1);
    script_lua_init();
}

int eval_busy(void) {
    return busy != NULL;
}
size_t eval_scripts_count(void) {
    return scripts ? scripts->count : 0;
}
size_t eval_scripts_memory(void) {
    return scripts_bytes;
}
size_t eval_lua_memory(void) {
    return script_lua_memory();
}

/* ---- shebang ---- */

/* Parses a "#!" first line into *flags; 0 ok, -1 with the error in err.  *shebang_len: its length. */
static int parse_shebang(const char *body, size_t len, int *flags, size_t *shebang_len, char *err,
                         size_t errlen) {
    *flags = SF_COMPAT;
    *shebang_len = 0;
    if (len < 2 || body[0] != '#' || body[1] != '!') return 0;
    const char *nl = memchr(body, '\n', len);
    if (!nl) {
        snprintf(err, errlen, "Invalid script shebang");
        return -1;
    }
    *shebang_len = (size_t)(nl - body);
    *flags = 0;
    const char *p = body, *end = nl;
    int part = 0;
    while (p < end) {
        while (p < end && isspace((unsigned char)*p)) p++;
        if (p == end) break;
        const char *s = p;
        while (p < end && !isspace((unsigned char)*p)) p++;
        size_t n = (size_t)(p - s);
        if (part++ == 0) {
            if (n != 5 || memcmp(s, "#!lua", 5)) {
                snprintf(err, errlen, "Unexpected engine in script shebang: %.*s", (int)(n > 200 ? 200 : n),
                         s);
                return -1;
            }
            continue;
        }
        if (n < 6 || memcmp(s, "flags=", 6)) {
            snprintf(err, errlen, "Unknown lua shebang option: %.*s", (int)(n > 200 ? 200 : n), s);
            return -1;
        }
        const char *f = s + 6;
        while (f <= p) {
            const char *comma = memchr(f, ',', (size_t)(p - f));
            const char *fe = comma ? comma : p;
            size_t fl = (size_t)(fe - f);
            int i;
            for (i = 0; script_flags[i].name; i++)
                if (strlen(script_flags[i].name) == fl && !memcmp(script_flags[i].name, f, fl)) break;
            if (!script_flags[i].name) {
                if (fl == 0 && !comma && f == s + 6) break; /* "flags=" alone: no flags */
                snprintf(err, errlen, "Unexpected flag in script shebang: %.*s", (int)(fl > 200 ? 200 : fl),
                         f);
                return -1;
            }
            *flags |= script_flags[i].flag;
            if (!comma) break;
            f = comma + 1;
        }
    }
    if (part == 0) {
        snprintf(err, errlen, "Invalid engine in script shebang");
        return -1;
    }
    return 0;
}

/* ---- the cache ---- */

/* The SHA1 of a body, remembered with a copy of the last body hashed: dispatch asks for an EVAL's flags
 * (its script found by SHA1) just before EVAL runs, so the body is hashed once and compared once. */
static void body_sha(const char *body, size_t len, char out[41]) {
    static char *last;
    static size_t last_len;
    static char last_sha[41];
    if (!last || len != last_len || memcmp(body, last, len) != 0) {
        sha1_hex(last_sha, body, len);
        s_free(last);
        last = len > 65536 ? NULL : len ? s_memdup(body, len) : s_malloc(1); /* big bodies are not kept */
        last_len = len;
    }
    memcpy(out, last_sha, 41);
}

/* The entry of the cached script of body (key: its SHA1), compiling it if new; NULL after replying the
 * error. */
static dict_entry *create_script(client *c, const char *body, size_t len) {
    char sha[41];
    body_sha(body, len, sha);
    dict_entry *e = dict_find(scripts, sha, 40);
    if (e) return e;
    script *s;
    int flags;
    size_t shebang_len;
    char err[512];
    if (parse_shebang(body, len, &flags, &shebang_len, err, sizeof(err)) < 0) {
        reply_error(c, err);
        return NULL;
    }
    s = s_malloc(sizeof(script));
    s->flags = flags;
    /* The shebang line is blanked (its newline kept) so that line numbers stay the user's. */
    char *code = s_malloc(len + 1);
    memcpy(code, body, len);
    memset(code, ' ', shebang_len);
    char lerr[1024];
    int rc = script_lua_compile(code, len, &s->ref, lerr, sizeof(lerr));
    s_free(code);
    if (rc < 0) {
        s_free(s);
        reply_errorf(c, "Error compiling script (new function): %s", lerr);
        return NULL;
    }
    e = dict_upsert(scripts, sha, 40, NULL);
    e->val = s;
    scripts_bytes += s_usable(s) + sizeof(dict_entry) + 40;
    return e;
}

static void flush_scripts(void) {
    memset(sha_cache, 0, sizeof(sha_cache));
    dict_free(scripts, s_free);
    scripts = dict_new(1);
    scripts_bytes = 0;
    script_lua_reset(); /* the function libraries are loaded again into the new interpreter (script_lua_on_reset) */
}

/* ---- running ---- */

static int interrupt(script_run *r) {
    if (!(r->flags & SR_TIMED_OUT)) {
        long long elapsed = durclock_us(r->started, durclock_now()) / 1000;
        if (elapsed < srv.busy_reply_threshold) return 0;
        r->flags |= SR_TIMED_OUT;
        busy = r;
        log_msg(LL_WARNING,
                "Slow script detected: still in execution after %lld milliseconds. You can try killing the "
                "script "
                "using the SCRIPT KILL command. Script name is: %s.",
                elapsed, r->name);
        client_protect(r->caller);
    }
    if (srv.el) { /* no loop in the fuzz harness */
        el_poll(srv.el);
        clients_handle_pending_writes();
    }
    return (r->flags & SR_KILLED) != 0;
}

static int memory_refuses(void) {
    return (srv.maxmemory || srv.safety_limit || arena_low()) && server_memory_refuses_writes();
}

int script_begin(client *c, script_run *r, int sf, int ro, const char *name, int is_function) {
    int oom = memory_refuses();
    if (!(sf & SF_COMPAT)) {
        if (!(sf & SF_NO_WRITES) && ro) {
            reply_error(c, "ERR Can not execute a script with write flag using *_ro command.");
            return 0;
        }
        if (oom && !(sf & (SF_ALLOW_OOM | SF_NO_WRITES))) {
            reply_error(
                c,
                "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'");
            return 0;
        }
    }
    memset(r, 0, sizeof(*r));
    r->caller = c;
    r->name = name;
    r->is_function = is_function;
    r->oom_at_start = oom;
    r->started = durclock_now();
    r->interrupt = interrupt;
    r->repl = PROP_ALL;
    if (ro || (!(sf & SF_COMPAT) && (sf & SF_NO_WRITES))) r->flags |= SR_READ_ONLY;
    if (!(sf & SF_COMPAT) && (sf & SF_ALLOW_OOM)) r->flags |= SR_ALLOW_OOM;
    prop_prevent(c); /* the script's commands record their own effects */
    r->saved_in_exec = srv.in_exec;
    srv.in_exec = 1; /* time frozen at the script's start; blocking commands do not block */
    return 1;
}

void script_end(client *c, script_run *r) {
    srv.in_exec = r->saved_in_exec;
    if (r->flags & SR_TIMED_OUT) {
        busy = NULL;
        client_unprotect(c);
    }
}

/* EVAL's numkeys: 0 after replying the error. */
int script_numkeys(client *c, long long *numkeys, const char *bad) {
    if (bad) {
        if (!str2ll(c->argv[2].p, c->argv[2].len, numkeys)) {
            reply_error(c, bad);
            return 0;
        }
    } else if (!arg_ll(c, &c->argv[2], numkeys, NULL)) {
        return 0;
    }
    if (*numkeys > c->argc - 3) {
        reply_error(c, "ERR Number of keys can't be greater than number of args");
        return 0;
    }
    if (*numkeys < 0) {
        reply_error(c, "ERR Number of keys can't be negative");
        return 0;
    }
    return 1;
}

static void eval_generic(client *c, int evalsha, int ro) {
    long long numkeys;
    if (evalsha && c->argv[1].len != 40) {
        reply_error(c, "NOSCRIPT No matching script. Please use EVAL.");
        return;
    }
    if (!script_numkeys(c, &numkeys, NULL)) return;
    dict_entry *e;
    if (evalsha) {
        if (!(e = find_sha(c->argv[1].p))) {
            reply_error(c, "NOSCRIPT No matching script. Please use EVAL.");
            return;
        }
    } else if (!(e = create_script(c, c->argv[1].p, c->argv[1].len))) {
        return;
    }
    script *s = e->val;
    script_run r;
    if (!script_begin(c, &r, s->flags, ro, e->key, 0)) return; /* the key: the SHA1 in lower case */
    script_lua_run(&r, s->ref, c->argv + 3, (int)numkeys, c->argv + 3 + numkeys, c->argc - 3 - (int)numkeys);
    script_end(c, &r);
}

const char *eval_busy_error(void) {
    return busy && busy->is_function
               ? "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
               : "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
}

void script_kill(client *c, int is_eval) {
    script_run *r = script_lua_current();
    if (!r) {
        reply_error(c, "NOTBUSY No scripts in execution right now.");
        return;
    }
    if (r->flags & SR_WRITE_DIRTY) {
        reply_error(
            c,
            "UNKILLABLE Sorry the script already executed write commands against the dataset. You can "
            "either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE "
            "command.");
        return;
    }
    if (is_eval && r->is_function) {
        reply_error(
            c, "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.");
        return;
    }
    if (!is_eval && !r->is_function) {
        reply_error(c,
                    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
        return;
    }
    r->flags |= SR_KILLED;
    reply_ok(c);
}

/* Monitors see the script's command before the commands it runs (EVAL* are skip_monitor for call()). */
void cmd_eval(client *c) {
    monitor_feed(c, c->cmd, c->argc, c->argv);
    eval_generic(c, 0, 0);
}
void cmd_evalsha(client *c) {
    monitor_feed(c, c->cmd, c->argc, c->argv);
    eval_generic(c, 1, 0);
}
void cmd_eval_ro(client *c) {
    monitor_feed(c, c->cmd, c->argc, c->argv);
    eval_generic(c, 0, 1);
}
void cmd_evalsha_ro(client *c) {
    monitor_feed(c, c->cmd, c->argc, c->argv);
    eval_generic(c, 1, 1);
}

/* Redis 7.0's evalGetCommandFlags: declared flags replace the command's write/denyoom/stale. */
uint32_t script_flags_to_cmd_flags(uint32_t flags, int sf) {
    if (sf & SF_COMPAT) return flags;
    flags &= ~(uint32_t)(CMD_STALE | CMD_DENYOOM | CMD_WRITE | CMD_MAY_REPLICATE);
    if (!(sf & (SF_ALLOW_OOM | SF_NO_WRITES))) flags |= CMD_DENYOOM;
    if (!(sf & SF_NO_WRITES)) flags |= CMD_WRITE;
    if (sf & SF_ALLOW_STALE) flags |= CMD_STALE;
    return flags;
}

uint32_t eval_command_flags(client *c, const command *cmd) {
    int evalsha = cmd->proc == cmd_evalsha || cmd->proc == cmd_evalsha_ro;
    if ((!evalsha && cmd->proc != cmd_eval && cmd->proc != cmd_eval_ro) || c->argc < 2) return cmd->flags;
    script *s;
    if (evalsha) {
        dict_entry *e = c->argv[1].len == 40 ? find_sha(c->argv[1].p) : NULL;
        return e ? script_flags_to_cmd_flags(cmd->flags, ((script *)e->val)->flags) : cmd->flags;
    }
    char sha[41];
    body_sha(c->argv[1].p, c->argv[1].len, sha);
    if ((s = dict_get(scripts, sha, 40)) != NULL) return script_flags_to_cmd_flags(cmd->flags, s->flags);
    int sf;
    size_t sl;
    char err[256];
    if (parse_shebang(c->argv[1].p, c->argv[1].len, &sf, &sl, err, sizeof(err)) < 0) return cmd->flags;
    return script_flags_to_cmd_flags(cmd->flags, sf);
}

/* ---- SCRIPT ---- */

void cmd_script_load(client *c) {
    dict_entry *e = create_script(c, c->argv[2].p, c->argv[2].len);
    if (e) reply_bulk(c, e->key, 40);
}

void cmd_script_exists(client *c) {
    reply_array(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) reply_int(c, dict_get(scripts, c->argv[i].p, c->argv[i].len) ? 1 : 0);
}

void cmd_script_flush(client *c) {
    if (c->argc > 3 || (c->argc == 3 && !arg_is(&c->argv[2], "sync") && !arg_is(&c->argv[2], "async"))) {
        reply_error(c, "ERR SCRIPT FLUSH only support SYNC|ASYNC option");
        return;
    }
    flush_scripts(); /* ASYNC too: a fresh interpreter costs little, the old one is freed at once */
    reply_ok(c);
}

void cmd_script_kill(client *c) {
    script_kill(c, 1);
}

void cmd_script_debug(client *c) {
    if (arg_is(&c->argv[2], "no")) {
        reply_ok(c);
        return;
    }
    if (arg_is(&c->argv[2], "yes") || arg_is(&c->argv[2], "sync")) {
        reply_error(c, "ERR SCRIPT DEBUG is not supported by this server");
        return;
    }
    reply_error(c, "ERR Use SCRIPT DEBUG YES/SYNC/NO");
}

void cmd_script_help(client *c) {
    static const char *lines[] = {
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        NULL};
    reply_help(c, "SCRIPT", lines);
}
