/* tls: see tls.h.
 *
 * Context building follows Redis 7.0's rules and log texts: a certificate and a key are required; a CA
 * (file or directory) is required when clients are verified (tls-auth-clients yes/optional) or TLS is
 * used for replication or cluster; tls-protocols names any of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3 (default
 * TLSv1.2 and TLSv1.3); SSLv2/3 and compression are always off; partial writes are on and the write
 * buffer may move between retries (the client's output buffer is reallocated as it grows). */
#include "net/tls.h"
#include "server/server.h"
#include "util/mem.h"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

tls_settings tlsc;

struct tls_conn {
    SSL *ssl;
    int ready;
    char err[128];
};

static SSL_CTX *server_ctx;

enum { P_TLS1 = 1, P_TLS1_1 = 2, P_TLS1_2 = 4, P_TLS1_3 = 8, P_DEFAULT = P_TLS1_2 | P_TLS1_3 };

static int parse_protocols(const char *s) {
    if (!s || !*s) return P_DEFAULT;
    int p = 0;
    char *copy = s_strdup(s), *save = NULL;
    for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (!strcasecmp(tok, "tlsv1")) p |= P_TLS1;
        else if (!strcasecmp(tok, "tlsv1.1")) p |= P_TLS1_1;
        else if (!strcasecmp(tok, "tlsv1.2")) p |= P_TLS1_2;
        else if (!strcasecmp(tok, "tlsv1.3")) p |= P_TLS1_3;
        else {
            serverLog(LL_WARNING, "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', "
                                  "'TLSv1.2' and 'TLSv1.3'.");
            p = -1;
            break;
        }
    }
    s_free(copy);
    return p;
}

static int password_cb(char *buf, int size, int rwflag, void *u) {
    (void)rwflag;
    const char *pass = u;
    if (!pass) return -1;
    size_t n = strlen(pass);
    if (n > (size_t)size) return -1;
    memcpy(buf, pass, n);
    return (int)n;
}

static const char *ssl_errstr(char *buf, size_t len) {
    unsigned long e = ERR_get_error();
    if (!e) snprintf(buf, len, "unknown error");
    else ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

static int set_dh_params(SSL_CTX *ctx, const char *path) {
    char eb[256];
    FILE *f = fopen(path, "r");
    if (!f) {
        serverLog(LL_WARNING, "Failed to load %s: %s", path, strerror(errno));
        return -1;
    }
    BIO *bio = BIO_new_fp(f, BIO_CLOSE);
    EVP_PKEY *dh = bio ? PEM_read_bio_Parameters(bio, NULL) : NULL;
    if (bio) BIO_free(bio);
    else fclose(f);
    if (!dh) {
        serverLog(LL_WARNING, "%s: failed to read DH params.", path);
        ERR_clear_error();
        return -1;
    }
    if (SSL_CTX_set0_tmp_dh_pkey(ctx, dh) <= 0) { /* owned by the context on success */
        serverLog(LL_WARNING, "Failed to load DH params file: %s: %s", path, ssl_errstr(eb, sizeof(eb)));
        EVP_PKEY_free(dh);
        return -1;
    }
    return 0;
}

static SSL_CTX *build_ctx(int protocols) {
    char eb[256];
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (!ctx) {
        serverLog(LL_WARNING, "Failed to create a TLS context: %s", ssl_errstr(eb, sizeof(eb)));
        return NULL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_COMPRESSION | SSL_OP_SINGLE_DH_USE |
                                 SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS);
#ifdef SSL_OP_NO_CLIENT_RENEGOTIATION
    SSL_CTX_set_options(ctx, SSL_OP_NO_CLIENT_RENEGOTIATION);
#endif
    if (!(protocols & P_TLS1)) SSL_CTX_set_options(ctx, SSL_OP_NO_TLSv1);
    if (!(protocols & P_TLS1_1)) SSL_CTX_set_options(ctx, SSL_OP_NO_TLSv1_1);
    if (!(protocols & P_TLS1_2)) SSL_CTX_set_options(ctx, SSL_OP_NO_TLSv1_2);
    if (!(protocols & P_TLS1_3)) SSL_CTX_set_options(ctx, SSL_OP_NO_TLSv1_3);
    /* The record buffers stay with the connection between requests (no SSL_MODE_RELEASE_BUFFERS, as Redis):
     * releasing them costs an allocation and a free of ~17 KB for each request and reply, and saves only
     * ~10 KB per idle client (an idle TLS client then holds ~39 KB against redis-server's ~41 KB). */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* One read(2) takes whatever the socket holds, several records at once, instead of a 5-byte header and
     * then the record: half the system calls for small requests (tls_conn_pending covers what it holds). */
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_default_passwd_cb(ctx, password_cb);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, tlsc.key_file_pass);
    if (SSL_CTX_use_certificate_chain_file(ctx, tlsc.cert_file) <= 0) {
        serverLog(LL_WARNING, "Failed to load certificate: %s: %s", tlsc.cert_file, ssl_errstr(eb, sizeof(eb)));
        goto error;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, tlsc.key_file, SSL_FILETYPE_PEM) <= 0) {
        serverLog(LL_WARNING, "Failed to load private key: %s: %s", tlsc.key_file, ssl_errstr(eb, sizeof(eb)));
        goto error;
    }
    if ((tlsc.ca_cert_file || tlsc.ca_cert_dir) &&
        SSL_CTX_load_verify_locations(ctx, tlsc.ca_cert_file, tlsc.ca_cert_dir) <= 0) {
        serverLog(LL_WARNING, "Failed to configure CA certificate(s) file/directory: %s", ssl_errstr(eb, sizeof(eb)));
        goto error;
    }
    if (tlsc.ciphers && !SSL_CTX_set_cipher_list(ctx, tlsc.ciphers)) {
        serverLog(LL_WARNING, "Failed to configure ciphers: %s", tlsc.ciphers);
        goto error;
    }
    if (tlsc.ciphersuites && !SSL_CTX_set_ciphersuites(ctx, tlsc.ciphersuites)) {
        serverLog(LL_WARNING, "Failed to configure ciphersuites: %s", tlsc.ciphersuites);
        goto error;
    }
    ERR_clear_error();
    return ctx;
