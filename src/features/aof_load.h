/* aof_load: replays the append-only file (persist/aof.h) into the databases,
 * as Redis 7.0 loads it.
 *
 * The manifest's base file is loaded first (an RDB image through
 * persist/rdb_load.h, its function libraries included, possibly followed by
 * commands, or commands only: FUNCTION LOAD first, then the keys), then
 * each incr file in order.  Commands run through call() on a fake client
 * that gets no replies and is flagged CLIENT_APPLY_STREAM (no key expires
 * while loading; blocking commands never block); MULTI ... EXEC is queued and
 * executed as a transaction, `#` annotation lines are skipped.  A file that
 * ends in the middle of a command (or of a MULTI block) is truncated to its
 * last complete command when aof-load-truncated is yes and it is the last
 * file, else loading fails with Redis's messages; a malformed file, an
 * unknown command or a command with the wrong number of arguments fails it.
 * Nothing read is trusted: lengths are checked against what the file holds
 * before anything is allocated. */
#ifndef SARDINE_AOF_LOAD_H
#define SARDINE_AOF_LOAD_H

/* Startup: reads the manifest; with appendonly yes, upgrades an old single file, loads everything, and
 * opens the AOF for appending.  0, or -1 when the server must exit (the reason is logged). */
int aof_load_startup(void);
/* DEBUG LOADAOF: flushes the AOF, empties the databases and the function libraries (as Redis's emptyData) and
 * loads the files again.  0 ok, -1 failed
 * (the caller exits, as Redis does). */
int aof_debug_loadaof(void);
#endif
