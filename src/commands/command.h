/* command: the command table's types.
 *
 * Two halves.  What Redis 7.0 defines about a command (arity, flags, ACL
 * categories, key specs, tips, the docs of COMMAND DOCS) is data: a `cmd_def`
 * per command and subcommand in the generated command_defs.c (from
 * commands.json, see scripts/gen_commands.py), sorted by full name and holding
 * also the commands Sardine does not implement yet.  What is Sardine's is a
 * `command`: the name and the handler, listed explicitly per type file (the
 * *_commands[] arrays below, all named in table.c), joined with its
 * definition by commands_init(); a command without a definition stops the
 * server at startup.  Container commands (CONFIG, CLIENT, OBJECT ...) have a
 * table of subcommands; their full name is "config|get".
 *
 * Keys: command_get_keys() finds the key arguments of a full command line and
 * each key's flags, from the key specs as Redis 7.0 does (begin-search by
 * index or keyword, find-keys by range or keynum) and, where the specs cannot
 * describe the command (SORT's STORE, MIGRATE's KEYS, SET's variable flags,
 * an invalid numkeys ...), with the command's own getkeys function.  Cluster
 * slot checks, ACL key patterns, scripting and COMMAND GETKEYS all use it. */
#ifndef SARDINE_COMMAND_H
#define SARDINE_COMMAND_H
#include <stdint.h>
#include "net/client.h"

/* Command flags: the ones COMMAND INFO shows, in the order it shows them, then the hidden ones. */
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
    CMD_ASKING = 1 << 11,
    CMD_FAST = 1 << 12,
    CMD_NO_AUTH = 1 << 13,
    CMD_NO_MANDATORY_KEYS = 1 << 14,
    CMD_NO_ASYNC_LOADING = 1 << 15,
    CMD_NO_MULTI = 1 << 16,
    CMD_MOVABLE_KEYS = 1 << 17,
    CMD_ALLOW_BUSY = 1 << 18,
    CMD_VISIBLE_FLAGS = 19, /* number of flags COMMAND INFO shows */
    CMD_MAY_REPLICATE = 1 << 19,
    CMD_PROTECTED = 1 << 20,
};
extern const char *const command_flag_names[CMD_VISIBLE_FLAGS];

/* ACL categories, in Redis 7.0's order (the order COMMAND INFO lists them). */
enum {
    ACL_KEYSPACE = 1 << 0,
    ACL_READ = 1 << 1,
    ACL_WRITE = 1 << 2,
    ACL_SET = 1 << 3,
    ACL_SORTEDSET = 1 << 4,
    ACL_LIST = 1 << 5,
    ACL_HASH = 1 << 6,
    ACL_STRING = 1 << 7,
    ACL_BITMAP = 1 << 8,
    ACL_HYPERLOGLOG = 1 << 9,
    ACL_GEO = 1 << 10,
    ACL_STREAM = 1 << 11,
    ACL_PUBSUB = 1 << 12,
    ACL_ADMIN = 1 << 13,
    ACL_FAST = 1 << 14,
    ACL_SLOW = 1 << 15,
    ACL_BLOCKING = 1 << 16,
    ACL_DANGEROUS = 1 << 17,
    ACL_CONNECTION = 1 << 18,
    ACL_TRANSACTION = 1 << 19,
    ACL_SCRIPTING = 1 << 20,
    ACL_CATEGORIES = 21,
};
extern const char *const acl_category_names[ACL_CATEGORIES]; /* without the '@' */

/* Key spec flags, in Redis 7.0's order. */
enum {
    KS_RO = 1 << 0,
    KS_RW = 1 << 1,
    KS_OW = 1 << 2,
    KS_RM = 1 << 3,
    KS_ACCESS = 1 << 4,
    KS_UPDATE = 1 << 5,
    KS_INSERT = 1 << 6,
    KS_DELETE = 1 << 7,
    KS_NOT_KEY = 1 << 8,
    KS_INCOMPLETE = 1 << 9,
    KS_VARIABLE_FLAGS = 1 << 10,
    KS_FLAG_COUNT = 11,
};
extern const char *const key_spec_flag_names[KS_FLAG_COUNT];

enum { KS_BS_UNKNOWN, KS_BS_INDEX, KS_BS_KEYWORD };
enum { KS_FK_UNKNOWN, KS_FK_RANGE, KS_FK_KEYNUM };

/* Where a command's keys are.  Begin search: argv[index], or the argument after `keyword` searched from
 * `startfrom` (negative: from the end, backwards).  Then find keys: a range of `lastkey` (relative to the
 * first key; negative counts from the end, and with `limit` the range covers 1/limit of what is left) every
 * `keystep`, or a count at argv[first + keynumidx] of keys starting at first + firstkey every keystep. */
