/* restore_cmds: RESTORE and RESTORE-ASKING, as Redis 7.0 (cluster.c's
 * restoreCommand): options, then BUSYKEY, then the TTL, then the payload's
 * footer (version and CRC64), then the value (persist/rdb_load.h), checked
 * deeply under sanitize-dump-payload yes, or clients for a client that is
 * not applying a primary's stream.
 *
 * Effects: a key created is announced as "new" (db_add) and "restore"; with
 * REPLACE the old value is dropped first.  A TTL already in the past creates
 * nothing (and, with REPLACE of an existing key, deletes it: propagated as
 * DEL); a relative TTL is propagated as an absolute one with ABSTTL, so a
 * replica or the AOF gets the same deadline.
 *
 * Big payloads (restore_bg_min bytes and more, of a type persist/bgbuild.h builds) are checked and
 * built on a worker thread: the client waits (CLIENT_BGWAIT; its later input is read, not run) while
 * the event loop serves everyone else, and when the value is ready the command is run again from the
 * start with that value in hand.  Everything the command decides from the keyspace (BUSYKEY, the old
 * value under REPLACE, the TTL against the clock) is decided at that second run, so the RESTORE takes
 * effect atomically at that moment, as if it had arrived then.  The arguments point into the query
 * buffer the client held when the command was parsed, taken over whole (client_take_qbuf) so that the
 * payload is never copied; a client that leaves meanwhile leaves the buffer to the wait record, freed
 * when the worker is done.  Inside MULTI/EXEC, scripts and applied streams the value is built inline. */
#include "commands/commands.h"
#include "commands/call.h"
#include "commands/restore_cmds.h"
#include "features/config.h"
#include "commands/propagate.h"
#include "keyspace/db.h"
#include "keyspace/lru.h"
#include "features/blocking.h"
#include "persist/bgbuild.h"
#include "persist/rdb_load.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "util/mem.h"
#include "util/numconv.h"

static size_t restore_bg_min = (size_t)256 << 10;
/* payloads at least this big are built as they arrive (below it, once whole) */
static size_t restore_arrive_min = (size_t)1 << 20;
#define RESTORE_TAIL 4096 /* room pinned past a payload arriving for the rest of its command (options) */

void restore_set_bg_min(size_t n) { restore_bg_min = n; }

/* Drops a value not used after all: a big one is freed in the background, as a deleted key's. */
static void discard(entry_value *v) {
    if (v->store == VAL_PTR && v->ptr && v->type != OBJ_STRING) {
        value_free(v->type, v->ptr);
        v->ptr = NULL;
    }
    rdb_value_discard(v);
}

/* A RESTORE whose value is built on another thread.  Two ways in: the command ran and found its payload
 * big (restore_in_background: it waits, `claimed`), or the payload was seen arriving before the command
 * was complete (restore_arriving: the client's pinned query buffer is read as it fills); such a record
 * is claimed when its command runs, unless the build finished first (`finished`: the command then takes
 * the value at once), or is dropped (`c` NULL) when its command turns out to be something else or the
 * client goes. */
typedef struct restore_wait {
    client *c; /* NULL once the client is gone or the command did not take the build */
    bgbuild *b;
    qblock block; /* the query buffer holding the payload, once taken from the client */
    int has_block, claimed, finished;
    /* claimed: the command, run again when the value is ready */
    arg *argv;
    int argc;
    struct command *cmd;
    db *db;
    /* arriving: where the payload lies in the client's pinned qbuf */
    const unsigned char *payload;
    size_t start, plen;
} restore_wait;

static bgbuild *resumed; /* the finished build, during the command's second run */

static void wait_free(restore_wait *w) {
    if (w->b) bgbuild_free(w->b);
    s_free(w->argv);
    if (w->has_block) qblock_free(w->block);
    s_free(w);
}

static void restore_resume(bgbuild *b, void *ud) {
    restore_wait *w = ud;
    client *c = w->c;
    if (c && !w->claimed) { /* arrived and built before its command was complete: the command takes it */
        w->finished = 1;
        return;
    }
    if (c) {
        arg *saved = c->argv;
        int saved_argc = c->argc;
        db *saved_db = c->db;
        c->argv = w->argv;
        c->argc = w->argc;
        c->db = w->db;
        c->bgwait = NULL;
        c->flags &= ~CLIENT_BGWAIT;
        resumed = b;
        client *prev = srv.current_client;
        srv.current_client = c;
        call(c, w->cmd);
        srv.current_client = prev;
        resumed = NULL;
        c->argv = saved;
        c->argc = saved_argc;
        c->db = saved_db;
    }
    wait_free(w);
    if (c && !(c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY))) client_process_input(c);
}

