/* dump_cmds: moving keys between servers: DUMP (and MIGRATE).
 *
 * DUMP replies the key's value as Redis 7.0's DUMP payload (rdb_dump_payload:
 * the RDB value, RDB version 10 as 2 bytes little endian, CRC64 little
 * endian), so RESTORE on redis-server 7.0 or on Sardine rebuilds it.  Like
 * Redis's lookupKeyRead, the lookup counts as an access (LRU/LFU, hits). */
#include "commands/command.h"
#include "commands/commands.h"
#include "keyspace/db.h"
#include "persist/rdb_save.h"
#include "protocol/reply.h"
#include "util/mem.h"

static void cmd_dump(client *c) {
    kref r;
    if (!db_lookup(c->db, c->argv[1].p, c->argv[1].len, 0, &r)) {
        reply_null(c);
        return;
    }
    size_t len;
    unsigned char *payload = rdb_dump_payload(r.e, &len);
    reply_bulk(c, payload, len);
    s_free(payload);
}

command dump_commands[] = {
    {"dump", cmd_dump},
    {0}};
