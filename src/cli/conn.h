/* conn: one blocking connection to the server (TCP or unix socket, plain or
 * TLS with --tls), with a reply reader, plus the session setup redis-cli does
 * after connecting (AUTH, HELLO 3, SELECT). */
#ifndef SARDINE_CLI_CONN_H
#define SARDINE_CLI_CONN_H

#include <signal.h>
#include <stddef.h>

#include "cli/resp.h"

/* Set by an interactive SIGINT handler: blocking reads give up with EINTR. */
extern volatile sig_atomic_t conn_interrupted;

typedef struct conn {
    int fd;
    void *ssl; /* an OpenSSL SSL when --tls, else NULL */
    resp_reader rd;
    char err[256];
    int eof; /* server closed the connection */
} conn;

/* Connect using the global configuration (host/port or unix socket), then negotiate TLS when cfg.tls.
 * Returns NULL and fills errbuf ("Could not connect to Redis at ...", "Could not negotiate a TLS
 * connection: ...") on failure. */
conn *conn_open(const char *host, int port, const char *sock, char *errbuf, size_t errlen);
void conn_close(conn *c);
/* Bytes of the next replies already read from the socket and held decrypted by TLS (poll cannot see them). */
int conn_pending(conn *c);
/* Write all bytes (blocking).  0 on success, -1 on error (c->err set). */
int conn_write(conn *c, const char *p, size_t n);
/* Encode and send one command as a RESP multibulk. */
int conn_send(conn *c, int argc, char **argv, const size_t *lens);
/* Read one complete reply (blocking).  NULL on error/EOF with c->err set. */
reply *conn_read(conn *c);
/* Send and read; NULL on connection error. */
reply *conn_cmd(conn *c, int argc, char **argv, const size_t *lens);
/* Convenience: space-separated words, no quoting (for internal commands). */
reply *conn_cmdf(conn *c, const char *words);
/* Encode argv into b as a RESP multibulk. */
struct buf;
void resp_encode(struct buf *b, int argc, char **argv, const size_t *lens);

#endif
