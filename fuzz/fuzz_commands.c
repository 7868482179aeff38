/* fuzz_commands: the argument parsers of the commands with the richest
 * syntax (SET, ZADD, XADD, GEOSEARCH, SORT, BITFIELD, CLIENT, CONFIG and their
 * relatives), run through the real dispatcher in-process.
 *
 * LLVMFuzzerInitialize builds the server state as main() does, minus sockets
 * and the event loop's run.  Each input is a script: one command a line,
 * arguments split with the config-file/inline quoting rules ("..." with \xHH
 * escapes, '...'), so the fuzzer can write any byte.  Commands outside the
 * allow-list below are skipped (they would exit, sleep, block a client that
 * has no socket, or touch the filesystem).  A fake client with no socket
 * (fd -1, not in the client list) runs the script; its replies pile up in
 * its output buffer, which is dropped after every command.  After the run
 * the keyspace is flushed, the configuration returns to its defaults and
 * the working directory is restored, so no state leaks into the next input.
 *
 * Checked: no memory error or undefined behaviour; every command produces a
 * reply (unless the client asked for none, or the server postponed it). */
#include "app/loop.h"
#include "commands/command.h"
#include "commands/dispatch.h"
#include "fuzz/fuzz.h"
#include "keyspace/db.h"
#include "mem/arena.h"
#include "net/client.h"
#include "net/eventloop.h"
#include "protocol/request.h"
#include "features/config.h"
#include "server/server.h"
#include "util/mem.h"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_COMMANDS 64
#define MAX_ARGS 128

static const char *const allowed[] = {
    "SET", "GET", "GETEX", "GETDEL", "GETSET", "SETRANGE", "GETRANGE", "APPEND", "INCR", "SETEX", "MSET",
    "ZADD", "ZINCRBY", "ZRANGE", "ZRANGESTORE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE", "ZRANGEBYLEX", "ZREVRANGE",
    "ZUNION", "ZINTER", "ZDIFF", "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE", "ZSCORE", "ZREM", "ZCOUNT",
    "ZLEXCOUNT", "ZPOPMIN", "ZRANK",
    "XADD", "XRANGE", "XREVRANGE", "XTRIM", "XLEN", "XDEL", "XGROUP", "XINFO", "XPENDING", "XCLAIM",
    "XAUTOCLAIM", "XACK", "XSETID", "XREAD", "XREADGROUP",
    "GEOADD", "GEOSEARCH", "GEOSEARCHSTORE", "GEORADIUS", "GEORADIUSBYMEMBER", "GEORADIUS_RO", "GEODIST",
    "GEOPOS", "GEOHASH",
    "SORT", "SORT_RO",
    "BITFIELD", "BITFIELD_RO", "BITPOS", "BITCOUNT", "BITOP", "SETBIT", "GETBIT",
    "CLIENT", "CONFIG",
    "LPUSH", "RPUSH", "SADD", "HSET", "DEL", "EXPIRE", "TYPE", "MULTI", "EXEC", "DISCARD", "SELECT", NULL};

static int cwd_fd = -1;
static int trace; /* FUZZ_TRACE=1: print the replies, to see what an input does */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    config_set_defaults();
    if (arena_init((size_t)1 << 32) != 0) abort();
    server_init_state();
    dispatch_init();
    srv.el = el_create(srv.maxclients + 1024);
    cwd_fd = open(".", O_RDONLY | O_DIRECTORY);
    srv.verbosity = LL_NOTHING;
    trace = getenv("FUZZ_TRACE") != NULL;
    return 0;
}

static int is_allowed(const arg *v, int argc) {
    int ok = 0;
    for (int i = 0; allowed[i]; i++)
        if (!strcasecmp(v[0].p, allowed[i])) ok = 1;
    if (!ok) return 0;
    for (int j = 1; j < argc; j++) {
        /* a blocking read would park a client that has no socket */
        if (!strcasecmp(v[0].p, "XREAD") || !strcasecmp(v[0].p, "XREADGROUP"))
            if (!strcasecmp(v[j].p, "BLOCK")) return 0;
        /* a larger bulk limit lets one command allocate gigabytes (bitmap offsets, SETRANGE) */
        if (!strcasecmp(v[0].p, "CONFIG") && strcasestr(v[j].p, "proto-max-bulk-len")) return 0;
    }
    return 1;
}

static void restore_state(void) {
    for (int i = 0; i < srv.dbnum; i++) db_flush(&srv.dbs[i], 0);
    while (db_lazyfree_step(1 << 20)) {
    }
    srv.paused_until_ms = 0;
    srv.pause_all = 0;
    config_set_defaults();
    srv.verbosity = LL_NOTHING;
    srv.proto_max_bulk_len = 1024 * 1024;
    srv.safety_limit_config = 0; /* no memory-based refusals: they would depend on the machine */
    srv.safety_limit = 0;
    if (cwd_fd >= 0 && fchdir(cwd_fd) != 0) abort();
}

static void run_one(client *c, arg *v, int argc) {
    c->argv = s_malloc(sizeof(arg) * (size_t)argc);
    memcpy(c->argv, v, sizeof(arg) * (size_t)argc);
    c->argc = argc;
    c->argv_cap = argc;
    size_t before = c->olen;
    int quiet = (c->flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP)) != 0;
    srv.current_client = c;
    int done = process_command(c);
    srv.current_client = NULL;
    if (!done) c->flags &= ~CLIENT_PAUSED; /* postponed by CLIENT PAUSE: dropped */
    else if (!quiet && !(c->flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP)) && !(c->flags & CLIENT_CLOSE_ASAP))
        FUZZ_CHECK(c->olen > before);
    if (trace) fwrite(c->obuf, 1, c->olen, stderr);
    c->olen = c->opos = 0;
    s_free(c->argv);
    c->argv = NULL;
    c->argc = c->argv_cap = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    restore_state();
    client *c = client_create(-1, 0);
    const uint8_t *p = data, *end = data + size;
    for (int n = 0; p < end && n < MAX_COMMANDS; n++) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        int argc;
        arg *v = split_args((const char *)p, len, &argc);
        p += len + (nl ? 1 : 0);
        if (!v) continue;
        if (argc > 0 && argc <= MAX_ARGS && is_allowed(v, argc)) run_one(c, v, argc);
        free_split_args(v, argc);
        if (c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY)) break;
    }
    client_free(c);
    clients_free_closed();
    restore_state();
    return 0;
}
