/* session: connection setup in redis-cli's order: connect, AUTH, SELECT,
 * then HELLO 3 when RESP3 was asked for.  Setup failures other than the
 * connection itself are reported on stderr but do not close the session,
 * like redis-cli ("AUTH failed: ..."). */
#include "cli/session.h"

#include <stdio.h>
#include <string.h>

#include "cli/config.h"

conn *session_connect(int quiet) {
    char err[300];
    conn *c = conn_open(cfg.host, cfg.port, cfg.sock, err, sizeof(err));
    if (!c) {
        if (!quiet) fprintf(stderr, "%s\n", err);
        return NULL;
    }
    if (cfg.auth) {
        char *argv[3] = {"AUTH", cfg.user, cfg.auth};
        reply *r = cfg.user ? conn_cmd(c, 3, argv, NULL) : (argv[1] = cfg.auth, conn_cmd(c, 2, argv, NULL));
        if (!r) goto lost;
        if (r->type == R_ERROR) fprintf(stderr, "AUTH failed: %s\n", r->str);
        reply_free(r);
    }
    if (cfg.dbnum != 0) {
        char db[24];
        snprintf(db, sizeof(db), "%d", cfg.dbnum);
        char *argv[2] = {"SELECT", db};
        reply *r = conn_cmd(c, 2, argv, NULL);
        if (!r) goto lost;
        if (r->type == R_ERROR) fprintf(stderr, "SELECT %d failed: %s\n", cfg.dbnum, r->str);
        reply_free(r);
    }
    if (cfg.resp3) {
        reply *r = conn_cmdf(c, "HELLO 3");
        if (!r) goto lost;
        if (r->type == R_ERROR) fprintf(stderr, "HELLO 3 failed: %s\n", r->str);
        reply_free(r);
    }
    return c;
lost:
    if (!quiet) fprintf(stderr, "Error: %s\n", c->err);
    conn_close(c);
    return NULL;
}
