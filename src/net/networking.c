/* networking: client lifecycle and socket I/O (see client.h).
 *
 * Freeing: a client is freed synchronously only from its own I/O handlers
 * before any command of it runs; everywhere else (QUIT, CLIENT KILL, output
 * limits) it is marked CLOSE_ASAP and freed in before-sleep, so no command
 * ever runs on a freed client.
 *
 * TLS clients (accepted on tls-port) read and write through net/conn.h; their
 * handshake runs from the socket events before the first read (want-read /
 * want-write), protected mode is applied once it is done, and the cron closes
 * one still unfinished after tls-handshake-timeout.  Bytes OpenSSL already
 * holds are read before returning to epoll, which cannot see them. */
#include "net/client.h"
#include "net/conn.h"
#include "net/eventloop.h"
#include "net/listen.h"
#include "protocol/reply.h"
#include "protocol/request.h"
#include "server/bio.h"
#include "server/server.h"
#include "util/mem.h"
#include "util/debug.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define IOBUF_LEN 16384
#define IOBUF_MAX (64 * 1024) /* one read never carries more than ~1 ms of pipelined work */
#define BIG_ARG 32768         /* bulks this big are read in place into a buffer grown for them */
#define QBUF_MAP_MIN (1 << 20) /* a query buffer this big is mapped (util/mem.h s_map_resize) */
#define BIG_READ_MAX ((size_t)1 << 20)
#define QBUF_POPULATE_STEP ((size_t)4 << 20) /* a big argument's buffer is faulted in this far ahead */
#define UNMAP_IN_BACKGROUND ((size_t)8 << 20) /* a mapped buffer this big is unmapped by the bio thread */
#define INPUT_SLICE_US 1000   /* one client's pipelined commands run this long at most before others get a turn */
#define INPUT_SLICE_CHECK 8   /* commands between two looks at the clock */

static void qbuf_release(client *c);

static void read_handler(int fd, void *data, int mask);
static void qbuf_hand_over(client *c, size_t keep);

static void format_addr(const struct sockaddr_storage *sa, char *out, size_t size) {
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
        port = ntohs(s->sin_port);
        snprintf(out, size, "%s:%d", ip, port);
    } else if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
        port = ntohs(s->sin6_port);
        snprintf(out, size, "%s:%d", ip, port);
    } else {
        snprintf(out, size, "/unixsocket:0");
    }
}

client *client_create(int fd, int is_unix) {
    client *c = s_calloc(sizeof(*c));
    c->id = srv.next_client_id++;
    c->fd = fd;
    c->resp = 2;
    c->db = &srv.dbs[0];
    c->bulklen = -1;
    c->ctime_ms = c->last_ms = mstime();
    c->user = srv.default_user;
    if (srv.default_user_open) c->flags |= CLIENT_AUTHENTICATED;
    if (fd >= 0) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);
        if (is_unix) {
            c->flags |= CLIENT_UNIX;
            snprintf(c->addr, sizeof(c->addr), "%s:0", srv.unixsocket ? srv.unixsocket : "");
            snprintf(c->laddr, sizeof(c->laddr), "%s:0", srv.unixsocket ? srv.unixsocket : "");
        } else {
            if (getpeername(fd, (struct sockaddr *)&sa, &len) == 0) format_addr(&sa, c->addr, sizeof(c->addr));
            len = sizeof(sa);
            if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0) format_addr(&sa, c->laddr, sizeof(c->laddr));
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            if (srv.tcpkeepalive > 0) {
                setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
                int idle = srv.tcpkeepalive, intvl = srv.tcpkeepalive / 3 ? srv.tcpkeepalive / 3 : 1, cnt = 3;
                setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
                setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
                setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
            }
        }
        if (el_add(srv.el, fd, EL_READABLE, read_handler, c) == -1) {
            s_free(c);
            close(fd);
            return NULL;
        }
        if (srv.nclients == srv.clients_cap) {
            srv.clients_cap = srv.clients_cap ? srv.clients_cap * 2 : 64;
            srv.clients = s_realloc(srv.clients, srv.clients_cap * sizeof(client *));
        }
        c->idx = (int)srv.nclients;
        srv.clients[srv.nclients++] = c;
    } else {
        c->idx = -1;
    }
    return c;
}

