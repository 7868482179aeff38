/* multi: MULTI/EXEC transactions and WATCH.
 *
 * A client in MULTI queues copies of its commands; EXEC runs them back to
 * back with the time frozen, unless a queuing error flagged the transaction
 * (EXECABORT) or a watched key changed (null reply).  Watched keys are kept
 * per database in a dict key -> array of clients; any modification of a key
 * (db_touch), its expiry or a flush/swap of its database marks the watchers
 * dirty. */
#ifndef SARDINE_MULTI_H
#define SARDINE_MULTI_H
#include "net/client.h"

struct command;
void multi_queue(client *c, struct command *cmd);
void multi_discard(client *c);
void multi_flag_dirty(client *c); /* a command was rejected while queuing */
int multi_queue_has_flag(const client *c, uint32_t flag);
void touch_watched_key(db *d, const char *key, size_t klen);
void touch_all_watched_keys(db *emptied, db *replaced_with);
void unwatch_all_keys(client *c);
void cmd_multi(client *c);
void cmd_exec(client *c);
void cmd_discard(client *c);
void cmd_watch(client *c);
void cmd_unwatch(client *c);
#endif
