/* multi: MULTI/EXEC transactions and WATCH.
 *
 * A client in MULTI queues copies of its commands; EXEC runs them back to
 * back with the time frozen, unless a queuing error flagged the transaction
 * (EXECABORT) or a watched key changed (null reply).  Watched keys are kept
 * per database in a dict key -> array of clients; this module listens to the
 * effects layer (keyspace/effects.h), and any change of a key, its expiry or
 * eviction, or a flush/swap of its database marks the watchers dirty. */
#ifndef SARDINE_MULTI_H
#define SARDINE_MULTI_H
#include "net/client.h"

struct command;
void multi_queue(client *c, struct command *cmd);
void multi_discard(client *c);
void multi_flag_dirty(client *c); /* a command was rejected while queuing */
int multi_queue_has_flag(const client *c, uint32_t flag);
/* Registers with the effects layer (startup). */
void multi_init(void);
void unwatch_all_keys(client *c);
void cmd_multi(client *c);
void cmd_exec(client *c);
void cmd_discard(client *c);
void cmd_watch(client *c);
void cmd_unwatch(client *c);
#endif
