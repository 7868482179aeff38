/* arena: the slab allocator that holds every key's entry.
 *
 * Why: a key's entry (header, key, TTL, small value) is one allocation, and
 * the table refers to it by a 36-bit handle instead of a 64-bit pointer,
 * which saves bytes per key in the table (keyspace/table.h packs a handle in
 * 4.5 bytes); and slots come in exact sizes, so an entry of 38 bytes takes
 * 38 bytes, not the 48 of a general-purpose allocator's size class.
 *
 * Layout: one large virtual region (mapped MAP_NORESERVE, committed by the
 * kernel page by page on first touch) cut into 128 KiB pages.  A page serves
 * one size class: every byte size from 8 to 128, then 8-byte steps to 512,
 * 16-byte steps to 1 KiB, 64-byte steps to 2 KiB and 128-byte steps to
 * ARENA_MAX_ALLOC (233 classes; a page's class is kept in a byte).  Entries
 * that hold a string value of hundreds of bytes (keyspace/entry.h) so waste
 * at most 7 bytes up to 512, 15 up to 1 KiB, under 6% beyond.  A page holds
 * at most 8192 slots (ARENA_SLOT_BITS = 13): classes of 16 bytes and more
 * fill it, smaller classes use its first 8192 x size bytes (always a whole
 * number of 4 KiB OS pages, so the untouched tail costs no memory).  Filled
 * pages let a bulk load commit them by whole 2 MiB huge pages (arena_bulk).
 *
 * A handle is (page number << 13 | slot index), 36 bits: 2^23 pages of
 * 128 KiB = 1 TiB of address space, and 2^36 slots, so the ceiling is 1 TiB
 * of entries of 16 bytes or more and 2^36 x size below that.  The slot's address is the page start plus index times
 * the page's slot size, looked up in a 2-byte-per-page side array that stays
 * in cache.  Entries are therefore unaligned: read their fields with memcpy.
 *
 * The reservation is ARENA_MAX_BYTES (1 TiB) unless the environment variable
 * SARDINE_ARENA_MB names a smaller size (valgrind runs, small machines) or
 * the build sets ARENA_MAX_MB (the small-arena test build); if the kernel
 * refuses the mapping (overcommit disabled, ulimit -v) it is halved until it
 * succeeds.
 *
 * Free slots of a page form a list threaded through the slots themselves
 * (16-bit slot indices); untouched slots are handed out from a bump index, so
 * a load of new keys writes memory strictly sequentially.  Pages with free
 * slots are on their class's partial list; full pages are on no list; empty
 * pages go to the free page pool (a stack: the most recently emptied, still
 * committed page is reused first), and the cron gives the kernel back the
 * pool's pages beyond a reserve of 1/16 of the pages in use.
 *
 * Exhaustion: arena_low() turns true while fewer than a headroom of pages
 * (1/32 of the reservation, at least 64) remain unused; the dispatcher then
 * refuses writes with -OOM (and logs why), so the commands that do run never
 * find the arena empty.  arena_alloc still returns 0 when it is.
 *
 * Invariants (checked by arena_check):
 * - handle 0 is never returned, and no handle has its low 32 bits zero
 *   (pages whose number is a multiple of 2^19 are never used), so the table
 *   can test a slot's low word alone for "empty";
 * - a page is either unassigned (class 0: never used, or in the free pool
 *   exactly once) or serves one class, with slot_size[page] its size,
 *   0 < live <= bump <= slots, and bump - live slots on its free list;
 * - a class's partial list holds exactly its pages with 0 < live < slots that are not being evacuated
 *   by defragmentation (see arena_defrag_plan); a page being evacuated is never full;
 * - each class counts its pages and their live slots;
 * - arena_live_bytes() is the sum of the slot sizes of live allocations
 *   (what eviction must drive down), arena_live_count() their number.
 * Threads: the event loop thread allocates and frees entries; a worker thread that builds a value
 * away from it (a big RESTORE) does so in a private context (arena_ctx_*): whole pages of its own,
 * taken from the shared pool under a lock held only while a context exists, and handed to the
 * shared lists by the event loop thread once the worker is done (arena_ctx_adopt).  Until then the
 * worker's pages are on no list and arena_check skips its work. */
#ifndef SARDINE_ARENA_H
#define SARDINE_ARENA_H
#include <stddef.h>
#include <stdint.h>

typedef uint64_t handle_t; /* 36 significant bits; 0 = none */

#define ARENA_MAX_ALLOC 4096
#define ARENA_PAGE_SHIFT 17
#define ARENA_PAGE_SIZE (1u << ARENA_PAGE_SHIFT)
#define ARENA_SLOT_BITS 13 /* at most 8192 slots per page */
#define ARENA_HANDLE_BITS 36
#define ARENA_MAX_PAGES ((uint64_t)1 << (ARENA_HANDLE_BITS - ARENA_SLOT_BITS))
#define ARENA_MAX_BYTES (ARENA_MAX_PAGES << ARENA_PAGE_SHIFT) /* 1 TiB */

extern uint8_t *arena_base;
extern uint16_t *arena_slot_size; /* per page */
extern size_t arena_pages_left;   /* pages not in use (never touched or in the free pool) */
extern size_t arena_headroom;     /* arena_low() below this many */

/* Reserves the region: reserve_bytes, or when 0 the default (SARDINE_ARENA_MB, ARENA_MAX_MB or
 * ARENA_MAX_BYTES).  0 ok, -1 could not reserve even a small region. */
