/* aof: see aof.h.
 *
 * Invariants:
 * - fd is open (the last incr file of the manifest, or the temporary incr
 *   file in WAIT_REWRITE) exactly when state != OFF, except in WAIT_REWRITE
 *   between a failed rewrite and its retry (fd -1: nothing is buffered).
 * - The manifest in memory (man) is the one on disk, except while a new one
 *   is being built in a copy that replaces it only once persisted.
 * - incr_size is the size of the file fd points to; fsynced_size <= incr_size
 *   is what an fsync (done or queued) covers.
 * - A rewrite (rewriting) is a snapshot of ours in flight; at most one. */
#include "persist/aof.h"
#include "commands/propagate.h"
#include "keyspace/db.h"
#include "persist/rdb_save.h"
#include "persist/snapshot.h"
#include "server/bio.h"
#include "server/server.h"
#include "util/crc64.h"
#include "util/debug.h"
#include "util/mem.h"
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

aof_config aofc;

static int state = AOF_OFF;
static int started;           /* the server has finished starting */
static aof_manifest man;
static int fd = -1;
static int selected_db = -1;
static char *buf;
static size_t buflen, bufcap;
static long long incr_size, fsynced_size;
static long long current_size, base_size; /* aof_current_size, aof_rewrite_base_size */
static time_t last_fsync, flush_postponed_start, cur_timestamp;
static unsigned long delayed_fsync;
static int last_write_ok = 1, last_write_errno;
static int sink_paused, sink_added;
/* rewrite */
static int rewriting, rewrite_scheduled, last_bgrewrite_ok = 1;
static long long rewrites, consecutive_failures;
static time_t rewrite_time_start = -1, rewrite_time_last = -1;
static char *rewrite_base_name; /* the base file the running snapshot writes */
/* background fsync */
static atomic_int fsync_pending;
static atomic_int bio_fsync_ok = 1, bio_fsync_errno;

#define TEMP_PREFIX "temp-"

/* The function libraries a new base starts with (features/functions.h, above this layer). */
static int (*functions_source)(const char *const **codes, const size_t **lens);
void aof_set_functions_source(int (*codes)(const char *const **codes, const size_t **lens)) { functions_source = codes; }

/* Another background save (a BGSAVE, forked or not) keeps rewrites waiting, as Redis's one child at a time. */
static int (*other_save_running)(void);
void aof_set_other_save_check(int (*running)(void)) { other_save_running = running; }
static int save_busy(void) { return snapshot_running() || (other_save_running && other_save_running()); }

void aof_path(char *out, size_t n, const char *name) {
    snprintf(out, n, "%s/%s", aofc.dirname, name);
}

/* ---- background jobs ---- */

/* b: close the file after the fsync.  Only fsyncs of the file being written count as "an fsync in
 * progress" (fsync_pending, which makes everysec postpone writes): a retired file's fsync-and-close does
 * not hold up writes to the new one. */
static void fsync_job(void *a, void *b) {
    int f = (int)(intptr_t)a;
    server_debug_slow_op(); /* a slow disk, for tests: "aof-write-pending-fsync" */
    if (fdatasync(f) == -1 && errno != EBADF && errno != EINVAL) {
        atomic_store(&bio_fsync_errno, errno);
        atomic_store(&bio_fsync_ok, 0);
    } else {
        atomic_store(&bio_fsync_ok, 1);
    }
    if (b) close(f);
    else atomic_fetch_sub(&fsync_pending, 1);
}

static void bg_fsync(int f, int close_after) {
    if (!close_after) atomic_fetch_add(&fsync_pending, 1);
    bio_submit(fsync_job, (void *)(intptr_t)f, (void *)(intptr_t)close_after);
}

static void unlink_job(void *a, void *b) {
    (void)b;
    unlink(a);
    s_free(a);
}

static void bg_unlink(const char *path) { bio_submit(unlink_job, s_strdup(path), NULL); }

/* ---- the manifest ---- */

static void file_free(aof_file *f) { s_free(f->name); }

static void manifest_free(aof_manifest *m) {
    if (m->base) {
        file_free(m->base);
        s_free(m->base);
    }
    for (int i = 0; i < m->nincr; i++) file_free(&m->incr[i]);
    for (int i = 0; i < m->nhist; i++) file_free(&m->hist[i]);
    s_free(m->incr);
    s_free(m->hist);
    memset(m, 0, sizeof(*m));
}

static aof_file file_dup(const aof_file *f) { return (aof_file){s_strdup(f->name), f->seq, f->type}; }

static void manifest_dup(aof_manifest *dst, const aof_manifest *src) {
    *dst = *src;
    if (src->base) {
        dst->base = s_malloc(sizeof(aof_file));
        *dst->base = file_dup(src->base);
    }
    dst->incr = s_malloc(sizeof(aof_file) * (size_t)(src->nincr + 1));
    dst->hist = s_malloc(sizeof(aof_file) * (size_t)(src->nhist + 1));
    for (int i = 0; i < src->nincr; i++) dst->incr[i] = file_dup(&src->incr[i]);
    for (int i = 0; i < src->nhist; i++) dst->hist[i] = file_dup(&src->hist[i]);
}

static void add_incr(aof_manifest *m, aof_file f) {
    m->incr = s_realloc(m->incr, sizeof(aof_file) * (size_t)(m->nincr + 1));
    m->incr[m->nincr++] = f;
}

static void add_hist(aof_manifest *m, aof_file f) {
    f.type = AOF_TYPE_HIST;
    m->hist = s_realloc(m->hist, sizeof(aof_file) * (size_t)(m->nhist + 1));
    m->hist[m->nhist++] = f;
}

