/* table: see table.h for the design and invariants. */
#include "keyspace/table.h"
#include "keyspace/entry.h"
#include "util/mem.h"
#include "util/siphash.h"
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

_Static_assert(sizeof(kbucket) == 64, "a bucket is one cache line");
_Static_assert(offsetof(kbucket, lo) == 20, "the low words' SSE loads below assume this layout");

static inline void kb_set(kbucket *b, int i, handle_t h) {
    DBG_ASSERT(h >> ARENA_HANDLE_BITS == 0 && (h == 0 || (uint32_t)h != 0));
    b->lo[i] = (uint32_t)h;
    int sh = (i & 1) << 2;
    b->hi[i >> 1] = (uint8_t)((b->hi[i >> 1] & ~(15 << sh)) | (int)((h >> 32) & 15) << sh);
}

uint64_t kt_hash(const char *key, size_t len) { return siphash(key, len); }

static inline uint64_t entry_hash(handle_t h) {
    size_t len;
    keybuf k_kb;
    const char *k = e_keyb(arena_ptr(h), &k_kb, &len);
    return siphash(k, len);
}

static inline uint32_t match_tags(const kbucket *b, uint8_t tag) {
#ifdef __SSE2__
    __m128i t = _mm_loadu_si128((const __m128i *)(const void *)b->tag);
    return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(t, _mm_set1_epi8((char)tag))) & BUCKET_MASK;
#else
    uint32_t m = 0;
    for (int i = 0; i < BUCKET_SLOTS; i++) m |= (uint32_t)(b->tag[i] == tag) << i;
    return m;
#endif
}

static inline uint32_t used_mask(const kbucket *b) {
#ifdef __SSE2__
    /* lo[] sits at bytes 20-63: words 0-3 unaligned, words 3-6 and 7-10 on 16-byte boundaries. */
    __m128i z = _mm_setzero_si128();
    uint32_t m0 = (uint32_t)_mm_movemask_ps(
        _mm_castsi128_ps(_mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(const void *)&b->lo[0]), z)));
    uint32_t m1 = (uint32_t)_mm_movemask_ps(
        _mm_castsi128_ps(_mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(const void *)&b->lo[3]), z)));
    uint32_t m2 = (uint32_t)_mm_movemask_ps(
        _mm_castsi128_ps(_mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(const void *)&b->lo[7]), z)));
    return ~(m0 | m1 << 3 | m2 << 7) & BUCKET_MASK;
#else
    uint32_t m = 0;
    for (int i = 0; i < BUCKET_SLOTS; i++) m |= (uint32_t)(b->lo[i] != 0) << i;
    return m;
#endif
}

static inline kseg *seg_of(const ktable *t, uint64_t hash) {
    return t->dir[t->gdepth ? hash >> (64 - t->gdepth) : 0];
}

/* The 32 hash bits after the segment's prefix. */
static inline uint32_t seg_bits(const kseg *s, uint64_t hash) { return (uint32_t)((hash << s->depth) >> 32); }
static inline uint32_t home_bucket(const kseg *s, uint64_t hash) {
    return (uint32_t)(((uint64_t)seg_bits(s, hash) * s->nb) >> 32);
}
static inline uint64_t seg_start(const kseg *s) { return s->depth ? (uint64_t)s->prefix << (64 - s->depth) : 0; }
/* First position after bucket b (0 when that is past the end of hash space). */
static inline uint64_t bucket_end(const kseg *s, uint32_t b) {
    uint64_t x_end = (((uint64_t)(b + 1) << 32) + s->nb - 1) / s->nb; /* <= 2^32 */
    if (s->depth == 0) return x_end >= ((uint64_t)1 << 32) ? 0 : x_end << 32;
    return seg_start(s) + (x_end << (32 - s->depth));
}
static inline uint32_t max_count(uint32_t nb) { return nb * BUCKET_SLOTS - nb * BUCKET_SLOTS / 16; }

/* A zeroed bucket array of at least *nb buckets; *nb becomes every bucket the allocator's size class
 * holds (jemalloc rounds large sizes up by as much as 25%: the table uses that room instead of wasting it). */
