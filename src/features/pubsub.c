/* pubsub: see pubsub.h.
 *
 * Layout.  A channel (or pattern, or shard channel) is a `pchan`: one heap
 * block holding its name and its subscribers, the only client inline (most
 * channels have one) or, from two on, an array.  The server keeps one set of
 * pchans per kind, keyed by name (util/ptab: a vector, then open addressing,
 * one pointer per slot).  A client's subscriptions of a kind
 * (client->ps_sets[kind]) are a ptab of pchan pointers whose payload is the
 * client's index in that pchan's subscribers.  Removing a subscriber moves the
 * last one into the hole and updates the moved client's payload (one lookup in
 * its set), so each removal is O(1) and nothing points back at slots.
 *
 * Patterns are also indexed by their literal prefix (the bytes before the
 * first `*?[\`): a second ptab keyed by prefix, whose elements are the pchan
 * itself when it is alone with its prefix, else a `pgroup` (the pchans
 * sharing it; tagged with the pointer's low bit).  For each prefix length in
 * use (counts per length: a bitmap below 256, a sorted array above), PUBLISH
 * looks the channel's first bytes up there and glob-matches only the patterns
 * found: the cost is the lengths in use up to the channel's length and the
 * patterns sharing a prefix with the channel, however many others exist.  The
 * prefix hash is a polynomial one (mod 2^61-1, base drawn from the process's
 * secret siphash key), so the channel's prefixes are hashed in one pass.
 *
 * Memory per pattern subscription of one client (bench/pubsub.py): the pchan
 * (24 bytes and the name), one slot in the name set, one in the prefix set
 * and one slot and payload (12 bytes) in the client's set.
 *
 * Invariants (checked in debug builds): the client at index i of a pchan's
 * subscribers has the payload i for it in its set; a pchan with no
 * subscribers does not exist; a group holds two or more pchans, each knowing
 * its index there (gidx). */
#include "features/pubsub.h"
#include "commands/propagate.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "util/debug.h"
#include "util/glob.h"
#include "util/mem.h"
#include "util/numconv.h"
#include "util/ptab.h"
#include "util/siphash.h"
#include <string.h>
#include <strings.h>

enum { PS_CHANNEL = 0, PS_PATTERN = 1, PS_SHARD = 2 };

typedef struct subarr {
    uint32_t cap, unused;
    client *c[];
} subarr;

typedef struct pchan {
    union {
        client *one;  /* n == 1 */
        subarr *many; /* n >= 2 */
    } s;
    uint32_t n;      /* subscribers */
    uint32_t len32;  /* the name's length; LONG_NAME: a name of 4 GiB or more (see pc_len) */
    uint32_t plen32; /* patterns: the literal prefix's length (LONG_NAME: see pc_plen) */
    uint32_t gidx;   /* patterns: the index in its prefix group, when it has one */
    char name[];     /* LONG_NAME: the length and the prefix's as two uint64_t, then the name */
} pchan;

#define LONG_NAME UINT32_MAX

static inline const char *pc_name(const pchan *pc) {
    return pc->len32 != LONG_NAME ? pc->name : pc->name + 2 * sizeof(uint64_t);
}

static inline size_t pc_len(const pchan *pc) {
    uint64_t v;
    if (pc->len32 != LONG_NAME) return pc->len32;
    memcpy(&v, pc->name, sizeof(v));
    return (size_t)v;
}

static inline size_t pc_plen(const pchan *pc) {
    uint64_t v;
    if (pc->len32 != LONG_NAME) return pc->plen32;
    memcpy(&v, pc->name + sizeof(uint64_t), sizeof(v));
    return (size_t)v;
}

typedef struct pgroup {
    uint32_t n, cap;
    pchan *p[];
} pgroup;

static ptab *names[3]; /* pchans by name, per kind */
static ptab *prefixes; /* patterns by literal prefix: pchan, or pgroup | 1 */

/* prefix lengths in use: patterns per length */
static uint32_t len_count[256];
static uint64_t len_bits[4];
typedef struct long_len {
    size_t len;
    uint32_t count;
} long_len;
static long_len *long_lens; /* sorted by len */
static uint32_t n_long_lens;

