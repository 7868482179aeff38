/* diag: SCAN-driven keyspace diagnostics.
 *
 * Every mode walks the keyspace with SCAN (MATCH/COUNT only when a pattern
 * is given, exactly like redis-cli, so the walk and the printed percentages
 * match).  For each batch, TYPE and then the size command (STRLEN, LLEN,
 * SCARD, HLEN, ZCARD, XLEN, or MEMORY USAGE for --memkeys, or OBJECT FREQ for
 * --hotkeys) are pipelined: all sent, then all replies read.  Per type we keep
 * the top N keys (N = --top-keys, default 1, which is redis-cli's output)
 * in a small array sorted by size, biggest first.  The summary lists types in
 * redis-cli's order: list, hash, string, stream, set, zset, then others. */
#include "cli/diag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/buf.h"
#include "cli/config.h"
#include "cli/output.h"
#include "cli/session.h"

typedef struct topkey {
    char *repr;
    unsigned long long size;
} topkey;

typedef struct typeinfo {
    char *name;
    const char *sizecmd;
    const char *unit;
    unsigned long long count, total;
    topkey *top; /* sorted, biggest first */
    int ntop;
} typeinfo;

static typeinfo *types;
static int ntypes;

static typeinfo *get_type(const char *name) {
    for (int i = 0; i < ntypes; i++)
        if (!strcmp(types[i].name, name)) return &types[i];
    static const struct {
        const char *n, *cmd, *unit;
    } known[] = {{"list", "LLEN", "items"},     {"hash", "HLEN", "fields"},  {"string", "STRLEN", "bytes"},
                 {"stream", "XLEN", "entries"}, {"set", "SCARD", "members"}, {"zset", "ZCARD", "members"}};
    types = xrealloc(types, sizeof(typeinfo) * (size_t)(ntypes + 1));
    typeinfo *t = &types[ntypes++];
    memset(t, 0, sizeof(*t));
    t->name = xstrdup(name);
    t->unit = "units";
    for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++)
        if (!strcmp(known[i].n, name)) {
            t->sizecmd = known[i].cmd;
            t->unit = known[i].unit;
        }
    return t;
}

static void init_types(void) {
    const char *order[] = {"list", "hash", "string", "stream", "set", "zset"};
    for (int i = 0; i < 6; i++) get_type(order[i]);
}

static void free_types(void) {
    for (int i = 0; i < ntypes; i++) {
        for (int j = 0; j < types[i].ntop; j++) free(types[i].top[j].repr);
        free(types[i].top);
        free(types[i].name);
    }
    free(types);
    types = NULL;
    ntypes = 0;
}

static void usleep_interval(void) {
    if (cfg.interval <= 0) return;
    struct timespec ts = {(time_t)cfg.interval, (long)((cfg.interval - (double)(time_t)cfg.interval) * 1e9)};
    nanosleep(&ts, NULL);
}

/* SCAN once; returns the reply (caller frees) or NULL after printing an error. */
static reply *scan_once(conn *c, unsigned long long *cursor, int with_type) {
    char cur[32], cnt[32];
    snprintf(cur, sizeof(cur), "%llu", *cursor);
    snprintf(cnt, sizeof(cnt), "%ld", cfg.scan_count > 0 ? cfg.scan_count : 10);
    char *argv[9] = {"SCAN", cur};
    int argc = 2;
    if (cfg.pattern || cfg.scan_count > 0) {
        argv[argc++] = "MATCH";
        argv[argc++] = cfg.pattern ? cfg.pattern : "*";
        argv[argc++] = "COUNT";
        argv[argc++] = cnt;
    }
    if (with_type && cfg.scan_type) {
        argv[argc++] = "TYPE";
        argv[argc++] = cfg.scan_type;
    }
    reply *r = conn_cmd(c, argc, argv, NULL);
    if (!r) {
        fprintf(stderr, "Error: %s\n", c->err);
        return NULL;
    }
    if (r->type == R_ERROR) {
        fprintf(stderr, "Error: %s\n", r->str);
        reply_free(r);
        return NULL;
    }
    if (r->type != R_ARRAY || r->elements != 2 || r->element[1]->type != R_ARRAY) {
        fprintf(stderr, "Error: unexpected SCAN reply\n");
        reply_free(r);
        return NULL;
    }
    *cursor = strtoull(r->element[0]->str ? r->element[0]->str : "0", NULL, 10);
    return r;
}

