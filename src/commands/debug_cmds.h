/* debug_cmds: the DEBUG subcommands that live outside server_cmds.c.
 *
 *   DIGEST, DIGEST-VALUE          (debug_digest.c) Redis 7.0's dataset and
 *                                 value digests, bit for bit
 *   CHECK-KEY, CHECK-KEYSPACE     (debug_check.c) the structure checks of
 *                                 every type's value
 *
 * cmd_debug (server_cmds.c) parses the subcommand name and its arity and
 * calls these with the client; they reply. */
#ifndef SARDINE_DEBUG_CMDS_H
#define SARDINE_DEBUG_CMDS_H
#include <stdint.h>
#include "net/client.h"

/* The 20-byte digest of every key of every database (all zeros when empty). */
void digest_dataset(unsigned char out[20]);
/* The 20-byte digest of one key's value and TTL flag (not its name), as DIGEST-VALUE. */
void digest_value(const uint8_t *e, unsigned char out[20]);

void debug_digest(client *c);        /* DEBUG DIGEST */
void debug_digest_value(client *c);  /* DEBUG DIGEST-VALUE key [key ...] */

/* NULL if the value of entry e is consistent, else a text naming the broken invariant. */
const char *check_value(const uint8_t *e);
void debug_check_key(client *c);      /* DEBUG CHECK-KEY key */
void debug_check_keyspace(client *c); /* DEBUG CHECK-KEYSPACE */
/* debug_misc.c: PROTOCOL, ERROR, LOG, PAUSE-CRON, REPLYBUFFER, QUICKLIST-PACKED-THRESHOLD, STRINGMATCH-TEST,
 * CHANGE-REPL-ID ...: 1 when it handled (and answered) the subcommand, 0 when it is not one of them. */
int debug_misc(client *c);
/* DEBUG LOADAOF: the loader (features/aof_load.h), installed at startup; 0 ok, -1 the server exits. */
typedef int debug_loadaof_fn(void);
void debug_set_loadaof(debug_loadaof_fn *fn);
#endif
