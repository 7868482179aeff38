/* mem: see mem.h.  The usable size (not the requested size) is what we count,
 * so that used_memory matches what the allocator really hands out. */
#include "util/mem.h"
#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifndef SARDINE_NO_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

static _Atomic size_t heap_used;
static int defrag_always; /* s_defrag_always: every block moves (tests) */

/* A block moved to a new allocation of its usable size (s_defrag's move). */
static void *move_block(void *p) {
    size_t n = malloc_usable_size(p);
    void *np = s_malloc(n);
    memcpy(np, p, n);
    s_free(p);
    return np;
}

void s_defrag_always(int on) { defrag_always = on; }

static void oom(size_t size) {
    fprintf(stderr, "sardine: out of memory allocating %zu bytes\n", size);
    abort();
}

void *s_malloc(size_t size) {
    void *p = malloc(size ? size : 1);
    if (!p) oom(size);
    atomic_fetch_add_explicit(&heap_used, malloc_usable_size(p), memory_order_relaxed);
    return p;
}

void *s_calloc(size_t size) {
    void *p = calloc(1, size ? size : 1);
    if (!p) oom(size);
    atomic_fetch_add_explicit(&heap_used, malloc_usable_size(p), memory_order_relaxed);
    return p;
}

void *s_aligned(size_t align, size_t size) {
    void *p = NULL;
    if (posix_memalign(&p, align, size ? size : 1) != 0 || !p) oom(size);
    if (size >= ((size_t)1 << 20)) s_map_populate(p, size); /* big tables: one call, not a trap per page */
    memset(p, 0, size);
    atomic_fetch_add_explicit(&heap_used, malloc_usable_size(p), memory_order_relaxed);
    return p;
}

void *s_realloc(void *ptr, size_t size) {
    if (!ptr) return s_malloc(size);
    size_t old = malloc_usable_size(ptr);
    void *p = realloc(ptr, size ? size : 1);
    if (!p) oom(size);
    size_t now = malloc_usable_size(p);
    if (now >= old)
        atomic_fetch_add_explicit(&heap_used, now - old, memory_order_relaxed);
    else
        atomic_fetch_sub_explicit(&heap_used, old - now, memory_order_relaxed);
    return p;
}

void s_free(void *ptr) {
    if (!ptr) return;
    atomic_fetch_sub_explicit(&heap_used, malloc_usable_size(ptr), memory_order_relaxed);
    free(ptr);
}

char *s_strdup(const char *s) { return s_memdup(s, strlen(s) + 1); }

void *s_memdup(const void *src, size_t len) {
    void *p = s_malloc(len);
    memcpy(p, src, len);
    return p;
}

size_t s_map_size(size_t size) {
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    return (size + pg - 1) / pg * pg;
}

void *s_map_resize(void *ptr, size_t old, size_t size) {
    old = ptr ? s_map_size(old) : 0;
    size = s_map_size(size);
    void *p = NULL;
    if (!size) {
        if (ptr) munmap(ptr, old);
    } else if (!ptr) {
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) oom(size);
    } else {
        p = mremap(ptr, old, size, MREMAP_MAYMOVE);
        if (p == MAP_FAILED) oom(size);
    }
    if (size >= old)
        atomic_fetch_add_explicit(&heap_used, size - old, memory_order_relaxed);
    else
        atomic_fetch_sub_explicit(&heap_used, old - size, memory_order_relaxed);
    return p;
}

void s_map_populate(void *p, size_t len) {
#ifdef MADV_POPULATE_WRITE
    size_t pg = (size_t)sysconf(_SC_PAGESIZE), start = (size_t)p / pg * pg;
    madvise((void *)start, (size_t)p + len - start, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)len;
#endif
}

void s_map_hugepages(void *p, size_t len) {
#ifdef MADV_HUGEPAGE
    madvise(p, len, MADV_HUGEPAGE);
#else
    (void)p;
    (void)len;
#endif
}

void s_map_populate_huge(void *p, size_t len) {
#ifdef MADV_HUGEPAGE
    madvise(p, len, MADV_HUGEPAGE);
    s_map_populate(p, len);
    madvise(p, len, MADV_NOHUGEPAGE);
#else
    s_map_populate(p, len);
#endif
}

#define HUGE_PAGE ((size_t)2 << 20)

