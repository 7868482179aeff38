/* client: see client.h.  This file holds what every layer above the socket
 * needs of a client without reading or writing it: its buffers' accounting,
 * the lists of clients to write and to close before the loop sleeps, the
 * output limits, the CLIENT LIST line, and the hooks through which the
 * layers above are told of requests and of clients going away (net/ never
 * calls up into commands/). */
#include "net/client.h"
#include "util/dict.h"
#include "net/eventloop.h"
#include "server/server.h"
#include "util/mem.h"
#include "util/ptab.h"
#include <stdio.h>
#include <string.h>

static const client_hooks *hooks;

void clients_set_hooks(const client_hooks *h) { hooks = h; }
const client_hooks *clients_hooks(void) { return hooks; }

static const char *cmd_fullname(const client *c);

static client **pending_writes, **closing;
static size_t npending, pending_cap, nclosing, closing_cap;

static void push(client ***arr, size_t *n, size_t *cap, client *c) {
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *arr = s_realloc(*arr, *cap * sizeof(client *));
    }
    (*arr)[(*n)++] = c;
}

void *cbuf_realloc(void *p, size_t size) {
    srv.client_buf_bytes -= s_usable(p);
    p = s_realloc(p, size);
    srv.client_buf_bytes += s_usable(p);
    return p;
}

void cbuf_free(void *p) {
    srv.client_buf_bytes -= s_usable(p);
    s_free(p);
}

void client_queue_write(client *c) { push(&pending_writes, &npending, &pending_cap, c); }

client **client_pending_writes(size_t *n) {
    *n = npending;
    return pending_writes;
}

void client_pending_writes_done(void) { npending = 0; }

void client_close_async(client *c) {
    if (c->flags & CLIENT_CLOSE_ASAP) return;
    c->flags |= CLIENT_CLOSE_ASAP;
    push(&closing, &nclosing, &closing_cap, c);
}

client *client_next_closing(void) {
    while (nclosing) {
        client *c = closing[--nclosing];
        if (c) return c;
    }
    return NULL;
}

static void remove_from(client **arr, size_t n, client *c) {
    for (size_t i = 0; i < n; i++)
        if (arr[i] == c) arr[i] = NULL; /* skipped by the walkers */
}

void client_forget(client *c) {
    if (c->flags & CLIENT_PENDING_WRITE) remove_from(pending_writes, npending, c);
    if (c->flags & CLIENT_CLOSE_ASAP) remove_from(closing, nclosing, c);
}

/* The client-output-buffer-limit class: a client with subscriptions is a pubsub client, as in Redis.
 * Sardine has no replicas yet: when they land, they answer COB_REPLICA here. */
int client_class(const client *c) { return (c->flags & CLIENT_PUBSUB) ? COB_PUBSUB : COB_NORMAL; }

int client_check_output_limits(client *c) {
    if (c->flags & CLIENT_CLOSE_ASAP) return 1;
    if (c->fd < 0) return 0; /* internal clients (scripts, replayed commands) have no connection to close */
    const cob_limit *l = &srv.cob[client_class(c)];
    /* As Redis counts it: output beyond the first 16 KiB (what its fixed per-client reply buffer holds
     * never counts), so a small reply never trips even a tiny limit. */
    size_t used = c->olen - c->opos;
    used = used > 16384 ? used - 16384 : 0;
    int hard = l->hard && used >= l->hard, soft = 0;
    if (l->soft && used >= l->soft) {
        /* As Redis: reached when first seen over, closed once over for more than soft-seconds (whole
         * seconds of the clock). */
        long long now_s = (srv.cmd_now_ms ? srv.cmd_now_ms : mstime()) / 1000;
        if (!c->soft_limit_since) c->soft_limit_since = now_s;
        else soft = now_s - c->soft_limit_since > l->soft_seconds;
    } else {
        c->soft_limit_since = 0;
    }
    if (!hard && !soft) return 0;
    char *info = client_info_line(c);
    serverLog(LL_WARNING, "Client %s scheduled to be closed ASAP for overcoming of output buffer limits.", info);
    s_free(info);
    srv.stat_client_outbuf_limit_disconnections++;
    client_close_async(c);
    return 1;
}

static size_t set_count(const ptab *t) { return ptab_count(t); }

