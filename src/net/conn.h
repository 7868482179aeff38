/* conn: a client connection's byte stream, plain or TLS.
 *
 * read/write/close with the semantics of read(2)/write(2) on a non-blocking socket (-1 with EAGAIN when
 * the socket must be waited for, 0 from read on a closed connection), whatever the transport.  A plain
 * connection pays one well-predicted pointer test (client.tls is NULL) and calls the system directly;
 * a TLS connection goes through net/tls.c.  The TLS handshake (want-read / want-write) is driven by
 * net/networking.c from the socket's events before the first read. */
#ifndef SARDINE_CONN_H
#define SARDINE_CONN_H
#include "net/client.h"
#include "net/tls.h"
#include <unistd.h>

static inline ssize_t conn_read(client *c, void *buf, size_t len) {
    if (__builtin_expect(c->tls == NULL, 1)) return read(c->fd, buf, len);
    return tls_conn_read(c->tls, buf, len);
}

static inline ssize_t conn_write(client *c, const void *buf, size_t len) {
    if (__builtin_expect(c->tls == NULL, 1)) return write(c->fd, buf, len);
    return tls_conn_write(c->tls, buf, len);
}

/* Decrypted bytes held by the TLS layer that the socket will not signal again. */
static inline int conn_pending(const client *c) { return c->tls && tls_conn_pending(c->tls) > 0; }

static inline void conn_close(client *c) {
    if (c->tls) {
        tls_conn_free(c->tls);
        c->tls = NULL;
    }
    close(c->fd);
}
#endif