void *s_map_huge(size_t size) {
    size = s_map_size(size);
    uint8_t *m = mmap(NULL, size + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) oom(size);
    uint8_t *p = (uint8_t *)(((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (p > m) munmap(m, (size_t)(p - m));
    if (m + HUGE_PAGE > p) munmap(p + size, (size_t)(m + HUGE_PAGE - p));
    s_map_populate_huge(p, size);
    atomic_fetch_add_explicit(&heap_used, size, memory_order_relaxed);
    return p;
}

void s_map_discard(void *p, size_t len) {
    madvise(p, len, MADV_DONTNEED);
    atomic_fetch_sub_explicit(&heap_used, len, memory_order_relaxed);
}

void s_map_unmap(void *p, size_t size, size_t counted) {
    munmap(p, s_map_size(size));
    atomic_fetch_sub_explicit(&heap_used, counted, memory_order_relaxed);
}

size_t s_usable(void *ptr) { return ptr ? malloc_usable_size(ptr) : 0; }
size_t s_heap_used(void) { return atomic_load_explicit(&heap_used, memory_order_relaxed); }

#ifndef SARDINE_NO_JEMALLOC
void s_allocator_init(void) {
    _Bool on = 1;
    mallctl("background_thread", NULL, NULL, &on, sizeof(on));
}

void s_allocator_stop_threads(void) {
    _Bool off = 0;
    mallctl("background_thread", NULL, NULL, &off, sizeof(off));
}

const char *s_allocator_name(void) {
    static char name[64];
    const char *v = NULL;
    size_t sz = sizeof(v);
    if (!name[0]) {
        if (mallctl("version", &v, &sz, NULL, 0) == 0 && v)
            snprintf(name, sizeof(name), "jemalloc-%.*s", (int)strcspn(v, "-"), v);
        else
            snprintf(name, sizeof(name), "jemalloc");
    }
    return name;
}

/* jemalloc's experimental.utilization.query answers, for a block, its slab's free and total regions,
 * the same for all the slabs of its bin, and the slab allocations are being made from. */
typedef struct util_stats {
    void *slabcur;
    size_t nfree, nregs, size, bin_nfree, bin_nregs;
} util_stats;

void *s_defrag(void *p) {
    static size_t mib[3], miblen;
    if (!miblen) {
        miblen = 3;
        if (mallctlnametomib("experimental.utilization.query", mib, &miblen) != 0) miblen = (size_t)-1;
    }
    if (defrag_always) return move_block(p);
    if (miblen == (size_t)-1) return NULL;
    util_stats u;
    size_t sz = sizeof(u);
    if (mallctlbymib(mib, miblen, &u, &sz, &p, sizeof(p)) != 0) return NULL;
    /* Large allocations (nregs 1), full slabs and the current slab stay; a slab is worth emptying when it
     * is used less than the bin's average, with a margin of 1/8 so that slabs near the average are not
     * churned back and forth. */
    if (u.nregs <= 1 || u.nfree == 0 || u.bin_nregs == 0) return NULL;
    if ((const char *)p >= (const char *)u.slabcur && (const char *)p < (const char *)u.slabcur + u.size) return NULL;
    unsigned long long slab_used = (unsigned long long)(u.nregs - u.nfree) * u.bin_nregs;
    unsigned long long avg_used = (unsigned long long)(u.bin_nregs - u.bin_nfree) * u.nregs;
    if (slab_used * 8 >= avg_used * 7) return NULL;
    size_t n = malloc_usable_size(p);
    void *np = mallocx(n, MALLOCX_TCACHE_NONE);
    if (!np) return NULL;
    memcpy(np, p, n);
    dallocx(p, MALLOCX_TCACHE_NONE);
    size_t got = malloc_usable_size(np);
    if (got >= n) atomic_fetch_add_explicit(&heap_used, got - n, memory_order_relaxed);
    else atomic_fetch_sub_explicit(&heap_used, n - got, memory_order_relaxed);
    return np;
}

static size_t stat_of(const char *name) {
    size_t v = 0, sz = sizeof(v);
    if (mallctl(name, &v, &sz, NULL, 0) != 0) return 0;
    return v;
}

void s_allocator_stats(mem_stats *st) {
    uint64_t epoch = 1;
    size_t sz = sizeof(epoch);
    mallctl("epoch", &epoch, &sz, &epoch, sz);
    st->allocated = stat_of("stats.allocated");
    st->active = stat_of("stats.active");
    st->resident = stat_of("stats.resident");
    st->mapped = stat_of("stats.mapped");
    st->retained = stat_of("stats.retained");
}

void s_allocator_purge(void) {
    char cmd[64];
    unsigned narenas = 0;
    size_t sz = sizeof(narenas);
    if (mallctl("arenas.narenas", &narenas, &sz, NULL, 0) != 0) return;
    snprintf(cmd, sizeof(cmd), "arena.%u.purge", narenas); /* MALLCTL_ARENAS_ALL */
    mallctl(cmd, NULL, NULL, NULL, 0);
}

void s_allocator_set_decay(long ms) {
    ssize_t v = ms < 0 ? 10000 : (ssize_t)ms;
    char cmd[64];
    unsigned narenas = 0;
    size_t sz = sizeof(narenas);
    mallctl("arenas.dirty_decay_ms", NULL, NULL, &v, sizeof(v)); /* arenas made from now on */
    if (mallctl("arenas.narenas", &narenas, &sz, NULL, 0) != 0) return;
    for (unsigned i = 0; i < narenas; i++) {
        snprintf(cmd, sizeof(cmd), "arena.%u.dirty_decay_ms", i);
        mallctl(cmd, NULL, NULL, &v, sizeof(v)); /* fails harmlessly for arenas not initialized */
    }
}

struct text_acc { char *buf; size_t len, cap; };
static void write_cb(void *opaque, const char *s) {
    struct text_acc *t = opaque;
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->buf = s_realloc(t->buf, t->cap);
    }
    memcpy(t->buf + t->len, s, n + 1);
    t->len += n;
}

char *s_allocator_stats_text(void) {
    struct text_acc t = {s_malloc(4096), 0, 4096};
    t.buf[0] = 0;
    malloc_stats_print(write_cb, &t, NULL);
    return t.buf;
}
#else
const char *s_allocator_name(void) { return "libc"; }
void s_allocator_init(void) {}
void s_allocator_stop_threads(void) {}
void s_allocator_stats(mem_stats *st) {
    memset(st, 0, sizeof(*st));
    st->allocated = st->active = s_heap_used();
    st->resident = st->mapped = s_process_rss();
}
void s_allocator_purge(void) { malloc_trim(0); }
void s_allocator_set_decay(long ms) { (void)ms; }
void *s_defrag(void *p) { return defrag_always ? move_block(p) : NULL; }
char *s_allocator_stats_text(void) { return s_strdup("Stats not supported for the current allocator\n"); }
#endif

size_t s_process_rss(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (!f) return 0;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    fclose(f);
    return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE);
}