int scan_mode(void) {
    conn *c = session_connect(0);
    if (!c) return 1;
    unsigned long long cursor = 0;
    buf out = {0};
    int rc = 0;
    do {
        reply *r = scan_once(c, &cursor, 1);
        if (!r) {
            rc = 1;
            break;
        }
        const reply *keys = r->element[1];
        buf_clear(&out);
        for (size_t i = 0; i < keys->elements; i++) {
            const reply *k = keys->element[i];
            if (cfg.output == OUT_STANDARD)
                buf_repr(&out, k->str, k->len);
            else
                buf_add(&out, k->str, k->len);
            buf_addc(&out, '\n');
        }
        if (out.len) fwrite(out.p, 1, out.len, stdout);
        reply_free(r);
        if (cursor) usleep_interval();
    } while (cursor != 0);
    fflush(stdout);
    buf_free(&out);
    conn_close(c);
    return rc;
}

static long long dbsize(conn *c) {
    reply *r = conn_cmdf(c, "DBSIZE");
    long long n = r && r->type == R_INTEGER ? r->integer : 0;
    reply_free(r);
    return n;
}

/* Send one command per key, then read all replies into out[]. */
static int pipeline(conn *c, const reply *keys, const char *cmd, const char *sub, typeinfo **ktypes,
                    reply **out) {
    buf b = {0};
    for (size_t i = 0; i < keys->elements; i++) {
        const reply *k = keys->element[i];
        char *argv[5];
        size_t lens[5];
        int argc = 0;
        const char *name = cmd;
        if (ktypes) {
            if (!ktypes[i] || !ktypes[i]->sizecmd) continue;
            name = ktypes[i]->sizecmd;
        }
        if (!name) continue;
        argv[argc] = (char *)name;
        lens[argc++] = strlen(name);
        if (sub) {
            argv[argc] = (char *)sub;
            lens[argc++] = strlen(sub);
        }
        argv[argc] = k->str;
        lens[argc++] = k->len;
        char samples[24];
        if (!strcmp(name, "MEMORY") && cfg.memkeys_samples > 0) {
            snprintf(samples, sizeof(samples), "%ld", cfg.memkeys_samples);
            argv[argc] = "SAMPLES";
            lens[argc++] = 7;
            argv[argc] = samples;
            lens[argc++] = strlen(samples);
        }
        resp_encode(&b, argc, argv, lens);
    }
    int rc = conn_write(c, b.p, b.len);
    buf_free(&b);
    if (rc < 0) return -1;
    for (size_t i = 0; i < keys->elements; i++) {
        out[i] = NULL;
        if (ktypes && (!ktypes[i] || !ktypes[i]->sizecmd)) continue;
        out[i] = conn_read(c);
        if (!out[i]) return -1;
    }
    return 0;
}

static void add_top(typeinfo *t, const reply *key, unsigned long long size, int n) {
    if (t->ntop == n && t->top[n - 1].size >= size) return;
    if (!t->top) t->top = xmalloc(sizeof(topkey) * (size_t)n);
    int pos = t->ntop < n ? t->ntop : n - 1;
    if (t->ntop == n)
        free(t->top[n - 1].repr);
    else
        t->ntop++;
    while (pos > 0 && t->top[pos - 1].size < size) {
        t->top[pos] = t->top[pos - 1];
        pos--;
    }
    buf b = {0};
    buf_repr(&b, key->str, key->len);
    t->top[pos].repr = b.p;
    t->top[pos].size = size;
}

