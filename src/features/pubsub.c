/* pubsub: see pubsub.h.
 *
 * Layout.  A channel (or pattern) is a `pchan`: its subscribers in an array
 * of (client, the client's set entry for it) slots, and its name, which is
 * the key of its entry in the server's map (the entry never moves, dict.h).
 * A client's set (client->ps_sets[kind]) is a dict keyed by the pchan's
 * address whose value is the client's index in pchan->subs.  Removing a
 * subscriber moves the array's last slot into the hole and updates that
 * slot's set entry, so each removal is O(1).
 *
 * Patterns are also hung on a byte trie by their literal prefix: a pattern
 * "news.*" sits on the node reached by "news.", "*" and "?x" on the root.  A
 * channel walks the trie along its own bytes and only the patterns on the
 * nodes it passes are matched with glob_match: the walk is O(length), and the
 * matching costs the patterns that share a prefix with the channel, however
 * many other patterns exist.
 *
 * Invariants (checked in debug builds): pchan->subs[i].ref->val == i and the
 * ref's key is the pchan; a pchan with no subscribers does not exist; a trie
 * node with neither patterns nor children does not exist (but the root). */
#include "features/pubsub.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "util/debug.h"
#include "util/dict.h"
#include "util/glob.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <string.h>
#include <strings.h>

enum { PS_CHANNEL = 0, PS_PATTERN = 1, PS_SHARD = 2 };

typedef struct sub_slot {
    client *c;
    dict_entry *ref; /* in c->ps_sets[kind]: val is this slot's index */
} sub_slot;

struct pnode;

typedef struct pchan {
    sub_slot *subs;
    uint32_t n, cap;
    dict_entry *name;   /* the server map's entry: key is the name */
    struct pnode *node; /* patterns: the trie node holding it */
    uint32_t pidx;      /* patterns: the index in node->pats */
} pchan;

typedef struct pnode {
    struct pnode *parent;
    struct pnode **kids;
    unsigned char *bytes; /* kids[i] is reached by bytes[i] */
    pchan **pats;
    uint16_t nkids, kcap;
    uint32_t npats, pcap;
    unsigned char byte;
} pnode;

static dict *maps[3]; /* name -> pchan, per kind */
static pnode trie_root;

static dict *map(int kind) {
    if (!maps[kind]) maps[kind] = dict_new(0);
    return maps[kind];
}

size_t pubsub_channels_count(void) { return maps[PS_CHANNEL] ? maps[PS_CHANNEL]->count : 0; }
size_t pubsub_patterns_count(void) { return maps[PS_PATTERN] ? maps[PS_PATTERN]->count : 0; }
size_t pubsub_shard_channels_count(void) { return maps[PS_SHARD] ? maps[PS_SHARD]->count : 0; }

static size_t client_count(const client *c, int kind) { return c->ps_sets[kind] ? c->ps_sets[kind]->count : 0; }

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

/* ---- the pattern trie ---- */

static size_t literal_prefix(const char *p, size_t len) {
    size_t i = 0;
    while (i < len && p[i] != '*' && p[i] != '?' && p[i] != '[' && p[i] != '\\') i++;
    return i;
}

static pnode *child(const pnode *n, unsigned char b) {
    for (uint16_t i = 0; i < n->nkids; i++)
        if (n->bytes[i] == b) return n->kids[i];
    return NULL;
}

static void trie_add(pchan *pc) {
    const char *p = pc->name->key;
    size_t plen = literal_prefix(p, pc->name->klen);
    pnode *n = &trie_root;
    for (size_t i = 0; i < plen; i++) {
        unsigned char b = (unsigned char)p[i];
        pnode *k = child(n, b);
        if (!k) {
            k = s_calloc(sizeof(*k));
            k->parent = n;
            k->byte = b;
            if (n->nkids == n->kcap) {
                n->kcap = n->kcap ? (uint16_t)(n->kcap * 2 > 256 ? 256 : n->kcap * 2) : 2;
                n->kids = s_realloc(n->kids, n->kcap * sizeof(*n->kids));
                n->bytes = s_realloc(n->bytes, n->kcap);
            }
            n->kids[n->nkids] = k;
            n->bytes[n->nkids++] = b;
        }
        n = k;
    }
    if (n->npats == n->pcap) {
        n->pcap = n->pcap ? n->pcap * 2 : 1;
        n->pats = s_realloc(n->pats, n->pcap * sizeof(*n->pats));
    }
    pc->node = n;
    pc->pidx = n->npats;
    n->pats[n->npats++] = pc;
}