error:
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}

int tls_wanted(void) { return tlsc.port || tlsc.replication || tlsc.cluster; }

int tls_configured(void) { return server_ctx != NULL; }

int tls_configure(void) {
    if (!tlsc.cert_file) {
        serverLog(LL_WARNING, "No tls-cert-file configured!");
        return -1;
    }
    if (!tlsc.key_file) {
        serverLog(LL_WARNING, "No tls-key-file configured!");
        return -1;
    }
    if ((tlsc.auth_clients != TLS_AUTH_NO || tlsc.cluster || tlsc.replication) && !tlsc.ca_cert_file &&
        !tlsc.ca_cert_dir) {
        serverLog(LL_WARNING, "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, "
                              "tls-replication or tls-auth-clients are enabled!");
        return -1;
    }
    int protocols = parse_protocols(tlsc.protocols);
    if (protocols == -1) return -1;
    SSL_CTX *ctx = build_ctx(protocols);
    if (!ctx) return -1;
    if (tlsc.session_caching) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
        SSL_CTX_sess_set_cache_size(ctx, tlsc.session_cache_size);
        SSL_CTX_set_timeout(ctx, tlsc.session_cache_timeout);
        SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"redis", 5);
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    }
    if (tlsc.prefer_server_ciphers) SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (tlsc.dh_params_file) {
        if (set_dh_params(ctx, tlsc.dh_params_file) != 0) {
            SSL_CTX_free(ctx);
            return -1;
        }
    } else {
        SSL_CTX_set_dh_auto(ctx, 1);
    }
    /* tls-client-cert-file/-key-file make the client-side context of replication: checked here already
     * so that a wrong pair is refused now rather than when replication starts. */
    if (tlsc.client_cert_file && tlsc.client_key_file) {
        char eb[256];
        SSL_CTX *cc = SSL_CTX_new(TLS_method());
        SSL_CTX_set_default_passwd_cb(cc, password_cb);
        SSL_CTX_set_default_passwd_cb_userdata(cc, tlsc.client_key_file_pass);
        int ok = SSL_CTX_use_certificate_chain_file(cc, tlsc.client_cert_file) > 0;
        if (!ok) serverLog(LL_WARNING, "Failed to load certificate: %s: %s", tlsc.client_cert_file, ssl_errstr(eb, sizeof(eb)));
        if (ok && SSL_CTX_use_PrivateKey_file(cc, tlsc.client_key_file, SSL_FILETYPE_PEM) <= 0) {
            serverLog(LL_WARNING, "Failed to load private key: %s: %s", tlsc.client_key_file, ssl_errstr(eb, sizeof(eb)));
            ok = 0;
        }
        SSL_CTX_free(cc);
        ERR_clear_error();
        if (!ok) {
            SSL_CTX_free(ctx);
            return -1;
        }
    }
    SSL_CTX_free(server_ctx);
    server_ctx = ctx;
    return 0;
}