/* The bytes of a command's arguments, as Redis's argv_len_sum (argv-mem). */
static size_t args_bytes(const arg *argv, int argc) {
    size_t n = 0;
    for (int i = 0; i < argc; i++) n += argv[i].len;
    return n;
}

/* The line of CLIENT LIST / CLIENT INFO with Redis 7.0's fields in its order.  Sardine keeps one output
 * buffer where Redis has a fixed 16 KiB one plus a list of blocks: obl is what the first 16 KiB hold,
 * oll counts the rest as one block and omem is its size, so a client over the fixed part looks the same;
 * rbs/rbp are the output buffer's capacity and the most output that waited at once. */
char *client_info_line(client *c) {
    char flags[24], *f = flags;
    if (c->xflags & CLIENT_MONITOR) *f++ = 'O';
    if (c->flags & CLIENT_PUBSUB) *f++ = 'P';
    if (c->flags & CLIENT_MULTI) *f++ = 'x';
    if (c->flags & CLIENT_BLOCKED) *f++ = 'b';
    if (c->xflags & CLIENT_TRACKING) *f++ = 't';
    if (c->xflags & CLIENT_TRACKING_BROKEN_REDIR) *f++ = 'R';
    if (c->xflags & CLIENT_TRACKING_BCAST) *f++ = 'B';
    if (c->flags & CLIENT_DIRTY_CAS) *f++ = 'd';
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY) *f++ = 'c';
    if (c->flags & CLIENT_CLOSE_ASAP) *f++ = 'A';
    if (c->flags & CLIENT_UNIX) *f++ = 'U';
    if (c->flags & CLIENT_NO_EVICT) *f++ = 'e';
    if (c->flags & CLIENT_NO_TOUCH) *f++ = 'T';
    if (f == flags) *f++ = 'N';
    *f = 0;
    char events[3], *ev = events;
    int m = c->fd >= 0 ? el_mask(srv.el, c->fd) : 0;
    if (m & EL_READABLE) *ev++ = 'r';
    if (m & EL_WRITABLE) *ev++ = 'w';
    *ev = 0;
    size_t argv_mem = (c->flags & CLIENT_BLOCKED) ? args_bytes(c->bargv, c->bargc) : args_bytes(c->argv, c->argc);
    size_t multi_mem = 0;
    for (int i = 0; i < c->mcount; i++)
        multi_mem += args_bytes(c->mq[i].argv, c->mq[i].argc) + sizeof(void *) * (size_t)c->mq[i].argc;
    size_t pending = c->olen - c->opos, fixed = pending > 16384 ? 16384 : pending;
    size_t omem = pending > 16384 ? c->ocap : 0;
    long long now = mstime();
    size_t tot = sizeof(client) + c->qcap + c->ocap + (size_t)c->argv_cap * (sizeof(arg) + 2 * sizeof(size_t)) +
                 argv_mem + multi_mem;
    const client_hooks *h = clients_hooks();
    const char *user = h && h->user_name ? h->user_name(c) : "default";
    size_t need = 512 + (c->name ? strlen(c->name) : 0) + strlen(user);
    char *s = s_malloc(need);
    snprintf(s, need,
             "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d sub=%zu psub=%zu ssub=%zu "
             "multi=%d qbuf=%zu qbuf-free=%zu argv-mem=%zu multi-mem=%zu rbs=%zu rbp=%zu obl=%zu oll=%d omem=%zu "
             "tot-mem=%zu events=%s cmd=%s user=%s redir=%lld resp=%d",
             (unsigned long long)c->id, c->addr, c->laddr, c->fd, c->name ? c->name : "", (now - c->ctime_ms) / 1000,
             (now - c->last_ms) / 1000, flags, c->db->id, set_count(c->ps_sets[0]), set_count(c->ps_sets[1]),
             set_count(c->ps_sets[2]), (c->flags & CLIENT_MULTI) ? c->mcount : -1, c->qlen - c->qstart,
             c->qcap - c->qlen, argv_mem, multi_mem, c->ocap, c->opeak > pending ? c->opeak : pending, fixed,
             pending > 16384, omem, tot, events, cmd_fullname(c), user,
             (c->xflags & CLIENT_TRACKING) ? (long long)c->trk_redir : -1LL, c->resp);
    return s;
}

static const char *cmd_fullname(const client *c) {
    return c->lastcmd && hooks && hooks->command_name ? hooks->command_name(c->lastcmd) : "NULL";
}
