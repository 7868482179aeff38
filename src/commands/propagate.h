/* propagate: what a call did, as the commands that reproduce it.
 *
 * AOF and replicas (and the tests' replay log) are sinks: they receive, in
 * order, commands that applied to an empty server of the same configuration
 * rebuild the same keyspace.  call() brackets every command with
 * prop_call_begin/prop_call_end; between them the command's effects are
 * collected as "ops" (a db id and an argument vector, copied), in the order
 * they happened:
 * - A write (the command changed srv.dirty, see keyspace/effects.h) is
 *   recorded as its own arguments when it returns, unless it said otherwise:
 *   prop_rewrite() replaces its arguments by a deterministic, absolute form
 *   (SET EX as SET PXAT, INCRBYFLOAT as SET KEEPTTL, BLPOP as LPOP ...),
 *   recorded when it returns, and only if it wrote; prop_also() records
 *   further ops at once (so they precede the command's own); prop_prevent()
 *   records nothing of its own (EXEC: its commands record themselves; SPOP:
 *   it records SREMs with prop_also).
 * - Keys deleted by lazy or active expiry or by eviction are recorded as DEL
 *   (UNLINK under lazyfree-lazy-expire / lazyfree-lazy-eviction), through the
 *   effects layer, when they happen: within a command they precede it.
 * When the outermost call returns, its ops go to every sink: one op alone,
 * several wrapped in MULTI ... EXEC so that a sink applies them atomically.
 * Ops outside any call (active expiry and eviction run from the event loop)
 * go out at once.  Sinks receive dbid -1 for MULTI and EXEC (no database).
 *
 * Targets.  Each sink is of one kind, the AOF (PROP_AOF) or the replicas
 * (PROP_REPL: the test sink counts as one), and each op is for a set of
 * them: all, unless a script narrowed it with redis.set_repl for the
 * commands it runs (prop_set_targets).  An op for no target is not recorded
 * at all; MULTI and EXEC go to every sink.  Deletions by expiry or eviction
 * always go to all.
 *
 * With no sink registered nothing is recorded or copied: propagation costs
 * a counter increment per call. */
#ifndef SARDINE_PROPAGATE_H
#define SARDINE_PROPAGATE_H
#include "net/client.h"

typedef void prop_sink_fn(void *ud, int dbid, int argc, const arg *argv);

enum { PROP_NONE = 0, PROP_AOF = 1, PROP_REPL = 2, PROP_ALL = 3 }; /* Redis's PROPAGATE_* values */

void prop_init(void);
/* kind: PROP_AOF or PROP_REPL. */
void prop_add_sink(prop_sink_fn *fn, void *ud, int kind);
void prop_remove_sink(prop_sink_fn *fn, void *ud);
int prop_has_sinks(void);

/* call()'s brackets; wrote: the command changed the dataset (srv.dirty moved). */
void prop_call_begin(void);
void prop_call_end(client *c, int wrote);

/* For commands: propagate argv instead of the running command's own arguments. */
void prop_rewrite(client *c, int argc, const arg *argv);
/* The same from C strings (each NUL-terminated, or with lengths when lens is not NULL). */
void prop_rewrite_strs(client *c, int argc, const char *const *argv, const size_t *lens);
/* Records one more op in database dbid (after those already recorded). */
void prop_also(int dbid, int argc, const arg *argv);
void prop_also_strs(int dbid, int argc, const char *const *argv, const size_t *lens);
/* Common rewrites: PEXPIREAT key when (relative and second-based expiries), and DEL key. */
void prop_rewrite_pexpireat(client *c, const arg *key, long long when);
void prop_rewrite_del(client *c, const arg *key);
/* The targets of what is recorded from now on (PROP_ALL by default); returns the previous ones.  A script
 * sets them around each command it runs. */
int prop_set_targets(int targets);
/* The running command is recorded even if it changed nothing (FLUSHALL of an empty dataset, as Redis's
 * forceCommandPropagation: a replica or the AOF must empty whatever it holds). */
void prop_force(void);
/* The same, to these targets only (PUBLISH: to replicas, whose subscribers get the message, not to the AOF). */
void prop_force_to(int targets);
/* The running command records nothing of its own. */
void prop_prevent(client *c);
/* Nothing at all is recorded between prop_suspend(1) and prop_suspend(0) (nested): the AOF loader replays files
 * through call(), also from inside DEBUG LOADAOF's own call, and what it replays is already in the files. */
void prop_suspend(int on);

/* A test sink: writes every propagated command to a file as RESP, with SELECT when the database changes
 * (DEBUG PROPAGATION-LOG).  path NULL closes it.  0 ok, -1 the file could not be opened. */
int prop_debug_log(const char *path);
#endif
