/* session: open a connection configured from cfg (AUTH, SELECT, HELLO 3). */
#ifndef SARDINE_CLI_SESSION_H
#define SARDINE_CLI_SESSION_H

#include "cli/conn.h"

/* Connect and set the session up.  On connection failure prints redis-cli's
 * "Could not connect to Redis at ..." on stderr (unless quiet) and returns NULL. */
conn *session_connect(int quiet);

#endif
