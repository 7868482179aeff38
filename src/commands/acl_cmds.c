/* acl_cmds: the ACL command (SETUSER, GETUSER, DELUSER, USERS, LIST, WHOAMI, CAT, GENPASS, LOG, SAVE, LOAD,
 * DRYRUN, HELP) over features/acl.h, with Redis 7.0's replies and error texts. */
#include "commands/command.h"
#include "commands/commands.h"
#include "features/acl.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

/* An error whose text may hold user input: newlines become spaces (Redis's addReplyErrorSdsSafe). */
static void reply_error_safe(client *c, char *msg) {
    for (char *p = msg; *p; p++)
        if (*p == '\r' || *p == '\n') *p = ' ';
    size_t n = strlen(msg);
    char *full = s_malloc(n + 5);
    memcpy(full, "ERR ", 4);
    memcpy(full + 4, msg, n + 1);
    reply_error(c, full);
    s_free(full);
}

static int has_spaces(const arg *a) {
    for (size_t i = 0; i < a->len; i++)
        if (a->p[i] == ' ' || a->p[i] == '\t' || a->p[i] == '\n' || a->p[i] == '\r' || a->p[i] == '\v' ||
            a->p[i] == '\f' || a->p[i] == 0)
            return 1;
    return 0;
}

void cmd_acl_setuser(client *c) {
    const arg *name = &c->argv[2];
    if (has_spaces(name)) {
        reply_error(c, "ERR Usernames can't contain spaces or null characters");
        return;
    }
    char *err = acl_setuser(name->p, name->len, c->argv + 3, c->argc - 3, c);
    if (!err) {
        reply_ok(c);
        return;
    }
    reply_error_safe(c, err);
    s_free(err);
}

void cmd_acl_deluser(client *c) {
    for (int j = 2; j < c->argc; j++)
        if (c->argv[j].len == 7 && !memcmp(c->argv[j].p, "default", 7)) {
            reply_error(c, "ERR The 'default' user cannot be removed");
            return;
        }
    long long deleted = 0;
    for (int j = 2; j < c->argc; j++) deleted += acl_deluser(c->argv[j].p, c->argv[j].len, c);
    reply_int(c, deleted);
}

static void reply_selector(client *c, const acl_selector *s) {
    char *cmds = acl_describe_commands(s), *keys = acl_describe_keys(s), *chans = acl_describe_channels(s);
    reply_bulk_cstr(c, "commands");
    reply_bulk_cstr(c, cmds);
    reply_bulk_cstr(c, "keys");
    reply_bulk_cstr(c, keys);
    reply_bulk_cstr(c, "channels");
    reply_bulk_cstr(c, chans);
    s_free(cmds);
    s_free(keys);
    s_free(chans);
}

void cmd_acl_getuser(client *c) {
    const acl_user *u = acl_find(c->argv[2].p, c->argv[2].len);
    if (!u) {
        reply_null(c);
        return;
    }
    reply_map(c, 6);
    reply_bulk_cstr(c, "flags");
    const char *names[5];
    int nf = acl_user_flag_names(u, names);
    reply_set(c, nf);
    for (int i = 0; i < nf; i++) reply_bulk_cstr(c, names[i]);
    reply_bulk_cstr(c, "passwords");
    reply_array(c, u->npass);
    for (int i = 0; i < u->npass; i++) reply_bulk(c, u->pass[i], ACL_HASH_LEN);
    reply_selector(c, &u->sels[0]);
    reply_bulk_cstr(c, "selectors");
    reply_array(c, u->nsels - 1);
    for (int i = 1; i < u->nsels; i++) {
        reply_map(c, 3);
        reply_selector(c, &u->sels[i]);
    }
}

static void list_users(client *c, int names_only) {
    int n;
    acl_user **v = acl_users(&n);
    reply_array(c, n);
    for (int i = 0; i < n; i++) {
        if (names_only) {
            reply_bulk(c, v[i]->name, v[i]->namelen);
            continue;
        }
        char *d = acl_describe_user(v[i]);
        size_t dl = strlen(d);
        char *line = s_malloc(5 + v[i]->namelen + 1 + dl + 1);
        memcpy(line, "user ", 5);
        memcpy(line + 5, v[i]->name, v[i]->namelen);
        line[5 + v[i]->namelen] = ' ';
        memcpy(line + 6 + v[i]->namelen, d, dl);
        reply_bulk(c, line, 6 + v[i]->namelen + dl);
        s_free(line);
        s_free(d);
    }
}

