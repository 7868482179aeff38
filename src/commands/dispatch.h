/* dispatch: from a parsed request to a reply.  process_command applies, in
 * Redis 7's order, the checks a command must pass (exists, arity, auth,
 * MULTI restrictions, memory, CLIENT PAUSE), then queues it (MULTI) or calls
 * it through call() (call.h). */
#ifndef SARDINE_DISPATCH_H
#define SARDINE_DISPATCH_H
#include "commands/command.h"

/* 1 when the command was handled, 0 when it must be retried later (paused). */
int process_command(client *c);
#endif
