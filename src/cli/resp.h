/* resp: RESP2/RESP3 reply parsing.
 *
 * Two layers: resp_token() recognises one protocol token (a line-typed value or
 * an aggregate header) in a byte range without allocating; resp_reader builds
 * whole reply trees from a stream, token by token, so a reply that arrives in
 * many reads is never re-scanned from its start. */
#ifndef SARDINE_CLI_RESP_H
#define SARDINE_CLI_RESP_H

#include <stddef.h>

enum {
    R_STRING = 1,
    R_ARRAY,
    R_INTEGER,
    R_NIL,
    R_STATUS,
    R_ERROR,
    R_DOUBLE,
    R_BOOL,
    R_MAP,
    R_SET,
    R_ATTR,
    R_PUSH,
    R_BIGNUM,
    R_VERB
};

typedef struct reply {
    int type;
    long long integer; /* R_INTEGER, R_BOOL */
    char *str;         /* NUL-terminated copy: strings, status, errors, doubles, bignums, verbatim text */
    size_t len;
    char vtype[4];   /* verbatim format, e.g. "txt" */
    size_t elements; /* aggregates (maps hold 2*pairs elements) */
    struct reply **element;
} reply;

/* One token.  For aggregates, count is the number of child elements to follow
 * (maps and attributes already doubled), or -1 for a null aggregate. */
typedef struct resp_tok {
    char type;       /* the RESP type byte */
    const char *str; /* payload (bulk body or line body) */
    size_t len;
    long long num; /* integer value, bulk length, aggregate count, bool */
} resp_tok;

/* Returns the bytes consumed (> 0), 0 if the buffer holds no complete token,
 * -1 on a protocol error. */
long resp_token(const char *p, size_t n, resp_tok *t);

typedef struct resp_frame {
    reply *node;
    size_t filled;
    int discard; /* attribute: parsed then dropped */
} resp_frame;

typedef struct resp_reader {
    char *buf;
    size_t len, pos, cap;
    resp_frame *stack;
    size_t depth, stack_cap;
    reply *root;
    char err[128];
} resp_reader;

void resp_reader_init(resp_reader *r);
void resp_reader_free(resp_reader *r);
/* Writable space for at least min bytes; commit what was written. */
char *resp_reader_space(resp_reader *r, size_t min, size_t *avail);
void resp_reader_commit(resp_reader *r, size_t n);
/* 1: *out holds a complete reply (caller frees), 0: need more bytes, -1: protocol error. */
int resp_reader_next(resp_reader *r, reply **out);

void reply_free(reply *r);
reply *reply_new(int type);

#endif
