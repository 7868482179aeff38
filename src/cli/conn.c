/* conn: blocking client connection.
 *
 * The socket stays in blocking mode; conn_read() loops read() into the
 * reader's buffer until resp_reader_next() yields a whole reply, so replies
 * larger than any single read are handled without rescans.  A closed or
 * failed socket sets c->err and c->eof; callers decide whether to reconnect. */
#include "cli/conn.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/buf.h"

volatile sig_atomic_t conn_interrupted;

conn *conn_open(const char *host, int port, const char *sock, char *errbuf, size_t errlen) {
    int fd = -1;
    if (sock) {
        struct sockaddr_un sa;
        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            snprintf(errbuf, errlen, "Could not connect to Redis at %s: %s", sock, strerror(errno));
            if (fd >= 0) close(fd);
            return NULL;
        }
    } else {
        struct addrinfo hints, *res = NULL, *ai;
        char portstr[16];
        memset(&hints, 0, sizeof(hints));
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        snprintf(portstr, sizeof(portstr), "%d", port);
        int rc = getaddrinfo(host, portstr, &hints, &res);
        if (rc != 0) {
            snprintf(errbuf, errlen, "Could not connect to Redis at %s:%d: %s", host, port, gai_strerror(rc));
            return NULL;
        }
        int saved = 0;
        for (ai = res; ai; ai = ai->ai_next) {
            fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
            if (fd < 0) {
                saved = errno;
                continue;
            }
            if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
            saved = errno;
            close(fd);
            fd = -1;
        }
        freeaddrinfo(res);
        if (fd < 0) {
            snprintf(errbuf, errlen, "Could not connect to Redis at %s:%d: %s", host, port, strerror(saved));
            return NULL;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    }
    conn *c = xmalloc(sizeof(*c));
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    resp_reader_init(&c->rd);
    return c;
}

void conn_close(conn *c) {
    if (!c) return;
    if (c->fd >= 0) close(c->fd);
    resp_reader_free(&c->rd);
    free(c);
}

int conn_write(conn *c, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(c->fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            snprintf(c->err, sizeof(c->err), "%s", strerror(errno));
            c->eof = 1;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

void resp_encode(buf *b, int argc, char **argv, const size_t *lens) {
    buf_printf(b, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        size_t l = lens ? lens[i] : strlen(argv[i]);
        buf_printf(b, "$%zu\r\n", l);
        buf_add(b, argv[i], l);
        buf_add(b, "\r\n", 2);
    }
}

int conn_send(conn *c, int argc, char **argv, const size_t *lens) {
    buf b = {0};
    resp_encode(&b, argc, argv, lens);
    int rc = conn_write(c, b.p, b.len);
    buf_free(&b);
    return rc;
}

reply *conn_read(conn *c) {
    for (;;) {
        reply *r = NULL;
        int rc = resp_reader_next(&c->rd, &r);
        if (rc == 1) return r;
        if (rc < 0) {
            snprintf(c->err, sizeof(c->err), "%s", c->rd.err);
            c->eof = 1;
            return NULL;
        }
        /* A SIGINT that lands outside read() must not leave us blocked in
         * the next one: check the flag, and wait in short poll() slices. */
        if (conn_interrupted) {
            snprintf(c->err, sizeof(c->err), "Interrupted");
            return NULL;
        }
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, 200);
        if (pr == 0 || (pr < 0 && errno == EINTR)) continue;
        size_t avail;
        char *p = resp_reader_space(&c->rd, 16384, &avail);
        ssize_t n = read(c->fd, p, avail);
        if (n < 0 && errno == EINTR && !conn_interrupted) continue;
        if (n <= 0) {
            snprintf(c->err, sizeof(c->err), "%s", n == 0 ? "Server closed the connection" : strerror(errno));
            c->eof = 1;
            return NULL;
        }
        resp_reader_commit(&c->rd, (size_t)n);
    }
}

reply *conn_cmd(conn *c, int argc, char **argv, const size_t *lens) {
    if (conn_send(c, argc, argv, lens) < 0) return NULL;
    return conn_read(c);
}

reply *conn_cmdf(conn *c, const char *words) {
    char *copy = xstrdup(words);
    char *argv[32];
    int argc = 0;
    for (char *tok = strtok(copy, " "); tok && argc < 32; tok = strtok(NULL, " ")) argv[argc++] = tok;
    reply *r = conn_cmd(c, argc, argv, NULL);
    free(copy);
    return r;
}
