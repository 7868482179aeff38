/* defrag: see defrag.h for the design. */
#include "keyspace/defrag.h"
#include "keyspace/db.h"
#include "keyspace/entry.h"
#include "mem/arena.h"
#include "server/bio.h"
#include "server/server.h"
#include "types/object.h"
#include "util/debug.h"
#include "util/mem.h"
#include <limits.h>

#define MIN_CLASS_PAGES 2      /* a class is planned when it holds at least this many pages too many */
#define BUCKETS_PER_CHECK 4    /* buckets walked between two looks at the clock */
#define IDLE_AFTER_EMPTY_US 5000000 /* a pass that moved nothing: the next one waits this long */
#define DEFRAG_DECAY_MS 1000
/* Work is counted in parts looked at (~0.1 us each) plus a unit per KiB copied by a move. */
#define WORK_PER_CHECK 256     /* work between two looks at the clock */
#define LATER_BATCH 128        /* elements of a deferred collection per call (the types scale it: list nodes ...) */
#define STEP_WORK 2048         /* a collection whose cost would take the step's work past this is deferred ... */
#define SMALL_COLL 64          /* ... unless its cost is at most this */
#define NODE_COST 16           /* the cost of a list or stream node (KiB-sized blocks, two moves) */

/* A collection deferred to its own stage: looked up by name at each batch. */
typedef struct later {
    struct later *next;
    int dbi, type;
    uint64_t cur[2];  /* the type's stage and position (0, 0: not started) */
    uint64_t moved;   /* parts moved for this key so far */
    size_t klen;
    char key[];
} later;

static struct {
    int running;
    int dbi;              /* database being walked */
    uint64_t cursor;      /* position in its table */
    int cycle_pct;        /* share of the loop's time, % */
    long long credit_us;  /* time the pass may still spend before it must let the loop sleep */
    long long last_us;    /* when the credit was last topped up */
    long long idle_until; /* no new pass before this (monotonic us) */
    uint64_t pass_hits;
    uint64_t work;        /* parts looked at (the step reads the clock every WORK_PER_CHECK) */
    uint64_t step_work;   /* parts looked at in the current step */
    later *later_head, **later_tail;
} st;

static defrag_stats stats;

int defrag_running(void) { return st.running ? (st.cycle_pct > 0 ? st.cycle_pct : 1) : 0; }
const defrag_stats *defrag_get_stats(void) { return &stats; }

void defrag_reset_stats(void) {
    stats.hits = stats.misses = stats.key_hits = stats.key_misses = 0;
    stats.total_us = 0;
}

size_t defrag_frag_bytes(void) {
    mem_stats ms;
    s_allocator_stats(&ms);
    size_t heap = ms.active > ms.allocated ? ms.active - ms.allocated : 0;
    return arena_frag_bytes() + heap;
}

/* The share of the loop's time a pass gets for this much fragmentation (Redis's interpolation). */
static int cycle_for(double frag_pct) {
    int lo = srv.active_defrag_cycle_min, hi = srv.active_defrag_cycle_max;
    double tl = srv.active_defrag_threshold_lower, tu = srv.active_defrag_threshold_upper;
    if (hi < lo) hi = lo;
    double pct = frag_pct >= tu || tu <= tl ? hi : lo + (hi - lo) * (frag_pct - tl) / (tu - tl);
    if (pct < lo) pct = lo;
    if (pct > hi) pct = hi;
    return (int)pct;
}

static void later_pop(void) {
    later *l = st.later_head;
    st.later_head = l->next;
    if (!st.later_head) st.later_tail = &st.later_head;
    if (l->moved) stats.key_hits++;
    else stats.key_misses++;
    s_free(l);
}

static void end_pass(void) {
    long long now = monotonic_us();
    while (st.later_head) later_pop(); /* key names only: nothing refers to them */
    arena_defrag_end();
    if (stats.current_start_us) stats.total_us += now - stats.current_start_us;
    stats.current_start_us = 0;
    if (st.pass_hits == 0) st.idle_until = now + IDLE_AFTER_EMPTY_US;
    st.running = 0;
}

/* Changing the decay makes jemalloc purge what is past the new one at once (tens of MB after churn, ~8 ms):
 * the background thread does it, not the loop. */
static void set_decay_job(void *a, void *b) {
    (void)b;
    s_allocator_set_decay((long)(intptr_t)a);
}

