/* request: see request.h. */
#include "protocol/request.h"
#include "server/server.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MAX_HEADER 65536       /* longest "*N" / "$N" / inline line */
#define MAX_MULTIBULK 2147483647LL /* Redis 7 accepts up to INT_MAX arguments */

static void argv_reserve(client *c, int n) {
    if (n <= c->argv_cap) return;
    int cap = c->argv_cap ? c->argv_cap : 8;
    while (cap < n) cap *= 2;
    c->argv = s_realloc(c->argv, (size_t)cap * sizeof(arg));
    c->argoff = s_realloc(c->argoff, (size_t)cap * 2 * sizeof(size_t));
    c->argv_cap = cap;
}

void parse_done(client *c) {
    c->qstart += c->ppos;
    c->ppos = 0;
    c->reqtype = 0;
    c->mbulk = 0;
    c->bulklen = -1;
    c->argc = 0;
}

static int is_hex(int ch) { return isxdigit(ch); }
static int hexval(int ch) { return ch <= '9' ? ch - '0' : (tolower(ch) - 'a') + 10; }

void free_split_args(arg *v, int argc) {
    if (!v) return;
    for (int i = 0; i < argc; i++) s_free(v[i].p);
    s_free(v);
}

arg *split_args(const char *line, size_t len, int *argcp) {
    const char *p = line, *end = line + len;
    int argc = 0, cap = 8;
    arg *v = s_malloc((size_t)cap * sizeof(arg));
    char *cur = s_malloc(len + 1);
    for (;;) {
        while (p < end && isspace((unsigned char)*p)) p++;
        if (p >= end) break;
        size_t n = 0;
        int inq = 0, insq = 0, done = 0;
        while (!done) {
            if (inq) {
                if (p >= end) goto bad;
                if (*p == '\\' && p + 3 < end && p[1] == 'x' && is_hex(p[2]) && is_hex(p[3])) {
                    cur[n++] = (char)(hexval(p[2]) * 16 + hexval(p[3]));
                    p += 3;
                } else if (*p == '\\' && p + 1 < end) {
                    p++;
                    switch (*p) {
                    case 'n': cur[n++] = '\n'; break;
                    case 'r': cur[n++] = '\r'; break;
                    case 't': cur[n++] = '\t'; break;
                    case 'b': cur[n++] = '\b'; break;
                    case 'a': cur[n++] = '\a'; break;
                    default: cur[n++] = *p; break;
                    }
                } else if (*p == '"') {
                    if (p + 1 < end && !isspace((unsigned char)p[1])) goto bad;
                    done = 1;
                } else {
                    cur[n++] = *p;
                }
            } else if (insq) {
                if (p >= end) goto bad;
                if (*p == '\\' && p + 1 < end && p[1] == '\'') {
                    p++;
                    cur[n++] = '\'';
                } else if (*p == '\'') {
                    if (p + 1 < end && !isspace((unsigned char)p[1])) goto bad;
                    done = 1;
                } else {
                    cur[n++] = *p;
                }
            } else {
                if (p >= end) break;
                switch (*p) {
                case ' ': case '\n': case '\r': case '\t': case '\0': done = 1; break;
                case '"': inq = 1; break;
                case '\'': insq = 1; break;
                default: cur[n++] = *p; break;
                }
            }
            if (p < end) p++;
        }
        if (argc == cap) {
            cap *= 2;
            v = s_realloc(v, (size_t)cap * sizeof(arg));
        }
        v[argc].p = s_memdup(cur, n + 1);
        v[argc].p[n] = 0;
        v[argc].len = n;
        argc++;
    }
    s_free(cur);
    *argcp = argc;
    return v;
bad:
    s_free(cur);
    free_split_args(v, argc);
    return NULL;
}

/* Inline commands are split into heap copies, then copied back into qbuf so
 * argv can point into qbuf like multibulk arguments do. */
static int parse_inline(client *c, const char **err) {
    char *start = c->qbuf + c->qstart;
    size_t avail = c->qlen - c->qstart;
    char *nl = memchr(start, '\n', avail);
    /* Redis looks for the newline with strchr: a NUL byte before it hides it (the line then waits,
     * up to the inline limit). */
    if (nl && memchr(start, 0, (size_t)(nl - start))) nl = NULL;
    if (!nl) {
        if (avail > MAX_HEADER) {
            *err = "Protocol error: too big inline request";
            return PARSE_ERROR;
        }
        return PARSE_MORE;
    }
    size_t linelen = (size_t)(nl - start);
    if (linelen && start[linelen - 1] == '\r') linelen--;
    int argc;
    arg *v = split_args(start, linelen, &argc);
    if (!v) {
        *err = "Protocol error: unbalanced quotes in request";
        return PARSE_ERROR;
    }
    c->ppos = (size_t)(nl - start) + 1;
    if (argc == 0) {
        free_split_args(v, argc);
        return PARSE_EMPTY;
    }
    /* The unquoted arguments never exceed the line, so they fit where it was. */
    argv_reserve(c, argc);
    size_t off = 0;
    for (int i = 0; i < argc; i++) {
        memcpy(start + off, v[i].p, v[i].len);
        c->argv[i].p = start + off;
        c->argv[i].len = v[i].len;
        c->argoff[2 * i] = off;
        c->argoff[2 * i + 1] = v[i].len;
        off += v[i].len;
    }
    c->argc = argc;
    free_split_args(v, argc);
    return PARSE_OK;
}

