/* dump_cmds: moving keys between servers: DUMP and MIGRATE.
 *
 * DUMP replies the key's value as Redis 7.0's DUMP payload (rdb_dump_payload:
 * the RDB value, RDB version 10 as 2 bytes little endian, CRC64 little
 * endian), so RESTORE on redis-server 7.0 or on Sardine rebuilds it.  Like
 * Redis's lookupKeyRead, the lookup counts as an access (LRU/LFU, hits).
 *
 * MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw]
 *         [AUTH2 user pw] [KEYS key ...]
 * does what Redis 7.0's does, in the same order: one pipeline of [AUTH]
 * [SELECT db] and one RESTORE key ttl payload [REPLACE] per key found (the
 * remaining TTL in ms, at least 1; keys that expired meanwhile are skipped),
 * then reads the replies; every key the target acknowledged is deleted here
 * (unless COPY) and the command propagates as DEL of those keys.  Replies: OK,
 * NOKEY when no key exists, "IOERR error or timeout connecting to the
 * client", "IOERR error or timeout writing/reading to target instance",
 * "ERR Target instance replied with error: ...".  A socket error before any
 * reply is retried once on a new connection, unless it was a timeout.
 *
 * Like Redis, MIGRATE uses blocking I/O: the event loop waits for the target
 * (each connect, write of up to 64 KiB and reply line is bounded by the
 * timeout argument, 1000 ms when <= 0), so other clients wait meanwhile.
 *
 * Connections are cached by "host:port" (up to 64; when full the least
 * recently used is dropped) with the database last selected on them, so
 * repeated MIGRATEs skip the connect and the SELECT; migrate_close_idle(),
 * called by the cron, closes those unused for more than 10 seconds.  A
 * connection that saw an error or a target error forgets its database. */
#include "commands/command.h"
#include "commands/commands.h"
#include "commands/propagate.h"
#include "keyspace/db.h"
#include "persist/rdb_save.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void cmd_dump(client *c) {
    kref r;
    if (!db_lookup(c->db, c->argv[1].p, c->argv[1].len, 0, &r)) {
        reply_null(c);
        return;
    }
    size_t len;
    unsigned char *payload = rdb_dump_payload(r.e, &len);
    reply_bulk(c, payload, len);
    s_free(payload);
}

/* ---- MIGRATE's connection cache ---- */

#define MIGRATE_CACHE_ITEMS 64
#define MIGRATE_CACHE_TTL 10 /* seconds */
#define MIGRATE_CHUNK (64 * 1024)

typedef struct mconn {
    char *name; /* "host:port"; NULL: free slot */
    int fd;
    long long last_dbid;
    long long last_use; /* unix seconds */
} mconn;

static mconn cache[MIGRATE_CACHE_ITEMS];

static void mconn_close(mconn *m) {
    if (!m->name) return;
    close(m->fd);
    s_free(m->name);
    m->name = NULL;
}

static mconn *cache_find(const char *name) {
    for (int i = 0; i < MIGRATE_CACHE_ITEMS; i++)
        if (cache[i].name && !strcmp(cache[i].name, name)) return &cache[i];
    return NULL;
}

void migrate_close_idle(void) {
    long long now = time(NULL);
    for (int i = 0; i < MIGRATE_CACHE_ITEMS; i++)
        if (cache[i].name && now - cache[i].last_use > MIGRATE_CACHE_TTL) mconn_close(&cache[i]);
}

static long long ms_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events or the deadline passes: 1 ready, 0 timeout (errno ETIMEDOUT), -1 error. */
static int wait_fd(int fd, short events, long long deadline) {
    for (;;) {
        long long left = deadline - ms_now();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return 0;
        }
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)left);
        if (n > 0) return 1;
        if (n < 0 && errno != EINTR) return -1;
    }
}

/* A non-blocking TCP connection to host:port, as Redis 7.0 makes it: -1 only when the name does not
 * resolve or no address accepts a connect() at all; otherwise the first address whose connect is under
 * way, after waiting up to timeout ms for it (a refused or unfinished connection then shows up as a write
 * error, so Redis and we reply "IOERR error or timeout writing to target instance" for it). */
