/* rstr: see rstr.h.  Growth doubles up to 1 MiB, then adds 1 MiB at a time,
 * the way Redis's sds grows, so repeated APPENDs are amortised O(1). */
#include "types/rstr.h"
#include "util/mem.h"
#include <string.h>

rstr *rstr_new(const char *p, size_t len, size_t cap) {
    if (cap < len) cap = len;
    rstr *s = s_malloc(sizeof(rstr) + cap + 1);
    s->len = len;
    s->cap = cap;
    if (p) memcpy(s->data, p, len);
    else memset(s->data, 0, len);
    s->data[len] = 0;
    return s;
}

rstr *rstr_reserve(rstr *s, size_t need) {
    if (need <= s->cap) return s;
    size_t cap = need < (1u << 20) ? need * 2 : need + (1u << 20);
    s = s_realloc(s, sizeof(rstr) + cap + 1);
    s->cap = cap;
    return s;
}
