/* import: record sources for --import, and the command template.
 *
 * Records are parsed straight from a 1 MB read buffer; a record that runs
 * past the buffer end is re-parsed after more input is read (a record
 * larger than the buffer grows it).  Fields are (offset, length) pairs into
 * either the read buffer (the common case: no unescaping needed) or a
 * per-record scratch buffer (CSV "" quotes, TSV backslash escapes, JSON
 * string escapes), resolved to pointers only once the record is complete.
 *
 * Formats:
 *  - csv:   RFC 4180: ',' separated, "quoted" fields with "" for a quote,
 *           newlines allowed inside quotes, LF or CRLF record ends.
 *  - tsv:   tab separated, no quoting; \t \n \r \\ escapes are decoded.
 *  - jsonl: one JSON object per line; string values are decoded (\uXXXX
 *           with surrogate pairs to UTF-8), other values are passed as their
 *           JSON text (numbers, true/false, nested objects); null is "".
 * A UTF-8 byte-order mark at the start is skipped; all bytes are otherwise
 * passed through unchanged, so fields are binary safe.
 *
 * Template: --cmd is split like an interactive line; each word is literal
 * text mixed with {N} (1-based field position) and {name} (a --header
 * column or a JSON key); {{ and }} are literal braces.  Each word becomes
 * exactly one argument, whatever the fields contain. */
#include "cli/import.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/buf.h"
#include "cli/config.h"
#include "cli/loader.h"

enum { FMT_CSV, FMT_TSV, FMT_JSONL };

typedef struct part {
    int field;  /* -1: literal; else field index (0-based) */
    char *name; /* {name} before resolution */
    char *lit;
    size_t litlen;
} part;

typedef struct word {
    part *parts;
    int nparts;
} word;

typedef struct field {
    int scratch;
    size_t off, len;
    const char *name; /* JSON key (points into buffers; valid for the record) */
    size_t namelen;
    int name_scratch;
    size_t name_off;
} field;

typedef struct import_src {
    int fd, fmt, header_pending;
    char *ib;
    size_t ilen, ipos, icap;
    int eof;
    uint64_t line, consumed;
    buf scratch;
    field *f;
    int nf, fcap;
    word *words;
    int nwords;
    char **colnames; /* --header names */
    int ncols;
    int max_field; /* highest positional index used, -1 if none */
    int regular;   /* the input is a regular file: reads never block */
    int uses_names;
} import_src;

/* ---------- template ---------- */

static int compile_template(import_src *s, const char *tmpl) {
    argv_t a;
    if (args_split(tmpl, &a) < 0 || a.argc == 0) {
        fprintf(stderr, "Error: invalid --cmd template: %s\n", a.argc == 0 ? "empty" : "unbalanced quotes");
        return -1;
    }
    s->max_field = -1;
    s->words = xmalloc(sizeof(word) * (size_t)a.argc);
    s->nwords = a.argc;
    for (int i = 0; i < a.argc; i++) {
        word *w = &s->words[i];
        w->parts = NULL;
        w->nparts = 0;
        const char *p = a.argv[i], *end = p + a.lens[i];
        buf lit = {0};
        while (p <= end) {
            int at_end = p == end;
            if (!at_end && p[0] == '{' && p + 1 < end && p[1] == '{') {
                buf_addc(&lit, '{');
                p += 2;
                continue;
            }
            if (!at_end && p[0] == '}' && p + 1 < end && p[1] == '}') {
                buf_addc(&lit, '}');
                p += 2;
                continue;
            }
            if (at_end || p[0] == '{') {
                const char *close = at_end ? NULL : memchr(p, '}', (size_t)(end - p));
                if (!at_end && !close) {
                    fprintf(stderr, "Error: unterminated '{' in --cmd template word '%s'\n", a.argv[i]);
                    buf_free(&lit);
                    args_free(&a);
                    return -1;
                }
                if (lit.len || (at_end && w->nparts == 0)) {
                    w->parts = xrealloc(w->parts, sizeof(part) * (size_t)(w->nparts + 1));
                    part *pt = &w->parts[w->nparts++];
                    memset(pt, 0, sizeof(*pt));
                    pt->field = -1;
                    pt->lit = xmalloc(lit.len + 1);
                    if (lit.len) memcpy(pt->lit, lit.p, lit.len);
                    pt->litlen = lit.len;
                    buf_clear(&lit);
                }
                if (at_end) break;
                w->parts = xrealloc(w->parts, sizeof(part) * (size_t)(w->nparts + 1));
                part *pt = &w->parts[w->nparts++];
                memset(pt, 0, sizeof(*pt));
                const char *n = p + 1;
                size_t nlen = (size_t)(close - n);
                char *endnum;
                long idx = nlen ? strtol(n, &endnum, 10) : 0;
                if (nlen && endnum == close && idx >= 1) {
                    pt->field = (int)idx - 1;
                    if (pt->field > s->max_field) s->max_field = pt->field;
                } else if (nlen) {
                    pt->field = -2; /* named, resolved later */
                    pt->name = strndup(n, nlen);
                    s->uses_names = 1;
                } else {
                    fprintf(stderr, "Error: empty {} in --cmd template word '%s'\n", a.argv[i]);
                    buf_free(&lit);
                    args_free(&a);
                    return -1;
                }
                p = close + 1;
                continue;
            }
            buf_addc(&lit, *p++);
        }
        buf_free(&lit);
    }
    args_free(&a);
    return 0;
}

