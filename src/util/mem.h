/* mem: the heap allocator wrapper.
 *
 * Every heap allocation of the server goes through these functions so that the
 * server knows, at any time and for free, how many heap bytes it holds (the
 * allocator's usable size of each block, as jemalloc reports it).  The counter
 * is atomic because background threads free big values.  Release builds link
 * jemalloc; sanitizer builds (SARDINE_NO_JEMALLOC) use the libc allocator so
 * that ASan sees every block.  Out of memory is fatal: we log and abort, as
 * Redis does, rather than continue with a half-applied command. */
#ifndef SARDINE_MEM_H
#define SARDINE_MEM_H
#include <stddef.h>

void *s_malloc(size_t size);
void *s_calloc(size_t size);
void *s_aligned(size_t align, size_t size); /* zeroed, freed with s_free */
void *s_realloc(void *ptr, size_t size);
void s_free(void *ptr);
char *s_strdup(const char *s);
void *s_memdup(const void *p, size_t len);
size_t s_usable(void *ptr);
/* Big buffers mapped straight from the kernel, counted in s_heap_used like heap blocks: a resize
 * moves the pages (mremap) instead of copying the bytes, so a buffer grown step by step to tens of
 * megabytes costs neither copies nor a second round of page faults.  ptr NULL maps, size 0 unmaps;
 * `old` is the size the block was mapped with; sizes are rounded up to whole pages (s_map_size). */
void *s_map_resize(void *ptr, size_t old, size_t size);
size_t s_map_size(size_t size);
/* Faults in [p, p+len) at once (fewer, batched page faults than touching them one by one); a
 * no-op where the kernel cannot. */
void s_map_populate(void *p, size_t len);
/* Transparent huge pages (2 MiB), only for memory about to be filled whole: on a VM a 4 KiB page
 * fault costs ~10 us, more than zeroing the page, and one 2 MiB fault replaces 512 of them.
 * s_map_hugepages lets the kernel back a mapping with huge pages as it is touched (a big buffer that
 * lives only while it is filled and read).  s_map_huge maps `size` zeroed bytes at a 2 MiB boundary,
 * faulted in at once with huge pages, and then marked MADV_NOHUGEPAGE, so that the kernel's
 * khugepaged never fills a range given back later: s_map_discard gives pages back (they read as
 * zeroes if touched again) and stops counting them; s_map_unmap unmaps the whole, counting off the
 * `counted` bytes not discarded.  All are counted in s_heap_used; no-ops where the kernel cannot. */
void s_map_hugepages(void *p, size_t len);
void s_map_populate_huge(void *p, size_t len);
void *s_map_huge(size_t size);
void s_map_discard(void *p, size_t len);
void s_map_unmap(void *p, size_t size, size_t counted);
size_t s_heap_used(void);      /* bytes the server holds on the heap now */
/* Active defragmentation of a heap block (mem/defrag.h): when the allocator's slab holding p is less
 * used than its size class's average (and is not the slab being filled), moves the block to a new
 * allocation made past the thread cache, so it lands in the fullest slabs, frees p and returns the new
 * block; else NULL, and p stays.  The caller replaces every reference to p.  Always NULL without
 * jemalloc (the sanitizer builds), unless s_defrag_always is on. */
void *s_defrag(void *p);
/* Tests (DEBUG DEFRAG-ALWAYS): while on, s_defrag moves every block it is given, whatever the allocator
 * says, so that every reference a mover rewrites is exercised, also under the sanitizers. */
void s_defrag_always(int on);
const char *s_allocator_name(void);
/* Starts the allocator's background purge thread (jemalloc), as Redis does by default. */
void s_allocator_init(void);
void s_allocator_stop_threads(void); /* joins that thread (clean exits under valgrind) */
/* Allocator statistics for INFO/MEMORY; zero where the allocator has none. */
typedef struct mem_stats {
    size_t allocated, active, resident, mapped, retained;
} mem_stats;
void s_allocator_stats(mem_stats *st);
void s_allocator_purge(void);
/* How long the allocator keeps freed pages before its background thread gives them back (jemalloc's
 * dirty_decay_ms of every arena; -1 restores its default, 10 s).  No-op without jemalloc. */
void s_allocator_set_decay(long ms);
/* Writes the allocator's statistics text into a heap string (free with s_free). */
char *s_allocator_stats_text(void);
size_t s_process_rss(void);   /* VmRSS in bytes, from /proc/self/statm */
#endif
