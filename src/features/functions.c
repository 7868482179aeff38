/* functions: see functions.h. */
#include "features/functions.h"
#include "features/monitor.h"
#include "commands/command.h"
#include "commands/commands.h"
#include "features/eval.h"
#include "features/script_lua.h"
#include "persist/rdb_load.h"
#include "persist/rdb_save.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "util/dict.h"
#include "util/durclock.h"
#include "util/glob.h"
#include "util/mem.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct library library;

typedef struct function {
    char *name, *desc;
    int flags; /* SF_* */
    int ref;   /* the callback in the interpreter's registry */
    library *lib;
} function;

struct library {
    char *name;
    char *code; /* the whole payload, shebang included (FUNCTION LIST WITHCODE) */
    size_t len;
    function **fns;
    int nfns;
};

static dict *libraries; /* name -> library */
static dict *functions; /* name -> function */
static size_t fn_bytes;

void functions_init(void) {
    libraries = dict_new(0);
    functions = dict_new(0);
    script_lua_on_reset(functions_reload); /* SCRIPT FLUSH: the libraries' functions lived in the old interpreter */
}

size_t functions_count(void) {
    return functions ? functions->count : 0;
}
size_t libraries_count(void) {
    return libraries ? libraries->count : 0;
}
size_t functions_memory(void) {
    return fn_bytes;
}

static int valid_name(const char *s, size_t n) {
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_') return 0;
    return 1;
}

static void library_free(library *l, int unref);
static void library_unlink(library *l);
static void library_link(library *l);

static void library_free(library *l, int unref) {
    for (int i = 0; i < l->nfns; i++) {
        if (unref) script_lua_unref(l->fns[i]->ref);
        s_free(l->fns[i]->name);
        s_free(l->fns[i]->desc);
        s_free(l->fns[i]);
    }
    s_free(l->fns);
    s_free(l->name);
    s_free(l->code);
    s_free(l);
}

static void library_unlink(library *l) {
    for (int i = 0; i < l->nfns; i++) dict_del(functions, l->fns[i]->name, strlen(l->fns[i]->name), NULL);
    dict_del(libraries, l->name, strlen(l->name), NULL);
    fn_bytes -= l->len;
}

static void library_link(library *l) {
    for (int i = 0; i < l->nfns; i++)
        dict_upsert(functions, l->fns[i]->name, strlen(l->fns[i]->name), NULL)->val = l->fns[i];
    dict_upsert(libraries, l->name, strlen(l->name), NULL)->val = l;
    fn_bytes += l->len;
}

/* redis.register_function, while the library being built loads. */
static const char *register_cb(void *ud, const char *name, const char *desc, int flags, int ref) {
    library *l = ud;
    if (!valid_name(name, strlen(name)))
        return "Library names can only contain letters, numbers, or underscores(_) and must be at least one "
               "character long";
    for (int i = 0; i < l->nfns; i++)
        if (!strcmp(l->fns[i]->name, name)) return "Function already exists in the library";
    function *f = s_calloc(sizeof(*f));
    f->name = s_memdup(name, strlen(name) + 1);
    f->desc = desc ? s_memdup(desc, strlen(desc) + 1) : NULL;
    f->flags = flags;
    f->ref = ref;
    f->lib = l;
    l->fns = s_realloc(l->fns, sizeof(function *) * (size_t)(l->nfns + 1));
    l->fns[l->nfns++] = f;
    return NULL;
}

/* Parses the first line, "#!<engine> name=<lib>": the library's name (in code) and where the Lua code starts
 * (the newline, kept so line numbers are the user's); -1 with the error in err. */