static void free_template(import_src *s) {
    for (int i = 0; i < s->nwords; i++) {
        for (int j = 0; j < s->words[i].nparts; j++) {
            free(s->words[i].parts[j].lit);
            free(s->words[i].parts[j].name);
        }
        free(s->words[i].parts);
    }
    free(s->words);
    for (int i = 0; i < s->ncols; i++) free(s->colnames[i]);
    free(s->colnames);
}

/* ---------- field parsing ---------- */

static void add_field(import_src *s, int scratch, size_t off, size_t len) {
    if (s->nf == s->fcap) {
        s->fcap = s->fcap ? s->fcap * 2 : 16;
        s->f = xrealloc(s->f, sizeof(field) * (size_t)s->fcap);
    }
    field *f = &s->f[s->nf++];
    memset(f, 0, sizeof(*f));
    f->scratch = scratch;
    f->off = off;
    f->len = len;
}

static const char *field_ptr(import_src *s, const field *f) {
    return f->scratch ? s->scratch.p + f->off : s->ib + f->off;
}

/* Parse one CSV/TSV record at ib[ipos..ilen).  Returns bytes used, 0 if the
 * record is incomplete, -1 on error (message in err).  *lines = newlines. */
static long parse_delimited(import_src *s, uint64_t *lines, char *err, size_t errlen) {
    const char *base = s->ib;
    size_t pos = s->ipos, end = s->ilen;
    char sep = s->fmt == FMT_CSV ? ',' : '\t';
    uint64_t nl = 0;
    s->nf = 0;
    buf_clear(&s->scratch);
    for (;;) {
        /* one field */
        if (s->fmt == FMT_CSV && pos < end && base[pos] == '"') {
            size_t soff = s->scratch.len;
            pos++;
            for (;;) {
                const char *q = pos < end ? memchr(base + pos, '"', end - pos) : NULL;
                if (!q) return s->eof ? (snprintf(err, errlen, "unterminated quoted field"), -1) : 0;
                size_t upto = (size_t)(q - base);
                for (size_t k = pos; k < upto; k++)
                    if (base[k] == '\n') nl++;
                buf_add(&s->scratch, base + pos, upto - pos);
                pos = upto + 1;
                if (pos < end && base[pos] == '"') {
                    buf_addc(&s->scratch, '"');
                    pos++;
                    continue;
                }
                if (pos >= end && !s->eof) return 0;
                break;
            }
            add_field(s, 1, soff, s->scratch.len - soff);
            if (pos < end && base[pos] != sep && base[pos] != '\n' && base[pos] != '\r') {
                snprintf(err, errlen, "unexpected character '%c' after a closing quote (field %d)", base[pos],
                         s->nf);
                return -1;
            }
        } else {
            size_t start = pos;
            int escaped = 0;
            while (pos < end && base[pos] != sep && base[pos] != '\n') {
                if (s->fmt == FMT_TSV && base[pos] == '\\') escaped = 1;
                pos++;
            }
            if (pos == end && !s->eof) return 0;
            size_t flen = pos - start;
            if (flen && base[start + flen - 1] == '\r' && (pos == end || base[pos] == '\n')) flen--;
            if (escaped) {
                size_t soff = s->scratch.len;
                for (size_t k = start; k < start + flen; k++) {
                    char c = base[k];
                    if (c == '\\' && k + 1 < start + flen) {
                        char n = base[++k];
                        c = n == 't' ? '\t' : n == 'n' ? '\n' : n == 'r' ? '\r' : n;
                    }
                    buf_addc(&s->scratch, c);
                }
                add_field(s, 1, soff, s->scratch.len - soff);
            } else {
                add_field(s, 0, start, flen);
            }
        }
        if (pos < end && base[pos] == '\r' && pos + 1 < end && base[pos + 1] == '\n') pos++;
        if (pos >= end) {
            if (!s->eof) return 0;
            break;
        }
        if (base[pos] == sep) {
            pos++;
            continue;
        }
        if (base[pos] == '\n') {
            pos++;
            nl++;
            break;
        }
        if (base[pos] == '\r') {
            pos++;
            if (pos >= end && !s->eof) return 0;
            continue;
        }
    }
    *lines = nl;
    return (long)(pos - s->ipos);
}