void cmd_acl_users(client *c) { list_users(c, 1); }
void cmd_acl_list(client *c) { list_users(c, 0); }

void cmd_acl_whoami(client *c) {
    if (c->user) reply_bulk(c, c->user->name, c->user->namelen);
    else reply_null(c);
}

static int no_aclfile(client *c) {
    if (srv.aclfile && srv.aclfile[0]) return 0;
    reply_error(c, "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via "
                   "the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration "
                   "file set) in order to store users in the Redis configuration.");
    return 1;
}

void cmd_acl_load(client *c) {
    if (no_aclfile(c)) return;
    char *err = acl_load_file(srv.aclfile, c);
    if (!err) {
        reply_ok(c);
        return;
    }
    reply_error_safe(c, err);
    s_free(err);
}

void cmd_acl_save(client *c) {
    if (no_aclfile(c)) return;
    if (acl_save_file(srv.aclfile) == 0) reply_ok(c);
    else
        reply_error(c, "ERR There was an error trying to save the ACLs. Please check the server logs for more "
                       "information");
}

void cmd_acl_cat(client *c) {
    if (c->argc == 2) {
        reply_array(c, ACL_CATEGORIES);
        for (int i = 0; i < ACL_CATEGORIES; i++) reply_bulk_cstr(c, acl_category_names[i]);
        return;
    }
    if (c->argc != 3) {
        reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try ACL HELP.",
                     (int)c->argv[1].len, c->argv[1].p);
        return;
    }
    uint32_t f = acl_category_flag(c->argv[2].p, c->argv[2].len);
    if (!f) {
        reply_errorf(c, "ERR Unknown category '%.*s'", (int)(c->argv[2].len > 128 ? 128 : c->argv[2].len),
                     c->argv[2].p);
        return;
    }
    size_t pos = reply_defer(c);
    long n = 0;
    for (int i = 0; i < command_defs_count; i++) {
        const cmd_def *d = &command_defs[i];
        if (!(d->acl & f) || !acl_def_in_redis70(d)) continue;
        reply_bulk_cstr(c, d->fullname);
        n++;
    }
    reply_defer_set(c, pos, n, '*');
}

#define GENPASS_MAX_BITS 4096
void cmd_acl_genpass(client *c) {
    long long bits = 256;
    if (c->argc > 3) {
        reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try ACL HELP.",
                     (int)c->argv[1].len, c->argv[1].p);
        return;
    }
    if (c->argc == 3 && !arg_ll(c, &c->argv[2], &bits, NULL)) return;
    if (bits <= 0 || bits > GENPASS_MAX_BITS) {
        reply_errorf(c, "ERR ACL GENPASS argument must be the number of bits for the output password, a positive "
                        "number up to %d",
                     GENPASS_MAX_BITS);
        return;
    }
    long long chars = (bits + 3) / 4;
    unsigned char raw[GENPASS_MAX_BITS / 8];
    char out[GENPASS_MAX_BITS / 4];
    size_t got = 0;
    while (got < sizeof(raw)) {
        ssize_t r = getrandom(raw + got, sizeof(raw) - got, 0);
        if (r <= 0) break;
        got += (size_t)r;
    }
    static const char hex[] = "0123456789abcdef";
    for (long long i = 0; i < chars; i++) out[i] = hex[(raw[i / 2] >> ((i & 1) ? 0 : 4)) & 15];
    reply_bulk(c, out, (size_t)chars);
}

