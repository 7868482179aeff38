/* tracking: see tracking.h.
 *
 * The tracking table is built for bytes per tracked key.  Redis keeps a radix
 * tree of keys whose values are radix trees of client IDs; here it is an
 * open-addressing hash table (linear probing, at most 3/4 full, growing 1.5x,
 * so it is 1/2 to 3/4 full; a hash picks its home slot by multiplying, which
 * works for any size) of 8-byte slots, each a pointer to one heap block
 * holding the key and its client IDs:
 *
 *   tkey: klen (4) | n (4) | key bytes | n client IDs (8 bytes each, unaligned)
 *
 * with room for the IDs rounded up to a power of two.  A slot keeps the low 16
 * bits of the key's hash (the home slot comes from the high ones) above the pointer (user-space pointers fit in 48 bits),
 * so a probe touches an entry only when the tags match.  A key with one
 * reader costs its block (8 + key + 8 bytes, rounded to the allocator's
 * size class) plus 8 / 0.5..0.75 bytes of table.  Deleting shifts the
 * following slots back (no tombstones), so a lookup stops at the first empty
 * slot.
 *
 * IDs of clients that left stay in the table until the key is invalidated
 * (as Redis, so a disconnect costs nothing); an ID is looked up among the
 * tracking clients (a map id -> client) when a message is due.  A key read by
 * many clients costs a scan of its IDs per read (no duplicate IDs).
 *
 * A flush empties the table at once: the old slot array is parked and its
 * entries are freed a slice per loop iteration.  Growing the table rehashes
 * it in one go (a pause of ~10 ms per million keys).
 *
 * BCAST prefixes are a small array sorted by bytes, as Redis's radix tree
 * orders them; each holds its clients and the keys changed under it in this
 * loop iteration (key -> the client that changed it last, for NOLOOP), sent
 * sorted by bytes before the loop sleeps.
 *
 * Invariants: titems is the sum of the entries' ID counts; tcount the
 * occupied slots (at most 3/4 of tcap); every tracking client is in by_id and
 * has a trk; a BCAST client is in exactly the prefixes it lists.  Debug builds
 * assert the local ones (DBG_ASSERT). */
#include "features/tracking.h"
#include "commands/command.h"
#include "commands/commands.h"
#include "keyspace/effects.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "util/debug.h"
#include "util/dict.h"
#include "util/mem.h"
#include "util/numconv.h"
#include "util/siphash.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { TRK_OPTIN = 1, TRK_OPTOUT = 2, TRK_NOLOOP = 4, TRK_CACHING = 8 };

typedef struct trk_client {
    client *redir_c; /* the redirect target while it exists (c->trk_redir holds its ID) */
    int opts;        /* TRK_* */
    int nprefix;     /* BCAST: the prefixes, sorted by bytes */
    char **prefix;
    size_t *plen;
} trk_client;

/* ---- the key table ---- */

typedef struct tkey {
    uint32_t klen, n;
    unsigned char b[]; /* key, then n IDs */
} tkey;

#define PTR_BITS 48
#define SLOT_PTR(s) ((tkey *)(uintptr_t)((s) & ((1ULL << PTR_BITS) - 1)))
#define SLOT_TAG(s) ((uint16_t)((s) >> PTR_BITS))
#define HASH_TAG(h) ((uint16_t)(h))

static uint64_t *slots;
static size_t tcap, tcount; /* tcap: 0 or at least 64 */
static uint64_t titems;

typedef struct parked {
    uint64_t *slots;
    size_t cap, pos;
    struct parked *next;
} parked;
static parked *parked_tables;

static uint64_t tk_hash(const void *k, size_t kl) { return siphash(k, kl); }

/* The home slot of hash h in a table of cap slots (the high bits of h, scaled). */
static size_t home_of(uint64_t h, size_t cap) { return (size_t)(((unsigned __int128)h * cap) >> 64); }

static size_t id_cap(uint32_t n) {
    size_t c = 1;
    while (c < n) c <<= 1;
    return c;
}

static uint64_t tk_id(const tkey *e, uint32_t i) {
    uint64_t id;
    memcpy(&id, e->b + e->klen + (size_t)i * 8, 8);
    return id;
}

static uint64_t make_slot(tkey *e, uint64_t h) {
    uintptr_t p = (uintptr_t)e;
    if (p >> PTR_BITS) {
        serverLog(LL_WARNING, "tracking: a heap pointer above 2^48; cannot tag it");
        abort();
    }
    return (uint64_t)p | ((uint64_t)HASH_TAG(h) << PTR_BITS);
}

static size_t tk_find(const char *k, size_t kl, uint64_t h) {
    if (!tcap) return SIZE_MAX;
    uint16_t tag = HASH_TAG(h);
    for (size_t i = home_of(h, tcap);; i = i + 1 == tcap ? 0 : i + 1) {
        uint64_t s = slots[i];
        if (!s) return SIZE_MAX;
        if (SLOT_TAG(s) != tag) continue;
        tkey *e = SLOT_PTR(s);
        if (e->klen == kl && memcmp(e->b, k, kl) == 0) return i;
    }
}

