/* listpack: Redis's compact sequence encoding, byte for byte (the format of
 * Redis 7's listpack: 4-byte total size, 2-byte element count, elements, a
 * 0xFF terminator; each element an encoding byte, its data, and a backlen).
 * Small hashes, sorted sets and list nodes are stored as one listpack, so
 * that RDB and DUMP payloads of those types load with a validation and a
 * memcpy, and their memory is a single allocation.
 *
 * Elements are strings or integers; lp_append/lp_insert store a string that
 * is the canonical text of a 64-bit integer in the integer encodings.
 * Functions that change the listpack may reallocate it and return the new
 * pointer; element pointers into the old one are then invalid unless the
 * function hands back a new one (the `**p` parameters). */
#ifndef SARDINE_LISTPACK_H
#define SARDINE_LISTPACK_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct lp_val {
    const unsigned char *s; /* string element: bytes (s != NULL) */
    uint32_t len;
    int64_t i;              /* integer element when s == NULL */
} lp_val;

unsigned char *lp_new(size_t capacity);
void lp_free(unsigned char *lp);
size_t lp_bytes(const unsigned char *lp);
unsigned long lp_length(const unsigned char *lp);
unsigned char *lp_first(unsigned char *lp);                      /* NULL when empty */
unsigned char *lp_last(unsigned char *lp);
unsigned char *lp_next(unsigned char *lp, unsigned char *p);     /* NULL after the last */
unsigned char *lp_prev(unsigned char *lp, unsigned char *p);     /* NULL before the first */
unsigned char *lp_seek(unsigned char *lp, long index);           /* negative counts from the end; NULL if out of range */
void lp_get(const unsigned char *p, lp_val *v);
/* Formats any element as text (integers into buf, >= 21 bytes); returns its bytes. */
const unsigned char *lp_get_str(const unsigned char *p, unsigned char *buf, uint32_t *len);
int lp_eq(const unsigned char *p, const char *s, uint32_t len);  /* element equals these bytes */

unsigned char *lp_append(unsigned char *lp, const char *s, uint32_t len);
unsigned char *lp_append_int(unsigned char *lp, int64_t v);
unsigned char *lp_prepend(unsigned char *lp, const char *s, uint32_t len);
enum { LP_BEFORE = 0, LP_AFTER = 1 };
/* Inserts next to *p; *p is set to the new element. */
unsigned char *lp_insert(unsigned char *lp, unsigned char **p, const char *s, uint32_t len, int where);
unsigned char *lp_replace(unsigned char *lp, unsigned char **p, const char *s, uint32_t len);
/* Deletes *p; *p is set to the element that followed it (NULL if none). */
unsigned char *lp_delete(unsigned char *lp, unsigned char **p);
unsigned char *lp_delete_range(unsigned char *lp, long index, unsigned long count);
/* From p, compares every (skip+1)-th element with s (skip=1 walks the fields of a field/value listpack). */
unsigned char *lp_find(unsigned char *lp, unsigned char *p, const char *s, uint32_t len, unsigned skip);
/* Checks a listpack received from outside (RESTORE, RDB): 1 if every element and header is consistent. */
int lp_validate(const unsigned char *lp, size_t size, int deep);
/* Checks the invariants of a listpack in memory (tests, DEBUG CHECK-KEY): NULL, or what is wrong. */
const char *lp_check(const unsigned char *lp);
/* DEBUG LISTPACK's dump of a listpack to f: its size and count, then each element's offset, bytes and
 * value (Sardine's own layout, after Redis's lpRepr). */
void lp_repr(FILE *f, const unsigned char *lp);

/* Added for the hash type (other types may use them too). */
/* An empty listpack that lives in the entry arena (8-byte size classes) while it is at most
 * ARENA_MAX_ALLOC bytes, then on the heap.  Event loop thread only: never free one on bio. */
unsigned char *lp_new_compact(void);
size_t lp_alloc_size(const unsigned char *lp);   /* bytes of its allocation (MEMORY USAGE) */
unsigned char *lp_dup(const unsigned char *lp);  /* a copy that lives where the original does */
/* Moves a listpack to the heap (to_arena 0: for a burst of changes, each then a cheap realloc) or into
 * the arena (1: when it fits; exact size); returns the new pointer (the same one if nothing moves). */
unsigned char *lp_move(unsigned char *lp, int to_arena);
/* A copy of a validated listpack (RDB, RESTORE): in the arena when compact and it fits, else on the heap. */
unsigned char *lp_from_bytes(const unsigned char *p, size_t n, int compact);
#endif