size_t pubsub_channels_count(void) {
    return ptab_count(names[PS_CHANNEL]);
}
size_t pubsub_patterns_count(void) {
    return ptab_count(names[PS_PATTERN]);
}
size_t pubsub_shard_channels_count(void) {
    return ptab_count(names[PS_SHARD]);
}

static size_t client_count(const client *c, int kind) {
    return ptab_count(c->ps_sets[kind]);
}

/* The count Redis's replies show: channels and patterns, or shard channels. */
static long reply_count(const client *c, int kind) {
    return kind == PS_SHARD ? (long)client_count(c, PS_SHARD)
                            : (long)(client_count(c, PS_CHANNEL) + client_count(c, PS_PATTERN));
}

static void update_mode(client *c) {
    if (client_count(c, PS_CHANNEL) + client_count(c, PS_PATTERN) + client_count(c, PS_SHARD))
        c->flags |= CLIENT_PUBSUB;
    else
        c->flags &= ~CLIENT_PUBSUB;
}

/* ---- the sets' element types ---- */

static uint64_t name_hash(const void *e) {
    const pchan *pc = e;
    return siphash(pc_name(pc), pc_len(pc));
}

static int name_eq(const void *e, const void *key, size_t klen) {
    const pchan *pc = e;
    return pc_len(pc) == klen && memcmp(pc_name(pc), key, klen) == 0;
}

static const ptab_type name_type = {name_hash, name_eq};

static uint64_t ptr_hash(const void *e) {
    return ptab_hash_ptr(e);
}
static const ptab_type client_set_type = {ptr_hash, NULL};

/* ---- the prefix index ---- */

#define P61 ((1ULL << 61) - 1)
static uint64_t poly_base;

static uint64_t mulmod61(uint64_t a, uint64_t b) {
    unsigned __int128 p = (unsigned __int128)a * b;
    uint64_t r = ((uint64_t)p & P61) + (uint64_t)(p >> 61);
    return r >= P61 ? r - P61 : r;
}

static inline uint64_t poly_step(uint64_t h, unsigned char b) {
    h = mulmod61(h, poly_base) + b + 1;
    return h >= P61 ? h - P61 : h;
}

/* The table hash of a prefix's polynomial hash (mixed: the table uses the low bits). */
static uint64_t poly_final(uint64_t h, size_t len) {
    return ptab_hash_ptr((const void *)(uintptr_t)(h ^ len));
}

static uint64_t prefix_hash(const char *p, size_t len) {
    uint64_t h = 0;
    for (size_t i = 0; i < len; i++) h = poly_step(h, (unsigned char)p[i]);
    return poly_final(h, len);
}

static int is_group(const void *e) {
    return (uintptr_t)e & 1;
}
static pgroup *as_group(const void *e) {
    return (pgroup *)((uintptr_t)e & ~(uintptr_t)1);
}
static const pchan *representative(const void *e) {
    return is_group(e) ? as_group(e)->p[0] : e;
}

static uint64_t prefix_elem_hash(const void *e) {
    const pchan *pc = representative(e);
    return prefix_hash(pc_name(pc), pc_plen(pc));
}

static int prefix_eq(const void *e, const void *key, size_t klen) {
    const pchan *pc = representative(e);
    return pc_plen(pc) == klen && memcmp(pc_name(pc), key, klen) == 0;
}

static const ptab_type prefix_type = {prefix_elem_hash, prefix_eq};

void pubsub_cron(void) {
    /* 4096 elements per tick (~1 ms at most): a resize of millions is done in a few minutes with no
     * traffic, the old block freed */
    for (int k = 0; k < 3; k++) ptab_step(names[k], &name_type, 4096);
    ptab_step(prefixes, &prefix_type, 4096);
}

static size_t literal_prefix(const char *p, size_t len) {
    size_t i = 0;
    while (i < len && p[i] != '*' && p[i] != '?' && p[i] != '[' && p[i] != '\\') i++;
    return i;
}

