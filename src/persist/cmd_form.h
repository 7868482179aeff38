/* cmd_form: a dataset written as the commands that rebuild it, the base of
 * an AOF rewrite with aof-use-rdb-preamble no, as Redis 7.0's
 * rewriteAppendOnlyFileRio writes it, command for command:
 *
 *   [#TS:<unix time>]                 with aof-timestamp-enabled, first
 *   FUNCTION LOAD <code>              each function library, before any key
 *   SELECT <db>                       before each database's keys
 *   SET key value                     strings (integers as their text)
 *   RPUSH / SADD / ZADD / HMSET       collections, at most 64 elements per
 *                                     command (AOF_REWRITE_ITEMS_PER_CMD);
 *                                     ZADD scores as "%.17g"
 *   XADD key id f v ...               a stream's entries (an empty stream:
 *                                     XADD key MAXLEN 0 0-1 x y), then
 *   XSETID key last ENTRIESADDED n MAXDELETEDID id, and per group
 *   XGROUP CREATE key g id ENTRIESREAD n, per consumer in name order
 *   XGROUP CREATECONSUMER key g c (no pending entries) or one
 *   XCLAIM key g c 0 id TIME t RETRYCOUNT n JUSTID FORCE per pending entry
 *   PEXPIREAT key ms                  after the value, for keys with a TTL
 *
 * So a base written here loads in redis-server 7.0 and passes its
 * redis-check-aof, and loads in Sardine to the same dataset.
 *
 * The bytes go to rdb_save's writer buffer (rdbw: growable, handed to its
 * flush function past flush_at, also between the elements of a big value),
 * so the snapshot (persist/snapshot.h) carries either format through the
 * same streams, side buffers and writer thread.  Nothing here allocates per
 * element; compressed list nodes are read decompressed into one buffer per
 * key. */
#ifndef SARDINE_CMD_FORM_H
#define SARDINE_CMD_FORM_H
#include <stddef.h>
#include <stdint.h>
#include "persist/rdb_save.h"

#define CMDF_ITEMS_PER_CMD 64 /* Redis's AOF_REWRITE_ITEMS_PER_CMD */

void cmdf_timestamp(rdbw *w, long long unix_time);
void cmdf_function(rdbw *w, const char *code, size_t len);
void cmdf_select(rdbw *w, int dbid);
/* The commands of one key (its value, then PEXPIREAT when it has a TTL). */
void cmdf_key(rdbw *w, const uint8_t *entry);
#endif
