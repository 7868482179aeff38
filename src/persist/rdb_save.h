/* rdb_save: serializes keys and values in Redis 7.0's RDB format (version
 * 10), each type in the compact encoding Redis 7.0 would store it in, so a
 * file or DUMP payload we write loads in redis-server 7.0 and passes its
 * redis-check-rdb.
 *
 * A writer appends to its own growable buffer.  With a flush function, the
 * buffer is handed out whenever it holds at least flush_at bytes, also in
 * the middle of a big value (between its elements), so serializing a 5M-member
 * set never needs the whole value's bytes in memory at once; without one
 * (DUMP) everything stays in the buffer.  The writer computes no checksum:
 * DUMP adds its footer itself and the snapshot's file writer checksums the
 * bytes as it writes them (persist/snapshot.h). */
#ifndef SARDINE_RDB_SAVE_H
#define SARDINE_RDB_SAVE_H
#include <stddef.h>
#include <stdint.h>

typedef void rdbw_flush_fn(void *ud, const unsigned char *p, size_t n);

enum { RDBW_LRU_NONE = 0, RDBW_LRU_IDLE = 1, RDBW_LRU_FREQ = 2 };

typedef struct rdbw {
    unsigned char *buf;
    size_t len, cap;
    size_t flush_at;        /* with flush: hand the buffer out at this size */
    rdbw_flush_fn *flush;
    void *ud;
    int compress;           /* rdbcompression: LZF for strings over 20 bytes when it saves space */
    int lru_mode;           /* RDBW_LRU_*: the per-key IDLE or FREQ opcode (by maxmemory-policy) */
    uint64_t flushed;       /* bytes handed to flush so far */
} rdbw;

void rdbw_init(rdbw *w, int compress, size_t flush_at, rdbw_flush_fn *flush, void *ud);
/* The lru_mode Redis 7.0 saves under the current maxmemory-policy: IDLE for *-lru, FREQ for *-lfu. */
int rdbw_policy_lru_mode(void);
void rdbw_free(rdbw *w);
void rdbw_flush(rdbw *w); /* hands out whatever is buffered (no-op without a flush function) */
/* Hands out the buffer once it holds flush_at bytes (between records, or between the elements of a big value:
 * writers of other formats over the same buffer call it as rdb_save does, persist/cmd_form.h). */
void rdbw_maybe_flush(rdbw *w);

/* primitives */
void rdbw_raw(rdbw *w, const void *p, size_t n);
void rdbw_byte(rdbw *w, int b);
void rdbw_len(rdbw *w, uint64_t len);
void rdbw_string(rdbw *w, const char *s, size_t len); /* integer-encoded when it can be, else LZF or raw */
void rdbw_ll(rdbw *w, long long v);                   /* an integer as a string */
void rdbw_binary_double(rdbw *w, double d);
void rdbw_ms(rdbw *w, long long ms);

/* file structure */
void rdbw_header(rdbw *w, int aof_base);  /* "REDIS0010" and the aux fields Redis 7.0 writes */
void rdbw_aux(rdbw *w, const char *key, const char *val);
void rdbw_select_db(rdbw *w, int dbid, uint64_t keys, uint64_t expires); /* SELECTDB + RESIZEDB */
void rdbw_eof(rdbw *w);

/* One key record: [EXPIRETIME_MS] [IDLE | FREQ] type key value. */
void rdbw_key(rdbw *w, const uint8_t *entry);
/* The same record written in parts, for a big value (a snapshot's slices): a list, or a set, sorted set or
 * hash in its table encoding.  rdbw_part_elems: its element count (0: a value not written in parts).
 * rdbw_key_begin writes the record up to its elements; each rdbw_key_part then writes at least min elements
 * from *pos on (0 first; whole list nodes or table segments) and returns 1 once the record is complete.
 * Between the parts the value must not be written; it may move (the caller looks it up again). */
size_t rdbw_part_elems(const uint8_t *entry);
void rdbw_key_begin(rdbw *w, const uint8_t *entry);
int rdbw_key_part(rdbw *w, const uint8_t *entry, size_t *pos, long min);
/* A value alone (type byte, then the value), as DUMP carries it before its footer. */
void rdbw_value(rdbw *w, const uint8_t *entry);
/* The DUMP payload of a key's value: value, RDB version (2 bytes LE), CRC64 (8 bytes LE).
 * Returns an s_malloc'd buffer of *len bytes. */
unsigned char *rdb_dump_payload(const uint8_t *entry, size_t *len);
/* FUNCTION DUMP's payload: a FUNCTION2 record per library code, then the same footer (heap, s_free). */
unsigned char *rdb_dump_functions(int n, const char *const *codes, const size_t *lens, size_t *len);
#endif