static void len_use(size_t len, int delta) {
    if (len < 256) {
        len_count[len] += (uint32_t)delta;
        if (len_count[len])
            len_bits[len >> 6] |= 1ULL << (len & 63);
        else
            len_bits[len >> 6] &= ~(1ULL << (len & 63));
        return;
    }
    uint32_t i = 0;
    while (i < n_long_lens && long_lens[i].len < len) i++;
    if (i < n_long_lens && long_lens[i].len == len) {
        long_lens[i].count += (uint32_t)delta;
        if (!long_lens[i].count) {
            memmove(long_lens + i, long_lens + i + 1, (n_long_lens - i - 1) * sizeof(*long_lens));
            if (!--n_long_lens) {
                s_free(long_lens);
                long_lens = NULL;
            }
        }
        return;
    }
    DBG_ASSERT(delta == 1);
    long_lens = s_realloc(long_lens, (n_long_lens + 1) * sizeof(*long_lens));
    memmove(long_lens + i + 1, long_lens + i, (n_long_lens - i) * sizeof(*long_lens));
    long_lens[i].len = len;
    long_lens[i].count = 1;
    n_long_lens++;
}

static void prefix_add(pchan *pc) {
    if (!poly_base) poly_base = (1ULL << 32) + siphash("pubsub prefix base", 18) % (P61 - (1ULL << 33));
    uint64_t h = prefix_hash(pc_name(pc), pc_plen(pc));
    long s = ptab_find(prefixes, &prefix_type, pc_name(pc), pc_plen(pc), h);
    len_use(pc_plen(pc), 1);
    if (s < 0) {
        ptab_add(&prefixes, &prefix_type, pc, h, 0);
        return;
    }
    void *e = ptab_get(prefixes, s);
    pgroup *g;
    if (!is_group(e)) {
        g = s_malloc(sizeof(*g) + 2 * sizeof(pchan *));
        g->cap = 2;
        g->n = 1;
        g->p[0] = e;
        ((pchan *)e)->gidx = 0;
    } else {
        g = as_group(e);
        if (g->n == g->cap) {
            g->cap *= 2;
            g = s_realloc(g, sizeof(*g) + g->cap * sizeof(pchan *));
        }
    }
    pc->gidx = g->n;
    g->p[g->n++] = pc;
    *ptab_slot(prefixes, s) = (void *)((uintptr_t)g | 1);
}

static void prefix_del(pchan *pc) {
    long s =
        ptab_find(prefixes, &prefix_type, pc_name(pc), pc_plen(pc), prefix_hash(pc_name(pc), pc_plen(pc)));
    DBG_ASSERT(s >= 0);
    len_use(pc_plen(pc), -1);
    void *e = ptab_get(prefixes, s);
    if (!is_group(e)) {
        DBG_ASSERT(e == pc);
        ptab_del(&prefixes, &prefix_type, s);
        return;
    }
    pgroup *g = as_group(e);
    DBG_ASSERT(pc->gidx < g->n && g->p[pc->gidx] == pc);
    pchan *last = g->p[--g->n];
    g->p[pc->gidx] = last;
    last->gidx = pc->gidx;
    if (g->n == 1) { /* alone again: the slot holds it directly */
        *ptab_slot(prefixes, s) = g->p[0];
        s_free(g);
    } else if (g->n * 4 <= g->cap) {
        g->cap /= 2;
        g = s_realloc(g, sizeof(*g) + g->cap * sizeof(pchan *));
        *ptab_slot(prefixes, s) = (void *)((uintptr_t)g | 1);
    }
}

/* ---- subscribers ---- */

static client **subs_of(pchan *pc) {
    return pc->n <= 1 ? &pc->s.one : pc->s.many->c;
}

/* The slot of pc in c's set of kind (it must be there). */
static long set_slot(const client *c, int kind, const pchan *pc) {
    long s = ptab_find(c->ps_sets[kind], &client_set_type, pc, 0, ptab_hash_ptr(pc));
    DBG_ASSERT(s >= 0);
    return s;
}

