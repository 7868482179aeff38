/* dispatch: see dispatch.h. */
#include "commands/dispatch.h"
#include "commands/restore_cmds.h"
#include "commands/call.h"
#include "commands/commands.h"
#include "commands/propagate.h"
#include "mem/arena.h"
#include "persist/aof.h"
#include "protocol/reply.h"
#include "features/acl.h"
#include "features/blocking.h"
#include "features/eval.h"
#include "features/functions.h"
#include "features/monitor.h"
#include "features/multi.h"
#include "features/notify.h"
#include "features/pubsub.h"
#include "features/saving.h"
#include "features/replsync.h"
#include "features/tracking.h"
#include "keyspace/evict.h"
#include "persist/snapshot.h"
#include "server/server.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>

static void reject(client *c, command *cmd, const char *msg) {
    if (cmd) cmd->rejected++;
    if (c->flags & CLIENT_MULTI) multi_flag_dirty(c);
    if (cmd && cmd->proc == cmd_exec) { /* a rejected EXEC discards the transaction */
        char buf[600];
        snprintf(buf, sizeof(buf), "EXECABORT Transaction discarded because of: %s", strncmp(msg, "ERR ", 4) ? msg : msg + 4);
        reply_error(c, buf);
        multi_discard(c);
        unwatch_all_keys(c);
        monitor_feed(c, cmd, c->argc, c->argv); /* MULTI was shown: EXEC closes it */
        return;
    }
    reply_error(c, msg);
}

static void unknown_command(client *c) {
    char args[160] = "", msg[512];
    size_t used = 0;
    for (int i = 1; i < c->argc && used < 128; i++) {
        int room = 128 - (int)used;
        int n = snprintf(args + used, sizeof(args) - used, "'%.*s' ",
                         (int)(c->argv[i].len < (size_t)room ? c->argv[i].len : (size_t)room), c->argv[i].p);
        if (n < 0) break;
        used += (size_t)n;
        if (used >= sizeof(args)) used = sizeof(args) - 1;
    }
    command *cont = c->argc >= 2 ? command_container(c->argv[0].p, c->argv[0].len) : NULL;
    if (cont) {
        char up[48];
        size_t i;
        for (i = 0; i < sizeof(up) - 1 && cont->name[i]; i++) up[i] = (char)toupper((unsigned char)cont->name[i]);
        up[i] = 0;
        snprintf(msg, sizeof(msg), "ERR unknown subcommand '%.*s'. Try %s HELP.",
                 (int)(c->argv[1].len > 128 ? 128 : c->argv[1].len), c->argv[1].p, up);
    } else {
        snprintf(msg, sizeof(msg), "ERR unknown command '%.*s', with args beginning with: %s",
                 (int)(c->argv[0].len > 128 ? 128 : c->argv[0].len), c->argv[0].p, args);
    }
    reject(c, NULL, msg);
}

static int is_tx_control(const command *cmd) {
    return cmd->proc == cmd_exec || cmd->proc == cmd_discard || cmd->proc == cmd_multi || cmd->proc == cmd_watch ||
           !strcmp(cmd->name, "quit") || !strcmp(cmd->name, "reset");
}

/* The command's flags, with a script's or function's declared flags for EVAL* and FCALL* (Redis 7.0's
 * getCommandFlags). */
static uint32_t script_aware_flags(client *c, command *cmd) {
    if (cmd->proc == cmd_fcall || cmd->proc == cmd_fcall_ro) return fcall_command_flags(c, cmd);
    return eval_command_flags(c, cmd);
}

/* Whether a command line writes a key whose big value a running snapshot still owes: call() would
 * announce the key, and the snapshot serialize the value whole, holding the loop; the command waits
 * instead while the value is written in parts (persist/snapshot.h).  Keys a command changes without
 * naming them (a script's undeclared keys) still take the whole serialization. */
static int owed_big_value(void *ud, db *d, const char *key, size_t klen) {
    (void)ud;
    return snapshot_write_waits(d->id, key, klen);
}

/* The keys call() will announce (a write's), or a script's declared ones (EVAL, EVALSHA, FCALL: its writes
 * are announced from inside it, too late to wait). */
static int keys_owed(command *cmd, arg *argv, int argc, db *d) {
    if (!(cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE))) return 0;
    return call_foreach_key(cmd, argv, argc, d, owed_big_value, NULL);
}

