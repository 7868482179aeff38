/* call: runs one command that has passed its checks, and is the only way a
 * command runs (a client's request, each command of an EXEC, a blocked
 * client's command served again, later a script's redis.call).
 *
 * The time is frozen for it (srv.cmd_now_ms; a whole EXEC shares one), its
 * statistics are counted, what it changed is handed to propagation
 * (propagate.h) and it may enter the slow log.  call() is re-entrant: an
 * EXEC calls it for each of its commands, and propagation wraps what a whole
 * outermost call did.  A client applying a propagated stream
 * (CLIENT_APPLY_STREAM) runs with expiry held (srv.keep_expired).
 *
 * After the command: MONITOR's feed (features/monitor.h) and client-side
 * caching's reads (features/tracking.h); srv.call_depth counts the nesting. */
#ifndef SARDINE_CALL_H
#define SARDINE_CALL_H
#include "commands/command.h"

void call(client *c, command *cmd);
/* Every key a command line run in database d names, in d and in the other database of MOVE and
 * COPY ... DB: the keys call() announces (effects.h: fx_before) before it runs a write command.  fn is
 * called for each until it returns nonzero; returns that value. */
typedef int call_key_fn(void *ud, db *d, const char *key, size_t klen);
int call_foreach_key(command *cmd, arg *argv, int argc, db *d, call_key_fn *fn, void *ud);
#endif