int arena_init(size_t reserve_bytes);
handle_t arena_alloc(size_t size);   /* size 1..ARENA_MAX_ALLOC; 0 when the region is exhausted */
void arena_free(handle_t h);
/* Bulk loading on (RESTORE of a big payload, RDB files): the slots about to be written fill fresh pages,
 * so each fresh page's used part is faulted in at once instead of 4 KiB at a time (one madvise against
 * up to 32 traps), and never-used pages 2 MiB at a time with a huge page where they start on a 2 MiB
 * boundary.  Off again when the load ends: the last page of each class it used may then hold committed
 * memory not yet written, at most one page (128 KiB) per class, and up to 2 MiB of never-used pages may
 * be committed ahead (the next ones handed out). */
void arena_bulk(int on);
size_t arena_usable(handle_t h);     /* the slot size of the allocation */
size_t arena_class_size(size_t size);
static inline void *arena_ptr(handle_t h) {
    uint64_t pg = h >> ARENA_SLOT_BITS;
    return arena_base + (pg << ARENA_PAGE_SHIFT) + (size_t)(h & ((1u << ARENA_SLOT_BITS) - 1)) * arena_slot_size[pg];
}

/* The handle of an allocation from a pointer to its first byte. */
static inline handle_t arena_handle_of(const void *p) {
    size_t off = (size_t)((const uint8_t *)p - arena_base);
    uint64_t pg = off >> ARENA_PAGE_SHIFT;
    return (pg << ARENA_SLOT_BITS) | (uint64_t)((off & (ARENA_PAGE_SIZE - 1)) / arena_slot_size[pg]);
}

/* Private contexts.  arena_ctx_new (event loop thread) makes one; the worker calls arena_ctx_enter
 * before building, after which its arena_alloc/arena_free use the context (it frees only what it
 * allocated), and arena_ctx_leave when done; arena_ctx_adopt (event loop thread, after the worker
 * left) puts the context's pages on the shared lists and frees the context. */
typedef struct arena_ctx arena_ctx;
arena_ctx *arena_ctx_new(void);
void arena_ctx_enter(arena_ctx *x);
void arena_ctx_leave(void);
void arena_ctx_adopt(arena_ctx *x);

/* 1 while the arena is nearly exhausted: writes must be refused. */
static inline int arena_low(void) { return arena_pages_left < arena_headroom; }

/* Returns empty pages to the kernel beyond a reserve (called from the cron, so that pages emptied and
 * refilled in quick succession are not unmapped and faulted back in each time). */
void arena_release_free_pages(void);
/* The same, with the kernel calls made by another thread (a madvise of 128 KiB can take milliseconds on a
 * virtual machine): arena_release_prepare takes up to max_pages of the pool's excess out of the pool into
 * a batch and returns how many (0: none, or a batch is still out); arena_release_run, from any thread,
 * gives the batch's pages back to the kernel; arena_release_finish, on the loop thread, returns the batch
 * to the pool once the run is over (1) or says it is not yet (0).  The pages of a batch are free pages
 * nobody allocates from until they are back. */
size_t arena_release_prepare(uint32_t max_pages);
void arena_release_run(void);
int arena_release_finish(void);
/* The reserve kept committed: max(min_pages, pages in use / divisor); 64 and 16 by default.  Active
 * defragmentation asks for less (it is there to give memory back). */
void arena_set_pool_reserve(uint32_t min_pages, uint32_t divisor);

size_t arena_live_bytes(void);      /* sum of live allocations' slot sizes */
size_t arena_pages_bytes(void);     /* bytes of pages in use (partial or full) */
size_t arena_reserved_bytes(void);
size_t arena_live_count(void);

/* Active defragmentation (mem/defrag.h drives it).  arena_defrag_plan marks, in each class with at least
 * min_pages more pages than its live slots need, the sparsest pages whose contents the other pages of the
 * class can take (as many pages as the class's free slots fill): those pages leave the partial list, so
 * nothing new is allocated there, and arena_move moves a slot out of one (a new slot of the same class on
 * a denser page, the bytes copied, the old slot freed) and returns its new handle, or h itself when h is
 * not on a marked page or the arena has no room.  Whoever holds h must then use the handle returned: only
 * an owner that knows every reference to its slots may move them.  A marked page that empties goes to the
 * free pool like any other; arena_defrag_end puts the marked pages still holding slots (owners that did
 * not move theirs) back on their partial lists.  Returns the number of pages marked.  arena_frag_bytes:
 * the bytes of pages beyond what the live slots of each class need. */
size_t arena_defrag_plan(size_t min_pages);
void arena_defrag_end(void);
int arena_defrag_wants(handle_t h);
handle_t arena_move(handle_t h);
size_t arena_frag_bytes(void);
void arena_defrag_stats(uint64_t *hits, uint64_t *misses);

/* Debug checks, for tests and the DEBUG command (slow: they walk every page in use).  Each returns 1
 * when the structure is consistent, else 0 with dbg_check_why (mem/dbg.h) naming the first violation.
 * arena_check verifies the invariants above (page classes, free lists, partial lists, free pool,
 * counters).  arena_check_handles verifies that every handle of hs[0..n) is a live allocation and
 * that none appears twice; it sorts hs. */
int arena_check(void);
int arena_check_handles(handle_t *hs, size_t n);
#endif
