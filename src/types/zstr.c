/* zstr: see zstr.h.
 *
 * One compression and one decompression context, made once, with the
 * frame's optional parts off (no magic number, content size, checksum or
 * dictionary ID: the header holds the length and the dictionary), so a 1 KB
 * document's frame costs a few bytes beyond its compressed blocks.  zstd's
 * own memory (contexts, dictionaries) comes from s_malloc, so used_memory
 * counts it. */
#define ZSTD_STATIC_LINKING_ONLY
#include "types/zstr.h"
#include "server/server.h"
#include "util/mem.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <zdict.h>
#include <zstd.h>

zstr_params zparams = {.algo = ZCOMP_NO, .min_size = 256, .level = 3, .dict = 1};

#define DICT_CAP         16384      /* dictionary size asked of ZDICT */
#define SAMPLE_BYTES_MAX (4u << 20) /* samples stop at this many bytes even if fewer than ZSTR_SAMPLES */

static void *zalloc(void *opaque, size_t n) {
    (void)opaque;
    return s_malloc(n);
}
static void zfree(void *opaque, void *p) {
    (void)opaque;
    s_free(p);
}
static const ZSTD_customMem zmem = {zalloc, zfree, NULL};

typedef struct zdict {
    ZSTD_CDict *c;
    ZSTD_DDict *d;
    void *raw; /* the dictionary's bytes (kept to rebuild c for another level) */
    size_t rawlen;
    int level;      /* c's level */
    long long refs; /* values compressed with it */
} zdict;

static zdict *dicts[256]; /* [0] unused: 0 means no dictionary */
static int cur;           /* the dictionary new values get, 0 none */

enum { D_NONE, D_SAMPLING, D_TRAINING, D_READY, D_UNPROFITABLE };
static int dstate = D_NONE;

static struct {
    char *buf; /* the samples, back to back */
    size_t *sizes, n, bytes, cap;
} samples;

/* The training thread's result: published once, read by the loop thread. */
static struct {
    _Atomic int done;
    void *dict;
    size_t len;           /* 0: training failed */
    size_t with, without; /* the held-out samples' compressed bytes with and without it (SIZE_MAX: failed) */
} trained;

static ZSTD_CCtx *cctx;
static ZSTD_DCtx *dctx;
static int cctx_level = -1000;
static int bulk; /* zstr_bulk */
static pthread_t loop_thread;
static int loop_thread_set;
static char *outbuf;
static size_t outcap;
static zstr_stats stats;

void zstr_init(void) {
    loop_thread = pthread_self();
    loop_thread_set = 1;
}

void zstr_bulk(int on) {
    bulk = on;
}

static int on_loop_thread(void) {
    return loop_thread_set && pthread_equal(pthread_self(), loop_thread);
}

static void contexts(void) {
    if (cctx) return;
    cctx = ZSTD_createCCtx_advanced(zmem);
    dctx = ZSTD_createDCtx_advanced(zmem);
    if (!cctx || !dctx) abort();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_format, ZSTD_f_zstd1_magicless);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0);
    ZSTD_DCtx_setParameter(dctx, ZSTD_d_format, ZSTD_f_zstd1_magicless);
}

static ZSTD_CDict *make_cdict(const void *raw, size_t len, int level) {
    ZSTD_compressionParameters cp = ZSTD_getCParams(level, 1024, len);
    return ZSTD_createCDict_advanced(raw, len, ZSTD_dlm_byRef, ZSTD_dct_auto, cp, zmem);
}

static void free_dict(int id) {
    zdict *d = dicts[id];
    ZSTD_freeCDict(d->c);
    ZSTD_freeDDict(d->d);
    s_free(d->raw);
    s_free(d);
    dicts[id] = NULL;
}

/* ---- training ---- */

typedef struct train_job {
    char *buf;
    size_t *sizes;
    unsigned n;
    int level;
} train_job;

/* Sizes of the samples [from, n) compressed alone (d NULL) or with d, by a context of the caller's
 * thread (zstd's default allocator: the training thread does not touch the loop's counters). */
static size_t held_out_size(const train_job *j, unsigned from, const void *d, size_t dlen) {
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ZSTD_CDict *cd = d ? ZSTD_createCDict(d, dlen, j->level) : NULL;
    size_t cap = ZSTD_compressBound(SAMPLE_BYTES_MAX), total = 0, off = 0;
    char *out = malloc(cap);
    if (!cc || (d && !cd) || !out) total = SIZE_MAX;
    for (unsigned i = 0; i < j->n && total != SIZE_MAX; off += j->sizes[i++]) {
        if (i < from) continue;
        size_t c = cd ? ZSTD_compress_usingCDict(cc, out, cap, j->buf + off, j->sizes[i], cd)
                      : ZSTD_compressCCtx(cc, out, cap, j->buf + off, j->sizes[i], j->level);
        total = ZSTD_isError(c) ? SIZE_MAX : total + c;
    }
    free(out);
    ZSTD_freeCDict(cd);
    ZSTD_freeCCtx(cc);
    return total;
}

