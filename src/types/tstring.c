/* tstring: see tstring.h. */
#include "types/tstring.h"
#include "types/rstr.h"

const char *str_get(const uint8_t *e, char *buf, size_t *len) {
    switch (e_store(e)) {
    case VAL_INT: *len = (size_t)ll2str(buf, e_int(e)); return buf;
    case VAL_INLINE: return e_inline(e, len);
    default: {
        rstr *s = e_ptr(e);
        *len = s->len;
        return s->data;
    }
    }
}

entry_value str_value(const char *p, size_t len) {
    long long ll;
    if (len <= 20 && str2ll(p, len, &ll)) {
        entry_value v = {.type = OBJ_STRING, .store = VAL_INT};
        v.ival = ll;
        return v;
    }
    return str_bytes_value(p, len);
}

entry_value str_bytes_value(const char *p, size_t len) {
    if (len > STR_INLINE_MAX) return str_raw_value(p, len);
    entry_value v = {.type = OBJ_STRING, .store = VAL_INLINE};
    v.sval = p;
    v.slen = len;
    return v;
}

entry_value str_raw_value(const char *p, size_t len) {
    entry_value v = {.type = OBJ_STRING, .store = VAL_PTR};
    v.ptr = rstr_new(p, len, len);
    return v;
}

const char *str_encoding(const uint8_t *e) {
    switch (e_store(e)) {
    case VAL_INT: return "int";
    case VAL_INLINE: {
        size_t len;
        e_inline(e, &len);
        return len <= EMBSTR_MAX ? "embstr" : "raw";
    }
    default: return "raw";
    }
}
