/* blocking: see blocking.h. */
#include "features/blocking.h"
#include "keyspace/effects.h"
#include "commands/command.h"
#include "commands/commands.h"
#include "commands/call.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "util/dict.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct waitq {
    client **v;
    int n, cap;
} waitq;

typedef struct ready_key {
    db *db;
    char *key;
    size_t klen;
} ready_key;

static client **blocked;  /* every blocked client (timeouts, INFO) */
static size_t nblocked, blocked_cap;
static ready_key *ready;
static size_t nready, ready_cap;
static dict *ready_set;   /* "<dbid>:<key>" of keys already in `ready` */

size_t blocking_client_count(void) { return nblocked; }

int blocking_allowed(const client *c) {
    return !srv.in_exec && !(c->flags & CLIENT_APPLY_STREAM); /* the AOF loader's client must never block */
}

/* Redis 7.0's rule: a long double of seconds, times 1000 rounded up to whole ms; a value too big for a
 * long long becomes LLONG_MIN ("negative", as x86 converts it); 0 (also from -0.0009) waits forever, and
 * so does a deadline past LLONG_MAX. */
int parse_block_timeout(client *c, const arg *a, long long *deadline_ms) {
    long double secs;
    if (!str2ld(a->p, a->len, &secs)) {
        reply_error(c, "ERR timeout is not a float or out of range");
        return 0;
    }
    long double ms = ceill(secs * 1000.0L);
    long long t = (ms < 9223372036854775808.0L && ms >= -9223372036854775808.0L) ? (long long)ms : LLONG_MIN;
    if (t < 0) {
        reply_error(c, "ERR timeout is negative");
        return 0;
    }
    long long now = mstime();
    *deadline_ms = t == 0 || t > LLONG_MAX - now ? 0 : now + t;
    return 1;
}

static dict *db_waiters(db *d) {
    if (!d->blocking) d->blocking = dict_new(0);
    return d->blocking;
}

static void waitq_push(waitq *q, client *c) {
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 4;
        q->v = s_realloc(q->v, (size_t)q->cap * sizeof(client *));
    }
    q->v[q->n++] = c;
}

static void free_bargv(client *c) {
    for (int i = 0; i < c->bargc; i++) s_free(c->bargv[i].p);
    s_free(c->bargv);
    c->bargv = NULL;
    c->bargc = 0;
    for (int i = 0; i < c->bkeys_n; i++) s_free(c->bkeys[i].p);
    s_free(c->bkeys);
    c->bkeys = NULL;
    c->bkeys_n = 0;
}

void block_for_keys(client *c, const arg *keys, int nkeys, long long deadline_ms, int timeout_reply) {
    if (c->flags & CLIENT_REPROCESSING) { /* already waiting: keep our place in the queues */
        c->reblocked = 1;
        return;
    }
    c->flags |= CLIENT_BLOCKED;
    c->bdeadline = deadline_ms;
    c->btimeout_reply = timeout_reply;
    c->bdb = c->db;
    c->bcmd = c->cmd;
    c->bargc = c->argc;
    c->bargv = s_malloc(sizeof(arg) * (size_t)c->argc);
    for (int i = 0; i < c->argc; i++) {
        c->bargv[i].p = s_memdup(c->argv[i].p, c->argv[i].len + 1);
        c->bargv[i].len = c->argv[i].len;
    }
    c->bkeys = s_malloc(sizeof(arg) * (size_t)nkeys);
    c->bkeys_n = 0;
    dict *w = db_waiters(c->db);
    for (int i = 0; i < nkeys; i++) {
        int dup = 0;
        for (int j = 0; j < c->bkeys_n; j++)
            if (c->bkeys[j].len == keys[i].len && !memcmp(c->bkeys[j].p, keys[i].p, keys[i].len)) dup = 1;
        if (dup) continue;
        c->bkeys[c->bkeys_n].p = s_memdup(keys[i].p, keys[i].len + 1);
        c->bkeys[c->bkeys_n].len = keys[i].len;
        c->bkeys_n++;
        dict_entry *e = dict_upsert(w, keys[i].p, keys[i].len, NULL);
        if (!e->val) e->val = s_calloc(sizeof(waitq));
        waitq_push(e->val, c);
    }
    if (nblocked == blocked_cap) {
        blocked_cap = blocked_cap ? blocked_cap * 2 : 16;
        blocked = s_realloc(blocked, blocked_cap * sizeof(client *));
    }
    blocked[nblocked++] = c;
}

