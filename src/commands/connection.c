/* connection: commands about the connection itself: PING, ECHO, QUIT, TIME,
 * HELLO, AUTH, RESET and the CLIENT container. */
#include "commands/commands.h"
#include "net/client.h"
#include "protocol/reply.h"
#include "features/acl.h"
#include "features/multi.h"
#include "features/monitor.h"
#include "features/pubsub.h"
#include "features/tracking.h"
#include "server/server.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

void cmd_ping(client *c) {
    if (c->argc > 2) {
        reply_error(c, "ERR wrong number of arguments for 'ping' command");
        return;
    }
    if ((c->flags & CLIENT_PUBSUB) && c->resp == 2) { /* subscriber mode: ["pong", arg or ""] */
        reply_array(c, 2);
        reply_bulk(c, "pong", 4);
        if (c->argc == 1) reply_bulk(c, "", 0);
        else reply_bulk(c, c->argv[1].p, c->argv[1].len);
        return;
    }
    if (c->argc == 1) reply_raw(c, "+PONG\r\n", 7);
    else reply_bulk(c, c->argv[1].p, c->argv[1].len);
}

void cmd_echo(client *c) { reply_bulk(c, c->argv[1].p, c->argv[1].len); }

void cmd_quit(client *c) {
    reply_ok(c);
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

void cmd_time(client *c) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    reply_array(c, 2);
    reply_bulk_ll(c, tv.tv_sec);
    reply_bulk_ll(c, tv.tv_usec);
}

void cmd_auth(client *c) {
    if (c->argc > 3) {
        reply_syntax_error(c);
        return;
    }
    static const arg default_name = {"default", 7};
    const arg *user = c->argc == 3 ? &c->argv[1] : &default_name, *pass = &c->argv[c->argc - 1];
    if (c->argc == 2 && acl_user_nopass(acl_default_user())) {
        reply_error(c, "ERR AUTH <password> called without any password configured for the default user. Are you sure "
                       "your configuration is correct?");
        return;
    }
    if (acl_authenticate(c, user, pass) == 0) reply_ok(c);
    else reply_error(c, "WRONGPASS invalid username-password pair or user is disabled.");
}

static int valid_name(const arg *a) {
    for (size_t i = 0; i < a->len; i++)
        if (a->p[i] < '!' || a->p[i] > '~') return 0;
    return 1;
}

static void set_name(client *c, const arg *a) {
    s_free(c->name);
    c->name = NULL;
    if (a->len) {
        c->name = s_malloc(a->len + 1);
        memcpy(c->name, a->p, a->len);
        c->name[a->len] = 0;
    }
}

void cmd_hello(client *c) {
    long long ver = 0;
    if (c->argc >= 2) {
        if (!str2ll(c->argv[1].p, c->argv[1].len, &ver)) {
            reply_error(c, "ERR Protocol version is not an integer or out of range");
            return;
        }
        if (ver < 2 || ver > 3) {
            reply_error(c, "NOPROTO unsupported protocol version");
            return;
        }
    }
    const arg *user = NULL, *pass = NULL, *name = NULL;
    for (int j = 2; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (arg_is(&c->argv[j], "auth") && more >= 2) {
            user = &c->argv[j + 1];
            pass = &c->argv[j + 2];
            j += 2;
        } else if (arg_is(&c->argv[j], "setname") && more) {
            name = &c->argv[++j];
            if (!valid_name(name)) {
                reply_error(c, "ERR Client names cannot contain spaces, newlines or special characters.");
                return;
            }
        } else {
            reply_errorf(c, "ERR Syntax error in HELLO option '%.*s'", (int)c->argv[j].len, c->argv[j].p);
            return;
        }
    }
    if (user && acl_authenticate(c, user, pass) != 0) {
        reply_error(c, "WRONGPASS invalid username-password pair or user is disabled.");
        return;
    }
    if (!(c->flags & CLIENT_AUTHENTICATED) && !srv.default_user_open) {
        reply_error(c, "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
                       "AUTH <user> <pass> option can be used to authenticate the client and select the RESP "
                       "protocol version at the same time");
        return;
    }
    if (name) set_name(c, name);
    if (ver) c->resp = (int)ver;
    reply_map(c, 7);
    reply_bulk_cstr(c, "server");
    reply_bulk_cstr(c, "redis");
    reply_bulk_cstr(c, "version");
    reply_bulk_cstr(c, SARDINE_VERSION);
    reply_bulk_cstr(c, "proto");
    reply_int(c, c->resp);
    reply_bulk_cstr(c, "id");
    reply_int(c, (long long)c->id);
    reply_bulk_cstr(c, "mode");
    reply_bulk_cstr(c, "standalone");
    reply_bulk_cstr(c, "role");
    reply_bulk_cstr(c, "master");
    reply_bulk_cstr(c, "modules");
    reply_array(c, 0);
}

