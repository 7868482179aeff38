/* debug_misc: the DEBUG subcommands that client libraries' and Redis's own
 * test suites use to exercise the protocol and the server's knobs:
 *
 *   PROTOCOL <type>        one reply of each RESP type, exactly as Redis 7.0
 *                          sends it under RESP2 and RESP3 (attributes and
 *                          pushes only under RESP3, each followed by a real
 *                          reply)
 *   ERROR <text>           an error reply carrying <text> as it is
 *   LOG <text>             a line in the server log
 *   PAUSE-CRON <0|1>       stops the cron (expiry, pause deadlines, ...)
 *   REPLYBUFFER ...        accepted with Redis's syntax; Sardine's output
 *                          buffer has no peak-reset logic to tune
 *   QUICKLIST-PACKED-THRESHOLD <size>
 *                          validated as Redis does; Sardine's quicklist has no
 *                          plain nodes, so there is nothing to switch
 *   STRINGMATCH-TEST       runs the glob matcher over random patterns
 *   LISTPACK <key>         prints a listpack-encoded value (hash, sorted set)
 *                          on stdout and replies as Redis does; the dump's
 *                          layout is Sardine's own (offsets, bytes, values)
 *   QUICKLIST <key> [0|1]  the same for a list's quicklist (1: each node's
 *                          listpack too)
 *   POPULATE <count> [<prefix>] [<size>]
 *                          keys "<prefix>:<i>" (prefix "key") holding
 *                          "value:<i>", cut or padded with zero bytes to
 *                          <size>; existing keys are left alone.  As Redis:
 *                          not propagated and not counted as changes, but
 *                          announced ("new": WATCH, notifications, a
 *                          running snapshot)
 *   CHANGE-REPL-ID, SET-SKIP-CHECKSUM-VALIDATION, AOF-FLUSH-SLEEP,
 *   SET-DISABLE-DENY-SCRIPTS
 *                          accepted, with Redis's replies
 *
 * debug_misc() answers 1 when it handled the subcommand (and replied), 0 when
 * cmd_debug must go on looking. */
#include "commands/debug_cmds.h"
#include "commands/commands.h"
#include "keyspace/db.h"
#include "keyspace/effects.h"
#include "keyspace/entry.h"
#include "types/object.h"
#include "types/quicklist.h"
#include "types/tstring.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "util/glob.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void debug_protocol(client *c) {
    const arg *t = &c->argv[2];
    if (arg_is(t, "string")) {
        reply_bulk_cstr(c, "Hello World");
    } else if (arg_is(t, "integer")) {
        reply_int(c, 12345);
    } else if (arg_is(t, "double")) {
        reply_double(c, 3.141);
    } else if (arg_is(t, "bignum")) {
        reply_bignum(c, "1234567999999999999999999999999999999", 37);
    } else if (arg_is(t, "null")) {
        reply_null(c);
    } else if (arg_is(t, "array") || arg_is(t, "set")) {
        if (arg_is(t, "set")) reply_set(c, 3);
        else reply_array(c, 3);
        for (int j = 0; j < 3; j++) reply_int(c, j);
    } else if (arg_is(t, "map")) {
        reply_map(c, 3);
        for (int j = 0; j < 3; j++) {
            reply_int(c, j);
            reply_bool(c, j == 1);
        }
    } else if (arg_is(t, "attrib")) {
        if (c->resp >= 3) { /* an attribute is not a reply: a real one follows */
            reply_raw(c, "|1\r\n", 4);
            reply_bulk_cstr(c, "key-popularity");
            reply_array(c, 2);
            reply_bulk_cstr(c, "key:123");
            reply_int(c, 90);
        }
        reply_bulk_cstr(c, "Some real reply following the attribute");
    } else if (arg_is(t, "push")) {
        if (c->resp < 3) {
            reply_error(c, "ERR RESP2 is not supported by this command");
            return;
        }
        int was_pushing = c->flags & CLIENT_PUSHING;
        c->flags |= CLIENT_PUSHING;
        reply_raw(c, ">2\r\n", 4);
        reply_bulk_cstr(c, "server-cpu-usage");
        reply_int(c, 42);
        if (!was_pushing) c->flags &= ~CLIENT_PUSHING;
        reply_bulk_cstr(c, "Some real reply following the push reply");
    } else if (arg_is(t, "true") || arg_is(t, "false")) {
        reply_bool(c, arg_is(t, "true"));
    } else if (arg_is(t, "verbatim")) {
        reply_verbatim(c, "This is a verbatim\nstring", 25, "txt");
    } else {
        reply_error(c, "ERR Wrong protocol type name. Please use one of the following: "
                       "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false");
    }
}

