/* exec: command execution and reply printing.
 *
 * Each repetition sends the command and reads exactly one reply, except for
 * the subscribe family (one reply per channel, then messages forever) and
 * MONITOR (then one status line per command seen).  Commands whose reply is
 * preformatted text (INFO, CLIENT LIST, ...) print it verbatim in every mode,
 * as redis-cli does.  In interactive mode a SIGINT during streaming sets
 * conn_interrupted; the connection, then in a special state, is dropped and
 * the next command reconnects. */
#include "cli/exec.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli/buf.h"
#include "cli/config.h"
#include "cli/output.h"
#include "cli/session.h"

static int eq(const char *a, const char *b) {
    return strcasecmp(a, b) == 0;
}

static int verbatim_command(const argv_t *a) {
    const char *c = a->argv[0];
    const char *s = a->argc >= 2 ? a->argv[1] : "";
    if (eq(c, "info") || eq(c, "lolwut")) return 1;
    if (a->argc >= 2 && eq(c, "debug") &&
        (eq(s, "htstats") || eq(s, "htstats-key") || eq(s, "client-eviction")))
        return 1;
    if (a->argc >= 2 && eq(c, "memory") && (eq(s, "malloc-stats") || eq(s, "doctor"))) return 1;
    if (a->argc == 2 && eq(c, "cluster") && (eq(s, "nodes") || eq(s, "info"))) return 1;
    if (a->argc >= 2 && eq(c, "client") && (eq(s, "list") || eq(s, "info"))) return 1;
    if (a->argc == 3 && eq(c, "latency") && eq(s, "graph")) return 1;
    if (a->argc == 2 && eq(c, "latency") && eq(s, "doctor")) return 1;
    return 0;
}

int conn_is_dead(conn *c) {
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0) return 0;
    if (p.revents & (POLLHUP | POLLERR)) return 1;
    char ch;
    ssize_t n = recv(c->fd, &ch, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static void print_reply(const reply *r, int raw_text) {
    buf b = {0};
    if (raw_text)
        fmt_raw(&b, r, cfg.mb_delim);
    else
        fmt_reply(&b, r, cfg.output, cfg.mb_delim, cfg.cmd_delim);
    if (b.len) fwrite(b.p, 1, b.len, stdout);
    fflush(stdout);
    buf_free(&b);
}

static void sleep_secs(double s) {
    if (s <= 0) return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !conn_interrupted) {
    }
}

static void lost(conn **cp) {
    fprintf(stderr, "Error: %s\n", (*cp)->err[0] ? (*cp)->err : "Server closed the connection");
    conn_close(*cp);
    *cp = NULL;
}

/* Out-of-band RESP3 pushes that arrive before a command's reply are shown
 * (when --show-pushes is on, the default on a terminal) and skipped. */
static reply *read_skipping_pushes(conn *c) {
    for (;;) {
        reply *r = conn_read(c);
        if (!r || r->type != R_PUSH) return r;
        if (cfg.show_pushes) print_reply(r, 0);
        reply_free(r);
    }
}

/* Stream replies until interrupted or the connection ends. */
static int stream(conn **cp, int raw_text) {
    for (;;) {
        reply *r = conn_read(*cp);
        if (!r) {
            if (conn_interrupted) {
                /* the connection is in subscriber/monitor state: start afresh */
                conn_close(*cp);
                *cp = session_connect(1);
                return 0;
            }
            lost(cp);
            return -1;
        }
        print_reply(r, raw_text);
        reply_free(r);
    }
}

int exec_command(conn **cp, const argv_t *a, long long repeat, int interactive) {
    if (a->argc == 0) return 0;
    const char *cmd = a->argv[0];
    int raw_text = verbatim_command(a);
    int subscribe = eq(cmd, "subscribe") || eq(cmd, "psubscribe") || eq(cmd, "ssubscribe");
    int monitor = eq(cmd, "monitor");
    int rc = 0;
    if (*cp && interactive && conn_is_dead(*cp)) {
        conn_close(*cp);
        *cp = NULL;
    }
    if (!*cp) {
        *cp = session_connect(0);
        if (!*cp) return -1;
    }
    for (long long i = 0; repeat < 0 || i < repeat; i++) {
        if (conn_interrupted) break;
        conn *c = *cp;
        if (conn_send(c, a->argc, a->argv, a->lens) < 0) {
            lost(cp);
            return -1;
        }
        if (subscribe) {
            if (cfg.output == OUT_STANDARD) {
                printf("Reading messages... (press Ctrl-C to quit)\n");
                fflush(stdout);
            }
            return stream(cp, 0);
        }
        reply *r = read_skipping_pushes(c);
        if (!r && eq(cmd, "shutdown")) {
            /* the server went away as asked: success, like redis-cli */
            conn_close(*cp);
            *cp = NULL;
            return 0;
        }
        if (!r) {
            lost(cp);
            return -1;
        }
        if (r->type == R_ERROR && cfg.exit_on_err) {
            fprintf(stderr, "%s\n", r->str);
            rc = 1;
        } else {
            print_reply(r, raw_text);
        }
        int is_err = r->type == R_ERROR;
        if (!is_err && eq(cmd, "select") && a->argc == 2) cfg.dbnum = atoi(a->argv[1]);
        if (!is_err && eq(cmd, "auth") && a->argc >= 2) {
            free(cfg.auth);
            cfg.auth = xstrdup(a->argv[a->argc - 1]);
            if (a->argc == 3) {
                free(cfg.user);
                cfg.user = xstrdup(a->argv[1]);
            }
        }
        if (!is_err && eq(cmd, "hello") && a->argc >= 2) cfg.resp3 = atoi(a->argv[1]) == 3;
        reply_free(r);
        if (monitor && !is_err) return stream(cp, 0);
        if (cfg.interval > 0 && (repeat < 0 || i + 1 < repeat)) sleep_secs(cfg.interval);
    }
    return rc;
}
