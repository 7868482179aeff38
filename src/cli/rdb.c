/* rdb: --rdb FILE ("-" for stdout).
 *
 * Like redis-cli: REPLCONF capa eof and REPLCONF rdb-only 1 (errors from
 * servers without them are ignored), then SYNC.  The master may send bare
 * newlines as keepalives before the "$" header, which is either "$<length>"
 * (exactly that many bytes follow) or "$EOF:<40-byte mark>" (data until the
 * mark).  In the EOF case the last 40 bytes are held back until more data
 * proves they are not the mark, so the file never contains it.  The file is
 * fsync'ed before success is reported. */
#include "cli/rdb.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/buf.h"
#include "cli/config.h"
#include "cli/session.h"

#define MARK_LEN 40

/* Reads from the connection, first draining what the reply reader holds. */
static ssize_t conn_raw_read(conn *c, char *dst, size_t n) {
    resp_reader *r = &c->rd;
    if (r->pos < r->len) {
        size_t k = r->len - r->pos < n ? r->len - r->pos : n;
        memcpy(dst, r->buf + r->pos, k);
        r->pos += k;
        return (ssize_t)k;
    }
    for (;;) {
        ssize_t k = read(c->fd, dst, n);
        if (k < 0 && errno == EINTR) continue;
        return k;
    }
}

static int write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int rdb_mode(void) {
    conn *c = session_connect(0);
    if (!c) return 1;
    const char *fname = cfg.rdb;
    int to_stdout = !strcmp(fname, "-");
    for (int i = 0; i < 2; i++) {
        const char *cmd = i == 0 ? "REPLCONF capa eof" : "REPLCONF rdb-only 1";
        fprintf(stderr, "sending %s\n", cmd);
        reply *r = conn_cmdf(c, cmd);
        if (!r) {
            fprintf(stderr, "Error: %s\n", c->err);
            conn_close(c);
            return 1;
        }
        reply_free(r);
    }
    if (conn_write(c, "SYNC\r\n", 6) < 0) {
        fprintf(stderr, "Error writing to master\n");
        conn_close(c);
        return 1;
    }
    /* header line, skipping keepalive newlines */
    char line[256];
    size_t ll = 0;
    for (;;) {
        char ch;
        ssize_t k = conn_raw_read(c, &ch, 1);
        if (k <= 0) {
            fprintf(stderr, "Error reading bulk length while SYNCing\n");
            conn_close(c);
            return 1;
        }
        if (ch == '\n') {
            if (ll == 0) continue;
            break;
        }
        if (ll < sizeof(line) - 1) line[ll++] = ch;
    }
    line[ll] = '\0';
    if (ll && line[ll - 1] == '\r') line[--ll] = '\0';
    if (line[0] == '-') {
        fprintf(stderr, "SYNC with master failed: %s\n", line + 1);
        conn_close(c);
        return 1;
    }
    if (line[0] != '$') {
        fprintf(stderr, "Bad protocol from master: %s\n", line);
        conn_close(c);
        return 1;
    }
    int eofmode = !strncmp(line + 1, "EOF:", 4) && ll >= 5 + MARK_LEN;
    char mark[MARK_LEN];
    unsigned long long payload = 0;
    if (eofmode)
        memcpy(mark, line + 5, MARK_LEN);
    else
        payload = strtoull(line + 1, NULL, 10);

    int fd = to_stdout ? STDOUT_FILENO : open(fname, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0) {
        fprintf(stderr, "Error opening '%s': %s\n", fname, strerror(errno));
        conn_close(c);
        return 1;
    }
    if (eofmode)
        fprintf(stderr, "SYNC sent to master, writing bytes of bulk transfer until EOF marker to '%s'\n",
                fname);
    else
        fprintf(stderr, "SYNC sent to master, writing %llu bytes to '%s'\n", payload, fname);

    size_t cap = 1 << 16;
    char *b = xmalloc(cap + MARK_LEN);
    size_t held = 0; /* EOF mode: bytes at b[0..held) not yet written (<= MARK_LEN) */
    unsigned long long written = 0, left = payload;
    int ok = 0;
    for (;;) {
        if (!eofmode && left == 0) {
            ok = 1;
            break;
        }
        size_t want = eofmode ? cap : (left < cap ? (size_t)left : cap);
        ssize_t k = conn_raw_read(c, b + held, want);
        if (k <= 0) {
            fprintf(stderr, "Error reading RDB payload while SYNCing\n");
            break;
        }
        if (!eofmode) {
            if (write_all(fd, b, (size_t)k) < 0) {
                fprintf(stderr, "Error writing data to file: %s\n", strerror(errno));
                break;
            }
            left -= (unsigned long long)k;
            written += (unsigned long long)k;
            continue;
        }
        size_t total = held + (size_t)k;
        if (total >= MARK_LEN && !memcmp(b + total - MARK_LEN, mark, MARK_LEN)) {
            if (write_all(fd, b, total - MARK_LEN) < 0) break;
            written += total - MARK_LEN;
            ok = 1;
            break;
        }
        size_t keep = total < MARK_LEN ? total : MARK_LEN;
        if (write_all(fd, b, total - keep) < 0) {
            fprintf(stderr, "Error writing data to file: %s\n", strerror(errno));
            break;
        }
        written += total - keep;
        memmove(b, b + total - keep, keep);
        held = keep;
    }
    free(b);
    if (ok && !to_stdout && fsync(fd) < 0) {
        fprintf(stderr, "Fail to fsync '%s': %s\n", fname, strerror(errno));
        ok = 0;
    }
    if (!to_stdout) close(fd);
    conn_close(c);
    if (!ok) return 1;
    if (eofmode)
        fprintf(stderr, "Transfer finished with success after %llu bytes\n", written);
    else
        fprintf(stderr, "Transfer finished with success.\n");
    return 0;
}
