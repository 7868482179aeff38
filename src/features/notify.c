/* notify: see notify.h.  The enabled classes live in srv.notify_keyspace_events (config.c writes them);
 * with none enabled the listener returns at its first test, so the cost of notifications that nobody
 * enabled is one branch per change. */
#include "features/notify.h"
#include "features/pubsub.h"
#include "keyspace/db.h"
#include "keyspace/effects.h"
#include "server/server.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <string.h>

#define NOTIFY_ALL                                                                                                    \
    (FX_GENERIC | FX_STRING | FX_LIST | FX_SET | FX_HASH | FX_ZSET | FX_EXPIRED | FX_EVICTED | FX_STREAM |          \
     NOTIFY_MODULE)

int notify_flags_parse(const char *s) {
    int f = 0;
    for (; *s; s++) {
        switch (*s) {
        case 'A': f |= NOTIFY_ALL; break;
        case 'g': f |= FX_GENERIC; break;
        case '$': f |= FX_STRING; break;
        case 'l': f |= FX_LIST; break;
        case 's': f |= FX_SET; break;
        case 'h': f |= FX_HASH; break;
        case 'z': f |= FX_ZSET; break;
        case 'x': f |= FX_EXPIRED; break;
        case 'e': f |= FX_EVICTED; break;
        case 'K': f |= NOTIFY_KEYSPACE; break;
        case 'E': f |= NOTIFY_KEYEVENT; break;
        case 't': f |= FX_STREAM; break;
        case 'm': f |= FX_KEY_MISS; break;
        case 'd': f |= NOTIFY_MODULE; break;
        case 'n': f |= FX_NEW; break;
        default: return -1;
        }
    }
    return f;
}

void notify_flags_string(int f, char *buf) {
    char *p = buf;
    if ((f & NOTIFY_ALL) == NOTIFY_ALL) {
        *p++ = 'A';
    } else {
        static const struct { int bit; char ch; } order[] = {
            {FX_GENERIC, 'g'}, {FX_STRING, '$'}, {FX_LIST, 'l'}, {FX_SET, 's'},    {FX_HASH, 'h'}, {FX_ZSET, 'z'},
            {FX_EXPIRED, 'x'}, {FX_EVICTED, 'e'}, {FX_STREAM, 't'}, {NOTIFY_MODULE, 'd'}, {FX_NEW, 'n'}};
        for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
            if (f & order[i].bit) *p++ = order[i].ch;
    }
    if (f & NOTIFY_KEYSPACE) *p++ = 'K';
    if (f & NOTIFY_KEYEVENT) *p++ = 'E';
    if (f & FX_KEY_MISS) *p++ = 'm';
    *p = 0;
}

/* "__key<kind>@<db>__:<tail>" into a stack buffer when it fits. */
static void publish_on(const char *kind, int dbid, const char *tail, size_t tlen, const char *msg, size_t mlen) {
    char small[256], *buf = small;
    size_t need = 11 + 24 + 3 + tlen;
    if (need > sizeof(small)) buf = s_malloc(need);
    size_t n = 0;
    memcpy(buf, kind, 11);
    n = 11;
    n += (size_t)ll2str(buf + n, dbid);
    memcpy(buf + n, "__:", 3);
    n += 3;
    memcpy(buf + n, tail, tlen);
    n += tlen;
    pubsub_publish(buf, n, msg, mlen, 0);
    if (buf != small) s_free(buf);
}

static void notify(int cls, const char *event, db *d, const char *key, size_t klen) {
    int f = srv.notify_keyspace_events;
    if (!(f & cls) || !event) return;
    size_t elen = strlen(event);
    if (f & NOTIFY_KEYSPACE) publish_on("__keyspace@", d->id, key, klen, event, elen);
    if (f & NOTIFY_KEYEVENT) publish_on("__keyevent@", d->id, event, elen, key, klen);
}

static void on_key_changed(void *ud, db *d, const char *key, size_t klen, int cls, const char *event) {
    (void)ud;
    notify(cls, event, d, key, klen);
}

static void on_key_miss(void *ud, db *d, const char *key, size_t klen) {
    (void)ud;
    notify(FX_KEY_MISS, "keymiss", d, key, klen);
}

static const fx_listener notify_listener = {.key_changed = on_key_changed, .key_miss = on_key_miss};

void notify_init(void) { fx_listen(&notify_listener); }