void cmd_reset(client *c) {
    multi_discard(c);
    unwatch_all_keys(c);
    pubsub_unsubscribe_all(c);
    monitor_remove(c);
    tracking_disable(c);
    c->db = &srv.dbs[0];
    c->resp = 2;
    s_free(c->name);
    c->name = NULL;
    c->flags &= ~(CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP | CLIENT_REPLY_SKIP_NEXT | CLIENT_NO_EVICT | CLIENT_NO_TOUCH);
    c->user = srv.default_user; /* as Redis 7.0: back to the default user, authenticated only if it is open */
    if (srv.default_user_open) c->flags |= CLIENT_AUTHENTICATED;
    else c->flags &= ~CLIENT_AUTHENTICATED;
    reply_status(c, "RESET");
}

void cmd_client_id(client *c) { reply_int(c, (long long)c->id); }

void cmd_client_setname(client *c) {
    if (!valid_name(&c->argv[2])) {
        reply_error(c, "ERR Client names cannot contain spaces, newlines or special characters.");
        return;
    }
    set_name(c, &c->argv[2]);
    reply_ok(c);
}

void cmd_client_getname(client *c) {
    if (c->name) reply_bulk_cstr(c, c->name);
    else reply_null(c);
}

static void append_line(char **buf, size_t *len, size_t *cap, client *cl) {
    char *line = client_info_line(cl);
    size_t n = strlen(line);
    if (*len + n + 2 > *cap) {
        *cap = (*len + n + 2) * 2;
        *buf = s_realloc(*buf, *cap);
    }
    memcpy(*buf + *len, line, n);
    (*buf)[*len + n] = '\n';
    *len += n + 1;
    s_free(line);
}

