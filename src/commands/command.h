/* command: the command table's types.  Each command has Redis 7's arity
 * convention (N exact, -N at least N, counting the name), flags, key positions
 * (first, last, step; last -1 means "to the end") and the documentation that
 * COMMAND INFO/DOCS return.  Container commands (CONFIG, CLIENT, OBJECT ...)
 * have a table of subcommands; their full name is "config|get". */
#ifndef SARDINE_COMMAND_H
#define SARDINE_COMMAND_H
#include <stdint.h>
#include "net/client.h"

enum {
    CMD_WRITE = 1 << 0,
    CMD_READONLY = 1 << 1,
    CMD_DENYOOM = 1 << 2,
    CMD_ADMIN = 1 << 3,
    CMD_PUBSUB = 1 << 4,
    CMD_NOSCRIPT = 1 << 5,
    CMD_BLOCKING = 1 << 6,
    CMD_LOADING = 1 << 7,
    CMD_STALE = 1 << 8,
    CMD_SKIP_MONITOR = 1 << 9,
    CMD_SKIP_SLOWLOG = 1 << 10,
    CMD_FAST = 1 << 11,
    CMD_NO_AUTH = 1 << 12,
    CMD_MAY_REPLICATE = 1 << 13,
    CMD_NO_MULTI = 1 << 14,
    CMD_ALLOW_BUSY = 1 << 15,
    CMD_NO_MANDATORY_KEYS = 1 << 16,
    CMD_PROTECTED = 1 << 17,
    CMD_MOVABLE_KEYS = 1 << 18,
};

typedef void cmd_proc(client *c);

typedef struct command {
    const char *name; /* lower case */
    cmd_proc *proc;
    int arity;
    uint32_t flags;
    const char *acl;  /* the type category, e.g. "@string"; the rest derive from flags */
    int firstkey, lastkey, keystep;
    const char *group, *since, *summary, *complexity;
    struct command *subcmds; /* terminated by a NULL name */
    /* filled at startup / runtime */
    struct command *parent;
    char fullname[48];
    long long calls, usec, rejected, failed;
} command;

void commands_init(void);
command *command_lookup(arg *argv, int argc);
command *command_lookup_name(const char *name, size_t len);
command *command_container(const char *name, size_t len);
const char *command_fullname(const command *cmd);
/* Iteration over top-level commands. */
command **command_all(int *n);
void commands_reset_stats(void);
#endif
