/* replsync: see replsync.h for the design and its invariants. */
#include "features/replsync.h"
#include "commands/commands.h"
#include "features/functions.h"
#include "persist/snapshot.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "util/mem.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (256 * 1024) /* bytes of the image appended to a client's output at a time */

enum { WAIT_START, WAIT_END, SENDING };

typedef struct peer {
    client *c;
    int state;
    int funcs_only; /* the kind of image it wants */
    int fd;         /* SENDING: its descriptor of the image */
    off_t off, size;
} peer;

static peer *peers;
static int npeers, cappeers;
static int running_kind = -1; /* the kind of image our running snapshot makes, -1 none */
static char running_path[64];
static long long last_keepalive_ms;

static peer *find(client *c) {
    for (int i = 0; i < npeers; i++)
        if (peers[i].c == c) return &peers[i];
    return NULL;
}

static void drop(peer *p) {
    client *c = p->c;
    if (p->fd >= 0) close(p->fd);
    c->xflags &= ~(CLIENT_SYNCING | CLIENT_FEEDING);
    *p = peers[--npeers];
}

static void fail(peer *p, const char *why) {
    serverLog(LL_WARNING, "SYNC of client id=%llu failed: %s", (unsigned long long)p->c->id, why);
    client *c = p->c;
    drop(p);
    client_close_async(c);
}

static void snapshot_done(void *ud, int ok, const char *err) {
    (void)ud;
    int kind = running_kind;
    running_kind = -1;
    int fd = ok ? open(running_path, O_RDONLY | O_CLOEXEC) : -1;
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) != 0) {
        close(fd);
        fd = -1;
    }
    if (ok && fd < 0) err = strerror(errno);
    if (ok) unlink(running_path); /* the descriptors keep the image */
    for (int i = 0; i < npeers;) {
        peer *p = &peers[i];
        if (p->state != WAIT_END || p->funcs_only != kind) {
            i++;
            continue;
        }
        if (fd < 0) { /* fail() moves the last peer here: look at i again */
            fail(p, err ? err : "the snapshot failed");
            continue;
        }
        p->fd = dup(fd);
        if (p->fd < 0) {
            fail(p, strerror(errno));
            continue;
        }
        p->state = SENDING;
        p->off = 0;
        p->size = st.st_size;
        char hdr[32];
        int n = snprintf(hdr, sizeof(hdr), "$%lld\r\n", (long long)st.st_size);
        p->c->xflags |= CLIENT_FEEDING;
        reply_raw(p->c, hdr, (size_t)n); /* the rest as the output drains */
        serverLog(LL_NOTICE, "Sending an RDB image of %lld bytes to client id=%llu", (long long)st.st_size,
                  (unsigned long long)p->c->id);
        i++;
    }
    if (fd >= 0) close(fd);
}

/* Starts a snapshot for the waiting clients of one kind, when none runs. */
static void start_if_idle(void) {
    if (running_kind >= 0 || snapshot_running()) return;
    int kind = -1;
    for (int i = 0; i < npeers && kind < 0; i++)
        if (peers[i].state == WAIT_START) kind = peers[i].funcs_only;
    if (kind < 0) return;
    static unsigned seq;
    snprintf(running_path, sizeof(running_path), "temp-sync-%d-%u.rdb", (int)getpid(), ++seq);
    snap_req r = {.path = running_path, .no_keys = kind, .done = snapshot_done};
    r.nfunctions = functions_codes(&r.functions, &r.function_lens);
    char err[512];
    if (snapshot_start(&r, err, sizeof(err)) != 0) {
        for (int i = 0; i < npeers;) {
            if (peers[i].state == WAIT_START && peers[i].funcs_only == kind) fail(&peers[i], err);
            else i++;
        }
        return;
    }
    running_kind = kind;
    serverLog(LL_NOTICE, "Starting a snapshot for SYNC (%s, without fork)", kind ? "functions only" : "keys");
    for (int i = 0; i < npeers; i++)
        if (peers[i].state == WAIT_START && peers[i].funcs_only == kind) peers[i].state = WAIT_END;
}

