/* slowlog: see slowlog.h.  Entries keep at most 32 arguments of at most 128
 * bytes each, as Redis does ("... (N more arguments)", "... (N more bytes)"). */
#include "features/slowlog.h"
#include "features/latency.h"
#include "commands/command.h"
#include "commands/commands.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "util/mem.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SLOWLOG_MAX_ARGC 32
#define SLOWLOG_MAX_ARGLEN 128

typedef struct slow_entry {
    long long id, time, duration;
    int argc;
    arg *argv;
    char peer[128], name[64];
    struct slow_entry *next; /* newer -> older */
} slow_entry;

static slow_entry *head;
static unsigned long count;
static long long next_id;

static void slow_free(slow_entry *e) {
    for (int i = 0; i < e->argc; i++) s_free(e->argv[i].p);
    s_free(e->argv);
    s_free(e);
}

static void trim(void) {
    if (count <= srv.slowlog_max_len) return;
    slow_entry **pp = &head;
    unsigned long k = 0;
    while (*pp && k < srv.slowlog_max_len) pp = &(*pp)->next, k++;
    slow_entry *e = *pp;
    *pp = NULL;
    while (e) {
        slow_entry *n = e->next;
        slow_free(e);
        count--;
        e = n;
    }
}

/* Whether argument i of c's command is a secret the log shows as "(redacted)", as Redis 7.0 redacts it:
 * AUTH's password (and user), HELLO's AUTH pair, every ACL SETUSER rule, MIGRATE's AUTH/AUTH2 credentials
 * and the values CONFIG SET gives to requirepass and masterauth. */
static int redacted(const client *c, int i) {
    if (!c->cmd || i == 0) return 0;
    const char *name = c->cmd->fullname;
    if (!strcmp(name, "auth")) return 1;
    if (!strcmp(name, "acl|setuser")) return i >= 2;
    if (!strcmp(name, "hello") || !strcmp(name, "migrate")) {
        for (int j = 1; j < i; j++) {
            if (c->argv[j].len == 4 && !strncasecmp(c->argv[j].p, "auth", 4))
                return i - j <= (!strcmp(name, "hello") ? 2 : 1);
            if (c->argv[j].len == 5 && !strncasecmp(c->argv[j].p, "auth2", 5)) return i - j <= 2;
        }
        return 0;
    }
    if (!strcmp(name, "config|set") && i >= 3 && i % 2 == 1) {
        const arg *k = &c->argv[i - 1];
        return (k->len == 11 && !strncasecmp(k->p, "requirepass", 11)) ||
               (k->len == 10 && !strncasecmp(k->p, "masterauth", 10));
    }
    return 0;
}

void slowlog_maybe_add(client *c, long long dur) {
    if (srv.latency_monitor_threshold && dur / 1000 >= srv.latency_monitor_threshold)
        latency_add_sample((c->cmd && (c->cmd->flags & CMD_FAST)) ? "fast-command" : "command", dur / 1000);
    if (srv.slowlog_log_slower_than < 0 || dur < srv.slowlog_log_slower_than) return;
    slow_entry *e = s_calloc(sizeof(*e));
    e->id = next_id++;
    e->time = mstime() / 1000;
    e->duration = dur;
    int argc = c->argc > SLOWLOG_MAX_ARGC ? SLOWLOG_MAX_ARGC : c->argc;
    e->argc = argc;
    e->argv = s_malloc(sizeof(arg) * (size_t)argc);
    for (int i = 0; i < argc; i++) {
        char buf[160];
        const char *p = c->argv[i].p;
        size_t len = c->argv[i].len;
        if (redacted(c, i) && !(argc != c->argc && i == argc - 1)) {
            p = "(redacted)";
            len = 10;
        } else if (argc != c->argc && i == argc - 1) {
            len = (size_t)snprintf(buf, sizeof(buf), "... (%d more arguments)", c->argc - argc + 1);
            p = buf;
        } else if (len > SLOWLOG_MAX_ARGLEN) {
            memcpy(buf, p, SLOWLOG_MAX_ARGLEN);
            len = SLOWLOG_MAX_ARGLEN + (size_t)snprintf(buf + SLOWLOG_MAX_ARGLEN, sizeof(buf) - SLOWLOG_MAX_ARGLEN,
                                                        "... (%zu more bytes)", c->argv[i].len - SLOWLOG_MAX_ARGLEN);
            p = buf;
        }
        e->argv[i].p = s_memdup(p, len + 1);
        e->argv[i].len = len;
    }
    snprintf(e->peer, sizeof(e->peer), "%s", c->addr);
    snprintf(e->name, sizeof(e->name), "%s", c->name ? c->name : "");
    e->next = head;
    head = e;
    count++;
    trim();
}

void cmd_slowlog_get(client *c) {
    long long n = 10;
    if (c->argc == 3) {
        if (!arg_ll(c, &c->argv[2], &n, "ERR count should be greater than or equal to -1")) return;
        if (n < -1) {
            reply_error(c, "ERR count should be greater than or equal to -1");
            return;
        }
        if (n == -1) n = (long long)count;
    }
    long long k = 0;
    for (slow_entry *e = head; e && k < n; e = e->next) k++;
    reply_array(c, k);
    k = 0;
    for (slow_entry *e = head; e && k < n; e = e->next, k++) {
        reply_array(c, 6);
        reply_int(c, e->id);
        reply_int(c, e->time);
        reply_int(c, e->duration);
        reply_array(c, e->argc);
        for (int i = 0; i < e->argc; i++) reply_bulk(c, e->argv[i].p, e->argv[i].len);
        reply_bulk_cstr(c, e->peer);
        reply_bulk_cstr(c, e->name);
    }
}

void cmd_slowlog_len(client *c) { reply_int(c, (long long)count); }

void cmd_slowlog_reset(client *c) {
    while (head) {
        slow_entry *n = head->next;
        slow_free(head);
        head = n;
    }
    count = 0;
    reply_ok(c);
}

void cmd_slowlog_help(client *c) {
    static const char *lines[] = {
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        NULL};
    reply_help(c, "SLOWLOG", lines);
}