/* Clients with pipelined input left when their time slice ran out (CLIENT_INPUT_LEFT), in the order they
 * ran out; entries of clients freed meanwhile are NULL, and a client may stay listed after its flag
 * went (its input ran by another path): the flag, not the list, says whether input is left.  The array is
 * freed whenever it empties, so the server's memory does not depend on whether a slice ever ran out. */
static client **left_input;
static size_t nleft, cleft;

static void forget_left_input(client *c) {
    for (size_t i = 0; i < nleft; i++)
        if (left_input[i] == c) left_input[i] = NULL;
}

static void note_left_input(client *c) {
    c->xflags |= CLIENT_INPUT_LEFT;
    for (size_t i = 0; i < nleft; i++)
        if (left_input[i] == c) return;
    if (nleft == cleft) {
        cleft = cleft ? cleft * 2 : 16;
        left_input = s_realloc(left_input, cleft * sizeof(*left_input));
    }
    left_input[nleft++] = c;
}

void client_free(client *c) {
    if (srv.current_client == c) srv.current_client = NULL;
    if (c->flags & CLIENT_QBUF_PINNED) qbuf_hand_over(c, 0);
    const client_hooks *h = clients_hooks();
    if (h && h->freeing) h->freeing(c);
    if (c->fd >= 0) {
        el_del(srv.el, c->fd, EL_READABLE | EL_WRITABLE);
        conn_close(c);
    }
    if (c->idx >= 0) {
        client *last = srv.clients[--srv.nclients];
        srv.clients[c->idx] = last;
        last->idx = c->idx;
    }
    client_forget(c);
    forget_left_input(c);
    qbuf_release(c);
    cbuf_free(c->obuf);
    s_free(c->argv);
    s_free(c->argoff);
    s_free(c->name);
    s_free(c);
}

void clients_free_closed(void) {
    client *c;
    while ((c = client_next_closing()) != NULL) {
        c->flags &= ~CLIENT_CLOSE_ASAP; /* already off the list */
        client_free(c);
    }
}

static void write_handler(int fd, void *data, int mask);

static int hooks_drained(void) { return clients_hooks() && clients_hooks()->drained; }

void client_install_write_handler(client *c) {
    if (c->flags & CLIENT_WRITE_HANDLER || c->fd < 0) return;
    if (el_add(srv.el, c->fd, EL_WRITABLE, write_handler, c) == 0) c->flags |= CLIENT_WRITE_HANDLER;
}

/* Bytes of a long reply (CLIENT_FEEDING) written per call at most, so one reader cannot hold the loop. */
#define FEED_PER_WRITE (1u << 20)

int client_write(client *c) {
    if (c->olen - c->opos > c->opeak) c->opeak = c->olen - c->opos;
    size_t fed = 0;
again:
    while (c->opos < c->olen) {
        ssize_t n = conn_write(c, c->obuf + c->opos, c->olen - c->opos);
        if (n > 0) {
            c->opos += (size_t)n;
            srv.stat_net_output_bytes += n;
            srv.stat_io_writes++;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n < 0 && errno == EINTR) continue;
        serverLog(LL_VERBOSE, "Error writing to client: %s", strerror(errno));
        client_free(c);
        return -1;
    }
    if (c->opos == c->olen && (c->xflags & CLIENT_FEEDING) && hooks_drained()) {
        fed += c->olen;
        c->opos = c->olen = 0;
        /* what the hook appends is written right here: marked pending, so that it is not queued again
         * (this may run while the pending list is being walked) */
        int was_pending = c->flags & CLIENT_PENDING_WRITE;
        c->flags |= CLIENT_PENDING_WRITE;
        clients_hooks()->drained(c);
        if (!was_pending) c->flags &= ~CLIENT_PENDING_WRITE;
        if (c->olen > 0) {
            if (fed < FEED_PER_WRITE) goto again;
            client_install_write_handler(c); /* the rest on the next writable event */
            return 0;
        }
    }
    if (c->opos == c->olen) {
        c->opos = c->olen = 0;
        c->soft_limit_since = 0;
        if (c->flags & CLIENT_WRITE_HANDLER) {
            el_del(srv.el, c->fd, EL_WRITABLE);
            c->flags &= ~CLIENT_WRITE_HANDLER;
        }
        if (c->ocap > 64 * 1024) { /* don't keep a big reply buffer around */
            cbuf_free(c->obuf);
            c->obuf = NULL;
            c->ocap = 0;
        }
        if (c->flags & CLIENT_CLOSE_AFTER_REPLY) {
            client_free(c);
            return -1;
        }
        if (c->flags & CLIENT_READ_PAUSED) { /* its input left in qbuf runs on the next read or cron */
            c->flags &= ~CLIENT_READ_PAUSED;
            el_add(srv.el, c->fd, EL_READABLE, read_handler, c);
        }
    } else {
        client_install_write_handler(c);
    }
    return 0;
}

