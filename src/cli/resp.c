/* resp: tokenizer and incremental reply-tree builder.
 *
 * Invariants of resp_reader: buf[pos..len) holds bytes not yet consumed; a
 * token is consumed only when complete, so a partial token always starts at
 * pos.  stack[0..depth) are the open aggregates of the reply being built,
 * innermost last; root is that reply's top node (NULL between replies).
 * Consumed bytes are discarded lazily (compaction) when space is requested. */
#include "cli/resp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/buf.h"

static int parse_ll(const char *s, size_t n, long long *out) {
    if (n == 0 || n > 20) return -1;
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        i = 1;
        if (n == 1) return -1;
    }
    unsigned long long v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = neg ? -(long long)v : (long long)v;
    return 0;
}

long resp_token(const char *p, size_t n, resp_tok *t) {
    if (n < 3) return 0;
    const char *nl = memchr(p, '\n', n);
    if (!nl) return n > (1 << 20) ? -1 : 0;
    if (nl == p || nl[-1] != '\r') return -1;
    size_t linelen = (size_t)(nl - p) - 1; /* includes the type byte */
    size_t hdr = linelen + 2;
    t->type = p[0];
    t->str = p + 1;
    t->len = linelen - 1;
    t->num = 0;
    switch (p[0]) {
    case '+':
    case '-':
    case ',':
    case '(':
    case '_': return (long)hdr;
    case ':':
        if (parse_ll(t->str, t->len, &t->num)) return -1;
        return (long)hdr;
    case '#':
        if (t->len != 1 || (t->str[0] != 't' && t->str[0] != 'f')) return -1;
        t->num = t->str[0] == 't';
        return (long)hdr;
    case '$':
    case '=':
    case '!': {
        long long blen;
        if (parse_ll(t->str, t->len, &blen) || blen < -1) return -1;
        t->num = blen;
        if (blen == -1) {
            t->str = NULL;
            t->len = 0;
            return (long)hdr;
        }
        if (n - hdr < (size_t)blen + 2) return 0;
        const char *body = p + hdr;
        if (body[blen] != '\r' || body[blen + 1] != '\n') return -1;
        t->str = body;
        t->len = (size_t)blen;
        return (long)(hdr + (size_t)blen + 2);
    }
    case '*':
    case '%':
    case '~':
    case '>':
    case '|': {
        long long cnt;
        if (parse_ll(t->str, t->len, &cnt) || cnt < -1) return -1;
        if ((p[0] == '%' || p[0] == '|') && cnt > 0) cnt *= 2;
        t->num = cnt;
        return (long)hdr;
    }
    default: return -1;
    }
}

reply *reply_new(int type) {
    reply *r = xmalloc(sizeof(*r));
    memset(r, 0, sizeof(*r));
    r->type = type;
    return r;
}

void reply_free(reply *r) {
    if (!r) return;
    for (size_t i = 0; i < r->elements; i++) reply_free(r->element[i]);
    free(r->element);
    free(r->str);
    free(r);
}

static void set_str(reply *r, const char *s, size_t n) {
    r->str = xmalloc(n + 1);
    if (n) memcpy(r->str, s, n);
    r->str[n] = '\0';
    r->len = n;
}

void resp_reader_init(resp_reader *r) {
    memset(r, 0, sizeof(*r));
}

void resp_reader_free(resp_reader *r) {
    free(r->buf);
    free(r->stack);
    reply_free(r->root);
    memset(r, 0, sizeof(*r));
}

char *resp_reader_space(resp_reader *r, size_t min, size_t *avail) {
    if (r->pos && (r->pos == r->len || r->cap - r->len < min)) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->cap - r->len < min) {
        size_t cap = r->cap ? r->cap : 16384;
        while (cap - r->len < min) cap *= 2;
        r->buf = xrealloc(r->buf, cap);
        r->cap = cap;
    }
    *avail = r->cap - r->len;
    return r->buf + r->len;
}

void resp_reader_commit(resp_reader *r, size_t n) {
    r->len += n;
}