void cmd_client_list(client *c) {
    int type_filter = 0;
    uint64_t *ids = NULL;
    int nids = 0;
    if (c->argc > 2) {
        if (arg_is(&c->argv[2], "type") && c->argc == 4) {
            const arg *t = &c->argv[3];
            if (arg_is(t, "normal")) type_filter = 1;
            else if (arg_is(t, "pubsub")) type_filter = 3;
            else if (arg_is(t, "replica") || arg_is(t, "slave") || arg_is(t, "master"))
                type_filter = 2;
            else {
                reply_errorf(c, "ERR Unknown client type '%.*s'", (int)t->len, t->p);
                return;
            }
        } else if (arg_is(&c->argv[2], "id") && c->argc >= 4) {
            ids = s_malloc((size_t)(c->argc - 3) * sizeof(uint64_t));
            for (int j = 3; j < c->argc; j++) {
                long long v;
                if (!str2ll(c->argv[j].p, c->argv[j].len, &v)) {
                    s_free(ids);
                    reply_error(c, "ERR Invalid client ID");
                    return;
                }
                ids[nids++] = (uint64_t)v;
            }
        } else {
            reply_syntax_error(c);
            return;
        }
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (ids) { /* as Redis: in the order asked, once per mention */
        for (int j = 0; j < nids; j++)
            for (size_t i = 0; i < srv.nclients; i++)
                if (srv.clients[i]->id == ids[j]) append_line(&buf, &len, &cap, srv.clients[i]);
    } else {
        for (size_t i = 0; i < srv.nclients; i++) {
            client *cl = srv.clients[i];
            if (type_filter == 2) continue;
            if (type_filter && client_class(cl) != (type_filter == 3 ? COB_PUBSUB : COB_NORMAL)) continue;
            append_line(&buf, &len, &cap, cl);
        }
    }
    reply_verbatim(c, buf ? buf : "", len, "txt");
    s_free(buf);
    s_free(ids);
}

void cmd_client_info(client *c) {
    char *buf = NULL;
    size_t len = 0, cap = 0;
    append_line(&buf, &len, &cap, c);
    reply_verbatim(c, buf, len, "txt");
    s_free(buf);
}

void cmd_client_kill(client *c) {
    if (c->argc == 3) { /* old form: CLIENT KILL addr:port */
        for (size_t i = 0; i < srv.nclients; i++) {
            client *cl = srv.clients[i];
            if (cl->flags & CLIENT_CLOSE_ASAP) continue;
            if (strlen(cl->addr) == c->argv[2].len && memcmp(cl->addr, c->argv[2].p, c->argv[2].len) == 0) {
                client_close_async(cl);
                reply_ok(c);
                return;
            }
        }
        reply_error(c, "ERR No such client");
        return;
    }
    long long id = 0;
    const arg *addr = NULL, *laddr = NULL, *user = NULL;
    int type = 0, skipme = 1;
    for (int j = 2; j < c->argc; j += 2) {
        if (j + 1 >= c->argc) {
            reply_syntax_error(c);
            return;
        }
        const arg *o = &c->argv[j], *v = &c->argv[j + 1];
        if (arg_is(o, "id")) {
            if (!str2ll(v->p, v->len, &id) || id <= 0) {
                reply_error(c, "ERR client-id should be greater than 0");
                return;
            }
        } else if (arg_is(o, "type")) {
            if (arg_is(v, "normal")) type = 1;
            else if (arg_is(v, "pubsub")) type = 3;
            else if (arg_is(v, "replica") || arg_is(v, "slave") || arg_is(v, "master")) type = 2;
            else {
                reply_errorf(c, "ERR Unknown client type '%.*s'", (int)v->len, v->p);
                return;
            }
        } else if (arg_is(o, "addr")) addr = v;
        else if (arg_is(o, "laddr")) laddr = v;
        else if (arg_is(o, "user")) user = v;
        else if (arg_is(o, "skipme")) {
            if (arg_is(v, "yes")) skipme = 1;
            else if (arg_is(v, "no")) skipme = 0;
            else {
                reply_syntax_error(c);
                return;
            }
        } else {
            reply_syntax_error(c);
            return;
        }
    }
    const acl_user *kill_user = NULL;
    if (user && !(kill_user = acl_find(user->p, user->len))) {
        reply_errorf(c, "ERR No such user '%.*s'", (int)user->len, user->p);
        return;
    }
    long long killed = 0;
    for (size_t i = 0; i < srv.nclients; i++) {
        client *cl = srv.clients[i];
        if (cl->flags & CLIENT_CLOSE_ASAP) continue;
        if (id && cl->id != (uint64_t)id) continue;
        if (type == 2) continue;
        if (type && client_class(cl) != (type == 3 ? COB_PUBSUB : COB_NORMAL)) continue;
        if (addr && !(strlen(cl->addr) == addr->len && memcmp(cl->addr, addr->p, addr->len) == 0)) continue;
        if (laddr && !(strlen(cl->laddr) == laddr->len && memcmp(cl->laddr, laddr->p, laddr->len) == 0)) continue;
        if (kill_user && cl->user != kill_user) continue;
        if (cl == c && skipme) continue;
        if (cl == c) c->flags |= CLIENT_CLOSE_AFTER_REPLY;
        else client_close_async(cl);
        killed++;
    }
    reply_int(c, killed);
}

void cmd_client_pause(client *c) {
    long long ms;
    if (!str2ll(c->argv[2].p, c->argv[2].len, &ms)) {
        reply_error(c, "ERR timeout is not an integer or out of range");
        return;
    }
    if (ms < 0) {
        reply_error(c, "ERR timeout is negative");
        return;
    }
    int all = 1;
    if (c->argc == 4) {
        if (arg_is(&c->argv[3], "write")) all = 0;
        else if (!arg_is(&c->argv[3], "all")) {
            reply_error(c, "ERR CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    } else if (c->argc > 4) {
        reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try CLIENT HELP.",
                     (int)(c->argv[1].len > 128 ? 128 : c->argv[1].len), c->argv[1].p);
        return;
    }
    long long until = mstime() + ms;
    if (!server_paused()) srv.paused_until_ms = srv.pause_all = 0; /* a pause past its deadline is over */
    /* A new pause only extends an existing one, and ALL wins over WRITE (Redis: the most restrictive type,
     * the latest end). */
    if (until > srv.paused_until_ms) srv.paused_until_ms = until;
    if (all) srv.pause_all = 1;
    reply_ok(c);
}

void cmd_client_unpause(client *c) {
    srv.paused_until_ms = 0;
    srv.pause_all = 0;
    reply_ok(c);
    clients_resume_paused();
}

void cmd_client_reply(client *c) {
    const arg *m = &c->argv[2];
    if (arg_is(m, "on")) {
        c->flags &= ~(CLIENT_REPLY_SKIP | CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP_NEXT);
        reply_ok(c);
    } else if (arg_is(m, "off")) {
        c->flags |= CLIENT_REPLY_OFF;
    } else if (arg_is(m, "skip")) {
        if (!(c->flags & CLIENT_REPLY_OFF)) c->flags |= CLIENT_REPLY_SKIP_NEXT;
    } else {
        reply_syntax_error(c);
    }
}

static void flag_onoff(client *c, int flag) {
    if (arg_is(&c->argv[2], "on")) c->flags |= flag;
    else if (arg_is(&c->argv[2], "off")) c->flags &= ~flag;
    else {
        reply_syntax_error(c);
        return;
    }
    reply_ok(c);
}
void cmd_client_no_evict(client *c) { flag_onoff(c, CLIENT_NO_EVICT); }
void cmd_client_no_touch(client *c) { flag_onoff(c, CLIENT_NO_TOUCH); }

void cmd_client_help(client *c) {
    static const char *lines[] = {
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "    * ID <client-id>",
        "      Kill connections by client id.",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        NULL};
    reply_help(c, "CLIENT", lines);
}