/* ---------- JSON lines ---------- */

static void put_utf8(buf *b, unsigned cp) {
    if (cp < 0x80)
        buf_addc(b, (char)cp);
    else if (cp < 0x800) {
        buf_addc(b, (char)(0xC0 | (cp >> 6)));
        buf_addc(b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        buf_addc(b, (char)(0xE0 | (cp >> 12)));
        buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        buf_addc(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        buf_addc(b, (char)(0xF0 | (cp >> 18)));
        buf_addc(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
        buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        buf_addc(b, (char)(0x80 | (cp & 0x3F)));
    }
}

static int hex4(const char *p, const char *end, unsigned *out) {
    if (end - p < 4) return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Decode a JSON string starting after its opening quote; appends to scratch.
 * Returns pointer after the closing quote, or NULL on error. */
static const char *json_string(buf *sc, const char *p, const char *end, char *err, size_t errlen) {
    while (p < end) {
        const char *q = p;
        while (q < end && *q != '"' && *q != '\\') q++;
        buf_add(sc, p, (size_t)(q - p));
        p = q;
        if (p >= end) break;
        if (*p == '"') return p + 1;
        p++;
        if (p >= end) break;
        char c = *p++;
        switch (c) {
        case 'n': buf_addc(sc, '\n'); break;
        case 't': buf_addc(sc, '\t'); break;
        case 'r': buf_addc(sc, '\r'); break;
        case 'b': buf_addc(sc, '\b'); break;
        case 'f': buf_addc(sc, '\f'); break;
        case 'u': {
            unsigned cp, lo;
            if (hex4(p, end, &cp)) {
                snprintf(err, errlen, "bad \\u escape");
                return NULL;
            }
            p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                !hex4(p + 2, end, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            }
            put_utf8(sc, cp);
            break;
        }
        default: buf_addc(sc, c); break;
        }
    }
    snprintf(err, errlen, "unterminated string");
    return NULL;
}

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
    return p;
}

/* Skip a JSON value that is not a string (number, literal, object, array). */
static const char *json_skip(const char *p, const char *end, char *err, size_t errlen) {
    int depth = 0;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            p++;
            while (p < end && *p != '"') p += *p == '\\' ? 2 : 1;
            if (p >= end) break;
            p++;
            continue;
        }
        if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']') {
            if (depth == 0) return p;
            depth--;
        } else if (c == ',' && depth == 0)
            return p;
        p++;
        if (depth == 0 && (c == '}' || c == ']')) return p;
    }
    if (depth) {
        snprintf(err, errlen, "unterminated object or array");
        return NULL;
    }
    return p;
}

