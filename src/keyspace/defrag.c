/* defrag: see defrag.h for the design. */
#include "keyspace/defrag.h"
#include "keyspace/db.h"
#include "keyspace/entry.h"
#include "mem/arena.h"
#include "server/bio.h"
#include "server/server.h"
#include "util/debug.h"
#include "util/mem.h"

#define MIN_CLASS_PAGES 2      /* a class is planned when it holds at least this many pages too many */
#define BUCKETS_PER_CHECK 4    /* buckets walked between two looks at the clock */
#define IDLE_AFTER_EMPTY_US 5000000 /* a pass that moved nothing: the next one waits this long */
#define DEFRAG_DECAY_MS 1000

static struct {
    int running;
    int dbi;              /* database being walked */
    uint64_t cursor;      /* position in its table */
    int cycle_pct;        /* share of the loop's time, % */
    long long credit_us;  /* time the pass may still spend before it must let the loop sleep */
    long long last_us;    /* when the credit was last topped up */
    long long idle_until; /* no new pass before this (monotonic us) */
    uint64_t pass_hits;
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

static void end_pass(void) {
    long long now = monotonic_us();
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
    stats.current_start_us = now;
    stats.passes++;
    serverLog(LL_VERBOSE, "Starting active defrag, frag=%.0f%%, frag_bytes=%zu, cpu=%d%%", pct, frag, st.cycle_pct);
}

/* Moves what can move of one key: its entry out of a page being emptied, its external key and raw string
 * value into fuller heap slabs.  Returns the entry's handle from now on. */
static handle_t move_key(void *ud, handle_t h) {
    (void)ud;
    int moved = 0;
    handle_t nh = arena_move(h);
    if (nh != h) moved++, stats.hits++;
    else stats.misses++;
    uint8_t *e = arena_ptr(nh);
    if (e[0] & E_KEY_EXT) {
        void *k, *nk;
        memcpy(&k, e + 4, sizeof(k));
        if ((nk = s_defrag(k)) != NULL) {
            memcpy(e + 4, &nk, sizeof(nk));
            moved++, stats.hits++;
        } else {
            stats.misses++;
        }
    }
    if (e_type(e) == OBJ_STRING && e_on_heap(e)) { /* raw or compressed: one block, no inner pointers */
        void *v = e_ptr(e), *nv = s_defrag(v);
        if (nv) {
            e_set_ptr(e, nv);
            moved++, stats.hits++;
        } else {
            stats.misses++;
        }
    }
    if (moved) stats.key_hits++, st.pass_hits += (uint64_t)moved;
    else stats.key_misses++;
    return nh;
}

int defrag_step(int *wait_ms) {
    *wait_ms = -1;
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
    while (spent < limit) {
        if (st.dbi >= srv.dbnum) {
            end_pass();
            server_latency_end("active-defrag-cycle", lat_start);
            return 0;
        }
        db *d = &srv.dbs[st.dbi];
        st.cursor = kt_defrag(&d->t, st.cursor, BUCKETS_PER_CHECK, move_key, NULL);
        if (st.cursor == 0) st.dbi++;
        spent = monotonic_us() - start;
    }
    server_latency_end("active-defrag-cycle", lat_start);
    st.credit_us -= spent;
    st.last_us = start + spent;
    if (st.credit_us >= DEFRAG_STEP_US / 4) return 1;
    *wait_ms = (int)((DEFRAG_STEP_US / 4 - st.credit_us) * 100 / pct / 1000) + 1;
    return 0;
}
