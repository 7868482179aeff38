/* call: see call.h. */
#include "commands/call.h"
#include "commands/propagate.h"
#include "server/server.h"
#include "features/slowlog.h"

void call(client *c, command *cmd) {
    long long start = ustime();
    if (!srv.in_exec) srv.cmd_now_ms = start / 1000;
    long long errors = srv.stat_total_error_replies;
    long long dirty = srv.dirty;
    int keep_expired = srv.keep_expired, no_touch = srv.no_touch;
    if (c->flags & CLIENT_APPLY_STREAM) srv.keep_expired = 1;
    srv.no_touch = (c->flags & CLIENT_NO_TOUCH) != 0;
    c->cmd = cmd;
    c->lastcmd = cmd;
    prop_call_begin();
    cmd->proc(c);
    prop_call_end(c, srv.dirty != dirty);
    srv.keep_expired = keep_expired;
    srv.no_touch = no_touch;
    long long dur = ustime() - start;
    cmd->calls++;
    cmd->usec += dur;
    if (srv.stat_total_error_replies != errors) cmd->failed++;
    srv.stat_numcommands++;
    c->lastcmd = cmd;
    if (!(cmd->flags & CMD_SKIP_SLOWLOG)) slowlog_maybe_add(c, dur);
}