static kbucket *buckets_new(uint32_t *nb) {
    kbucket *b = s_aligned(64, (size_t)*nb * sizeof(kbucket));
    size_t got = s_usable(b) / sizeof(kbucket);
    if (got > *nb) {
        memset(&b[*nb], 0, (got - *nb) * sizeof(kbucket));
        *nb = (uint32_t)got;
    }
    return b;
}

/* kt_reserve's block: the bucket arrays of all the segments it makes, in one mapping faulted in with
 * huge pages (util/mem.h s_map_huge), each array whole 4 KiB pages.  A segment that grows, splits or
 * shrinks later gets a heap array.  The block's memory is given back by whole 2 MiB chunks, each when
 * the last segment overlapping it has left: giving back part of a huge page would only unmap it, the
 * kernel freeing it later under memory pressure.  So the table counts the block's committed chunks
 * (`counted`), not its segments' arrays, and the mapping goes with its last segment. */
#define CHUNK ((size_t)2 << 20)
typedef struct kblock {
    char *base;
    size_t size, counted;  /* mapped; still committed */
    uint32_t live;         /* segments whose arrays are in it */
    uint32_t nchunks;
    uint32_t chunk_live[]; /* per CHUNK of the mapping: segments whose arrays overlap it */
} kblock;

/* Block memory for a reserve of at least this much: smaller ones stay on the heap. */
#define BLOCK_MIN ((size_t)4 << 20)

/* Bytes of chunk c (the last one may be shorter). */
static inline size_t chunk_len(const kblock *k, size_t c) {
    return k->size - c * CHUNK < CHUNK ? k->size - c * CHUNK : CHUNK;
}
static inline size_t first_chunk(const kblock *k, const kseg *s) { return (size_t)((char *)s->b - k->base) / CHUNK; }
static inline size_t last_chunk(const kblock *k, const kseg *s) {
    return (size_t)((char *)(s->b + s->nb) - 1 - k->base) / CHUNK;
}

/* Frees s's bucket array (a heap block, or its share of the table's block). */
static void buckets_free(ktable *t, kseg *s) {
    kblock *k = s->blk;
    if (!k) {
        t->bytes -= s_usable(s->b);
        s_free(s->b);
    } else if (--k->live == 0) {
        t->bytes -= k->counted + s_usable(k);
        s_map_unmap(k->base, k->size, k->counted);
        s_free(k);
    } else {
        for (size_t c = first_chunk(k, s); c <= last_chunk(k, s); c++) {
            if (--k->chunk_live[c]) continue;
            size_t len = chunk_len(k, c);
            s_map_discard(k->base + c * CHUNK, len);
            k->counted -= len;
            t->bytes -= len;
        }
    }
    s->b = NULL;
    s->blk = NULL;
}

/* Gives s a new zeroed array of about nb buckets on the heap, freeing the old one. */
static void buckets_replace(ktable *t, kseg *s, uint32_t nb) {
    buckets_free(t, s);
    s->b = buckets_new(&nb);
    s->nb = nb;
    t->bytes += s_usable(s->b);
}

/* A segment over the bucket array b (its memory counted by the caller). */
static kseg *seg_over(ktable *t, kbucket *b, uint32_t nb, uint8_t depth, uint32_t prefix) {
    kseg *s = s_calloc(sizeof(*s));
    s->b = b;
    s->nb = nb;
    s->depth = depth;
    s->prefix = prefix;
    t->bytes += s_usable(s);
    t->nsegs++;
    return s;
}

static kseg *seg_new(ktable *t, uint32_t nb, uint8_t depth, uint32_t prefix) {
    kbucket *b = buckets_new(&nb);
    t->bytes += s_usable(b);
    return seg_over(t, b, nb, depth, prefix);
}

static void seg_free(ktable *t, kseg *s) {
    buckets_free(t, s);
    t->bytes -= s_usable(s);
    t->nsegs--;
    s_free(s);
}

