/* output: reply formatting in redis-cli's standard, raw and CSV modes.
 *
 * Standard mode numbers aggregate elements "N) " (sets "N~ ", maps "N# " with
 * " => " between key and value), right-aligning indices to the width of the
 * largest one and indenting nested levels by that width + 2.  The element
 * printed right after an index does not repeat the prefix.  Every formatter
 * only appends to the caller's buffer. */
#include "cli/output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_agg(const reply *r) {
    return r->type == R_ARRAY || r->type == R_MAP || r->type == R_SET || r->type == R_PUSH;
}

void fmt_tty(buf *b, const reply *r, const char *prefix) {
    switch (r->type) {
    case R_ERROR: buf_printf(b, "(error) %s\n", r->str); break;
    case R_STATUS:
        buf_add(b, r->str, r->len);
        buf_addc(b, '\n');
        break;
    case R_INTEGER: buf_printf(b, "(integer) %lld\n", r->integer); break;
    case R_DOUBLE: buf_printf(b, "(double) %s\n", r->str); break;
    case R_BIGNUM: buf_printf(b, "(big number) %s\n", r->str); break;
    case R_STRING:
        buf_repr(b, r->str, r->len);
        buf_addc(b, '\n');
        break;
    case R_VERB:
        buf_add(b, r->str, r->len);
        buf_addc(b, '\n');
        break;
    case R_NIL: buf_adds(b, "(nil)\n"); break;
    case R_BOOL: buf_adds(b, r->integer ? "(true)\n" : "(false)\n"); break;
    default: {
        if (!is_agg(r)) break;
        if (r->elements == 0) {
            buf_adds(b, r->type == R_MAP    ? "(empty hash)\n"
                        : r->type == R_SET  ? "(empty set)\n"
                        : r->type == R_PUSH ? "(empty push)\n"
                                            : "(empty array)\n");
            break;
        }
        size_t count = r->type == R_MAP ? r->elements / 2 : r->elements;
        int width = 0;
        do {
            width++;
            count /= 10;
        } while (count);
        char sep = r->type == R_SET ? '~' : r->type == R_MAP ? '#' : ')';
        size_t plen = strlen(prefix);
        char *sub = xmalloc(plen + (size_t)width + 3);
        memcpy(sub, prefix, plen);
        memset(sub + plen, ' ', (size_t)width + 2);
        sub[plen + (size_t)width + 2] = '\0';
        for (size_t i = 0; i < r->elements; i++) {
            size_t human = (r->type == R_MAP ? i / 2 : i) + 1;
            buf_printf(b, "%s%*zu%c ", i == 0 ? "" : prefix, width, human, sep);
            fmt_tty(b, r->element[i], sub);
            if (r->type == R_MAP) {
                i++;
                if (b->len) b->len--; /* drop the key's newline */
                buf_adds(b, " => ");
                fmt_tty(b, r->element[i], sub);
            }
        }
        free(sub);
    }
    }
}

void fmt_raw(buf *b, const reply *r, const char *mb_delim) {
    switch (r->type) {
    case R_NIL: break;
    case R_ERROR:
        buf_add(b, r->str, r->len);
        buf_addc(b, '\n');
        break;
    case R_STATUS:
    case R_STRING:
    case R_VERB:
    case R_DOUBLE:
    case R_BIGNUM: buf_add(b, r->str, r->len); break;
    case R_BOOL: buf_adds(b, r->integer ? "(true)" : "(false)"); break;
    case R_INTEGER: buf_printf(b, "%lld", r->integer); break;
    case R_MAP:
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
            if (i > 0) buf_adds(b, mb_delim);
            fmt_raw(b, r->element[i], mb_delim);
            buf_addc(b, ' ');
            fmt_raw(b, r->element[i + 1], mb_delim);
        }
        break;
    default:
        for (size_t i = 0; i < r->elements; i++) {
            if (i > 0) buf_adds(b, mb_delim);
            fmt_raw(b, r->element[i], mb_delim);
        }
    }
}

