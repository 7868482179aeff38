/* conn: blocking client connection.
 *
 * The socket stays in blocking mode; conn_read() loops read() into the
 * reader's buffer until resp_reader_next() yields a whole reply, so replies
 * larger than any single read are handled without rescans.  A closed or
 * failed socket sets c->err and c->eof; callers decide whether to reconnect.
 *
 * TLS (--tls): one client context for the run, built as redis-cli builds it (peer verified against
 * --cacert/--cacertdir or the system's CAs unless --insecure, no host name check, optional client
 * certificate and SNI), and a blocking SSL_connect after the TCP connect.  Reads and writes then go
 * through SSL_read/SSL_write; bytes OpenSSL holds already are read before polling the socket. */
#include "cli/conn.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "cli/buf.h"
#include "cli/config.h"

volatile sig_atomic_t conn_interrupted;

static SSL_CTX *tls_ctx;

static SSL_CTX *tls_context(const char **err) {
    if (tls_ctx) return tls_ctx;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        *err = "Failed to create SSL_CTX";
        return NULL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3);
    SSL_CTX_set_verify(ctx, cfg.insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    if (cfg.cacert || cfg.cacertdir) {
        if (!SSL_CTX_load_verify_locations(ctx, cfg.cacert, cfg.cacertdir)) *err = "Invalid CA Certificate File/Directory";
    } else if (!SSL_CTX_set_default_verify_paths(ctx)) {
        *err = "Failed to use default CA paths";
    }
    if (!*err && cfg.cert && !SSL_CTX_use_certificate_chain_file(ctx, cfg.cert)) *err = "Invalid client certificate";
    if (!*err && cfg.key && !SSL_CTX_use_PrivateKey_file(ctx, cfg.key, SSL_FILETYPE_PEM)) *err = "Invalid private key";
    if (!*err && cfg.tls_ciphers && !SSL_CTX_set_cipher_list(ctx, cfg.tls_ciphers))
        *err = "Error while configuring ciphers";
    if (!*err && cfg.tls_ciphersuites && !SSL_CTX_set_ciphersuites(ctx, cfg.tls_ciphersuites))
        *err = "Error while setting cypher suites";
    if (*err) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return tls_ctx = ctx;
}

/* The TLS handshake on a connected blocking socket; NULL with the reason in errbuf. */
static SSL *tls_connect(int fd, char *errbuf, size_t errlen) {
    const char *err = NULL;
    SSL_CTX *ctx = tls_context(&err);
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    if (ctx && !ssl) err = "Failed to create SSL object";
    if (ssl && cfg.sni && !SSL_set_tlsext_host_name(ssl, cfg.sni)) err = "Failed to configure SNI";
    if (err) {
        snprintf(errbuf, errlen, "Could not negotiate a TLS connection: %s", err);
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_fd(ssl, fd);
    ERR_clear_error();
    if (SSL_connect(ssl) != 1) {
        unsigned long e = ERR_get_error();
        char why[200];
        if (e) ERR_error_string_n(e, why, sizeof(why));
        else snprintf(why, sizeof(why), "%s", errno ? strerror(errno) : "connection closed");
        snprintf(errbuf, errlen, "Could not negotiate a TLS connection: SSL_connect failed: %s", why);
        ERR_clear_error();
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

static ssize_t raw_read(conn *c, void *p, size_t n) {
    if (!c->ssl) return read(c->fd, p, n);
    ERR_clear_error();
    errno = 0;
    int r = SSL_read(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
    if (r > 0) return r;
    int code = SSL_get_error(c->ssl, r);
    if (code == SSL_ERROR_ZERO_RETURN || (code == SSL_ERROR_SYSCALL && !errno)) return 0;
    if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) {
        errno = EINTR; /* renegotiation or a post-handshake message: try again */
        return -1;
    }
    if (code != SSL_ERROR_SYSCALL) errno = ECONNRESET;
    ERR_clear_error();
    return -1;
}

static ssize_t raw_write(conn *c, const void *p, size_t n) {
    if (!c->ssl) return write(c->fd, p, n);
    ERR_clear_error();
    errno = 0;
    int r = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
    if (r > 0) return r;
    int code = SSL_get_error(c->ssl, r);
    if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) {
        errno = EINTR;
        return -1;
    }
    if (!errno) errno = code == SSL_ERROR_SYSCALL ? EPIPE : ECONNRESET;
    ERR_clear_error();
    return -1;
}

int conn_pending(conn *c) { return c->ssl && SSL_pending(c->ssl) > 0; }

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
    SSL *ssl = NULL;
    if (cfg.tls && !(ssl = tls_connect(fd, errbuf, errlen))) {
        close(fd);
        return NULL;
    }
    conn *c = xmalloc(sizeof(*c));
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    c->ssl = ssl;
    resp_reader_init(&c->rd);
    return c;
}

void conn_close(conn *c) {
    if (!c) return;
    if (c->ssl) SSL_free(c->ssl);
    if (c->fd >= 0) close(c->fd);
    resp_reader_free(&c->rd);
    free(c);
}

int conn_write(conn *c, const char *p, size_t n) {
    while (n) {
        ssize_t w = raw_write(c, p, n);
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
        if (!conn_pending(c)) {
            struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
            int pr = poll(&pfd, 1, 200);
            if (pr == 0 || (pr < 0 && errno == EINTR)) continue;
        }
        size_t avail;
        char *p = resp_reader_space(&c->rd, 16384, &avail);
        ssize_t n = raw_read(c, p, avail);
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