/* Puts a handle in the first free slot from its home bucket; returns how many full buckets it passed.
 * The caller guarantees a free slot. */
static uint32_t seg_place(kseg *s, uint64_t hash, handle_t h, int ttl) {
    uint32_t b = home_bucket(s, hash);
    for (uint32_t n = 0;; n++) {
        if (n == s->nb) {
            fprintf(stderr, "sardine: table segment overfull (%u keys in %u buckets)\n", s->count, s->nb);
            abort();
        }
        kbucket *bk = &s->b[b];
        uint32_t free = ~used_mask(bk) & BUCKET_MASK;
        if (free) {
            int j = __builtin_ctz(free);
            kb_set(bk, j, h);
            bk->tag[j] = (uint8_t)hash;
            if (ttl) {
                bk->ttlmask |= (uint16_t)(1u << j);
                s->nttl++;
            }
            s->count++;
            return n;
        }
        if (bk->overflow != 255) bk->overflow++;
        if (++b == s->nb) b = 0;
    }
}

typedef struct moving {
    uint64_t hash;
    handle_t h;
    uint32_t ttl;
} moving;

/* Every key of a segment with its hash (read once, with the next bucket's entries prefetched). */
static moving *seg_collect(const kseg *src) {
    moving *v = s_malloc(sizeof(moving) * (src->count ? src->count : 1));
    uint32_t n = 0;
    for (uint32_t b = 0; b < src->nb; b++) {
        const kbucket *bk = &src->b[b];
        if (b + 1 < src->nb) {
            const kbucket *nx = &src->b[b + 1];
            for (int j = 0; j < BUCKET_SLOTS; j++)
                if (nx->lo[j]) __builtin_prefetch(arena_ptr(kb_get(nx, j)));
        }
        uint32_t m = used_mask(bk);
        while (m) {
            int j = __builtin_ctz(m);
            m &= m - 1;
            v[n].h = kb_get(bk, j);
            v[n].hash = entry_hash(v[n].h);
            v[n].ttl = (bk->ttlmask >> j) & 1;
            n++;
        }
    }
    return v;
}

static void dir_double(ktable *t) {
    size_t n = (size_t)1 << t->gdepth;
    kseg **nd = s_malloc(2 * n * sizeof(*nd));
    for (size_t i = 0; i < 2 * n; i++) nd[i] = t->dir[i >> 1];
    t->bytes -= s_usable(t->dir);
    s_free(t->dir);
    t->dir = nd;
    t->bytes += s_usable(nd);
    t->gdepth++;
}

static void dir_point(ktable *t, kseg *s) {
    size_t span = (size_t)1 << (t->gdepth - s->depth), first = (size_t)s->prefix * span;
    for (size_t i = 0; i < span; i++) t->dir[first + i] = s;
}

/* Keys that fill nb buckets to 75% (what the halves of an uneven split are sized for). */
static inline uint32_t fill75(uint32_t nb) { return nb * BUCKET_SLOTS * 3 / 4; }
/* Buckets for n keys at that fill. */
static uint32_t buckets_for(uint32_t n) {
    uint32_t nb = (uint32_t)(((uint64_t)n * 4 + BUCKET_SLOTS * 3 - 1) / (BUCKET_SLOTS * 3));
    return nb ? nb : 1;
}

/* Grows a segment 1.15x, or splits it in two when it is at its maximum size or `split` asks for it
 * (keys crowding one part of the segment: see kt_insert). */
