/* restore_cmds: RESTORE's hooks for the rest of the command layer (see restore_cmds.c). */
#ifndef SARDINE_RESTORE_CMDS_H
#define SARDINE_RESTORE_CMDS_H
#include <stddef.h>
#include "net/client.h"

/* A client waiting for its RESTORE's value is being freed: the value is dropped when it arrives. */
void restore_client_gone(client *c);
/* net/'s hooks (client_hooks): a big argument arriving, a pinned query buffer handed back. */
void restore_arriving(client *c);
void restore_qbuf_released(client *c, qblock b);
/* Payloads of at least n bytes are built on the worker thread (DEBUG RESTORE-BG-MIN; default 256 KiB). */
void restore_set_bg_min(size_t n);
#endif
