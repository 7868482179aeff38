/* config: the options of one sardine-cli run, parsed once by main.c and then
 * read (never written) by the modes. */
#ifndef SARDINE_CLI_CONFIG_H
#define SARDINE_CLI_CONFIG_H

#include <stddef.h>

typedef struct cli_config {
    char *host;
    int port;
    char *sock;
    char *user;
    char *auth;
    int auth_from_cli; /* -a or a password in -u: warn */
    int dbnum;
    int resp3;
    int resp2_forced; /* -2 given: keeps --json on RESP2 */
    long long repeat;
    double interval; /* seconds; -i */
    int interval_set;
    int stdin_last;  /* -x */
    int exit_on_err; /* -e */
    int output;      /* OUT_* */
    int no_auth_warning;
    int verbose;
    int show_pushes;
    char *mb_delim, *cmd_delim;
    /* mass insertion / import */
    int pipe;
    int pipe_timeout;
    size_t window; /* max bytes in flight */
    char *import_file;
    char *import_format;
    int import_header;
    char *import_cmd;
    /* diagnostics */
    int scan, bigkeys, memkeys, hotkeys;
    char *pattern;
    long scan_count;
    char *scan_type;
    long memkeys_samples;
    int top_keys;
    int latency, latency_history, latency_dist, stat;
    double intrinsic_secs;
    int intrinsic;
    char *rdb;
    char *eval_file;
    /* TLS (redis-cli's --tls options) */
    int tls, insecure;
    char *sni, *cacert, *cacertdir, *cert, *key, *tls_ciphers, *tls_ciphersuites;
} cli_config;

extern cli_config cfg;

#endif