static int tls_handshake_step(client *c);

static void write_handler(int fd, void *data, int mask) {
    (void)fd;
    (void)mask;
    client *c = data;
    if (c->tls && !tls_conn_ready(c->tls) && tls_handshake_step(c)) return;
    client_write(c);
}

void clients_handle_pending_writes(void) {
    size_t npending;
    client **pending_writes = client_pending_writes(&npending); /* live: a client freed meanwhile is NULLed */
    for (size_t i = 0; i < npending; i++) {
        client *c = pending_writes[i];
        if (!c) continue;
        c->flags &= ~CLIENT_PENDING_WRITE;
        if (c->flags & CLIENT_CLOSE_ASAP) continue;
        if (c->flags & CLIENT_WRITE_HANDLER) continue; /* the socket is full; epoll will tell us */
        if (c->flags & CLIENT_PROTECTED) continue;     /* queued again when unprotected */
        client_write(c);
    }
    client_pending_writes_done();
}

void client_protect(client *c) {
    if (c->flags & CLIENT_PROTECTED) return;
    c->flags |= CLIENT_PROTECTED;
    if (c->fd >= 0) el_del(srv.el, c->fd, EL_READABLE | EL_WRITABLE);
}

void client_unprotect(client *c) {
    if (!(c->flags & CLIENT_PROTECTED)) return;
    c->flags &= ~CLIENT_PROTECTED;
    if (c->fd < 0) return;
    if (!(c->flags & CLIENT_READ_PAUSED)) el_add(srv.el, c->fd, EL_READABLE, read_handler, c);
    if (c->flags & CLIENT_WRITE_HANDLER) {
        c->flags &= ~CLIENT_WRITE_HANDLER;
        client_install_write_handler(c);
    }
    if (c->olen > c->opos) {
        c->flags |= CLIENT_PENDING_WRITE;
        client_queue_write(c);
    }
}

void client_reset_argv(client *c) { c->argc = 0; }

/* Backpressure on an unauthenticated client: stop reading it while this much output waits. */
#define UNAUTH_OUTPUT_MAX 4096

static int unauth_output_full(client *c) {
    if ((c->flags & CLIENT_AUTHENTICATED) || c->olen - c->opos <= UNAUTH_OUTPUT_MAX || c->fd < 0) return 0;
    if (!(c->flags & CLIENT_READ_PAUSED)) {
        c->flags |= CLIENT_READ_PAUSED;
        el_del(srv.el, c->fd, EL_READABLE);
    }
    return 1;
}