static long parse_jsonl(import_src *s, uint64_t *lines, int *skip, char *err, size_t errlen) {
    const char *base = s->ib + s->ipos, *end = s->ib + s->ilen;
    const char *nlp = memchr(base, '\n', (size_t)(end - base));
    if (!nlp && !s->eof) return 0;
    const char *lend = nlp ? nlp : end;
    long used = (long)(lend - base) + (nlp ? 1 : 0);
    *lines = nlp ? 1 : 0;
    s->nf = 0;
    buf_clear(&s->scratch);
    const char *p = skip_ws(base, lend);
    *skip = p == lend;
    if (*skip) return used;
    if (*p != '{') {
        snprintf(err, errlen, "expected a JSON object");
        return -1;
    }
    p = skip_ws(p + 1, lend);
    if (p < lend && *p == '}') return used;
    for (;;) {
        if (p >= lend || *p != '"') {
            snprintf(err, errlen, "expected a key string");
            return -1;
        }
        size_t koff = s->scratch.len;
        p = json_string(&s->scratch, p + 1, lend, err, errlen);
        if (!p) return -1;
        size_t klen = s->scratch.len - koff;
        p = skip_ws(p, lend);
        if (p >= lend || *p != ':') {
            snprintf(err, errlen, "expected ':' after a key");
            return -1;
        }
        p = skip_ws(p + 1, lend);
        if (p >= lend) {
            snprintf(err, errlen, "missing value");
            return -1;
        }
        if (*p == '"') {
            size_t voff = s->scratch.len;
            p = json_string(&s->scratch, p + 1, lend, err, errlen);
            if (!p) return -1;
            add_field(s, 1, voff, s->scratch.len - voff);
        } else {
            const char *v = p;
            p = json_skip(p, lend, err, errlen);
            if (!p) return -1;
            const char *ve = p;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r')) ve--;
            if (ve - v == 4 && !memcmp(v, "null", 4))
                add_field(s, 0, (size_t)(v - s->ib), 0);
            else
                add_field(s, 0, (size_t)(v - s->ib), (size_t)(ve - v));
        }
        field *f = &s->f[s->nf - 1];
        f->name_scratch = 1;
        f->name_off = koff;
        f->namelen = klen;
        p = skip_ws(p, lend);
        if (p < lend && *p == ',') {
            p = skip_ws(p + 1, lend);
            continue;
        }
        if (p < lend && *p == '}') break;
        snprintf(err, errlen, "expected ',' or '}'");
        return -1;
    }
    return used;
}

/* ---------- commands ---------- */

