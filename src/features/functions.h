/* functions: FUNCTION LOAD/DELETE/FLUSH/LIST/STATS/KILL/HELP and FCALL/FCALL_RO (Redis 7.0), on the
 * Lua engine of script_lua.h.
 *
 * A library is its code ("#!lua name=<lib>" then Lua) and the functions its code registered with
 * redis.register_function while FUNCTION LOAD ran it (name, description, flags, the callback).  Two maps:
 * library name -> library, function name -> function; a function name is unique across libraries.  LOAD,
 * DELETE and FLUSH change the dataset (srv.dirty) and so propagate as they were sent.  SCRIPT FLUSH
 * makes a fresh interpreter: the libraries are loaded into it again (functions_reload, which functions_init
 * gives to script_lua_on_reset).
 *
 * FCALL runs a function as EVAL runs a script (eval.h's script_begin/script_end: the function's flags,
 * effects, busy handling), with KEYS and ARGV as its two arguments.
 *
 * Libraries are saved in RDB files as FUNCTION2 records and loaded back (features/saving.c); FUNCTION
 * DUMP/RESTORE use the same records with DUMP's footer.  In the AOF, as Redis 7.0: LOAD, DELETE, FLUSH and
 * RESTORE are logged as sent (they count in srv.dirty), and a rewrite's base starts with every library
 * (FUNCTION2 records in an RDB preamble, FUNCTION LOAD commands in command form: persist/aof.c takes them
 * from functions_codes). */
#ifndef SARDINE_FUNCTIONS_H
#define SARDINE_FUNCTIONS_H
#include <stddef.h>
#include <stdint.h>
#include "net/client.h"

struct command;

void functions_init(void);
/* Loads every library again into a fresh interpreter (after SCRIPT FLUSH). */
void functions_reload(void);
/* FCALL's flags as the function's flags make them (for dispatch's OOM and pause checks). */
uint32_t fcall_command_flags(client *c, const struct command *cmd);
/* Persistence (features/saving.c): every library's code, for the FUNCTION2 records of an RDB file (the
 * arrays stay valid until the next call or change), and loading one such record (an existing library of
 * the same name is replaced: DEBUG RELOAD); 0, or -1 with the error. */
int functions_codes(const char *const **codes, const size_t **lens);
int functions_load_code(void *ud, const char *code, size_t len, char *err, size_t errlen);
/* Deletes every library (FUNCTION FLUSH without its reply and dirty count; DEBUG LOADAOF empties the data, functions
 * included, as Redis's emptyData). */
void functions_flush_all(void);
size_t functions_count(void);
size_t libraries_count(void);
size_t functions_memory(void);

void cmd_fcall(client *c);
void cmd_fcall_ro(client *c);
void cmd_function_load(client *c);
void cmd_function_delete(client *c);
void cmd_function_flush(client *c);
void cmd_function_list(client *c);
void cmd_function_stats(client *c);
void cmd_function_kill(client *c);
void cmd_function_help(client *c);
void cmd_function_dump(client *c);
void cmd_function_restore(client *c);
#endif