void client_process_input(client *c) {
    long long start = 0;
    unsigned ran = 0;
    c->xflags &= ~CLIENT_INPUT_LEFT;
    while (!(c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY | CLIENT_PAUSED | CLIENT_BLOCKED | CLIENT_BGWAIT))) {
        const char *err = NULL;
        if (unauth_output_full(c)) break;
        int r;
        if (c->flags & CLIENT_PENDING_COMMAND) { /* held by CLIENT PAUSE: run it as parsed */
            c->flags &= ~CLIENT_PENDING_COMMAND;
            parse_restore_argv(c);
            r = PARSE_OK;
        } else {
            r = parse_request(c, &err);
        }
        if (r == PARSE_MORE) break;
        if (r == PARSE_ERROR) {
            char buf[256];
            snprintf(buf, sizeof(buf), "ERR %s", err);
            reply_error(c, buf);
            serverLog(LL_VERBOSE, "Protocol error (%s) from client: id=%llu addr=%s", err,
                      (unsigned long long)c->id, c->addr);
            c->flags |= CLIENT_CLOSE_AFTER_REPLY;
            c->qstart = c->qlen; /* drop the rest of the input */
            parse_done(c);
            c->qstart = c->qlen;
            break;
        }
        if (r == PARSE_OK) {
            srv.current_client = c;
            int done = clients_hooks()->process(c);
            srv.current_client = NULL;
            if (done && (c->flags & CLIENT_QBUF_PINNED)) { /* its command ran without taking the buffer */
                qblock b = client_take_qbuf(c);
                const client_hooks *h = clients_hooks();
                if (h->qbuf_released) h->qbuf_released(c, b);
                else qblock_free(b);
            }
            if (!done) { /* postponed by CLIENT PAUSE: kept parsed (argoff, ppos) for when it ends */
                c->flags |= CLIENT_PENDING_COMMAND;
                break;
            }
        }
        parse_done(c);
        /* A long pipeline yields between two commands once its slice is used: the rest runs from
         * before-sleep (clients_run_left_input), after the others had their turn. */
        if (r == PARSE_OK && c->fd >= 0 && c->qstart < c->qlen && ++ran % INPUT_SLICE_CHECK == 0) {
            long long now = monotonic_us();
            if (!start) start = now; /* the slice counts from the first look (its first commands are free) */
            if (now - start >= INPUT_SLICE_US) {
                note_left_input(c);
                break;
            }
        }
    }
    if (c->qstart >= c->qlen) {
        c->qstart = c->qlen = 0;
    } else if (c->qstart > 0) {
        memmove(c->qbuf, c->qbuf + c->qstart, c->qlen - c->qstart);
        c->qlen -= c->qstart;
        c->qstart = 0;
    }
}

/* The query buffer lives on the heap while under QBUF_MAP_MIN and is mapped from then on (invariant:
 * mapped iff qcap >= QBUF_MAP_MIN, qcap then being the mapped size): a big argument's buffer, grown
 * as its bytes arrive, is moved by the kernel rather than copied at each doubling, and the pages it
 * held are not faulted in again. */
static void qbuf_resize(client *c, size_t cap) {
    if (cap < QBUF_MAP_MIN) {
        DBG_ASSERT(c->qcap < QBUF_MAP_MIN);
        c->qbuf = cbuf_realloc(c->qbuf, cap);
        c->qcap = cap;
        return;
    }
    cap = s_map_size(cap);
    if (c->qcap >= QBUF_MAP_MIN) {
        c->qbuf = s_map_resize(c->qbuf, c->qcap, cap);
        srv.client_buf_bytes += cap - c->qcap;
    } else {
        char *m = s_map_resize(NULL, 0, cap);
        s_map_hugepages(m, cap); /* it is filled as the argument arrives, and unmapped whole */
        if (c->qlen) memcpy(m, c->qbuf, c->qlen);
        cbuf_free(c->qbuf);
        c->qbuf = m;
        srv.client_buf_bytes += cap;
        c->qpop = c->qlen; /* the bytes copied are faulted in */
    }
    c->qcap = cap;
    if (c->qpop > cap) c->qpop = cap;
}

static void unmap_job(void *p, void *cap) { s_map_resize(p, (size_t)(uintptr_t)cap, 0); }

/* A mapped query buffer goes; unmapping tens of MB of faulted pages takes milliseconds, so a big one
 * is unmapped by the background thread (nothing refers to it any more). */
static void qbuf_unmap(char *p, size_t cap) {
    srv.client_buf_bytes -= cap;
    if (cap >= UNMAP_IN_BACKGROUND) bio_submit(unmap_job, p, (void *)(uintptr_t)cap);
    else s_map_resize(p, cap, 0);
}

