/* reply: see reply.h. */
#include "protocol/reply.h"
#include "server/server.h"
#include "util/dict.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int reply_enabled(const client *c) {
    if (c->flags & CLIENT_PUSHING) return !(c->flags & CLIENT_CLOSE_ASAP) && c->fd != -2;
    return !(c->flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP | CLIENT_CLOSE_ASAP)) && c->fd != -2;
}

static char *reserve(client *c, size_t n) {
    if (c->olen + n > c->ocap) {
        if (c->opos && c->opos == c->olen) c->opos = c->olen = 0;
        if (c->olen + n > c->ocap) {
            size_t cap = c->ocap ? c->ocap : 1024;
            while (cap < c->olen + n) cap *= 2;
            c->obuf = cbuf_realloc(c->obuf, cap);
            c->ocap = cap;
        }
    }
    char *p = c->obuf + c->olen;
    c->olen += n;
    /* As Redis, limits are checked on every append beyond the first 16 KiB (net/networking.c). */
    if (c->olen - c->opos > 16384) client_check_output_limits(c);
    return p;
}

static void pending(client *c) {
    if (!(c->flags & CLIENT_PENDING_WRITE)) {
        c->flags |= CLIENT_PENDING_WRITE;
        client_queue_write(c);
    }
}

void reply_raw(client *c, const char *s, size_t len) {
    if (!reply_enabled(c)) return;
    memcpy(reserve(c, len), s, len);
    pending(c);
}

/* "<type><n>\r\n" */
static void header(client *c, char type, long long n) {
    if (!reply_enabled(c)) return;
    char buf[32];
    buf[0] = type;
    int l = 1 + ll2str(buf + 1, n);
    buf[l++] = '\r';
    buf[l++] = '\n';
    memcpy(reserve(c, (size_t)l), buf, (size_t)l);
    pending(c);
}

void reply_status(client *c, const char *s) {
    if (!reply_enabled(c)) return;
    size_t n = strlen(s);
    char *p = reserve(c, n + 3);
    p[0] = '+';
    memcpy(p + 1, s, n);
    p[n + 1] = '\r';
    p[n + 2] = '\n';
    pending(c);
}

void reply_ok(client *c) { reply_raw(c, "+OK\r\n", 5); }

static void count_error(const char *msg) {
    size_t n = strcspn(msg, " ");
    if (n > 64) n = 64;
    srv.stat_total_error_replies++;
    if (!srv.errorstats) srv.errorstats = dict_new(0);
    if (srv.errorstats->count >= 128 && !dict_find(srv.errorstats, msg, n)) return; /* Redis caps at 128 kinds */
    dict_entry *e = dict_upsert(srv.errorstats, msg, n, NULL);
    e->val = (void *)((uintptr_t)e->val + 1);
}

void reply_error(client *c, const char *msg) {
    /* Errors without a code get "ERR"; a code is an all-caps first word. */
    size_t code = strcspn(msg, " ");
    int has_code = code > 0;
    for (size_t i = 0; i < code && has_code; i++)
        if (!((msg[i] >= 'A' && msg[i] <= 'Z') || msg[i] == '_' || (msg[i] >= '0' && msg[i] <= '9'))) has_code = 0;
    char buf[512];
    const char *full = msg;
    if (!has_code) {
        snprintf(buf, sizeof(buf), "ERR %s", msg);
        full = buf;
    }
    count_error(full);
    if (!reply_enabled(c)) return;
    size_t n = strlen(full);
    char *p = reserve(c, n + 3);
    p[0] = '-';
    memcpy(p + 1, full, n);
    for (size_t i = 1; i <= n; i++)
        if (p[i] == '\r' || p[i] == '\n') p[i] = ' ';
    p[n + 1] = '\r';
    p[n + 2] = '\n';
    pending(c);
}

void reply_error_verbatim(client *c, const char *full, int count) {
    if (count) count_error(full);
    if (!reply_enabled(c)) return;
    size_t n = strlen(full);
    char *p = reserve(c, n + 3);
    p[0] = '-';
    memcpy(p + 1, full, n);
    for (size_t i = 1; i <= n; i++)
        if (p[i] == '\r' || p[i] == '\n') p[i] = ' ';
    p[n + 1] = '\r';
    p[n + 2] = '\n';
    pending(c);
}

void reply_status_len(client *c, const char *s, size_t n) {
    if (!reply_enabled(c)) return;
    char *p = reserve(c, n + 3);
    p[0] = '+';
    memcpy(p + 1, s, n);
    p[n + 1] = '\r';
    p[n + 2] = '\n';
    pending(c);
}

void reply_bignum(client *c, const char *s, size_t n) {
    if (c->resp < 3) return reply_bulk(c, s, n);
    if (!reply_enabled(c)) return;
    char *p = reserve(c, n + 3);
    p[0] = '(';
    memcpy(p + 1, s, n);
    p[n + 1] = '\r';
    p[n + 2] = '\n';
    pending(c);
}

