/* rstr: a heap string with spare capacity, for string values grown in place
 * (APPEND/SETRANGE/SETBIT/PFADD) or longer than STR_INLINE_MAX (4000) bytes;
 * always the "raw" encoding.  Other strings and integers live inside the
 * key's entry instead (keyspace/entry.h, types/tstring.h).
 * A NUL byte always follows the data so it can be handed to strtod & co. */
#ifndef SARDINE_RSTR_H
#define SARDINE_RSTR_H
#include <stddef.h>

typedef struct rstr {
    size_t len, cap;
    char data[];
} rstr;

rstr *rstr_new(const char *p, size_t len, size_t cap);
rstr *rstr_reserve(rstr *s, size_t need);     /* capacity >= need, grows geometrically */
static inline size_t rstr_bytes_hint(const rstr *s) { return sizeof(rstr) + s->cap + 1; }
#endif
