/* rdb: --rdb FILE: fetch a snapshot over the replication protocol. */
#ifndef SARDINE_CLI_RDB_H
#define SARDINE_CLI_RDB_H

int rdb_mode(void);

#endif
