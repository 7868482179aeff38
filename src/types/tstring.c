/* tstring: see tstring.h. */
#include "types/tstring.h"
#include "types/rstr.h"
#include "types/zstr.h"
#include "util/mem.h"

/* Blocks str_get decompressed into during the current command. */
static struct {
    char **blocks;
    size_t n, cap;
} scratch;

static char *scratch_block(size_t size) {
    if (scratch.n == scratch.cap) {
        scratch.cap = scratch.cap ? scratch.cap * 2 : 8;
        scratch.blocks = s_realloc(scratch.blocks, scratch.cap * sizeof(char *));
    }
    return scratch.blocks[scratch.n++] = s_malloc(size);
}

void str_scratch_reset(void) {
    for (size_t i = 0; i < scratch.n; i++) s_free(scratch.blocks[i]);
    scratch.n = 0;
}

const char *str_read(const uint8_t *e, char *buf, size_t *len, str_buf *sb) {
    switch (e_store(e)) {
    case VAL_INT: *len = (size_t)ll2str(buf, e_int(e)); return buf;
    case VAL_INLINE: return e_inline(e, len);
    case VAL_PTR: {
        rstr *s = e_ptr(e);
        *len = s->len;
        return s->data;
    }
    default: {
        const zstr *z = e_ptr(e);
        char *dst;
        if (sb) {
            if (sb->cap < (size_t)z->len + 1) {
                s_free(sb->p);
                sb->cap = (size_t)z->len + 1;
                sb->p = s_malloc(sb->cap);
            }
            dst = sb->p;
        } else {
            dst = scratch_block((size_t)z->len + 1);
        }
        zstr_unpack(z, dst);
        *len = z->len;
        return dst;
    }
    }
}

const char *str_get(const uint8_t *e, char *buf, size_t *len) { return str_read(e, buf, len, NULL); }

void str_buf_free(str_buf *sb) {
    s_free(sb->p);
    sb->p = NULL;
    sb->cap = 0;
}

size_t str_len(const uint8_t *e) {
    switch (e_store(e)) {
    case VAL_INT: {
        char buf[LL_STR_SIZE];
        return (size_t)ll2str(buf, e_int(e));
    }
    case VAL_INLINE: {
        size_t len;
        e_inline(e, &len);
        return len;
    }
    case VAL_PTR: return ((const rstr *)e_ptr(e))->len;
    default: return ((const zstr *)e_ptr(e))->len;
    }
}

entry_value str_value(const char *p, size_t len) {
    long long ll;
    if (len <= 20 && str2ll(p, len, &ll)) {
        entry_value v = {.type = OBJ_STRING, .store = VAL_INT};
        v.ival = ll;
        return v;
    }
    if (len > EMBSTR_MAX) { /* compressed when value-compression is on and it pays, else the bytes as they are */
        entry_value v = {.type = OBJ_STRING, .store = VAL_ZSTR};
        if ((v.ptr = zstr_make(p, len)) != NULL) return v;
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
