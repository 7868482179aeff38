/* util: argument helpers shared by command implementations. */
#include "commands/commands.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "util/numconv.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int arg_is(const arg *a, const char *word) {
    size_t n = strlen(word);
    return a->len == n && strncasecmp(a->p, word, n) == 0;
}

int arg_ll(client *c, const arg *a, long long *v, const char *err) {
    if (str2ll(a->p, a->len, v)) return 1;
    reply_error(c, err ? err : "ERR value is not an integer or out of range");
    return 0;
}

int arg_ll_range(client *c, const arg *a, long long *v, long long min, long long max, const char *err) {
    if (str2ll(a->p, a->len, v) && *v >= min && *v <= max) return 1;
    if (err) {
        reply_error(c, err);
    } else {
        char buf[128];
        snprintf(buf, sizeof(buf), "ERR value is out of range, must be between %lld and %lld", min, max);
        reply_error(c, str2ll(a->p, a->len, v) ? buf : "ERR value is not an integer or out of range");
    }
    return 0;
}

int select_db(client *c, const arg *a, int *id) {
    long long v;
    if (!str2ll(a->p, a->len, &v)) {
        reply_error(c, "ERR value is not an integer or out of range");
        return 0;
    }
    if (v < 0 || v >= srv.dbnum) {
        reply_error(c, "ERR DB index is out of range");
        return 0;
    }
    *id = (int)v;
    return 1;
}

int parse_scan_cursor(client *c, const arg *a, unsigned long long *cursor) {
    char tmp[32];
    if (a->len == 0 || a->len >= sizeof(tmp)) goto bad;
    memcpy(tmp, a->p, a->len);
    tmp[a->len] = 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(tmp, &end, 10);
    if (errno == ERANGE || *end || isspace((unsigned char)tmp[0])) goto bad;
    *cursor = v;
    return 1;
bad:
    reply_error(c, "ERR invalid cursor");
    return 0;
}

int parse_scan_options(client *c, int first, long long *count, const arg **pat, const arg **type) {
    *count = 10;
    *pat = NULL;
    if (type) *type = NULL;
    for (int j = first; j < c->argc; j++) {
        int more = j + 1 < c->argc;
        if (arg_is(&c->argv[j], "count") && more) {
            if (!arg_ll(c, &c->argv[++j], count, NULL)) return 0;
            if (*count < 1) {
                reply_syntax_error(c);
                return 0;
            }
        } else if (arg_is(&c->argv[j], "match") && more) {
            *pat = &c->argv[++j];
            if ((*pat)->len == 1 && (*pat)->p[0] == '*') *pat = NULL; /* matches everything */
        } else if (type && arg_is(&c->argv[j], "type") && more) {
            *type = &c->argv[++j];
        } else {
            reply_syntax_error(c);
            return 0;
        }
    }
    return 1;
}