static void seg_grow(ktable *t, kseg *s, int split) {
    uint32_t nb = s->nb + s->nb * 3 / 20;
    if (nb == s->nb) nb++;
    moving *v = seg_collect(s);
    uint32_t n = s->count;
    if ((nb <= SEG_MAX_BUCKETS && !split) || s->depth >= 32) {
        buckets_replace(t, s, nb);
        s->count = s->nttl = 0;
        for (uint32_t i = 0; i < n; i++) seg_place(s, v[i].hash, v[i].h, (int)v[i].ttl);
        s_free(v);
        return;
    }
    /* Split on the next hash bit.  The halves are sized by what each really receives: keys inserted in
     * hash order (a copy made by scanning, a restore) may all fall in one half. */
    int bit = 63 - s->depth;
    uint32_t nhi = 0;
    for (uint32_t i = 0; i < n; i++) nhi += (uint32_t)((v[i].hash >> bit) & 1);
    uint32_t nlo = n - nhi, half = (nb + 1) / 2;
    if (s->depth == t->gdepth) dir_double(t);
    kseg *lo = seg_new(t, nlo > fill75(half) ? buckets_for(nlo) : half, (uint8_t)(s->depth + 1), s->prefix << 1);
    kseg *hi = seg_new(t, nhi > fill75(half) ? buckets_for(nhi) : half, (uint8_t)(s->depth + 1), (s->prefix << 1) | 1);
    for (uint32_t i = 0; i < n; i++) seg_place(((v[i].hash >> bit) & 1) ? hi : lo, v[i].hash, v[i].h, (int)v[i].ttl);
    s_free(v);
    dir_point(t, lo);
    dir_point(t, hi);
    seg_free(t, s);
}

void kt_init(ktable *t) { memset(t, 0, sizeof(*t)); }

void kt_destroy(ktable *t, kt_visit_fn *free_entry, void *ud) {
    while (t->dir && !kt_drain(t, (size_t)-1, free_entry, ud)) {
    }
    kt_init(t);
}

int kt_drain(ktable *t, size_t max, kt_visit_fn *free_entry, void *ud) {
    if (!t->dir) return 1;
    size_t n = (size_t)1 << t->gdepth, done = 0;
    for (size_t i = 0; i < n && done < max;) {
        kseg *s = t->dir[i];
        size_t span = s ? (size_t)1 << (t->gdepth - s->depth) : 1;
        if (s) {
            for (uint32_t b = 0; b < s->nb; b++) {
                uint32_t m = used_mask(&s->b[b]);
                while (m) {
                    int j = __builtin_ctz(m);
                    m &= m - 1;
                    if (free_entry) free_entry(ud, kb_get(&s->b[b], j));
                    done++;
                }
            }
            t->count -= s->count;
            t->nttl -= s->nttl;
            for (size_t k = 0; k < span; k++) t->dir[i + k] = NULL;
            seg_free(t, s);
        }
        i += span;
    }
    for (size_t i = 0; i < n; i++)
        if (t->dir[i]) return 0;
    t->bytes -= s_usable(t->dir);
    s_free(t->dir);
    t->dir = NULL;
    t->gdepth = 0;
    return 1;
}

handle_t kt_find(const ktable *t, const char *key, size_t klen, uint64_t hash, kslot *where) {
    if (!t->dir) return 0;
    kseg *s = seg_of(t, hash);
    uint32_t b = home_bucket(s, hash);
    uint8_t tag = (uint8_t)hash;
    for (uint32_t n = 0; n < s->nb; n++) {
        kbucket *bk = &s->b[b];
        uint32_t m = match_tags(bk, tag);
        while (m) {
            int j = __builtin_ctz(m);
            m &= m - 1;
            if (!bk->lo[j]) continue;
            handle_t h = kb_get(bk, j);
            if (e_key_eq(arena_ptr(h), key, klen)) {
                if (where) {
                    where->seg = s;
                    where->bi = b;
                    where->si = (uint32_t)j;
                }
                return h;
            }
        }
        if (!bk->overflow) return 0;
        if (++b == s->nb) b = 0;
    }
    return 0;
}

void kt_prefetch(const ktable *t, uint64_t hash) {
    if (!t->dir) return;
    const kseg *s = seg_of(t, hash);
    __builtin_prefetch(&s->b[home_bucket(s, hash)]);
}