/* Appends c to pc's subscribers; returns its index. */
static uint32_t subs_add(pchan *pc, client *c) {
    if (pc->n == 0) {
        pc->s.one = c;
    } else if (pc->n == 1) {
        subarr *a = s_malloc(sizeof(*a) + 2 * sizeof(client *));
        a->cap = 2;
        a->c[0] = pc->s.one;
        a->c[1] = c;
        pc->s.many = a;
    } else {
        subarr *a = pc->s.many;
        if (pc->n == a->cap) {
            a = s_realloc(a, sizeof(*a) + (size_t)a->cap * 2 * sizeof(client *));
            a->cap *= 2;
            pc->s.many = a;
        }
        a->c[pc->n] = c;
    }
    return pc->n++;
}

/* Removes the subscriber at index i of pc (kind's): the last one takes its place. */
static void subs_del(pchan *pc, int kind, uint32_t i) {
    client **v = subs_of(pc);
    uint32_t last = pc->n - 1;
    if (i != last) {
        client *m = v[last];
        v[i] = m;
        *ptab_aux_at(m->ps_sets[kind], set_slot(m, kind, pc)) = i;
    }
    pc->n--;
    if (pc->n == 1) {
        subarr *a = pc->s.many;
        pc->s.one = a->c[0];
        s_free(a);
    } else if (pc->n >= 2 && pc->n * 4 <= pc->s.many->cap) {
        subarr *a = s_realloc(pc->s.many, sizeof(*a) + (size_t)(pc->s.many->cap / 2) * sizeof(client *));
        a->cap /= 2;
        pc->s.many = a;
    }
}

/* ---- registries ---- */

static pchan *find(int kind, const char *name, size_t len) {
    long s = ptab_find(names[kind], &name_type, name, len, names[kind] ? siphash(name, len) : 0);
    return s < 0 ? NULL : ptab_get(names[kind], s);
}

/* Frees pc, which has no subscribers left. */
static void destroy(int kind, pchan *pc) {
    DBG_ASSERT(pc->n == 0);
    if (kind == PS_PATTERN) prefix_del(pc);
    long s = ptab_find(names[kind], &name_type, pc_name(pc), pc_len(pc), siphash(pc_name(pc), pc_len(pc)));
    DBG_ASSERT(s >= 0 && ptab_get(names[kind], s) == pc);
    ptab_del(&names[kind], &name_type, s);
    s_free(pc);
}

/* Adds c to name's subscribers; 0 if it was subscribed already. */
static int subscribe(client *c, int kind, const char *name, size_t len) {
    uint64_t h = siphash(name, len);
    long s = ptab_find(names[kind], &name_type, name, len, h);
    pchan *pc;
    if (s >= 0) {
        pc = ptab_get(names[kind], s);
        if (ptab_find(c->ps_sets[kind], &client_set_type, pc, 0, ptab_hash_ptr(pc)) >= 0) return 0;
    } else {
        size_t plen = kind == PS_PATTERN ? literal_prefix(name, len) : 0;
        int long_name = len >= LONG_NAME;
        pc = s_malloc(sizeof(*pc) + len + (long_name ? 2 * sizeof(uint64_t) : 0));
        memset(pc, 0, sizeof(*pc));
        if (long_name) {
            uint64_t l[2] = {len, plen};
            pc->len32 = LONG_NAME;
            memcpy(pc->name, l, sizeof(l));
        } else {
            pc->len32 = (uint32_t)len;
            pc->plen32 = (uint32_t)plen;
        }
        memcpy((char *)pc_name(pc), name, len);
        ptab_add(&names[kind], &name_type, pc, h, 0);
        if (kind == PS_PATTERN) prefix_add(pc);
    }
    uint32_t i = subs_add(pc, c);
    long cs = ptab_add(&c->ps_sets[kind], &client_set_type, pc, ptab_hash_ptr(pc), 1);
    *ptab_aux_at(c->ps_sets[kind], cs) = i;
    return 1;
}

/* Removes c's subscription to pc (kind's), freeing pc when it was the last. */
static void unsubscribe(client *c, int kind, pchan *pc, long cs) {
    uint32_t i = *ptab_aux_at(c->ps_sets[kind], cs);
    DBG_ASSERT(i < pc->n && subs_of(pc)[i] == c);
    ptab_del(&c->ps_sets[kind], &client_set_type, cs);
    subs_del(pc, kind, i);
    if (pc->n == 0) destroy(kind, pc);
}