static void qbuf_release(client *c) {
    if (c->qcap >= QBUF_MAP_MIN) qbuf_unmap(c->qbuf, c->qcap);
    else cbuf_free(c->qbuf);
    c->qbuf = NULL;
    c->qcap = c->qpop = 0;
}

void client_pin_qbuf(client *c, size_t cap) {
    if (cap > c->qcap) qbuf_resize(c, cap);
    c->flags |= CLIENT_QBUF_PINNED;
}

void client_unpin_qbuf(client *c) { c->flags &= ~CLIENT_QBUF_PINNED; }

/* Gives a pinned qbuf to the pinner; the client keeps a copy of its first `keep` bytes. */
static void qbuf_hand_over(client *c, size_t keep) {
    qblock b = {c->qbuf, c->qcap};
    size_t len = c->qlen;
    c->flags &= ~CLIENT_QBUF_PINNED;
    c->qbuf = NULL;
    c->qcap = c->qlen = c->qpop = 0;
    if (keep) {
        qbuf_resize(c, keep * 2 > IOBUF_LEN ? keep * 2 : IOBUF_LEN);
        memcpy(c->qbuf, b.p, keep);
        c->qlen = keep;
    }
    (void)len;
    const client_hooks *h = clients_hooks();
    if (h && h->qbuf_released) h->qbuf_released(c, b);
    else qblock_free(b);
}

qblock client_take_qbuf(client *c) {
    c->flags &= ~CLIENT_QBUF_PINNED;
    qblock b = {c->qbuf, c->qcap};
    size_t end = c->qstart + c->ppos, rest = c->qlen > end ? c->qlen - end : 0;
    c->qbuf = NULL;
    c->qcap = c->qlen = c->qpop = 0;
    qbuf_resize(c, rest > IOBUF_LEN ? rest : IOBUF_LEN);
    if (rest) memcpy(c->qbuf, b.p + end, rest);
    c->qlen = rest;
    c->qstart = c->ppos = 0; /* parse_done() then leaves the next command at the start */
    return b;
}

void qblock_free(qblock b) {
    if (b.cap >= QBUF_MAP_MIN) qbuf_unmap(b.p, b.cap);
    else cbuf_free(b.p);
}

/* One read from the client and the commands it completes: 1 bytes were read, 0 nothing was (the socket
 * had nothing, or the client is not read now), -1 the client was freed. */