void kt_reserve(ktable *t, size_t n) {
    if (t->dir || n < 4096) return;
    uint32_t d = 0;
    while ((n >> d) > (size_t)SEG_MAX_BUCKETS * BUCKET_SLOTS * 13 / 16 && d < 24) d++;
    size_t nseg = (size_t)1 << d, per = (n + nseg - 1) >> d;
    uint32_t nb = (uint32_t)(per * 20 / (BUCKET_SLOTS * 17) + 1); /* ~85% at n keys */
    t->dir = s_malloc(nseg * sizeof(*t->dir));
    t->bytes += s_usable(t->dir);
    t->gdepth = d;
    size_t bytes = ((size_t)nb * sizeof(kbucket) + 4095) & ~(size_t)4095; /* whole pages each */
    if (bytes * nseg < BLOCK_MIN) {
        for (size_t i = 0; i < nseg; i++) t->dir[i] = seg_new(t, nb, (uint8_t)d, (uint32_t)i);
        return;
    }
    size_t size = s_map_size(bytes * nseg), nchunks = (size + CHUNK - 1) / CHUNK;
    kblock *k = s_malloc(sizeof(*k) + nchunks * sizeof(k->chunk_live[0]));
    k->size = k->counted = size;
    k->base = s_map_huge(size);
    k->live = (uint32_t)nseg;
    k->nchunks = (uint32_t)nchunks;
    memset(k->chunk_live, 0, nchunks * sizeof(k->chunk_live[0]));
    t->bytes += k->counted + s_usable(k);
    for (size_t i = 0; i < nseg; i++) {
        kseg *s = seg_over(t, (kbucket *)(void *)(k->base + i * bytes), (uint32_t)(bytes / sizeof(kbucket)),
                           (uint8_t)d, (uint32_t)i);
        s->blk = k;
        for (size_t c = first_chunk(k, s); c <= last_chunk(k, s); c++) k->chunk_live[c]++;
        t->dir[i] = s;
    }
}

void kt_insert(ktable *t, uint64_t hash, handle_t h, int has_ttl) {
    DBG_ASSERT(h != 0);
    if (!t->dir) {
        t->dir = s_malloc(sizeof(*t->dir));
        t->bytes += s_usable(t->dir);
        t->dir[0] = NULL;
        t->dir[0] = seg_new(t, 1, 0, 0);
    }
    kseg *s = seg_of(t, hash);
    if (s->count + 1 > max_count(s->nb)) {
        seg_grow(t, s, 0);
        s = seg_of(t, hash);
    }
    uint32_t passed = seg_place(s, hash, h, has_ttl);
    t->count++;
    if (has_ttl) t->nttl++;
    /* A long probe means keys crowd one part of the segment (inserted in hash order, as a copy made by
     * scanning another table does): split so they spread over twice the buckets per hash range. */
    if (passed > 32 && s->depth < 32) seg_grow(t, s, 1);
}

void kt_replace(ktable *t, const kslot *w, handle_t h, int has_ttl) {
    kbucket *bk = &w->seg->b[w->bi];
    uint16_t bit = (uint16_t)(1u << w->si);
    int had = (bk->ttlmask & bit) != 0;
    DBG_ASSERT(h != 0 && bk->lo[w->si] != 0);
    kb_set(bk, (int)w->si, h);
    if (had && !has_ttl) {
        bk->ttlmask &= (uint16_t)~bit;
        w->seg->nttl--;
        t->nttl--;
    } else if (!had && has_ttl) {
        bk->ttlmask |= bit;
        w->seg->nttl++;
        t->nttl++;
    }
}

void kt_delete(ktable *t, const kslot *w, uint64_t hash) {
    kseg *s = w->seg;
    kbucket *bk = &s->b[w->bi];
    uint16_t bit = (uint16_t)(1u << w->si);
    DBG_ASSERT(bk->lo[w->si] != 0 && bk->tag[w->si] == (uint8_t)hash);
    kb_set(bk, (int)w->si, 0);
    bk->tag[w->si] = 0;
    if (bk->ttlmask & bit) {
        bk->ttlmask &= (uint16_t)~bit;
        s->nttl--;
        t->nttl--;
    }
    s->count--;
    t->count--;
    for (uint32_t b = home_bucket(s, hash); b != w->bi;) {
        if (s->b[b].overflow != 255) s->b[b].overflow--;
        if (++b == s->nb) b = 0;
    }
}