typedef struct key_spec {
    const char *notes;
    uint32_t flags; /* KS_* */
    int bs, fk;     /* KS_BS_*, KS_FK_* */
    int index;
    const char *keyword;
    int startfrom;
    int lastkey, keystep, limit;
    int keynumidx, firstkey;
} key_spec;

/* One key found in a command line: its argv index and its KS_* flags (0 when a getkeys function does not
 * know them, as in Redis). */
typedef struct keyref {
    int pos;
    uint32_t flags;
} keyref;

typedef int cmd_getkeys_fn(arg *argv, int argc, keyref *out, int max);

/* Documentation: the argument tree of COMMAND DOCS. */
enum {
    ARG_STRING,
    ARG_INTEGER,
    ARG_DOUBLE,
    ARG_KEY,
    ARG_PATTERN,
    ARG_UNIX_TIME,
    ARG_PURE_TOKEN,
    ARG_ONEOF,
    ARG_BLOCK
};
enum { ARG_OPTIONAL = 1 << 0, ARG_MULTIPLE = 1 << 1, ARG_MULTIPLE_TOKEN = 1 << 2 };
enum { DOC_DEPRECATED = 1 << 0, DOC_SYSCMD = 1 << 1 };

typedef struct cmd_arg {
    const char *name;
    int type;           /* ARG_STRING ... */
    int flags;          /* ARG_OPTIONAL ... */
    int key_spec_index; /* -1: none */
    const char *token, *summary, *since, *deprecated_since;
    int nargs; /* ARG_ONEOF and ARG_BLOCK */
    const struct cmd_arg *args;
} cmd_arg;

/* Everything Redis 7.0 defines about one command or subcommand. */
typedef struct cmd_def {
    const char *fullname; /* "get", "config|get" */
    int arity;
    uint32_t flags;                 /* CMD_* */
    uint32_t acl;                   /* ACL_*, including the ones implied by the flags */
    int firstkey, lastkey, keystep; /* the legacy range COMMAND INFO shows */
    int ntips;
    const char *const *tips;
    int nspecs;
    const key_spec *specs;
    cmd_getkeys_fn *getkeys; /* NULL: the specs always suffice */
    const char *summary, *since, *group, *complexity, *deprecated_since, *replaced_by;
    uint32_t doc_flags; /* DOC_* */
    int nhistory;
    const char *const *history; /* nhistory (version, change) pairs */
    int nargs;
    const cmd_arg *args;
} cmd_def;

extern const cmd_def command_defs[];
extern const int command_defs_count;
const cmd_def *command_def_find(const char *fullname, size_t len);

typedef void cmd_proc(client *c);

typedef struct command {
    const char *name; /* lower case */
    cmd_proc *proc;
    struct command *subcmds; /* terminated by a NULL name */
    /* filled at startup */
    const cmd_def *def;
    int arity;
    uint32_t flags;
    struct command *parent;
    char fullname[48];
    long long calls, usec, rejected, failed;
} command;

/* The command tables, one per file (table.c, then the types' *_cmds.c, dump_cmds.c, aof_cmds.c, module_cmds.c), each terminated by a NULL name. */
extern command core_commands[], hash_commands[], set_commands[], zset_commands[], list_commands[],
    bitmap_commands[], hll_commands[], geo_commands[], stream_commands[], sort_commands[],
    dump_commands[], aof_commands[], module_commands[];

void commands_init(void);
/* rename-command NAME NEW (NEW empty: the command is removed); 0 with Redis's error text in *err. */
int commands_rename(const char *from, const char *to, const char **err);
command *command_lookup(arg *argv, int argc);
command *command_lookup_name(const char *name, size_t len);
command *command_container(const char *name, size_t len);
const char *command_fullname(const command *cmd);
/* Iteration over top-level commands. */
command **command_all(int *n);
void commands_reset_stats(void);

/* The keys of argv[0..argc) for the command (or definition): fills up to max of them in out and returns how
 * many there are (0 when none or when the arguments are invalid).  The caller checks the arity first. */
int command_get_keys(const command *cmd, arg *argv, int argc, keyref *out, int max);
int cmd_def_get_keys(const cmd_def *def, arg *argv, int argc, keyref *out, int max);
/* 1 when the command can have key arguments (a key spec that is not NOT_KEY, or a getkeys function). */
int cmd_def_has_keys(const cmd_def *def);
#endif
