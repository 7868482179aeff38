/* notify: keyspace notifications (notify-keyspace-events).
 *
 * A listener of the effects layer (keyspace/effects.h): every change a
 * command, expiry or eviction announces with a Redis event name becomes, when
 * its class is enabled, a message to __keyspace@<db>__:<key> (the event) and
 * __keyevent@<db>__:<event> (the key), in that order, published through
 * features/pubsub.h as Redis's notifyKeyspaceEvent does.  Key misses (class
 * m) come from the lookups that count keyspace_misses. */
#ifndef SARDINE_NOTIFY_H
#define SARDINE_NOTIFY_H

/* Redis's flag bits beyond the effects classes (FX_*): K, E, d. */
enum { NOTIFY_KEYSPACE = 1 << 0, NOTIFY_KEYEVENT = 1 << 1, NOTIFY_MODULE = 1 << 13 };

/* "KEA" ... -> flags, -1 on a character that is no class (Redis's keyspaceEventsStringToFlags). */
int notify_flags_parse(const char *s);
/* flags -> Redis's canonical text ("AKE" ...), into buf (at least 32 bytes). */
void notify_flags_string(int flags, char *buf);
/* Registers the listener (startup). */
void notify_init(void);
#endif
