/* tzset: the sorted set type's value and its two encodings, as Redis 7.0
 * has them.
 *
 *   listpack   member,score,member,score... in one listpack (listpack.h),
 *              sorted by score then member, allocated to the byte in the
 *              entry arena while small (lp_new_compact).  A score is stored
 *              as Redis stores it: an integer when it is one (within
 *              +-2^62, so -0 becomes 0), otherwise its "%.17g" text.  Used
 *              while the set has at most zset-max-listpack-entries members
 *              and none longer than zset-max-listpack-value bytes.
 *   skiplist   (the name OBJECT ENCODING reports) a `zbig`: a ktable
 *              (keyspace/table.h) of member entries (zelem.h: member as the
 *              key, the score packed around it, 24 bytes for a 14-byte
 *              member) for O(1) member -> score, plus a zindex (zindex.h),
 *              a B+tree of the same 36-bit handles in (score, member) order
 *              with subtree counts for ranks.  ~35 bytes per member in all,
 *              against ~110 for Redis's dict + skiplist.
 *
 * A sorted set converts from listpack to skiplist when an insert would break
 * either limit and never back, except where Redis rebuilds a value and
 * chooses by its size (zs_fit: ZRANGESTORE, ZUNIONSTORE and friends).
 * The key's entry points straight at the listpack, or at a zbig whose first
 * 4 bytes are zero (a listpack's first 4 bytes are its size, >= 7).
 *
 * Members of a big set live in the arena, so only the event loop thread may
 * free one: zset_ops.free_step frees a big set a slice at a time (DEL of a
 * 5M-member set holds the loop for well under a millisecond).
 *
 * Functions that change a set take `zset **` because the value may move
 * (listpack reallocation, conversion). */
#ifndef SARDINE_TZSET_H
#define SARDINE_TZSET_H
#include <stddef.h>
#include <stdint.h>
#include "types/zindex.h"
#include "util/numconv.h"

typedef struct zset zset; /* a listpack or a zbig; opaque */

/* ZADD's input flags and its per-member outcome (Redis's zsetAdd). */
enum { ZA_INCR = 1, ZA_NX = 2, ZA_XX = 4, ZA_GT = 8, ZA_LT = 16 };
enum { ZA_OUT_NOP = 1, ZA_OUT_NAN = 2, ZA_OUT_ADDED = 4, ZA_OUT_UPDATED = 8 };

/* One member as read from a set: m points into the set or into buf (integer members of a listpack). */
typedef struct zs_elem {
    const char *m;
    size_t len;
    double score;
    char buf[LL_STR_SIZE];
} zs_elem;

typedef struct zs_iter {
    const zset *z;
    int dir;                /* +1 ascending, -1 descending */
    int lp;
    unsigned char *p;       /* listpack: the current member element (NULL at the end) */
    zi_iter it;             /* skiplist */
    int done;
} zs_iter;

/* A new empty set: listpack when size_hint members of up to maxlen_hint bytes fit the listpack limits. */
zset *zs_new(size_t size_hint, size_t maxlen_hint);
void zs_free(zset *z);
zset *zs_dup(const zset *z);
int zs_is_listpack(const zset *z);
size_t zs_card(const zset *z);
size_t zs_bytes(const zset *z);
int zs_score(const zset *z, const char *m, size_t len, double *score); /* 1 found */
/* Adds or updates a member as Redis's zsetAdd; returns 0 (out: ZA_OUT_NAN) when the score would be NaN. */
int zs_add(zset **zp, double score, const char *m, size_t len, int flags, int *out, double *newscore);
int zs_del(zset **zp, const char *m, size_t len); /* 1 deleted */
/* The 0-based ascending rank of a member, -1 if absent; its score too when score != NULL. */
long long zs_rank(const zset *z, const char *m, size_t len, double *score);
/* Members before a bound: score < v (incl: <= v); member < m (incl: <= m; lex order, equal scores assumed). */
size_t zs_count_score(const zset *z, double v, int incl);
size_t zs_count_lex(const zset *z, const char *m, size_t len, int incl);
/* The member of ascending rank r (r < card). */
void zs_at(const zset *z, size_t r, zs_elem *e);
/* Removes n members from ascending rank start. */
void zs_delete_range(zset **zp, size_t start, size_t n);
/* Iteration from ascending rank `rank` upwards (dir 1) or downwards (dir -1). */
void zs_iter_init(zs_iter *it, const zset *z, size_t rank, int dir);
int zs_iter_next(zs_iter *it, zs_elem *e);
/* Turns a skiplist into a listpack when it has at most the listpack limits (maxlen: longest member). */
void zs_fit(zset **zp, size_t maxlen);
/* One ZSCAN step: member and score text (as Redis prints each encoding's); a listpack gives all, cursor 0. */
typedef void zs_scan_fn(void *ud, const char *m, size_t mlen, const char *s, size_t slen);
uint64_t zs_scan(const zset *z, uint64_t cursor, long count, zs_scan_fn *fn, void *ud);

/* Accumulator for ZUNION/ZINTER/ZDIFF results: a skiplist set whose order is built once, at the end.
 * zs_acc_merge adds a member or combines its score with Redis's AGGREGATE rules (SUM of +inf and -inf
 * is 0); zs_acc_add adds a member known to be absent.  zs_acc_finish makes it a regular set. */
enum { ZS_AGG_SUM, ZS_AGG_MIN, ZS_AGG_MAX };
zset *zs_acc_new(void);
/* An accumulator for about n members (its member table sized at once). */
zset *zs_acc_new_sized(size_t n);
void zs_acc_add(zset *acc, const char *m, size_t len, double score);
void zs_acc_merge(zset *acc, const char *m, size_t len, double score, int aggr);
void zs_acc_finish(zset *acc);
/* A set made of a loaded member/score listpack (RDB, RESTORE; heap, validated, sorted, no duplicate
 * members), taken over: kept within zset-max-listpack-entries, else converted (Redis's rule on load). */
zset *zs_from_listpack(unsigned char *lp);
/* Loading (RDB, RESTORE) into an accumulator from zs_acc_new_sized, fed only this way: zs_acc_push
 * builds a member's entry and, for a count of 65536 and more arriving in order (ascending, or descending
 * as DUMP and RDB write a skiplist), writes it straight into its place in the index's leaves; other input
 * is kept in arrival order and indexed at the commit (sorted first if need be).  From the 65536th member
 * on, a second thread puts the pushed members into the member table as they come (each probe prefetched
 * a few members ahead); zs_acc_commit lets it finish while it makes the index.  0 when a member came
 * twice: the set is then only fit for zs_free (which also stops the filling thread). */
void zs_acc_push(zset *acc, const char *m, size_t len, double score);
int zs_acc_commit(zset *acc);

/* Checks the encoding's invariants (tests, DEBUG CHECK-KEY): NULL, or what is wrong. */
const char *zs_check(const zset *z);

#endif