/* The record is no longer the client's: the build is dropped when it ends (now, if it has). */
static void wait_orphan(client *c, restore_wait *w) {
    c->bgwait = NULL;
    c->flags &= ~CLIENT_BGWAIT;
    w->c = NULL;
    if (w->finished) wait_free(w);
    else if (!w->claimed) bgbuild_cancel(w->b);
}

void restore_client_gone(client *c) {
    restore_wait *w = c->bgwait;
    if (w) wait_orphan(c, w);
}

void restore_qbuf_released(client *c, qblock b) {
    restore_wait *w = c->bgwait;
    if (!w || w->claimed || w->has_block) { /* not ours: nothing reads it */
        qblock_free(b);
        return;
    }
    w->block = b;
    w->has_block = 1;
    wait_orphan(c, w);
}

static int sanitize_deep(const client *c) {
    int mode = config_sanitize_dump();
    return mode == SANITIZE_YES || (mode == SANITIZE_CLIENTS && !(c->flags & CLIENT_APPLY_STREAM));
}

void restore_arriving(client *c) {
    restore_wait *w = c->bgwait;
    if (w) {
        if (!w->claimed && (c->flags & CLIENT_QBUF_PINNED) && c->qlen > w->start)
            bgbuild_feed(w->b, c->qlen - w->start < w->plen ? c->qlen - w->start : w->plen);
        return;
    }
    /* RESTORE key ttl <payload...: a client's own command, its payload big and begun */
    if (c->argc != 3 || c->bulklen < (long long)restore_arrive_min || (size_t)c->bulklen < restore_bg_min || c->fd < 0 ||
        (c->flags & (CLIENT_MULTI | CLIENT_APPLY_STREAM | CLIENT_BLOCKED | CLIENT_PAUSED)) || c->qstart != 0)
        return;
    arg name = {c->qbuf + c->argoff[0], c->argoff[1]};
    if (!arg_is(&name, "restore") && !arg_is(&name, "restore-asking")) return;
    size_t start = c->ppos, n = (size_t)c->bulklen;
    if (c->qlen <= start || !bgbuild_accepts((const unsigned char *)c->qbuf + start, n)) return;
    client_pin_qbuf(c, start + n + 2 + RESTORE_TAIL);
    w = s_calloc(sizeof(*w));
    w->c = c;
    w->start = start;
    w->plen = n;
    w->payload = (const unsigned char *)c->qbuf + start;
    w->b = bgbuild_arriving(w->payload, n, c->qlen - start, sanitize_deep(c), restore_resume, w);
    if (!w->b) {
        client_unpin_qbuf(c);
        s_free(w);
        return;
    }
    c->bgwait = w;
}

static void wait_for_value(client *c, restore_wait *w) {
    w->cmd = c->cmd;
    w->db = c->db;
    w->argc = c->argc;
    w->argv = s_malloc(sizeof(arg) * (size_t)c->argc);
    memcpy(w->argv, c->argv, sizeof(arg) * (size_t)c->argc);
    w->block = client_take_qbuf(c);
    w->has_block = 1;
    w->claimed = 1;
    c->bgwait = w;
    c->flags |= CLIENT_BGWAIT;
}

/* A build's outcome (bgbuild_take's or inline): 1 the value is there; else Redis's error is replied, 0. */
static int took(client *c, int rc, const char *why) {
    if (rc == 1) return 1;
    if (rc < 0) {
        reply_error(c, "ERR DUMP payload version or checksum are wrong");
    } else {
        serverLog(LL_WARNING, "RESTORE of a bad payload: %s", why);
        reply_error(c, "ERR Bad data format");
    }
    return 0;
}

/* The value of the command's payload: 1 in *v; 0 an error was replied; 2 the client now waits for it. */
static int restore_value(client *c, const arg *payload, entry_value *v) {
    const unsigned char *p = (const unsigned char *)payload->p;
    const char *why;
    bgbuild *b = resumed;
    restore_wait *w = c->bgwait;
    int deep = sanitize_deep(c);
    if (!b && w && !w->claimed && w->payload == p && w->plen == payload->len) { /* it arrived being built */
        if (!w->finished) {
            bgbuild_feed(w->b, w->plen);
            wait_for_value(c, w);
            return 2;
        }
        c->bgwait = NULL; /* built already: take it now */
        client_unpin_qbuf(c);
        int rc = bgbuild_take(w->b, v, &why);
        wait_free(w);
        return took(c, rc, why);
    }
    if (b) { /* the second run: the worker verified and built it */
        int rc = bgbuild_take(b, v, &why);
        return took(c, rc, why);
    }
    if (payload->len >= restore_bg_min && c->fd >= 0 && blocking_allowed(c) && bgbuild_accepts(p, payload->len)) {
        w = s_calloc(sizeof(*w));
        w->c = c;
        wait_for_value(c, w);
        w->b = bgbuild_start(p, payload->len, deep, restore_resume, w);
        return 2;
    }
    if (!rdb_dump_verify(p, payload->len)) return took(c, -1, NULL);
    int rc = rdb_dump_load(p, payload->len, deep, v, &why); /* sets why: not in took's own argument list */
    return took(c, rc, why);
}