void fmt_csv(buf *b, const reply *r) {
    switch (r->type) {
    case R_ERROR:
        buf_adds(b, "ERROR,");
        buf_repr(b, r->str, strlen(r->str));
        break;
    case R_STATUS:
    case R_STRING:
    case R_VERB: buf_repr(b, r->str, r->len); break;
    case R_INTEGER: buf_printf(b, "%lld", r->integer); break;
    case R_DOUBLE:
    case R_BIGNUM: buf_add(b, r->str, r->len); break;
    case R_NIL: buf_adds(b, "NULL"); break;
    case R_BOOL: buf_adds(b, r->integer ? "true" : "false"); break;
    default:
        for (size_t i = 0; i < r->elements; i++) {
            fmt_csv(b, r->element[i]);
            if (i + 1 != r->elements) buf_addc(b, ',');
        }
    }
}

static void json_str(buf *b, const char *p, size_t n, int quoted) {
    if (quoted) {
        buf tmp = {0};
        buf_repr(&tmp, p, n);
        for (size_t i = 0; i < tmp.len; i++) {
            if (tmp.p[i] == '\\')
                buf_add(b, "\\\\", 2);
            else
                buf_addc(b, tmp.p[i]);
        }
        buf_free(&tmp);
        return;
    }
    buf_addc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        switch (c) {
        case '\\': buf_add(b, "\\\\", 2); break;
        case '"': buf_add(b, "\\\"", 2); break;
        case '\n': buf_add(b, "\\n", 2); break;
        case '\f': buf_add(b, "\\f", 2); break;
        case '\r': buf_add(b, "\\r", 2); break;
        case '\t': buf_add(b, "\\t", 2); break;
        case '\b': buf_add(b, "\\b", 2); break;
        default:
            if (c <= 0x1f)
                buf_printf(b, "\\u%04x", c);
            else
                buf_addc(b, (char)c);
        }
    }
    buf_addc(b, '"');
}

void fmt_json(buf *b, const reply *r, int quoted) {
    switch (r->type) {
    case R_ERROR:
        buf_adds(b, "error:");
        json_str(b, r->str, r->len, quoted);
        break;
    case R_STATUS:
    case R_STRING:
    case R_VERB: json_str(b, r->str, r->len, quoted); break;
    case R_INTEGER: buf_printf(b, "%lld", r->integer); break;
    case R_DOUBLE:
    case R_BIGNUM: buf_add(b, r->str, r->len); break;
    case R_BOOL: buf_adds(b, r->integer ? "true" : "false"); break;
    case R_NIL: buf_adds(b, "null"); break;
    case R_MAP:
        buf_addc(b, '{');
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
            const reply *k = r->element[i];
            if (k->type == R_ERROR || k->type == R_STATUS || k->type == R_STRING || k->type == R_VERB) {
                fmt_json(b, k, quoted);
            } else {
                /* JSON keys are strings: quote a non-string key's JSON text */
                buf tmp = {0};
                fmt_json(&tmp, k, quoted);
                if (tmp.len && tmp.p[0] == '"')
                    buf_add(b, tmp.p, tmp.len);
                else {
                    buf_addc(b, '"');
                    buf_add(b, tmp.p, tmp.len);
                    buf_addc(b, '"');
                }
                buf_free(&tmp);
            }
            buf_addc(b, ':');
            fmt_json(b, r->element[i + 1], quoted);
            if (i + 2 < r->elements) buf_addc(b, ',');
        }
        buf_addc(b, '}');
        break;
    default:
        buf_addc(b, '[');
        for (size_t i = 0; i < r->elements; i++) {
            fmt_json(b, r->element[i], quoted);
            if (i + 1 < r->elements) buf_addc(b, ',');
        }
        buf_addc(b, ']');
    }
}

void fmt_reply(buf *b, const reply *r, int mode, const char *mb_delim, const char *cmd_delim) {
    if (mode == OUT_JSON || mode == OUT_QUOTED_JSON) {
        fmt_json(b, r, mode == OUT_QUOTED_JSON);
        buf_addc(b, '\n');
    } else if (mode == OUT_STANDARD) {
        fmt_tty(b, r, "");
    } else if (mode == OUT_RAW) {
        fmt_raw(b, r, mb_delim);
        buf_adds(b, cmd_delim);
    } else {
        fmt_csv(b, r);
        buf_addc(b, '\n');
    }
}