static int connect_timeout(const char *host, int port, long long timeout) {
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
    if (getaddrinfo(host, ps, &hints, &res) != 0) return -1;
    int fd = -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) return -1;
    wait_fd(fd, POLLOUT, ms_now() + timeout);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* The cached connection to host:port, or a new one; NULL after replying the connect error. */
static mconn *get_conn(client *c, const arg *host, const arg *port, long long timeout) {
    char *name = s_malloc(host->len + port->len + 2);
    memcpy(name, host->p, host->len);
    name[host->len] = ':';
    memcpy(name + host->len + 1, port->p, port->len);
    name[host->len + 1 + port->len] = 0;
    mconn *m = cache_find(name);
    if (m) {
        s_free(name);
        m->last_use = time(NULL);
        return m;
    }
    char *h = s_malloc(host->len + 1), ps[32];
    memcpy(h, host->p, host->len);
    h[host->len] = 0;
    size_t pl = port->len < sizeof(ps) - 1 ? port->len : sizeof(ps) - 1;
    memcpy(ps, port->p, pl);
    ps[pl] = 0;
    int fd = connect_timeout(h, atoi(ps), timeout); /* atoi, as Redis: a bad port fails to connect */
    s_free(h);
    if (fd < 0) {
        reply_error(c, "IOERR error or timeout connecting to the client");
        s_free(name);
        return NULL;
    }
    /* a free slot, or the least recently used one */
    m = &cache[0];
    for (int i = 0; i < MIGRATE_CACHE_ITEMS; i++) {
        if (!cache[i].name) {
            m = &cache[i];
            break;
        }
        if (cache[i].last_use < m->last_use) m = &cache[i];
    }
    mconn_close(m);
    m->name = name;
    m->fd = fd;
    m->last_dbid = -1;
    m->last_use = time(NULL);
    return m;
}

static void drop_conn(mconn *m) {
    if (m) mconn_close(m);
}

/* Writes all n bytes within timeout ms per chunk of 64 KiB; 0, or -1 (errno ETIMEDOUT on a timeout). */
static int sync_write(int fd, const unsigned char *p, size_t n, long long timeout) {
    size_t pos = 0;
    while (pos < n) {
        size_t chunk = n - pos > MIGRATE_CHUNK ? MIGRATE_CHUNK : n - pos, done = 0;
        long long deadline = ms_now() + timeout;
        while (done < chunk) {
            ssize_t w = send(fd, p + pos + done, chunk - done, MSG_NOSIGNAL);
            if (w > 0) {
                done += (size_t)w;
            } else if (w < 0 && errno == EINTR) {
                continue;
            } else if (w < 0 && errno == EAGAIN) {
                if (wait_fd(fd, POLLOUT, deadline) != 1) return -1;
            } else {
                return -1;
            }
        }
        pos += chunk;
    }
    return 0;
}

/* Reads one reply line (without CRLF) within timeout ms; its length (> 0), or <= 0 on error/timeout/empty. */
static ssize_t sync_readline(int fd, char *buf, size_t size, long long timeout) {
    long long deadline = ms_now() + timeout;
    size_t n = 0;
    while (n + 1 < size) {
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r == 1) {
            if (ch == '\n') break;
            buf[n++] = ch;
        } else if (r == 0) {
            return -1;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN) {
            if (wait_fd(fd, POLLIN, deadline) != 1) return -1;
        } else {
            return -1;
        }
    }
    if (n && buf[n - 1] == '\r') n--;
    buf[n] = 0;
    return (ssize_t)n;
}

/* ---- the RESP pipeline ---- */

static void put_bulk(rdbw *b, const void *p, size_t n) {
    char hdr[32];
    int h = snprintf(hdr, sizeof(hdr), "$%zu\r\n", n);
    rdbw_raw(b, hdr, (size_t)h);
    rdbw_raw(b, p, n);
    rdbw_raw(b, "\r\n", 2);
}

