/* monitor: MONITOR, as Redis 7.0 shows commands to monitors.
 *
 * Each command that runs (call(), after it returned; EVAL/EVALSHA/FCALL when
 * they start, so the commands of a script follow them; EXEC when it is
 * aborted before running) is written to every monitor as one status line:
 *
 *   +<sec>.<usec> [<db> <addr>] "arg" "arg" ...
 *
 * <addr> is ip:port, `unix:<unixsocket>` or `lua` for a script's commands,
 * each argument quoted and escaped as Redis's sdscatrepr.  Commands flagged
 * admin or skip_monitor are not shown, nor commands a blocked client runs
 * again when served (shown once, when they blocked), nor commands queued in
 * MULTI (shown when EXEC runs them), nor what the AOF loader replays (DEBUG
 * LOADAOF: Redis is loading then).  Passwords are shown as "(redacted)"
 * exactly where Redis 7.0 redacts them: AUTH, HELLO ... AUTH, MIGRATE ...
 * AUTH/AUTH2 (only the arguments the command parsed before an error).
 *
 * The line is built once per command and only when a monitor exists. */
#ifndef SARDINE_MONITOR_H
#define SARDINE_MONITOR_H
#include "net/client.h"

struct command;

/* Shows c's command line (cmd: its command, for the redaction rules) to the monitors. */
void monitor_feed(client *c, const struct command *cmd, int argc, const arg *argv);
/* call()'s feed: the skip rules above, then monitor_feed. */
void monitor_after_call(client *c, const struct command *cmd);
/* Leaves monitor mode (RESET, disconnect). */
void monitor_remove(client *c);
size_t monitor_count(void);
void cmd_monitor(client *c);
#endif
