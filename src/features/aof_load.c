/* aof_load: see aof_load.h. */
#include "features/aof_load.h"
#include "commands/call.h"
#include "commands/command.h"
#include "commands/propagate.h"
#include "features/config.h"
#include "features/functions.h"
#include "features/multi.h"
#include "net/eventloop.h"
#include "keyspace/db.h"
#include "persist/aof.h"
#include "persist/rdb_load.h"
#include "server/server.h"
#include "util/mem.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { AOF_OK, AOF_NOT_EXIST, AOF_EMPTY, AOF_OPEN_ERR, AOF_FAILED, AOF_TRUNCATED };

#define ANNOTATION_LINE_MAX 1024

/* A buffered reader over the file that counts what was consumed. */
typedef struct reader {
    int fd;
    char buf[65536];
    size_t len, pos;
    long long offset;   /* bytes consumed */
    long long size;     /* the file's size: no argument may be longer than what is left */
    int eof, err;
} reader;

static int fill(reader *r) {
    if (r->pos < r->len) return 1;
    if (r->eof || r->err) return 0;
    ssize_t n;
    do n = read(r->fd, r->buf, sizeof(r->buf));
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        r->err = errno;
        return 0;
    }
    if (n == 0) {
        r->eof = 1;
        return 0;
    }
    r->len = (size_t)n;
    r->pos = 0;
    return 1;
}

/* A line up to and including '\n' (at most max-1 bytes, as fgets); 0 at the end or on a read error. */
static int read_line(reader *r, char *out, size_t max) {
    size_t o = 0;
    while (o + 1 < max) {
        if (!fill(r)) break;
        char ch = r->buf[r->pos++];
        r->offset++;
        out[o++] = ch;
        if (ch == '\n') break;
    }
    out[o] = 0;
    return o > 0;
}

static int read_exact(reader *r, char *out, size_t n) {
    while (n) {
        if (!fill(r)) return 0;
        size_t k = r->len - r->pos < n ? r->len - r->pos : n;
        memcpy(out, r->buf + r->pos, k);
        r->pos += k;
        r->offset += (long long)k;
        out += k;
        n -= k;
    }
    return 1;
}

/* At startup the listeners are open: clients are answered while the files load (-LOADING to all but the
 * commands flagged `loading`), every 1024 commands and on the RDB reader's progress, at most every 2 ms. */
static int serve_clients;

static void serve_while_loading(void) {
    if (!serve_clients || !srv.el) return;
    static long long last;
    long long now = mstime();
    if (now - last < 2) return;
    last = now;
    struct client *current = srv.current_client;
    el_poll(srv.el);
    clients_free_closed();
    clients_handle_pending_writes();
    clients_free_closed();
    srv.current_client = current;
}

static void rdb_progress(void *ud, uint64_t bytes) {
    (void)ud, (void)bytes;
    serve_while_loading();
}

static client *fake_client(void) {
    client *c = client_create(-2, 0); /* fd -2: replies are never built */
    c->flags |= CLIENT_APPLY_STREAM | CLIENT_AUTHENTICATED;
    return c;
}

static void free_args(arg *argv, int argc) {
    for (int i = 0; i < argc; i++) s_free(argv[i].p);
    s_free(argv);
}

