/* buf: growable byte buffers.
 *
 * Invariants: p is NULL only while cap == 0; otherwise p[len] == '\0' and
 * len < cap.  Growth doubles the capacity so appends are amortised O(1). */
#include "cli/buf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "Out of memory\n");
        abort();
    }
    return p;
}

void *xrealloc(void *p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "Out of memory\n");
        abort();
    }
    return p;
}

char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

void buf_reserve(buf *b, size_t extra) {
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
    b->p[b->len] = '\0';
}

void buf_add(buf *b, const void *data, size_t n) {
    buf_reserve(b, n);
    if (n) memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void buf_adds(buf *b, const char *s) {
    buf_add(b, s, strlen(s));
}

void buf_addc(buf *b, char c) {
    buf_add(b, &c, 1);
}

void buf_vprintf(buf *b, const char *fmt, va_list ap) {
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0) return;
    buf_reserve(b, (size_t)n);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void buf_printf(buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void buf_repr(buf *b, const char *s, size_t n) {
    buf_reserve(b, n + 2);
    buf_addc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '\\': buf_add(b, "\\\\", 2); break;
        case '"': buf_add(b, "\\\"", 2); break;
        case '\n': buf_add(b, "\\n", 2); break;
        case '\r': buf_add(b, "\\r", 2); break;
        case '\t': buf_add(b, "\\t", 2); break;
        case '\a': buf_add(b, "\\a", 2); break;
        case '\b': buf_add(b, "\\b", 2); break;
        default:
            if (isprint(c))
                buf_addc(b, (char)c);
            else
                buf_printf(b, "\\x%02x", c);
        }
    }
    buf_addc(b, '"');
}

void buf_clear(buf *b) {
    b->len = 0;
    if (b->p) b->p[0] = '\0';
}

void buf_free(buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
