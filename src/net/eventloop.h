/* eventloop: a minimal epoll reactor.
 *
 * File events: one read and one write handler per fd, level-triggered.
 * Time: a single periodic callback (the server cron) at a given interval, and
 * a before-sleep hook that runs once per iteration before epoll_wait (where
 * replies are flushed and expired keys reaped).  Handlers run on the one
 * thread that owns all server state. */
#ifndef SARDINE_EVENTLOOP_H
#define SARDINE_EVENTLOOP_H

enum { EL_READABLE = 1, EL_WRITABLE = 2 };

typedef void el_file_fn(int fd, void *data, int mask);
typedef void el_hook_fn(void);
/* Returns the milliseconds until it wants to run again. */
typedef int el_timer_fn(void);

typedef struct eloop eloop;

eloop *el_create(int setsize);
int el_resize(eloop *el, int setsize);
int el_add(eloop *el, int fd, int mask, el_file_fn *fn, void *data);
void el_del(eloop *el, int fd, int mask);
int el_mask(eloop *el, int fd);
/* Events of this fd are handled before the others of the same batch (listening sockets: a connection
 * established before a command was sent is accepted before that command runs). */
void el_set_first(eloop *el, int fd);
void el_set_timer(eloop *el, el_timer_fn *fn, int first_ms);
void el_set_before_sleep(eloop *el, el_hook_fn *fn);
/* Called after an iteration that kept the loop busy for at least threshold_ms (the latency monitor). */
typedef void el_long_iteration_fn(long long ms);
void el_set_long_iteration(eloop *el, el_long_iteration_fn *fn);
void el_stop(eloop *el);
void el_run(eloop *el);
/* Handles the file events ready now, without waiting, timers or the before-sleep hook (for work that
 * holds the loop for long, such as loading the dataset or a busy script, to keep accepting and answering
 * clients); returns how many there were.  Safe to call from inside a handler: it has its own array of
 * events, so the outer iteration's are kept apart. */
int el_poll(eloop *el);
/* Whether the loop has something to do right away (timeout 0 for epoll). */
void el_set_busy(eloop *el, int busy);
/* Caps how long epoll_wait may sleep (ms; -1 = no cap). */
void el_set_max_wait(eloop *el, int ms);
/* The longest time one loop iteration kept the loop busy (from epoll_wait's return to its next call), and
 * the number of iterations; reset with el_reset_stats. */
long long el_max_iteration_us(const eloop *el);
/* The same in thread CPU time: the work itself, without time the thread spent preempted. */
long long el_max_iteration_cpu_us(const eloop *el);
long long el_iterations(const eloop *el);
void el_reset_stats(eloop *el);
#endif
