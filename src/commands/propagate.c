/* propagate: see propagate.h.  Ops are kept in one growing array for the
 * outermost call; each op is one allocation (the arg array followed by the
 * bytes it points to), freed when the call's ops have gone to the sinks. */
#include "commands/propagate.h"
#include "keyspace/effects.h"
#include "server/server.h"
#include "util/debug.h"
#include "util/mem.h"
#include <stdio.h>
#include <string.h>

typedef struct op {
    int dbid, argc;
    arg *argv;   /* one block: argc args, then their bytes (each NUL-terminated) */
    int targets; /* PROP_* */
} op;

typedef struct sink {
    prop_sink_fn *fn;
    void *ud;
    int kind; /* PROP_AOF or PROP_REPL */
} sink;

#define MAX_SINKS 16
static sink sinks[MAX_SINKS];
static int nsinks;

static op *ops;
static int nops, ops_cap;
/* One frame per nested call: the command's replacement arguments (prop_rewrite), and whether it asked
 * for nothing of its own to be recorded (prop_prevent). */
typedef struct frame {
    op rewritten; /* argv NULL: none */
    int prevented;
    int forced; /* propagated even if it changed nothing (prop_force) */
    int only;   /* prop_force_to: the only targets the running command goes to (0: its usual ones) */
} frame;
static frame *frames;
static int depth, depth_cap;
static int suspended; /* prop_suspend nesting: while > 0 nothing is recorded */
static int cur_targets = PROP_ALL; /* prop_set_targets */

/* Whether effects are recorded now. */
static int recording(void) { return nsinks && !suspended && cur_targets; }

void prop_add_sink(prop_sink_fn *fn, void *ud, int kind) {
    DBG_ASSERT(kind == PROP_AOF || kind == PROP_REPL);
    if (nsinks < MAX_SINKS) sinks[nsinks++] = (sink){fn, ud, kind};
}

int prop_set_targets(int targets) {
    int old = cur_targets;
    cur_targets = targets & PROP_ALL;
    return old;
}

void prop_remove_sink(prop_sink_fn *fn, void *ud) {
    for (int i = 0; i < nsinks; i++)
        if (sinks[i].fn == fn && sinks[i].ud == ud) {
            memmove(&sinks[i], &sinks[i + 1], (size_t)(nsinks - i - 1) * sizeof(sink));
            nsinks--;
            return;
        }
}

int prop_has_sinks(void) { return nsinks > 0; }

static op make_op(int dbid, int argc, const arg *argv, const size_t *lens_or_null, const char *const *strs) {
    size_t bytes = (size_t)argc * sizeof(arg);
    for (int i = 0; i < argc; i++) bytes += (strs ? (lens_or_null ? lens_or_null[i] : strlen(strs[i])) : argv[i].len) + 1;
    arg *v = s_malloc(bytes);
    char *p = (char *)(v + argc);
    for (int i = 0; i < argc; i++) {
        const char *src = strs ? strs[i] : argv[i].p;
        size_t len = strs ? (lens_or_null ? lens_or_null[i] : strlen(strs[i])) : argv[i].len;
        memcpy(p, src, len);
        p[len] = 0;
        v[i].p = p;
        v[i].len = len;
        p += len + 1;
    }
    return (op){dbid, argc, v, cur_targets};
}

static void append(op o) {
    if (nops == ops_cap) {
        ops_cap = ops_cap ? ops_cap * 2 : 8;
        ops = s_realloc(ops, (size_t)ops_cap * sizeof(op));
    }
    ops[nops++] = o;
}

static void record(int dbid, int argc, const arg *argv, const size_t *lens_or_null, const char *const *strs) {
    append(make_op(dbid, argc, argv, lens_or_null, strs));
}

static void emit(int targets, int dbid, int argc, const arg *argv) {
    for (int i = 0; i < nsinks; i++)
        if (sinks[i].kind & targets) sinks[i].fn(sinks[i].ud, dbid, argc, argv);
}

/* Sends the collected ops to the sinks (wrapped when there are several) and forgets them. */
static void flush(void) {
    if (nops > 1) {
        arg multi = {(char *)"MULTI", 5};
        emit(PROP_ALL, -1, 1, &multi);
    }
    for (int i = 0; i < nops; i++) emit(ops[i].targets, ops[i].dbid, ops[i].argc, ops[i].argv);
    if (nops > 1) {
        arg exec = {(char *)"EXEC", 4};
        emit(PROP_ALL, -1, 1, &exec);
    }
    for (int i = 0; i < nops; i++) s_free(ops[i].argv);
    nops = 0;
}

void prop_call_begin(void) {
    if (depth == depth_cap) {
        depth_cap = depth_cap ? depth_cap * 2 : 8;
        frames = s_realloc(frames, (size_t)depth_cap * sizeof(frame));
    }
    frames[depth++] = (frame){{0, 0, NULL}, 0, 0, 0};
}