uint64_t kt_scan(const ktable *t, uint64_t cursor, long count, kt_visit_fn *fn, void *ud) {
    if (!t->dir || t->count == 0) return 0;
    uint64_t p = cursor;
    long emitted = 0, visited = 0, max_visits = count * 10 + 1;
    do {
        kseg *s = seg_of(t, p);
        uint32_t b = home_bucket(s, p);
        uint64_t end = bucket_end(s, b);
        for (uint32_t n = 0, j = b; n < s->nb; n++) {
            const kbucket *bk = &s->b[j];
            uint32_t m = used_mask(bk);
            /* The entries are scattered over the arena: ask for all of them before reading any, so their
             * cache misses overlap instead of following each other (a full scan runs ~5x faster). */
            for (uint32_t pm = m; pm; pm &= pm - 1) __builtin_prefetch(arena_ptr(kb_get(bk, __builtin_ctz(pm))));
            while (m) {
                int k = __builtin_ctz(m);
                m &= m - 1;
                handle_t h = kb_get(bk, k);
                uint64_t hash = entry_hash(h);
                if (hash >= p && (end == 0 || hash < end)) {
                    fn(ud, h);
                    emitted++;
                }
            }
            if (!bk->overflow) break;
            if (++j == s->nb) j = 0;
        }
        visited++;
        p = end;
    } while (p != 0 && emitted < count && visited < max_visits);
    return p;
}

int kt_walk(const ktable *t, size_t *pos, long min, kt_visit_fn *fn, void *ud) {
    if (!t->dir) return 1;
    size_t n = (size_t)1 << t->gdepth;
    long seen = 0;
    size_t i = *pos;
    DBG_ASSERT(i <= n);
    while (i < n && seen < min) {
        const kseg *s = t->dir[i];
        i += s ? (size_t)1 << (t->gdepth - s->depth) : 1; /* a segment fills a run of the directory */
        if (!s) continue;
        for (uint32_t b = 0; b < s->nb; b++) {
            if (b + 2 < s->nb)
                for (uint32_t pm = used_mask(&s->b[b + 2]); pm; pm &= pm - 1)
                    __builtin_prefetch(arena_ptr(kb_get(&s->b[b + 2], __builtin_ctz(pm))));
            for (uint32_t m = used_mask(&s->b[b]); m; m &= m - 1) {
                fn(ud, kb_get(&s->b[b], __builtin_ctz(m)));
                seen++;
            }
        }
    }
    *pos = i;
    return i >= n;
}

uint64_t kt_scan_ttl(const ktable *t, uint64_t cursor, long max_buckets, kt_visit_fn *fn, void *ud) {
    if (!t->dir || t->nttl == 0) return 0;
    uint64_t p = cursor;
    long visited = 0;
    do {
        kseg *s = seg_of(t, p);
        if (s->nttl == 0) { /* skip the whole segment */
            uint64_t next = s->depth ? seg_start(s) + ((uint64_t)1 << (64 - s->depth)) : 0;
            p = next;
            visited++;
            continue;
        }
        uint32_t b = home_bucket(s, p);
        const kbucket *bk = &s->b[b];
        uint32_t m = bk->ttlmask;
        while (m) {
            int k = __builtin_ctz(m);
            m &= m - 1;
            fn(ud, kb_get(bk, k));
        }
        visited++;
        p = bucket_end(s, b);
    } while (p != 0 && visited < max_buckets);
    return p;
}

/* A rebuild reads every key of the segment (its hash): ~0.35 us a key on a loaded VM, so only segments of
 * at most this many keys are rebuilt by the defragmentation walk, which must stay well under 2 ms a step. */
#define SHRINK_MAX_KEYS 3000

/* Rebuilds a segment whose keys were mostly deleted at about 85% full (a segment never shrinks
 * otherwise: after churn the table keeps the size of its peak). */
