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
size_t s_heap_used(void);      /* bytes the server holds on the heap now */
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
/* Writes the allocator's statistics text into a heap string (free with s_free). */
char *s_allocator_stats_text(void);
size_t s_process_rss(void);   /* VmRSS in bytes, from /proc/self/statm */
#endif