static int read_once(client *c) {
    if (c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY)) {
        /* Drain and ignore: the client is going away. */
        char sink[4096];
        ssize_t n = conn_read(c, sink, sizeof(sink));
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            client_free(c);
            return -1;
        }
        return 0;
    }
    if (c->xflags & CLIENT_INPUT_LEFT) return 0; /* what it sent runs first (before-sleep); epoll calls again */
    if (!(c->flags & CLIENT_AUTHENTICATED) && !c->reqtype && c->qlen > c->qstart) {
        /* Unauthenticated, with input left from before its output filled up: work through that
         * before reading more (epoll calls again while the socket has data), so qbuf stays one read. */
        client_process_input(c);
        return 0;
    }
    size_t want = IOBUF_LEN;
    int big = c->reqtype == '*' && c->bulklen >= BIG_ARG;
    if (big) {
        /* A big argument is read in place, its buffer grown as its bytes arrive (at most doubling what
         * is held), never reserved whole on the strength of a declared length: a client that declares
         * 512 MB and stalls holds a few KB, and memory limits count only what was received. */
        size_t need = c->qstart + c->ppos + (size_t)c->bulklen + 2;
        if (need > c->qlen) {
            size_t left = need - c->qlen, step = c->qlen > IOBUF_LEN ? c->qlen : IOBUF_LEN;
            want = left < step ? left : step;
        }
    }
    /* A big argument's buffer grows only once the room left is under one read (a socket read returns
     * less than asked, and growing after each one would copy the whole argument every time). */
    if ((c->flags & CLIENT_QBUF_PINNED) && c->qcap == c->qlen) qbuf_hand_over(c, c->qlen); /* outgrown */
    if (c->flags & CLIENT_QBUF_PINNED) {
        /* read into the room there is, no more */
    } else if (c->qcap - c->qlen < want && !(big && c->qcap - c->qlen >= IOBUF_LEN)) {
        size_t cap = c->qcap ? c->qcap : IOBUF_LEN;
        if (big || !(c->flags & CLIENT_AUTHENTICATED)) cap = c->qlen + want; /* exact growth */
        else
            while (cap - c->qlen < want) cap *= 2;
        qbuf_resize(c, cap);
    }
    /* The pages about to be read into are faulted in together (what the client has already sent or is
     * sending), a bounded step ahead at a time: one call per step rather than a trap per 4 KiB, and
     * never a pause as long as faulting a whole doubled buffer in. */
    if (big && c->qcap >= QBUF_MAP_MIN) {
        size_t from = c->qpop > c->qlen ? c->qpop : c->qlen, to = c->qlen + QBUF_POPULATE_STEP;
        if (to > c->qcap) to = c->qcap;
        if (to > from) {
            s_map_populate(c->qbuf + from, to - from);
            c->qpop = to;
        }
    }
    /* one read copies at most BIG_READ_MAX of a big argument: the copy out of the socket costs a few
     * ms per MB on a busy VM, and other clients are served between reads */
    size_t room = c->qcap - c->qlen;
    if (big && room > BIG_READ_MAX) room = BIG_READ_MAX;
    ssize_t n = conn_read(c, c->qbuf + c->qlen, room);
    if (n == 0) {
        serverLog(LL_VERBOSE, "Client closed connection id=%llu addr=%s", (unsigned long long)c->id, c->addr);
        client_free(c);
        return -1;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
        serverLog(LL_VERBOSE, "Reading from client: %s", strerror(errno));
        client_free(c);
        return -1;
    }
    c->qlen += (size_t)n;
    c->last_ms = srv.cmd_now_ms ? mstime() : mstime();
    srv.stat_net_input_bytes += n;
    srv.stat_io_reads++;
    if (c->qlen > c->qpeak) c->qpeak = c->qlen;
    if (srv.client_max_querybuf_len && c->qlen - c->qstart > srv.client_max_querybuf_len) {
        char *info = client_info_line(c);
        serverLog(LL_WARNING, "Closing client that reached max query buffer length: %s", info);
        s_free(info);
        srv.stat_client_qbuf_limit_disconnections++;
        client_free(c);
        return -1;
    }
    /* A full buffer means more is waiting: read bigger next time (not for the unauthenticated). */
    if ((size_t)n == want && c->qcap < IOBUF_MAX && c->qlen == c->qcap && (c->flags & CLIENT_AUTHENTICATED) &&
        !(c->flags & CLIENT_QBUF_PINNED)) {
        qbuf_resize(c, c->qcap * 2);
    }
    client_process_input(c);
    if ((c->flags & CLIENT_QBUF_PINNED) || (c->reqtype == '*' && c->bulklen >= BIG_ARG && c->qstart == 0)) {
        const client_hooks *h = clients_hooks();
        if (h && h->arriving && !(c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY))) h->arriving(c);
    }
    return 1;
}

/* The TLS handshake's next step, from either socket event: returns 1 when the caller must stop there (the
 * handshake waits for the socket, failed, or the client was refused: it is then freed), 0 once the
 * connection is established.  Protected mode is applied here for TLS clients, as Redis applies it once
 * the transport is accepted, so the refusal is readable by the client. */
static int protected_refuses(client *c);

static int tls_handshake_step(client *c) {
    int r = tls_conn_handshake(c->tls);
    if (r == TLS_HS_WANT_READ) {
        if (c->flags & CLIENT_WRITE_HANDLER) {
            el_del(srv.el, c->fd, EL_WRITABLE);
            c->flags &= ~CLIENT_WRITE_HANDLER;
        }
        return 1;
    }
    if (r == TLS_HS_WANT_WRITE) {
        client_install_write_handler(c);
        return 1;
    }
    if (r == TLS_HS_ERROR) {
        serverLog(LL_WARNING, "Error accepting a client connection: %s (addr=%s laddr=%s)", tls_conn_error(c->tls),
                  c->addr, c->laddr);
        client_free(c);
        return 1;
    }
    if (c->flags & CLIENT_WRITE_HANDLER) {
        el_del(srv.el, c->fd, EL_WRITABLE);
        c->flags &= ~CLIENT_WRITE_HANDLER;
    }
    if (protected_refuses(c)) return 1;
    srv.stat_numconnections++;
    return 0;
}

