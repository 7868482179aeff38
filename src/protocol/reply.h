/* reply: building RESP2/RESP3 replies into a client's output buffer.
 *
 * Each function appends one complete RESP value (or an aggregate header) for
 * the client's protocol: under RESP2, maps become flat arrays, sets arrays,
 * doubles bulk strings, null "$-1"; under RESP3 they use their own types.
 * Replies to a client in CLIENT REPLY OFF/SKIP mode are dropped here.
 * Error replies are counted in INFO errorstats by their first word. */
#ifndef SARDINE_REPLY_H
#define SARDINE_REPLY_H
#include <stddef.h>
#include "net/client.h"

void reply_raw(client *c, const char *s, size_t len);
void reply_status(client *c, const char *s);
void reply_ok(client *c);
void reply_error(client *c, const char *msg);            /* msg without '-'; "ERR ..." added if no code */
void reply_errorf(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An error reply exactly as msg says, without adding "ERR" (a script's {err=...}); count: in the error stats. */
void reply_error_verbatim(client *c, const char *msg, int count);
void reply_status_len(client *c, const char *s, size_t len);
void reply_bignum(client *c, const char *s, size_t len);   /* RESP3 '(', a bulk string under RESP2 */
void reply_int(client *c, long long v);
void reply_bulk(client *c, const void *p, size_t len);
void reply_bulk_cstr(client *c, const char *s);
void reply_bulk_ll(client *c, long long v);
void reply_null(client *c);                                /* $-1 / _ */
void reply_null_array(client *c);                          /* *-1 / _ */
void reply_array(client *c, long n);
void reply_map(client *c, long n);
void reply_set(client *c, long n);
void reply_double(client *c, double d);
void reply_bool(client *c, int b);
void reply_verbatim(client *c, const char *p, size_t len, const char *ext);
void reply_help(client *c, const char *cmd, const char **lines);
/* Deferred aggregate length: remember where, append items, then set it. */
size_t reply_defer(client *c);
void reply_defer_set(client *c, size_t pos, long n, char type);
/* Shared error replies with Redis's exact texts. */
void reply_wrongtype(client *c);
void reply_syntax_error(client *c);
void reply_not_int(client *c);
int reply_enabled(const client *c);
#endif