static void tk_place(uint64_t *tab, size_t cap, uint64_t s, uint64_t h) {
    size_t i = home_of(h, cap);
    while (tab[i]) i = i + 1 == cap ? 0 : i + 1;
    tab[i] = s;
}

static void tk_resize(size_t ncap) {
    uint64_t *nt = s_calloc(ncap * sizeof(*nt));
    for (size_t i = 0; i < tcap; i++)
        if (slots[i]) {
            tkey *e = SLOT_PTR(slots[i]);
            tk_place(nt, ncap, slots[i], tk_hash(e->b, e->klen));
        }
    s_free(slots);
    slots = nt;
    tcap = ncap;
}

/* Removes slot i, shifting back the slots of the run after it that may move (no tombstones). */
static void tk_remove_at(size_t i) {
    slots[i] = 0;
    tcount--;
    for (size_t j = i + 1 == tcap ? 0 : i + 1; slots[j]; j = j + 1 == tcap ? 0 : j + 1) {
        tkey *e = SLOT_PTR(slots[j]);
        size_t home = home_of(tk_hash(e->b, e->klen), tcap);
        /* may the entry at j move to the hole i?  Yes unless home lies cyclically in (i, j]. */
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays) continue;
        slots[i] = slots[j];
        slots[j] = 0;
        i = j;
    }
    if (tcap > 1024 && tcount < tcap / 8) tk_resize(tcap / 2); /* 1/4 full after */
}

/* Adds id to key's readers; returns 1 if it was not there. */
static int tk_add(const char *k, size_t kl, uint64_t id) {
    uint64_t h = tk_hash(k, kl);
    size_t i = tk_find(k, kl, h);
    if (i == SIZE_MAX) {
        if ((tcount + 1) * 4 > tcap * 3) tk_resize(tcap ? tcap + tcap / 2 : 64);
        tkey *e = s_malloc(sizeof(tkey) + kl + 8);
        e->klen = (uint32_t)kl;
        e->n = 1;
        memcpy(e->b, k, kl);
        memcpy(e->b + kl, &id, 8);
        tk_place(slots, tcap, make_slot(e, h), h);
        tcount++;
        DBG_ASSERT(tcount * 4 <= tcap * 3);
        return 1;
    }
    tkey *e = SLOT_PTR(slots[i]);
    for (uint32_t j = 0; j < e->n; j++)
        if (tk_id(e, j) == id) return 0;
    if (id_cap(e->n) == e->n) {
        e = s_realloc(e, sizeof(tkey) + e->klen + id_cap(e->n + 1) * 8);
        slots[i] = make_slot(e, h);
    }
    memcpy(e->b + e->klen + (size_t)e->n * 8, &id, 8);
    e->n++;
    return 1;
}

/* ---- clients ---- */

static dict *by_id; /* tracking clients: 8-byte ID -> client */

static client *tracking_client_by_id(uint64_t id) { return by_id ? dict_get(by_id, (const char *)&id, 8) : NULL; }

static client *any_client_by_id(uint64_t id) {
    for (size_t i = 0; i < srv.nclients; i++)
        if (srv.clients[i]->id == id) return srv.clients[i];
    return NULL;
}

/* ---- messages ---- */

static void push_raw(client *c, const char *s, size_t n) {
    int had = c->flags & CLIENT_PUSHING;
    c->flags |= CLIENT_PUSHING;
    reply_raw(c, s, n);
    if (!had) c->flags &= ~CLIENT_PUSHING;
}

/* One invalidation for tracking client c: the key, or a ready RESP value (proto: a BCAST array, a null). */
static void send_msg(client *c, const char *key, size_t klen, const char *proto, size_t plen) {
    int redirected = 0;
    if (c->trk_redir) {
        client *r = c->trk ? c->trk->redir_c : NULL;
        if (!r) {
            c->xflags |= CLIENT_TRACKING_BROKEN_REDIR;
            if (c->resp > 2) {
                char buf[64];
                int n = snprintf(buf, sizeof(buf), ">2\r\n$21\r\ntracking-redir-broken\r\n:%llu\r\n",
                                 (unsigned long long)c->trk_redir);
                push_raw(c, buf, (size_t)n);
            }
            return;
        }
        c = r;
        redirected = 1;
    }
    static const char push_head[] = ">2\r\n$10\r\ninvalidate\r\n";
    static const char msg_head[] = "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n";
    if (c->resp > 2) push_raw(c, push_head, sizeof(push_head) - 1);
    else if (redirected && (c->flags & CLIENT_PUBSUB))
        push_raw(c, msg_head, sizeof(msg_head) - 1);
    else
        return; /* RESP2 on its own connection: nowhere to send it */
    if (proto) {
        push_raw(c, proto, plen);
    } else {
        char h[40];
        int n = snprintf(h, sizeof(h), "*1\r\n$%zu\r\n", klen);
        push_raw(c, h, (size_t)n);
        push_raw(c, key, klen);
        push_raw(c, "\r\n", 2);
    }
}

