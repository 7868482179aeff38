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

void restore_set_bg_min(size_t n) { restore_bg_min = n; }

/* Drops a value not used after all: a big one is freed in the background, as a deleted key's. */
static void discard(entry_value *v) {
    if (v->store == VAL_PTR && v->ptr && v->type != OBJ_STRING) {
        value_free(v->type, v->ptr);
        v->ptr = NULL;
    }
    rdb_value_discard(v);
}

typedef struct restore_wait {
    client *c; /* NULL once the client is gone */
    qblock block;
    arg *argv;
    int argc;
    struct command *cmd;
    db *db;
} restore_wait;

static bgbuild *resumed; /* the finished build, during the command's second run */

static void restore_resume(bgbuild *b, void *ud) {
    restore_wait *w = ud;
    client *c = w->c;
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
    bgbuild_free(b);
    s_free(w->argv);
    qblock_free(w->block);
    s_free(w);
    if (c && !(c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY))) client_process_input(c);
}

void restore_client_gone(client *c) {
    restore_wait *w = c->bgwait;
    if (!w) return;
    w->c = NULL;
    c->bgwait = NULL;
    c->flags &= ~CLIENT_BGWAIT;
}

/* Hands the payload to the worker and leaves the client waiting (see the top of the file). */
static void restore_in_background(client *c, const arg *payload, int deep) {
    restore_wait *w = s_calloc(sizeof(*w));
    w->c = c;
    w->cmd = c->cmd;
    w->db = c->db;
    w->argc = c->argc;
    w->argv = s_malloc(sizeof(arg) * (size_t)c->argc);
    memcpy(w->argv, c->argv, sizeof(arg) * (size_t)c->argc);
    w->block = client_take_qbuf(c);
    c->bgwait = w;
    c->flags |= CLIENT_BGWAIT;
    bgbuild_start((const unsigned char *)payload->p, payload->len, deep, restore_resume, w);
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
    const unsigned char *p = (const unsigned char *)payload->p;
    int mode = config_sanitize_dump();
    int deep = mode == SANITIZE_YES || (mode == SANITIZE_CLIENTS && !(c->flags & CLIENT_APPLY_STREAM));
    entry_value v;
    const char *why;
    if (resumed) { /* the second run: the worker verified and built it */
        int rc = bgbuild_take(resumed, &v, &why);
        if (rc < 0) {
            reply_error(c, "ERR DUMP payload version or checksum are wrong");
            return;
        }
        if (rc == 0) {
            serverLog(LL_WARNING, "RESTORE of a bad payload: %s", why);
            reply_error(c, "ERR Bad data format");
            return;
        }
    } else if (payload->len >= restore_bg_min && c->fd >= 0 && blocking_allowed(c) && bgbuild_accepts(p, payload->len)) {
        restore_in_background(c, payload, deep);
        return;
    } else {
        if (!rdb_dump_verify(p, payload->len)) {
            reply_error(c, "ERR DUMP payload version or checksum are wrong");
            return;
        }
        if (!rdb_dump_load(p, payload->len, deep, &v, &why)) {
            serverLog(LL_WARNING, "RESTORE of a bad payload: %s", why);
            reply_error(c, "ERR Bad data format");
            return;
        }
    }

    int deleted = 0;
    if (replace && exists) {
        /* the old value goes; the key's change is announced below (as "del" or "new" + "restore") */
        uint8_t *e = r.e;
        int type = e_type(e);
        void *old = e_store(e) == VAL_PTR ? e_ptr(e) : NULL;
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
    reply_ok(c);
}

void cmd_restore(client *c) { restore_generic(c); }
void cmd_restore_asking(client *c) { restore_generic(c); }
