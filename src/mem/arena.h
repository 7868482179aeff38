/* arena: the slab allocator that holds every key's entry.
 *
 * Why: a key's entry (header, key, TTL, small value) is one allocation, and
 * the table refers to it by a 32-bit handle instead of a 64-bit pointer, which
 * saves 4 bytes per key in the table.  A handle counts 8-byte units from the
 * start of one large reserved (not committed) virtual region, so the region
 * addresses 32 GiB of entries; pages are committed by the kernel on first
 * touch and returned with madvise when they empty.
 *
 * Layout: the region is cut into 64 KiB pages.  A page serves one size class
 * (8-byte steps up to 256 bytes, then coarser up to ARENA_MAX_ALLOC).  Free
 * slots of a page form a list threaded through the slots themselves (16-bit
 * unit offsets); untouched slots are handed out from a bump offset, so a load
 * of new keys writes memory strictly sequentially.  Pages with free slots are
 * on their class's partial list; full pages are on no list; empty pages go
 * back to the free page pool.
 *
 * Invariants: handle 0 is never returned (page 0 is reserved), so 0 means
 * "empty slot" in the table.  arena_live_bytes() is the sum of the class sizes
 * of live allocations, which is what eviction must drive down.  Not thread
 * safe: only the event loop thread allocates and frees entries. */
#ifndef SARDINE_ARENA_H
#define SARDINE_ARENA_H
#include <stddef.h>
#include <stdint.h>

typedef uint32_t handle_t;

#define ARENA_MAX_ALLOC 4096
#define ARENA_PAGE_SHIFT 16
#define ARENA_PAGE_SIZE (1u << ARENA_PAGE_SHIFT)

extern uint8_t *arena_base;

int arena_init(size_t reserve_bytes); /* 0 ok, -1 could not reserve */
handle_t arena_alloc(size_t size);   /* size 1..ARENA_MAX_ALLOC; 0 when the region is exhausted */
void arena_free(handle_t h);
size_t arena_usable(handle_t h);     /* the class size of the allocation */
size_t arena_class_size(size_t size);
static inline void *arena_ptr(handle_t h) { return arena_base + ((size_t)h << 3); }

size_t arena_live_bytes(void);      /* sum of live allocations' class sizes */
size_t arena_pages_bytes(void);     /* bytes of pages in use (partial or full) */
size_t arena_reserved_bytes(void);
size_t arena_live_count(void);
#endif
