/* bgbuild: a big DUMP payload's value built on a worker thread.
 *
 * Why: RESTORE of a sorted set of millions of members is seconds of work for Redis, all of it on its
 * only thread; Sardine builds it in a fraction of that, but a fraction of seconds is still a pause for
 * every other client.  Here the checksum and the build (persist/rdb_load.h) run on a worker thread
 * while the event loop goes on serving; the caller (RESTORE) keeps its client waiting and gets a
 * callback on the event loop thread once the value is ready, then inserts it like any other.
 *
 * What the worker may touch: the payload (owned by the caller until the callback, and not changed),
 * the heap (thread-safe) and the arena through a private context (mem/arena.h: whole pages of its own,
 * handed to the shared lists on the event loop thread before the callback).  The builders of the
 * types accepted here (bgbuild_accepts) use no other shared state: the encoding limits they read are
 * only written by CONFIG SET on the event loop thread, and a value built with the old limits is as
 * valid as one restored just before the change.  Streams are built on the event loop thread (their
 * check shares a scratch buffer).
 *
 * Order: one worker, jobs in submission order.  The callback runs from the event loop (a pipe
 * wakes it), never from inside a command. */
#ifndef SARDINE_BGBUILD_H
#define SARDINE_BGBUILD_H
#include <stddef.h>
#include "keyspace/entry.h"

typedef struct bgbuild bgbuild;
typedef void bgbuild_done_fn(bgbuild *b, void *ud);

/* 1 when the payload's value type is one the worker builds (not streams, not modules). */
int bgbuild_accepts(const unsigned char *p, size_t n);
/* Starts a build of the payload p[0..n) (footer included, not yet verified); done(b, ud) is called on
 * the event loop thread when it finished.  p must stay valid and unchanged until then. */
bgbuild *bgbuild_start(const unsigned char *p, size_t n, int deep, bgbuild_done_fn *done, void *ud);
/* The same for a payload of n bytes of which only avail have arrived at p (where the rest will arrive:
 * p must not move): built as it arrives, on a thread of its own, the checksum taken while it waits.
 * bgbuild_feed tells it of more bytes; bgbuild_cancel (the bytes will never come) makes it end soon
 * with an error, done() still being called.  NULL when too many are under way (build it whole later). */
bgbuild *bgbuild_arriving(const unsigned char *p, size_t n, size_t avail, int deep, bgbuild_done_fn *done, void *ud);
void bgbuild_feed(bgbuild *b, size_t avail);
void bgbuild_cancel(bgbuild *b);
/* In done(): 1 with the value moved to *v (the caller owns it), 0 with *err (a bad payload: "Bad data
 * format" to the client, err to the log), -1 when the footer's version or checksum is wrong. */
int bgbuild_take(bgbuild *b, entry_value *v, const char **err);
/* After done(): frees the job, and a value not taken (lazily, as a deleted key's). */
void bgbuild_free(bgbuild *b);
size_t bgbuild_running(void); /* jobs submitted and not yet called back (INFO, tests) */
/* Tests (DEBUG RESTORE-BG-HOLD): while on, the worker starts no job, so a client's RESTORE stays
 * waiting for as long as a test needs to show what happens meanwhile. */
void bgbuild_hold(int on);
#endif
