/* aof_cmds: the commands of the append-only file (persist/aof.h).
 *
 *   BGREWRITEAOF   starts a rewrite: a new base taken as a forkless snapshot
 *                  while new writes go to a new incr file; scheduled when
 *                  another snapshot (BGSAVE) runs or inside EXEC, refused
 *                  while one is already running, with Redis 7.0's replies. */
#include "commands/command.h"
#include "persist/aof.h"
#include "protocol/reply.h"

static void cmd_bgrewriteaof(client *c) {
    switch (aof_bgrewrite()) {
    case 0: reply_status(c, "Background append only file rewriting started"); break;
    case 1: reply_status(c, "Background append only file rewriting scheduled"); break;
    case -2: reply_error(c, "ERR Background append only file rewriting already in progress"); break;
    default:
        reply_error(c, "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.");
    }
}

command aof_commands[] = {
    {"bgrewriteaof", cmd_bgrewriteaof},
    {0}};
