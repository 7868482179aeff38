/* args: line splitting with redis-cli quoting rules.
 *
 * A closing quote must be followed by whitespace or the end of the line,
 * otherwise the line is rejected, like redis-cli's "Invalid argument(s)". */
#include "cli/args.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli/buf.h"

void args_push(argv_t *a, const char *s, size_t len) {
    a->argv = xrealloc(a->argv, sizeof(char *) * (size_t)(a->argc + 1));
    a->lens = xrealloc(a->lens, sizeof(size_t) * (size_t)(a->argc + 1));
    char *c = xmalloc(len + 1);
    memcpy(c, s, len);
    c[len] = '\0';
    a->argv[a->argc] = c;
    a->lens[a->argc] = len;
    a->argc++;
}

void args_free(argv_t *a) {
    for (int i = 0; i < a->argc; i++) free(a->argv[i]);
    free(a->argv);
    free(a->lens);
    memset(a, 0, sizeof(*a));
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int args_split(const char *p, argv_t *out) {
    memset(out, 0, sizeof(*out));
    buf cur = {0};
    for (;;) {
        while (*p && isspace((unsigned char)*p)) p++;
        if (!*p) break;
        int inq = 0, insq = 0, done = 0;
        buf_clear(&cur);
        buf_reserve(&cur, 0);
        while (!done) {
            if (inq) {
                if (p[0] == '\\' && p[1] == 'x' && hexval(p[2]) >= 0 && hexval(p[3]) >= 0) {
                    buf_addc(&cur, (char)(hexval(p[2]) * 16 + hexval(p[3])));
                    p += 3;
                } else if (p[0] == '\\' && p[1]) {
                    char c;
                    p++;
                    switch (*p) {
                    case 'n': c = '\n'; break;
                    case 'r': c = '\r'; break;
                    case 't': c = '\t'; break;
                    case 'b': c = '\b'; break;
                    case 'a': c = '\a'; break;
                    default: c = *p; break;
                    }
                    buf_addc(&cur, c);
                } else if (*p == '"') {
                    if (p[1] && !isspace((unsigned char)p[1])) goto err;
                    done = 1;
                } else if (!*p) {
                    goto err;
                } else {
                    buf_addc(&cur, *p);
                }
            } else if (insq) {
                if (p[0] == '\\' && p[1] == '\'') {
                    p++;
                    buf_addc(&cur, '\'');
                } else if (*p == '\'') {
                    if (p[1] && !isspace((unsigned char)p[1])) goto err;
                    done = 1;
                } else if (!*p) {
                    goto err;
                } else {
                    buf_addc(&cur, *p);
                }
            } else {
                switch (*p) {
                case ' ':
                case '\n':
                case '\r':
                case '\t':
                case '\0': done = 1; break;
                case '"': inq = 1; break;
                case '\'': insq = 1; break;
                default: buf_addc(&cur, *p); break;
                }
            }
            if (*p) p++;
        }
        args_push(out, cur.p, cur.len);
    }
    buf_free(&cur);
    return 0;
err:
    buf_free(&cur);
    args_free(out);
    return -1;
}
