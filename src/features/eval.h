/* eval: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, on the Lua engine of
 * script_lua.h.
 *
 * The script cache maps the SHA1 of a body (exactly as sent, shebang
 * included, as Redis computes it) to its shebang flags (the body is not kept); the
 * compiled function lives in the interpreter as "f_<sha>".  SCRIPT FLUSH
 * empties both (a fresh interpreter).
 *
 * Shebang: "#!lua" with flags=no-writes,allow-oom,allow-stale,no-cluster,
 * allow-cross-slot-keys; the line is blanked before compiling so line
 * numbers stay the user's.  A script without one runs in compatibility mode
 * (Redis 7.0's rules for scripts written before flags existed).
 *
 * Atomicity and effects: a script runs inside its EVAL's call(); time is
 * frozen at its start, blocking commands do not block, EVAL itself is not
 * propagated and each write command it runs records its own effects, which
 * reach the sinks together (MULTI/EXEC when several) when EVAL returns.
 *
 * Busy scripts: past busy-reply-threshold (lua-time-limit) ms the script is
 * "timed out": the engine's hook lets the event loop handle other clients
 * (el_poll), dispatch answers them -BUSY except for the commands
 * flagged allow_busy (SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE ...), and
 * the calling client is protected (not read or freed) until the script ends.
 * SCRIPT KILL stops a script that has not written; one that wrote is
 * -UNKILLABLE. */
#ifndef SARDINE_EVAL_H
#define SARDINE_EVAL_H
#include <stddef.h>
#include <stdint.h>
#include "net/client.h"

struct command;

void eval_init(void);
/* A script has been running past busy-reply-threshold: only allow_busy commands may run. */
int eval_busy(void);
/* The -BUSY error for other clients (names SCRIPT KILL or FUNCTION KILL). */
const char *eval_busy_error(void);

/* Shared with FCALL (features/functions.c).  script_begin: Redis 7.0's checks for script flags sf (ro: a
 * *_RO command), then the run set up (effects recorded by its commands, time frozen); 0 after replying an
 * error.  script_end after the engine returned.  script_numkeys parses argv[2] (bad: the error text when
 * it is not a number, NULL for the usual one).  script_kill: SCRIPT KILL (is_eval) or FUNCTION KILL. */
struct script_run;
int script_begin(client *c, struct script_run *r, int sf, int ro, const char *name, int is_function);
void script_end(client *c, struct script_run *r);
int script_numkeys(client *c, long long *numkeys, const char *bad);
void script_kill(client *c, int is_eval);
uint32_t script_flags_to_cmd_flags(uint32_t flags, int sf);
/* The flags dispatch checks for an EVAL* command: the script's shebang flags turn into write/denyoom as
 * Redis 7.0's evalGetCommandFlags does; other commands keep their own. */
uint32_t eval_command_flags(client *c, const struct command *cmd);
/* INFO memory. */
size_t eval_scripts_count(void);
size_t eval_scripts_memory(void);
size_t eval_lua_memory(void);

void cmd_eval(client *c);
void cmd_evalsha(client *c);
void cmd_eval_ro(client *c);
void cmd_evalsha_ro(client *c);
void cmd_script_load(client *c);
void cmd_script_exists(client *c);
void cmd_script_flush(client *c);
void cmd_script_kill(client *c);
void cmd_script_help(client *c);
void cmd_script_debug(client *c);
#endif
