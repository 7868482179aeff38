/* arena: see arena.h for the design.  Page metadata lives in a side array
 * (16 bytes per 64 KiB page) reserved as lazily as the region itself. */
#include "mem/arena.h"
#include <string.h>
#include <sys/mman.h>

#define UNIT 8u
#define UNITS_PER_PAGE (ARENA_PAGE_SIZE / UNIT)
#define NO_PAGE 0u
#define NO_SLOT 0xffffu
#define KEEP_FREE_PAGES 32 /* empty pages kept committed for reuse */

typedef struct page_meta {
    uint16_t cls;      /* size class + 1; 0 = page not assigned */
    uint16_t live;     /* allocated slots */
    uint16_t free_head; /* unit offset of the first free slot, NO_SLOT if none */
    uint16_t bump;     /* unit offset of the first never-used slot */
    uint32_t next, prev; /* partial-list links (page numbers), NO_PAGE terminated */
} page_meta;

typedef struct size_class {
    uint32_t units;    /* slot size in units */
    uint32_t partial;  /* first page with room, NO_PAGE if none */
} size_class;

uint8_t *arena_base;
static page_meta *pages;
static uint32_t npages_reserved, npages_touched; /* pages [1, npages_touched) have been handed out once */
static uint32_t *free_pages;      /* stack of empty pages (s_malloc'd) */
static uint32_t nfree_pages, free_pages_cap;
static size_class classes[128];
static uint32_t nclasses;
static uint8_t class_of_units[ARENA_MAX_ALLOC / UNIT + 1];
static size_t live_bytes, live_count, pages_in_use;

#include "util/mem.h"

static void build_classes(void) {
    uint32_t size = 8;
    nclasses = 0;
    while (size <= ARENA_MAX_ALLOC) {
        classes[nclasses].units = size / UNIT;
        classes[nclasses].partial = NO_PAGE;
        nclasses++;
        size += size < 256 ? 8 : size < 1024 ? 32 : 128;
    }
    uint32_t c = 0;
    for (uint32_t u = 0; u <= ARENA_MAX_ALLOC / UNIT; u++) {
        while (classes[c].units < u) c++;
        class_of_units[u] = (uint8_t)c;
    }
}

int arena_init(size_t reserve_bytes) {
    if (arena_base) return 0;
    if (reserve_bytes > ((size_t)1 << 35)) reserve_bytes = (size_t)1 << 35; /* 32-bit handles of 8 bytes */
    reserve_bytes &= ~((size_t)ARENA_PAGE_SIZE - 1);
    void *p = mmap(NULL, reserve_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return -1;
    npages_reserved = (uint32_t)(reserve_bytes >> ARENA_PAGE_SHIFT);
    void *m = mmap(NULL, (size_t)npages_reserved * sizeof(page_meta), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
        munmap(p, reserve_bytes);
        return -1;
    }
    arena_base = p;
    pages = m;
    npages_touched = 1; /* page 0 reserved: handle 0 means "none" */
    build_classes();
    return 0;
}

size_t arena_class_size(size_t size) {
    size_t u = (size + UNIT - 1) / UNIT;
    return (size_t)classes[class_of_units[u ? u : 1]].units * UNIT;
}

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
    if (nfree_pages) return free_pages[--nfree_pages];
    if (npages_touched >= npages_reserved) return NO_PAGE;
    return npages_touched++;
}

static void page_put(uint32_t pg) {
    pages[pg].cls = 0;
    if (nfree_pages >= KEEP_FREE_PAGES)
        madvise(arena_base + ((size_t)pg << ARENA_PAGE_SHIFT), ARENA_PAGE_SIZE, MADV_DONTNEED);
    if (nfree_pages == free_pages_cap) {
        free_pages_cap = free_pages_cap ? free_pages_cap * 2 : 256;
        free_pages = s_realloc(free_pages, free_pages_cap * sizeof(*free_pages));
    }
    free_pages[nfree_pages++] = pg;
}

static inline uint32_t slots_per_page(uint32_t c) { return UNITS_PER_PAGE / classes[c].units; }

handle_t arena_alloc(size_t size) {
    size_t u = (size + UNIT - 1) / UNIT;
    if (u == 0) u = 1;
    if (u > ARENA_MAX_ALLOC / UNIT) return 0;
    uint32_t c = class_of_units[u];
    uint32_t pg = classes[c].partial;
    if (pg == NO_PAGE) {
        pg = page_get();
        if (pg == NO_PAGE) return 0;
        page_meta *m = &pages[pg];
        m->cls = (uint16_t)(c + 1);
        m->live = 0;
        m->free_head = NO_SLOT;
        m->bump = 0;
        pages_in_use++;
        partial_push(c, pg);
    }
    page_meta *m = &pages[pg];
    uint32_t off;
    if (m->free_head != NO_SLOT) {
        off = m->free_head;
        uint16_t next;
        memcpy(&next, arena_base + ((size_t)pg << ARENA_PAGE_SHIFT) + (size_t)off * UNIT, sizeof(next));
        m->free_head = next;
    } else {
        off = m->bump;
        m->bump = (uint16_t)(m->bump + classes[c].units);
    }
    m->live++;
    if (m->live == slots_per_page(c)) partial_unlink(c, pg);
    live_bytes += (size_t)classes[c].units * UNIT;
    live_count++;
    return (handle_t)(((size_t)pg << (ARENA_PAGE_SHIFT - 3)) + off);
}

void arena_free(handle_t h) {
    uint32_t pg = h >> (ARENA_PAGE_SHIFT - 3);
    uint32_t off = h & (UNITS_PER_PAGE - 1);
    page_meta *m = &pages[pg];
    uint32_t c = (uint32_t)m->cls - 1;
    int was_full = m->live == slots_per_page(c);
    uint16_t next = m->free_head;
    memcpy(arena_base + ((size_t)pg << ARENA_PAGE_SHIFT) + (size_t)off * UNIT, &next, sizeof(next));
    m->free_head = (uint16_t)off;
    m->live--;
    live_bytes -= (size_t)classes[c].units * UNIT;
    live_count--;
    if (m->live == 0) {
        if (!was_full) partial_unlink(c, pg);
        pages_in_use--;
        page_put(pg);
    } else if (was_full) {
        partial_push(c, pg);
    }
}

size_t arena_usable(handle_t h) {
    uint32_t pg = h >> (ARENA_PAGE_SHIFT - 3);
    return (size_t)classes[pages[pg].cls - 1].units * UNIT;
}

size_t arena_live_bytes(void) { return live_bytes; }
size_t arena_live_count(void) { return live_count; }
size_t arena_pages_bytes(void) { return pages_in_use * (size_t)ARENA_PAGE_SIZE; }
size_t arena_reserved_bytes(void) { return (size_t)npages_reserved << ARENA_PAGE_SHIFT; }
