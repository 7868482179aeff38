/* fuzz_request: the RESP and inline request parser (protocol/request.c).
 *
 * The input is a byte stream as a client would send it.  Its first byte
 * chooses whether the client is authenticated (bit 0: the unauthenticated
 * limits apply otherwise) and seeds the sizes of the reads the stream is cut
 * into, so the fuzzer also explores commands split at every point.  Each
 * read is appended to the query buffer the way net/networking.c does; the
 * parser then runs until it wants more bytes, and the consumed prefix is
 * compacted away, as client_process_input does.
 *
 * Checked: no memory error (ASan/UBSan), every parsed argument lies inside
 * the query buffer, the parse position never passes the end of the data,
 * and a parse error is final (the connection would be closed). */
#include "fuzz/fuzz.h"
#include "net/client.h"
#include "protocol/request.h"
#include "server/server.h"
#include "util/mem.h"
#include <stdlib.h>
#include <string.h>

static void feed(client *c, const uint8_t *p, size_t n) {
    if (c->qcap - c->qlen < n) {
        size_t cap = c->qcap ? c->qcap : 64;
        while (cap - c->qlen < n) cap *= 2;
        c->qbuf = cbuf_realloc(c->qbuf, cap);
        c->qcap = cap;
    }
    memcpy(c->qbuf + c->qlen, p, n);
    c->qlen += n;
}

static void compact(client *c) {
    if (c->qstart >= c->qlen) {
        c->qstart = c->qlen = 0;
    } else if (c->qstart > 0) {
        memmove(c->qbuf, c->qbuf + c->qstart, c->qlen - c->qstart);
        c->qlen -= c->qstart;
        c->qstart = 0;
    }
}

/* Runs the parser over what is buffered; 0 when the stream may go on, -1 after a protocol error. */
static int drain(client *c) {
    for (;;) {
        const char *err = NULL;
        int r = parse_request(c, &err);
        FUZZ_CHECK(c->qstart + c->ppos <= c->qlen);
        if (r == PARSE_MORE) break;
        if (r == PARSE_ERROR) {
            FUZZ_CHECK(err != NULL && strlen(err) > 0);
            return -1;
        }
        if (r == PARSE_OK) {
            FUZZ_CHECK(c->argc > 0);
            for (int i = 0; i < c->argc; i++) {
                FUZZ_CHECK(c->argv[i].p >= c->qbuf && c->argv[i].p + c->argv[i].len <= c->qbuf + c->qlen);
                if (c->argv[i].len) (void)((volatile char *)c->argv[i].p)[c->argv[i].len - 1];
            }
        }
        parse_done(c);
    }
    compact(c);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    srv.proto_max_bulk_len = 1024 * 1024; /* the smallest Redis allows: keeps each run small */
    client *c = s_calloc(sizeof(client));
    c->bulklen = -1;
    c->idx = -1;
    c->fd = -1;
    if (data[0] & 1) c->flags |= CLIENT_AUTHENTICATED;
    unsigned seed = data[0];
    data++, size--;
    while (size) {
        size_t n = size;
        if (seed >> 1) { /* cut the stream into reads of 1..16 bytes from a tiny LCG */
            seed = seed * 1103515245u + 12345u;
            n = 1 + (seed >> 16) % 16;
            if (n > size) n = size;
        }
        feed(c, data, n);
        data += n, size -= n;
        if (drain(c) != 0) break;
    }
    cbuf_free(c->qbuf);
    s_free(c->argv);
    s_free(c->argoff);
    s_free(c);
    return 0;
}
