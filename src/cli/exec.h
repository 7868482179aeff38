/* exec: run one command and print its replies like redis-cli, including
 * -r/-i repetition, -e error exit, and the streaming commands (SUBSCRIBE,
 * PSUBSCRIBE, SSUBSCRIBE, MONITOR) that print until interrupted. */
#ifndef SARDINE_CLI_EXEC_H
#define SARDINE_CLI_EXEC_H

#include "cli/args.h"
#include "cli/conn.h"

/* *cp may be NULL (not connected) or replaced by a new connection; it is set
 * to NULL when the connection is lost.  Returns 0 on success, 1 when a reply
 * was an error and -e is on, -1 on a connection error (message printed). */
int exec_command(conn **cp, const argv_t *a, long long repeat, int interactive);
/* True if the socket has been closed by the peer (checked without blocking). */
int conn_is_dead(conn *c);

#endif