static const char *null_for(const client *c, size_t *len) {
    *len = c->resp > 2 ? 3 : 5;
    return c->resp > 2 ? "_\r\n" : "$-1\r\n";
}

/* Messages for the client whose command runs, sent once its outermost command returns. */
typedef struct pending_msg {
    char *key; /* NULL: the null of a flush */
    size_t klen;
} pending_msg;
static pending_msg *pending;
static size_t npending, pending_cap;

static void pending_add(const char *key, size_t klen) {
    if (npending == pending_cap) {
        pending_cap = pending_cap ? pending_cap * 2 : 8;
        pending = s_realloc(pending, pending_cap * sizeof(*pending));
    }
    pending[npending].key = key ? s_malloc(klen ? klen : 1) : NULL;
    if (key) memcpy(pending[npending].key, key, klen);
    pending[npending].klen = klen;
    npending++;
}

static void pending_flush(void) {
    client *c = srv.current_client;
    for (size_t i = 0; i < npending; i++) {
        if (c) {
            if (pending[i].key) {
                send_msg(c, pending[i].key, pending[i].klen, NULL, 0);
            } else {
                size_t n;
                const char *nul = null_for(c, &n);
                send_msg(c, NULL, 0, nul, n);
            }
        }
        s_free(pending[i].key);
    }
    npending = 0;
}

/* ---- BCAST prefixes ---- */

typedef struct bprefix {
    char *p;
    size_t len;
    client **clients;
    size_t n, cap;
    dict *keys; /* changed in this loop iteration: key -> the client that changed it (NULL: none) */
} bprefix;
static bprefix *prefixes;
static size_t nprefixes;
static size_t max_plen; /* no prefix is longer (an upper bound: not lowered when prefixes go) */

static int bytes_cmp(const char *a, size_t al, const char *b, size_t bl) {
    int r = memcmp(a, b, al < bl ? al : bl);
    return r ? r : (al < bl ? -1 : al > bl);
}

/* The index of prefix p, or where it would go (*found 0). */
static size_t prefix_pos(const char *p, size_t len, int *found) {
    size_t lo = 0, hi = nprefixes;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int r = bytes_cmp(prefixes[mid].p, prefixes[mid].len, p, len);
        if (r == 0) {
            *found = 1;
            return mid;
        }
        if (r < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = 0;
    return lo;
}

static void bprefix_add_client(bprefix *b, client *c) {
    for (size_t j = 0; j < b->n; j++)
        if (b->clients[j] == c) return;
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 4;
        b->clients = s_realloc(b->clients, b->cap * sizeof(*b->clients));
    }
    b->clients[b->n++] = c;
}

static int arg_ptr_cmp(const void *a, const void *b) {
    const arg *x = *(arg *const *)a, *y = *(arg *const *)b;
    return bytes_cmp(x->p, x->len, y->p, y->len);
}

/* Subscribes BCAST client c to the prefixes given (none: ""), merging them into the server's sorted
 * array and the client's own in one pass each (a command with many prefixes costs a sort, not a
 * memmove per prefix). */
