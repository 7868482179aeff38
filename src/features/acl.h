/* acl: Redis 7.0's access control lists: users, their rules and the checks.
 *
 * A user has flags (on/off, nopass, sanitize-payload), password hashes (the
 * SHA-256 of each password as 64 lowercase hex digits, compared in constant
 * time; the clear text is never kept) and selectors.  The first selector is
 * the root one (the rules written outside parentheses); "(...)" adds more.  A
 * command runs when any selector allows it: the command's bit (one bit per
 * definition of commands/command_defs.c, so the rules know every Redis 7.0
 * command, implemented or not; the last bit of the bitmap marks "+@all", so
 * that a user built from +@all keeps allowing commands added later), its key
 * arguments (found by the key specs, each matched against the patterns having
 * the read/write permissions its flags need) and its channels (PUBLISH,
 * SUBSCRIBE, PSUBSCRIBE: a pattern subscription must name an allowed pattern
 * literally).
 *
 * Invariants: the default user always exists and is never freed (clients point
 * at it); users are kept sorted by name (ACL LIST/USERS order, as Redis's rax);
 * a change to a user is staged on a copy and applied only when every rule is
 * valid; `unrestricted` is 1 exactly when the root selector allows every
 * command, key and channel, which lets dispatch skip the check entirely.
 *
 * Rule descriptions (ACL LIST, GETUSER, SAVE) are rebuilt from the bitmaps by
 * Redis 7.0's own procedure (the best fitting categories first, then single
 * commands), so they read as redis-server's do. */
#ifndef SARDINE_ACL_H
#define SARDINE_ACL_H
#include <stddef.h>
#include <stdint.h>
#include "commands/command.h"
#include "net/client.h"

#define ACL_CMD_BITS 1024
#define ACL_HASH_LEN 64

/* Check results, in Redis's order (a later one is the more relevant error). */
enum { ACL_OK = 0, ACL_DENIED_CMD, ACL_DENIED_KEY, ACL_DENIED_AUTH, ACL_DENIED_CHANNEL };
/* ACL LOG contexts. */
enum { ACL_CTX_TOPLEVEL = 0, ACL_CTX_MULTI, ACL_CTX_LUA };

typedef struct acl_pattern {
    char *p;
    size_t len;
    int perm; /* ACL_PERM_R | ACL_PERM_W (channels: unused) */
} acl_pattern;

typedef struct acl_firstarg {
    int id;
    char *arg;
} acl_firstarg;

typedef struct acl_selector {
    uint32_t flags; /* SEL_* (acl.c) */
    uint64_t allowed[ACL_CMD_BITS / 64];
    acl_firstarg *fa;
    int nfa;
    acl_pattern *keys;
    int nkeys;
    acl_pattern *chans;
    int nchans;
} acl_selector;

typedef struct acl_user {
    char *name;
    size_t namelen;
    uint32_t flags; /* USER_* (acl.c) */
    char (*pass)[ACL_HASH_LEN + 1];
    int npass;
    acl_selector *sels; /* sels[0]: the root selector */
    int nsels;
    int unrestricted;   /* every command, key and channel: no check needed */
} acl_user;

/* Startup: the default user (on nopass ~* &* +@all).  After commands_init(). */
void acl_init(void);
acl_user *acl_default_user(void);
acl_user *acl_find(const char *name, size_t len);
/* Whether the user needs no password (AUTH <password> refuses to run when the default user is nopass). */
int acl_user_nopass(const acl_user *u);
/* requirepass: "" makes the default user nopass, anything else its only password. */
void acl_set_default_password(const char *pass);

/* Sets rules on user `name` (created when missing), all or nothing: NULL ok, else Redis's message (heap
 * string: "Error in ACL SETUSER modifier '...': ...").  Pub/sub clients of the user subscribed to channels
 * the new rules deny are closed (current: the client running the command, closed after its reply). */
char *acl_setuser(const char *name, size_t namelen, const arg *rules, int n, client *current);
/* Deletes a user and closes its clients (never "default"); 1 if it existed. */
int acl_deluser(const char *name, size_t namelen, client *current);
/* The users, sorted by name. */
acl_user **acl_users(int *n);
/* "on nopass #hash ~keys &chans +@all ..." as ACL LIST shows it (heap string). */
char *acl_describe_user(const acl_user *u);
/* One selector's parts, as GETUSER shows them (heap strings). */
char *acl_describe_commands(const acl_selector *s);
char *acl_describe_keys(const acl_selector *s);
char *acl_describe_channels(const acl_selector *s);
/* The names of the user flags set, in Redis's order; returns how many (at most 5). */
int acl_user_flag_names(const acl_user *u, const char **out);

/* Credentials: the user when the pair is valid and the user enabled, else NULL. */
acl_user *acl_check_credentials(const char *user, size_t ulen, const char *pass, size_t plen);
/* AUTH/HELLO: authenticates c as user, or logs the failure (ACL LOG reason auth); 0 ok, -1 failed. */
int acl_authenticate(client *c, const arg *user, const arg *pass);

/* Whether u may run def with argv (argv[0] is the command name): ACL_OK or ACL_DENIED_*, *errpos the
 * argument that failed (a key or a channel). */
int acl_check(const acl_user *u, const cmd_def *def, arg *argv, int argc, int *errpos);
static inline int acl_check_client(client *c, const command *cmd, int *errpos) {
    if (!c->user || c->user->unrestricted) return ACL_OK;
    return acl_check(c->user, cmd->def, c->argv, c->argc, errpos);
}
/* The NOPERM error of a check's result for the client's command (into buf). */
const char *acl_denied_message(int result, const command *cmd, char *buf, size_t size);
/* Adds an ACL LOG entry: reason ACL_DENIED_*, object the command's full name, the argument at argpos, or
 * for ACL_DENIED_AUTH the user name tried; who is the client whose info is logged. */
void acl_log(client *who, const acl_user *u, int reason, int context, const char *object, size_t objlen,
             const char *username, size_t ulen);
/* The same for a denied check of c's command (object chosen as Redis does). */
void acl_log_denied(client *c, client *who, int reason, int context, int errpos);
/* ACL LOG's entries, newest first. */
typedef struct acl_log_entry {
    long long count;
    int reason, context;
    char *object, *username, *cinfo;
    size_t objlen, ulen;
    long long ctime_ms;
} acl_log_entry;
acl_log_entry **acl_log_entries(size_t *n);
void acl_log_reset(void);
void acl_log_trim(void); /* to acllog-max-len */

/* A client's user name (CLIENT LIST's user=). */
const char *acl_client_user_name(const client *c);

/* Configuration: `user` lines of the config file are collected, then applied at startup
 * (acl_load_at_startup, which also reads aclfile; users in both places is a fatal error). */
int acl_config_user(const arg *argv, int argc, const char **err);
void acl_load_at_startup(void);
/* ACL LOAD: replaces every user from the file, all or nothing; NULL ok, else the error (heap string). */
char *acl_load_file(const char *path, client *current);
/* ACL SAVE: 0 ok. */
int acl_save_file(const char *path);
/* Parses an ACL file's text into a fresh set of users without touching the running ones; NULL when valid,
 * else the errors (heap string).  The fuzz target and ACL LOAD use it. */
char *acl_parse_text(const char *text, size_t len, const char *fname);

/* Categories: the flag of a category name (without '@'), 0 when unknown. */
uint32_t acl_category_flag(const char *name, size_t len);
/* Whether a definition is one of Redis 7.0's (ACL CAT lists only those). */
int acl_def_in_redis70(const cmd_def *def);
#endif