static int seg_shrink(ktable *t, kseg *s) {
    uint32_t nb = (uint32_t)((uint64_t)s->count * 20 / (BUCKET_SLOTS * 17) + 1), n = s->count;
    if (nb >= s->nb) return 0;
    moving *v = seg_collect(s);
    buckets_replace(t, s, nb);
    s->count = s->nttl = 0;
    for (uint32_t i = 0; i < n; i++) seg_place(s, v[i].hash, v[i].h, (int)v[i].ttl);
    s_free(v);
    return 1;
}

uint64_t kt_defrag(ktable *t, uint64_t cursor, long max_buckets, kt_move_fn *fn, void *ud) {
    if (!t->dir || t->count == 0) return 0;
    uint64_t p = cursor;
    long visited = 0;
    do {
        kseg *s = seg_of(t, p);
        uint32_t b = home_bucket(s, p);
        /* Entering a segment below 70% of the keys it may hold before growing (~66% of its slots): rebuild
         * it at ~85% first (a quarter fewer buckets or more), then walk the new buckets. */
        if (b == 0 && p == seg_start(s) && s->nb > 8 && s->count <= SHRINK_MAX_KEYS &&
            (uint64_t)s->count * 10 < (uint64_t)max_count(s->nb) * 7 &&
            seg_shrink(t, s))
            visited = max_buckets - 1; /* a rebuild is a step's work: walk one bucket, then the caller looks at the clock */
        kbucket *bk = &s->b[b]; /* (after a rebuild: b is still 0) */
        /* A bucket holds keys from its home range and keys that overflowed from earlier buckets: visit
         * only the bucket's physical slots once per pass (bucket_end advances past it). */
        uint32_t m = used_mask(bk);
        while (m) {
            int k = __builtin_ctz(m);
            m &= m - 1;
            handle_t h = kb_get(bk, k), nh = fn(ud, h);
            if (nh != h) kb_set(bk, k, nh);
        }
        visited++;
        p = bucket_end(s, b);
    } while (p != 0 && visited < max_buckets);
    return p;
}

handle_t kt_random(const ktable *t, uint64_t rnd, int ttl_only) {
    if (!t->dir || t->count == 0 || (ttl_only && t->nttl == 0)) return 0;
    uint64_t p = rnd;
    for (size_t tries = 0; tries <= t->nsegs + 1; tries++) {
        kseg *s = seg_of(t, p);
        if (s->count && (!ttl_only || s->nttl)) {
            uint32_t b = home_bucket(s, p);
            for (uint32_t n = 0; n < s->nb; n++) {
                const kbucket *bk = &s->b[b];
                uint32_t m = ttl_only ? bk->ttlmask : used_mask(bk);
                if (m) {
                    int pick = (int)((rnd >> 7) % (uint64_t)__builtin_popcount(m));
                    while (pick--) m &= m - 1;
                    return kb_get(bk, __builtin_ctz(m));
                }
                if (++b == s->nb) b = 0;
            }
        }
        p = s->depth ? seg_start(s) + ((uint64_t)1 << (64 - s->depth)) : 0;
    }
    return 0;
}

/* ---- debug check ---- */

#define CHECK(cond, msg)           \
    do {                           \
        if (!(cond)) {             \
            dbg_check_why = (msg); \
            goto fail;             \
        }                          \
    } while (0)

