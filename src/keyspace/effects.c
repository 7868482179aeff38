/* effects: see effects.h.  A fixed array of listeners (there are a handful,
 * registered at startup); each announcement walks it in order. */
#include "keyspace/effects.h"
#include "server/server.h"
#include <assert.h>

#define FX_MAX_LISTENERS 16

static const fx_listener *listeners[FX_MAX_LISTENERS];
static int nlisteners;
static int before_wanted;

int fx_before_wanted(void) { return before_wanted; }
void fx_before_want(int on) { before_wanted = on; }

void fx_listen(const fx_listener *l) {
    assert(nlisteners < FX_MAX_LISTENERS);
    listeners[nlisteners++] = l;
}

void fx_before(db *d, const char *key, size_t klen) {
    for (int i = 0; i < nlisteners; i++)
        if (listeners[i]->key_before) listeners[i]->key_before(listeners[i]->ud, d, key, klen);
}

void fx_key(db *d, const char *key, size_t klen, int cls, const char *event) {
    /* Expiry and eviction are not the running command's writes (see effects.h). */
    if (!(cls & (FX_EXPIRED | FX_EVICTED))) srv.dirty++;
    for (int i = 0; i < nlisteners; i++)
        if (listeners[i]->key_changed) listeners[i]->key_changed(listeners[i]->ud, d, key, klen, cls, event);
}

void fx_event(db *d, const char *key, size_t klen, int cls, const char *event) {
    for (int i = 0; i < nlisteners; i++)
        if (listeners[i]->key_changed) listeners[i]->key_changed(listeners[i]->ud, d, key, klen, cls, event);
}

void fx_key_miss(db *d, const char *key, size_t klen) {
    for (int i = 0; i < nlisteners; i++)
        if (listeners[i]->key_miss) listeners[i]->key_miss(listeners[i]->ud, d, key, klen);
}

void fx_ready(db *d, const char *key, size_t klen) {
    for (int i = 0; i < nlisteners; i++)
        if (listeners[i]->key_ready) listeners[i]->key_ready(listeners[i]->ud, d, key, klen);
}

void fx_flushing(db *d) {
    srv.dirty += (long long)d->t.count;
    for (int i = 0; i < nlisteners; i++)
        if (listeners[i]->db_flushing) listeners[i]->db_flushing(listeners[i]->ud, d);
}

void fx_swapping(db *a, db *b) {
    srv.dirty++;
    for (int i = 0; i < nlisteners; i++)
        if (listeners[i]->db_swapping) listeners[i]->db_swapping(listeners[i]->ud, a, b);
}