void reply_errorf(client *c, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    reply_error(c, buf);
}

void reply_int(client *c, long long v) {
    if (!reply_enabled(c)) return;
    if (v == 0) return reply_raw(c, ":0\r\n", 4);
    if (v == 1) return reply_raw(c, ":1\r\n", 4);
    header(c, ':', v);
}

void reply_bulk(client *c, const void *p, size_t len) {
    if (!reply_enabled(c)) return;
    char buf[32];
    buf[0] = '$';
    int l = 1 + ull2str(buf + 1, len);
    buf[l++] = '\r';
    buf[l++] = '\n';
    char *o = reserve(c, (size_t)l + len + 2);
    memcpy(o, buf, (size_t)l);
    memcpy(o + l, p, len);
    o[l + len] = '\r';
    o[l + len + 1] = '\n';
    pending(c);
}

void reply_bulk_cstr(client *c, const char *s) { reply_bulk(c, s, strlen(s)); }

void reply_bulk_ll(client *c, long long v) {
    char buf[LL_STR_SIZE];
    int n = ll2str(buf, v);
    reply_bulk(c, buf, (size_t)n);
}

void reply_null(client *c) {
    if (c->resp >= 3) reply_raw(c, "_\r\n", 3);
    else reply_raw(c, "$-1\r\n", 5);
}

void reply_null_array(client *c) {
    if (c->resp >= 3) reply_raw(c, "_\r\n", 3);
    else reply_raw(c, "*-1\r\n", 5);
}

void reply_array(client *c, long n) { header(c, '*', n); }
void reply_map(client *c, long n) {
    if (c->resp >= 3) header(c, '%', n);
    else header(c, '*', 2 * (long long)n);
}
void reply_set(client *c, long n) { header(c, c->resp >= 3 ? '~' : '*', n); }

void reply_double(client *c, double d) {
    char buf[128];
    int n = d2str(buf, sizeof(buf), d);
    if (c->resp >= 3) {
        if (!reply_enabled(c)) return;
        char *o = reserve(c, (size_t)n + 3);
        o[0] = ',';
        memcpy(o + 1, buf, (size_t)n);
        o[n + 1] = '\r';
        o[n + 2] = '\n';
        pending(c);
    } else {
        reply_bulk(c, buf, (size_t)n);
    }
}

void reply_bool(client *c, int b) {
    if (c->resp >= 3) reply_raw(c, b ? "#t\r\n" : "#f\r\n", 4);
    else reply_int(c, b ? 1 : 0);
}

void reply_verbatim(client *c, const char *p, size_t len, const char *ext) {
    if (c->resp < 3) return reply_bulk(c, p, len);
    if (!reply_enabled(c)) return;
    char buf[32];
    buf[0] = '=';
    int l = 1 + ull2str(buf + 1, len + 4);
    buf[l++] = '\r';
    buf[l++] = '\n';
    char *o = reserve(c, (size_t)l + 4 + len + 2);
    memcpy(o, buf, (size_t)l);
    memcpy(o + l, ext, 3);
    o[l + 3] = ':';
    memcpy(o + l + 4, p, len);
    o[l + 4 + len] = '\r';
    o[l + 4 + len + 1] = '\n';
    pending(c);
}

void reply_help(client *c, const char *cmd, const char **lines) {
    long n = 0;
    while (lines[n]) n++;
    reply_array(c, n + 3);
    char buf[256];
    snprintf(buf, sizeof(buf), "%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", cmd);
    reply_status(c, buf);
    for (long i = 0; i < n; i++) reply_status(c, lines[i]);
    reply_status(c, "HELP");
    reply_status(c, "    Prints this help.");
}

size_t reply_defer(client *c) { return c->olen; }

void reply_defer_set(client *c, size_t pos, long n, char type) {
    if (!reply_enabled(c)) return;
    char buf[32];
    if (c->resp < 3 && type == '%') {
        type = '*';
        n *= 2;
    }
    if (c->resp < 3 && type == '~') type = '*';
    buf[0] = type;
    int l = 1 + ll2str(buf + 1, n);
    buf[l++] = '\r';
    buf[l++] = '\n';
    reserve(c, (size_t)l);
    memmove(c->obuf + pos + l, c->obuf + pos, c->olen - (size_t)l - pos);
    memcpy(c->obuf + pos, buf, (size_t)l);
    pending(c);
}

void reply_wrongtype(client *c) { reply_error(c, "WRONGTYPE Operation against a key holding the wrong kind of value"); }
void reply_syntax_error(client *c) { reply_error(c, "ERR syntax error"); }
void reply_not_int(client *c) { reply_error(c, "ERR value is not an integer or out of range"); }
