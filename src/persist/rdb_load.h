/* rdb_load: reads the RDB format: every version Redis 7.0 reads (1 to 10)
 * plus 11 (Redis 7.2, Valkey 8), every value type and encoding they write,
 * old ones included (zipmap, ziplists, intsets, quicklist v1), into
 * Sardine's own encodings.
 *
 * Nothing read is trusted: every length is checked against what remains,
 * every listpack/ziplist/intset/stream payload is validated before it is
 * used (deeply, element by element, when `deep` is set: sanitize-dump-payload),
 * and an error leaves no half-built value behind (it is freed) and names the
 * problem in r->err.  A corrupt or hostile input gives an error, never a
 * crash, a hang or an allocation bigger than the input justifies. */
#ifndef SARDINE_RDB_LOAD_H
#define SARDINE_RDB_LOAD_H
#include <stddef.h>
#include <stdint.h>
#include "keyspace/entry.h"

typedef struct rdbr {
    /* source: a memory block (p, len) or a file descriptor read through buf */
    const unsigned char *p;
    size_t len, pos;
    int fd;
    unsigned char *buf;
    size_t buflen, bufpos;
    uint64_t offset;        /* bytes consumed from the start of the source */
    uint64_t crc;           /* CRC64 of every byte consumed (files) */
    int deep;               /* sanitize-dump-payload: validate every element */
    int version;            /* the RDB version being read (payload or file header) */
    const char *err;        /* first error, static text */
    /* reader's own */
    size_t crc_pos;         /* window bytes before this one are in crc */
    int crc_on;
    int empty;              /* the error is an empty value (a file's load skips the key, as Redis) */
    unsigned char *sb[3];   /* decoded or copied strings of the three string slots (2: the record's key) */
    size_t sbcap[3];
    /* memory mode: bytes [0, ready) are there (all of them unless the payload is still arriving, when
     * wait(wait_ud, need) blocks until at least need are and returns how many, or less if they never
     * will) */
    size_t ready;
    size_t (*wait)(void *ud, size_t need);
    void *wait_ud;
} rdbr;

void rdbr_init_mem(rdbr *r, const void *p, size_t n, int deep);
void rdbr_init_fd(rdbr *r, int fd, int deep);
void rdbr_free(rdbr *r);

/* Reads one value of the given RDB type into v (v->type is the keyspace type OBJ_*; VAL_PTR values are
 * owned by v until passed to entry_build).  Returns 1, or 0 with r->err set and nothing allocated. */
int rdbr_value(rdbr *r, int rdbtype, entry_value *v);
/* Frees what rdbr_value built when it is not used after all. */
void rdb_value_discard(entry_value *v);

/* FUNCTION RESTORE's payload (verified first): each FUNCTION2 record's library code to each(); 0, or -1
 * with Redis's error text in *err ("can not read data type", "given type is not a function" ...). */
int rdb_functions_payload(const unsigned char *p, size_t n, void (*each)(void *ud, const char *code, size_t len),
                          void *ud, const char **err);
/* DUMP payloads: 1 when the footer's version is one we read and the CRC64 matches. */
int rdb_dump_verify(const unsigned char *p, size_t n);
/* The same given the CRC64 of p[0..n-8) (taken as the payload arrived). */
int rdb_dump_footer_ok(const unsigned char *p, size_t n, uint64_t crc);
/* The value of a verified payload; 0 with *err on failure. */
int rdb_dump_load(const unsigned char *p, size_t n, int deep, entry_value *v, const char **err);
/* The same for a payload of n bytes still arriving at p, of which ready are there: wait() as in rdbr.
 * Its footer is not read: the caller verifies it once the payload is whole. */
int rdb_dump_load_arriving(const unsigned char *p, size_t n, size_t ready, size_t (*wait)(void *ud, size_t need),
                           void *ud, int deep, entry_value *v, const char **err);

/* Whole files (or the RDB preamble of an AOF base file): header, aux fields, databases, EOF and CRC. */
typedef struct rdb_load_opts {
    void (*progress)(void *ud, uint64_t bytes); /* about every MiB: the loop answers clients meanwhile */
    void *ud;
    int keep_expired;    /* keep keys whose TTL has passed (a replica's load); else skip them (a master's) */
    int deep;
    int no_checksum;     /* rdbchecksum no: the trailer is not checked */
    /* A function library record (FUNCTION2: its code): 0 loaded, -1 with err (the load fails).  NULL: the
     * record is skipped with a warning. */
    int (*function)(void *ud, const char *code, size_t len, char *err, size_t errlen);
} rdb_load_opts;

typedef struct rdb_load_info {
    int version;
    int aof_base;             /* aux aof-base was 1 */
    uint64_t keys, expired_skipped, empty_skipped;
    uint64_t end_offset;      /* bytes of the RDB part (where an AOF tail starts) */
    long long ctime;          /* aux ctime, -1 if absent */
} rdb_load_info;

/* Loads into the server's databases (which the caller has emptied), without announcing each key to the
 * effects layer.  Returns 0, or -1 with a message in err. */
int rdb_load_fd(int fd, const rdb_load_opts *o, rdb_load_info *info, char *err, size_t errlen);
int rdb_load_file(const char *path, const rdb_load_opts *o, rdb_load_info *info, char *err, size_t errlen);
#endif