static void put_count(rdbw *b, int n) {
    char hdr[32];
    int h = snprintf(hdr, sizeof(hdr), "*%d\r\n", n);
    rdbw_raw(b, hdr, (size_t)h);
}

static void put_bulk_ll(rdbw *b, long long v) {
    char s[LL_STR_SIZE];
    put_bulk(b, s, (size_t)ll2str(s, v));
}

/* A DUMP payload sent in the middle of the pipeline: after the first `at` bytes of the command text. */
typedef struct payload {
    size_t at, len;
    unsigned char *p;
} payload;

/* Sends the command text with the payloads spliced in at their places. */
static int send_pipeline(int fd, const rdbw *cmd, const payload *pls, int npl, long long timeout) {
    size_t pos = 0;
    for (int k = 0; k < npl; k++) {
        if (sync_write(fd, cmd->buf + pos, pls[k].at - pos, timeout) < 0 || sync_write(fd, pls[k].p, pls[k].len, timeout) < 0)
            return -1;
        pos = pls[k].at;
    }
    return sync_write(fd, cmd->buf + pos, cmd->len - pos, timeout);
}

static void cmd_migrate(client *c) {
    int copy = 0, replace = 0, first = 3, nkeys = 1;
    const arg *user = NULL, *pass = NULL;
    for (int j = 6; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (arg_is(&c->argv[j], "copy")) {
            copy = 1;
        } else if (arg_is(&c->argv[j], "replace")) {
            replace = 1;
        } else if (arg_is(&c->argv[j], "auth")) {
            if (!more) return reply_syntax_error(c);
            pass = &c->argv[++j];
        } else if (arg_is(&c->argv[j], "auth2")) {
            if (more < 2) return reply_syntax_error(c);
            user = &c->argv[++j];
            pass = &c->argv[++j];
        } else if (arg_is(&c->argv[j], "keys")) {
            if (c->argv[3].len != 0) {
                reply_error(c, "When using MIGRATE KEYS option, the key argument must be set to the empty string");
                return;
            }
            first = j + 1;
            nkeys = c->argc - j - 1;
            break;
        } else {
            return reply_syntax_error(c);
        }
    }
    long long timeout, dbid;
    if (!arg_ll(c, &c->argv[5], &timeout, NULL) || !arg_ll(c, &c->argv[4], &dbid, NULL)) return;
    if (timeout <= 0) timeout = 1000;

    /* the keys present (a key that does not exist is not an error: it may just have expired) */
    const arg **keys = s_malloc(sizeof(*keys) * (size_t)(nkeys ? nkeys : 1));
    int found = 0;
    for (int j = 0; j < nkeys; j++)
        if (db_lookup(c->db, c->argv[first + j].p, c->argv[first + j].len, 0, NULL)) keys[found++] = &c->argv[first + j];
    if (!found) {
        s_free(keys);
        reply_status(c, "NOKEY");
        return;
    }

    int may_retry = 1, npl = 0;
    payload *pls = s_malloc(sizeof(*pls) * (size_t)found);
    rdbw cmd;
    rdbw_init(&cmd, 0, 0, NULL, NULL);
    for (;;) {
        int write_error = 0, socket_error = 0, target_error = 0, sent = 0, acked = 0;
        cmd.len = 0;
        mconn *m = get_conn(c, &c->argv[1], &c->argv[2], timeout);
        if (!m) break;
        if (pass) {
            put_count(&cmd, user ? 3 : 2);
            put_bulk(&cmd, "AUTH", 4);
            if (user) put_bulk(&cmd, user->p, user->len);
            put_bulk(&cmd, pass->p, pass->len);
        }
        int select = m->last_dbid != dbid;
        if (select) {
            put_count(&cmd, 2);
            put_bulk(&cmd, "SELECT", 6);
            put_bulk_ll(&cmd, dbid);
        }
        /* one RESTORE per key still there, with its remaining TTL */
        for (int j = 0; j < found; j++) {
            kref r;
            if (!db_lookup(c->db, keys[j]->p, keys[j]->len, LOOKUP_NOTOUCH | LOOKUP_NOSTATS, &r)) continue;
            long long ttl = 0, when = e_ttl(r.e);
            if (when != -1) {
                ttl = when - mstime();
                if (ttl < 0) continue;
                if (ttl < 1) ttl = 1;
            }
            keys[sent++] = keys[j];
            put_count(&cmd, replace ? 5 : 4);
            put_bulk(&cmd, "RESTORE", 7);
            put_bulk(&cmd, keys[j]->p, keys[j]->len);
            put_bulk_ll(&cmd, ttl);
            /* the payload is sent from its own buffer, not copied into cmd (big values are big) */
            payload *pl = &pls[npl++];
            pl->p = rdb_dump_payload(r.e, &pl->len);
            char hdr[32];
            rdbw_raw(&cmd, hdr, (size_t)snprintf(hdr, sizeof(hdr), "$%zu\r\n", pl->len));
            pl->at = cmd.len;
            rdbw_raw(&cmd, "\r\n", 2);
            if (replace) put_bulk(&cmd, "REPLACE", 7);
        }
        found = sent;

        char b0[1024] = "", b1[1024] = "", b2[1024];
        errno = 0;
        if (send_pipeline(m->fd, &cmd, pls, npl, timeout) < 0) {
            write_error = 1;
        } else if ((pass && sync_readline(m->fd, b0, sizeof(b0), timeout) <= 0) ||
                   (select && sync_readline(m->fd, b1, sizeof(b1), timeout) <= 0)) {
            socket_error = 1;
        }
        int j = 0;
        if (!write_error && !socket_error) {
            for (; j < found; j++) {
                if (sync_readline(m->fd, b2, sizeof(b2), timeout) <= 0) {
                    socket_error = 1;
                    break;
                }
                if ((pass && b0[0] == '-') || (select && b1[0] == '-') || b2[0] == '-') {
                    if (!target_error) {
                        m->last_dbid = -1;
                        const char *e = (pass && b0[0] == '-') ? b0 : (select && b1[0] == '-') ? b1 : b2;
                        target_error = 1;
                        reply_errorf(c, "Target instance replied with error: %s", e + 1);
                    }
                } else if (!copy) {
                    /* acknowledged: the key leaves this server (announced as a deletion, propagated as DEL) */
                    db_delete_key(c->db, keys[j]->p, keys[j]->len);
                    keys[acked++] = keys[j];
                }
            }
        }
        int io_errno = errno; /* before anything else can change it */
        for (int k = 0; k < npl; k++) s_free(pls[k].p);
        npl = 0;
        /* a connection that failed before anything was processed is retried once, unless it timed out */
        int early = write_error || (socket_error && j == 0 && !target_error);
        if (acked) {
            const char **argv = s_malloc(sizeof(*argv) * (size_t)(acked + 1));
            size_t *lens = s_malloc(sizeof(*lens) * (size_t)(acked + 1));
            argv[0] = "DEL";
            lens[0] = 3;
            for (int k = 0; k < acked; k++) {
                argv[k + 1] = keys[k]->p;
                lens[k + 1] = keys[k]->len;
            }
            prop_rewrite_strs(c, acked + 1, argv, lens);
            s_free(argv);
            s_free(lens);
        }
        if (write_error || socket_error) {
            drop_conn(m);
            if (early && may_retry && io_errno != ETIMEDOUT && !acked) {
                may_retry = 0;
                continue;
            }
            if (!target_error)
                reply_errorf(c, "IOERR error or timeout %s to target instance", write_error ? "writing" : "reading");
            break;
        }
        if (!target_error) {
            m->last_dbid = dbid;
            reply_ok(c);
        }
        break;
    }
    rdbw_free(&cmd);
    s_free(pls);
    s_free(keys);
}

command dump_commands[] = {
    {"dump", cmd_dump},
    {"migrate", cmd_migrate},
    {0}};