static void restore_generic(client *c) {
    long long ttl, freq = -1, idle = -1;
    int replace = 0, absttl = 0;
    for (int j = 4; j < c->argc; j++) {
        int more = c->argc - j - 1;
        if (arg_is(&c->argv[j], "replace")) {
            replace = 1;
        } else if (arg_is(&c->argv[j], "absttl")) {
            absttl = 1;
        } else if (arg_is(&c->argv[j], "idletime") && more >= 1 && freq == -1) {
            if (!arg_ll(c, &c->argv[j + 1], &idle, NULL)) return;
            if (idle < 0) {
                reply_error(c, "ERR Invalid IDLETIME value, must be >= 0");
                return;
            }
            j++;
        } else if (arg_is(&c->argv[j], "freq") && more >= 1 && idle == -1) {
            if (!arg_ll(c, &c->argv[j + 1], &freq, NULL)) return;
            if (freq < 0 || freq > 255) {
                reply_error(c, "ERR Invalid FREQ value, must be >= 0 and <= 255");
                return;
            }
            j++;
        } else {
            reply_syntax_error(c);
            return;
        }
    }
    const arg *key = &c->argv[1], *payload = &c->argv[3];
    kref r;
    int exists = db_lookup(c->db, key->p, key->len, LOOKUP_NOSTATS, &r);
    if (!replace && exists) {
        reply_error(c, "BUSYKEY Target key name already exists.");
        return;
    }
    if (!arg_ll(c, &c->argv[2], &ttl, NULL)) return;
    if (ttl < 0) {
        reply_error(c, "ERR Invalid TTL value, must be >= 0");
        return;
    }
    entry_value v;
    if (restore_value(c, payload, &v) != 1) return;

    long long mark = dirty_mark(); /* Redis counts one change, whatever was replaced */
    int deleted = 0;
    if (replace && exists) {
        /* the old value goes; the key's change is announced below (as "del" or "new" + "restore") */
        uint8_t *e = r.e;
        int type = e_heap_kind(e);
        void *old = e_on_heap(e) ? e_ptr(e) : NULL;
        handle_t h = db_detach(&r);
        entry_free(h);
        if (old) value_free(type, old);
        deleted = 1;
    }
    if (ttl && !absttl) ttl += srv.cmd_now_ms;
    if (ttl && ttl <= srv.cmd_now_ms && !srv.keep_expired) {
        discard(&v);
        if (deleted) {
            key_changed(c, key, FX_GENERIC, "del");
            prop_rewrite_del(c, key);
            dirty_count(mark, 1);
        }
        reply_ok(c);
        return;
    }
    uint32_t lru = (idle >= 0 || freq >= 0) ? lru_restored(idle, freq) : lru_initial();
    handle_t h = entry_build(key->p, key->len, ttl ? ttl : -1, lru, &v);
    if (!h) {
        discard(&v);
        reply_error(c, "OOM command not allowed when used memory > 'maxmemory'.");
        return;
    }
    db_add(c->db, key->p, key->len, kt_hash(key->p, key->len), h);
    if (ttl && !absttl) {
        /* propagated with the absolute deadline: RESTORE key <ms> payload ... ABSTTL */
        int n = c->argc + 1;
        const char **av = s_malloc((size_t)n * sizeof(char *));
        size_t *lens = s_malloc((size_t)n * sizeof(size_t));
        char tbuf[LL_STR_SIZE];
        for (int j = 0; j < c->argc; j++) {
            av[j] = c->argv[j].p;
            lens[j] = c->argv[j].len;
        }
        lens[2] = (size_t)ll2str(tbuf, ttl);
        av[2] = tbuf;
        av[n - 1] = "ABSTTL";
        lens[n - 1] = 6;
        prop_rewrite_strs(c, n, av, lens);
        s_free(av);
        s_free(lens);
    }
    key_changed(c, key, FX_GENERIC, "restore");
    dirty_count(mark, 1);
    reply_ok(c);
}

void cmd_restore(client *c) { restore_generic(c); }
void cmd_restore_asking(client *c) { restore_generic(c); }