/* DEBUG ERROR: "-<text>\r\n" with newlines turned into spaces, no "ERR" added (as Redis). */
static void debug_error(client *c) {
    const arg *a = &c->argv[2];
    char *s = s_malloc(a->len + 1);
    memcpy(s, a->p, a->len);
    s[a->len] = 0;
    reply_error_verbatim(c, s, 1); /* turns newlines into spaces */
    s_free(s);
}

/* Redis's memtoull for one argument: digits and an optional unit; 0 when it does not parse. */
static int parse_mem(const arg *a, unsigned long long *out) {
    static const struct { const char *u; unsigned long long mul; } units[] = {
        {"", 1}, {"b", 1}, {"k", 1000ULL}, {"kb", 1024ULL}, {"m", 1000000ULL}, {"mb", 1048576ULL},
        {"g", 1000000000ULL}, {"gb", 1073741824ULL}};
    size_t d = 0;
    while (d < a->len && a->p[d] >= '0' && a->p[d] <= '9') d++;
    if (d > 19) return 0; /* past 2^64: out of range anyway */
    unsigned long long mul = 0;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strlen(units[i].u) == a->len - d && !strncasecmp(units[i].u, a->p + d, a->len - d)) mul = units[i].mul;
    if (!mul) return 0;
    unsigned long long v = 0;
    for (size_t i = 0; i < d; i++) v = v * 10 + (unsigned)(a->p[i] - '0');
    *out = v * mul;
    return 1;
}

/* The glob matcher on random patterns and strings: it must neither crash nor read out of bounds. */
static void stringmatch_test(void) {
    static const char alphabet[] = "*?[]^-\\abc";
    char pat[32], str[32];
    unsigned seed = 12345;
    for (int i = 0; i < 100000; i++) {
        size_t pl = (seed = seed * 1103515245 + 12345) >> 16 & 31, sl = (seed = seed * 1103515245 + 12345) >> 16 & 31;
        for (size_t k = 0; k < pl; k++) pat[k] = alphabet[((seed = seed * 1103515245 + 12345) >> 16) % 10];
        for (size_t k = 0; k < sl; k++) str[k] = alphabet[((seed = seed * 1103515245 + 12345) >> 16) % 10];
        glob_match(pat, pl, str, sl, 0);
    }
}

/* DEBUG LISTPACK / QUICKLIST: the key's value if it has that encoding (else Redis's errors, replied). */
static void *encoded_value(client *c, const char *encoding, const char *err) {
    kref r;
    if (!db_lookup(c->db, c->argv[2].p, c->argv[2].len, LOOKUP_NOTOUCH | LOOKUP_NOSTATS, &r)) {
        reply_error(c, "ERR no such key");
        return NULL;
    }
    if (e_store(r.e) != VAL_PTR || e_type(r.e) == OBJ_STRING ||
        strcmp(obj_encoding(e_type(r.e), e_ptr(r.e)), encoding)) {
        reply_error(c, err);
        return NULL;
    }
    return e_ptr(r.e);
}

/* Redis's getPositiveLongFromObjectOrReply: one error for a negative number and for no number at all. */
static int positive_long(client *c, const arg *a, long long *v) {
    if (str2ll(a->p, a->len, v) && *v >= 0) return 1;
    reply_error(c, "ERR value is out of range, must be positive");
    return 0;
}