static void bcast_add_all(client *c, arg **given, int ngiven) {
    static char empty[1];
    arg none = {empty, 0}, *nonep = &none;
    arg **add = ngiven ? s_malloc((size_t)ngiven * sizeof(*add)) : &nonep;
    int m = ngiven ? ngiven : 1;
    if (ngiven) {
        memcpy(add, given, (size_t)ngiven * sizeof(*add));
        qsort(add, (size_t)m, sizeof(*add), arg_ptr_cmp);
        int u = 0; /* drop duplicates */
        for (int i = 0; i < m; i++)
            if (!u || arg_ptr_cmp(&add[u - 1], &add[i]) != 0) add[u++] = add[i];
        m = u;
    }
    /* the server's prefixes */
    bprefix *np = s_malloc((nprefixes + (size_t)m) * sizeof(*np));
    size_t i = 0, n = 0;
    for (int j = 0; j < m; j++) {
        while (i < nprefixes && bytes_cmp(prefixes[i].p, prefixes[i].len, add[j]->p, add[j]->len) < 0)
            np[n++] = prefixes[i++];
        if (i < nprefixes && bytes_cmp(prefixes[i].p, prefixes[i].len, add[j]->p, add[j]->len) == 0) {
            np[n] = prefixes[i++];
        } else {
            memset(&np[n], 0, sizeof(np[n]));
            np[n].p = s_malloc(add[j]->len ? add[j]->len : 1);
            memcpy(np[n].p, add[j]->p, add[j]->len);
            np[n].len = add[j]->len;
            if (add[j]->len > max_plen) max_plen = add[j]->len;
        }
        bprefix_add_client(&np[n++], c);
    }
    while (i < nprefixes) np[n++] = prefixes[i++];
    s_free(prefixes);
    prefixes = np;
    nprefixes = n;
    /* the client's own list */
    trk_client *t = c->trk;
    int cap = t->nprefix + m, k = 0, out = 0;
    char **pp = s_malloc((size_t)cap * sizeof(*pp));
    size_t *pl = s_malloc((size_t)cap * sizeof(*pl));
    for (int j = 0; j < m; j++) {
        while (k < t->nprefix && bytes_cmp(t->prefix[k], t->plen[k], add[j]->p, add[j]->len) < 0) {
            pp[out] = t->prefix[k];
            pl[out++] = t->plen[k++];
        }
        if (k < t->nprefix && bytes_cmp(t->prefix[k], t->plen[k], add[j]->p, add[j]->len) == 0) continue;
        pp[out] = s_malloc(add[j]->len ? add[j]->len : 1);
        memcpy(pp[out], add[j]->p, add[j]->len);
        pl[out++] = add[j]->len;
    }
    while (k < t->nprefix) {
        pp[out] = t->prefix[k];
        pl[out++] = t->plen[k++];
    }
    s_free(t->prefix);
    s_free(t->plen);
    t->prefix = pp;
    t->plen = pl;
    t->nprefix = out;
    if (ngiven) s_free(add);
}

static void bcast_remove_client(client *c) {
    trk_client *t = c->trk;
    int emptied = 0;
    for (int k = 0; k < t->nprefix; k++) {
        int found;
        size_t i = prefix_pos(t->prefix[k], t->plen[k], &found);
        DBG_ASSERT(found);
        bprefix *b = &prefixes[i];
        DBG_ASSERT(b->n > 0);
        for (size_t j = 0; j < b->n; j++)
            if (b->clients[j] == c) {
                b->clients[j] = b->clients[--b->n];
                break;
            }
        if (b->n == 0) { /* freed now, its slot dropped below (the bytes stay for the searches until then) */
            s_free(b->clients);
            b->clients = NULL;
            if (b->keys) dict_free(b->keys, NULL);
            b->keys = NULL;
            emptied = 1;
        }
    }
    if (emptied) {
        size_t n = 0;
        for (size_t i = 0; i < nprefixes; i++) {
            if (prefixes[i].n == 0) s_free(prefixes[i].p);
            else prefixes[n++] = prefixes[i];
        }
        nprefixes = n;
    }
    for (int k = 0; k < t->nprefix; k++) s_free(t->prefix[k]);
    s_free(t->prefix);
    s_free(t->plen);
    t->prefix = NULL;
    t->plen = NULL;
    t->nprefix = 0;
}

static void bcast_remember_at(size_t i, const char *key, size_t klen, client *modifier) {
    bprefix *b = &prefixes[i];
    if (!b->keys) b->keys = dict_new(0);
    dict_upsert(b->keys, key, klen, NULL)->val = modifier;
}

/* The prefixes key starts with: a scan of a few, else a search for each of the key's own prefixes. */
static void bcast_remember(const char *key, size_t klen, client *modifier) {
    if (nprefixes <= 16) {
        for (size_t i = 0; i < nprefixes; i++)
            if (prefixes[i].len <= klen && memcmp(prefixes[i].p, key, prefixes[i].len) == 0)
                bcast_remember_at(i, key, klen, modifier);
        return;
    }
    for (size_t l = 0; l <= klen && l <= max_plen; l++) {
        int found;
        size_t i = prefix_pos(key, l, &found);
        if (found) bcast_remember_at(i, key, klen, modifier);
    }
}

static int entry_cmp(const void *a, const void *b) {
    const dict_entry *x = *(dict_entry *const *)a, *y = *(dict_entry *const *)b;
    return bytes_cmp(x->key, x->klen, y->key, y->klen);
}

/* "*n\r\n" and the keys not last changed by skip; NULL when that leaves none. */
static char *bcast_array(dict_entry **keys, size_t n, client *skip, size_t *len) {
    size_t count = 0, cap = 32;
    for (size_t i = 0; i < n; i++)
        if (!skip || keys[i]->val != skip) {
            count++;
            cap += keys[i]->klen + 32;
        }
    if (!count) return NULL;
    char *buf = s_malloc(cap);
    size_t l = (size_t)snprintf(buf, cap, "*%zu\r\n", count);
    for (size_t i = 0; i < n; i++) {
        if (skip && keys[i]->val == skip) continue;
        l += (size_t)snprintf(buf + l, cap - l, "$%zu\r\n", keys[i]->klen);
        memcpy(buf + l, keys[i]->key, keys[i]->klen);
        l += keys[i]->klen;
        buf[l++] = '\r';
        buf[l++] = '\n';
    }
    *len = l;
    return buf;
}