void defrag_cron(int paused) {
    /* With activedefrag on, freed heap pages go back to the kernel after ~1 s instead of jemalloc's 10 s
     * (its background thread does it): what defragmentation empties shows in RSS soon after. */
    static int decay_fast;
    if (decay_fast != srv.active_defrag_enabled) {
        decay_fast = srv.active_defrag_enabled;
        bio_submit(set_decay_job, (void *)(intptr_t)(decay_fast ? DEFRAG_DECAY_MS : -1), NULL);
    }
    if (!srv.active_defrag_enabled || paused) {
        if (st.running) end_pass();
        return;
    }
    size_t used = server_used_memory(), frag = defrag_frag_bytes();
    double pct = used ? (double)frag * 100 / (double)used : 0;
    if (st.running) {
        st.cycle_pct = cycle_for(pct);
        return;
    }
    long long now = monotonic_us();
    if (now < st.idle_until) return;
    if (frag <= srv.active_defrag_ignore_bytes || pct <= srv.active_defrag_threshold_lower) return;
    arena_defrag_plan(MIN_CLASS_PAGES);
    st.running = 1;
    st.dbi = 0;
    st.cursor = 0;
    st.cycle_pct = cycle_for(pct);
    st.credit_us = DEFRAG_STEP_US;
    st.last_us = now;
    st.pass_hits = 0;
    st.later_head = NULL;
    st.later_tail = &st.later_head;
    stats.current_start_us = now;
    stats.passes++;
    serverLog(LL_VERBOSE, "Starting active defrag, frag=%.0f%%, frag_bytes=%zu, cpu=%d%%", pct, frag, st.cycle_pct);
}

/* ---- movers ---- */

static inline int in_arena(const void *p) {
    return arena_base && (const uint8_t *)p >= arena_base && (const uint8_t *)p < arena_base + arena_reserved_bytes();
}

/* Where an entry holds its external key's pointer: the key field is that pointer alone. */
static inline uint8_t *ext_key_field(uint8_t *e) { return e + e_key_end(e) - sizeof(void *); }

static void *heap_move(void *p) {
    void *np = s_defrag(p);
    if (np) stats.hits++, st.work += s_usable(np) >> 10;
    else stats.misses++;
    return np;
}

void *defrag_alloc(void *p) {
    st.work++;
    if (!in_arena(p)) return heap_move(p);
    handle_t h = arena_handle_of(p), nh = arena_move(h);
    if (nh == h) {
        stats.misses++;
        return NULL;
    }
    stats.hits++;
    return arena_ptr(nh);
}

/* Moves what can move of an entry (see defrag_entry); returns the number of parts moved. */
static int move_entry(handle_t *hp) {
    int moved = 0;
    handle_t h = *hp, nh = arena_move(h);
    st.work++;
    if (nh != h) moved++, stats.hits++, *hp = nh;
    else stats.misses++;
    uint8_t *e = arena_ptr(nh);
    if (e[0] & E_KEY_EXT) {
        void *k, *nk;
        memcpy(&k, ext_key_field(e), sizeof(k));
        if ((nk = heap_move(k)) != NULL) memcpy(ext_key_field(e), &nk, sizeof(nk)), moved++;
    }
    if (e_type(e) == OBJ_STRING && e_on_heap(e)) { /* raw or compressed: one block, no inner pointers */
        void *nv = heap_move(e_ptr(e));
        if (nv) e_set_ptr(e, nv), moved++;
    }
    return moved;
}

handle_t defrag_entry(handle_t h) {
    move_entry(&h);
    return h;
}

void *defrag_block_value(void *v, uint64_t cur[2]) {
    void *n = defrag_alloc(v);
    cur[0] = cur[1] = 0;
    return n ? n : v;
}

static handle_t entry_mover(void *ud, handle_t h) {
    (void)ud;
    return defrag_entry(h);
}

uint64_t defrag_entries(ktable *t, uint64_t pos, long max_buckets) {
    return kt_defrag(t, pos, max_buckets, entry_mover, NULL);
}

static void later_add(int dbi, const uint8_t *e, const uint64_t cur[2], uint64_t moved) {
    size_t klen;
    keybuf kb;
    const char *k = e_keyb(e, &kb, &klen);
    later *l = s_malloc(sizeof(*l) + klen);
    l->next = NULL;
    l->dbi = dbi;
    l->type = e_type(e);
    l->cur[0] = cur[0];
    l->cur[1] = cur[1];
    l->moved = moved;
    l->klen = klen;
    memcpy(l->key, k, klen);
    *st.later_tail = l;
    st.later_tail = &l->next;
}

/* Moves what can move of one key: its entry out of a page being emptied, its external key and raw string
 * value into fuller heap slabs, and a collection's parts (or, for a big one, defers them).  Returns the
 * entry's handle from now on. */
