/* tls: TLS connections with OpenSSL, and the server's TLS context.
 *
 * The settings (`tlsc`) are written by the config layer with Redis 7.0's tls-* directives; tls_configure()
 * builds a fresh SSL_CTX from them and swaps it in only when every file loaded and every option was
 * accepted, so a failed reload (CONFIG SET tls-cert-file /missing) keeps serving with the old context.
 * Connections already open keep the context they were made with (OpenSSL reference-counts it).
 *
 * One connection is one SSL object on a non-blocking socket.  The handshake runs from the socket's
 * readable/writable events (tls_conn_handshake says which one it waits for); afterwards
 * tls_conn_read/tls_conn_write behave like read(2)/write(2) on a non-blocking socket: -1 with errno
 * EAGAIN when OpenSSL needs the socket again, 0 on a clean close.  OpenSSL may hold decrypted bytes the
 * socket no longer signals (tls_conn_pending): the reader drains them before going back to epoll.
 *
 * The plain path never comes here: net/conn.h tests one pointer (client.tls) before calling read/write. */
#ifndef SARDINE_TLS_H
#define SARDINE_TLS_H
#include <stddef.h>
#include <sys/types.h>

enum { TLS_AUTH_NO = 0, TLS_AUTH_YES = 1, TLS_AUTH_OPTIONAL = 2 };

typedef struct tls_settings {
    int port;
    char *cert_file, *key_file, *key_file_pass;
    char *client_cert_file, *client_key_file, *client_key_file_pass; /* accepted; used by replication later */
    char *dh_params_file, *ca_cert_file, *ca_cert_dir;
    char *protocols, *ciphers, *ciphersuites;
    int auth_clients; /* TLS_AUTH_*, read at each accept (as Redis: no reload needed) */
    int prefer_server_ciphers, session_caching, session_cache_size, session_cache_timeout;
    int replication, cluster; /* accepted; used later */
    long long handshake_timeout_ms; /* Sardine's own: a handshake not done by then is closed */
} tls_settings;
extern tls_settings tlsc;

/* Builds a new context from tlsc; 0 and swapped in, or -1 with the reason logged (old context kept). */
int tls_configure(void);
int tls_configured(void);
/* Whether a context is needed at all (tls-port, tls-replication or tls-cluster set), as Redis's reload. */
int tls_wanted(void);

typedef struct tls_conn tls_conn;
enum { TLS_HS_DONE = 0, TLS_HS_WANT_READ = 1, TLS_HS_WANT_WRITE = 2, TLS_HS_ERROR = -1 };
/* A server-side connection on an accepted socket, verifying the peer as tls-auth-clients says; NULL
 * when there is no context. */
tls_conn *tls_conn_accept(int fd);
int tls_conn_handshake(tls_conn *t);
int tls_conn_ready(const tls_conn *t);
ssize_t tls_conn_read(tls_conn *t, void *buf, size_t len);
ssize_t tls_conn_write(tls_conn *t, const void *buf, size_t len);
/* Whether OpenSSL holds bytes of this connection, decrypted or not yet (read-ahead). */
int tls_conn_pending(const tls_conn *t);
/* The last error of this connection (a handshake's), for the log. */
const char *tls_conn_error(const tls_conn *t);
void tls_conn_free(tls_conn *t);
#endif
