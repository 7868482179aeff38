/* dispatch: from a parsed request to a reply.  process_command applies, in
 * Redis 7's order, the checks a command must pass (exists, arity, auth,
 * MULTI restrictions, memory, CLIENT PAUSE), then queues it (MULTI) or calls
 * it through call() (call.h). */
#ifndef SARDINE_DISPATCH_H
#define SARDINE_DISPATCH_H
#include "commands/command.h"

/* 1 when the command was handled, 0 when it must be retried later (paused). */
int process_command(client *c);
/* The command layer's wiring at startup: the command table, the effects layer's listeners (WATCH,
 * blocked clients, propagation) and net/'s hooks. */
void dispatch_init(void);
/* What net/ calls for every request and every client it frees (installed by main with clients_set_hooks). */
const client_hooks *dispatch_client_hooks(void);
#endif