static void trie_del(pchan *pc) {
    pnode *n = pc->node;
    DBG_ASSERT(n->pats[pc->pidx] == pc);
    pchan *last = n->pats[--n->npats];
    n->pats[pc->pidx] = last;
    last->pidx = pc->pidx;
    /* prune the nodes left with nothing */
    while (n != &trie_root && !n->npats && !n->nkids) {
        pnode *p = n->parent;
        for (uint16_t i = 0; i < p->nkids; i++)
            if (p->kids[i] == n) {
                p->kids[i] = p->kids[p->nkids - 1];
                p->bytes[i] = p->bytes[p->nkids - 1];
                p->nkids--;
                break;
            }
        s_free(n->kids);
        s_free(n->bytes);
        s_free(n->pats);
        s_free(n);
        n = p;
    }
    if (n->npats == 0 && n->pats) {
        s_free(n->pats);
        n->pats = NULL;
        n->pcap = 0;
    }
}

/* ---- registries ---- */

/* Adds c to name's subscribers; 0 if it was subscribed already. */
static int subscribe(client *c, int kind, const char *name, size_t len) {
    int created;
    dict_entry *ge = dict_upsert(map(kind), name, len, &created);
    pchan *pc = ge->val;
    if (!pc) {
        pc = s_calloc(sizeof(*pc));
        pc->name = ge;
        ge->val = pc;
        if (kind == PS_PATTERN) trie_add(pc);
    }
    if (!c->ps_sets[kind]) c->ps_sets[kind] = dict_new(0);
    dict_entry *ce = dict_upsert(c->ps_sets[kind], (const char *)&pc, sizeof(pc), &created);
    if (!created) return 0;
    if (pc->n == pc->cap) {
        pc->cap = pc->cap ? pc->cap * 2 : 1;
        pc->subs = s_realloc(pc->subs, pc->cap * sizeof(*pc->subs));
    }
    pc->subs[pc->n].c = c;
    pc->subs[pc->n].ref = ce;
    ce->val = (void *)(uintptr_t)pc->n;
    pc->n++;
    return 1;
}

/* Removes the subscription that c's set entry ce stands for (ce is deleted too). */
static void unsubscribe_entry(client *c, int kind, pchan *pc) {
    dict_entry *ce = dict_find(c->ps_sets[kind], (const char *)&pc, sizeof(pc));
    DBG_ASSERT(ce);
    uint32_t i = (uint32_t)(uintptr_t)ce->val;
    DBG_ASSERT(i < pc->n && pc->subs[i].c == c && pc->subs[i].ref == ce);
    pc->subs[i] = pc->subs[--pc->n];
    pc->subs[i].ref->val = (void *)(uintptr_t)i;
    dict_del(c->ps_sets[kind], (const char *)&pc, sizeof(pc), NULL);
    if (pc->n == 0) {
        if (kind == PS_PATTERN) trie_del(pc);
        dict_entry *ge = pc->name;
        char *nm = s_malloc(ge->klen ? ge->klen : 1);
        size_t nl = ge->klen;
        memcpy(nm, ge->key, nl);
        dict_del(maps[kind], nm, nl, NULL);
        s_free(nm);
        s_free(pc->subs);
        s_free(pc);
    }
}