/* Reads "<prefix><number>\r\n" at ppos; returns 1 with *v (*ok 0 when the number does not parse), 0 need
 * more, -1 too long.  As Redis, the byte after '\r' is skipped unchecked. */
static int read_header(client *c, long long *v, int *ok) {
    char *p = c->qbuf + c->qstart + c->ppos;
    size_t avail = c->qlen - c->qstart - c->ppos;
    char *cr = memchr(p, '\r', avail);
    if (cr && memchr(p, 0, (size_t)(cr - p))) cr = NULL; /* strchr in Redis: a NUL hides the '\r' */
    if (!cr || (size_t)(cr - p) + 1 >= avail) return avail > MAX_HEADER ? -1 : 0;
    *ok = str2ll(p + 1, (size_t)(cr - p) - 1, v);
    c->ppos += (size_t)(cr - p) + 2;
    return 1;
}

int parse_request(client *c, const char **err) {
    if (!c->reqtype) {
        if (c->qstart >= c->qlen) return PARSE_MORE;
        c->reqtype = c->qbuf[c->qstart] == '*' ? '*' : 'i';
        c->mbulk = -1;
        c->bulklen = -1;
        c->ppos = 0;
        c->argc = 0;
    }
    if (c->reqtype == 'i') return parse_inline(c, err);

    int authed = (c->flags & CLIENT_AUTHENTICATED) != 0;
    if (c->mbulk == -1) {
        long long n;
        int ok;
        int r = read_header(c, &n, &ok);
        if (r == 0) return PARSE_MORE;
        if (r < 0) {
            *err = "Protocol error: too big mbulk count string";
            return PARSE_ERROR;
        }
        if (!ok || n > MAX_MULTIBULK) {
            *err = "Protocol error: invalid multibulk length";
            return PARSE_ERROR;
        }
        if (!authed && n > 10) {
            *err = "Protocol error: unauthenticated multibulk length";
            return PARSE_ERROR;
        }
        if (n <= 0) return PARSE_EMPTY;
        c->mbulk = (long)n;
        argv_reserve(c, (int)(n < 1024 ? n : 1024));
    }
    while (c->mbulk > 0) {
        if (c->bulklen == -1) {
            size_t avail = c->qlen - c->qstart - c->ppos;
            if (avail == 0) return PARSE_MORE;
            char first = c->qbuf[c->qstart + c->ppos];
            if (first != '$') {
                static char msg[64];
                snprintf(msg, sizeof(msg), "Protocol error: expected '$', got '%c'", first);
                *err = msg;
                return PARSE_ERROR;
            }
            long long n;
            int ok;
            int r = read_header(c, &n, &ok);
            if (r == 0) return PARSE_MORE;
            if (r < 0) {
                *err = "Protocol error: too big bulk count string";
                return PARSE_ERROR;
            }
            if (!ok || n < 0 || n > srv.proto_max_bulk_len) {
                *err = "Protocol error: invalid bulk length";
                return PARSE_ERROR;
            }
            if (!authed && n > 16384) {
                *err = "Protocol error: unauthenticated bulk length";
                return PARSE_ERROR;
            }
            c->bulklen = n; /* the reader grows qbuf as its bytes arrive (networking.c) */
        }
        size_t avail = c->qlen - c->qstart - c->ppos;
        if (avail < (size_t)c->bulklen + 2) return PARSE_MORE;
        argv_reserve(c, c->argc + 1);
        c->argoff[2 * c->argc] = c->ppos;
        c->argoff[2 * c->argc + 1] = (size_t)c->bulklen;
        c->argc++;
        c->ppos += (size_t)c->bulklen + 2;
        c->bulklen = -1;
        c->mbulk--;
    }
    parse_restore_argv(c);
    return PARSE_OK;
}

void parse_restore_argv(client *c) {
    char *base = c->qbuf + c->qstart;
    for (int i = 0; i < c->argc; i++) {
        c->argv[i].p = base + c->argoff[2 * i];
        c->argv[i].len = c->argoff[2 * i + 1];
    }
}
