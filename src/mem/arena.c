/* arena: see arena.h for the design.  Page metadata lives in side arrays
 * reserved as lazily as the region itself. */
#include "mem/arena.h"
#include "util/debug.h"
#include "util/mem.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define NO_PAGE 0u
#define NO_SLOT 0xffffu
#define KEEP_FREE_PAGES 64 /* at least this many empty pages stay committed for reuse */
#define MAX_CLASSES 256
#define MAX_SLOTS (1u << ARENA_SLOT_BITS)
#define MIN_RESERVE ((size_t)16 << 20)
#define MIN_HEADROOM 16 /* pages */
/* A page whose number is a multiple of 2^(32 - ARENA_SLOT_BITS) would give slot 0 a handle with its low 32 bits zero. */
#define SKIP_MASK ((1u << (32 - ARENA_SLOT_BITS)) - 1)
#define SKIPPED(pg) (((pg) & SKIP_MASK) == 0)

typedef struct page_meta {
    uint8_t cls;        /* size class + 1; 0 = page not assigned */
    uint8_t priv : 1;   /* 1: owned by a private context (a worker's build), on no list */
    uint8_t evac : 1;   /* 1 while defragmentation empties the page: on no partial list, never allocated from */
    uint16_t live;      /* allocated slots */
    uint16_t free_head; /* first free slot index, NO_SLOT if none */
    uint16_t bump;      /* first never-used slot index */
    uint32_t next, prev; /* partial-list links (page numbers), NO_PAGE terminated */
} page_meta;

typedef struct size_class {
    uint32_t size;     /* slot size in bytes */
    uint32_t slots;    /* slots per page */
    uint32_t partial;  /* first page with room, NO_PAGE if none */
    uint32_t npages;   /* pages assigned to the class */
    uint64_t live;     /* live slots in them */
} size_class;

uint8_t *arena_base;
uint16_t *arena_slot_size;
size_t arena_pages_left, arena_headroom;
static page_meta *pages;
static uint32_t npages_reserved, npages_touched; /* pages [1, npages_touched) have been handed out once */
/* Never-used pages below this were committed ahead, with a huge page, by a bulk load (page_get). */
static uint32_t npages_committed;
#define HUGE_BYTES ((size_t)2 << 20)
#define HUGE_PAGES ((uint32_t)(HUGE_BYTES >> ARENA_PAGE_SHIFT))
_Static_assert(ARENA_PAGE_SHIFT <= 21, "arena pages tile a 2 MiB huge page");
static uint32_t *free_pages;     /* stack of empty pages; [0, nreleased) were given back to the kernel */
static uint32_t nfree_pages, free_pages_cap, nreleased;
static size_class classes[MAX_CLASSES];
static uint32_t nclasses;
static uint8_t class_of_size[ARENA_MAX_ALLOC + 1];
static size_t live_bytes, live_count, pages_in_use;
static uint32_t *evac_pages; /* the pages marked by arena_defrag_plan (some may have emptied since) */
static size_t nevac, evac_cap;
static uint64_t moves, move_misses;
static _Thread_local int bulk; /* arena_bulk */

/* Private contexts (arena_ctx_*): while any exists (nctx, changed only by the event loop thread), the
 * free page pool and the never-used page counter are shared with worker threads and taken under
 * pool_lock; everything else a worker touches is its own pages' metadata. */
struct arena_ctx {
    uint32_t cur[MAX_CLASSES]; /* the page each class allocates from, NO_PAGE if none yet */
    uint32_t *pages;           /* every page taken */
    size_t npages, cap;
    size_t live_bytes, live_count;
};
static int nctx;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local arena_ctx *tls_ctx;

static inline void pool_enter(void) {
    if (nctx) pthread_mutex_lock(&pool_lock);
}
static inline void pool_leave(void) {
    if (nctx) pthread_mutex_unlock(&pool_lock);
}

void arena_bulk(int on) { bulk = on; }