static reply *node_from_tok(const resp_tok *t) {
    reply *n;
    switch (t->type) {
    case '+':
        n = reply_new(R_STATUS);
        set_str(n, t->str, t->len);
        break;
    case '-':
    case '!':
        n = reply_new(R_ERROR);
        set_str(n, t->str, t->len);
        break;
    case ',':
        n = reply_new(R_DOUBLE);
        set_str(n, t->str, t->len);
        break;
    case '(':
        n = reply_new(R_BIGNUM);
        set_str(n, t->str, t->len);
        break;
    case '_': n = reply_new(R_NIL); break;
    case ':':
        n = reply_new(R_INTEGER);
        n->integer = t->num;
        break;
    case '#':
        n = reply_new(R_BOOL);
        n->integer = t->num;
        break;
    case '$':
        if (t->num < 0) return reply_new(R_NIL);
        n = reply_new(R_STRING);
        set_str(n, t->str, t->len);
        break;
    case '=':
        if (t->num < 0) return reply_new(R_NIL);
        n = reply_new(R_VERB);
        if (t->len >= 4 && t->str[3] == ':') {
            memcpy(n->vtype, t->str, 3);
            set_str(n, t->str + 4, t->len - 4);
        } else {
            set_str(n, t->str, t->len);
        }
        break;
    default: { /* aggregates */
        if (t->num < 0) return reply_new(R_NIL);
        int ty = t->type == '*'   ? R_ARRAY
                 : t->type == '%' ? R_MAP
                 : t->type == '~' ? R_SET
                 : t->type == '>' ? R_PUSH
                                  : R_ATTR;
        n = reply_new(ty);
        n->elements = (size_t)t->num;
        n->element = n->elements ? xmalloc(sizeof(reply *) * n->elements) : NULL;
        for (size_t i = 0; i < n->elements; i++) n->element[i] = NULL;
        break;
    }
    }
    return n;
}

static void push_frame(resp_reader *r, reply *node, int discard) {
    if (r->depth == r->stack_cap) {
        r->stack_cap = r->stack_cap ? r->stack_cap * 2 : 8;
        r->stack = xrealloc(r->stack, r->stack_cap * sizeof(*r->stack));
    }
    r->stack[r->depth].node = node;
    r->stack[r->depth].filled = 0;
    r->stack[r->depth].discard = discard;
    r->depth++;
}

int resp_reader_next(resp_reader *r, reply **out) {
    for (;;) {
        resp_tok t;
        long used = resp_token(r->buf + r->pos, r->len - r->pos, &t);
        if (used == 0) return 0;
        if (used < 0) {
            snprintf(r->err, sizeof(r->err), "Protocol error, got \"%c\" as reply type byte",
                     r->pos < r->len ? r->buf[r->pos] : '?');
            return -1;
        }
        r->pos += (size_t)used;
        reply *node = node_from_tok(&t);
        int is_agg = node->type == R_ARRAY || node->type == R_MAP || node->type == R_SET ||
                     node->type == R_PUSH || node->type == R_ATTR;
        if (node->type == R_ATTR) {
            if (!r->root) r->root = node; /* placeholder owner until discarded */
            push_frame(r, node, 1);
            if (node->elements == 0) goto close;
            continue;
        }
        /* Attach the scalar or aggregate node. */
        if (r->depth == 0) {
            if (r->root && r->root->type == R_ATTR) {
                reply_free(r->root);
            }
            r->root = node;
        } else {
            resp_frame *f = &r->stack[r->depth - 1];
            f->node->element[f->filled++] = node;
        }
        if (is_agg && node->elements > 0) {
            push_frame(r, node, 0);
            continue;
        }
    close:
        /* Pop every aggregate that is now full. */
        while (r->depth > 0) {
            resp_frame *f = &r->stack[r->depth - 1];
            if (f->filled < f->node->elements) break;
            r->depth--;
            if (f->discard) {
                reply *a = f->node;
                if (r->root == a) r->root = NULL;
                if (r->depth > 0) {
                    /* the attribute was not counted in its parent */
                }
                reply_free(a);
                if (r->depth == 0) goto next_token;
            }
        }
        if (r->depth == 0 && r->root) {
            *out = r->root;
            r->root = NULL;
            return 1;
        }
    next_token:;
    }
}