static void bcast_send_all(void) {
    for (size_t i = 0; i < nprefixes; i++) {
        bprefix *b = &prefixes[i];
        if (!b->keys) continue;
        if (b->keys->count) {
            size_t n = 0;
            dict_entry **keys = s_malloc(b->keys->count * sizeof(*keys));
            for (size_t s = 0; s < b->keys->size; s++)
                for (dict_entry *e = b->keys->tab[s]; e; e = e->next) keys[n++] = e;
            qsort(keys, n, sizeof(*keys), entry_cmp);
            size_t len;
            char *all = bcast_array(keys, n, NULL, &len);
            for (size_t j = 0; j < b->n; j++) {
                client *c = b->clients[j];
                if (c->trk->opts & TRK_NOLOOP) {
                    size_t alen;
                    char *own = bcast_array(keys, n, c, &alen);
                    if (own) send_msg(c, NULL, 0, own, alen);
                    s_free(own);
                } else {
                    send_msg(c, NULL, 0, all, len);
                }
            }
            s_free(all);
            s_free(keys);
        }
        dict_free(b->keys, NULL);
        b->keys = NULL;
    }
}

/* ---- invalidation ---- */

/* key changed (bcast: also for BCAST clients; modifier: the client that changed it, NULL if none). */
static void invalidate_key(const char *key, size_t klen, int bcast, client *modifier) {
    if (bcast && nprefixes) bcast_remember(key, klen, modifier);
    if (!tcount) return;
    size_t i = tk_find(key, klen, tk_hash(key, klen));
    if (i == SIZE_MAX) return;
    tkey *e = SLOT_PTR(slots[i]);
    for (uint32_t j = 0; j < e->n; j++) {
        client *t = tracking_client_by_id(tk_id(e, j));
        if (!t || (t->xflags & CLIENT_TRACKING_BCAST)) continue;
        if ((t->trk->opts & TRK_NOLOOP) && t == srv.current_client) continue;
        if (t == srv.current_client && srv.call_depth > 0) pending_add(key, klen);
        else send_msg(t, key, klen, NULL, 0);
    }
    DBG_ASSERT(titems >= e->n && e->n > 0);
    titems -= e->n;
    tk_remove_at(i);
    s_free(e);
}

static void on_key_changed(void *ud, db *d, const char *key, size_t klen, int cls, const char *event) {
    (void)ud, (void)d, (void)event;
    if (!tcount && !nprefixes) return;
    client *modifier = (cls & (FX_EXPIRED | FX_EVICTED)) || srv.script_caller ? NULL : srv.current_client;
    invalidate_key(key, klen, 1, modifier);
}

static long long last_flush_cmd = -1;

static void on_db_flushing(void *ud, db *d) {
    (void)ud, (void)d;
    /* one null per FLUSHALL/FLUSHDB (FLUSHALL empties each database in turn) */
    if (srv.call_depth > 0) {
        if (last_flush_cmd == srv.stat_numcommands) return;
        last_flush_cmd = srv.stat_numcommands;
    }
    if (by_id) {
        for (size_t s = 0; s < by_id->size; s++)
            for (dict_entry *e = by_id->tab[s]; e; e = e->next) {
                client *c = e->val;
                if (c == srv.current_client && srv.call_depth > 0) {
                    pending_add(NULL, 0);
                } else {
                    size_t n;
                    const char *nul = null_for(c, &n);
                    send_msg(c, NULL, 0, nul, n);
                }
            }
    }
    if (tcount) { /* the whole table goes: freed in slices */
        parked *p = s_malloc(sizeof(*p));
        p->slots = slots;
        p->cap = tcap;
        p->pos = 0;
        p->next = parked_tables;
        parked_tables = p;
        slots = NULL;
        tcap = tcount = 0;
        titems = 0;
    }
}

static const fx_listener tracking_listener = {.key_changed = on_key_changed, .db_flushing = on_db_flushing};

void tracking_init(void) { fx_listen(&tracking_listener); }

/* ---- hooks ---- */

static void remember_keys(client *c) {
    trk_client *t = c->trk;
    int caching = (t->opts & TRK_CACHING) != 0;
    if (((t->opts & TRK_OPTIN) && !caching) || ((t->opts & TRK_OPTOUT) && caching)) return;
    command *cmd = c->cmd;
    if (!cmd || (cmd->flags & CMD_PUBSUB)) return;
    keyref stack[16], *keys = stack;
    int n = command_get_keys(cmd, c->argv, c->argc, keys, 16);
    if (n > 16) {
        int max = n;
        keys = s_malloc(sizeof(keyref) * (size_t)max);
        n = command_get_keys(cmd, c->argv, c->argc, keys, max);
        if (n > max) n = max;
    }
    for (int i = 0; i < n; i++) {
        const arg *k = &c->argv[keys[i].pos];
        titems += (uint64_t)tk_add(k->p, k->len, c->id);
    }
    if (keys != stack) s_free(keys);
}