/* TLS records are decrypted whole: bytes OpenSSL already holds are never signalled by the socket again, so
 * they are read now, one buffer at a time.  A client that is not being read (unauthenticated with output
 * waiting, or protected) keeps them until the cron comes back.  -1 if the client was freed. */
static int tls_read_all(client *c) {
    int r;
    do {
        r = read_once(c);
    } while (r == 1 && conn_pending(c) &&
             !(c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY | CLIENT_READ_PAUSED | CLIENT_PROTECTED)));
    return r < 0 ? -1 : 0;
}

/* Bytes a TLS client sent while it was not being read wait inside OpenSSL, unseen by epoll; 1 when there
 * are some and the client may be read now. */
static int tls_bytes_waiting(client *c) {
    return c->tls && tls_conn_ready(c->tls) && conn_pending(c) &&
           !(c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY | CLIENT_READ_PAUSED | CLIENT_PROTECTED));
}

static void read_handler(int fd, void *data, int mask) {
    (void)fd;
    (void)mask;
    client *c = data;
    if (__builtin_expect(c->tls == NULL, 1)) {
        read_once(c);
        return;
    }
    if (!tls_conn_ready(c->tls) && tls_handshake_step(c)) return;
    tls_read_all(c);
}

/* Redis's "local client" (protected mode, enable-*-command local): a unix socket, or a TCP peer whose
 * address is exactly 127.0.0.1 or ::1 (not the rest of 127/8, nor an IPv4-mapped address). */
int client_is_local(const client *c) {
    if (c->flags & CLIENT_UNIX) return 1;
    return !strncmp(c->addr, "127.0.0.1:", 10) || !strncmp(c->addr, "::1:", 4);
}

static const char *protected_msg =
    "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for "
    "the default user. In this mode connections are only accepted from the loopback interface. If you want to "
    "connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable "
    "protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by "
    "connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly "
    "accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) "
    "Alternatively you can just disable the protected mode by editing the Redis configuration file, and "
    "setting the protected mode option to 'no', and then restarting the server. 3) If you started the server "
    "manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication "
    "password for the default user. NOTE: You only need to do one of the above things in order for the server "
    "to start accepting connections from the outside.\r\n";

/* Protected mode, as Redis 7.0: with protected-mode yes and no password for the default user, a client
 * that is not local gets the -DENIED explanation and is closed (counted as rejected).  1 if refused
 * (the client is then freed). */
static int protected_refuses(client *c) {
    if (!srv.protected_mode || !srv.default_user_open || client_is_local(c)) return 0;
    if (conn_write(c, protected_msg, strlen(protected_msg)) < 0) { /* best effort */
    }
    srv.stat_rejected_conn++;
    client_free(c);
    return 1;
}

enum { ACCEPT_TCP, ACCEPT_UNIX, ACCEPT_TLS };

static void accept_common(int fd, int kind) {
    for (int i = 0; i < 1000; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if ((errno == EMFILE || errno == ENFILE) && listen_out_of_fds(fd, errno)) continue;
            return;
        }
        if (srv.nclients >= (size_t)srv.maxclients) {
            /* best effort; on the TLS port nothing is negotiated yet, so the connection just drops */
            static const char msg[] = "-ERR max number of clients reached\r\n";
            if (kind != ACCEPT_TLS && write(cfd, msg, sizeof(msg) - 1) < 0) {
            }
            srv.stat_rejected_conn++;
            close(cfd);
            continue;
        }
        tls_conn *t = NULL;
        if (kind == ACCEPT_TLS && !(t = tls_conn_accept(cfd))) {
            serverLog(LL_WARNING, "Error accepting a client connection: no TLS context");
            close(cfd);
            continue;
        }
        client *c = client_create(cfd, kind == ACCEPT_UNIX);
        if (!c) {
            tls_conn_free(t);
            continue;
        }
        c->tls = t;
        if (t) { /* the handshake starts when the client's first bytes arrive; refusals come after it */
            serverLog(LL_VERBOSE, "Accepted %s (TLS)", c->addr);
            continue;
        }
        if (protected_refuses(c)) continue;
        srv.stat_numconnections++;
        serverLog(LL_VERBOSE, "Accepted %s", c->addr);
    }
}