/* Loads one file of the AOF directory (loadSingleAppendOnlyFile). */
static int load_file(const char *name) {
    char path[4096];
    aof_path(path, sizeof(path), name);
    int f = open(path, O_RDONLY);
    if (f == -1) {
        int en = errno;
        struct stat st;
        if (stat(path, &st) == 0 || errno != ENOENT) {
            serverLog(LL_WARNING, "Fatal error: can't open the append log file %s for reading: %s", name, strerror(en));
            return AOF_OPEN_ERR;
        }
        serverLog(LL_WARNING, "The append log file %s doesn't exist: %s", name, strerror(errno));
        return AOF_NOT_EXIST;
    }
    struct stat st;
    if (fstat(f, &st) == 0 && st.st_size == 0) {
        close(f);
        return AOF_EMPTY;
    }
    reader *r = s_calloc(sizeof(reader));
    r->fd = f;
    r->size = (long long)st.st_size;
    int ret = AOF_OK;
    client *c = fake_client();
    client *old_client = srv.current_client;
    srv.current_client = c;
    long long valid_up_to = 0, valid_before_multi = 0;
    arg *argv = NULL;
    int argc = 0;

    char sig[5];
    if (read_exact(r, sig, 5) && !memcmp(sig, "REDIS", 5)) {
        int old_style = !strcmp(name, aofc.filename);
        serverLog(LL_NOTICE, old_style ? "Reading RDB preamble from AOF file..." : "Reading RDB base file on AOF loading...");
        char err[256] = "";
        rdb_load_info info;
        rdb_load_opts o = {.progress = rdb_progress, .keep_expired = 1, .deep = config_sanitize_dump() == SANITIZE_YES,
                           .no_checksum = !srv.rdb_checksum, .function = functions_load_code};
        int ok = 0;
        if (lseek(f, 0, SEEK_SET) == 0) {
            ok = rdb_load_fd(f, &o, &info, err, sizeof(err)) == 0;
        }
        if (!ok || lseek(f, (off_t)info.end_offset, SEEK_SET) == -1) {
            if (old_style)
                serverLog(LL_WARNING, "Error reading the RDB preamble of the AOF file %s, AOF loading aborted (%s)", name, err);
            else
                serverLog(LL_WARNING, "Error reading the RDB base file %s, AOF loading aborted (%s)", name, err);
            ret = AOF_FAILED;
            goto cleanup;
        }
        r->len = r->pos = 0;
        r->offset = (long long)info.end_offset;
        valid_up_to = r->offset;
        if (old_style) serverLog(LL_NOTICE, "Reading the remaining AOF tail...");
    } else {
        if (lseek(f, 0, SEEK_SET) == -1) goto readerr;
        r->len = r->pos = 0;
        r->offset = 0;
        r->eof = 0;
    }

    for (long loops = 0;; loops++) {
        char line[ANNOTATION_LINE_MAX];
        if (loops % 1024 == 0) serve_while_loading();
        if (!read_line(r, line, sizeof(line))) {
            if (r->err) goto readerr;
            break;
        }
        if (line[0] == '#') continue;
        if (line[0] != '*') goto fmterr;
        if (line[1] == 0) goto readerr;
        long n = strtol(line + 1, NULL, 10);
        if (n < 1) goto fmterr;
        if (n > r->size) goto fmterr; /* more arguments than bytes in the file */
        argc = 0;
        argv = s_malloc(sizeof(arg) * (size_t)n);
        for (long j = 0; j < n; j++) {
            if (!read_line(r, line, sizeof(line))) goto readerr;
            if (line[0] != '$') goto fmterr;
            long long len = strtoll(line + 1, NULL, 10);
            if (len < 0) goto fmterr;
            if (len > r->size - r->offset) goto readerr; /* the file ends before this argument does */
            char *p = s_malloc((size_t)len + 1);
            if (!read_exact(r, p, (size_t)len)) {
                s_free(p);
                goto readerr;
            }
            p[len] = 0;
            argv[argc++] = (arg){p, (size_t)len};
            char crlf[2];
            if (!read_exact(r, crlf, 2)) goto readerr;
        }
        command *cmd = command_lookup(argv, argc);
        if (!cmd) {
            serverLog(LL_WARNING, "Unknown command '%s' reading the append only file %s", argv[0].p, name);
            ret = AOF_FAILED;
            goto cleanup;
        }
        if ((cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity) {
            serverLog(LL_WARNING, "Wrong number of arguments for '%s' reading the append only file %s", cmd->fullname, name);
            ret = AOF_FAILED;
            goto cleanup;
        }
        if (cmd->proc == cmd_multi) valid_before_multi = valid_up_to;
        c->argc = argc;
        c->argv = argv;
        if ((c->flags & CLIENT_MULTI) && cmd->proc != cmd_exec) multi_queue(c, cmd);
        else call(c, cmd);
        c->argv = NULL;
        c->argc = 0;
        free_args(argv, argc);
        argv = NULL;
        argc = 0;
        valid_up_to = r->offset;
    }
    /* A MULTI without its EXEC at the end is a short read too: its commands are dropped. */
    if (c->flags & CLIENT_MULTI) {
        serverLog(LL_WARNING, "Revert incomplete MULTI/EXEC transaction in AOF file %s", name);
        valid_up_to = valid_before_multi;
        goto uxeof;
    }
    goto cleanup;

readerr:
    if (r->err) {
        serverLog(LL_WARNING, "Unrecoverable error reading the append only file %s: %s", name, strerror(r->err));
        ret = AOF_FAILED;
        goto cleanup;
    }
uxeof:
    if (aofc.load_truncated) {
        serverLog(LL_WARNING, "!!! Warning: short read while loading the AOF file %s!!!", name);
        serverLog(LL_WARNING, "!!! Truncating the AOF %s at offset %llu !!!", name, (unsigned long long)valid_up_to);
        if (truncate(path, (off_t)valid_up_to) == -1) {
            serverLog(LL_WARNING, "Error truncating the AOF file %s: %s", name, strerror(errno));
        } else {
            serverLog(LL_WARNING, "AOF %s loaded anyway because aof-load-truncated is enabled", name);
            ret = AOF_TRUNCATED;
            goto cleanup;
        }
    }
    serverLog(LL_WARNING,
              "Unexpected end of file reading the append only file %s. You can: 1) Make a backup of your AOF file, then "
              "use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' "
              "configuration option to yes and restart the server.",
              name);
    ret = AOF_FAILED;
    goto cleanup;

fmterr:
    serverLog(LL_WARNING, "Bad file format reading the append only file %s: make a backup of your AOF file, then use "
                          "./redis-check-aof --fix <filename.manifest>",
              name);
    ret = AOF_FAILED;

cleanup:
    if (argv) free_args(argv, argc);
    c->argv = NULL;
    c->argc = 0;
    multi_discard(c);
    client_free(c);
    srv.current_client = old_client;
    close(f);
    s_free(r);
    return ret;
}

static int file_size(const char *name, long long *size) {
    char path[4096];
    struct stat st;
    aof_path(path, sizeof(path), name);
    if (stat(path, &st) == -1) {
        serverLog(LL_WARNING, "Unable to obtain the AOF file %s length. stat: %s", name, strerror(errno));
        return errno == ENOENT ? AOF_NOT_EXIST : AOF_OPEN_ERR;
    }
    *size = (long long)st.st_size;
    return AOF_OK;
}

/* loadAppendOnlyFiles: the base, then the incr files. */
static int load_all(void) {
    const aof_manifest *m = aof_manifest_current();
    if (!m->base && !m->nincr) return AOF_NOT_EXIST;
    int total = (m->base ? 1 : 0) + m->nincr, num = 0;
    long long total_size = 0, base_size = 0, sz;
    if (m->base) {
        int st = file_size(m->base->name, &sz);
        if (st != AOF_OK) return st == AOF_NOT_EXIST ? AOF_FAILED : st;
        total_size += sz;
    }
    for (int i = 0; i < m->nincr; i++) {
        int st = file_size(m->incr[i].name, &sz);
        if (st != AOF_OK) return st == AOF_NOT_EXIST ? AOF_FAILED : st;
        total_size += sz;
    }
    if (total_size == 0) return AOF_EMPTY;
    aof_sink_pause(1);
    prop_suspend(1); /* what is replayed is in the files already (and DEBUG LOADAOF runs inside a call) */
    int ret = AOF_OK;
    if (m->base) {
        const char *name = m->base->name;
        file_size(name, &base_size);
        int last = ++num == total;
        long long start = ustime();
        ret = load_file(name);
        if (ret == AOF_OK || (ret == AOF_TRUNCATED && last))
            serverLog(LL_NOTICE, "DB loaded from base file %s: %.3f seconds", name, (double)(ustime() - start) / 1e6);
        if (ret == AOF_TRUNCATED && !last) {
            ret = AOF_FAILED;
            serverLog(LL_WARNING, "Fatal error: the truncated file is not the last file");
        }
        if (ret == AOF_OPEN_ERR || ret == AOF_FAILED) goto out;
    }
    for (int i = 0; i < m->nincr; i++) {
        const char *name = m->incr[i].name;
        int last = ++num == total;
        long long start = ustime();
        ret = load_file(name);
        if (ret == AOF_OK || (ret == AOF_TRUNCATED && last))
            serverLog(LL_NOTICE, "DB loaded from incr file %s: %.3f seconds", name, (double)(ustime() - start) / 1e6);
        if (ret == AOF_EMPTY) ret = AOF_OK;
        if (ret == AOF_TRUNCATED && !last) {
            ret = AOF_FAILED;
            serverLog(LL_WARNING, "Fatal error: the truncated file is not the last file");
        }
        if (ret == AOF_OPEN_ERR || ret == AOF_FAILED) goto out;
    }
    aof_set_loaded_sizes(total_size, base_size);
out:
    prop_suspend(0);
    aof_sink_pause(0);
    return ret;
}

int aof_load_startup(void) {
    if (aof_manifest_load() != 0) return -1;
    if (!aofc.enabled) return aof_open_on_start();
    if (aof_upgrade_if_needed() != 0) return -1;
    long long start = ustime();
    srv.loading = 1;
    serve_clients = 1;
    int ret = load_all();
    serve_clients = 0;
    srv.loading = 0;
    if (ret == AOF_FAILED || ret == AOF_OPEN_ERR) {
        for (int i = 0; i < srv.dbnum; i++) db_flush(&srv.dbs[i], 0); /* the server exits: nothing half-loaded stays */
        return -1;
    }
    if (ret != AOF_NOT_EXIST)
        serverLog(LL_NOTICE, "DB loaded from append only file: %.3f seconds", (double)(ustime() - start) / 1e6);
    srv.dirty = 0;
    return aof_open_on_start();
}

int aof_debug_loadaof(void) {
    if (aof_state() == AOF_ON) aof_flush(1);
    for (int i = 0; i < srv.dbnum; i++) db_flush(&srv.dbs[i], 0);
    functions_flush_all(); /* the files hold the libraries too (Redis's emptyData) */
    if (aof_manifest_load() != 0) return -1;
    int ret = load_all();
    if (ret != AOF_OK && ret != AOF_EMPTY) return -1;
    srv.dirty = 0;
    serverLog(LL_WARNING, "Append Only File loaded by DEBUG LOADAOF");
    return 0;
}
