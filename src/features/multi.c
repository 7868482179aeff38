/* multi: see multi.h. */
#include "features/multi.h"
#include "features/acl.h"
#include "keyspace/effects.h"
#include "commands/command.h"
#include "commands/call.h"
#include "commands/propagate.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "util/dict.h"
#include "util/mem.h"
#include <string.h>

typedef struct watchers {
    client **v;
    int n, cap;
} watchers;

void multi_queue(client *c, command *cmd) {
    if (c->mcount == c->mcap) {
        c->mcap = c->mcap ? c->mcap * 2 : 8;
        c->mq = s_realloc(c->mq, (size_t)c->mcap * sizeof(queued_cmd));
    }
    queued_cmd *q = &c->mq[c->mcount++];
    q->cmd = cmd;
    q->argc = c->argc;
    q->argv = s_malloc((size_t)c->argc * sizeof(arg));
    for (int i = 0; i < c->argc; i++) {
        q->argv[i].p = s_malloc(c->argv[i].len + 1);
        memcpy(q->argv[i].p, c->argv[i].p, c->argv[i].len);
        q->argv[i].p[c->argv[i].len] = 0;
        q->argv[i].len = c->argv[i].len;
    }
}

static void free_queue(client *c) {
    for (int i = 0; i < c->mcount; i++) {
        for (int j = 0; j < c->mq[i].argc; j++) s_free(c->mq[i].argv[j].p);
        s_free(c->mq[i].argv);
    }
    s_free(c->mq);
    c->mq = NULL;
    c->mcount = c->mcap = 0;
}

void multi_discard(client *c) {
    free_queue(c);
    c->flags &= ~(CLIENT_MULTI | CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC);
}

void multi_flag_dirty(client *c) {
    if (c->flags & CLIENT_MULTI) c->flags |= CLIENT_DIRTY_EXEC;
}

int multi_queue_has_flag(const client *c, uint32_t flag) {
    for (int i = 0; i < c->mcount; i++)
        if (c->mq[i].cmd->flags & flag) return 1;
    return 0;
}

static int key_exists(db *d, const char *key, size_t klen) {
    handle_t h = kt_find(&d->t, key, klen, kt_hash(key, klen), NULL);
    return h && !db_is_expired(arena_ptr(h));
}

static void touch_watched_key(void *ud, db *d, const char *key, size_t klen, int cls, const char *event) {
    (void)ud, (void)cls, (void)event;
    if (!d->watched) return;
    watchers *w = dict_get(d->watched, key, klen);
    if (!w) return;
    for (int i = 0; i < w->n; i++) w->v[i]->flags |= CLIENT_DIRTY_CAS;
}

static void touch_all_watched_keys(db *emptied, db *replaced_with) {
    if (!emptied->watched || !emptied->watched->count) return;
    dict *d = emptied->watched;
    for (size_t i = 0; i < d->size; i++)
        for (dict_entry *e = d->tab[i]; e; e = e->next) {
            if (!key_exists(emptied, e->key, e->klen) && !(replaced_with && key_exists(replaced_with, e->key, e->klen)))
                continue;
            watchers *w = e->val;
            for (int j = 0; j < w->n; j++) w->v[j]->flags |= CLIENT_DIRTY_CAS;
        }
}

static void watched_db_flushing(void *ud, db *d) {
    (void)ud;
    touch_all_watched_keys(d, NULL);
}

static void watched_db_swapping(void *ud, db *a, db *b) {
    (void)ud;
    touch_all_watched_keys(a, b);
    touch_all_watched_keys(b, a);
}

static const fx_listener watch_listener = {
    .key_changed = touch_watched_key, .db_flushing = watched_db_flushing, .db_swapping = watched_db_swapping};

void multi_init(void) { fx_listen(&watch_listener); }

static void watch_key(client *c, const arg *k) {
    for (int i = 0; i < c->wcount; i++)
        if (c->wk[i].db == c->db && c->wk[i].klen == k->len && memcmp(c->wk[i].key, k->p, k->len) == 0) return;
    if (!c->db->watched) c->db->watched = dict_new(0);
    dict_entry *e = dict_upsert(c->db->watched, k->p, k->len, NULL);
    watchers *w = e->val;
    if (!w) w = e->val = s_calloc(sizeof(watchers));
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 4;
        w->v = s_realloc(w->v, (size_t)w->cap * sizeof(client *));
    }
    w->v[w->n++] = c;
    if (c->wcount == c->wcap) {
        c->wcap = c->wcap ? c->wcap * 2 : 4;
        c->wk = s_realloc(c->wk, (size_t)c->wcap * sizeof(watched_key));
    }
    watched_key *wk = &c->wk[c->wcount++];
    wk->db = c->db;
    wk->key = s_memdup(k->p, k->len + 1);
    wk->klen = k->len;
    handle_t h = kt_find(&c->db->t, k->p, k->len, kt_hash(k->p, k->len), NULL);
    wk->expired_at_watch = h && db_is_expired(arena_ptr(h));
    srv.watched_keys++;
}