void tracking_after_call(client *c, const command *cmd, int outermost) {
    /* EVAL_RO, EVALSHA_RO and FCALL_RO (the read-only commands of @scripting) remember nothing themselves */
    if (by_id && by_id->count && (cmd->flags & CMD_READONLY) && !(cmd->def && (cmd->def->acl & ACL_SCRIPTING))) {
        /* a script's reads remember the keys its caller declared, as Redis */
        client *caller = srv.script_caller ? srv.script_caller : c;
        if ((caller->xflags & CLIENT_TRACKING) && !(caller->xflags & CLIENT_TRACKING_BCAST)) remember_keys(caller);
    }
    if (outermost && npending) pending_flush();
}

void tracking_after_command(client *c, const command *cmd) {
    if (!c->trk || !(c->trk->opts & TRK_CACHING)) return;
    if (c->flags & CLIENT_MULTI) return;
    if (cmd && cmd->parent && !strcmp(cmd->parent->name, "client")) return;
    c->trk->opts &= ~TRK_CACHING;
}

static unsigned limit_rounds; /* consecutive calls that ended still over the limit */

void tracking_limit(void) {
    if (!by_id || !by_id->count || !tcount) return;
    long long max = srv.tracking_table_max_keys;
    if (max <= 0 || tcount <= (size_t)max) {
        limit_rounds = 0;
        return;
    }
    int effort = 100 * (int)(limit_rounds + 1);
    while (effort-- > 0 && tcount) {
        size_t i = (size_t)random() % tcap;
        while (!slots[i]) i = i + 1 == tcap ? 0 : i + 1;
        tkey *e = SLOT_PTR(slots[i]);
        size_t kl = e->klen;
        char small[256], *k = kl <= sizeof(small) ? small : s_malloc(kl);
        memcpy(k, e->b, kl);
        invalidate_key(k, kl, 0, NULL);
        if (k != small) s_free(k);
        if (tcount <= (size_t)max) {
            limit_rounds = 0;
            return;
        }
    }
    limit_rounds++;
}

void tracking_cron(void) { tracking_limit(); }

int tracking_before_sleep(void) {
    if (nprefixes && by_id && by_id->count) bcast_send_all();
    /* free parked tables, ~10000 entries per iteration */
    size_t budget = 10000;
    while (parked_tables && budget) {
        parked *p = parked_tables;
        for (; p->pos < p->cap && budget; p->pos++) {
            if (!p->slots[p->pos]) continue;
            s_free(SLOT_PTR(p->slots[p->pos]));
            budget--;
        }
        if (p->pos == p->cap) {
            parked_tables = p->next;
            s_free(p->slots);
            s_free(p);
        }
    }
    return parked_tables != NULL;
}

void tracking_disable(client *c) {
    if (!(c->xflags & CLIENT_TRACKING)) return;
    DBG_ASSERT(c->trk && by_id && dict_get(by_id, (const char *)&c->id, 8) == c);
    if (c->xflags & CLIENT_TRACKING_BCAST) bcast_remove_client(c);
    uint64_t id = c->id;
    dict_del(by_id, (const char *)&id, 8, NULL);
    s_free(c->trk);
    c->trk = NULL;
    c->trk_redir = 0;
    c->xflags &= ~(CLIENT_TRACKING | CLIENT_TRACKING_BROKEN_REDIR | CLIENT_TRACKING_BCAST);
}

void tracking_client_freeing(client *c) {
    if ((c->xflags & CLIENT_TRACKING_TARGET) && by_id) {
        for (size_t s = 0; s < by_id->size; s++)
            for (dict_entry *e = by_id->tab[s]; e; e = e->next) {
                client *t = e->val;
                if (t->trk->redir_c == c) t->trk->redir_c = NULL;
            }
    }
    tracking_disable(c);
}

static void enable(client *c, uint64_t redir, int bcast, int opts, arg **pfx, int npfx) {
    if (!(c->xflags & CLIENT_TRACKING)) {
        c->trk = s_calloc(sizeof(trk_client));
        if (!by_id) by_id = dict_new(0);
        uint64_t id = c->id;
        dict_upsert(by_id, (const char *)&id, 8, NULL)->val = c;
        c->xflags |= CLIENT_TRACKING;
    }
    trk_client *t = c->trk;
    c->xflags &= ~(CLIENT_TRACKING_BROKEN_REDIR | CLIENT_TRACKING_BCAST);
    t->opts = (t->opts & TRK_CACHING) | opts;
    c->trk_redir = redir;
    t->redir_c = redir ? any_client_by_id(redir) : NULL;
    if (t->redir_c) t->redir_c->xflags |= CLIENT_TRACKING_TARGET;
    if (bcast) {
        c->xflags |= CLIENT_TRACKING_BCAST;
        bcast_add_all(c, pfx, npfx);
    }
}

