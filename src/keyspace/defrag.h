/* defrag: active defragmentation of the keyspace (activedefrag yes).
 *
 * Fragmentation has two homes.  In the arena (mem/arena.h), a size class
 * whose keys were deleted at random keeps many pages partly used; the
 * arena knows every page's fill and the key table holds every entry's
 * handle, so a pass empties the sparsest pages: arena_defrag_plan marks, per
 * class, as many of them as the free slots of the class can absorb (those
 * pages take no new entries), and a walk of every database's table moves
 * each entry found on a marked page into a slot of a denser page
 * (arena_move), writing the new handle into the table slot in place; the
 * emptied pages go to the free pool, which the cron gives back to the
 * kernel.  On the heap (jemalloc), raw string values past 44 bytes and
 * external keys are moved by s_defrag (util/mem.h) when jemalloc reports
 * their slab less used than their bin's average, Redis's hint, read with
 * jemalloc's utilization query instead of a patched allocator.
 *
 * Collections move too.  When the walk meets a key whose value is a
 * collection, the type's defrag op (types/object.h, obj_ops.defrag) moves
 * its parts with the movers below, each of which knows where its references
 * are: a big hash's or set's field entries through kt_defrag on the value's
 * own table (the slot rewritten in place), a big sorted set's members the
 * same way, each also rewritten in its index (zi_move: the leaf slot and the
 * separator keys above it), then the index's nodes, the listpack or intset of a small one (the pointer
 * in the key's entry), a list's quicklist nodes and their listpacks, a
 * stream's node listpacks and index chunks.  A collection of more than
 * active-defrag-max-scan-fields elements (quicklist or stream nodes for those
 * types, as Redis counts them) is not done in the walk: its key's name goes
 * on a list handled before the walk goes on, a bounded batch of elements per
 * call with a cursor that is a stage and a position (a hash position, a
 * rank, a node index), never a pointer; each batch looks the key up by name
 * again, and a key gone or of another type is dropped.  The value may have
 * changed between two batches: arena slots are walked by hash position,
 * which changes do not shift; a rank or node index may then make the pass
 * miss or revisit some heap blocks.
 * The same happens to a collection met once the step has already done much
 * work, so that one bucket of big keys cannot make a long step.  Not moved:
 * the segments and directories of the collections' tables (nor the key
 * table's own), and streams' consumer groups and consumers (pending entries
 * point at their consumer).
 *
 * Scheduling, as Redis: the cron (defrag_cron) starts a pass when
 * activedefrag is yes, the fragmentation bytes (arena pages beyond what
 * their live slots need plus jemalloc's active - allocated) exceed
 * active-defrag-ignore-bytes and their share of used_memory exceeds
 * active-defrag-threshold-lower %; the pass gets a share of the loop's time
 * between active-defrag-cycle-min and -max %, scaled by where that share
 * falls between threshold-lower and -upper.  The walk runs from
 * before-sleep in steps of at most DEFRAG_STEP_US (~0.5 ms), so a client's
 * command waits at most one step; between steps the loop keeps polling.
 * A pass finishes with the tables and the deferred collections; the cron starts another while the
 * fragmentation is still above the threshold.
 *
 * Safety: the walk runs only at the top of the loop (before-sleep), never
 * inside a command or a nested poll (busy scripts, loading), so no kref or
 * pointer held by a command sees an entry move.  Nothing keeps a handle or
 * a value pointer of a key across loop iterations, except a running
 * snapshot (its done sets and a value serialized a slice at a time): the
 * callers pass `paused` while one runs, and a running pass is ended then,
 * before any step (a snapshot a command started is seen by the very next
 * step, not only by the next cron).
 * SCAN, HSCAN, SSCAN, ZSCAN cursors and the expiry/defrag cursors are hash
 * positions, unaffected; blocked clients, WATCH and MULTI hold key names; the
 * lazy-free slicer (keyspace/db.c) holds values already out of the keyspace,
 * which the walk cannot reach. */
#ifndef SARDINE_DEFRAG_H
#define SARDINE_DEFRAG_H
#include <stddef.h>
#include <stdint.h>
#include "mem/arena.h"

#define DEFRAG_STEP_US 500

typedef struct defrag_stats {
    uint64_t hits, misses, key_hits, key_misses; /* allocations moved / not; keys with a move / without */
    long long total_us;                          /* time spent defragmenting, in passes */
    long long current_start_us;                  /* monotonic start of the running pass, 0 if none */
    uint64_t passes;
} defrag_stats;

/* From the cron: starts or stops a pass by the directives; `paused`: a snapshot runs. */
void defrag_cron(int paused);
/* From before-sleep: one bounded step of the running pass; 1 when more work is due right away (the loop
 * should not sleep), 0 otherwise.  *wait_ms becomes the longest the loop may sleep before the next step
 * (-1: no constraint).  `paused`: a snapshot runs (one a command started since the last cron included):
 * the running pass ends without a step. */
int defrag_step(int paused, int *wait_ms);
int defrag_running(void); /* the running pass's share of the loop's time (%), 0 when none runs */
const defrag_stats *defrag_get_stats(void);
void defrag_reset_stats(void);
/* Fragmentation the defragmenter can work on: arena pages beyond what their live slots need plus the
 * heap's active - allocated bytes. */
size_t defrag_frag_bytes(void);

/* The movers the types' defrag ops use (loop thread, during a step).  Each looks at one part, moves it when
 * it is worth it and counts it in the statistics (hits: moved, misses: left). */
/* An arena entry in the key table's layout (a key, a hash field, a set or sorted-set member): out of a page
 * being emptied, and its external key and raw-string value (strings only) into fuller heap slabs.  Returns
 * the handle from now on: the caller stores it wherever the old one was (the slot was freed). */
handle_t defrag_entry(handle_t h);
/* A block allocated from the arena (compact listpacks, intsets) or with s_malloc: NULL when it stays, else
 * the block's new address (the old one is freed). */
void *defrag_alloc(void *p);
/* A value that is one block (a listpack or an intset) moved with defrag_alloc; its walk is then done (cur
 * zeroed).  Returns the value's address from now on. */
void *defrag_block_value(void *v, uint64_t cur[2]);
/* A collection's own table of entries (a big hash's fields, a big set's members): the entries of about
 * max_buckets buckets from hash position pos moved with defrag_entry, each slot rewritten in place
 * (kt_defrag); returns the next position, 0 after the last bucket. */
struct ktable;
uint64_t defrag_entries(struct ktable *t, uint64_t pos, long max_buckets);
#endif
