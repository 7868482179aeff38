/* getkeys: the key extraction functions of the commands whose keys the key
 * specs cannot always describe (see command.h for the contract of
 * cmd_getkeys_fn).  Named in src/commands/commands_extra.json and referenced
 * from the generated command_defs.c.  As in Redis 7.0 they are a fallback:
 * command_get_keys() tries the specs first, and only commands whose specs are
 * unknown, incomplete or marked VARIABLE_FLAGS, or whose specs fail on this
 * command line (a bad numkeys, a STREAMS with nothing after it), get here. */
#ifndef SARDINE_GETKEYS_H
#define SARDINE_GETKEYS_H
#include "commands/command.h"

cmd_getkeys_fn getkeys_sort, getkeys_sort_ro, getkeys_migrate, getkeys_set, getkeys_bitfield, getkeys_xread,
    getkeys_georadius;
cmd_getkeys_fn getkeys_numkeys_store; /* ZUNIONSTORE dest numkeys key...: the sources, then dest */
cmd_getkeys_fn getkeys_numkeys_at1;   /* CMD numkeys key... */
cmd_getkeys_fn getkeys_numkeys_at2;   /* CMD x numkeys key... (EVAL, FCALL, BLMPOP, BZMPOP) */
#endif