/* ---- commands ---- */

static int overlaps(const char *a, size_t al, const char *b, size_t bl) {
    return memcmp(a, b, al < bl ? al : bl) == 0;
}

/* The client's prefix overlapping p, as Redis finds it (the first in byte order), or -1.  The client's
 * prefixes do not overlap each other but for "", which comes first and overlaps everything; so only p's
 * neighbours in the sorted list can overlap it, and the one after p is the first when p is a prefix of
 * several. */
static int existing_overlap(const trk_client *t, const arg *p) {
    if (!t || !t->nprefix) return -1;
    if (t->plen[0] == 0) return 0;
    int lo = 0, hi = t->nprefix;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (bytes_cmp(t->prefix[mid], t->plen[mid], p->p, p->len) < 0) lo = mid + 1;
        else hi = mid;
    }
    if (lo > 0 && overlaps(t->prefix[lo - 1], t->plen[lo - 1], p->p, p->len)) return lo - 1;
    if (lo < t->nprefix && overlaps(t->prefix[lo], t->plen[lo], p->p, p->len)) return lo;
    return -1;
}

#define PREFIX_EXACT_PAIR_MAX 1000 /* past this many given prefixes an overlap names a pair found in O(n log n) */

/* Redis's collision check: no new prefix may overlap one the client has, or another new one (Redis's
 * texts; the pair named is the one Redis names: the first given prefix, in order, that overlaps an existing
 * one or a later given one).  Two given prefixes overlap iff two neighbours in byte order do, so a list
 * without overlaps costs a sort, not Redis's n^2 comparisons. */
static int prefixes_ok(client *c, arg **pfx, int npfx) {
    trk_client *t = c->trk;
    int given_overlap = 0;
    arg **sorted = NULL;
    if (npfx > 1) {
        sorted = s_malloc((size_t)npfx * sizeof(*sorted));
        memcpy(sorted, pfx, (size_t)npfx * sizeof(*sorted));
        qsort(sorted, (size_t)npfx, sizeof(*sorted), arg_ptr_cmp);
        for (int i = 0; i + 1 < npfx && !given_overlap; i++)
            given_overlap = overlaps(sorted[i]->p, sorted[i]->len, sorted[i + 1]->p, sorted[i + 1]->len);
    }
    int ok = 1;
    for (int i = 0; i < npfx && ok; i++) {
        int k = existing_overlap(t, pfx[i]);
        if (k >= 0) {
            reply_errorf(c,
                         "ERR Prefix '%.*s' overlaps with an existing prefix '%.*s'. Prefixes for a single client "
                         "must not overlap.",
                         (int)strnlen(pfx[i]->p, pfx[i]->len), pfx[i]->p, (int)strnlen(t->prefix[k], t->plen[k]),
                         t->prefix[k]);
            ok = 0;
            break;
        }
        if (!given_overlap) continue;
        const arg *a = NULL, *b = NULL;
        if (npfx <= PREFIX_EXACT_PAIR_MAX) {
            for (int j = i + 1; j < npfx && !b; j++)
                if (overlaps(pfx[i]->p, pfx[i]->len, pfx[j]->p, pfx[j]->len)) a = pfx[i], b = pfx[j];
        } else {
            for (int j = 0; j + 1 < npfx && !b; j++)
                if (overlaps(sorted[j]->p, sorted[j]->len, sorted[j + 1]->p, sorted[j + 1]->len))
                    a = sorted[j], b = sorted[j + 1];
        }
        if (b) {
            reply_errorf(c,
                         "ERR Prefix '%.*s' overlaps with another provided prefix '%.*s'. Prefixes for a single "
                         "client must not overlap.",
                         (int)strnlen(a->p, a->len), a->p, (int)strnlen(b->p, b->len), b->p);
            ok = 0;
        }
    }
    s_free(sorted);
    return ok;
}

/* CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP] */
void cmd_client_tracking(client *c) {
    long long redir = 0;
    int bcast = 0, opts = 0, npfx = 0;
    arg **pfx = NULL;
    for (int j = 3; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        const arg *a = &c->argv[j];
        if (arg_is(a, "redirect") && more) {
            j++;
            if (redir != 0) {
                reply_error(c, "ERR A client can only redirect to a single other client");
                goto out;
            }
            if (!str2ll(c->argv[j].p, c->argv[j].len, &redir)) {
                reply_not_int(c);
                goto out;
            }
            if (redir <= 0 || !any_client_by_id((uint64_t)redir)) {
                reply_error(c, "ERR The client ID you want redirect to does not exist");
                goto out;
            }
        } else if (arg_is(a, "bcast")) {
            bcast = 1;
        } else if (arg_is(a, "optin")) {
            opts |= TRK_OPTIN;
        } else if (arg_is(a, "optout")) {
            opts |= TRK_OPTOUT;
        } else if (arg_is(a, "noloop")) {
            opts |= TRK_NOLOOP;
        } else if (arg_is(a, "prefix") && more) {
            j++;
            if (!pfx) pfx = s_malloc((size_t)c->argc * sizeof(*pfx)); /* room for every argument */
            pfx[npfx++] = &c->argv[j];
        } else {
            reply_syntax_error(c);
            goto out;
        }
    }
    if (arg_is(&c->argv[2], "on")) {
        if (!bcast && npfx) {
            reply_error(c, "ERR PREFIX option requires BCAST mode to be enabled");
            goto out;
        }
        if ((c->xflags & CLIENT_TRACKING) && !!(c->xflags & CLIENT_TRACKING_BCAST) != bcast) {
            reply_error(c, "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and "
                           "then re-enabling it with a different mode.");
            goto out;
        }
        if (bcast && (opts & (TRK_OPTIN | TRK_OPTOUT))) {
            reply_error(c, "ERR OPTIN and OPTOUT are not compatible with BCAST");
            goto out;
        }
        if ((opts & TRK_OPTIN) && (opts & TRK_OPTOUT)) {
            reply_error(c, "ERR You can't specify both OPTIN mode and OPTOUT mode");
            goto out;
        }
        int cur = c->trk ? c->trk->opts : 0;
        if (((opts & TRK_OPTIN) && (cur & TRK_OPTOUT)) || ((opts & TRK_OPTOUT) && (cur & TRK_OPTIN))) {
            reply_error(c, "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and "
                           "then re-enabling it with a different mode.");
            goto out;
        }
        if (bcast && !prefixes_ok(c, pfx, npfx)) goto out;
        enable(c, (uint64_t)redir, bcast, opts, pfx, npfx);
    } else if (arg_is(&c->argv[2], "off")) {
        tracking_disable(c);
    } else {
        reply_syntax_error(c);
        goto out;
    }
    reply_ok(c);
out:
    s_free(pfx);
}

void cmd_client_caching(client *c) {
    if (!(c->xflags & CLIENT_TRACKING)) {
        reply_error(c, "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or "
                       "OPTOUT mode enabled");
        return;
    }
    const arg *a = &c->argv[2];
    if (arg_is(a, "yes")) {
        if (!(c->trk->opts & TRK_OPTIN)) {
            reply_error(c, "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
            return;
        }
    } else if (arg_is(a, "no")) {
        if (!(c->trk->opts & TRK_OPTOUT)) {
            reply_error(c, "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
            return;
        }
    } else {
        reply_syntax_error(c);
        return;
    }
    c->trk->opts |= TRK_CACHING;
    reply_ok(c);
}

void cmd_client_getredir(client *c) {
    reply_int(c, (c->xflags & CLIENT_TRACKING) ? (long long)c->trk_redir : -1);
}

void cmd_client_trackinginfo(client *c) {
    reply_map(c, 3);
    reply_bulk_cstr(c, "flags");
    size_t pos = reply_defer(c);
    long n = 1;
    int opts = c->trk ? c->trk->opts : 0;
    reply_bulk_cstr(c, (c->xflags & CLIENT_TRACKING) ? "on" : "off");
    if (c->xflags & CLIENT_TRACKING_BCAST) reply_bulk_cstr(c, "bcast"), n++;
    if (opts & TRK_OPTIN) {
        reply_bulk_cstr(c, "optin"), n++;
        if (opts & TRK_CACHING) reply_bulk_cstr(c, "caching-yes"), n++;
    }
    if (opts & TRK_OPTOUT) {
        reply_bulk_cstr(c, "optout"), n++;
        if (opts & TRK_CACHING) reply_bulk_cstr(c, "caching-no"), n++;
    }
    if (opts & TRK_NOLOOP) reply_bulk_cstr(c, "noloop"), n++;
    if (c->xflags & CLIENT_TRACKING_BROKEN_REDIR) reply_bulk_cstr(c, "broken_redirect"), n++;
    reply_defer_set(c, pos, n, '~');
    reply_bulk_cstr(c, "redirect");
    reply_int(c, (c->xflags & CLIENT_TRACKING) ? (long long)c->trk_redir : -1);
    reply_bulk_cstr(c, "prefixes");
    int np = c->trk ? c->trk->nprefix : 0;
    reply_array(c, np);
    for (int k = 0; k < np; k++) reply_bulk(c, c->trk->prefix[k], c->trk->plen[k]);
}

long long tracking_clients_count(void) { return by_id ? (long long)by_id->count : 0; }
uint64_t tracking_total_keys(void) { return tcount; }
uint64_t tracking_total_items(void) { return titems; }
uint64_t tracking_total_prefixes(void) { return nprefixes; }