static int hotkeys(conn *c, long long total) {
    enum { SAMPLE = 16 };
    unsigned long long counters[SAMPLE] = {0};
    char *hot[SAMPLE] = {0};
    unsigned long long sampled = 0, cursor = 0;
    printf("\n# Scanning the entire keyspace to find hot keys as well as\n"
           "# average sizes per key type.  You can use -i 0.1 to sleep 0.1 sec\n"
           "# per 100 SCAN commands (not usually needed).\n\n");
    int rc = 0;
    do {
        double pct = total ? 100 * (double)sampled / (double)total : 0;
        reply *r = scan_once(c, &cursor, 0);
        if (!r) {
            rc = 1;
            break;
        }
        const reply *keys = r->element[1];
        reply **freqs = xmalloc(sizeof(reply *) * (keys->elements + 1));
        if (pipeline(c, keys, "OBJECT", "FREQ", NULL, freqs) < 0) {
            fprintf(stderr, "Error: %s\n", c->err);
            free(freqs);
            reply_free(r);
            rc = 1;
            break;
        }
        for (size_t i = 0; i < keys->elements; i++) {
            if (freqs[i]->type == R_ERROR) {
                fflush(stdout);
                fprintf(stderr, "Error: %s\n", freqs[i]->str);
                for (size_t j = 0; j < keys->elements; j++) reply_free(freqs[j]);
                free(freqs);
                reply_free(r);
                for (int k = 0; k < SAMPLE; k++) free(hot[k]);
                return 1;
            }
        }
        for (size_t i = 0; i < keys->elements; i++) {
            unsigned long long f = freqs[i]->type == R_INTEGER ? (unsigned long long)freqs[i]->integer : 0;
            sampled++;
            if (sampled % 1000000 == 0) printf("[%05.2f%%] Sampled %llu keys so far\n", pct, sampled);
            int k = 0;
            while (k < SAMPLE && f > counters[k]) k++;
            if (k == 0) continue;
            k--;
            if (k == 0 || counters[k] == 0) {
                free(hot[k]);
            } else {
                free(hot[0]);
                memmove(counters, counters + 1, sizeof(counters[0]) * (size_t)k);
                memmove(hot, hot + 1, sizeof(hot[0]) * (size_t)k);
            }
            counters[k] = f;
            buf b = {0};
            buf_repr(&b, keys->element[i]->str, keys->element[i]->len);
            hot[k] = b.p;
            printf("[%05.2f%%] Hot key '%s' found so far with counter %llu\n", pct, hot[k], f);
        }
        for (size_t j = 0; j < keys->elements; j++) reply_free(freqs[j]);
        free(freqs);
        reply_free(r);
        if (sampled && sampled % 100 == 0) usleep_interval();
    } while (cursor != 0);
    if (rc == 0) {
        printf("\n-------- summary -------\n\n");
        printf("Sampled %llu keys in the keyspace!\n", sampled);
        for (int i = 1; i <= SAMPLE; i++) {
            int k = SAMPLE - i;
            if (counters[k] > 0)
                printf("hot key found with counter: %llu\tkeyname: %s\n", counters[k], hot[k]);
        }
    }
    for (int k = 0; k < SAMPLE; k++) free(hot[k]);
    return rc;
}