void prop_call_end(client *c, int wrote) {
    frame *f = &frames[--depth];
    if (recording() && (wrote || f->forced)) {
        if (f->rewritten.argv) {
            append(f->rewritten);
            f->rewritten.argv = NULL;
        } else if (!f->prevented) {
            int was = cur_targets;
            if (f->only) cur_targets &= f->only;
            if (cur_targets) record(c->db->id, c->argc, c->argv, NULL, NULL);
            cur_targets = was;
        }
    }
    s_free(f->rewritten.argv);
    if (depth == 0 && nops) flush();
}

/* The running command's replacement (outside any call, e.g. a command run by the loop itself: at once). */
static void set_rewritten(op o) {
    if (!depth) {
        append(o);
        flush();
        return;
    }
    frame *f = &frames[depth - 1];
    s_free(f->rewritten.argv);
    f->rewritten = o;
}

void prop_force(void) {
    if (depth) frames[depth - 1].forced = 1;
}

void prop_force_to(int targets) {
    if (!depth) return;
    frames[depth - 1].forced = 1;
    frames[depth - 1].only = targets & PROP_ALL;
}

void prop_rewrite(client *c, int argc, const arg *argv) {
    if (depth) frames[depth - 1].prevented = 1;
    if (recording()) set_rewritten(make_op(c->db->id, argc, argv, NULL, NULL));
}

void prop_rewrite_strs(client *c, int argc, const char *const *argv, const size_t *lens) {
    if (depth) frames[depth - 1].prevented = 1;
    if (recording()) set_rewritten(make_op(c->db->id, argc, NULL, lens, argv));
}

void prop_also(int dbid, int argc, const arg *argv) {
    if (!recording()) return;
    record(dbid, argc, argv, NULL, NULL);
    if (depth == 0) flush();
}

void prop_also_strs(int dbid, int argc, const char *const *argv, const size_t *lens) {
    if (!recording()) return;
    record(dbid, argc, NULL, lens, argv);
    if (depth == 0) flush();
}

void prop_rewrite_pexpireat(client *c, const arg *key, long long when) {
    char ms[24];
    int n = snprintf(ms, sizeof(ms), "%lld", when);
    const char *v[3] = {"PEXPIREAT", key->p, ms};
    size_t l[3] = {9, key->len, (size_t)n};
    prop_rewrite_strs(c, 3, v, l);
}

void prop_rewrite_del(client *c, const arg *key) {
    arg v[2] = {{(char *)"DEL", 3}, *key};
    prop_rewrite(c, 2, v);
}

void prop_prevent(client *c) {
    (void)c;
    if (depth) frames[depth - 1].prevented = 1;
}

void prop_suspend(int on) {
    suspended += on ? 1 : -1;
    DBG_ASSERT(suspended >= 0);
}

/* Expiry and eviction are propagated as the deletion they are. */
static void on_key_changed(void *ud, db *d, const char *key, size_t klen, int cls, const char *event) {
    (void)ud, (void)event;
    if (!(cls & (FX_EXPIRED | FX_EVICTED))) return;
    int lazy = (cls & FX_EXPIRED) ? srv.lazyfree_lazy_expire : srv.lazyfree_lazy_eviction;
    arg v[2] = {{(char *)(lazy ? "UNLINK" : "DEL"), lazy ? 6 : 3}, {(char *)key, klen}};
    int targets = prop_set_targets(PROP_ALL); /* whatever a script asked for its own commands */
    prop_also(d->id, 2, v);
    prop_set_targets(targets);
}

static const fx_listener prop_listener = {.key_changed = on_key_changed};

void prop_init(void) { fx_listen(&prop_listener); }

/* ---- the test sink ---- */

static FILE *log_file;
static int log_db = -1;

static void log_sink(void *ud, int dbid, int argc, const arg *argv) {
    FILE *f = ud;
    if (dbid >= 0 && dbid != log_db) {
        char num[16];
        int n = snprintf(num, sizeof(num), "%d", dbid);
        fprintf(f, "*2\r\n$6\r\nSELECT\r\n$%d\r\n%s\r\n", n, num);
        log_db = dbid;
    }
    fprintf(f, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        fprintf(f, "$%zu\r\n", argv[i].len);
        fwrite(argv[i].p, 1, argv[i].len, f);
        fputs("\r\n", f);
    }
    fflush(f);
}

int prop_debug_log(const char *path) {
    if (log_file) {
        prop_remove_sink(log_sink, log_file);
        fclose(log_file);
        log_file = NULL;
    }
    if (!path) return 0;
    log_file = fopen(path, "w");
    if (!log_file) return -1;
    log_db = -1;
    prop_add_sink(log_sink, log_file, PROP_REPL); /* it stands for a replica */
    return 0;
}