static int waits_for_snapshot(client *c, command *cmd) {
    if (!snapshot_running() || eval_busy()) return 0;
    if (cmd->proc != cmd_exec) return keys_owed(cmd, c->argv, c->argc, c->db);
    db *d = c->db; /* EXEC: each queued command in the database its transaction's SELECTs leave */
    for (int i = 0; i < c->mcount; i++) {
        const queued_cmd *q = &c->mq[i];
        long long id;
        if (q->cmd->proc == cmd_select && q->argc == 2 && str2ll(q->argv[1].p, q->argv[1].len, &id) && id >= 0 &&
            id < srv.dbnum)
            d = &srv.dbs[id];
        else if (keys_owed(q->cmd, q->argv, q->argc, d))
            return 1;
    }
    return 0;
}

/* What a RESP2 client in subscriber mode may run. */
static int allowed_when_subscribed(const command *cmd) {
    cmd_proc *p = cmd->proc;
    return p == cmd_ping || p == cmd_subscribe || p == cmd_ssubscribe || p == cmd_unsubscribe || p == cmd_sunsubscribe ||
           p == cmd_psubscribe || p == cmd_punsubscribe || p == cmd_quit || p == cmd_reset;
}

static int process_checked(client *c);

int process_command(client *c) {
    int done = process_checked(c);
    if (done) tracking_after_command(c, c->cmd);
    return done;
}

static int process_checked(client *c) {
    if (c->xflags & CLIENT_SYNCING) return 1; /* its connection carries an RDB image only (replsync.h) */
    command *cmd = command_lookup(c->argv, c->argc);
    c->cmd = cmd;
    if (!cmd) {
        unknown_command(c);
        return 1;
    }
    if ((cmd->arity > 0 && c->argc != cmd->arity) || c->argc < -cmd->arity) {
        char msg[128];
        snprintf(msg, sizeof(msg), "ERR wrong number of arguments for '%s' command", cmd->fullname);
        reject(c, cmd, msg);
        return 1;
    }
    if (cmd->proc == cmd_debug || cmd->proc == cmd_module_load || cmd->proc == cmd_module_unload) {
        /* protected commands: enable-debug-command / enable-module-command, no / yes / local */
        int debug = cmd->proc == cmd_debug, allow = debug ? srv.enable_debug_command : srv.enable_module_command;
        if (!(allow == 1 || (allow == 2 && client_is_local(c)))) {
            char msg[300];
            snprintf(msg, sizeof(msg),
                     "ERR %s command not allowed. If the %s option is set to \"local\", you can run it from a local "
                     "connection, otherwise you need to set this option in the configuration file, and then restart "
                     "the server.", debug ? "DEBUG" : "MODULE", debug ? "enable-debug-command" : "enable-module-command");
            reject(c, cmd, msg);
            return 1;
        }
    }
    if (!(c->flags & CLIENT_AUTHENTICATED) && !(cmd->flags & CMD_NO_AUTH)) {
        if (!srv.default_user_open) {
            reject(c, cmd, "NOAUTH Authentication required.");
            return 1;
        }
        c->flags |= CLIENT_AUTHENTICATED; /* the default user became nopass: everyone is in, as Redis */
    }
    if (srv.loading && !(cmd->flags & CMD_LOADING)) {
        reject(c, cmd, "LOADING Redis is loading the dataset in memory");
        return 1;
    }
    if (eval_busy() && !(cmd->flags & CMD_ALLOW_BUSY)) { /* a script passed busy-reply-threshold */
        reject(c, cmd, eval_busy_error());
        return 1;
    }
    if ((c->flags & CLIENT_MULTI) && (cmd->flags & CMD_NO_MULTI)) {
        reject(c, cmd, "ERR Command not allowed inside a transaction");
        return 1;
    }
    if (c->user && !c->user->unrestricted) { /* the default user with every permission pays one test */
        int errpos = 0, r = acl_check(c->user, cmd->def, c->argv, c->argc, &errpos);
        if (r != ACL_OK) {
            char msg[160];
            acl_log_denied(c, c, r, (c->flags & CLIENT_MULTI) ? ACL_CTX_MULTI : ACL_CTX_TOPLEVEL, errpos);
            reject(c, cmd, acl_denied_message(r, cmd, msg, sizeof(msg)));
            return 1;
        }
    }
    if ((srv.maxmemory || srv.safety_limit || arena_low()) && !eval_busy()) {
        /* a script's shebang flags and a function's flags count */
        int deny = (script_aware_flags(c, cmd) & CMD_DENYOOM) != 0;
        if (cmd->proc == cmd_exec && multi_queue_has_flag(c, CMD_DENYOOM)) deny = 1;
        if ((c->flags & CLIENT_MULTI) && !is_tx_control(cmd)) deny = 1;
        /* With maxmemory, every command first evicts (as Redis does); the safety limit only gates writes. */
        int refuse = srv.maxmemory ? server_memory_refuses_writes() : deny && server_memory_refuses_writes();
        if (refuse && deny) {
            srv.stat_oom_rejections++;
            reject(c, cmd, "OOM command not allowed when used memory > 'maxmemory'.");
            return 1;
        }
    }
    tracking_limit(); /* tracking-table-max-keys, before the command may add keys */
    if (saving_refuses_writes()) {
        int writes = (cmd->flags & CMD_WRITE) || (cmd->proc == cmd_exec && multi_queue_has_flag(c, CMD_WRITE)) ||
                     !strcmp(cmd->name, "ping");
        if (writes) {
            reject(c, cmd, saving_misconf_error);
            return 1;
        }
    }
    int aof_errno = aof_write_error();
    if (aof_errno && ((cmd->flags & CMD_WRITE) || !strcmp(cmd->name, "ping") ||
                      (cmd->proc == cmd_exec && multi_queue_has_flag(c, CMD_WRITE)))) {
        char msg[256];
        snprintf(msg, sizeof(msg), "MISCONF Errors writing to the AOF file: %s", strerror(aof_errno));
        reject(c, cmd, msg);
        return 1;
    }
    if ((c->flags & CLIENT_PUBSUB) && c->resp == 2 && !allowed_when_subscribed(cmd)) {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in "
                 "this context",
                 cmd->fullname);
        reject(c, cmd, msg);
        return 1;
    }
    if (srv.paused_until_ms) {
        /* As Redis 7.0: under ALL every command waits (CLIENT UNPAUSE too: an ALL pause ends with its
         * timeout); under WRITE, what may write or replicate,
         * scripts by their flags, EXEC by its queue, and commands being queued in MULTI alike. */
        int affected = srv.pause_all || (script_aware_flags(c, cmd) & (CMD_WRITE | CMD_MAY_REPLICATE)) ||
                       (cmd->proc == cmd_exec && multi_queue_has_flag(c, CMD_WRITE | CMD_MAY_REPLICATE));
        if (affected) {
            c->flags |= CLIENT_PAUSED;
            return 0;
        }
    }
    if (!((c->flags & CLIENT_MULTI) && !is_tx_control(cmd)) && waits_for_snapshot(c, cmd)) {
        c->flags |= CLIENT_PAUSED; /* until a big value's record ends (saving_step resumes it) */
        return 0;
    }
    if ((c->flags & CLIENT_MULTI) && !is_tx_control(cmd)) {
        multi_queue(c, cmd);
        reply_raw(c, "+QUEUED\r\n", 9);
        return 1;
    }
    call(c, cmd);
    if (c->flags & CLIENT_REPLY_SKIP) c->flags &= ~CLIENT_REPLY_SKIP;
    if (c->flags & CLIENT_REPLY_SKIP_NEXT) {
        c->flags &= ~CLIENT_REPLY_SKIP_NEXT;
        c->flags |= CLIENT_REPLY_SKIP;
    }
    return 1;
}