static char *put_len(char *p, char type, size_t n) {
    char tmp[24];
    int k = 0;
    do {
        tmp[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    *p++ = type;
    while (k) *p++ = tmp[--k];
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

static int field_by_name(import_src *s, const char *name) {
    size_t n = strlen(name);
    for (int i = 0; i < s->nf; i++) {
        const field *f = &s->f[i];
        if (f->namelen == n && !memcmp(s->scratch.p + f->name_off, name, n)) return i;
    }
    return -1;
}

/* Append the command for the current record.  Returns bytes, or -1 with err. */
static long emit(import_src *s, buf *out, char *err, size_t errlen) {
    size_t total = 16;
    int idx_cache[64] = {0};
    int pi = 0;
    for (int w = 0; w < s->nwords; w++) {
        size_t wl = 0;
        for (int j = 0; j < s->words[w].nparts; j++, pi++) {
            const part *pt = &s->words[w].parts[j];
            int fi = pt->field;
            if (fi == -1) {
                wl += pt->litlen;
                continue;
            }
            if (fi == -2) {
                fi = field_by_name(s, pt->name);
                if (fi < 0) {
                    snprintf(err, errlen, "the record has no field {%s}", pt->name);
                    return -1;
                }
            }
            if (fi >= s->nf) {
                snprintf(err, errlen, "the template needs field {%d} but the record has %d field%s", fi + 1,
                         s->nf, s->nf == 1 ? "" : "s");
                return -1;
            }
            if (pi < 64) idx_cache[pi] = fi;
            wl += s->f[fi].len;
        }
        total += wl + 32;
    }
    buf_reserve(out, total);
    char *p = out->p + out->len, *start = p;
    p = put_len(p, '*', (size_t)s->nwords);
    pi = 0;
    for (int w = 0; w < s->nwords; w++) {
        const word *wd = &s->words[w];
        size_t wl = 0;
        for (int j = 0; j < wd->nparts; j++) {
            const part *pt = &wd->parts[j];
            int fi = pt->field == -1 ? -1
                                     : (pi + j < 64       ? idx_cache[pi + j]
                                        : pt->field == -2 ? field_by_name(s, pt->name)
                                                          : pt->field);
            wl += fi == -1 ? pt->litlen : s->f[fi].len;
        }
        p = put_len(p, '$', wl);
        for (int j = 0; j < wd->nparts; j++, pi++) {
            const part *pt = &wd->parts[j];
            int fi = pt->field == -1 ? -1
                                     : (pi < 64           ? idx_cache[pi]
                                        : pt->field == -2 ? field_by_name(s, pt->name)
                                                          : pt->field);
            if (fi == -1) {
                memcpy(p, pt->lit, pt->litlen);
                p += pt->litlen;
            } else {
                memcpy(p, field_ptr(s, &s->f[fi]), s->f[fi].len);
                p += s->f[fi].len;
            }
        }
        *p++ = '\r';
        *p++ = '\n';
    }
    size_t n = (size_t)(p - start);
    out->len += n;
    out->p[out->len] = '\0';
    return (long)n;
}

/* --header: take column names, turn {name} parts into positions. */
static int take_header(import_src *s, char *err, size_t errlen) {
    s->ncols = s->nf;
    s->colnames = xmalloc(sizeof(char *) * (size_t)(s->nf ? s->nf : 1));
    for (int i = 0; i < s->nf; i++) s->colnames[i] = strndup(field_ptr(s, &s->f[i]), s->f[i].len);
    for (int w = 0; w < s->nwords; w++)
        for (int j = 0; j < s->words[w].nparts; j++) {
            part *pt = &s->words[w].parts[j];
            if (pt->field != -2) continue;
            int found = -1;
            for (int i = 0; i < s->ncols; i++)
                if (!strcmp(s->colnames[i], pt->name)) {
                    found = i;
                    break;
                }
            if (found < 0) {
                buf cols = {0};
                for (int i = 0; i < s->ncols; i++) {
                    if (i) buf_adds(&cols, ", ");
                    buf_adds(&cols, s->colnames[i]);
                }
                snprintf(err, errlen, "template field {%s} is not a column of the header (columns: %s)",
                         pt->name, cols.p ? cols.p : "");
                buf_free(&cols);
                return -1;
            }
            pt->field = found;
        }
    return 0;
}

static int import_fill(void *ctx, loader *ld, buf *out, size_t want) {
    import_src *s = ctx;
    char err[512];
    while (out->len < want) {
        if (s->ipos < s->ilen || s->eof) {
            uint64_t lines = 0;
            int skip = 0;
            long used;
            if (s->ipos >= s->ilen) return 0;
            if (s->fmt == FMT_JSONL)
                used = parse_jsonl(s, &lines, &skip, err, sizeof(err));
            else {
                used = parse_delimited(s, &lines, err, sizeof(err));
                skip = used > 0 && s->nf == 1 && s->f[0].len == 0 && !s->f[0].scratch;
            }
            if (used < 0) {
                loader_msg(ld, "Error: %s input line %llu: %s\n",
                           s->fmt == FMT_JSONL ? "JSON"
                           : s->fmt == FMT_CSV ? "CSV"
                                               : "TSV",
                           (unsigned long long)s->line, err);
                return -1;
            }
            if (used > 0) {
                if (!skip) {
                    if (s->header_pending) {
                        if (take_header(s, err, sizeof(err)) < 0) {
                            loader_msg(ld, "Error: header line %llu: %s\n", (unsigned long long)s->line, err);
                            return -1;
                        }
                        s->header_pending = 0;
                    } else {
                        long n = emit(s, out, err, sizeof(err));
                        if (n < 0) {
                            loader_msg(ld, "Error: input line %llu: %s\n", (unsigned long long)s->line, err);
                            return -1;
                        }
                        loader_cmd(ld, s->line, (size_t)n);
                    }
                }
                s->line += lines;
                s->ipos += (size_t)used;
                s->consumed += (size_t)used;
                continue;
            }
        }
        loader_input_pos(ld, s->consumed);
        /* need more input */
        if (s->ipos) {
            memmove(s->ib, s->ib + s->ipos, s->ilen - s->ipos);
            s->ilen -= s->ipos;
            s->ipos = 0;
        }
        if (s->ilen == s->icap) {
            s->icap *= 2;
            s->ib = xrealloc(s->ib, s->icap);
        }
        /* With a partial record pending, fill the whole buffer before parsing
         * again, so a huge record is re-scanned O(log size) times, not once
         * per read. */
        size_t partial = s->regular ? s->ilen : 0;
        if (!loader_may_read(ld)) return LOADER_STARVED;
        ssize_t n = read(s->fd, s->ib + s->ilen, s->icap - s->ilen);
        while (partial && n > 0 && s->ilen + (size_t)n < s->icap) {
            ssize_t more = read(s->fd, s->ib + s->ilen + (size_t)n, s->icap - s->ilen - (size_t)n);
            if (more < 0 && errno == EINTR) break;
            if (more <= 0) break; /* EOF or error: seen again by the next read */
            n += more;
        }
        if (n < 0 && errno == EINTR) return 1; /* let the loader see a Ctrl-C */
        if (n < 0) {
            loader_msg(ld, "Error reading %s: %s\n", cfg.import_file, strerror(errno));
            return -1;
        }
        if (n == 0) s->eof = 1;
        if (s->consumed == 0 && s->ilen == 0 && n >= 3 && !memcmp(s->ib, "\xEF\xBB\xBF", 3)) {
            memmove(s->ib, s->ib + 3, (size_t)n - 3);
            n -= 3;
            s->consumed = 3;
        }
        s->ilen += (size_t)n;
    }
    loader_input_pos(ld, s->consumed);
    return 1;
}

static int format_from_name(const char *name) {
    const char *dot = strrchr(name, '.');
    if (dot && (!strcasecmp(dot, ".gz") || !strcasecmp(dot, ".zst"))) return -1;
    if (!dot) return -1;
    if (!strcasecmp(dot, ".csv")) return FMT_CSV;
    if (!strcasecmp(dot, ".tsv") || !strcasecmp(dot, ".tab")) return FMT_TSV;
    if (!strcasecmp(dot, ".jsonl") || !strcasecmp(dot, ".ndjson") || !strcasecmp(dot, ".json"))
        return FMT_JSONL;
    return -1;
}

int import_mode(void) {
    import_src s;
    memset(&s, 0, sizeof(s));
    if (!cfg.import_cmd) {
        fprintf(stderr, "Error: --import needs --cmd TEMPLATE, e.g. --cmd 'SET {1} {2}'\n");
        return 1;
    }
    if (cfg.import_format) {
        if (!strcasecmp(cfg.import_format, "csv"))
            s.fmt = FMT_CSV;
        else if (!strcasecmp(cfg.import_format, "tsv"))
            s.fmt = FMT_TSV;
        else if (!strcasecmp(cfg.import_format, "jsonl") || !strcasecmp(cfg.import_format, "json"))
            s.fmt = FMT_JSONL;
        else {
            fprintf(stderr, "Error: unknown --format '%s' (csv, tsv or jsonl)\n", cfg.import_format);
            return 1;
        }
    } else {
        s.fmt = format_from_name(cfg.import_file);
        if (s.fmt < 0) {
            fprintf(stderr,
                    "Error: cannot tell the format of '%s' from its name: use --format csv|tsv|jsonl\n",
                    cfg.import_file);
            return 1;
        }
    }
    if (compile_template(&s, cfg.import_cmd) < 0) {
        free_template(&s);
        return 1;
    }
    if (s.uses_names && s.fmt != FMT_JSONL && !cfg.import_header) {
        fprintf(stderr, "Error: the --cmd template uses {name} fields: add --header to name the columns\n");
        free_template(&s);
        return 1;
    }
    s.header_pending = cfg.import_header && s.fmt != FMT_JSONL;
    if (!strcmp(cfg.import_file, "-"))
        s.fd = STDIN_FILENO;
    else if ((s.fd = open(cfg.import_file, O_RDONLY)) < 0) {
        fprintf(stderr, "Error: cannot open %s: %s\n", cfg.import_file, strerror(errno));
        free_template(&s);
        return 1;
    }
    loader_opts o = {.pipe_compat = 0, .unit = "rows", .max_shown_errors = 10};
    struct stat st;
    if (fstat(s.fd, &st) == 0 && S_ISREG(st.st_mode)) {
        o.input_size = (uint64_t)st.st_size;
        s.regular = 1;
    }
    o.input_fd = s.fd;
    s.icap = 1 << 20;
    s.ib = xmalloc(s.icap);
    s.line = 1;
    int rc = loader_run(import_fill, &s, &o);
    if (s.fd != STDIN_FILENO) close(s.fd);
    free(s.ib);
    free(s.f);
    buf_free(&s.scratch);
    free_template(&s);
    return rc;
}
