/* pipe: --pipe mass insertion of a raw RESP stream read from stdin.
 *
 * The stream is validated as it is forwarded: each command (a multibulk
 * "*N\r\n$L\r\n...\r\n" or an inline line) is recognised whole before it is
 * copied to the loader, so a malformed stream stops with an error naming the
 * input line, and every command sent is matched to its reply and its line.
 * Blank lines and empty multibulks get no reply from the server and are
 * dropped.  Runs of complete commands are copied with one memcpy.
 * Invariant: ib[ipos..ilen) is unconsumed input; line is the 1-based line
 * number at ipos. */
#include "cli/pipe.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/buf.h"
#include "cli/config.h"
#include "cli/loader.h"

typedef struct pipe_src {
    int fd;
    char *ib;
    size_t ilen, ipos, icap;
    int eof;
    uint64_t line, consumed;
    char err[160];
} pipe_src;

static size_t count_nl(const char *p, size_t n) {
    size_t c = 0;
    const char *end = p + n;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {
        c++;
        p++;
    }
    return c;
}

/* Header "<type><integer>\r\n" at p.  Returns bytes used, 0 incomplete, -1 error. */
static long header(const char *p, size_t n, long long *val, char *err, size_t errlen) {
    const char *nl = memchr(p, '\n', n < 64 ? n : 64);
    if (!nl) {
        if (n >= 64) {
            snprintf(err, errlen, "header line too long");
            return -1;
        }
        return 0;
    }
    if (nl[-1] != '\r') {
        snprintf(err, errlen, "header not terminated by \\r\\n");
        return -1;
    }
    const char *s = p + 1, *e = nl - 1;
    int neg = 0;
    if (s < e && *s == '-') {
        neg = 1;
        s++;
    }
    if (s == e) {
        snprintf(err, errlen, "invalid length '%.*s'", (int)(e - p - 1), p + 1);
        return -1;
    }
    long long v = 0;
    for (; s < e; s++) {
        if (*s < '0' || *s > '9' || v > (1LL << 40)) {
            snprintf(err, errlen, "invalid length '%.*s'", (int)(e - p - 1), p + 1);
            return -1;
        }
        v = v * 10 + (*s - '0');
    }
    *val = neg ? -v : v;
    return (long)(nl - p + 1);
}

/* One command at p.  Returns its size, 0 if incomplete, -1 on error.
 * *lines: newlines it spans; *skip: no reply expected (not to be sent). */
static long parse_cmd(const char *p, size_t n, uint64_t *lines, int *skip, uint64_t *errline, char *err,
                      size_t errlen) {
    *skip = 0;
    *errline = 0;
    if (p[0] != '*') {
        const char *nl = memchr(p, '\n', n);
        if (!nl) {
            if (n > (64u << 10)) {
                snprintf(err, errlen, "inline command longer than 64KB");
                return -1;
            }
            return 0;
        }
        *lines = 1;
        *skip = 1;
        for (const char *q = p; q < nl; q++)
            if (*q != ' ' && *q != '\t' && *q != '\r') {
                *skip = 0;
                break;
            }
        return (long)(nl - p + 1);
    }
    long long count;
    long h = header(p, n, &count, err, errlen);
    if (h <= 0) return h;
    size_t off = (size_t)h;
    uint64_t nlines = 1;
    if (count <= 0) *skip = 1;
    if (count > 1024 * 1024) {
        snprintf(err, errlen, "multibulk count %lld too large", count);
        return -1;
    }
    for (long long i = 0; i < count; i++) {
        if (off >= n) return 0;
        if (p[off] != '$') {
            *errline = nlines;
            if (p[off] == '\r' || p[off] == '\n')
                snprintf(err, errlen, "expected '$' for argument %lld of %lld, got an empty line", i + 1,
                         count);
            else
                snprintf(err, errlen, "expected '$' for argument %lld of %lld, got '%c'", i + 1, count,
                         p[off]);
            return -1;
        }
        long long blen;
        h = header(p + off, n - off, &blen, err, errlen);
        if (h < 0) {
            *errline = nlines;
            return -1;
        }
        if (h == 0) return 0;
        if (blen < 0) {
            *errline = nlines;
            snprintf(err, errlen, "negative bulk length");
            return -1;
        }
        off += (size_t)h;
        nlines++;
        if (n - off < (size_t)blen + 2) return 0;
        if (p[off + (size_t)blen] != '\r' || p[off + (size_t)blen + 1] != '\n') {
            *errline = nlines;
            snprintf(err, errlen, "bulk of argument %lld is not %lld bytes followed by \\r\\n", i + 1, blen);
            return -1;
        }
        nlines += count_nl(p + off, (size_t)blen) + 1;
        off += (size_t)blen + 2;
    }
    *lines = nlines;
    return (long)off;
}