static void debug_populate(client *c) {
    long long n, size = 0;
    if (!positive_long(c, &c->argv[2], &n)) return;
    if (c->argc == 5 && !positive_long(c, &c->argv[4], &size)) return;
    const char *prefix = c->argc >= 4 ? c->argv[3].p : "key";
    int plen = c->argc >= 4 ? (int)c->argv[3].len : 3;
    char *val = size ? s_calloc((size_t)size) : NULL;
    long long mark = dirty_mark();
    for (long long i = 0; i < n; i++) {
        char key[128], text[32];
        int klen = snprintf(key, sizeof(key), "%.*s:%llu", plen, prefix, (unsigned long long)i);
        if (klen >= (int)sizeof(key)) klen = (int)sizeof(key) - 1; /* Redis's 128-byte buffer cuts it too */
        int tlen = snprintf(text, sizeof(text), "value:%llu", (unsigned long long)i);
        kref r;
        if (fx_before_wanted()) fx_before(c->db, key, (size_t)klen);
        if (db_lookup(c->db, key, (size_t)klen, LOOKUP_NOTOUCH | LOOKUP_NOSTATS, &r)) continue;
        entry_value v;
        if (size) {
            memcpy(val, text, (size_t)(size < tlen ? size : tlen));
            v = str_value(val, (size_t)size);
        } else {
            v = str_value(text, (size_t)tlen);
        }
        db_set_value_at(&r, key, (size_t)klen, &v, -1); /* announces "new", as Redis's dbAdd */
    }
    dirty_count(mark, 0);
    s_free(val);
    reply_ok(c);
}

int debug_misc(client *c) {
    const arg *sub = &c->argv[1];
    if (arg_is(sub, "protocol") && c->argc == 3) {
        debug_protocol(c);
    } else if (arg_is(sub, "populate") && c->argc >= 3 && c->argc <= 5) {
        debug_populate(c);
    } else if (arg_is(sub, "error") && c->argc == 3) {
        debug_error(c);
    } else if (arg_is(sub, "log") && c->argc == 3) {
        serverLog(LL_WARNING, "DEBUG LOG: %.*s", (int)c->argv[2].len, c->argv[2].p);
        reply_ok(c);
    } else if (arg_is(sub, "pause-cron") && c->argc == 3) {
        srv.pause_cron = atoi(c->argv[2].p);
        reply_ok(c);
    } else if (arg_is(sub, "replybuffer") && c->argc == 4) {
        const arg *what = &c->argv[2], *v = &c->argv[3];
        if (arg_is(what, "peak-reset-time")) {
            long long n;
            if (!arg_is(v, "never") && !arg_is(v, "reset") && !arg_ll(c, v, &n, NULL)) return 1;
        } else if (!arg_is(what, "resizing")) {
            reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try DEBUG HELP.",
                         (int)sub->len, sub->p);
            return 1;
        }
        reply_ok(c);
    } else if (arg_is(sub, "quicklist-packed-threshold") && c->argc == 3) {
        unsigned long long sz;
        if (!parse_mem(&c->argv[2], &sz) || sz > (1ULL << 32) - (1ULL << 20))
            reply_error(c, "ERR argument must be a memory value bigger than 1 and smaller than 4gb");
        else reply_ok(c);
    } else if (arg_is(sub, "stringmatch-test") && c->argc == 2) {
        stringmatch_test();
        reply_status(c, "Apparently Redis did not crash: test passed");
    } else if (arg_is(sub, "listpack") && c->argc == 3) {
        const unsigned char *lp = encoded_value(c, "listpack", "ERR Not a listpack encoded object.");
        if (lp) {
            lp_repr(stdout, lp);
            reply_status(c, "Listpack structure printed on stdout");
        }
    } else if (arg_is(sub, "quicklist") && (c->argc == 3 || c->argc == 4)) {
        const quicklist *ql = encoded_value(c, "quicklist", "ERR Not a quicklist encoded object.");
        if (ql) {
            ql_repr(stdout, ql, c->argc == 4 ? atoi(c->argv[3].p) : 0);
            reply_status(c, "Quicklist structure printed on stdout");
        }
    } else if (arg_is(sub, "change-repl-id") && c->argc == 2) {
        serverLog(LL_WARNING, "Changing replication IDs after receiving DEBUG change-repl-id");
        reply_ok(c);
    } else if ((arg_is(sub, "set-skip-checksum-validation") || arg_is(sub, "aof-flush-sleep") ||
                arg_is(sub, "set-disable-deny-scripts")) &&
               c->argc == 3) {
        reply_ok(c);
    } else {
        return 0;
    }
    return 1;
}