static handle_t move_key(void *ud, handle_t h) {
    (void)ud;
    uint64_t hits0 = stats.hits;
    move_entry(&h);
    uint8_t *e = arena_ptr(h);
    const obj_ops *ops;
    if (e_type(e) != OBJ_STRING && e_store(e) == VAL_PTR && (ops = obj_ops_of(e_type(e))) != NULL && ops->defrag) {
        void *v = e_ptr(e);
        size_t n = ops->free_effort(v), cost = e_type(e) == OBJ_LIST || e_type(e) == OBJ_STREAM ? n * NODE_COST : n;
        if (n > srv.active_defrag_max_scan_fields || (cost > SMALL_COLL && st.step_work + cost > STEP_WORK)) {
            later_add(st.dbi, e, (const uint64_t[2]){0, 0}, stats.hits - hits0);
            return h;
        }
        uint64_t cur[2] = {0, 0};
        void *nv = ops->defrag(v, cur, LONG_MAX);
        if (nv != v) e_set_ptr(e, nv);
        if (cur[0] || cur[1]) { /* cut short (a table segment rebuilt, which is a step's work): the rest in its own stage */
            later_add(st.dbi, e, cur, stats.hits - hits0);
            return h;
        }
    }
    if (stats.hits != hits0) stats.key_hits++, st.pass_hits += stats.hits - hits0;
    else stats.key_misses++;
    return h;
}

/* One batch of the first deferred collection: the key looked up again by name. */
static void later_step(void) {
    later *l = st.later_head;
    uint8_t *e = NULL;
    const obj_ops *ops = obj_ops_of(l->type);
    if (l->dbi < srv.dbnum) {
        kslot w;
        handle_t h = kt_find(&srv.dbs[l->dbi].t, l->key, l->klen, kt_hash(l->key, l->klen), &w);
        if (h) e = arena_ptr(h);
    }
    if (!e || e_type(e) != l->type || e_store(e) != VAL_PTR || !ops || !ops->defrag) { /* gone or replaced */
        later_pop();
        return;
    }
    uint64_t hits0 = stats.hits;
    void *v = e_ptr(e), *nv = ops->defrag(v, l->cur, LATER_BATCH);
    if (nv != v) e_set_ptr(e, nv);
    l->moved += stats.hits - hits0;
    st.pass_hits += stats.hits - hits0;
    if (l->cur[0] == 0 && l->cur[1] == 0) later_pop();
}

int defrag_step(int paused, int *wait_ms) {
    *wait_ms = -1;
    if (st.running && paused) end_pass();
    if (!st.running) return 0;
    long long now = monotonic_us(), pct = st.cycle_pct > 0 ? st.cycle_pct : 1;
    st.credit_us += (now - st.last_us) * pct / 100;
    st.last_us = now;
    if (st.credit_us > 2 * DEFRAG_STEP_US) st.credit_us = 2 * DEFRAG_STEP_US;
    if (st.credit_us < DEFRAG_STEP_US / 4) {
        /* Sleep until the loop has earned a quarter step again. */
        long long need = (DEFRAG_STEP_US / 4 - st.credit_us) * 100 / pct;
        *wait_ms = (int)(need / 1000) + 1;
        return 0;
    }
    long long limit = st.credit_us < DEFRAG_STEP_US ? st.credit_us : DEFRAG_STEP_US, start = now, spent = 0;
    long long lat_start = server_latency_start(); /* Redis's "active-defrag-cycle" latency event: one step */
    server_debug_slow_op();
    st.step_work = 0;
    uint64_t work0 = st.work, checked = st.work;
    int buckets = 0;
    while (spent < limit) {
        /* Deferred collections first (the walk left them behind), then the tables. */
        if (st.later_head) {
            later_step();
        } else if (st.dbi >= srv.dbnum) {
            end_pass();
            server_latency_end("active-defrag-cycle", lat_start);
            return 0;
        } else {
            db *d = &srv.dbs[st.dbi];
            st.cursor = kt_defrag(&d->t, st.cursor, 1, move_key, NULL);
            if (st.cursor == 0) st.dbi++;
            buckets++;
        }
        st.step_work = st.work - work0;
        /* The clock every few buckets, or sooner when they held many parts (collections, deferred ones). */
        if (buckets > 0 && buckets < BUCKETS_PER_CHECK && st.work - checked < WORK_PER_CHECK) continue;
        buckets = 0;
        checked = st.work;
        spent = monotonic_us() - start;
    }
    server_latency_end("active-defrag-cycle", lat_start);
    st.credit_us -= spent;
    st.last_us = start + spent;
    if (st.credit_us >= DEFRAG_STEP_US / 4) return 1;
    *wait_ms = (int)((DEFRAG_STEP_US / 4 - st.credit_us) * 100 / pct / 1000) + 1;
    return 0;
}