void cmd_acl_log(client *c) {
    long long count = 10;
    if (c->argc > 3) {
        reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try ACL HELP.",
                     (int)c->argv[1].len, c->argv[1].p);
        return;
    }
    if (c->argc == 3) {
        if (arg_is(&c->argv[2], "reset")) {
            acl_log_reset();
            reply_ok(c);
            return;
        }
        if (!arg_ll(c, &c->argv[2], &count, NULL)) return;
        if (count < 0) count = 0;
    }
    size_t n;
    acl_log_entry **v = acl_log_entries(&n);
    if ((size_t)count > n) count = (long long)n;
    reply_array(c, count);
    long long now = mstime();
    static const char *const reasons[] = {"unknown", "command", "key", "auth", "channel"};
    static const char *const contexts[] = {"toplevel", "multi", "lua"};
    for (long long i = 0; i < count; i++) {
        const acl_log_entry *e = v[i];
        reply_map(c, 7);
        reply_bulk_cstr(c, "count");
        reply_int(c, e->count);
        reply_bulk_cstr(c, "reason");
        reply_bulk_cstr(c, e->reason >= 1 && e->reason <= 4 ? reasons[e->reason] : "unknown");
        reply_bulk_cstr(c, "context");
        reply_bulk_cstr(c, e->context >= 0 && e->context <= 2 ? contexts[e->context] : "unknown");
        reply_bulk_cstr(c, "object");
        reply_bulk(c, e->object, e->objlen);
        reply_bulk_cstr(c, "username");
        reply_bulk(c, e->username, e->ulen);
        reply_bulk_cstr(c, "age-seconds");
        reply_double(c, (double)(now - e->ctime_ms) / 1000);
        reply_bulk_cstr(c, "client-info");
        reply_bulk_cstr(c, e->cinfo);
    }
}

void cmd_acl_dryrun(client *c) {
    const acl_user *u = acl_find(c->argv[2].p, c->argv[2].len);
    if (!u) {
        reply_errorf(c, "ERR User '%.*s' not found", (int)c->argv[2].len, c->argv[2].p);
        return;
    }
    arg *argv = c->argv + 3;
    int argc = c->argc - 3;
    /* Every Redis 7.0 command, implemented here or not: the definitions hold them all. */
    const cmd_def *def = NULL;
    const cmd_def *base = command_def_find(argv[0].p, argv[0].len);
    if (base) {
        int container = 0;
        size_t bl = strlen(base->fullname);
        for (int i = 0; i < command_defs_count && !container; i++)
            if (!strncmp(command_defs[i].fullname, base->fullname, bl) && command_defs[i].fullname[bl] == '|')
                container = 1;
        if (!container || argc == 1) def = base;
        else {
            char full[256];
            if (argv[1].len < 128) {
                int n = snprintf(full, sizeof(full), "%s|%.*s", base->fullname, (int)argv[1].len, argv[1].p);
                def = command_def_find(full, (size_t)n);
            }
        }
    }
    if (!def) {
        reply_errorf(c, "ERR Command '%.*s' not found", (int)c->argv[3].len, c->argv[3].p);
        return;
    }
    if ((def->arity > 0 && def->arity != argc) || argc < -def->arity) {
        reply_errorf(c, "ERR wrong number of arguments for '%s' command", def->fullname);
        return;
    }
    int idx = 0, r = acl_check(u, def, argv, argc, &idx);
    if (r == ACL_OK) {
        reply_ok(c);
        return;
    }
    char *msg;
    size_t need = 128 + strlen(def->fullname) + argv[idx].len;
    msg = s_malloc(need);
    int n;
    if (r == ACL_DENIED_CMD) n = snprintf(msg, need, "This user has no permissions to run the '%s' command", def->fullname);
    else
        n = snprintf(msg, need, "This user has no permissions to access the '%.*s' %s", (int)argv[idx].len,
                     argv[idx].p, r == ACL_DENIED_KEY ? "key" : "channel");
    reply_bulk(c, msg, (size_t)n);
    s_free(msg);
}

void cmd_acl_help(client *c) {
    static const char *lines[] = {
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        NULL};
    reply_help(c, "ACL", lines);
}

static command acl_subs[] = {
    {"cat", cmd_acl_cat},         {"deluser", cmd_acl_deluser}, {"dryrun", cmd_acl_dryrun},
    {"genpass", cmd_acl_genpass}, {"getuser", cmd_acl_getuser}, {"help", cmd_acl_help},
    {"list", cmd_acl_list},       {"load", cmd_acl_load},       {"log", cmd_acl_log},
    {"save", cmd_acl_save},       {"setuser", cmd_acl_setuser}, {"users", cmd_acl_users},
    {"whoami", cmd_acl_whoami},   {0}};

command acl_commands[] = {{"acl", NULL, acl_subs}, {0}};