/* A client going away leaves its transaction, its watched keys and the queues of keys it waited on. */
static void client_leaving(client *c) {
    unwatch_all_keys(c);
    multi_discard(c);
    blocking_unblock(c);
    restore_client_gone(c);
    pubsub_unsubscribe_all(c);
    monitor_remove(c);
    tracking_client_freeing(c);
    replsync_client_freeing(c);
}

static const client_hooks hooks = {
    .process = process_command,
    .freeing = client_leaving,
    .command_name = command_fullname,
    .user_name = acl_client_user_name,
    .arriving = restore_arriving,
    .qbuf_released = restore_qbuf_released,
    .drained = replsync_drained,
};

const client_hooks *dispatch_client_hooks(void) { return &hooks; }

void dispatch_init(void) {
    commands_init();
    acl_init();       /* users: the default user exists before any client */
    multi_init();     /* WATCH listens to the effects layer */
    prop_init();      /* propagation: expiry and eviction as DEL */
    eval_init();      /* the Lua interpreter and the script cache */
    functions_init(); /* function libraries */
    blocking_init();  /* blocked clients: keys announced ready */
    snapshot_init();  /* snapshots: keys announced before they change */
    notify_init();    /* keyspace notifications */
    tracking_init();  /* client-side caching: invalidations */
    clients_set_hooks(&hooks);
}