tls_conn *tls_conn_accept(int fd) {
    if (!server_ctx) return NULL;
    SSL *ssl = SSL_new(server_ctx);
    if (!ssl) {
        ERR_clear_error();
        return NULL;
    }
    switch (tlsc.auth_clients) {
    case TLS_AUTH_NO: SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL); break;
    case TLS_AUTH_OPTIONAL: SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL); break;
    default: SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL); break;
    }
    SSL_set_fd(ssl, fd);
    SSL_set_accept_state(ssl);
    tls_conn *t = s_calloc(sizeof(*t));
    t->ssl = ssl;
    return t;
}

static void set_error(tls_conn *t, int code) {
    unsigned long e = ERR_peek_error();
    if (e) ERR_error_string_n(e, t->err, sizeof(t->err));
    else if (code == SSL_ERROR_SYSCALL && errno) snprintf(t->err, sizeof(t->err), "%s", strerror(errno));
    else snprintf(t->err, sizeof(t->err), "connection closed during the TLS exchange");
    ERR_clear_error();
}

int tls_conn_handshake(tls_conn *t) {
    if (t->ready) return TLS_HS_DONE;
    ERR_clear_error();
    int r = SSL_accept(t->ssl);
    if (r == 1) {
        t->ready = 1;
        return TLS_HS_DONE;
    }
    int code = SSL_get_error(t->ssl, r);
    if (code == SSL_ERROR_WANT_READ) return TLS_HS_WANT_READ;
    if (code == SSL_ERROR_WANT_WRITE) return TLS_HS_WANT_WRITE;
    set_error(t, code);
    return TLS_HS_ERROR;
}

int tls_conn_ready(const tls_conn *t) { return t->ready; }

/* What SSL_read/SSL_write's failure means as read(2)/write(2) would say it. */
static ssize_t io_failure(tls_conn *t, int r) {
    int code = SSL_get_error(t->ssl, r);
    switch (code) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: errno = EAGAIN; return -1;
    case SSL_ERROR_ZERO_RETURN: return 0; /* close_notify */
    case SSL_ERROR_SYSCALL:
        if (!errno) return 0; /* the peer went away without close_notify */
        ERR_clear_error();
        return -1;
    default:
        set_error(t, code);
        errno = ECONNRESET;
        return -1;
    }
}

ssize_t tls_conn_read(tls_conn *t, void *buf, size_t len) {
    if (len > INT32_MAX) len = INT32_MAX;
    ERR_clear_error();
    errno = 0;
    int r = SSL_read(t->ssl, buf, (int)len);
    return r > 0 ? r : io_failure(t, r);
}

ssize_t tls_conn_write(tls_conn *t, const void *buf, size_t len) {
    if (len == 0) return 0;
    if (len > INT32_MAX) len = INT32_MAX;
    ERR_clear_error();
    errno = 0;
    int r = SSL_write(t->ssl, buf, (int)len);
    if (r > 0) return r;
    ssize_t f = io_failure(t, r);
    if (f == 0) errno = EPIPE, f = -1; /* nothing written on a closed connection is an error for a writer */
    return f;
}

int tls_conn_pending(const tls_conn *t) { return SSL_has_pending(t->ssl); }

const char *tls_conn_error(const tls_conn *t) { return t->err[0] ? t->err : "unknown error"; }

void tls_conn_free(tls_conn *t) {
    if (!t) return;
    SSL_free(t->ssl);
    s_free(t);
}