void blocking_unblock(client *c) {
    if (!(c->flags & CLIENT_BLOCKED)) return;
    dict *w = c->bdb->blocking;
    for (int i = 0; i < c->bkeys_n && w; i++) {
        dict_entry *e = dict_find(w, c->bkeys[i].p, c->bkeys[i].len);
        if (!e) continue;
        waitq *q = e->val;
        for (int j = 0; j < q->n; j++)
            if (q->v[j] == c) {
                memmove(q->v + j, q->v + j + 1, sizeof(client *) * (size_t)(q->n - j - 1));
                q->n--;
                break;
            }
        if (q->n == 0) {
            s_free(q->v);
            s_free(q);
            dict_del(w, c->bkeys[i].p, c->bkeys[i].len, NULL);
        }
    }
    for (size_t i = 0; i < nblocked; i++)
        if (blocked[i] == c) {
            blocked[i] = blocked[--nblocked];
            break;
        }
    free_bargv(c);
    c->flags &= ~CLIENT_BLOCKED;
}

static void signal_key_ready(void *ud, db *d, const char *key, size_t klen) {
    (void)ud;
    if (!nblocked || !d->blocking || !dict_find(d->blocking, key, klen)) return;
    char tag[32];
    int tl = snprintf(tag, sizeof(tag), "%d:", d->id);
    char *full = s_malloc((size_t)tl + klen);
    memcpy(full, tag, (size_t)tl);
    memcpy(full + tl, key, klen);
    if (!ready_set) ready_set = dict_new(0);
    int created;
    dict_upsert(ready_set, full, (size_t)tl + klen, &created);
    s_free(full);
    if (!created) return;
    if (nready == ready_cap) {
        ready_cap = ready_cap ? ready_cap * 2 : 16;
        ready = s_realloc(ready, ready_cap * sizeof(ready_key));
    }
    ready[nready].db = d;
    ready[nready].key = s_memdup(key, klen + 1);
    ready[nready].klen = klen;
    nready++;
}

/* Runs a blocked client's command again; 1 if it was served (and is now unblocked). */
static int reexecute(client *c) {
    arg *saved = c->argv;
    int saved_argc = c->argc;
    db *saved_db = c->db;
    c->argv = c->bargv;
    c->argc = c->bargc;
    c->db = c->bdb;
    c->reblocked = 0;
    c->flags |= CLIENT_REPROCESSING;
    client *prev = srv.current_client;
    srv.current_client = c;
    call(c, c->bcmd);
    srv.current_client = prev;
    c->flags &= ~CLIENT_REPROCESSING;
    c->argv = saved;
    c->argc = saved_argc;
    c->db = saved_db;
    if (c->reblocked) return 0;
    blocking_unblock(c);
    return 1;
}

static void resume(client *c) {
    if (!(c->flags & (CLIENT_BLOCKED | CLIENT_CLOSE_ASAP))) client_process_input(c);
}

void blocking_serve_ready(void) {
    while (nready) {
        ready_key *batch = ready;
        size_t n = nready;
        ready = NULL;
        nready = ready_cap = 0;
        dict_free(ready_set, NULL);
        ready_set = NULL;
        for (size_t i = 0; i < n; i++) {
            dict_entry *e = batch[i].db->blocking ? dict_find(batch[i].db->blocking, batch[i].key, batch[i].klen) : NULL;
            if (e) {
                waitq *q = e->val;
                int count = q->n;
                client **snap = s_memdup(q->v, sizeof(client *) * (size_t)count);
                for (int j = 0; j < count; j++) {
                    client *c = snap[j];
                    if (!(c->flags & CLIENT_BLOCKED) || (c->flags & CLIENT_CLOSE_ASAP)) continue;
                    if (!reexecute(c)) break; /* nothing left for the clients behind it */
                    resume(c);
                }
                s_free(snap);
            }
            s_free(batch[i].key);
        }
        s_free(batch);
    }
}

static void timeout_reply(client *c) {
    if (c->btimeout_reply == BLOCK_TIMEOUT_NULL) reply_null(c);
    else reply_null_array(c);
}

void blocking_check_timeouts(void) {
    if (!nblocked) return;
    long long now = mstime();
    for (size_t i = 0; i < nblocked;) {
        client *c = blocked[i];
        if (c->bdeadline && now >= c->bdeadline) {
            timeout_reply(c);
            blocking_unblock(c); /* moves the last blocked client into slot i */
            resume(c);
            continue;
        }
        i++;
    }
}

void cmd_client_unblock(client *c) {
    long long id;
    int error = 0;
    if (!str2ll(c->argv[2].p, c->argv[2].len, &id)) {
        reply_not_int(c);
        return;
    }
    if (c->argc == 4) {
        if (arg_is(&c->argv[3], "error")) error = 1;
        else if (!arg_is(&c->argv[3], "timeout")) {
            reply_error(c, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    }
    for (size_t i = 0; i < nblocked; i++) {
        client *t = blocked[i];
        if (t->id != (uint64_t)id) continue;
        if (error) reply_error(t, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
        else timeout_reply(t);
        blocking_unblock(t);
        resume(t);
        reply_int(c, 1);
        return;
    }
    reply_int(c, 0);
}

static const fx_listener blocking_listener = {.key_ready = signal_key_ready};

void blocking_init(void) { fx_listen(&blocking_listener); }
