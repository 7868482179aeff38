/* expire: setting, reading and removing TTLs (EXPIRE family, TTL family,
 * PERSIST), with Redis 7.0's NX/XX/GT/LT rules and error texts. */
#include "commands/command.h"
#include "commands/commands.h"
#include "commands/propagate.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <limits.h>
#include <stdio.h>
#include <string.h>

enum { EX_NX = 1, EX_XX = 2, EX_GT = 4, EX_LT = 8 };

static void expire_generic(client *c, long long base, int seconds) {
    int flags = 0;
    for (int j = 3; j < c->argc; j++) {
        const arg *a = &c->argv[j];
        if (arg_is(a, "nx")) flags |= EX_NX;
        else if (arg_is(a, "xx")) flags |= EX_XX;
        else if (arg_is(a, "gt")) flags |= EX_GT;
        else if (arg_is(a, "lt")) flags |= EX_LT;
        else {
            reply_errorf(c, "ERR Unsupported option %.*s", (int)a->len, a->p);
            return;
        }
    }
    if ((flags & EX_NX) && (flags & (EX_XX | EX_GT | EX_LT))) {
        reply_error(c, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return;
    }
    if ((flags & EX_GT) && (flags & EX_LT)) {
        reply_error(c, "ERR GT and LT options at the same time are not compatible");
        return;
    }
    long long when;
    if (!arg_ll(c, &c->argv[2], &when, NULL)) return;
    if ((seconds && (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000)) ||
        (seconds ? when * 1000 : when) > LLONG_MAX - base) {
        reply_errorf(c, "ERR invalid expire time in '%s' command", c->cmd->fullname);
        return;
    }
    if (seconds) when *= 1000;
    when += base;
    kref r;
    if (!db_lookup(c->db, c->argv[1].p, c->argv[1].len, LOOKUP_NOSTATS, &r)) {
        reply_int(c, 0);
        return;
    }
    long long cur = e_ttl(r.e);
    if (((flags & EX_NX) && cur != -1) || ((flags & EX_XX) && cur == -1) ||
        ((flags & EX_GT) && (when <= cur || cur == -1)) || ((flags & EX_LT) && cur != -1 && when >= cur)) {
        reply_int(c, 0);
        return;
    }
    if (when <= srv.cmd_now_ms && !srv.keep_expired) { /* already in the past: the key goes now (a stream being
                                                          * applied keeps it: its source sends the DEL) */
        db_delete(&r);
        prop_rewrite_del(c, &c->argv[1]);
    } else {
        db_set_ttl(&r, when);
        key_event(c, &c->argv[1], FX_GENERIC, "expire");
        /* as Redis: PEXPIREAT with the absolute time, the NX/XX/GT/LT flags kept (built only when
         * something records it) */
        if (prop_has_sinks()) {
            char ms[LL_STR_SIZE];
            arg stackv[8], *v = c->argc <= 8 ? stackv : s_malloc(sizeof(arg) * (size_t)c->argc);
            memcpy(v, c->argv, sizeof(arg) * (size_t)c->argc);
            v[0] = (arg){(char *)"PEXPIREAT", 9};
            v[2] = (arg){ms, (size_t)ll2str(ms, when)};
            prop_rewrite(c, c->argc, v);
            if (v != stackv) s_free(v);
        } else {
            prop_prevent(c);
        }
    }
    reply_int(c, 1);
}

void cmd_expire(client *c) { expire_generic(c, srv.cmd_now_ms, 1); }
void cmd_pexpire(client *c) { expire_generic(c, srv.cmd_now_ms, 0); }
void cmd_expireat(client *c) { expire_generic(c, 0, 1); }
void cmd_pexpireat(client *c) { expire_generic(c, 0, 0); }

static void ttl_generic(client *c, int ms, int absolute) {
    kref r;
    if (!db_lookup(c->db, c->argv[1].p, c->argv[1].len, LOOKUP_NOTOUCH, &r)) {
        reply_int(c, -2);
        return;
    }
    long long when = e_ttl(r.e);
    if (when == -1) {
        reply_int(c, -1);
        return;
    }
    long long t = absolute ? when : when - srv.cmd_now_ms;
    if (t < 0) t = 0;
    reply_int(c, ms ? t : (t + 500) / 1000);
}

void cmd_ttl(client *c) { ttl_generic(c, 0, 0); }
void cmd_pttl(client *c) { ttl_generic(c, 1, 0); }
void cmd_expiretime(client *c) { ttl_generic(c, 0, 1); }
void cmd_pexpiretime(client *c) { ttl_generic(c, 1, 1); }

void cmd_persist(client *c) {
    kref r;
    if (!db_lookup(c->db, c->argv[1].p, c->argv[1].len, LOOKUP_NOSTATS, &r) || !e_has_ttl(r.e)) {
        reply_int(c, 0);
        return;
    }
    db_set_ttl(&r, -1);
    key_event(c, &c->argv[1], FX_GENERIC, "persist");
    reply_int(c, 1);
}