/* ---- replies ---- */

static const char *const sub_word[3] = {"subscribe", "psubscribe", "ssubscribe"};
static const char *const unsub_word[3] = {"unsubscribe", "punsubscribe", "sunsubscribe"};

/* A push (RESP3) or array (RESP2) header; pushes go out even under CLIENT REPLY OFF, as Redis's. */
static void push_header(client *c, int n) {
    char h[4] = {c->resp >= 3 ? '>' : '*', (char)('0' + n), '\r', '\n'};
    reply_raw(c, h, 4);
}

static void reply_subscription(client *c, const char *word, const char *name, size_t len, long count) {
    c->flags |= CLIENT_PUSHING;
    push_header(c, 3);
    reply_bulk_cstr(c, word);
    if (name)
        reply_bulk(c, name, len);
    else
        reply_null(c);
    reply_int(c, count);
    c->flags &= ~CLIENT_PUSHING;
}

/* ---- commands ---- */

static void subscribe_cmd(client *c, int kind) {
    for (int j = 1; j < c->argc; j++) {
        subscribe(c, kind, c->argv[j].p, c->argv[j].len);
        reply_subscription(c, sub_word[kind], c->argv[j].p, c->argv[j].len, reply_count(c, kind));
    }
    update_mode(c);
}

/* Unsubscribes c from everything of kind, replying to each when notify.  The client's set is walked
 * as it is and freed at the end: removing c from a pchan only touches other clients' sets. */
static size_t unsubscribe_all_kind(client *c, int kind, int notify) {
    ptab *s = c->ps_sets[kind];
    size_t count = 0, left = ptab_count(s);
    /* taken from c first: the counts replies show are the other kind's (reply_count) plus what is left */
    c->ps_sets[kind] = NULL;
    for (long k = ptab_next(s, -1); k >= 0; k = ptab_next(s, k)) {
        pchan *pc = ptab_get(s, k);
        uint32_t i = *ptab_aux_at(s, k);
        DBG_ASSERT(i < pc->n && subs_of(pc)[i] == c);
        /* subs_del rewrites the index of the member that takes i's place in that member's own set,
         * never in c's (c leaves) */
        subs_del(pc, kind, i);
        left--;
        count++;
        if (notify)
            reply_subscription(c, unsub_word[kind], pc_name(pc), pc_len(pc), reply_count(c, kind) + (long)left);
        if (pc->n == 0) destroy(kind, pc);
    }
    ptab_free(s);
    if (notify && count == 0) reply_subscription(c, unsub_word[kind], NULL, 0, reply_count(c, kind));
    return count;
}

static void unsubscribe_cmd(client *c, int kind) {
    if (c->argc == 1) {
        unsubscribe_all_kind(c, kind, 1);
    } else {
        for (int j = 1; j < c->argc; j++) {
            pchan *pc = find(kind, c->argv[j].p, c->argv[j].len);
            long cs = pc ? ptab_find(c->ps_sets[kind], &client_set_type, pc, 0, ptab_hash_ptr(pc)) : -1;
            if (cs >= 0) unsubscribe(c, kind, pc, cs);
            reply_subscription(c, unsub_word[kind], c->argv[j].p, c->argv[j].len, reply_count(c, kind));
        }
    }
    update_mode(c);
}