static void sync_generic(client *c, int psync) {
    if (c->xflags & CLIENT_SYNCING) return; /* already: ignored, as Redis ignores a replica's SYNC */
    if (c->olen > c->opos) {
        reply_error(c, "ERR SYNC and PSYNC are invalid with pending output");
        return;
    }
    if (!(c->xflags & CLIENT_REPL_RDBONLY)) {
        /* Sardine does not stream commands to replicas: only the image (see replsync.h) */
        reply_error(c, "ERR Sardine serves SYNC and PSYNC only for an RDB image: send REPLCONF rdb-only 1 first "
                       "(replicas are not supported)");
        return;
    }
    if ((c->flags & CLIENT_PUBSUB) || (c->xflags & (CLIENT_TRACKING | CLIENT_MONITOR))) {
        /* its messages would land in the middle of the image (Redis drops a replica's, Sardine has none) */
        reply_error(c, "ERR SYNC is not allowed for a client with subscriptions, key tracking or MONITOR");
        return;
    }
    int funcs_only = (c->xflags & CLIENT_REPL_FUNCS_ONLY) != 0;
    if (funcs_only && !(c->xflags & CLIENT_REPL_CAPA_EOF)) {
        reply_error(c, "ERR Filtered replica requires EOF capability");
        return;
    }
    serverLog(LL_NOTICE, "Client id=%llu asks for an RDB image (%s)", (unsigned long long)c->id,
              psync ? "PSYNC" : "SYNC");
    if (psync) {
        char line[96];
        int n = snprintf(line, sizeof(line), "+FULLRESYNC %s 0\r\n", srv.runid);
        reply_raw(c, line, (size_t)n);
    }
    if (npeers == cappeers) {
        cappeers = cappeers ? cappeers * 2 : 4;
        peers = s_realloc(peers, (size_t)cappeers * sizeof(*peers));
    }
    /* a snapshot of the same kind already running for SYNC serves this client too */
    int attach = running_kind >= 0 && running_kind == funcs_only;
    peers[npeers++] = (peer){c, attach ? WAIT_END : WAIT_START, funcs_only, -1, 0, 0};
    c->xflags |= CLIENT_SYNCING;
    start_if_idle();
}

void cmd_sync(client *c) { sync_generic(c, 0); }

void cmd_psync(client *c) {
    long long off;
    if (!arg_ll(c, &c->argv[2], &off, NULL)) return;
    sync_generic(c, 1);
}

void cmd_replconf(client *c) {
    if (c->argc % 2 == 0) {
        reply_syntax_error(c);
        return;
    }
    for (int j = 1; j < c->argc; j += 2) {
        const arg *opt = &c->argv[j], *val = &c->argv[j + 1];
        if (arg_is(opt, "listening-port")) {
            long long port;
            if (!arg_ll(c, val, &port, NULL)) return;
        } else if (arg_is(opt, "ip-address")) {
            if (val->len >= 256) { /* Redis's NET_HOST_STR_LEN */
                reply_errorf(c, "ERR REPLCONF ip-address provided by replica instance is too long: %zu bytes",
                             val->len);
                return;
            }
        } else if (arg_is(opt, "capa")) {
            if (arg_is(val, "eof")) c->xflags |= CLIENT_REPL_CAPA_EOF; /* others (psync2) are ignored */
        } else if (arg_is(opt, "ack") || arg_is(opt, "getack")) {
            return; /* a replica's or a master's: no reply, as Redis to a client that is neither */
        } else if (arg_is(opt, "rdb-only")) {
            long long v;
            if (!arg_ll(c, val, &v, NULL)) return;
            if (v < 0 || v > 1) {
                reply_error(c, "ERR value is out of range, value must between 0 and 1");
                return;
            }
            if (v) c->xflags |= CLIENT_REPL_RDBONLY;
            else c->xflags &= ~CLIENT_REPL_RDBONLY;
        } else if (arg_is(opt, "rdb-filter-only")) {
            /* include filters, separated by spaces: only "functions" exists; none means an empty image */
            const char *p = val->p, *end = val->p + val->len;
            c->xflags |= CLIENT_REPL_FUNCS_ONLY;
            while (p < end) {
                while (p < end && *p == ' ') p++;
                const char *w = p;
                while (p < end && *p != ' ') p++;
                if (p == w) break;
                if (!((size_t)(p - w) == 9 && strncasecmp(w, "functions", 9) == 0)) {
                    reply_errorf(c, "ERR Unsupported rdb-filter-only option: %.*s", (int)(p - w), w);
                    return;
                }
            }
        } else {
            reply_errorf(c, "ERR Unrecognized REPLCONF option: %.*s", (int)opt->len, opt->p);
            return;
        }
    }
    reply_ok(c);
}

void replsync_drained(client *c) {
    peer *p = find(c);
    if (!p || p->state != SENDING) {
        c->xflags &= ~CLIENT_FEEDING;
        return;
    }
    if (p->off == p->size) { /* all out: an rdb-only client is closed once the output drains */
        drop(p);
        c->flags |= CLIENT_CLOSE_AFTER_REPLY;
        return;
    }
    static char buf[CHUNK];
    size_t want = p->size - p->off < CHUNK ? (size_t)(p->size - p->off) : CHUNK;
    ssize_t n = pread(p->fd, buf, want, p->off);
    if (n <= 0) {
        fail(p, n < 0 ? strerror(errno) : "the image file got shorter");
        return;
    }
    p->off += n;
    reply_raw(c, buf, (size_t)n);
}

void replsync_cron(void) {
    if (!npeers) return;
    start_if_idle();
    long long now = mstime();
    if (now - last_keepalive_ms < 1000) return;
    last_keepalive_ms = now;
    for (int i = 0; i < npeers; i++)
        if (peers[i].state != SENDING) reply_raw(peers[i].c, "\n", 1);
}

void replsync_client_freeing(client *c) {
    peer *p = find(c);
    if (p) drop(p);
}

int replsync_clients(void) { return npeers; }
