/* tracking: client-side caching (CLIENT TRACKING), as Redis 7.0 does it.
 *
 * A client with tracking on has the keys its read-only commands read
 * remembered in the tracking table (key name -> the IDs of the clients that
 * may cache it; keys of every database share one name space, as Redis's).
 * When such a key changes (any write, expiry, eviction), each client listed is
 * sent an `invalidate` message with the key and the key leaves the table:
 * a RESP3 push on its own connection, or, with REDIRECT <id>, a push (RESP3)
 * or a `__redis__:invalidate` pub/sub message (a RESP2 client subscribed to
 * that channel) on the other connection.  FLUSHDB/FLUSHALL send a null
 * invalidation to every tracking client and empty the table.  BCAST clients
 * are not in the table: every key changed under one of their prefixes in an
 * event-loop iteration is sent to them, in one message per prefix, before the
 * loop sleeps.  OPTIN/OPTOUT with CLIENT CACHING choose which reads count,
 * NOLOOP drops a client's own changes, and tracking-table-max-keys bounds the
 * table (keys beyond it are dropped at random, with invalidations).
 *
 * It hangs on the layers below without them knowing: key changes come from
 * the effects layer (a listener), reads from call() (tracking_after_call),
 * the end of each client command from dispatch (tracking_after_command), the
 * broadcast and the table limit from the loop (tracking_before_sleep,
 * tracking_cron) and disconnects from dispatch's client-freeing hook.
 *
 * Messages meant for the client whose command is running are held until its
 * outermost command returns (so they follow the reply), as Redis does. */
#ifndef SARDINE_TRACKING_H
#define SARDINE_TRACKING_H
#include <stdint.h>
#include "net/client.h"

struct command;

void tracking_init(void);
/* After cmd ran on c (any depth of call()): remembers the keys read; outermost: sends held messages. */
void tracking_after_call(client *c, const struct command *cmd, int outermost);
/* After a client's command was handled (run, queued or rejected; cmd NULL when unknown): CLIENT CACHING
 * applies to the next command only. */
void tracking_after_command(client *c, const struct command *cmd);
/* Before a command runs: keeps the table within tracking-table-max-keys. */
void tracking_limit(void);
void tracking_cron(void);
/* Before the loop sleeps: BCAST invalidations; frees emptied tables in slices. Returns 1 if work remains. */
int tracking_before_sleep(void);
/* A client leaves tracking (RESET) or goes away. */
void tracking_disable(client *c);
void tracking_client_freeing(client *c);

/* INFO */
long long tracking_clients_count(void);
uint64_t tracking_total_keys(void);
uint64_t tracking_total_items(void);
uint64_t tracking_total_prefixes(void);

void cmd_client_tracking(client *c);
void cmd_client_caching(client *c);
void cmd_client_getredir(client *c);
void cmd_client_trackinginfo(client *c);
#endif
