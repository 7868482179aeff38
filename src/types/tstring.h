/* tstring: the string type's three encodings and the conversions between a
 * key's entry and bytes.
 *
 *   int     the value is the canonical text of a 64-bit integer: stored as a
 *           zig-zag varint inside the entry (1-10 bytes)
 *   embstr  up to 44 bytes: stored inside the entry
 *   raw     longer: stored inside the entry too up to STR_INLINE_MAX bytes
 *           (no heap block, header or pointer: the arena's fine size classes
 *           make a value cost its length plus a few bytes), beyond that an
 *           rstr on the heap pointed to by the entry; and any value modified
 *           in place by APPEND/SETRANGE/SETBIT/PFADD, which becomes an rstr
 *           with room to grow; or, with value-compression on, a zstr
 *           (types/zstr.h) when the bytes compress well (tried first for
 *           values past 44 bytes)
 *
 * A 16-byte key with a 300-byte value is an entry of 4+1+16+2+300 = 323
 * bytes (a 328-byte arena slot); as an rstr it cost a 29-byte entry plus
 * the rstr's 16-byte header and NUL in jemalloc's 320-byte class: 349.
 *
 * These are the encodings Redis reports through OBJECT ENCODING, chosen by
 * the same rules, so clients see the same answers: an inline value is embstr
 * or raw by its length alone, an rstr and a zstr are always raw.  Code that
 * changes a value in place tests for VAL_PTR: a compressed or inline value
 * is not one, so it takes the path that copies the bytes (str_get) into a
 * new raw value.
 *
 * Reading a compressed value decompresses it.  str_get puts the bytes in a
 * block that lives until the command ends (call() runs str_scratch_reset
 * after each command), so a command may hold several values at once (LCS,
 * BITOP); code that reads many values in one go (serializers, DEBUG DIGEST)
 * or a hot path (GET) brings its own reusable buffer to str_read instead. */
#ifndef SARDINE_TSTRING_H
#define SARDINE_TSTRING_H
#include <stddef.h>
#include "keyspace/entry.h"
#include "util/numconv.h"

/* A growable buffer for str_read (starts zeroed; str_buf_free releases it). */
typedef struct str_buf {
    char *p;
    size_t cap;
} str_buf;

/* Returns the value's bytes (a NUL follows them unless the value is an integer or inline in the entry);
 * integers are formatted into buf (LL_STR_SIZE); compressed values are decompressed into a block
 * valid until the end of the command. */
const char *str_get(const uint8_t *e, char *buf, size_t *len);
/* The same, a compressed value decompressed into sb (valid until sb's next use). */
const char *str_read(const uint8_t *e, char *buf, size_t *len, str_buf *sb);
void str_buf_free(str_buf *sb);
/* The value's length without decompressing it. */
size_t str_len(const uint8_t *e);
/* Frees the blocks str_get decompressed into (the end of a command). */
void str_scratch_reset(void);
/* Chooses the encoding for new bytes (copying nothing: sval points at p). */
entry_value str_value(const char *p, size_t len);
/* The bytes as they are (no integer encoding): inline up to STR_INLINE_MAX, else an rstr. */
entry_value str_bytes_value(const char *p, size_t len);
/* A raw (heap) value with the given bytes and room to grow. */
entry_value str_raw_value(const char *p, size_t len);
const char *str_encoding(const uint8_t *e);
#endif
