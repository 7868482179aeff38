/* arena: see arena.h for the design.  Page metadata lives in side arrays
 * reserved as lazily as the region itself. */
#include "mem/arena.h"
#include "util/mem.h"
#include <string.h>
#include <sys/mman.h>

#define NO_PAGE 0u
#define NO_SLOT 0xffffu
#define KEEP_FREE_PAGES 64 /* at least this many empty pages stay committed for reuse */
#define MAX_CLASSES 256

typedef struct page_meta {
    uint8_t cls;        /* size class + 1; 0 = page not assigned */
    uint8_t pad;
    uint16_t live;      /* allocated slots */
    uint16_t free_head; /* first free slot index, NO_SLOT if none */
    uint16_t bump;      /* first never-used slot index */
    uint32_t next, prev; /* partial-list links (page numbers), NO_PAGE terminated */
} page_meta;

typedef struct size_class {
    uint32_t size;     /* slot size in bytes */
    uint32_t slots;    /* slots per page */
    uint32_t partial;  /* first page with room, NO_PAGE if none */
} size_class;

uint8_t *arena_base;
uint16_t *arena_slot_size;
static page_meta *pages;
static uint32_t npages_reserved, npages_touched; /* pages [1, npages_touched) have been handed out once */
static uint32_t *free_pages;     /* stack of empty pages; [0, nreleased) were given back to the kernel */
static uint32_t nfree_pages, free_pages_cap, nreleased;
static size_class classes[MAX_CLASSES];
static uint32_t nclasses;
static uint8_t class_of_size[ARENA_MAX_ALLOC + 1];
static size_t live_bytes, live_count, pages_in_use;

static void build_classes(void) {
    uint32_t size = 8;
    nclasses = 0;
    while (size <= ARENA_MAX_ALLOC) {
        classes[nclasses].size = size;
        classes[nclasses].slots = ARENA_PAGE_SIZE / size;
        classes[nclasses].partial = NO_PAGE;
        nclasses++;
        size += size < 128 ? 1 : size < 256 ? 8 : size < 1024 ? 32 : 128;
    }
    uint32_t c = 0;
    for (uint32_t s = 0; s <= ARENA_MAX_ALLOC; s++) {
        while (classes[c].size < s) c++;
        class_of_size[s] = (uint8_t)c;
    }
}