static int parse_meta(const char *code, size_t len, const char **name_out, size_t *namelen_out,
                      const char **body, char *err, size_t errlen) {
    if (len < 2 || code[0] != '#' || code[1] != '!') {
        snprintf(err, errlen, "Missing library metadata");
        return -1;
    }
    const char *nl = memchr(code, '\n', len);
    if (!nl) {
        snprintf(err, errlen, "Invalid library metadata");
        return -1;
    }
    const char *p = code, *end = nl, *name = NULL;
    size_t namelen = 0;
    int part = 0;
    char engine[64] = "";
    while (p < end) {
        while (p < end && isspace((unsigned char)*p)) p++;
        if (p == end) break;
        const char *s = p;
        while (p < end && !isspace((unsigned char)*p)) p++;
        size_t n = (size_t)(p - s);
        if (part++ == 0) {
            snprintf(engine, sizeof(engine), "%.*s", (int)(n - 2 < 60 ? n - 2 : 60), s + 2);
            continue;
        }
        if (n >= 5 && !strncasecmp(s, "name=", 5)) {
            if (name) {
                snprintf(err, errlen, "Invalid metadata value, name argument was given multiple times");
                return -1;
            }
            name = s + 5;
            namelen = n - 5;
            continue;
        }
        snprintf(err, errlen, "Invalid metadata value given: %.*s", (int)(n > 200 ? 200 : n), s);
        return -1;
    }
    if (part == 0) {
        snprintf(err, errlen, "Invalid library metadata");
        return -1;
    }
    if (!name) {
        snprintf(err, errlen, "Library name was not given");
        return -1;
    }
    if (!valid_name(name, namelen)) {
        snprintf(err, errlen,
                 "Library names can only contain letters, numbers, or underscores(_) and must be at "
                 "least one character long");
        return -1;
    }
    if (strcmp(engine, "lua") && strcasecmp(engine, "LUA")) {
        snprintf(err, errlen, "Engine '%s' not found", engine);
        return -1;
    }
    *name_out = name;
    *namelen_out = namelen;
    *body = nl;
    return 0;
}

/* Builds the library of code (replacing one of the same name when replace); NULL with the error in err. */
static library *create_library(const char *code, size_t len, int replace, char *err, size_t errlen) {
    const char *name, *nl;
    size_t namelen;
    if (parse_meta(code, len, &name, &namelen, &nl, err, errlen) < 0) return NULL;
    library *old = dict_get(libraries, name, namelen);
    if (old && !replace) {
        snprintf(err, errlen, "Library '%.*s' already exists", (int)namelen, name);
        return NULL;
    }
    library *l = s_calloc(sizeof(*l));
    l->name = s_malloc(namelen + 1);
    memcpy(l->name, name, namelen);
    l->name[namelen] = 0;
    l->code = s_malloc(len + 1);
    memcpy(l->code, code, len);
    l->code[len] = 0;
    l->len = len;
    /* the shebang line is left out (its newline kept, so line numbers are the user's) */
    if (script_lua_load_library(nl, len - (size_t)(nl - code), register_cb, l, err, errlen) < 0) {
        library_free(l, 1);
        return NULL;
    }
    if (l->nfns == 0) {
        snprintf(err, errlen, "No functions registered");
        library_free(l, 1);
        return NULL;
    }
    for (int i = 0; i < l->nfns; i++) {
        function *f = dict_get(functions, l->fns[i]->name, strlen(l->fns[i]->name));
        if (f && f->lib != old) {
            snprintf(err, errlen, "Function %s already exists", l->fns[i]->name);
            library_free(l, 1);
            return NULL;
        }
    }
    if (old) {
        library_unlink(old);
        library_free(old, 1);
    }
    library_link(l);
    return l;
}

void functions_reload(void) {
    /* the interpreter is new: the old references are gone with the old one */
    int n = (int)libraries->count, k = 0;
    library **all = s_malloc(sizeof(library *) * (size_t)(n ? n : 1));
    for (size_t i = 0; i < libraries->size; i++)
        for (dict_entry *e = libraries->tab[i]; e; e = e->next) all[k++] = e->val;
    for (int i = 0; i < n; i++) library_unlink(all[i]);
    for (int i = 0; i < n; i++) {
        char err[512];
        library *l = create_library(all[i]->code, all[i]->len, 0, err, sizeof(err));
        if (!l) log_msg(LL_WARNING, "Could not reload function library '%s': %s", all[i]->name, err);
        library_free(all[i], 0);
    }
    s_free(all);
}

