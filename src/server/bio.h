/* bio: the background thread that frees big values (and, later, fsyncs).
 * Jobs run in submission order.  A job must touch nothing the event loop
 * thread uses: by the time a value is submitted it is unreachable. */
#ifndef SARDINE_BIO_H
#define SARDINE_BIO_H
#include <stddef.h>

typedef void bio_fn(void *a, void *b);
void bio_init(void);
void bio_submit(bio_fn *fn, void *a, void *b);
size_t bio_pending(void);
void bio_drain(void); /* waits until the queue is empty (shutdown, tests) */
void bio_stop(void);  /* drains, then ends and joins the thread */
#endif