static void *reserve(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int arena_init(size_t reserve_bytes) {
    if (arena_base) return 0;
    size_t max = (size_t)1 << (32 - ARENA_SLOT_BITS + ARENA_PAGE_SHIFT); /* 2^19 pages of 64 KiB */
    if (reserve_bytes > max) reserve_bytes = max;
    reserve_bytes &= ~((size_t)ARENA_PAGE_SIZE - 1);
    npages_reserved = (uint32_t)(reserve_bytes >> ARENA_PAGE_SHIFT);
    arena_base = reserve(reserve_bytes);
    pages = reserve((size_t)npages_reserved * sizeof(page_meta));
    arena_slot_size = reserve((size_t)npages_reserved * sizeof(uint16_t));
    if (!arena_base || !pages || !arena_slot_size) return -1;
    npages_touched = 1; /* page 0 reserved: handle 0 means "none" */
    build_classes();
    return 0;
}

size_t arena_class_size(size_t size) { return classes[class_of_size[size < 8 ? 8 : size]].size; }

static void partial_push(uint32_t c, uint32_t pg) {
    page_meta *m = &pages[pg];
    m->prev = NO_PAGE;
    m->next = classes[c].partial;
    if (m->next != NO_PAGE) pages[m->next].prev = pg;
    classes[c].partial = pg;
}

static void partial_unlink(uint32_t c, uint32_t pg) {
    page_meta *m = &pages[pg];
    if (m->prev != NO_PAGE) pages[m->prev].next = m->next;
    else classes[c].partial = m->next;
    if (m->next != NO_PAGE) pages[m->next].prev = m->prev;
    m->next = m->prev = NO_PAGE;
}

static uint32_t page_get(void) {
    if (nfree_pages) {
        uint32_t pg = free_pages[--nfree_pages];
        if (nreleased > nfree_pages) nreleased = nfree_pages;
        return pg;
    }
    if (npages_touched >= npages_reserved) return NO_PAGE;
    return npages_touched++;
}

static void page_put(uint32_t pg) {
    pages[pg].cls = 0;
    if (nfree_pages == free_pages_cap) {
        free_pages_cap = free_pages_cap ? free_pages_cap * 2 : 256;
        free_pages = s_realloc(free_pages, free_pages_cap * sizeof(*free_pages));
    }
    free_pages[nfree_pages++] = pg;
}

static inline uint8_t *slot_addr(uint32_t pg, uint32_t idx) {
    return arena_base + ((size_t)pg << ARENA_PAGE_SHIFT) + (size_t)idx * arena_slot_size[pg];
}

handle_t arena_alloc(size_t size) {
    if (size > ARENA_MAX_ALLOC) return 0;
    uint32_t c = class_of_size[size < 8 ? 8 : size];
    uint32_t pg = classes[c].partial;
    if (pg == NO_PAGE) {
        pg = page_get();
        if (pg == NO_PAGE) return 0;
        page_meta *m = &pages[pg];
        m->cls = (uint8_t)(c + 1);
        m->live = 0;
        m->free_head = NO_SLOT;
        m->bump = 0;
        arena_slot_size[pg] = (uint16_t)classes[c].size;
        pages_in_use++;
        partial_push(c, pg);
    }
    page_meta *m = &pages[pg];
    uint32_t idx;
    if (m->free_head != NO_SLOT) {
        idx = m->free_head;
        uint16_t next;
        memcpy(&next, slot_addr(pg, idx), sizeof(next));
        m->free_head = next;
    } else {
        idx = m->bump++;
    }
    m->live++;
    if (m->live == classes[c].slots) partial_unlink(c, pg);
    live_bytes += classes[c].size;
    live_count++;
    return (handle_t)((pg << ARENA_SLOT_BITS) | idx);
}

void arena_free(handle_t h) {
    uint32_t pg = h >> ARENA_SLOT_BITS, idx = h & ((1u << ARENA_SLOT_BITS) - 1);
    page_meta *m = &pages[pg];
    uint32_t c = (uint32_t)m->cls - 1;
    int was_full = m->live == classes[c].slots;
    uint16_t next = m->free_head;
    memcpy(slot_addr(pg, idx), &next, sizeof(next));
    m->free_head = (uint16_t)idx;
    m->live--;
    live_bytes -= classes[c].size;
    live_count--;
    if (m->live == 0) {
        if (!was_full) partial_unlink(c, pg);
        pages_in_use--;
        page_put(pg);
    } else if (was_full) {
        partial_push(c, pg);
    }
}

void arena_release_free_pages(void) {
    uint32_t keep = (uint32_t)(pages_in_use / 16);
    if (keep < KEEP_FREE_PAGES) keep = KEEP_FREE_PAGES;
    /* The bottom of the stack holds the pages emptied longest ago: release those first, 32 per call
     * (~0.2 ms; 320 pages, 20 MB, a second at hz 10). */
    uint32_t budget = 32;
    while (nreleased + keep < nfree_pages && budget--) {
        madvise(arena_base + ((size_t)free_pages[nreleased] << ARENA_PAGE_SHIFT), ARENA_PAGE_SIZE, MADV_DONTNEED);
        nreleased++;
    }
}

size_t arena_usable(handle_t h) { return arena_slot_size[h >> ARENA_SLOT_BITS]; }
size_t arena_live_bytes(void) { return live_bytes; }
size_t arena_live_count(void) { return live_count; }
size_t arena_pages_bytes(void) { return pages_in_use * (size_t)ARENA_PAGE_SIZE; }
size_t arena_reserved_bytes(void) { return (size_t)npages_reserved << ARENA_PAGE_SHIFT; }