int functions_codes(const char *const **codes, const size_t **lens) {
    static const char **c;
    static size_t *l;
    int n = 0;
    s_free(c);
    s_free(l);
    c = s_malloc(sizeof(char *) * (libraries->count + 1));
    l = s_malloc(sizeof(size_t) * (libraries->count + 1));
    for (size_t i = 0; i < libraries->size; i++)
        for (dict_entry *e = libraries->tab[i]; e; e = e->next) {
            library *lib = e->val;
            c[n] = lib->code;
            l[n++] = lib->len;
        }
    *codes = c;
    *lens = l;
    return n;
}

int functions_load_code(void *ud, const char *code, size_t len, char *err, size_t errlen) {
    (void)ud;
    return create_library(code, len, 1, err, errlen) ? 0 : -1;
}

/* ---- FCALL ---- */

static void fcall_generic(client *c, int ro) {
    monitor_feed(c, c->cmd, c->argc, c->argv); /* before the commands the function runs */
    function *f = dict_get(functions, c->argv[1].p, c->argv[1].len);
    if (!f) {
        reply_error(c, "ERR Function not found");
        return;
    }
    long long numkeys;
    if (!script_numkeys(c, &numkeys, "ERR Bad number of keys provided")) return;
    script_run r;
    if (!script_begin(c, &r, f->flags, ro, f->name, 1)) return;
    script_lua_call_function(&r, f->ref, c->argv + 3, (int)numkeys, c->argv + 3 + numkeys,
                             c->argc - 3 - (int)numkeys);
    script_end(c, &r);
}

void cmd_fcall(client *c) {
    fcall_generic(c, 0);
}
void cmd_fcall_ro(client *c) {
    fcall_generic(c, 1);
}

uint32_t fcall_command_flags(client *c, const command *cmd) {
    if ((cmd->proc != cmd_fcall && cmd->proc != cmd_fcall_ro) || c->argc < 2) return cmd->flags;
    function *f = dict_get(functions, c->argv[1].p, c->argv[1].len);
    return f ? script_flags_to_cmd_flags(cmd->flags, f->flags) : cmd->flags;
}

/* ---- FUNCTION ---- */

void cmd_function_load(client *c) {
    int replace = 0, pos = 2;
    while (pos < c->argc - 1) {
        const arg *a = &c->argv[pos++];
        if (arg_is(a, "replace")) {
            replace = 1;
            continue;
        }
        reply_errorf(c, "ERR Unknown option given: %.*s", (int)(a->len > 200 ? 200 : a->len), a->p);
        return;
    }
    if (pos >= c->argc) {
        reply_error(c, "ERR Function code is missing");
        return;
    }
    char err[1024];
    library *l = create_library(c->argv[pos].p, c->argv[pos].len, replace, err, sizeof(err));
    if (!l) {
        reply_errorf(c, "ERR %s", err);
        return;
    }
    srv.dirty++;
    reply_bulk_cstr(c, l->name);
}

void cmd_function_delete(client *c) {
    library *l = dict_get(libraries, c->argv[2].p, c->argv[2].len);
    if (!l) {
        reply_error(c, "ERR Library not found");
        return;
    }
    library_unlink(l);
    library_free(l, 1);
    srv.dirty++;
    reply_ok(c);
}

void functions_flush_all(void) {
    for (;;) {
        library *l = NULL;
        for (size_t i = 0; i < libraries->size && !l; i++)
            if (libraries->tab[i]) l = libraries->tab[i]->val;
        if (!l) break;
        library_unlink(l);
        library_free(l, 1);
    }
}

