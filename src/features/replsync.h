/* replsync: the master's side of SYNC, PSYNC and REPLCONF, as far as Sardine serves them.
 *
 * What is served: an RDB image to a client that asks for only that (REPLCONF rdb-only 1 before SYNC
 * or PSYNC: redis-cli --rdb, and --functions-rdb with REPLCONF rdb-filter-only functions), taken by the
 * forkless snapshot (persist/snapshot.h) and sent as Redis sends a disk-based sync: "$<size>\r\n" and
 * the file's bytes (after "+FULLRESYNC <replid> 0\r\n" for PSYNC), then the connection is closed.
 * A replica's full sync (the image followed by the command stream) is not served: SYNC and PSYNC
 * without rdb-only get an error saying so, rather than a stream that would stop after the image.
 *
 * Flow: SYNC puts the client in the waiting list, CLIENT_SYNCING.  When no snapshot runs (now, or on a
 * later cron tick), one is started into a temporary file of `dir` for every client waiting for the same
 * kind of image; clients that arrive while it runs attach to it (its image is from moments before their
 * request, as Redis lets a replica share a running BGSAVE).  While they wait they get "\n" every second
 * (as Redis keeps replicas waiting for a BGSAVE alive; readers skip it).  When the file is complete,
 * each client gets its own descriptor of it and the file is unlinked at once (the descriptors keep it);
 * its bytes are then fed CHUNK at a time as the client's output drains (net's drained hook), so a slow
 * reader costs a chunk of memory and the loop copies a bounded amount per write event.
 *
 * Invariants: a client is in the list exactly while CLIENT_SYNCING; CLIENT_FEEDING only in the sending
 * state; commands a syncing client sends are not run (its connection carries the image only). */
#ifndef SARDINE_REPLSYNC_H
#define SARDINE_REPLSYNC_H
#include "net/client.h"

void cmd_sync(client *c);
void cmd_psync(client *c);
void cmd_replconf(client *c);
/* The cron's part: starts a snapshot for waiting clients, keeps them alive. */
void replsync_cron(void);
/* net's drained hook for a CLIENT_FEEDING client: the next chunk of its image. */
void replsync_drained(client *c);
/* A client going away. */
void replsync_client_freeing(client *c);
/* Clients waiting for or receiving an image (INFO). */
int replsync_clients(void);
#endif