/* Trains on the first 4/5 of the samples and measures the dictionary on the last 1/5. */
static void *train_main(void *arg) {
    train_job *j = arg;
    unsigned ntrain = j->n - j->n / 5;
    void *dict = malloc(DICT_CAP);
    size_t len = dict ? ZDICT_trainFromBuffer(dict, DICT_CAP, j->buf, j->sizes, ntrain) : 0;
    if (!dict || ZDICT_isError(len)) len = 0;
    trained.with = trained.without = 0;
    if (len) {
        trained.without = held_out_size(j, ntrain, NULL, 0);
        trained.with = held_out_size(j, ntrain, dict, len);
    }
    trained.dict = dict;
    trained.len = len;
    atomic_store(&trained.done, 1);
    return NULL;
}

static void adopt(void);

static void sample(const char *p, size_t len) {
    if (!samples.sizes) {
        samples.sizes = s_malloc(sizeof(size_t) * ZSTR_SAMPLES);
        samples.n = samples.bytes = samples.cap = 0;
    }
    size_t take = len < SAMPLE_BYTES_MAX - samples.bytes ? len : SAMPLE_BYTES_MAX - samples.bytes;
    if (samples.bytes + take > samples.cap) {
        samples.cap = samples.cap * 2 > samples.bytes + take ? samples.cap * 2 : samples.bytes + take;
        if (samples.cap > SAMPLE_BYTES_MAX) samples.cap = SAMPLE_BYTES_MAX;
        samples.buf = s_realloc(samples.buf, samples.cap);
    }
    memcpy(samples.buf + samples.bytes, p, take);
    samples.sizes[samples.n++] = take;
    samples.bytes += take;
    if (samples.n < ZSTR_SAMPLES && samples.bytes < SAMPLE_BYTES_MAX) return;
    static train_job job;
    job.buf = samples.buf;
    job.sizes = samples.sizes;
    job.n = (unsigned)samples.n;
    job.level = zparams.level;
    atomic_store(&trained.done, 0);
    if (bulk) { /* a file is loading and nobody is served: train now, so the rest of it gets the dictionary */
        train_main(&job);
        adopt();
        return;
    }
    /* enough: train on a thread of its own (tens of ms to a few hundred: not on the loop) */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    if (pthread_create(&t, &attr, train_main, &job) == 0)
        dstate = D_TRAINING;
    else
        dstate = D_UNPROFITABLE;
    pthread_attr_destroy(&attr);
}

/* The trained dictionary, adopted if it paid on the held-out samples; the samples are freed either way. */
static void adopt(void) {
    int ok = 0;
    size_t with = trained.with, without = trained.without;
    /* pays if the held-out samples come out at least 10% smaller than compressed alone */
    if (trained.len && without && with != SIZE_MAX && without != SIZE_MAX && with * 10 <= without * 9) {
        zdict *d = s_calloc(sizeof(*d));
        d->raw = s_memdup(trained.dict, trained.len);
        d->rawlen = trained.len;
        d->level = zparams.level;
        d->c = make_cdict(d->raw, d->rawlen, d->level);
        d->d = ZSTD_createDDict_advanced(d->raw, d->rawlen, ZSTD_dlm_byRef, ZSTD_dct_auto, zmem);
        int id = 1;
        while (id < 256 && dicts[id]) id++;
        if (d->c && d->d && id < 256) {
            dicts[id] = d;
            cur = id;
            ok = 1;
            log_msg(LL_NOTICE,
                    "value-compression: dictionary of %zu bytes trained on %zu values (values it did not "
                    "see: %.2fx smaller than compressed alone)",
                    d->rawlen, samples.n - samples.n / 5, (double)without / (double)(with ? with : 1));
        } else {
            ZSTD_freeCDict(d->c);
            ZSTD_freeDDict(d->d);
            s_free(d->raw);
            s_free(d);
        }
    }
    if (!ok)
        log_msg(LL_NOTICE, "value-compression: a trained dictionary does not pay on these values; none used");
    dstate = ok ? D_READY : D_UNPROFITABLE;
    free(trained.dict);
    trained.dict = NULL;
    s_free(samples.buf);
    s_free(samples.sizes);
    samples.buf = NULL;
    samples.sizes = NULL;
    samples.cap = 0;
}

