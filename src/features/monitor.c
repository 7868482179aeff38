/* monitor: see monitor.h.  The monitors are a dense array (a client's
 * position is found by a scan: monitors are few). */
#include "features/monitor.h"
#include "commands/command.h"
#include "commands/commands.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

static client **monitors;
static size_t nmon, capmon;

size_t monitor_count(void) { return nmon; }

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n) {
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = s_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

/* Redis's sdscatrepr: a quoted string with \\ \" \n \r \t \a \b and \xHH for the rest of the unprintable. */
static void sb_repr(sbuf *b, const char *p, size_t n) {
    sb_add(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        char esc[5];
        switch (ch) {
        case '\\': sb_add(b, "\\\\", 2); break;
        case '"': sb_add(b, "\\\"", 2); break;
        case '\n': sb_add(b, "\\n", 2); break;
        case '\r': sb_add(b, "\\r", 2); break;
        case '\t': sb_add(b, "\\t", 2); break;
        case '\a': sb_add(b, "\\a", 2); break;
        case '\b': sb_add(b, "\\b", 2); break;
        default:
            if (isprint(ch)) {
                sb_add(b, (const char *)&ch, 1);
            } else {
                snprintf(esc, sizeof(esc), "\\x%02x", ch);
                sb_add(b, esc, 4);
            }
        }
    }
    sb_add(b, "\"", 1);
}

/* Whether user/pass authenticate (the default user only; any password without requirepass). */
static int default_user_password(const arg *user, const arg *pass) {
    if (!(user->len == 7 && memcmp(user->p, "default", 7) == 0)) return 0;
    if (!srv.requirepass || !srv.requirepass[0]) return 1;
    return pass->len == strlen(srv.requirepass) && memcmp(pass->p, srv.requirepass, pass->len) == 0;
}

/* The arguments Redis 7.0 has redacted by the time the command returns (as far as it parsed them). */
static void redactions(const struct command *cmd, int argc, const arg *argv, unsigned char *red) {
    if (!cmd) return;
    const char *name = cmd->fullname;
    if (!strcmp(name, "auth")) {
        if (argc > 3) return; /* a syntax error before anything was redacted */
        red[1] = 1;
        if (argc == 3) red[2] = 1;
    } else if (!strcmp(name, "hello")) {
        if (argc >= 2) {
            long long v;
            if (!str2ll(argv[1].p, argv[1].len, &v) || v < 2 || v > 3) return;
        }
        /* Redis authenticates and names as it parses: a failed AUTH or a bad name stops it there */
        for (int j = 2; j < argc; j++) {
            int more = argc - 1 - j;
            if (arg_is(&argv[j], "auth") && more >= 2) {
                red[j + 1] = red[j + 2] = 1;
                if (!default_user_password(&argv[j + 1], &argv[j + 2])) return;
                j += 2;
            } else if (arg_is(&argv[j], "setname") && more) {
                j++;
                for (size_t i = 0; i < argv[j].len; i++)
                    if (argv[j].p[i] < '!' || argv[j].p[i] > '~') return;
            } else {
                return;
            }
        }
    } else if (!strcmp(name, "migrate")) {
        for (int j = 6; j < argc; j++) {
            int more = argc - 1 - j;
            if (arg_is(&argv[j], "copy") || arg_is(&argv[j], "replace")) continue;
            if (arg_is(&argv[j], "auth")) {
                if (!more) return;
                red[++j] = 1;
            } else if (arg_is(&argv[j], "auth2")) {
                if (more < 2) return;
                red[++j] = 1;
                red[++j] = 1;
            } else {
                return; /* KEYS ends the options; anything else is a syntax error */
            }
        }
    }
}

void monitor_feed(client *c, const struct command *cmd, int argc, const arg *argv) {
    if (!nmon || srv.loading) return;
    sbuf b = {0};
    char head[160];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    int n;
    int dbid = c->db ? c->db->id : 0;
    if (c->xflags & CLIENT_SCRIPT) n = snprintf(head, sizeof(head), "+%ld.%06ld [%d lua] ", (long)tv.tv_sec, (long)tv.tv_usec, dbid);
    else if (c->flags & CLIENT_UNIX)
        n = snprintf(head, sizeof(head), "+%ld.%06ld [%d unix:%s] ", (long)tv.tv_sec, (long)tv.tv_usec, dbid,
                     srv.unixsocket ? srv.unixsocket : "");
    else
        n = snprintf(head, sizeof(head), "+%ld.%06ld [%d %s] ", (long)tv.tv_sec, (long)tv.tv_usec, dbid, c->addr);
    sb_add(&b, head, n > 0 && (size_t)n < sizeof(head) ? (size_t)n : sizeof(head) - 1);
    unsigned char small[64], *red = argc <= 64 ? small : s_malloc((size_t)argc);
    memset(red, 0, (size_t)argc);
    redactions(cmd, argc, argv, red);
    for (int j = 0; j < argc; j++) {
        if (red[j]) sb_add(&b, "\"(redacted)\"", 12);
        else sb_repr(&b, argv[j].p, argv[j].len);
        if (j != argc - 1) sb_add(&b, " ", 1);
    }
    sb_add(&b, "\r\n", 2);
    if (red != small) s_free(red);
    for (size_t i = 0; i < nmon; i++) reply_raw(monitors[i], b.p, b.len);
    s_free(b.p);
}

void monitor_after_call(client *c, const struct command *cmd) {
    if (!nmon) return;
    if (cmd->flags & (CMD_SKIP_MONITOR | CMD_ADMIN)) return;
    if (c->flags & CLIENT_REPROCESSING) return; /* shown when it blocked */
    if (c->fd < 0 && !(c->xflags & CLIENT_SCRIPT)) return; /* the AOF loader's client (Redis is "loading" then) */
    monitor_feed(c, cmd, c->argc, c->argv);
}

void monitor_remove(client *c) {
    if (!(c->xflags & CLIENT_MONITOR)) return;
    for (size_t i = 0; i < nmon; i++)
        if (monitors[i] == c) {
            memmove(monitors + i, monitors + i + 1, (nmon - i - 1) * sizeof(*monitors));
            nmon--;
            break;
        }
    c->xflags &= ~CLIENT_MONITOR;
}

void cmd_monitor(client *c) {
    if (srv.in_exec) { /* a transaction's client expects one reply per command */
        reply_error(c, "ERR MONITOR isn't allowed for DENY BLOCKING client");
        return;
    }
    if (c->xflags & CLIENT_MONITOR) return; /* already: ignored, no reply (as Redis) */
    if (nmon == capmon) {
        capmon = capmon ? capmon * 2 : 4;
        monitors = s_realloc(monitors, capmon * sizeof(*monitors));
    }
    monitors[nmon++] = c;
    c->xflags |= CLIENT_MONITOR;
    reply_ok(c);
}
