/* pubsub: channels, patterns and shard channels; PUBLISH and the subscriber commands.
 *
 * Registries (see pubsub.c for the layout):
 * - channels, patterns and shard channels: a set of them by name; each holds
 *   its subscribers (the only one inline, else an array), so PUBLISH costs the
 *   subscribers it reaches;
 * - each client keeps its own subscriptions as a set (client->ps_sets[]) of
 *   those objects, with its index among their subscribers: unsubscribing one
 *   is O(1), all of them is linear in the client's own subscriptions;
 * - patterns are also indexed by literal prefix (the bytes before their first
 *   glob metacharacter), so a message tests only the patterns whose prefix its
 *   channel starts with, found with one lookup per prefix length in use.
 * A client with any subscription carries CLIENT_PUBSUB: in RESP2 it may then
 * only run (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT and RESET, and its
 * output limit is the pubsub class's. */
#ifndef SARDINE_PUBSUB_H
#define SARDINE_PUBSUB_H
#include <stddef.h>
#include "net/client.h"

/* Delivers message to the subscribers of channel (and of matching patterns unless shard);
 * returns how many clients received it. */
long pubsub_publish(const char *ch, size_t chlen, const char *msg, size_t mlen, int shard);
/* Drops every subscription of c (RESET, disconnect), without replies. */
void pubsub_unsubscribe_all(client *c);
/* Calls fn with each of c's channels, patterns and shard channels until it returns 0; returns 0 if
 * it did, else 1. */
int pubsub_client_each(client *c, int (*fn)(void *ud, const char *name, size_t len, int is_pattern), void *ud);
/* Cron: moves on the registries' incremental resizes (util/ptab.h), so that an old block does not outlive
 * the subscriptions that made it by much when nothing subscribes or leaves meanwhile. */
void pubsub_cron(void);
/* INFO: pubsub_channels, pubsub_patterns, pubsubshard_channels. */
size_t pubsub_channels_count(void);
size_t pubsub_patterns_count(void);
size_t pubsub_shard_channels_count(void);

void cmd_subscribe(client *c);
void cmd_unsubscribe(client *c);
void cmd_psubscribe(client *c);
void cmd_punsubscribe(client *c);
void cmd_ssubscribe(client *c);
void cmd_sunsubscribe(client *c);
void cmd_publish(client *c);
void cmd_spublish(client *c);
void cmd_pubsub_channels(client *c);
void cmd_pubsub_numsub(client *c);
void cmd_pubsub_numpat(client *c);
void cmd_pubsub_shardchannels(client *c);
void cmd_pubsub_shardnumsub(client *c);
void cmd_pubsub_help(client *c);
#endif
