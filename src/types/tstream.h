/* tstream: the stream type (XADD, XRANGE, consumer groups ...).
 *
 * Entries: a sidx (types/sidx.h) of nodes keyed by each node's master ID,
 * each node one listpack in Redis's stream node format, byte for byte:
 *
 *   master entry:  count | deleted | num-fields | field_1 ... field_N | 0
 *   each entry:    flags | ms-diff | seq-diff | [num-fields | field_i value_i ...] | lp-count
 *                  (with flag SAMEFIELDS: flags | ms-diff | seq-diff | value_1 ... value_N | lp-count)
 *
 * IDs are deltas from the master ID (the ID of the node's first entry, even
 * after that entry is deleted); deletion only sets the DELETED flag and moves
 * one from count to deleted, and a node whose count drops to zero is freed.
 * Nodes are opened with Redis's rules (stream-node-max-bytes against the tail's
 * bytes plus the new fields' bytes, stream-node-max-entries against count +
 * deleted), so node boundaries, and with them XTRIM ~ and XINFO's
 * radix-tree-keys, are the same as Redis's.  radix-tree-nodes is computed from
 * the node keys as the number of nodes Redis's radix tree would have.
 * Listpacks live in the entry arena while they fit (exact 8..128-byte steps),
 * so a sealed 4 KiB node costs its bytes, with no per-entry allocation; and
 * nodes more than one behind the tail are kept compressed (types/slz.h) when
 * that saves 1/8, as a blob told apart from a listpack by a leading zero
 * word.  Readers decompress into their own buffer (stream_iter_done frees
 * it); a change to a compressed node decompresses, changes and recompresses.
 *
 * Consumer groups: a sorted array of groups (by name, as Redis's rax orders
 * them); a group has a sorted array of consumers, and its pending entries list
 * is a sidx of 40-byte records (ID, delivery time, count, owner); each consumer
 * has a sidx of its pending IDs (16 bytes each), so a pending entry costs 56
 * bytes against Redis's NACK plus two radix-tree keys.
 *
 * Invariants: length = sum of node counts; last_id >= every entry ID; every
 * group PEL record's owner is a consumer of that group whose own PEL holds the
 * same ID, and the other way round.  A stream key may be empty (length 0). */
#ifndef SARDINE_TSTREAM_H
#define SARDINE_TSTREAM_H
#include <stddef.h>
#include <stdint.h>
#include "types/listpack.h"
#include "types/sidx.h"

#define SID_MAX_STR 44 /* "18446744073709551615-18446744073709551615" + NUL */
#define STREAM_ENTRIES_READ_INVALID (-1LL)

typedef struct snode {
    sid master;
    unsigned char *lp;
} snode;

struct sconsumer;

typedef struct spel {
    sid id;
    int64_t delivery_time;
    uint64_t delivery_count;
    struct sconsumer *owner;
} spel;

typedef struct sconsumer {
    int64_t seen_time;
    sidx pel; /* records: sid */
    size_t nlen;
    char name[];
} sconsumer;

typedef struct sgroup {
    sid last_id;
    int64_t entries_read;
    sidx pel; /* records: spel */
    sconsumer **cons;
    uint32_t ncons, capcons;
    size_t nlen;
    char name[];
} sgroup;

typedef struct stream {
    sidx nodes; /* records: snode */
    uint64_t length, entries_added;
    sid last_id, first_id, max_deleted_id;
    sgroup **groups;
    uint32_t ngroups, capgroups;
} stream;

/* ---- IDs ---- */
int sid_format(char *buf, const sid *id); /* returns the length; buf >= SID_MAX_STR */
int sid_incr(sid *id);                     /* 0 on overflow (then id is 0-0) */
int sid_decr(sid *id);                     /* 0 on underflow */
static inline int sid_is_zero(const sid *id) { return id->ms == 0 && id->seq == 0; }