static pchan *find(int kind, const char *name, size_t len) {
    return maps[kind] ? dict_get(maps[kind], name, len) : NULL;
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
    if (name) reply_bulk(c, name, len);
    else reply_null(c);
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

/* Unsubscribes from every name in the client's set of kind, replying to each when notify. */
static size_t unsubscribe_all_kind(client *c, int kind, int notify) {
    dict *s = c->ps_sets[kind];
    size_t count = 0;
    if (s) {
        for (size_t i = 0; i < s->size; i++) {
            while (s->tab[i]) {
                pchan *pc;
                memcpy(&pc, s->tab[i]->key, sizeof(pc));
                /* the name outlives the channel only as long as we copy it */
                size_t nl = pc->name->klen;
                char small[128], *nm = nl <= sizeof(small) ? small : s_malloc(nl);
                memcpy(nm, pc->name->key, nl);
                unsubscribe_entry(c, kind, pc);
                count++;
                if (notify) reply_subscription(c, unsub_word[kind], nm, nl, reply_count(c, kind));
                if (nm != small) s_free(nm);
            }
        }
    }
    if (notify && count == 0) reply_subscription(c, unsub_word[kind], NULL, 0, reply_count(c, kind));
    return count;
}

static void unsubscribe_cmd(client *c, int kind) {
    if (c->argc == 1) {
        unsubscribe_all_kind(c, kind, 1);
    } else {
        for (int j = 1; j < c->argc; j++) {
            pchan *pc = find(kind, c->argv[j].p, c->argv[j].len);
            if (pc && c->ps_sets[kind] && dict_find(c->ps_sets[kind], (const char *)&pc, sizeof(pc)))
                unsubscribe_entry(c, kind, pc);
            reply_subscription(c, unsub_word[kind], c->argv[j].p, c->argv[j].len, reply_count(c, kind));
        }
    }
    update_mode(c);
}

void cmd_subscribe(client *c) { subscribe_cmd(c, PS_CHANNEL); }
void cmd_psubscribe(client *c) { subscribe_cmd(c, PS_PATTERN); }
void cmd_ssubscribe(client *c) {
    if (srv.in_exec) { /* Redis denies blocking inside EXEC, and SSUBSCRIBE counts as blocking there */
        reply_error(c, "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
        return;
    }
    subscribe_cmd(c, PS_SHARD);
}
void cmd_unsubscribe(client *c) { unsubscribe_cmd(c, PS_CHANNEL); }
void cmd_punsubscribe(client *c) { unsubscribe_cmd(c, PS_PATTERN); }
void cmd_sunsubscribe(client *c) { unsubscribe_cmd(c, PS_SHARD); }

void pubsub_unsubscribe_all(client *c) {
    for (int k = 0; k < 3; k++) {
        if (!c->ps_sets[k]) continue;
        unsubscribe_all_kind(c, k, 0);
        dict_free(c->ps_sets[k], NULL);
        c->ps_sets[k] = NULL;
    }
    c->flags &= ~CLIENT_PUBSUB;
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

long pubsub_publish(const char *ch, size_t chlen, const char *msg, size_t mlen, int shard) {
    long receivers = 0;
    int kind = shard ? PS_SHARD : PS_CHANNEL;
    pchan *pc = find(kind, ch, chlen);
    if (pc) {
        msgbuf b = {0};
        mb_add(&b, shard ? "*3\r\n$8\r\nsmessage\r\n" : "*3\r\n$7\r\nmessage\r\n", shard ? 18 : 17);
        mb_bulk(&b, ch, chlen);
        mb_bulk(&b, msg, mlen);
        for (uint32_t i = 0; i < pc->n; i++) deliver(pc->subs[i].c, &b);
        receivers += pc->n;
        s_free(b.p);
    }
    if (shard || !maps[PS_PATTERN] || !maps[PS_PATTERN]->count) return receivers;
    /* the patterns whose literal prefix the channel starts with */
    msgbuf b = {0};
    size_t tail = 0; /* where the channel and message start in b */
    const pnode *n = &trie_root;
    for (size_t i = 0;; i++) {
        for (uint32_t k = 0; k < n->npats; k++) {
            pchan *pp = n->pats[k];
            if (!glob_match(pp->name->key, pp->name->klen, ch, chlen, 0)) continue;
            if (!b.p) {
                mb_add(&b, "*4\r\n$8\r\npmessage\r\n", 18);
                tail = b.len;
                mb_bulk(&b, ch, chlen);
                mb_bulk(&b, msg, mlen);
            }
            /* the pattern goes before the channel: rebuild the head for this pattern */
            msgbuf h = {0};
            mb_add(&h, b.p, 18);
            mb_bulk(&h, pp->name->key, pp->name->klen);
            for (uint32_t s = 0; s < pp->n; s++) {
                client *c = pp->subs[s].c;
                h.p[0] = c->resp >= 3 ? '>' : '*';
                c->flags |= CLIENT_PUSHING;
                reply_raw(c, h.p, h.len);
                reply_raw(c, b.p + tail, b.len - tail);
                c->flags &= ~CLIENT_PUSHING;
            }
            receivers += pp->n;
            s_free(h.p);
        }
        if (i == chlen) break;
        n = child(n, (unsigned char)ch[i]);
        if (!n) break;
    }
    s_free(b.p);
    return receivers;
}

void cmd_publish(client *c) {
    reply_int(c, pubsub_publish(c->argv[1].p, c->argv[1].len, c->argv[2].p, c->argv[2].len, 0));
}

void cmd_spublish(client *c) {
    reply_int(c, pubsub_publish(c->argv[1].p, c->argv[1].len, c->argv[2].p, c->argv[2].len, 1));
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
    dict *d = maps[kind];
    for (size_t i = 0; d && i < d->size; i++)
        for (dict_entry *e = d->tab[i]; e; e = e->next)
            if (!pat || glob_match(pat->p, pat->len, e->key, e->klen, 0)) {
                reply_bulk(c, e->key, e->klen);
                n++;
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

void cmd_pubsub_channels(client *c) { channel_list(c, PS_CHANNEL); }
void cmd_pubsub_shardchannels(client *c) { channel_list(c, PS_SHARD); }
void cmd_pubsub_numsub(client *c) { numsub(c, PS_CHANNEL); }
void cmd_pubsub_shardnumsub(client *c) { numsub(c, PS_SHARD); }
void cmd_pubsub_numpat(client *c) { reply_int(c, (long long)pubsub_patterns_count()); }

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