void accept_tcp_handler(int fd, void *data, int mask) {
    (void)data;
    (void)mask;
    accept_common(fd, ACCEPT_TCP);
}

void accept_unix_handler(int fd, void *data, int mask) {
    (void)data;
    (void)mask;
    accept_common(fd, ACCEPT_UNIX);
}

void accept_tls_handler(int fd, void *data, int mask) {
    (void)data;
    (void)mask;
    accept_common(fd, ACCEPT_TLS);
}

void clients_cron(void) {
    long long now = mstime();
    listen_cron();
    for (size_t i = 0; i < srv.nclients; i++) {
        client *c = srv.clients[i];
        if (c->olen > c->opos && client_check_output_limits(c)) continue;
        /* A TLS handshake that stalls or trickles holds a client slot: it gets tls-handshake-timeout ms. */
        if (c->tls && !tls_conn_ready(c->tls) && !(c->flags & CLIENT_CLOSE_ASAP) &&
            now - c->ctime_ms > tlsc.handshake_timeout_ms) {
            serverLog(LL_VERBOSE, "Closing client whose TLS handshake did not complete in time: addr=%s", c->addr);
            client_close_async(c);
            continue;
        }
        /* As Redis: clients waiting on keys or held by CLIENT PAUSE are never idle-timed-out. */
        if (srv.timeout && !(c->flags & (CLIENT_CLOSE_ASAP | CLIENT_BLOCKED | CLIENT_BGWAIT | CLIENT_PAUSED)) &&
            (now - c->last_ms) / 1000 > srv.timeout) {
            serverLog(LL_VERBOSE, "Closing idle client");
            client_close_async(c);
            continue;
        }
        if (tls_bytes_waiting(c) && tls_read_all(c) < 0) {
            i--; /* freed: the last client took its place (i wraps to SIZE_MAX and back for the first) */
            continue;
        }
        /* Input left over when an unauthenticated client's output drained with nothing more to read. */
        if (c->qlen > c->qstart && !(c->flags & (CLIENT_READ_PAUSED | CLIENT_PAUSED | CLIENT_BLOCKED | CLIENT_BGWAIT)) &&
            !(c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY)) && !c->reqtype) {
            client_process_input(c);
            if (c->flags & CLIENT_CLOSE_ASAP) continue;
        }
        /* Give back an idle client's empty query buffer. */
        if (c->qlen == 0 && c->qbuf && (c->qcap > IOBUF_LEN || now - c->last_ms > 2000)) {
            qbuf_release(c);
            c->qpeak = 0;
        }
    }
}

int clients_run_left_input(void) {
    size_t n = nleft;
    for (size_t i = 0; i < n; i++) {
        client *c = left_input[i];
        left_input[i] = NULL;
        if (!c || !(c->xflags & CLIENT_INPUT_LEFT)) continue;
        client_process_input(c); /* lists it again (past n) if its slice runs out again */
        if (c->flags & CLIENT_CLOSE_ASAP) continue;
        if (!(c->xflags & CLIENT_INPUT_LEFT) && tls_bytes_waiting(c)) tls_read_all(c); /* its input all ran */
    }
    size_t k = 0;
    for (size_t i = n; i < nleft; i++)
        if (left_input[i]) left_input[k++] = left_input[i];
    nleft = k;
    if (!nleft && left_input) { /* a slice running out is rare: hold nothing between such times */
        s_free(left_input);
        left_input = NULL;
        cleft = 0;
    }
    return nleft > 0;
}

void clients_resume_paused(void) {
    for (size_t i = 0; i < srv.nclients; i++) {
        client *c = srv.clients[i];
        if (c->flags & CLIENT_PAUSED) {
            c->flags &= ~CLIENT_PAUSED;
            client_process_input(c);
        }
    }
}
