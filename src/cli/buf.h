/* buf: a growable byte buffer (pointer, length, capacity), always NUL-terminated
 * after the last byte so it can be handed to printf-style code.  Allocation
 * failure aborts the process: the client has no sensible way to continue. */
#ifndef SARDINE_CLI_BUF_H
#define SARDINE_CLI_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

void buf_reserve(buf *b, size_t extra);
void buf_add(buf *b, const void *data, size_t n);
void buf_adds(buf *b, const char *s);
void buf_addc(buf *b, char c);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf *b, const char *fmt, va_list ap);
/* Append s as a double-quoted string with C-like escapes (\n, \r, \t, \a, \b,
 * \\, \", \xHH for non-printables), the way redis-cli quotes bulk strings. */
void buf_repr(buf *b, const char *s, size_t n);
void buf_clear(buf *b);
void buf_free(buf *b);

#endif
