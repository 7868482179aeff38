/* call: see call.h. */
#include "commands/call.h"
#include "commands/propagate.h"
#include "server/server.h"
#include "features/monitor.h"
#include "features/slowlog.h"
#include "features/tracking.h"
#include "keyspace/db.h"
#include "keyspace/effects.h"
#include "types/tstring.h"
#include "util/durclock.h"
#include "util/hdrhist.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <strings.h>

/* The database a MOVE or COPY ... DB n writes to besides the current one, or NULL. */
static db *other_db(const command *cmd, const arg *argv, int argc) {
    long long id = -1;
    if (!strcasecmp(cmd->name, "move") && argc == 3) str2ll(argv[2].p, argv[2].len, &id);
    if (!strcasecmp(cmd->name, "copy"))
        for (int i = 3; i + 1 < argc; i++)
            if (argv[i].len == 2 && !strncasecmp(argv[i].p, "db", 2)) str2ll(argv[i + 1].p, argv[i + 1].len, &id);
    return id >= 0 && id < srv.dbnum ? &srv.dbs[id] : NULL;
}

int call_foreach_key(command *cmd, arg *argv, int argc, db *d, call_key_fn *fn, void *ud) {
    keyref stack[16], *keys = stack;
    int n = command_get_keys(cmd, argv, argc, keys, 16);
    if (n > 16) {
        int max = n;
        keys = s_malloc(sizeof(keyref) * (size_t)max);
        n = command_get_keys(cmd, argv, argc, keys, max);
        if (n > max) n = max;
    }
    db *other = other_db(cmd, argv, argc);
    int stop = 0;
    for (int i = 0; i < n && !stop; i++) {
        const arg *k = &argv[keys[i].pos];
        stop = fn(ud, d, k->p, k->len);
        if (!stop && other) stop = fn(ud, other, k->p, k->len);
    }
    if (keys != stack) s_free(keys);
    return stop;
}

static int announce(void *ud, db *d, const char *key, size_t klen) {
    (void)ud;
    fx_before(d, key, klen);
    return 0;
}

void call(client *c, command *cmd) {
    uint64_t start = durclock_now(); /* the time it takes; the wall clock is read only for outermost calls */
    if (!srv.in_exec) srv.cmd_now_ms = mstime();
    long long errors = srv.stat_total_error_replies;
    long long dirty = srv.dirty;
    int keep_expired = srv.keep_expired, no_touch = srv.no_touch, expiry_held = srv.expiry_held;
    /* Under CLIENT PAUSE only reads run: they see expired keys as missing, and the keys stay until the
     * pause ends (a write, run before the pause began inside the same EXEC, still deletes them). */
    srv.expiry_held = !(cmd->flags & CMD_WRITE) && server_paused();
    if (c->flags & CLIENT_APPLY_STREAM) srv.keep_expired = 1;
    srv.no_touch = (c->flags & CLIENT_NO_TOUCH) != 0;
    c->cmd = cmd;
    c->lastcmd = cmd;
    prop_call_begin();
    if ((cmd->flags & CMD_WRITE) && fx_before_wanted()) call_foreach_key(cmd, c->argv, c->argc, c->db, announce, NULL);
    srv.call_depth++;
    cmd->proc(c);
    srv.call_depth--;
    str_scratch_reset(); /* compressed values the command read (see types/tstring.h) */
    prop_call_end(c, srv.dirty != dirty);
    srv.keep_expired = keep_expired;
    srv.no_touch = no_touch;
    srv.expiry_held = expiry_held;
    long long dur = durclock_us(start, durclock_now());
    cmd->calls++;
    cmd->usec += dur;
    if (srv.latency_tracking && !(c->flags & CLIENT_BLOCKED)) hdrhist_record(&cmd->lat_hist, dur * 1000);
    if (srv.stat_total_error_replies != errors) cmd->failed++;
    srv.stat_numcommands++;
    c->lastcmd = cmd;
    if (!(cmd->flags & CMD_SKIP_SLOWLOG)) slowlog_maybe_add(c, dur);
    monitor_after_call(c, cmd);
    /* keys read by a tracking client; messages held for this client follow the outermost reply */
    tracking_after_call(c, cmd, srv.call_depth == 0);
}
