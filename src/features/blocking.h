/* blocking: clients waiting on keys (BLPOP, BLMOVE, BZPOPMIN, BLMPOP ...).
 *
 * A blocking command that finds nothing to serve calls block_for_keys() and
 * returns without replying.  The client keeps a copy of its command and
 * stops reading further input.  When a command adds elements to a key it
 * announces it with fx_ready() (keyspace/effects.h), of which this module is
 * a listener; before the event loop sleeps, the clients
 * waiting on each ready key are served in the order they blocked (FIFO):
 * each one's command is executed again from scratch.  If it can serve, it
 * replies and the client resumes; if not (someone else took the elements),
 * its block_for_keys() call keeps its place in the queues and we stop
 * serving that key.  On timeout the client receives the command's null
 * reply.  Inside MULTI/EXEC commands must not block (blocking_allowed()). */
#ifndef SARDINE_BLOCKING_H
#define SARDINE_BLOCKING_H
#include "net/client.h"

enum { BLOCK_TIMEOUT_NULL_ARRAY = 0, BLOCK_TIMEOUT_NULL = 1 };

/* Parses a timeout in seconds (a double, as Redis 7) into an absolute time in ms (0 = forever); replies the error. */
int parse_block_timeout(client *c, const arg *a, long long *deadline_ms);
int blocking_allowed(const client *c);
void block_for_keys(client *c, const arg *keys, int nkeys, long long deadline_ms, int timeout_reply);
/* Registers with the effects layer (startup). */
void blocking_init(void);
/* Event loop hooks. */
void blocking_serve_ready(void);
void blocking_check_timeouts(void);
/* Removes a client from every wait queue (client freed, CLIENT UNBLOCK). */
void blocking_unblock(client *c);
size_t blocking_client_count(void);
void cmd_client_unblock(client *c);
#endif