/* ---- compression ---- */

/* Compresses into outbuf; returns the size, 0 on failure. */
static size_t compress_with(const char *p, size_t len, int id) {
    size_t bound = ZSTD_compressBound(len);
    if (bound > outcap) {
        s_free(outbuf);
        outcap = bound;
        outbuf = s_malloc(outcap);
    }
    ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only);
    if (id) {
        zdict *d = dicts[id];
        if (d->level != zparams.level) { /* a CONFIG SET of the level: same dictionary, new tables */
            ZSTD_CDict *c = make_cdict(d->raw, d->rawlen, zparams.level);
            if (c) {
                ZSTD_freeCDict(d->c);
                d->c = c;
                d->level = zparams.level;
            }
        }
        ZSTD_CCtx_refCDict(cctx, d->c);
    } else {
        ZSTD_CCtx_refCDict(cctx, NULL);
        if (cctx_level != zparams.level) {
            ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, zparams.level);
            cctx_level = zparams.level;
        }
    }
    size_t n = ZSTD_compress2(cctx, outbuf, outcap, p, len);
    return ZSTD_isError(n) ? 0 : n;
}

zstr *zstr_make(const char *p, size_t len) {
    if (zparams.algo == ZCOMP_NO || len < (size_t)zparams.min_size || len > ZSTR_MAX || !on_loop_thread())
        return NULL;
    contexts();
    if (zparams.dict) {
        if (dstate == D_NONE) dstate = D_SAMPLING;
        if (dstate == D_SAMPLING)
            sample(p, len);
        else if (dstate == D_TRAINING && atomic_load(&trained.done))
            adopt();
    }
    int id = zparams.dict ? cur : 0;
    size_t n = compress_with(p, len, id);
    if (!n || n + sizeof(zstr) > len - len / 8) {
        stats.rejected++;
        return NULL;
    }
    zstr *z = s_malloc(sizeof(zstr) + n);
    z->len = (uint32_t)len;
    z->clen = (uint32_t)n;
    z->dict = (uint8_t)id;
    memcpy(z->data, outbuf, n);
    if (id) dicts[id]->refs++;
    stats.values++;
    stats.bytes_in += (long long)len;
    stats.bytes_out += (long long)n;
    return z;
}

void zstr_unpack(const zstr *z, char *dst) {
    contexts();
    ZSTD_DCtx_refDDict(dctx, z->dict ? dicts[z->dict]->d : NULL);
    size_t n = ZSTD_decompressDCtx(dctx, dst, z->len, z->data, z->clen);
    if (ZSTD_isError(n) || n != z->len) {
        log_msg(LL_WARNING, "value-compression: a compressed value does not decompress (%s)",
                ZSTD_isError(n) ? ZSTD_getErrorName(n) : "wrong length");
        abort();
    }
    dst[z->len] = 0;
}

static void unref(int id) {
    if (!id) return;
    if (--dicts[id]->refs == 0 && id != cur) free_dict(id);
}

void zstr_free(zstr *z) {
    stats.values--;
    stats.bytes_in -= z->len;
    stats.bytes_out -= z->clen;
    unref(z->dict);
    s_free(z);
}

zstr *zstr_dup(const zstr *z) {
    zstr *c = s_memdup(z, sizeof(zstr) + z->clen);
    if (c->dict) dicts[c->dict]->refs++;
    stats.values++;
    stats.bytes_in += z->len;
    stats.bytes_out += z->clen;
    return c;
}

size_t zstr_bytes(const zstr *z) {
    return s_usable((void *)z);
}

const char *zstr_check(const zstr *z) {
    if (!z) return "string: NULL compressed value";
    if (z->len > ZSTR_MAX || z->clen >= z->len) return "string: compressed value's lengths";
    if (z->dict && !dicts[z->dict]) return "string: compressed value's dictionary is gone";
    if (s_usable((void *)z) < sizeof(zstr) + z->clen) return "string: compressed value's block too small";
    return NULL;
}

void zstr_get_stats(zstr_stats *st) {
    *st = stats;
    st->dicts = 0;
    st->dict_bytes = 0;
    for (int i = 1; i < 256; i++)
        if (dicts[i]) {
            st->dicts++;
            st->dict_bytes +=
                ZSTD_sizeof_CDict(dicts[i]->c) + ZSTD_sizeof_DDict(dicts[i]->d) + dicts[i]->rawlen;
        }
    static const char *names[] = {"none", "sampling", "training", "ready", "unprofitable"};
    st->dict_state = names[dstate];
}
