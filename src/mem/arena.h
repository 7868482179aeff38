/* arena: the slab allocator that holds every key's entry.
 *
 * Why: a key's entry (header, key, TTL, small value) is one allocation, and
 * the table refers to it by a 32-bit handle instead of a 64-bit pointer, which
 * saves 4 bytes per key in the table; and slots come in exact sizes, so an
 * entry of 38 bytes takes 38 bytes, not the 48 of a general-purpose
 * allocator's size class.
 *
 * Layout: one large reserved (not committed) virtual region cut into 64 KiB
 * pages; the kernel commits a page on first touch and we return empty pages
 * with madvise.  A page serves one size class: every byte size from 8 to 128,
 * then 8-byte steps to 256, 32-byte steps to 1 KiB and 128-byte steps to
 * ARENA_MAX_ALLOC.  A handle is (page number << 13 | slot index); the slot's
 * address is the page start plus index times the page's slot size, looked up
 * in a 2-byte-per-page side array that stays in cache.  Entries are therefore
 * unaligned: read their fields with memcpy.
 *
 * Free slots of a page form a list threaded through the slots themselves
 * (16-bit slot indices); untouched slots are handed out from a bump index, so
 * a load of new keys writes memory strictly sequentially.  Pages with free
 * slots are on their class's partial list; full pages are on no list; empty
 * pages go to the free page pool (a stack: the most recently emptied, still
 * committed page is reused first), and the cron gives the kernel back the
 * pool's pages beyond a reserve of 1/16 of the pages in use.
 *
 * Invariants: handle 0 is never returned (page 0 is reserved), so 0 means
 * "empty slot" in the table.  arena_live_bytes() is the sum of the slot sizes
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
#define ARENA_SLOT_BITS 13 /* 8-byte slots: 8192 per page */

extern uint8_t *arena_base;
extern uint16_t *arena_slot_size; /* per page */

int arena_init(size_t reserve_bytes); /* 0 ok, -1 could not reserve */
handle_t arena_alloc(size_t size);   /* size 1..ARENA_MAX_ALLOC; 0 when the region is exhausted */
void arena_free(handle_t h);
size_t arena_usable(handle_t h);     /* the slot size of the allocation */
size_t arena_class_size(size_t size);
static inline void *arena_ptr(handle_t h) {
    uint32_t pg = h >> ARENA_SLOT_BITS;
    return arena_base + ((size_t)pg << ARENA_PAGE_SHIFT) + (size_t)(h & ((1u << ARENA_SLOT_BITS) - 1)) * arena_slot_size[pg];
}

/* The handle of an allocation from a pointer to its first byte. */
static inline handle_t arena_handle_of(const void *p) {
    size_t off = (size_t)((const uint8_t *)p - arena_base);
    uint32_t pg = (uint32_t)(off >> ARENA_PAGE_SHIFT);
    return (handle_t)((pg << ARENA_SLOT_BITS) | (uint32_t)((off & (ARENA_PAGE_SIZE - 1)) / arena_slot_size[pg]));
}
/* Returns empty pages to the kernel beyond a reserve (called from the cron, so that pages emptied and
 * refilled in quick succession are not unmapped and faulted back in each time). */
void arena_release_free_pages(void);

size_t arena_live_bytes(void);      /* sum of live allocations' slot sizes */
size_t arena_pages_bytes(void);     /* bytes of pages in use (partial or full) */
size_t arena_reserved_bytes(void);
size_t arena_live_count(void);
#endif