int kt_check(const ktable *t) {
    handle_t *hs = NULL;
    uint32_t *passed = NULL, *chunks = NULL;
    if (!t->dir) {
        CHECK(t->count == 0 && t->nttl == 0 && t->nsegs == 0 && t->gdepth == 0, "table: empty table with counts");
        return 1;
    }
    hs = s_malloc(sizeof(handle_t) * (t->count ? t->count : 1));
    size_t nh = 0, count = 0, nttl = 0, nsegs = 0, ndir = (size_t)1 << t->gdepth;
    size_t bytes = s_usable(t->dir), in_blk = 0;
    const kblock *blk = NULL;
    for (size_t i = 0; i < ndir;) {
        const kseg *s = t->dir[i];
        CHECK(s && s->depth <= t->gdepth, "table: directory entry missing or too deep");
        size_t span = (size_t)1 << (t->gdepth - s->depth);
        CHECK(i == (size_t)s->prefix * span, "table: segment prefix does not match its directory slots");
        for (size_t k = 0; k < span; k++) CHECK(t->dir[i + k] == s, "table: directory slots of a segment differ");
        CHECK(s->nb > 0 && s->count <= s->nb * BUCKET_SLOTS, "table: segment size");
        bytes += s_usable((void *)s) + (s->blk ? 0 : s_usable(s->b));
        if (s->blk) {
            CHECK(!blk || blk == s->blk, "table: segments in two blocks");
            blk = s->blk;
            if (!chunks) chunks = s_calloc(blk->nchunks * sizeof(uint32_t));
            CHECK(s->b && (const char *)s->b >= blk->base && (const char *)(s->b + s->nb) <= blk->base + blk->size,
                  "table: a segment's buckets outside its block");
            for (size_t c = first_chunk(blk, s); c <= last_chunk(blk, s); c++) chunks[c]++;
            in_blk++;
        }
        s_free(passed);
        passed = s_calloc(sizeof(uint32_t) * s->nb);
        uint32_t scount = 0, sttl = 0;
        for (uint32_t b = 0; b < s->nb; b++) {
            const kbucket *bk = &s->b[b];
            uint32_t used = used_mask(bk);
            CHECK((bk->ttlmask & ~used) == 0, "table: TTL mask bit on an empty slot");
            for (int j = 0; j < BUCKET_SLOTS; j++) {
                if (!(used >> j & 1)) {
                    CHECK(kb_get(bk, j) == 0, "table: empty slot with high handle bits");
                    continue;
                }
                handle_t h = kb_get(bk, j);
                CHECK(nh < t->count, "table: more keys than the count");
                hs[nh++] = h;
                CHECK((h >> ARENA_SLOT_BITS) * ARENA_PAGE_SIZE < arena_reserved_bytes(), "table: handle out of range");
                const uint8_t *e = arena_ptr(h);
                CHECK((e[0] & E_KEY_EXT) || e_key_end(e) <= arena_usable(h), "table: key overruns its slot");
                uint64_t hash = entry_hash(h);
                CHECK(bk->tag[j] == (uint8_t)hash, "table: tag does not match the entry's hash");
                CHECK(s->depth == 0 || hash >> (64 - s->depth) == s->prefix, "table: key in the wrong segment");
                int ttl = bk->ttlmask >> j & 1;
                CHECK(ttl == e_has_ttl(e), "table: TTL mask bit does not match the entry");
                scount++;
                sttl += (uint32_t)ttl;
                for (uint32_t x = home_bucket(s, hash), n = 0; x != b; n++) {
                    CHECK(n < s->nb, "table: probe loop");
                    passed[x]++;
                    if (++x == s->nb) x = 0;
                }
            }
        }
        for (uint32_t b = 0; b < s->nb; b++)
            CHECK(s->b[b].overflow == 255 || s->b[b].overflow == passed[b], "table: overflow counter");
        CHECK(scount == s->count && sttl == s->nttl, "table: segment counts");
        count += scount;
        nttl += sttl;
        nsegs++;
        i += span;
    }
    CHECK(count == t->count && nttl == t->nttl && nsegs == t->nsegs, "table: table counts");
    if (blk) {
        CHECK(blk->live == in_blk, "table: block's live segment count");
        size_t counted = 0;
        for (size_t c = 0; c < blk->nchunks; c++) {
            CHECK(blk->chunk_live[c] == chunks[c], "table: block chunk's segment count");
            if (chunks[c]) counted += chunk_len(blk, c);
        }
        CHECK(counted == blk->counted, "table: block's committed bytes");
        bytes += blk->counted + s_usable((void *)blk);
    }
    CHECK(bytes == t->bytes, "table: bytes");
    CHECK(arena_check_handles(hs, nh), dbg_check_why);
    s_free(hs);
    s_free(passed);
    s_free(chunks);
    return 1;
fail:
    s_free(hs);
    s_free(passed);
    s_free(chunks);
    return 0;
}