static int bigkeys(conn *c, long long total, int mem) {
    int topn = cfg.top_keys > 0 ? cfg.top_keys : 1;
    unsigned long long sampled = 0, totlen = 0, cursor = 0;
    init_types();
    printf("\n# Scanning the entire keyspace to find biggest keys as well as\n"
           "# average sizes per key type.  You can use -i 0.1 to sleep 0.1 sec\n"
           "# per 100 SCAN commands (not usually needed).\n\n");
    int rc = 0;
    do {
        double pct = total ? 100 * (double)sampled / (double)total : 0;
        reply *r = scan_once(c, &cursor, 0);
        if (!r) {
            rc = 1;
            break;
        }
        const reply *keys = r->element[1];
        size_t n = keys->elements;
        reply **tr = xmalloc(sizeof(reply *) * (n + 1));
        reply **sr = xmalloc(sizeof(reply *) * (n + 1));
        typeinfo **kt = xmalloc(sizeof(typeinfo *) * (n + 1));
        int ok = pipeline(c, keys, "TYPE", NULL, NULL, tr) == 0;
        if (ok) {
            for (size_t i = 0; i < n; i++)
                kt[i] = tr[i]->type == R_STATUS && strcmp(tr[i]->str, "none") ? get_type(tr[i]->str) : NULL;
            if (mem) {
                /* MEMORY USAGE for every key that still exists */
                typeinfo memtype = {.sizecmd = "MEMORY"};
                typeinfo **mk = xmalloc(sizeof(typeinfo *) * (n + 1));
                for (size_t i = 0; i < n; i++) mk[i] = kt[i] ? &memtype : NULL;
                ok = pipeline(c, keys, NULL, "USAGE", mk, sr) == 0;
                free(mk);
            } else {
                ok = pipeline(c, keys, NULL, NULL, kt, sr) == 0;
            }
        }
        if (!ok) {
            fprintf(stderr, "Error: %s\n", c->err);
            rc = 1;
        } else {
            for (size_t i = 0; i < n; i++) {
                typeinfo *t = kt[i];
                if (!t) continue;
                unsigned long long size =
                    sr[i] && sr[i]->type == R_INTEGER ? (unsigned long long)sr[i]->integer : 0;
                if (sr[i] && sr[i]->type == R_ERROR) {
                    fprintf(stderr, "Error: %s\n", sr[i]->str);
                    rc = 1;
                    break;
                }
                totlen += keys->element[i]->len;
                sampled++;
                unsigned long long biggest = t->ntop ? t->top[0].size : 0;
                add_top(t, keys->element[i], size, topn);
                if (biggest < size)
                    printf("[%05.2f%%] Biggest %-6s found so far '%s' with %llu %s\n", pct, t->name,
                           t->top[0].repr, size, mem ? "bytes" : t->unit);
                if (sampled % 1000000 == 0) printf("[%05.2f%%] Sampled %llu keys so far\n", pct, sampled);
                t->total += size;
                t->count++;
            }
        }
        for (size_t i = 0; ok && i < n; i++) {
            reply_free(tr[i]);
            if (!kt[i]) continue;
            reply_free(sr[i]);
        }
        free(tr);
        free(sr);
        free(kt);
        reply_free(r);
        if (rc) break;
        if (sampled && sampled % 100 == 0) usleep_interval();
    } while (cursor != 0);
    if (rc) return rc;
    printf("\n-------- summary -------\n\n");
    printf("Sampled %llu keys in the keyspace!\n", sampled);
    printf("Total key length in bytes is %llu (avg len %.2f)\n\n", totlen,
           totlen ? (double)totlen / (double)sampled : 0);
    for (int i = 0; i < ntypes; i++) {
        typeinfo *t = &types[i];
        if (t->ntop && t->top[0].size > 0)
            printf("Biggest %6s found '%s' has %llu %s\n", t->name, t->top[0].repr, t->top[0].size,
                   mem ? "bytes" : t->unit);
    }
    printf("\n");
    for (int i = 0; i < ntypes; i++) {
        typeinfo *t = &types[i];
        printf("%llu %ss with %llu %s (%05.2f%% of keys, avg size %.2f)\n", t->count, t->name, t->total,
               mem ? "bytes" : t->unit, sampled ? 100 * (double)t->count / (double)sampled : 0,
               t->count ? (double)t->total / (double)t->count : 0);
    }
    if (topn > 1) {
        printf("\n-------- top %d keys per type -------\n", topn);
        for (int i = 0; i < ntypes; i++) {
            typeinfo *t = &types[i];
            if (!t->ntop) continue;
            printf("\n%s:\n", t->name);
            for (int j = 0; j < t->ntop; j++)
                printf("%3d) '%s' has %llu %s\n", j + 1, t->top[j].repr, t->top[j].size,
                       mem ? "bytes" : t->unit);
        }
    }
    return 0;
}

int keys_mode(void) {
    conn *c = session_connect(0);
    if (!c) return 1;
    long long total = dbsize(c);
    int rc = cfg.hotkeys ? hotkeys(c, total) : bigkeys(c, total, cfg.memkeys);
    fflush(stdout);
    free_types();
    conn_close(c);
    return rc;
}