static void build_classes(void) {
    uint32_t size = 8;
    nclasses = 0;
    while (size <= ARENA_MAX_ALLOC) {
        classes[nclasses].size = size;
        classes[nclasses].slots = ARENA_PAGE_SIZE / size < MAX_SLOTS ? ARENA_PAGE_SIZE / size : MAX_SLOTS;
        classes[nclasses].partial = NO_PAGE;
        nclasses++;
        size += size < 128 ? 1 : size < 512 ? 8 : size < 1024 ? 16 : size < 2048 ? 64 : 128;
    }
    DBG_ASSERT(nclasses <= 255); /* page_meta.cls holds the class + 1 in a byte */
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

/* The reservation asked for by the build and the environment. */
static size_t default_reserve(void) {
    size_t r = ARENA_MAX_BYTES;
#ifdef ARENA_MAX_MB
    r = (size_t)ARENA_MAX_MB << 20;
#endif
    const char *env = getenv("SARDINE_ARENA_MB");
    if (env && *env) {
        char *end;
        unsigned long long mb = strtoull(env, &end, 10);
        if (*end == 0 && mb > 0 && mb < (r >> 20)) r = (size_t)mb << 20;
    }
    return r;
}

static int try_reserve(size_t bytes) {
    npages_reserved = (uint32_t)(bytes >> ARENA_PAGE_SHIFT);
    arena_base = reserve(bytes);
    /* No transparent huge pages but those a bulk load asks for (page_get): pages are given back 4 KiB
     * at a time, and the kernel's khugepaged would otherwise fill whole 2 MiB ranges around them. */
#ifdef MADV_NOHUGEPAGE
    if (arena_base) madvise(arena_base, bytes, MADV_NOHUGEPAGE);
#endif
    pages = reserve((size_t)npages_reserved * sizeof(page_meta));
    arena_slot_size = reserve((size_t)npages_reserved * sizeof(uint16_t));
    if (arena_base && pages && arena_slot_size) return 0;
    if (arena_base) munmap(arena_base, bytes);
    if (pages) munmap(pages, (size_t)npages_reserved * sizeof(page_meta));
    if (arena_slot_size) munmap(arena_slot_size, (size_t)npages_reserved * sizeof(uint16_t));
    arena_base = NULL;
    pages = NULL;
    arena_slot_size = NULL;
    return -1;
}

int arena_init(size_t reserve_bytes) {
    if (arena_base) return 0;
    if (reserve_bytes == 0) reserve_bytes = default_reserve();
    if (reserve_bytes > ARENA_MAX_BYTES) reserve_bytes = ARENA_MAX_BYTES;
    if (reserve_bytes < 2 * (size_t)ARENA_PAGE_SIZE) reserve_bytes = 2 * (size_t)ARENA_PAGE_SIZE;
    reserve_bytes &= ~((size_t)ARENA_PAGE_SIZE - 1);
    while (try_reserve(reserve_bytes) != 0) {
        if (reserve_bytes / 2 < MIN_RESERVE) return -1;
        reserve_bytes = (reserve_bytes / 2) & ~((size_t)ARENA_PAGE_SIZE - 1);
    }
    npages_touched = npages_committed = 1; /* page 0 reserved: handle 0 means "none" */
    arena_pages_left = npages_reserved - ((npages_reserved + SKIP_MASK) >> (32 - ARENA_SLOT_BITS));
    arena_headroom = npages_reserved / 32 > MIN_HEADROOM ? npages_reserved / 32 : MIN_HEADROOM;
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

/* An empty page for class c: the pool's most recent, else a never-used one. */
static uint32_t page_get(uint32_t c) {
    size_t used = (size_t)classes[c].slots * classes[c].size, tail = (used + 4095) & ~(size_t)4095;
    uint32_t pg;
    int fresh, frontier = 0; /* no memory committed behind the page */
    if (nfree_pages) {
        pg = free_pages[--nfree_pages];
        fresh = nreleased > nfree_pages;
        if (fresh) nreleased = nfree_pages;
        /* A small class leaves the page's tail untouched: give back what a previous class committed there. */
        if (!fresh && tail < ARENA_PAGE_SIZE)
            madvise(arena_base + ((size_t)pg << ARENA_PAGE_SHIFT) + tail, ARENA_PAGE_SIZE - tail, MADV_DONTNEED);
    } else {
        if (npages_touched < npages_reserved && SKIPPED(npages_touched)) npages_touched++;
        if (npages_touched >= npages_reserved) return NO_PAGE;
        pg = npages_touched++;
        fresh = pg >= npages_committed;
        frontier = 1;
    }
    arena_pages_left--;
    /* During a bulk load the part of the page its class will use is faulted in with one call rather
     * than one trap per 4 KiB (on a VM the traps cost more than the zeroing); otherwise pages are
     * committed 4 KiB at a time as they are written.  A bulk load that takes a never-used page on a
     * 2 MiB boundary commits it and the next HUGE_PAGES - 1 with one huge page (util/mem.h
     * s_map_populate_huge): those are the next pages handed out, so at most 2 MiB is committed ahead
     * of use, and a huge page's one fault replaces 512. */
    uint8_t *at = arena_base + ((size_t)pg << ARENA_PAGE_SHIFT);
    if (fresh && bulk) {
        if (frontier && tail == ARENA_PAGE_SIZE && ((uintptr_t)at & (HUGE_BYTES - 1)) == 0 &&
            pg + HUGE_PAGES <= npages_reserved) {
            s_map_populate_huge(at, HUGE_BYTES);
            npages_committed = pg + HUGE_PAGES;
            fresh = 0;
        } else {
            s_map_populate(at, tail);
        }
    }
    /* A page committed ahead by a huge page, taken by a class under 16 bytes (it fills only its first
     * MAX_SLOTS slots): the tail is unmapped, so that the kernel can free it when it splits the huge
     * page under memory pressure (a class that small never starts a huge page itself). */
    if (frontier && !fresh && tail < ARENA_PAGE_SIZE) madvise(at + tail, ARENA_PAGE_SIZE - tail, MADV_DONTNEED);
    return pg;
}

static void page_put(uint32_t pg) {
    classes[pages[pg].cls - 1].npages--;
    pages[pg].cls = 0;
    pages[pg].evac = 0;
    if (nfree_pages == free_pages_cap) {
        free_pages_cap = free_pages_cap ? free_pages_cap * 2 : 256;
        free_pages = s_realloc(free_pages, free_pages_cap * sizeof(*free_pages));
    }
    free_pages[nfree_pages++] = pg;
    arena_pages_left++;
}

static inline uint8_t *slot_addr(uint32_t pg, uint32_t idx) {
    return arena_base + ((size_t)pg << ARENA_PAGE_SHIFT) + (size_t)idx * arena_slot_size[pg];
}

static handle_t ctx_alloc(arena_ctx *x, size_t size);
static void ctx_free(arena_ctx *x, handle_t h);

handle_t arena_alloc(size_t size) {
    if (size > ARENA_MAX_ALLOC) return 0;
    if (__builtin_expect(tls_ctx != NULL, 0)) return ctx_alloc(tls_ctx, size);
    uint32_t c = class_of_size[size < 8 ? 8 : size];
    uint32_t pg = classes[c].partial;
    if (pg == NO_PAGE) {
        pool_enter();
        pg = page_get(c);
        pool_leave();
        if (pg == NO_PAGE) return 0;
        page_meta *m = &pages[pg];
        m->cls = (uint8_t)(c + 1);
        m->live = 0;
        m->free_head = NO_SLOT;
        m->bump = 0;
        m->evac = 0;
        classes[c].npages++;
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
        DBG_ASSERT(next == NO_SLOT || next < m->bump);
        m->free_head = next;
    } else {
        idx = m->bump++;
    }
    m->live++;
    DBG_ASSERT(m->live <= m->bump && m->bump <= classes[c].slots);
    if (m->live == classes[c].slots) partial_unlink(c, pg);
    classes[c].live++;
    live_bytes += classes[c].size;
    live_count++;
    return ((handle_t)pg << ARENA_SLOT_BITS) | idx;
}

void arena_free(handle_t h) {
    if (__builtin_expect(tls_ctx != NULL, 0)) {
        ctx_free(tls_ctx, h);
        return;
    }
    uint32_t pg = (uint32_t)(h >> ARENA_SLOT_BITS), idx = (uint32_t)h & (MAX_SLOTS - 1);
    page_meta *m = &pages[pg];
    DBG_ASSERT(!m->priv);
    DBG_ASSERT(h != 0 && pg < npages_touched && m->cls != 0 && idx < m->bump && m->live > 0);
    uint32_t c = (uint32_t)m->cls - 1;
    int was_full = m->live == classes[c].slots;
    uint16_t next = m->free_head;
    memcpy(slot_addr(pg, idx), &next, sizeof(next));
    m->free_head = (uint16_t)idx;
    m->live--;
    classes[c].live--;
    live_bytes -= classes[c].size;
    live_count--;
    if (m->live == 0) {
        if (!was_full && !m->evac) partial_unlink(c, pg);
        pages_in_use--;
        pool_enter();
        page_put(pg);
        pool_leave();
    } else if (was_full && !m->evac) {
        partial_push(c, pg);
    }
}

static uint32_t keep_min = KEEP_FREE_PAGES, keep_div = 16;

void arena_set_pool_reserve(uint32_t min_pages, uint32_t divisor) {
    keep_min = min_pages;
    keep_div = divisor ? divisor : 1;
}

void arena_release_free_pages(void) {
    uint32_t keep = (uint32_t)(pages_in_use / keep_div);
    if (keep < keep_min) keep = keep_min;
    /* The bottom of the stack holds the pages emptied longest ago: release those first, 32 per call
     * (~0.2 ms; 320 pages, 40 MB, a second at hz 10). */
    uint32_t budget = 32;
    pool_enter();
    while (nreleased + keep < nfree_pages && budget--) {
        madvise(arena_base + ((size_t)free_pages[nreleased] << ARENA_PAGE_SHIFT), ARENA_PAGE_SIZE, MADV_DONTNEED);
        nreleased++;
    }
    pool_leave();
}

/* ---- private contexts ---- */

arena_ctx *arena_ctx_new(void) {
    arena_ctx *x = s_calloc(sizeof(*x));
    for (uint32_t c = 0; c < MAX_CLASSES; c++) x->cur[c] = NO_PAGE;
    nctx++;
    return x;
}

void arena_ctx_enter(arena_ctx *x) { tls_ctx = x; }
void arena_ctx_leave(void) { tls_ctx = NULL; }

static handle_t ctx_alloc(arena_ctx *x, size_t size) {
    uint32_t c = class_of_size[size < 8 ? 8 : size];
    uint32_t pg = x->cur[c];
    if (pg == NO_PAGE || (pages[pg].free_head == NO_SLOT && pages[pg].bump == classes[c].slots)) {
        pthread_mutex_lock(&pool_lock);
        int was = bulk;
        bulk = 1; /* a private page is filled at once: fault its used part in with one call */
        pg = page_get(c);
        bulk = was;
        pthread_mutex_unlock(&pool_lock);
        if (pg == NO_PAGE) return 0;
        page_meta *m = &pages[pg];
        m->cls = (uint8_t)(c + 1);
        m->priv = 1;
        m->live = 0;
        m->free_head = NO_SLOT;
        m->bump = 0;
        m->next = m->prev = NO_PAGE;
        arena_slot_size[pg] = (uint16_t)classes[c].size;
        if (x->npages == x->cap) {
            x->cap = x->cap ? x->cap * 2 : 64;
            x->pages = s_realloc(x->pages, x->cap * sizeof(*x->pages));
        }
        x->pages[x->npages++] = pg;
        x->cur[c] = pg;
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
    x->live_bytes += classes[c].size;
    x->live_count++;
    return ((handle_t)pg << ARENA_SLOT_BITS) | idx;
}

/* Only the context's own allocations are freed while it is entered (a value being built replaces its
 * parts); a page it empties stays with it until adopted. */
static void ctx_free(arena_ctx *x, handle_t h) {
    uint32_t pg = (uint32_t)(h >> ARENA_SLOT_BITS), idx = (uint32_t)h & (MAX_SLOTS - 1);
    page_meta *m = &pages[pg];
    DBG_ASSERT(m->priv && m->live > 0 && idx < m->bump);
    uint32_t c = (uint32_t)m->cls - 1;
    uint16_t next = m->free_head;
    memcpy(slot_addr(pg, idx), &next, sizeof(next));
    m->free_head = (uint16_t)idx;
    m->live--;
    x->live_bytes -= classes[c].size;
    x->live_count--;
}

void arena_ctx_adopt(arena_ctx *x) {
    pthread_mutex_lock(&pool_lock);
    for (size_t i = 0; i < x->npages; i++) {
        uint32_t pg = x->pages[i];
        page_meta *m = &pages[pg];
        uint32_t c = (uint32_t)m->cls - 1;
        m->priv = 0;
        classes[c].npages++; /* (page_put takes it back for an empty one) */
        if (m->live == 0) {
            page_put(pg);
            continue;
        }
        classes[c].live += m->live;
        pages_in_use++;
        if (m->live < classes[c].slots) partial_push(c, pg);
    }
    live_bytes += x->live_bytes;
    live_count += x->live_count;
    nctx--;
    pthread_mutex_unlock(&pool_lock);
    s_free(x->pages);
    s_free(x);
}

/* The batch of pool pages being given back by another thread: out of the pool meanwhile (nothing can be
 * allocated there), back into it, as released, once `batch_done` is set. */
static uint32_t *batch;
static uint32_t nbatch, batch_cap;
static atomic_int batch_done;

static size_t release_take(uint32_t max_pages) {
    uint32_t keep = (uint32_t)(pages_in_use / keep_div);
    if (keep < keep_min) keep = keep_min;
    uint32_t n = nfree_pages > nreleased + keep ? nfree_pages - nreleased - keep : 0;
    if (n > max_pages) n = max_pages;
    if (!n) return 0;
    if (n > batch_cap) {
        batch_cap = n;
        batch = s_realloc(batch, batch_cap * sizeof(*batch));
    }
    /* The oldest pages not yet released sit right above the released ones at the bottom of the stack. */
    memcpy(batch, free_pages + nreleased, n * sizeof(*batch));
    memmove(free_pages + nreleased, free_pages + nreleased + n, (nfree_pages - nreleased - n) * sizeof(*free_pages));
    nfree_pages -= n;
    nbatch = n;
    atomic_store_explicit(&batch_done, 0, memory_order_relaxed);
    return n;
}

size_t arena_release_prepare(uint32_t max_pages) {
    if (nbatch) return 0;
    pool_enter();
    size_t n = release_take(max_pages);
    pool_leave();
    return n;
}

void arena_release_run(void) {
    for (uint32_t i = 0; i < nbatch; i++)
        madvise(arena_base + ((size_t)batch[i] << ARENA_PAGE_SHIFT), ARENA_PAGE_SIZE, MADV_DONTNEED);
    atomic_store_explicit(&batch_done, 1, memory_order_release);
}

static void release_return(void) {
    if (nfree_pages + nbatch > free_pages_cap) {
        free_pages_cap = (nfree_pages + nbatch) * 2;
        free_pages = s_realloc(free_pages, free_pages_cap * sizeof(*free_pages));
    }
    memmove(free_pages + nreleased + nbatch, free_pages + nreleased, (nfree_pages - nreleased) * sizeof(*free_pages));
    memcpy(free_pages + nreleased, batch, nbatch * sizeof(*batch));
    nfree_pages += nbatch;
    nreleased += nbatch;
    nbatch = 0;
}

int arena_release_finish(void) {
    if (!nbatch) return 1;
    if (!atomic_load_explicit(&batch_done, memory_order_acquire)) return 0;
    pool_enter();
    release_return();
    pool_leave();
    return 1;
}

size_t arena_usable(handle_t h) { return arena_slot_size[h >> ARENA_SLOT_BITS]; }
size_t arena_live_bytes(void) { return live_bytes; }
size_t arena_live_count(void) { return live_count; }
size_t arena_pages_bytes(void) { return pages_in_use * (size_t)ARENA_PAGE_SIZE; }
size_t arena_reserved_bytes(void) { return (size_t)npages_reserved << ARENA_PAGE_SHIFT; }

/* ---- defragmentation ---- */

static int cmp_live(const void *a, const void *b) {
    uint32_t x = pages[*(const uint32_t *)a].live, y = pages[*(const uint32_t *)b].live;
    return x < y ? -1 : x > y;
}

static void evac_add(uint32_t pg) {
    if (nevac == evac_cap) {
        evac_cap = evac_cap ? evac_cap * 2 : 64;
        evac_pages = s_realloc(evac_pages, evac_cap * sizeof(*evac_pages));
    }
    evac_pages[nevac++] = pg;
}

size_t arena_defrag_plan(size_t min_pages) {
    arena_defrag_end();
    uint32_t *cand = NULL;
    size_t cap = 0;
    for (uint32_t c = 0; c < nclasses; c++) {
        size_class *k = &classes[c];
        if (!k->npages) continue;
        uint64_t need = (k->live + k->slots - 1) / k->slots;
        /* Each page emptied gives up its free slots and needs as many as it holds: the kept pages can take
         * the contents of exactly (free slots / slots per page) pages, the sparsest first. */
        size_t excess = k->npages - need;
        if (excess < min_pages) continue;
        size_t n = 0;
        for (uint32_t pg = k->partial; pg != NO_PAGE; pg = pages[pg].next) {
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                cand = s_realloc(cand, cap * sizeof(*cand));
            }
            cand[n++] = pg;
        }
        qsort(cand, n, sizeof(*cand), cmp_live);
        if (excess > n) excess = n;
        for (size_t i = 0; i < excess; i++) {
            /* A page nearly full is not worth emptying: its entries would fill another page as much. */
            if (pages[cand[i]].live > k->slots - k->slots / 8) break;
            partial_unlink(c, cand[i]);
            pages[cand[i]].evac = 1;
            evac_add(cand[i]);
        }
    }
    s_free(cand);
    return nevac;
}

void arena_defrag_end(void) {
    for (size_t i = 0; i < nevac; i++) {
        uint32_t pg = evac_pages[i];
        page_meta *m = &pages[pg];
        if (!m->evac) continue; /* emptied (and maybe reused) since */
        m->evac = 0;
        partial_push((uint32_t)m->cls - 1, pg);
    }
    nevac = 0;
}

int arena_defrag_wants(handle_t h) { return pages[h >> ARENA_SLOT_BITS].evac; }

handle_t arena_move(handle_t h) {
    uint32_t pg = (uint32_t)(h >> ARENA_SLOT_BITS);
    if (!pages[pg].evac) return h;
    size_t size = arena_slot_size[pg];
    handle_t nh = arena_alloc(size);
    if (!nh) {
        move_misses++;
        return h;
    }
    DBG_ASSERT(!pages[nh >> ARENA_SLOT_BITS].evac && arena_slot_size[nh >> ARENA_SLOT_BITS] == size);
    memcpy(arena_ptr(nh), arena_ptr(h), size);
    arena_free(h);
    moves++;
    return nh;
}

size_t arena_frag_bytes(void) {
    size_t waste = 0;
    for (uint32_t c = 0; c < nclasses; c++) {
        uint64_t need = (classes[c].live + classes[c].slots - 1) / classes[c].slots;
        waste += (size_t)(classes[c].npages - need) * ARENA_PAGE_SIZE;
    }
    return waste;
}

void arena_defrag_stats(uint64_t *hits, uint64_t *misses) {
    *hits = moves;
    *misses = move_misses;
}

/* ---- debug checks ---- */

#define FAIL(msg)                  \
    do {                           \
        dbg_check_why = (msg);     \
        ok = 0;                    \
        goto out;                  \
    } while (0)

/* Marks the free slots of a page in `bits` (MAX_SLOTS bits); 0 if the list is malformed. */
static int free_slots(uint32_t pg, uint64_t *bits, uint32_t *nfree) {
    const page_meta *m = &pages[pg];
    memset(bits, 0, MAX_SLOTS / 8);
    uint32_t n = 0;
    for (uint32_t s = m->free_head; s != NO_SLOT;) {
        if (s >= m->bump || n >= m->bump || (bits[s >> 6] >> (s & 63) & 1)) return 0;
        bits[s >> 6] |= (uint64_t)1 << (s & 63);
        n++;
        uint16_t next;
        memcpy(&next, slot_addr(pg, s), sizeof(next));
        s = next;
    }
    *nfree = n;
    return 1;
}

int arena_check(void) {
    int ok = 1;
    if (!arena_base || nctx) return 1; /* a worker owns pages: their metadata is its own until adopted */
    uint64_t slots[MAX_SLOTS / 64];
    uint8_t *pooled = s_calloc(npages_touched / 8 + 1);
    uint32_t *npartial = s_calloc(sizeof(uint32_t) * nclasses), *cpages = s_calloc(sizeof(uint32_t) * nclasses);
    uint64_t *clive = s_calloc(sizeof(uint64_t) * nclasses);
    size_t lbytes = 0, lcount = 0, inuse = 0, usable_touched = 0;
    if (npages_touched > npages_reserved || nreleased > nfree_pages) FAIL("arena: page counters out of range");
    for (uint32_t i = 0; i < nfree_pages + nbatch; i++) {
        uint32_t pg = i < nfree_pages ? free_pages[i] : batch[i - nfree_pages];
        if (pg == 0 || pg >= npages_touched || SKIPPED(pg)) FAIL("arena: free pool holds an invalid page");
        if (pages[pg].cls != 0) FAIL("arena: a pooled page is assigned to a class");
        if (pooled[pg >> 3] >> (pg & 7) & 1) FAIL("arena: a page is in the free pool twice");
        pooled[pg >> 3] |= (uint8_t)(1u << (pg & 7));
    }
    for (uint32_t pg = 1; pg < npages_touched; pg++) {
        if (SKIPPED(pg)) continue;
        usable_touched++;
        const page_meta *m = &pages[pg];
        if (m->cls == 0) {
            if (!(pooled[pg >> 3] >> (pg & 7) & 1)) FAIL("arena: an unassigned page is not in the free pool");
            continue;
        }
        uint32_t c = (uint32_t)m->cls - 1, nfree;
        if (c >= nclasses) FAIL("arena: page class out of range");
        if (arena_slot_size[pg] != classes[c].size) FAIL("arena: slot size does not match the page's class");
        if (m->live == 0 || m->live > m->bump || m->bump > classes[c].slots) FAIL("arena: page slot counters");
        if (!free_slots(pg, slots, &nfree)) FAIL("arena: malformed free list");
        if (nfree != (uint32_t)(m->bump - m->live)) FAIL("arena: free list length != bump - live");
        if (m->evac) {
            if (m->live == classes[c].slots) FAIL("arena: a full page is marked for evacuation");
        } else if (m->live < classes[c].slots) {
            npartial[c]++;
        }
        cpages[c]++;
        clive[c] += m->live;
        lbytes += (size_t)m->live * classes[c].size;
        lcount += m->live;
        inuse++;
    }
    for (uint32_t c = 0; c < nclasses; c++) {
        uint32_t n = 0, prev = NO_PAGE;
        for (uint32_t pg = classes[c].partial; pg != NO_PAGE; pg = pages[pg].next) {
            if (pg >= npages_touched || ++n > npartial[c]) FAIL("arena: partial list too long or invalid");
            if (pages[pg].cls != c + 1) FAIL("arena: a partial list holds another class's page");
            if (pages[pg].evac) FAIL("arena: a page being evacuated is on a partial list");
            if (pages[pg].prev != prev) FAIL("arena: partial list back link");
            prev = pg;
        }
        if (n != npartial[c]) FAIL("arena: a page with room is missing from its partial list");
        if (cpages[c] != classes[c].npages || clive[c] != classes[c].live) FAIL("arena: class counters");
    }
    if (lbytes != live_bytes || lcount != live_count) FAIL("arena: live counters do not match the pages");
    if (inuse != pages_in_use) FAIL("arena: pages_in_use does not match the pages");
    if (inuse + nfree_pages + nbatch != usable_touched) FAIL("arena: touched pages are neither in use nor pooled");
    size_t usable = npages_reserved - ((npages_reserved + SKIP_MASK) >> (32 - ARENA_SLOT_BITS));
    if (arena_pages_left != usable - inuse) FAIL("arena: pages_left does not match");
out:
    s_free(pooled);
    s_free(npartial);
    s_free(cpages);
    s_free(clive);
    return ok;
}

static int cmp_handle(const void *a, const void *b) {
    handle_t x = *(const handle_t *)a, y = *(const handle_t *)b;
    return x < y ? -1 : x > y;
}

int arena_check_handles(handle_t *hs, size_t n) {
    int ok = 1;
    if (nctx) return 1;
    uint64_t slots[MAX_SLOTS / 64];
    uint32_t cur = NO_PAGE, nfree;
    qsort(hs, n, sizeof(*hs), cmp_handle);
    for (size_t i = 0; i < n; i++) {
        handle_t h = hs[i];
        if (i && hs[i - 1] == h) FAIL("arena: a handle is referenced twice");
        uint64_t pg64 = h >> ARENA_SLOT_BITS;
        uint32_t idx = (uint32_t)h & (MAX_SLOTS - 1);
        if (h == 0 || pg64 >= npages_touched) FAIL("arena: handle outside the pages in use");
        uint32_t pg = (uint32_t)pg64;
        if (pages[pg].cls == 0 || idx >= pages[pg].bump) FAIL("arena: handle to a slot never allocated");
        if (pg != cur) {
            if (!free_slots(pg, slots, &nfree)) FAIL("arena: malformed free list");
            cur = pg;
        }
        if (slots[idx >> 6] >> (idx & 63) & 1) FAIL("arena: handle to a freed slot");
    }
out:
    return ok;
}
