/* zstr: a string value kept compressed (zstd), Sardine's opt-in
 * `value-compression`.  Commands never see one: tstring hands them the
 * original bytes (decompressed on each read), writes in place (APPEND,
 * SETRANGE, SETBIT ...) first turn the value into a raw one, and every
 * serializer (DUMP, RDB, AOF rewrite, DEBUG DIGEST) writes the plain bytes.
 * OBJECT ENCODING says "raw", as Redis would for the same value.
 *
 * A value is compressed when it is set whole (SET, MSET, GETSET, a loaded or
 * restored string), the directive is on, its length is in
 * [value-compression-min-size, ZSTR_MAX], and the result saves at least 1/8.
 *
 * Dictionaries.  Small documents (the target: JSON of about 1 KB) compress
 * poorly alone (x1.7) and well against a dictionary trained on their
 * siblings (x3.9 with zstd level 3; figures in docs/ARCHITECTURE.md).  With
 * value-compression-dict yes the first ZSTR_SAMPLES values offered are
 * copied as samples; a thread of its own trains a dictionary on four fifths
 * of them (ZDICT; during an RDB file's load, at once on the loop thread) and
 * compresses the last fifth with and without it; the loop thread adopts it at
 * its next compression if it paid (at least 10% smaller), else gives up
 * dictionaries for good.  Values compressed before that keep no dictionary.
 * Each value names its dictionary (an index into a table of 255); the table
 * counts the values using each one, and a dictionary is freed only when no
 * value uses it and it is not the one new values get.
 *
 * Threads: compression, decompression and freeing happen on the event loop
 * thread only (the contexts, the table and the counts are not shared);
 * zstr_make returns NULL on any other thread (a value built by a RESTORE
 * worker stays raw). */
#ifndef SARDINE_ZSTR_H
#define SARDINE_ZSTR_H
#include <stddef.h>
#include <stdint.h>

#define ZSTR_MAX     (1u << 20) /* longer values stay raw: every read decompresses the whole value */
#define ZSTR_SAMPLES 1000       /* values sampled to train a dictionary */

enum { ZCOMP_NO = 0, ZCOMP_ZSTD = 1 };

/* The directives (features/config.c writes them). */
typedef struct zstr_params {
    int algo;           /* value-compression: ZCOMP_* */
    long long min_size; /* value-compression-min-size */
    int level;          /* value-compression-level (zstd's) */
    int dict;           /* value-compression-dict yes/no */
} zstr_params;
extern zstr_params zparams;

typedef struct __attribute__((packed)) zstr {
    uint32_t len;  /* the original length */
    uint32_t clen; /* bytes of data: one zstd frame, magicless, no checksum */
    uint8_t dict;  /* 0 none, else the dictionary's index */
    char data[];
} zstr;

/* Counters for INFO (memory section). */
typedef struct zstr_stats {
    long long values;       /* compressed values alive */
    long long bytes_in;     /* their original bytes */
    long long bytes_out;    /* their compressed bytes (data only) */
    long long rejected;     /* offered but kept raw (saved too little) */
    int dicts;              /* dictionaries alive */
    size_t dict_bytes;      /* their memory (both directions' tables) */
    const char *dict_state; /* none / sampling / training / ready / unprofitable */
} zstr_stats;

/* Marks the calling thread as the event loop's (at startup). */
void zstr_init(void);
/* An RDB file is loading (1) or done (0): the dictionary is trained at once when its samples are
 * complete, on the loop thread, since no client is served meanwhile. */
void zstr_bulk(int on);
/* A compressed copy of p[0..len), or NULL (off, outside the sizes, not worth it, not the loop thread). */
zstr *zstr_make(const char *p, size_t len);
/* Writes the z->len original bytes to dst, then a NUL (dst has room for z->len + 1). */
void zstr_unpack(const zstr *z, char *dst);
void zstr_free(zstr *z);
zstr *zstr_dup(const zstr *z);
size_t zstr_bytes(const zstr *z);      /* heap bytes held (MEMORY USAGE) */
const char *zstr_check(const zstr *z); /* NULL if consistent, else what is wrong (DEBUG CHECK-KEY) */
void zstr_get_stats(zstr_stats *st);
#endif
