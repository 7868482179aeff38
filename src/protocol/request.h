/* request: the RESP request parser (multibulk "*N\r\n$L\r\n..." and inline
 * "CMD arg arg\r\n").
 *
 * parse_request works on c->qbuf from c->qstart and resumes from its saved
 * state (c->reqtype, c->mbulk, c->bulklen, c->ppos) when called again with
 * more bytes, so a command that arrives one byte at a time costs O(bytes).
 * On a complete command it fills c->argc/c->argv (pointers into qbuf) and
 * returns PARSE_OK; the caller runs it and then calls parse_done.  Limits and
 * errors follow Redis 7 word for word: multibulk length at most 1024*1024,
 * bulk length at most proto-max-bulk-len, header lines at most 64 KiB,
 * unauthenticated clients at most 10 arguments of 16 KiB.  A multibulk count
 * of 0 or less is ignored, as Redis does (no reply, the connection stays). */
#ifndef SARDINE_REQUEST_H
#define SARDINE_REQUEST_H
#include "net/client.h"

enum { PARSE_OK = 0, PARSE_MORE = 1, PARSE_ERROR = 2, PARSE_EMPTY = 3 };
/* On PARSE_ERROR, *err is the Redis error text (without "-ERR "). */
int parse_request(client *c, const char **err);
/* Points argv into qbuf again from the offsets kept at parse time (after qbuf moved, for a command
 * held by CLIENT PAUSE).  A parsed command is never parsed a second time: inline parsing rewrites the
 * line in place. */
void parse_restore_argv(client *c);
/* Consumes the command just parsed and resets the parser. */
void parse_done(client *c);
/* Splits a line into arguments with Redis's quoting rules ("..." with \n \xHH escapes, '...').
 * Returns a heap array of heap strings (free with free_split_args) or NULL on unbalanced quotes. */
arg *split_args(const char *line, size_t len, int *argc);
void free_split_args(arg *v, int argc);
#endif