void cmd_subscribe(client *c) {
    subscribe_cmd(c, PS_CHANNEL);
}
void cmd_psubscribe(client *c) {
    subscribe_cmd(c, PS_PATTERN);
}
void cmd_ssubscribe(client *c) {
    if (srv.in_exec) { /* Redis denies blocking inside EXEC, and SSUBSCRIBE counts as blocking there */
        reply_error(c, "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
        return;
    }
    subscribe_cmd(c, PS_SHARD);
}
void cmd_unsubscribe(client *c) {
    unsubscribe_cmd(c, PS_CHANNEL);
}
void cmd_punsubscribe(client *c) {
    unsubscribe_cmd(c, PS_PATTERN);
}
void cmd_sunsubscribe(client *c) {
    unsubscribe_cmd(c, PS_SHARD);
}

void pubsub_unsubscribe_all(client *c) {
    for (int k = 0; k < 3; k++)
        if (c->ps_sets[k]) unsubscribe_all_kind(c, k, 0);
    c->flags &= ~CLIENT_PUBSUB;
}

int pubsub_client_each(client *c, int (*fn)(void *ud, const char *name, size_t len, int is_pattern),
                       void *ud) {
    for (int k = 0; k < 3; k++) {
        const ptab *s = c->ps_sets[k];
        for (long i = ptab_next(s, -1); i >= 0; i = ptab_next(s, i)) {
            const pchan *pc = ptab_get(s, i);
            if (!fn(ud, pc_name(pc), pc_len(pc), k == PS_PATTERN)) return 0;
        }
    }
    return 1;
}

/* ---- publishing ---- */

/* One message's bytes, built once and copied to every subscriber: RESP2 and RESP3 differ only in the
 * first byte ('*' or '>'), patched in place. */
typedef struct msgbuf {
    char *p;
    size_t len, cap;
} msgbuf;

static void mb_add(msgbuf *b, const char *s, size_t n) {
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = s_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void mb_bulk(msgbuf *b, const char *s, size_t n) {
    char h[32];
    h[0] = '$';
    int l = 1 + ll2str(h + 1, (long long)n);
    h[l++] = '\r';
    h[l++] = '\n';
    mb_add(b, h, (size_t)l);
    mb_add(b, s, n);
    mb_add(b, "\r\n", 2);
}

static void deliver(client *c, msgbuf *b) {
    b->p[0] = c->resp >= 3 ? '>' : '*';
    c->flags |= CLIENT_PUSHING;
    reply_raw(c, b->p, b->len);
    c->flags &= ~CLIENT_PUSHING;
}

/* A pattern message: b holds the head ("*4 pmessage", 18 bytes) then, from tail, the channel and the
 * message (built at the first match). */
typedef struct pmsg {
    const char *ch, *msg;
    size_t chlen, mlen, tail;
    msgbuf b;
} pmsg;

static long deliver_pattern(pmsg *m, pchan *pp) {
    if (!glob_match(pc_name(pp), pc_len(pp), m->ch, m->chlen, 0)) return 0;
    if (!m->b.p) {
        mb_add(&m->b, "*4\r\n$8\r\npmessage\r\n", 18);
        m->tail = m->b.len;
        mb_bulk(&m->b, m->ch, m->chlen);
        mb_bulk(&m->b, m->msg, m->mlen);
    }
    /* the pattern goes before the channel: a head for this pattern */
    msgbuf h = {0};
    mb_add(&h, m->b.p, 18);
    mb_bulk(&h, pc_name(pp), pc_len(pp));
    client **v = subs_of(pp);
    for (uint32_t s = 0; s < pp->n; s++) {
        client *c = v[s];
        h.p[0] = c->resp >= 3 ? '>' : '*';
        c->flags |= CLIENT_PUSHING;
        reply_raw(c, h.p, h.len);
        reply_raw(c, m->b.p + m->tail, m->b.len - m->tail);
        c->flags &= ~CLIENT_PUSHING;
    }
    s_free(h.p);
    return pp->n;
}

/* The patterns whose literal prefix is the channel's first len bytes (polynomial hash ph). */
static long deliver_prefix(pmsg *m, size_t len, uint64_t ph) {
    long s = ptab_find(prefixes, &prefix_type, m->ch, len, poly_final(ph, len));
    if (s < 0) return 0;
    void *e = ptab_get(prefixes, s);
    if (!is_group(e)) return deliver_pattern(m, e);
    pgroup *g = as_group(e);
    long n = 0;
    /* a subscriber's output limit cannot close it here (that is deferred), so g stays as it is */
    for (uint32_t k = 0; k < g->n; k++) n += deliver_pattern(m, g->p[k]);
    return n;
}

long pubsub_publish(const char *ch, size_t chlen, const char *msg, size_t mlen, int shard) {
    long receivers = 0;
    int kind = shard ? PS_SHARD : PS_CHANNEL;
    pchan *pc = find(kind, ch, chlen);
    if (pc) {
        msgbuf b = {0};
        mb_add(&b, shard ? "*3\r\n$8\r\nsmessage\r\n" : "*3\r\n$7\r\nmessage\r\n", shard ? 18 : 17);
        mb_bulk(&b, ch, chlen);
        mb_bulk(&b, msg, mlen);
        client **v = subs_of(pc);
        for (uint32_t i = 0; i < pc->n; i++) deliver(v[i], &b);
        receivers += pc->n;
        s_free(b.p);
    }
    if (shard || !prefixes) return receivers;
    /* each prefix length in use up to the channel's, shortest first, the hash extended as we go */
    pmsg m = {.ch = ch, .chlen = chlen, .msg = msg, .mlen = mlen};
    uint64_t h = 0;
    size_t at = 0;
    for (int w = 0; w < 4 && (size_t)w * 64 <= chlen; w++) {
        for (uint64_t bits = len_bits[w]; bits; bits &= bits - 1) {
            size_t len = (size_t)w * 64 + (size_t)__builtin_ctzll(bits);
            if (len > chlen) break;
            while (at < len) h = poly_step(h, (unsigned char)ch[at++]);
            receivers += deliver_prefix(&m, len, h);
        }
    }
    for (uint32_t k = 0; k < n_long_lens && long_lens[k].len <= chlen; k++) {
        while (at < long_lens[k].len) h = poly_step(h, (unsigned char)ch[at++]);
        receivers += deliver_prefix(&m, at, h);
    }
    s_free(m.b.p);
    return receivers;
}

/* Both go to replicas as they are (their subscribers get the message too), never to the AOF: Redis 7.0's
 * forceCommandPropagation(PROPAGATE_REPL) outside cluster mode. */
void cmd_publish(client *c) {
    reply_int(c, pubsub_publish(c->argv[1].p, c->argv[1].len, c->argv[2].p, c->argv[2].len, 0));
    prop_force_to(PROP_REPL);
}

void cmd_spublish(client *c) {
    reply_int(c, pubsub_publish(c->argv[1].p, c->argv[1].len, c->argv[2].p, c->argv[2].len, 1));
    prop_force_to(PROP_REPL);
}

/* ---- PUBSUB ---- */

static void subcommand_syntax_error(client *c) {
    reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try PUBSUB HELP.",
                 (int)(c->argv[1].len > 128 ? 128 : c->argv[1].len), c->argv[1].p);
}

static void channel_list(client *c, int kind) {
    if (c->argc > 3) {
        subcommand_syntax_error(c);
        return;
    }
    const arg *pat = c->argc == 3 ? &c->argv[2] : NULL;
    size_t pos = reply_defer(c);
    long n = 0;
    const ptab *t = names[kind];
    for (long i = ptab_next(t, -1); i >= 0; i = ptab_next(t, i)) {
        const pchan *pc = ptab_get(t, i);
        if (!pat || glob_match(pat->p, pat->len, pc_name(pc), pc_len(pc), 0)) {
            reply_bulk(c, pc_name(pc), pc_len(pc));
            n++;
        }
    }
    reply_defer_set(c, pos, n, '*');
}

static void numsub(client *c, int kind) {
    reply_array(c, (long)(c->argc - 2) * 2);
    for (int j = 2; j < c->argc; j++) {
        pchan *pc = find(kind, c->argv[j].p, c->argv[j].len);
        reply_bulk(c, c->argv[j].p, c->argv[j].len);
        reply_int(c, pc ? pc->n : 0);
    }
}
void cmd_pubsub_channels(client *c) {
    channel_list(c, PS_CHANNEL);
}
void cmd_pubsub_shardchannels(client *c) {
    channel_list(c, PS_SHARD);
}
void cmd_pubsub_numsub(client *c) {
    numsub(c, PS_CHANNEL);
}
void cmd_pubsub_shardnumsub(client *c) {
    numsub(c, PS_SHARD);
}
void cmd_pubsub_numpat(client *c) {
    reply_int(c, (long long)pubsub_patterns_count());
}

void cmd_pubsub_help(client *c) {
    static const char *lines[] = {
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        NULL};
    reply_help(c, "PUBSUB", lines);
}
