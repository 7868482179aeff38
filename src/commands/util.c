/* util: argument helpers shared by command implementations. */
#include "commands/commands.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "util/numconv.h"
#include <stdio.h>
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