const aof_manifest *aof_manifest_current(void) { return &man; }

/* A file name is written as it is unless it needs quoting (sdscatrepr's rules). */
static void format_name(char *out, size_t n, const char *name) {
    int plain = name[0] != 0;
    for (const char *p = name; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '\\' || *p == '\'' || (unsigned char)*p >= 127) plain = 0;
    if (plain) {
        snprintf(out, n, "%s", name);
        return;
    }
    size_t o = 0;
    out[o++] = '"';
    for (const char *p = name; *p && o + 6 < n; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '\\' || ch == '"') o += (size_t)snprintf(out + o, n - o, "\\%c", ch);
        else if (ch == '\n') o += (size_t)snprintf(out + o, n - o, "\\n");
        else if (ch == '\r') o += (size_t)snprintf(out + o, n - o, "\\r");
        else if (ch == '\t') o += (size_t)snprintf(out + o, n - o, "\\t");
        else if (ch < 32 || ch >= 127) o += (size_t)snprintf(out + o, n - o, "\\x%02x", ch);
        else out[o++] = (char)ch;
    }
    out[o++] = '"';
    out[o] = 0;
}

static char *manifest_text(const aof_manifest *m, size_t *len) {
    size_t cap = 256, n = 0;
    char *t = s_malloc(cap);
    const aof_file *lists[3] = {m->base, m->hist, m->incr};
    int counts[3] = {m->base ? 1 : 0, m->nhist, m->nincr};
    for (int l = 0; l < 3; l++)
        for (int i = 0; i < counts[l]; i++) {
            const aof_file *f = &lists[l][i];
            char name[1200], line[1400];
            format_name(name, sizeof(name), f->name);
            int k = snprintf(line, sizeof(line), "file %s seq %lld type %c\n", name, f->seq, f->type);
            if (n + (size_t)k + 1 > cap) {
                cap = (n + (size_t)k + 1) * 2;
                t = s_realloc(t, cap);
            }
            memcpy(t + n, line, (size_t)k);
            n += (size_t)k;
        }
    *len = n;
    return t;
}

static int fsync_dir(const char *dir) {
    int d = open(dir, O_RDONLY);
    if (d == -1) return -1;
    int r = fsync(d);
    int e = errno;
    close(d);
    errno = e;
    return r;
}

/* Writes the manifest atomically: temporary file, fsync, rename, fsync of the directory. */
static int manifest_persist(const aof_manifest *m) {
    char name[1024], tmpname[1040], path[4096], tmppath[4096];
    snprintf(name, sizeof(name), "%s.manifest", aofc.filename);
    snprintf(tmpname, sizeof(tmpname), TEMP_PREFIX "%s.manifest", aofc.filename);
    aof_path(path, sizeof(path), name);
    aof_path(tmppath, sizeof(tmppath), tmpname);
    size_t len;
    char *text = manifest_text(m, &len);
    int ret = -1;
    int f = open(tmppath, O_WRONLY | O_TRUNC | O_CREAT, 0644);
    if (f == -1) {
        serverLog(LL_WARNING, "Can't open the AOF manifest file %s: %s", tmpname, strerror(errno));
        goto out;
    }
    for (size_t off = 0; off < len;) {
        ssize_t w = write(f, text + off, len - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            serverLog(LL_WARNING, "Error trying to write the temporary AOF manifest file %s: %s", tmpname, strerror(errno));
            goto out;
        }
        off += (size_t)w;
    }
    if (fsync(f) == -1) {
        serverLog(LL_WARNING, "Fail to fsync the temp AOF file %s: %s.", tmpname, strerror(errno));
        goto out;
    }
    if (rename(tmppath, path) != 0) {
        serverLog(LL_WARNING, "Error trying to rename the temporary AOF manifest file %s into %s: %s", tmpname, name,
                  strerror(errno));
        goto out;
    }
    if (fsync_dir(aofc.dirname) == -1) {
        serverLog(LL_WARNING, "Fail to fsync AOF directory %s: %s.", path, strerror(errno));
        goto out;
    }
    ret = 0;
out:
    if (f != -1) close(f);
    s_free(text);
    return ret;
}