static int pipe_fill(void *ctx, loader *ld, buf *out, size_t want) {
    pipe_src *s = ctx;
    while (out->len < want) {
        size_t run = s->ipos;
        int incomplete = 0;
        while (s->ipos < s->ilen && out->len + (s->ipos - run) < want) {
            uint64_t lines, errline;
            int skip;
            long used = parse_cmd(s->ib + s->ipos, s->ilen - s->ipos, &lines, &skip, &errline, s->err,
                                  sizeof(s->err));
            if (used < 0) {
                buf_add(out, s->ib + run, s->ipos - run);
                loader_msg(ld, "Error: malformed RESP on input line %llu: %s\n",
                           (unsigned long long)(s->line + errline), s->err);
                return -1;
            }
            if (used == 0) {
                incomplete = 1;
                break;
            }
            if (skip) {
                buf_add(out, s->ib + run, s->ipos - run);
                run = s->ipos + (size_t)used;
            } else {
                loader_cmd(ld, s->line, (size_t)used);
            }
            s->line += lines;
            s->ipos += (size_t)used;
        }
        buf_add(out, s->ib + run, s->ipos - run);
        s->consumed += s->ipos - run;
        loader_input_pos(ld, s->consumed);
        if (!incomplete && s->ipos < s->ilen) continue; /* out is full enough */
        if (s->ipos == s->ilen || incomplete) {
            if (s->eof) {
                if (s->ipos < s->ilen) {
                    loader_msg(
                        ld, "Error: malformed RESP on input line %llu: incomplete command at end of input\n",
                        (unsigned long long)s->line);
                    return -1;
                }
                return 0;
            }
            /* compact, grow if one command fills the buffer, read more */
            if (s->ipos) {
                memmove(s->ib, s->ib + s->ipos, s->ilen - s->ipos);
                s->ilen -= s->ipos;
                s->ipos = 0;
            }
            if (s->ilen == s->icap) {
                s->icap *= 2;
                s->ib = xrealloc(s->ib, s->icap);
            }
            if (!loader_may_read(ld)) return LOADER_STARVED;
            ssize_t n = read(s->fd, s->ib + s->ilen, s->icap - s->ilen);
            if (n < 0 && errno == EINTR) return 1; /* let the loader see a Ctrl-C */
            if (n < 0) {
                loader_msg(ld, "Error reading from stdin: %s\n", strerror(errno));
                return -1;
            }
            if (n == 0) s->eof = 1;
            s->ilen += (size_t)n;
        }
    }
    return 1;
}

int pipe_mode(void) {
    pipe_src s;
    memset(&s, 0, sizeof(s));
    s.fd = STDIN_FILENO;
    s.icap = 1 << 20;
    s.ib = xmalloc(s.icap);
    s.line = 1;
    loader_opts o = {.pipe_compat = 1, .unit = "commands", .max_shown_errors = 10, .input_fd = s.fd};
    struct stat st;
    if (fstat(s.fd, &st) == 0 && S_ISREG(st.st_mode)) o.input_size = (uint64_t)st.st_size;
    int rc = loader_run(pipe_fill, &s, &o);
    free(s.ib);
    return rc;
}