/* ---- the stream ---- */
stream *stream_new(void);
void stream_free(stream *s);
/* Appends an entry with this ID (already checked to be > last_id); fv holds nfields field/value pairs. */
typedef struct sbuf {
    const char *p;
    size_t len;
} sbuf;
void stream_append(stream *s, const sid *id, const sbuf *fv, long nfields);
int stream_delete(stream *s, const sid *id);     /* XDEL of one ID: 1 if it existed */
int stream_entry_exists(stream *s, const sid *id);
int stream_last_valid(stream *s, sid *id);       /* last non-deleted entry; 0 if none */
int stream_first_valid(stream *s, sid *id);
enum { TRIM_NONE = 0, TRIM_MAXLEN, TRIM_MINID };
typedef struct strim {
    int strategy, approx;
    long long maxlen, limit;
    sid minid;
} strim;
long long stream_trim(stream *s, const strim *t);
size_t stream_rax_nodes(const stream *s);        /* XINFO radix-tree-nodes */
int stream_range_has_tombstones(const stream *s, const sid *start, const sid *end);
long long stream_estimate_distance(const stream *s, const sid *id);
/* XINFO lag: 1 and *lag when valid. */
int stream_group_lag(const stream *s, const sgroup *g, long long *lag);

/* ---- iteration over the live entries of [start, end], forward or backward ---- */
typedef struct stream_iter {
    stream *s;
    sid start, end;
    int rev, begun;
    sidx_cur cur;
    unsigned char *lp;   /* current node (NULL: load the next one) */
    sid master;
    int64_t mcount;      /* master field count */
    unsigned char *mfields;
    unsigned char *p;    /* forward: next entry's flags; backward: the lp-count before it */
    /* the entry just returned */
    unsigned char *fp, *vp;
    int same;
    unsigned char *buf; /* compressed nodes are read decompressed here */
    size_t cap;
} stream_iter;
void stream_iter_start(stream_iter *it, stream *s, const sid *start, const sid *end, int rev);
void stream_iter_done(stream_iter *it); /* frees the iterator's buffer: call after every iteration */
int stream_iter_next(stream_iter *it, sid *id, int64_t *nfields);
void stream_iter_field(stream_iter *it, lp_val *f, lp_val *v); /* the next field/value pair of the entry */

/* ---- consumer groups ---- */
sgroup *stream_group_find(stream *s, const char *name, size_t len);
sgroup *stream_group_create(stream *s, const char *name, size_t len, const sid *last, long long entries_read);
void stream_group_destroy(stream *s, sgroup *g);
sconsumer *stream_consumer_find(sgroup *g, const char *name, size_t len);
sconsumer *stream_consumer_create(sgroup *g, const char *name, size_t len, long long now);
/* Deletes a consumer with its pending entries; returns how many it had. */
uint64_t stream_consumer_delete(sgroup *g, sconsumer *c);
spel *stream_pel_find(sgroup *g, const sid *id);
/* Adds a pending entry owned by c (NULL: unowned until assigned); returns it and whether it existed. */
spel *stream_pel_add(sgroup *g, const sid *id, int *existed);
void stream_pel_assign(sgroup *g, spel *p, sconsumer *c); /* p may move: re-find after */
void stream_pel_remove(sgroup *g, const sid *id);

/* A node's listpack for reading (RDB, DUMP): the node's own bytes, or its compressed blob decompressed
 * into *buf (grown as needed; the caller frees it with s_free). */
const unsigned char *stream_node_lp(const snode *n, unsigned char **buf, size_t *cap);

/* ---- loading (RDB, RESTORE) ---- */
/* Adds a node received from outside, taking over lp (a heap listpack that passed lp_validate deep); NULL,
 * or what is wrong (lp is then the caller's to free). */
const char *stream_load_node(stream *s, const sid *master, unsigned char *lp);
/* Once the nodes, fields and groups are in: checks every invariant (stream_check: node contents, length,
 * last_id, PEL ownership), sets first_id from the entries and stores the nodes as appends would have (sealed ones compressed); NULL, or
 * what is wrong (the caller frees the stream). */
const char *stream_load_finish(stream *s);

/* ---- the value as the keyspace sees it ---- */
size_t stream_bytes(const stream *s);
stream *stream_dup(const stream *s);
/* Checks every invariant above (tests, DEBUG CHECK-KEY): NULL, or what is wrong. */
const char *stream_check(const stream *s);
#endif