void cmd_function_flush(client *c) {
    if (c->argc > 3 || (c->argc == 3 && !arg_is(&c->argv[2], "sync") && !arg_is(&c->argv[2], "async"))) {
        reply_error(c, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        return;
    }
    functions_flush_all();
    srv.dirty++;
    reply_ok(c);
}

static void reply_flags(client *c, int flags) {
    long n = 0;
    for (int i = 0; script_flags[i].name; i++)
        if (flags & script_flags[i].flag) n++;
    reply_set(c, n);
    for (int i = 0; script_flags[i].name; i++)
        if (flags & script_flags[i].flag) reply_status(c, script_flags[i].name);
}

void cmd_function_list(client *c) {
    int with_code = 0;
    const arg *pattern = NULL;
    for (int i = 2; i < c->argc; i++) {
        const arg *a = &c->argv[i];
        if (!with_code && arg_is(a, "withcode")) {
            with_code = 1;
            continue;
        }
        if (!pattern && arg_is(a, "libraryname")) {
            if (i >= c->argc - 1) {
                reply_error(c, "ERR library name argument was not given");
                return;
            }
            pattern = &c->argv[++i];
            continue;
        }
        reply_errorf(c, "ERR Unknown argument %.*s", (int)(a->len > 200 ? 200 : a->len), a->p);
        return;
    }
    size_t pos = reply_defer(c);
    long n = 0;
    for (size_t i = 0; i < libraries->size; i++)
        for (dict_entry *e = libraries->tab[i]; e; e = e->next) {
            library *l = e->val;
            if (pattern && !glob_match(pattern->p, pattern->len, l->name, strlen(l->name), 1)) continue;
            n++;
            reply_map(c, with_code ? 4 : 3);
            reply_bulk_cstr(c, "library_name");
            reply_bulk_cstr(c, l->name);
            reply_bulk_cstr(c, "engine");
            reply_bulk_cstr(c, "LUA");
            reply_bulk_cstr(c, "functions");
            reply_array(c, l->nfns);
            for (int j = 0; j < l->nfns; j++) {
                function *f = l->fns[j];
                reply_map(c, 3);
                reply_bulk_cstr(c, "name");
                reply_bulk_cstr(c, f->name);
                reply_bulk_cstr(c, "description");
                if (f->desc)
                    reply_bulk_cstr(c, f->desc);
                else
                    reply_null(c);
                reply_bulk_cstr(c, "flags");
                reply_flags(c, f->flags);
            }
            if (with_code) {
                reply_bulk_cstr(c, "library_code");
                reply_bulk(c, l->code, l->len);
            }
        }
    reply_defer_set(c, pos, n, '*');
}

void cmd_function_stats(client *c) {
    script_run *r = script_lua_current();
    if (r && !r->is_function) {
        reply_error(c,
                    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
        return;
    }
    reply_map(c, 2);
    reply_bulk_cstr(c, "running_script");
    if (!r) {
        reply_null(c);
    } else {
        reply_map(c, 3);
        reply_bulk_cstr(c, "name");
        reply_bulk_cstr(c, r->name);
        reply_bulk_cstr(c, "command");
        reply_array(c, r->caller->argc);
        for (int i = 0; i < r->caller->argc; i++) reply_bulk(c, r->caller->argv[i].p, r->caller->argv[i].len);
        reply_bulk_cstr(c, "duration_ms");
        reply_int(c, durclock_us(r->started, durclock_now()) / 1000);
    }
    reply_bulk_cstr(c, "engines");
    reply_map(c, 1);
    reply_bulk_cstr(c, "LUA");
    reply_map(c, 2);
    reply_bulk_cstr(c, "libraries_count");
    reply_int(c, (long long)libraries->count);
    reply_bulk_cstr(c, "functions_count");
    reply_int(c, (long long)functions->count);
}

void cmd_function_kill(client *c) {
    script_kill(c, 0);
}

void cmd_function_dump(client *c) {
    const char *const *codes;
    const size_t *lens;
    int n = functions_codes(&codes, &lens);
    size_t len;
    unsigned char *p = rdb_dump_functions(n, codes, lens, &len);
    reply_bulk(c, p, len);
    s_free(p);
}

typedef struct codes {
    char **v;
    size_t *len;
    int n;
} codes;

static void collect(void *ud, const char *code, size_t len) {
    codes *cs = ud;
    cs->v = s_realloc(cs->v, sizeof(char *) * (size_t)(cs->n + 1));
    cs->len = s_realloc(cs->len, sizeof(size_t) * (size_t)(cs->n + 1));
    cs->v[cs->n] = s_malloc(len + 1);
    memcpy(cs->v[cs->n], code, len);
    cs->v[cs->n][len] = 0;
    cs->len[cs->n++] = len;
}

/* The payload's library names: 1 when the library l is named in it. */
static int named_in(const codes *cs, const library *l) {
    for (int j = 0; j < cs->n; j++) {
        const char *name, *body;
        size_t nl;
        char e[512];
        if (parse_meta(cs->v[j], cs->len[j], &name, &nl, &body, e, sizeof(e)) == 0 && nl == strlen(l->name) &&
            !memcmp(name, l->name, nl))
            return 1;
    }
    return 0;
}

/* FUNCTION RESTORE: all of the payload's libraries or none.  The libraries it would remove (FLUSH: all;
 * REPLACE: those of the same names) are set aside, the payload's are built, and on any error the built
 * ones are dropped and the set-aside ones put back. */
void cmd_function_restore(client *c) {
    enum { APPEND, REPLACE, FLUSH } policy = APPEND;
    if (c->argc == 4) {
        if (arg_is(&c->argv[3], "append"))
            policy = APPEND;
        else if (arg_is(&c->argv[3], "replace"))
            policy = REPLACE;
        else if (arg_is(&c->argv[3], "flush"))
            policy = FLUSH;
        else {
            reply_error(c,
                        "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
            return;
        }
    } else if (c->argc > 4) {
        reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try FUNCTION HELP.",
                     (int)(c->argv[1].len > 64 ? 64 : c->argv[1].len), c->argv[1].p);
        return;
    }
    const unsigned char *p = (const unsigned char *)c->argv[2].p;
    size_t n = c->argv[2].len;
    if (!rdb_dump_verify(p, n)) {
        reply_error(c, "ERR DUMP payload version or checksum are wrong");
        return;
    }
    codes cs = {0};
    const char *perr = NULL;
    char err[1024] = "";
    if (rdb_functions_payload(p, n, collect, &cs, &perr) < 0) snprintf(err, sizeof(err), "%s", perr);
    for (int i = 0; i < cs.n && !err[0]; i++) {
        const char *name, *body;
        size_t nl;
        if (parse_meta(cs.v[i], cs.len[i], &name, &nl, &body, err, sizeof(err)) < 0) break;
        if (policy == APPEND && dict_get(libraries, name, nl))
            snprintf(err, sizeof(err), "Library %.*s already exists", (int)nl, name);
    }
    library **aside = s_malloc(sizeof(library *) * (libraries->count + 1));
    int naside = 0;
    if (!err[0]) {
        for (size_t i = 0; i < libraries->size; i++)
            for (dict_entry *e = libraries->tab[i]; e; e = e->next)
                if (policy == FLUSH || (policy == REPLACE && named_in(&cs, e->val))) aside[naside++] = e->val;
        for (int i = 0; i < naside; i++) library_unlink(aside[i]);
        library **built = s_malloc(sizeof(library *) * (size_t)(cs.n + 1));
        int nbuilt = 0;
        for (int i = 0; i < cs.n; i++) {
            library *l = create_library(cs.v[i], cs.len[i], 0, err, sizeof(err));
            if (!l) break;
            built[nbuilt++] = l;
        }
        if (nbuilt < cs.n) { /* undo */
            for (int i = 0; i < nbuilt; i++) {
                library_unlink(built[i]);
                library_free(built[i], 1);
            }
            for (int i = 0; i < naside; i++) library_link(aside[i]);
        } else {
            for (int i = 0; i < naside; i++) library_free(aside[i], 1);
        }
        s_free(built);
    }
    for (int i = 0; i < cs.n; i++) s_free(cs.v[i]);
    s_free(cs.v);
    s_free(cs.len);
    s_free(aside);
    if (err[0]) {
        reply_errorf(c, "ERR %s", err);
        return;
    }
    srv.dirty++;
    reply_ok(c);
}

void cmd_function_help(client *c) {
    static const char *lines[] = {
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION "
        "RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy "
        "to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the "
        "old",
        "      libraries with the new libraries (notice that even on this option there is a chance of "
        "failure",
        "      in case of functions name collision with another library).",
        NULL};
    reply_help(c, "FUNCTION", lines);
}