void unwatch_all_keys(client *c) {
    for (int i = 0; i < c->wcount; i++) {
        watched_key *wk = &c->wk[i];
        dict_entry *e = wk->db->watched ? dict_find(wk->db->watched, wk->key, wk->klen) : NULL;
        if (e) {
            watchers *w = e->val;
            for (int j = 0; j < w->n; j++)
                if (w->v[j] == c) {
                    w->v[j] = w->v[--w->n];
                    break;
                }
            if (w->n == 0) {
                s_free(w->v);
                s_free(w);
                dict_del(wk->db->watched, wk->key, wk->klen, NULL);
            }
        }
        s_free(wk->key);
        srv.watched_keys--;
    }
    s_free(c->wk);
    c->wk = NULL;
    c->wcount = c->wcap = 0;
}

/* A watched key that has expired since WATCH (even if not yet deleted) breaks the transaction. */
static int watched_key_expired(client *c) {
    for (int i = 0; i < c->wcount; i++) {
        watched_key *wk = &c->wk[i];
        if (wk->expired_at_watch) continue;
        handle_t h = kt_find(&wk->db->t, wk->key, wk->klen, kt_hash(wk->key, wk->klen), NULL);
        if (h && db_is_expired(arena_ptr(h))) return 1;
    }
    return 0;
}

void cmd_multi(client *c) {
    if (c->flags & CLIENT_MULTI) {
        reply_error(c, "ERR MULTI calls can not be nested");
        return;
    }
    c->flags |= CLIENT_MULTI;
    reply_ok(c);
}

void cmd_discard(client *c) {
    if (!(c->flags & CLIENT_MULTI)) {
        reply_error(c, "ERR DISCARD without MULTI");
        return;
    }
    multi_discard(c);
    unwatch_all_keys(c);
    reply_ok(c);
}

void cmd_watch(client *c) {
    if (c->flags & CLIENT_MULTI) {
        reply_error(c, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    if (c->flags & CLIENT_DIRTY_CAS) { /* no point watching more: EXEC will fail anyway */
        reply_ok(c);
        return;
    }
    for (int i = 1; i < c->argc; i++) watch_key(c, &c->argv[i]);
    reply_ok(c);
}

void cmd_unwatch(client *c) {
    unwatch_all_keys(c);
    c->flags &= ~CLIENT_DIRTY_CAS;
    reply_ok(c);
}

void cmd_exec(client *c) {
    if (!(c->flags & CLIENT_MULTI)) {
        reply_error(c, "ERR EXEC without MULTI");
        return;
    }
    if (watched_key_expired(c)) c->flags |= CLIENT_DIRTY_CAS;
    if (c->flags & CLIENT_DIRTY_EXEC) {
        reply_error(c, "EXECABORT Transaction discarded because of previous errors.");
        multi_discard(c);
        unwatch_all_keys(c);
        return;
    }
    if (c->flags & CLIENT_DIRTY_CAS) {
        reply_null_array(c);
        multi_discard(c);
        unwatch_all_keys(c);
        return;
    }
    unwatch_all_keys(c);
    queued_cmd *q = c->mq;
    int n = c->mcount;
    c->mq = NULL;
    c->mcount = c->mcap = 0;
    c->flags &= ~(CLIENT_MULTI | CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC);
    arg *saved_argv = c->argv;
    int saved_argc = c->argc;
    command *exec_cmd = c->cmd;
    reply_array(c, n);
    prop_prevent(c); /* the commands propagate themselves, wrapped in MULTI/EXEC when there are several */
    srv.in_exec = 1;
    for (int i = 0; i < n; i++) {
        c->argv = q[i].argv;
        c->argc = q[i].argc;
        c->cmd = q[i].cmd;
        /* ACL rules may have changed since the command was queued: checked again, as Redis */
        int errpos = 0, r = acl_check_client(c, q[i].cmd, &errpos);
        if (r != ACL_OK) {
            acl_log_denied(c, c, r, ACL_CTX_MULTI, errpos);
            reply_errorf(c, "NOPERM ACLs rules changed between the moment the transaction was accumulated and the "
                            "EXEC call. This command is no longer allowed for the following reason: %s",
                         r == ACL_DENIED_CMD   ? "no permission to execute the command or subcommand"
                         : r == ACL_DENIED_KEY ? "no permission to touch the specified keys"
                                               : "no permission to access one of the channels used as arguments");
            continue;
        }
        call(c, q[i].cmd);
    }
    srv.in_exec = 0;
    c->argv = saved_argv;
    c->argc = saved_argc;
    c->cmd = exec_cmd;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < q[i].argc; j++) s_free(q[i].argv[j].p);
        s_free(q[i].argv);
    }
    s_free(q);
}