static int dir_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int file_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int dir_create_if_missing(void) {
    if (mkdir(aofc.dirname, 0755) == -1 && errno != EEXIST) return -1;
    if (!dir_exists(aofc.dirname)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* sdssplitargs, enough for manifest lines: words separated by blanks, "..." with \\ \" \n \r \t \xHH
 * escapes, '...' with \' only.  Returns the count, -1 on unbalanced quotes. */
static int split_line(const char *p, char words[][1100], int max) {
    int n = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
        if (!*p) return n;
        if (n == max) return -1;
        char *w = words[n++];
        size_t o = 0;
        int dq = 0, sq = 0;
        for (;;) {
            if (o >= 1099) return -1;
            if (dq) {
                if (!*p) return -1;
                if (p[0] == '\\' && p[1] == 'x' && p[2] && p[3] && strchr("0123456789abcdefABCDEF", p[2]) &&
                    strchr("0123456789abcdefABCDEF", p[3])) {
                    char hex[3] = {p[2], p[3], 0};
                    w[o++] = (char)strtol(hex, NULL, 16);
                    p += 3;
                } else if (p[0] == '\\' && p[1]) {
                    p++;
                    w[o++] = *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p == 't' ? '\t' : *p == 'b' ? '\b' : *p == 'a' ? '\a' : *p;
                } else if (*p == '"') {
                    if (p[1] && p[1] != ' ' && p[1] != '\t' && p[1] != '\r' && p[1] != '\n') return -1;
                    dq = 0;
                    p++;
                    break;
                } else {
                    w[o++] = *p;
                }
            } else if (sq) {
                if (!*p) return -1;
                if (p[0] == '\\' && p[1] == '\'') {
                    p++;
                    w[o++] = '\'';
                } else if (*p == '\'') {
                    if (p[1] && p[1] != ' ' && p[1] != '\t' && p[1] != '\r' && p[1] != '\n') return -1;
                    sq = 0;
                    p++;
                    break;
                } else {
                    w[o++] = *p;
                }
            } else {
                if (!*p || *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') break;
                if (*p == '"') dq = 1;
                else if (*p == '\'') sq = 1;
                else w[o++] = *p;
            }
            p++;
        }
        w[o] = 0;
    }
}

static int manifest_fail(const char *err, int linenum, const char *line) {
    serverLog(LL_WARNING, "\n*** FATAL AOF MANIFEST FILE ERROR ***\n");
    if (line) {
        serverLog(LL_WARNING, "Reading the manifest file, at line %d\n", linenum);
        serverLog(LL_WARNING, ">>> '%s'\n", line);
    }
    serverLog(LL_WARNING, "%s\n", err);
    return -1;
}

#define MANIFEST_MAX_LINE 1024

int aof_manifest_load(void) {
    manifest_free(&man);
    if (!dir_exists(aofc.dirname)) return 0;
    char name[1024], path[4096];
    snprintf(name, sizeof(name), "%s.manifest", aofc.filename);
    aof_path(path, sizeof(path), name);
    if (!file_exists(path)) return 0;
    FILE *fp = fopen(path, "r");
    if (!fp) {
        serverLog(LL_WARNING, "Fatal error: can't open the AOF manifest file %s for reading: %s", path, strerror(errno));
        return -1;
    }
    char line[MANIFEST_MAX_LINE + 1];
    static char words[8][1100];
    int linenum = 0, ret = 0;
    long long maxseq = 0;
    aof_manifest m = {0};
    for (;;) {
        if (!fgets(line, sizeof(line), fp)) {
            if (feof(fp)) {
                if (linenum == 0) ret = manifest_fail("Found an empty AOF manifest", 0, NULL);
            } else {
                ret = manifest_fail("Read AOF manifest failed", 0, NULL);
            }
            break;
        }
        linenum++;
        if (line[0] == '#') continue;
        if (!strchr(line, '\n')) {
            ret = manifest_fail("The AOF manifest file contains too long line", linenum, NULL);
            break;
        }
        /* trim " \t\r\n" */
        char *s = line;
        while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') s++;
        size_t l = strlen(s);
        while (l && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\r' || s[l - 1] == '\n')) s[--l] = 0;
        if (!l) {
            ret = manifest_fail("Invalid AOF manifest file format", linenum, s);
            break;
        }
        int argc = split_line(s, words, 8);
        if (argc < 6 || argc % 2) {
            ret = manifest_fail("Invalid AOF manifest file format", linenum, s);
            break;
        }
        aof_file f = {NULL, 0, 0};
        const char *err = NULL;
        for (int i = 0; i < argc; i += 2) {
            if (!strcasecmp(words[i], "file")) {
                s_free(f.name);
                f.name = s_strdup(words[i + 1]);
                if (strchr(f.name, '/')) err = "File can't be a path, just a filename";
            } else if (!strcasecmp(words[i], "seq")) {
                f.seq = atoll(words[i + 1]);
            } else if (!strcasecmp(words[i], "type")) {
                f.type = words[i + 1][0];
            }
        }
        if (!err && (!f.name || !f.seq || !f.type)) err = "Invalid AOF manifest file format";
        if (!err) {
            if (f.type == AOF_TYPE_BASE) {
                if (m.base) err = "Found duplicate base file information";
                else {
                    m.base = s_malloc(sizeof(aof_file));
                    *m.base = f;
                    m.base_seq = f.seq;
                    f.name = NULL;
                }
            } else if (f.type == AOF_TYPE_HIST) {
                add_hist(&m, f);
                f.name = NULL;
            } else if (f.type == AOF_TYPE_INCR) {
                if (f.seq <= maxseq) err = "Found a non-monotonic sequence number";
                else {
                    add_incr(&m, f);
                    m.incr_seq = maxseq = f.seq;
                    f.name = NULL;
                }
            } else {
                err = "Unknown AOF file type";
            }
        }
        s_free(f.name);
        if (err) {
            ret = manifest_fail(err, linenum, s);
            break;
        }
    }
    fclose(fp);
    if (ret) {
        manifest_free(&m);
        return -1;
    }
    man = m;
    return 0;
}

int aof_upgrade_if_needed(void) {
    if (!file_exists(aofc.filename)) return 0;
    char inside[4096];
    aof_path(inside, sizeof(inside), aofc.filename);
    int upgrade = !dir_exists(aofc.dirname) || (!man.base && !man.nincr) ||
                  (man.base && !man.nincr && !strcmp(man.base->name, aofc.filename) && !file_exists(inside));
    if (!upgrade) return 0;
    if (dir_create_if_missing() == -1) {
        serverLog(LL_WARNING, "Can't open or create append-only dir %s: %s", aofc.dirname, strerror(errno));
        return -1;
    }
    if (man.base) {
        file_free(man.base);
        s_free(man.base);
    }
    man.base = s_malloc(sizeof(aof_file));
    *man.base = (aof_file){s_strdup(aofc.filename), 1, AOF_TYPE_BASE};
    man.base_seq = 1;
    if (manifest_persist(&man) != 0) return -1;
    if (rename(aofc.filename, inside) == -1) {
        serverLog(LL_WARNING, "Error trying to move the old AOF file %s into dir %s: %s", aofc.filename, aofc.dirname,
                  strerror(errno));
        return -1;
    }
    serverLog(LL_NOTICE, "Successfully migrated an old-style AOF file (%s) into the AOF directory (%s).", aofc.filename,
              aofc.dirname);
    return 0;
}

void aof_set_loaded_sizes(long long current, long long base) {
    current_size = current;
    base_size = base;
}

/* ---- the sink ---- */

static void buf_append(const char *p, size_t n) {
    if (buflen + n > bufcap) {
        bufcap = (buflen + n) * 2 < 4096 ? 4096 : (buflen + n) * 2;
        buf = s_realloc(buf, bufcap);
    }
    memcpy(buf + buflen, p, n);
    buflen += n;
}

static void buf_append_bulk_header(char type, size_t n) {
    char h[32];
    int k = snprintf(h, sizeof(h), "%c%zu\r\n", type, n);
    buf_append(h, (size_t)k);
}

static void sink(void *ud, int dbid, int argc, const arg *argv) {
    (void)ud;
    if (sink_paused) return;
    if (!(state == AOF_ON || (state == AOF_WAIT_REWRITE && rewriting))) return;
    if (aofc.timestamp_enabled) {
        time_t now = time(NULL);
        if (cur_timestamp < now) {
            cur_timestamp = now;
            char ts[64];
            int k = snprintf(ts, sizeof(ts), "#TS:%lld\r\n", (long long)now);
            buf_append(ts, (size_t)k);
        }
    }
    if (dbid >= 0 && dbid != selected_db) {
        char num[16];
        int k = snprintf(num, sizeof(num), "%d", dbid);
        buf_append_bulk_header('*', 2);
        buf_append("$6\r\nSELECT\r\n", 12);
        buf_append_bulk_header('$', (size_t)k);
        buf_append(num, (size_t)k);
        buf_append("\r\n", 2);
        selected_db = dbid;
    }
    buf_append_bulk_header('*', (size_t)argc);
    for (int i = 0; i < argc; i++) {
        buf_append_bulk_header('$', argv[i].len);
        buf_append(argv[i].p, argv[i].len);
        buf_append("\r\n", 2);
    }
}

static void sink_register(void) {
    if (!sink_added) prop_add_sink(sink, NULL, PROP_AOF);
    sink_added = 1;
}

static void sink_unregister(void) {
    if (sink_added) prop_remove_sink(sink, NULL);
    sink_added = 0;
}

void aof_sink_pause(int paused) { sink_paused = paused; }

/* ---- writing ---- */

static ssize_t write_all(int f, const char *p, size_t n) {
    ssize_t tot = 0;
    while (n) {
        ssize_t w = write(f, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return tot ? tot : -1;
        }
        n -= (size_t)w;
        p += w;
        tot += w;
    }
    return tot;
}

#define WRITE_LOG_ERROR_RATE 30

void aof_flush(int force) {
    if (fd == -1) return;
    int sync_in_progress = 0;
    time_t now = time(NULL);
    if (buflen == 0) {
        /* an everysec fsync still owed for what was written before, or always after a policy change */
        if (aofc.fsync == AOF_FSYNC_EVERYSEC && fsynced_size != incr_size && now > last_fsync &&
            !(sync_in_progress = atomic_load(&fsync_pending) != 0))
            goto try_fsync;
        if (aofc.fsync == AOF_FSYNC_ALWAYS && fsynced_size != incr_size) goto try_fsync;
        return;
    }
    if (aofc.fsync == AOF_FSYNC_EVERYSEC) sync_in_progress = atomic_load(&fsync_pending) != 0;
    if (aofc.fsync == AOF_FSYNC_EVERYSEC && !force && sync_in_progress) {
        if (flush_postponed_start == 0) {
            flush_postponed_start = now;
            return;
        } else if (now - flush_postponed_start < 2) {
            return;
        }
        delayed_fsync++;
        serverLog(LL_NOTICE, "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without "
                             "waiting for fsync to complete, this may slow down Redis.");
    }
    /* The write's latency events, as Redis 7.0 names them: whether an fsync was still running, or a save
     * (here a snapshot or a forked BGSAVE, Redis's child) competes for the disk, or neither; and all of
     * them together as "aof-write". */
    long long write_start = server_latency_start();
    server_debug_slow_op();
    ssize_t nwritten = write_all(fd, buf, buflen);
    if (sync_in_progress) server_latency_end("aof-write-pending-fsync", write_start);
    else if (save_busy()) server_latency_end("aof-write-active-child", write_start);
    else server_latency_end("aof-write-alone", write_start);
    server_latency_end("aof-write", write_start);
    flush_postponed_start = 0;
    if (nwritten != (ssize_t)buflen) {
        static time_t last_log;
        int can_log = now - last_log > WRITE_LOG_ERROR_RATE;
        if (can_log) last_log = now;
        if (nwritten == -1) {
            if (can_log) serverLog(LL_WARNING, "Error writing to the AOF file: %s", strerror(errno));
            last_write_errno = errno;
        } else {
            if (can_log)
                serverLog(LL_WARNING, "Short write while writing to the AOF file: (nwritten=%lld, expected=%lld)",
                          (long long)nwritten, (long long)buflen);
            if (ftruncate(fd, incr_size) == -1) {
                if (can_log)
                    serverLog(LL_WARNING, "Could not remove short write from the append-only file.  Redis may refuse to "
                                          "load the AOF the next time it starts.  ftruncate: %s",
                              strerror(errno));
            } else {
                nwritten = -1; /* nothing partial is left in the file */
            }
            last_write_errno = ENOSPC;
        }
        if (aofc.fsync == AOF_FSYNC_ALWAYS) {
            serverLog(LL_WARNING, "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
            exit(1);
        }
        last_write_ok = 0;
        if (nwritten > 0) {
            current_size += nwritten;
            incr_size += nwritten;
            memmove(buf, buf + nwritten, buflen - (size_t)nwritten);
            buflen -= (size_t)nwritten;
        }
        return;
    }
    if (!last_write_ok) {
        serverLog(LL_WARNING, "AOF write error looks solved, Redis can write again.");
        last_write_ok = 1;
    }
    current_size += nwritten;
    incr_size += nwritten;
    buflen = 0;
    if (bufcap > 65536) {
        s_free(buf);
        buf = NULL;
        bufcap = 0;
    }
try_fsync:
    if (aofc.no_fsync_on_rewrite && save_busy()) return;
    if (aofc.fsync == AOF_FSYNC_ALWAYS) {
        long long fsync_start = server_latency_start();
        server_debug_slow_op();
        if (fdatasync(fd) == -1) {
            serverLog(LL_WARNING, "Can't persist AOF for fsync error when the AOF fsync policy is 'always': %s. Exiting...",
                      strerror(errno));
            exit(1);
        }
        server_latency_end("aof-fsync-always", fsync_start);
        fsynced_size = incr_size;
        last_fsync = now;
    } else if (aofc.fsync == AOF_FSYNC_EVERYSEC && now > last_fsync) {
        if (!sync_in_progress) {
            bg_fsync(fd, 0);
            fsynced_size = incr_size;
        }
        last_fsync = now;
    }
}

void aof_flush_and_sync(void) {
    if (fd == -1) return;
    aof_flush(1);
    if (fdatasync(fd) == -1) serverLog(LL_WARNING, "Fail to fsync the AOF file: %s", strerror(errno));
    else fsynced_size = incr_size, last_fsync = time(NULL);
}

int aof_write_error(void) {
    if (state == AOF_OFF) return 0;
    if (!last_write_ok) return last_write_errno ? last_write_errno : EIO;
    if (!atomic_load(&bio_fsync_ok)) return last_write_errno = atomic_load(&bio_fsync_errno);
    return 0;
}

/* ---- base files ---- */

/* An RDB image of an empty dataset with aof-base 1 (what a base of nothing is). */
static int write_empty_rdb(const char *path) {
    rdbw w;
    rdbw_init(&w, 0, 0, NULL, NULL);
    rdbw_header(&w, 1);
    rdbw_eof(&w);
    uint64_t crc = crc64(0, w.buf, w.len);
    unsigned char tail[8];
    for (int i = 0; i < 8; i++) tail[i] = (unsigned char)(crc >> (8 * i));
    rdbw_raw(&w, tail, 8);
    int f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int ok = f != -1 && write_all(f, (const char *)w.buf, w.len) == (ssize_t)w.len && fsync(f) == 0;
    int e = errno;
    if (f != -1) close(f);
    rdbw_free(&w);
    errno = e;
    return ok ? 0 : -1;
}

static int dataset_empty(void) {
    for (int i = 0; i < srv.dbnum; i++)
        if (db_size(&srv.dbs[i])) return 0;
    return 1;
}

/* The name the next base file gets, in the format aof-use-rdb-preamble asks for. */
static char *next_base_name(const aof_manifest *m) {
    char name[1100];
    snprintf(name, sizeof(name), "%s.%lld.base.%s", aofc.filename, m->base_seq + 1, aofc.use_rdb_preamble ? "rdb" : "aof");
    return s_strdup(name);
}

/* Makes `name` the base of m (the previous base becomes history). */
static void set_base(aof_manifest *m, const char *name) {
    if (m->base) {
        add_hist(m, *m->base);
        s_free(m->base);
    }
    m->base = s_malloc(sizeof(aof_file));
    *m->base = (aof_file){s_strdup(name), ++m->base_seq, AOF_TYPE_BASE};
}

/* Writes a base of the current dataset synchronously, only when it is empty (startup, or a rewrite with
 * nothing to snapshot): an empty RDB image, or in command form nothing but the #TS annotation. */
static int write_base_now(const char *name) {
    char path[4096];
    aof_path(path, sizeof(path), name);
    if (!dataset_empty()) return -1;
    if (aofc.use_rdb_preamble) return write_empty_rdb(path);
    int f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (f == -1) return -1;
    char ts[48];
    int n = aofc.timestamp_enabled ? snprintf(ts, sizeof(ts), "#TS:%lld\r\n", (long long)time(NULL)) : 0;
    int r = write_all(f, ts, (size_t)n) == (ssize_t)n ? fsync(f) : -1;
    int e = errno;
    close(f);
    errno = e;
    return r;
}

static char *new_incr_name(aof_manifest *m) {
    char name[1100];
    snprintf(name, sizeof(name), "%s.%lld.incr.aof", aofc.filename, ++m->incr_seq);
    add_incr(m, (aof_file){s_strdup(name), m->incr_seq, AOF_TYPE_INCR});
    return m->incr[m->nincr - 1].name;
}

static void temp_incr_path(char *out, size_t n) {
    char name[1100];
    snprintf(name, sizeof(name), TEMP_PREFIX "%s.incr", aofc.filename);
    aof_path(out, n, name);
}

static long long file_size(const char *name) {
    char path[4096];
    struct stat st;
    aof_path(path, sizeof(path), name);
    long long start = server_latency_start();
    server_debug_slow_op();
    int r = stat(path, &st);
    server_latency_end("aof-fstat", start);
    if (r == -1) {
        serverLog(LL_WARNING, "Unable to obtain the AOF file %s length. stat: %s", name, strerror(errno));
        return 0;
    }
    return (long long)st.st_size;
}

/* The history files are deleted in the background and the manifest forgets them. */
static void delete_history(void) {
    if (!man.nhist) return;
    for (int i = 0; i < man.nhist; i++) {
        char path[4096];
        serverLog(LL_NOTICE, "Removing the history file %s in the background", man.hist[i].name);
        aof_path(path, sizeof(path), man.hist[i].name);
        bg_unlink(path);
        file_free(&man.hist[i]);
    }
    man.nhist = 0;
    manifest_persist(&man);
}

int aof_open_on_start(void) {
    started = 1;
    if (!aofc.enabled) return 0;
    if (dir_create_if_missing() == -1) {
        serverLog(LL_WARNING, "Can't open or create append-only dir %s: %s", aofc.dirname, strerror(errno));
        return -1;
    }
    int nincr = man.nincr;
    if (!man.base && !nincr) {
        char *name = next_base_name(&man);
        if (write_base_now(name) != 0) {
            serverLog(LL_WARNING, "Can't create the AOF base file %s: %s", name, strerror(errno));
            s_free(name);
            return -1;
        }
        set_base(&man, name);
        serverLog(LL_NOTICE, "Creating AOF base file %s on server start", name);
        s_free(name);
    }
    const char *incr = man.nincr ? man.incr[man.nincr - 1].name : new_incr_name(&man);
    char path[4096];
    aof_path(path, sizeof(path), incr);
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd == -1) {
        serverLog(LL_WARNING, "Can't open the append-only file %s: %s", incr, strerror(errno));
        return -1;
    }
    if (manifest_persist(&man) != 0) return -1;
    incr_size = fsynced_size = file_size(incr);
    if (!current_size) current_size = incr_size + (man.base ? file_size(man.base->name) : 0);
    if (nincr) serverLog(LL_NOTICE, "Opening AOF incr file %s on server start", incr);
    else serverLog(LL_NOTICE, "Creating AOF incr file %s on server start", incr);
    state = AOF_ON;
    selected_db = -1;
    last_fsync = time(NULL);
    sink_register();
    delete_history();
    return 0;
}

int aof_state(void) { return state; }
int aof_runtime_started(void) { return started; }
int aof_rewrite_in_progress(void) { return rewriting; }

/* ---- rewrite ---- */

static void rewrite_finished(void) {
    rewriting = 0;
    s_free(rewrite_base_name);
    rewrite_base_name = NULL;
    if (rewrite_time_start != -1) rewrite_time_last = time(NULL) - rewrite_time_start;
    rewrite_time_start = -1;
}

static void rewrite_failed(const char *why) {
    serverLog(LL_WARNING, "Background AOF rewrite terminated with error%s%s", why ? ": " : "", why ? why : "");
    last_bgrewrite_ok = 0;
    consecutive_failures++;
    if (rewrite_base_name) {
        char path[4096];
        aof_path(path, sizeof(path), rewrite_base_name);
        bg_unlink(path);
    }
    if (state == AOF_WAIT_REWRITE) { /* the temporary incr file goes; the next attempt takes a new base */
        char tmp[4096];
        temp_incr_path(tmp, sizeof(tmp));
        if (fd != -1) close(fd);
        fd = -1;
        buflen = 0;
        serverLog(LL_NOTICE, "Removing the temp incr aof file %s in the background", tmp);
        bg_unlink(tmp);
        rewrite_scheduled = 1;
    }
    rewrite_finished();
}

/* The base is complete: the new manifest names it and the incr file being written; the rest is history. */
static void rewrite_succeeded(void) {
    serverLog(LL_NOTICE, "Background AOF rewrite terminated with success");
    aof_manifest m;
    manifest_dup(&m, &man);
    set_base(&m, rewrite_base_name);
    char *new_incr_path = NULL;
    if (state == AOF_WAIT_REWRITE) {
        char tmp[4096], path[4096];
        temp_incr_path(tmp, sizeof(tmp));
        /* every incr file of an older manifest is history: the new base covers it */
        for (int i = 0; i < m.nincr; i++) add_hist(&m, m.incr[i]);
        m.nincr = 0;
        const char *name = new_incr_name(&m);
        aof_path(path, sizeof(path), name);
        long long start = server_latency_start();
        server_debug_slow_op();
        if (rename(tmp, path) == -1) {
            serverLog(LL_WARNING, "Error trying to rename the temporary AOF incr file %s into %s: %s", tmp, path,
                      strerror(errno));
            manifest_free(&m);
            rewrite_failed(NULL);
            return;
        }
        server_latency_end("aof-rename", start);
        serverLog(LL_NOTICE, "Successfully renamed the temporary AOF incr file %s into %s", tmp, name);
        new_incr_path = s_strdup(path);
    } else {
        /* all incr files but the one being written become history */
        int keep = fd != -1 ? 1 : 0;
        for (int i = 0; i < m.nincr - keep; i++) add_hist(&m, m.incr[i]);
        if (keep && m.nincr > 1) m.incr[0] = m.incr[m.nincr - 1];
        if (m.nincr) m.nincr = keep;
    }
    if (manifest_persist(&m) != 0) {
        manifest_free(&m);
        if (new_incr_path) { /* the temp incr file is the one fd writes: give it its temporary name back */
            char tmp[4096];
            temp_incr_path(tmp, sizeof(tmp));
            if (rename(new_incr_path, tmp) == -1) serverLog(LL_WARNING, "Can't rename %s back: %s", new_incr_path, strerror(errno));
        }
        s_free(new_incr_path);
        rewrite_failed("the manifest could not be written");
        return;
    }
    s_free(new_incr_path);
    manifest_free(&man);
    man = m;
    if (state != AOF_OFF) {
        current_size = file_size(man.base->name) + incr_size;
        base_size = current_size;
    }
    last_bgrewrite_ok = 1;
    consecutive_failures = 0;
    serverLog(LL_NOTICE, "Background AOF rewrite finished successfully");
    if (state == AOF_WAIT_REWRITE) state = AOF_ON;
    rewrite_finished();
    delete_history();
}

static void snapshot_done(void *ud, int ok, const char *err) {
    (void)ud;
    if (!rewriting) return;
    if (ok) rewrite_succeeded();
    else rewrite_failed(err);
}

/* Opens the file new writes go to during the rewrite: a new incr file named in the manifest at once (ON),
 * or the temporary incr file (WAIT_REWRITE). */
static int open_new_incr(void) {
    if (state == AOF_OFF) return 0;
    char path[4096];
    aof_manifest m;
    int have_m = 0;
    const char *name;
    char tmp[4096];
    if (state == AOF_WAIT_REWRITE) {
        temp_incr_path(tmp, sizeof(tmp));
        snprintf(path, sizeof(path), "%s", tmp);
        name = tmp;
    } else {
        manifest_dup(&m, &man);
        have_m = 1;
        name = new_incr_name(&m);
        aof_path(path, sizeof(path), name);
    }
    int newfd = open(path, O_WRONLY | O_TRUNC | O_CREAT, 0644);
    if (newfd == -1) {
        serverLog(LL_WARNING, "Can't open the append-only file %s: %s", name, strerror(errno));
        if (have_m) manifest_free(&m);
        return -1;
    }
    if (have_m && manifest_persist(&m) != 0) {
        close(newfd);
        unlink(path);
        manifest_free(&m);
        return -1;
    }
    serverLog(LL_NOTICE, "Creating AOF incr file %s on background rewrite", name);
    if (fd != -1) {
        bg_fsync(fd, 1); /* the old incr file: fsynced and closed in the background */
        last_fsync = time(NULL);
    }
    fd = newfd;
    incr_size = fsynced_size = 0;
    if (have_m) {
        manifest_free(&man);
        man = m;
    }
    return 0;
}

static int rewrite_start(void) {
    if (rewriting || save_busy()) return -1;
    if (dir_create_if_missing() == -1) {
        serverLog(LL_WARNING, "Can't open or create append-only dir %s: %s", aofc.dirname, strerror(errno));
        last_bgrewrite_ok = 0;
        return -1;
    }
    selected_db = -1;
    aof_flush(1);
    if (open_new_incr() != 0) {
        last_bgrewrite_ok = 0;
        return -1;
    }
    rewrites++;
    rewriting = 1;
    rewrite_scheduled = 0;
    rewrite_time_start = time(NULL);
    rewrite_base_name = next_base_name(&man);
    snap_req r = {.format = aofc.use_rdb_preamble ? SNAP_RDB : SNAP_COMMANDS, .aof_base = 1,
                  .timestamp = aofc.timestamp_enabled, .foreground = 0, .done = snapshot_done, .ud = NULL};
    if (functions_source) r.nfunctions = functions_source(&r.functions, &r.function_lens);
    if (dataset_empty() && !r.nfunctions) { /* nothing to snapshot: the base is written at once */
        if (write_base_now(rewrite_base_name) == 0) {
            serverLog(LL_NOTICE, "Background append only file rewriting started");
            rewrite_succeeded();
            return 0;
        }
        char why[256];
        snprintf(why, sizeof(why), "%s", strerror(errno));
        rewrite_failed(why);
        return -1;
    }
    char path[4096], err[256];
    aof_path(path, sizeof(path), rewrite_base_name);
    r.path = path;
    if (snapshot_start(&r, err, sizeof(err)) != 0) {
        serverLog(LL_WARNING, "Can't rewrite append only file in background: %s", err);
        rewrite_failed(err);
        return -1;
    }
    serverLog(LL_NOTICE, "Background append only file rewriting started");
    return 0;
}

int aof_bgrewrite(void) {
    if (rewriting) return -2;
    if (save_busy() || srv.in_exec) {
        rewrite_scheduled = 1;
        consecutive_failures = 0;
        return 1;
    }
    return rewrite_start() == 0 ? 0 : -1;
}

/* After 3 failures in a row, automatic rewrites wait 1, 2, 4 ... up to 60 minutes. */
static int rewrite_limited(void) {
    static int next_delay_minutes;
    static time_t next_rewrite_time;
    if (consecutive_failures < 3) {
        next_delay_minutes = 0;
        next_rewrite_time = 0;
        return 0;
    }
    time_t now = time(NULL);
    if (next_rewrite_time) {
        if (now < next_rewrite_time) return 1;
        next_rewrite_time = 0;
        return 0;
    }
    next_delay_minutes = next_delay_minutes ? next_delay_minutes * 2 : 1;
    if (next_delay_minutes > 60) next_delay_minutes = 60;
    next_rewrite_time = now + next_delay_minutes * 60;
    serverLog(LL_WARNING, "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in %d minutes",
              next_delay_minutes);
    return 1;
}

void aof_cron(void) {
    /* a BGREWRITEAOF scheduled behind a BGSAVE runs even with appendonly no, as Redis */
    if (!rewriting && !save_busy() && rewrite_scheduled && !rewrite_limited()) rewrite_start();
    if (state == AOF_OFF) return;
    if (state == AOF_ON && !rewriting && !save_busy() && aofc.rewrite_perc && current_size > aofc.rewrite_min_size) {
        long long base = base_size ? base_size : 1;
        long long growth = current_size * 100 / base - 100;
        if (growth >= aofc.rewrite_perc && !rewrite_limited()) {
            serverLog(LL_NOTICE, "Starting automatic rewriting of AOF on %lld%% growth", growth);
            rewrite_start();
        }
    }
    if (flush_postponed_start) aof_flush(0);
    static time_t last_retry;
    time_t now = time(NULL);
    if (!last_write_ok && now != last_retry) {
        last_retry = now;
        aof_flush(0);
    }
    aof_flush(0); /* an everysec fsync owed while no new writes come */
}

/* ---- turning it on and off at runtime ---- */

int aof_enable_runtime(const char **err) {
    if (state != AOF_OFF) return 0;
    state = AOF_WAIT_REWRITE;
    sink_register();
    if (save_busy()) {
        rewrite_scheduled = 1;
        serverLog(LL_WARNING, "AOF was enabled but there is already another background operation. An AOF background was "
                              "scheduled to start when possible.");
    } else if (srv.in_exec) {
        rewrite_scheduled = 1;
        serverLog(LL_WARNING, "AOF was enabled during a transaction. An AOF background was scheduled to start when possible.");
    } else if (rewrite_start() != 0) {
        state = AOF_OFF;
        sink_unregister();
        serverLog(LL_WARNING, "Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check "
                              "the above logs for more info about the error.");
        *err = "Unable to turn on AOF. Check server logs.";
        return -1;
    }
    last_fsync = time(NULL);
    if (!atomic_load(&bio_fsync_ok)) {
        serverLog(LL_WARNING, "AOF reopen, just ignore the AOF fsync error in bio job");
        atomic_store(&bio_fsync_ok, 1);
    }
    if (!last_write_ok) {
        serverLog(LL_WARNING, "AOF reopen, just ignore the last error.");
        last_write_ok = 1;
    }
    return 0;
}

/* Stops the running rewrite's snapshot and drops its partial base. */
static void rewrite_abort(void) {
    rewriting = 0; /* snapshot_done ignores the outcome now */
    snapshot_abort();
    if (rewrite_base_name) {
        char path[4096];
        aof_path(path, sizeof(path), rewrite_base_name);
        bg_unlink(path);
    }
    rewrite_finished();
}

void aof_disable_runtime(void) {
    if (state == AOF_OFF) return;
    if (fd != -1) {
        aof_flush(1);
        if (fdatasync(fd) == -1) serverLog(LL_WARNING, "Fail to fsync the AOF file: %s", strerror(errno));
        else last_fsync = time(NULL);
        bg_fsync(fd, 1); /* closed after any fsync still queued for it */
    }
    fd = -1;
    selected_db = -1;
    int was_waiting = state == AOF_WAIT_REWRITE;
    state = AOF_OFF;
    rewrite_scheduled = 0;
    incr_size = fsynced_size = 0;
    if (rewriting) {
        serverLog(LL_NOTICE, "Killing running AOF rewrite");
        rewrite_abort();
    }
    if (was_waiting) {
        char tmp[4096];
        temp_incr_path(tmp, sizeof(tmp));
        bg_unlink(tmp);
    }
    buflen = 0;
    sink_unregister();
}

int aof_before_shutdown(int force) {
    if (!rewriting) return 0;
    if (state == AOF_WAIT_REWRITE) {
        if (!force) {
            serverLog(LL_WARNING, "Writing initial AOF, can't exit.");
            return -1;
        }
        serverLog(LL_WARNING, "Writing initial AOF. Exit anyway.");
    }
    serverLog(LL_WARNING, "There is a child rewriting the AOF. Killing it!");
    rewrite_abort();
    return 0;
}

void aof_get_status(aof_status *s) {
    memset(s, 0, sizeof(*s));
    s->enabled = state != AOF_OFF;
    s->rewrite_in_progress = rewriting;
    s->rewrite_scheduled = rewrite_scheduled;
    s->last_rewrite_time_sec = rewrite_time_last;
    s->current_rewrite_time_sec = rewriting && rewrite_time_start != -1 ? time(NULL) - rewrite_time_start : -1;
    s->last_bgrewrite_ok = last_bgrewrite_ok;
    s->last_write_ok = last_write_ok && atomic_load(&bio_fsync_ok);
    s->rewrites = rewrites;
    s->rewrites_consecutive_failures = consecutive_failures;
    s->current_size = current_size;
    s->base_size = base_size;
    s->buffer_length = buflen;
    s->pending_bio_fsync = (unsigned long long)atomic_load(&fsync_pending);
    s->delayed_fsync = delayed_fsync;
}
