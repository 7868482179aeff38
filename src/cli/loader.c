/* loader: pipelined writes with bounded bytes in flight.
 *
 * Invariants:
 *  - out.p[out_pos..out.len) are bytes produced but not yet written; they are
 *    only produced while written-but-unacknowledged + pending < window, so
 *    the server's query buffer and our memory stay bounded.
 *  - q (a ring) holds, in order, one entry per command produced and not yet
 *    answered: its input line and size.  Every complete top-level reply pops
 *    one entry, except the final marker echo, recognised by content.
 *  - Replies are scanned token by token with a stack of remaining element
 *    counts, without allocation, and never rescanned.
 *  - The socket is non-blocking; one poll() loop drives both directions, so
 *    we never wait for a reply before sending more. */
#include "cli/loader.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/config.h"
#include "cli/resp.h"
#include "cli/session.h"

typedef struct inflight {
    uint64_t line;
    uint64_t bytes;
} inflight;

struct loader {
    int fd;
    buf out;
    size_t out_pos;
    inflight *q;
    size_t qhead, qlen, qcap;
    uint64_t produced, written_bytes, acked_bytes;
    uint64_t replies, errors, shown;
    uint64_t last_line, last_acked_line;
    char *rbuf;
    size_t rlen, rpos, rcap;
    long long *stack;
    size_t depth, stack_cap;
    int top_is_marker_candidate;
    char marker[20];
    int marker_sent, done;
    uint64_t in_pos;
    double start, last_progress, last_reply_time;
    int progress, progress_shown;
    int can_read;
    const loader_opts *opts;
    struct {
        uint64_t line;
        char *msg;
    } first[10];
    int nfirst;
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void loader_cmd(loader *ld, uint64_t line, size_t bytes) {
    if (ld->qlen == ld->qcap) {
        size_t ncap = ld->qcap ? ld->qcap * 2 : 4096;
        inflight *nq = xmalloc(ncap * sizeof(*nq));
        for (size_t i = 0; i < ld->qlen; i++) nq[i] = ld->q[(ld->qhead + i) % ld->qcap];
        free(ld->q);
        ld->q = nq;
        ld->qcap = ncap;
        ld->qhead = 0;
    }
    inflight *e = &ld->q[(ld->qhead + ld->qlen) % ld->qcap];
    e->line = line;
    e->bytes = bytes;
    ld->qlen++;
    ld->produced++;
    ld->last_line = line;
}

void loader_input_pos(loader *ld, uint64_t pos) {
    ld->in_pos = pos;
}

int loader_may_read(loader *ld) {
    if (!ld->can_read) return 0;
    ld->can_read = 0;
    return 1;
}

static void clear_progress(loader *ld) {
    if (ld->progress_shown) {
        fputs("\r\033[K", stderr);
        ld->progress_shown = 0;
    }
}

void loader_msg(loader *ld, const char *fmt, ...) {
    clear_progress(ld);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

static void human_rate(char *dst, size_t n, double v) {
    if (v >= 1e6)
        snprintf(dst, n, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(dst, n, "%.1fk", v / 1e3);
    else
        snprintf(dst, n, "%.0f", v);
}

static void show_progress(loader *ld, double t) {
    double el = t - ld->start;
    char rate[32];
    human_rate(rate, sizeof(rate), el > 0 ? (double)ld->replies / el : 0);
    char eta[48] = "";
    if (ld->opts->input_size && ld->in_pos > 0 && el > 1) {
        double frac = (double)ld->in_pos / (double)ld->opts->input_size;
        if (frac > 0 && frac <= 1)
            snprintf(eta, sizeof(eta), ", ETA %.0fs (%.0f%%)", el / frac - el, frac * 100);
    }
    fprintf(stderr, "\r\033[K%llu %s sent, %llu replies, %llu errors, %s/s, %.1fs elapsed%s",
            (unsigned long long)ld->produced, ld->opts->unit, (unsigned long long)ld->replies,
            (unsigned long long)ld->errors, rate, el, eta);
    ld->progress_shown = 1;
}

static void on_reply(loader *ld, int is_error, const char *msg, size_t msglen) {
    uint64_t line = 0;
    if (ld->qlen) {
        inflight *e = &ld->q[ld->qhead];
        line = e->line;
        ld->acked_bytes += e->bytes;
        ld->qhead = (ld->qhead + 1) % ld->qcap;
        ld->qlen--;
    }
    ld->replies++;
    ld->last_acked_line = line;
    ld->last_reply_time = now();
    if (!is_error) return;
    ld->errors++;
    if (ld->opts->pipe_compat) {
        clear_progress(ld);
        fwrite(msg, 1, msglen, stderr);
        fputc('\n', stderr);
    } else if (ld->shown < (uint64_t)ld->opts->max_shown_errors) {
        loader_msg(ld, "line %llu: %.*s\n", (unsigned long long)line, (int)msglen, msg);
        ld->shown++;
    }
    if (ld->nfirst < 10) {
        ld->first[ld->nfirst].line = line;
        ld->first[ld->nfirst].msg = strndup(msg, msglen);
        ld->nfirst++;
    }
}

/* Scan complete replies in rbuf.  Returns -1 on a protocol error. */
static int scan_replies(loader *ld) {
    for (;;) {
        resp_tok t;
        long used = resp_token(ld->rbuf + ld->rpos, ld->rlen - ld->rpos, &t);
        if (used == 0) break;
        if (used < 0) return -1;
        ld->rpos += (size_t)used;
        int agg = t.type == '*' || t.type == '%' || t.type == '~' || t.type == '>' || t.type == '|';
        if (agg && t.num > 0) {
            if (ld->depth == ld->stack_cap) {
                ld->stack_cap = ld->stack_cap ? ld->stack_cap * 2 : 16;
                ld->stack = xrealloc(ld->stack, ld->stack_cap * sizeof(long long));
            }
            /* an attribute does not count as an element of its parent, and
             * a top-level one does not end a reply: mark it negative */
            ld->stack[ld->depth++] = t.type == '|' ? -t.num : t.num;
            continue;
        }
        if (t.type == '|') continue; /* empty attribute */
        if (ld->depth == 0) {
            if (t.type == '$' && t.len == 20 && ld->marker_sent && memcmp(t.str, ld->marker, 20) == 0) {
                ld->done = 1;
                continue;
            }
            on_reply(ld, t.type == '-' || t.type == '!', t.str, t.len);
            continue;
        }
        /* close every aggregate this element completes */
        for (;;) {
            long long *top = &ld->stack[ld->depth - 1];
            int attr = *top < 0;
            if (attr)
                (*top)++;
            else
                (*top)--;
            if (*top != 0) break;
            ld->depth--;
            if (attr) break; /* attribute done: parent not advanced */
            if (ld->depth == 0) {
                on_reply(ld, 0, NULL, 0);
                break;
            }
        }
    }
    if (ld->rpos == ld->rlen) ld->rpos = ld->rlen = 0;
    return 0;
}

static volatile sig_atomic_t user_interrupt;
static void on_sigint(int sig) {
    (void)sig;
    user_interrupt = 1;
}

static void finish_report(loader *ld, int lost) {
    clear_progress(ld);
    double el = now() - ld->start;
    char rate[32];
    human_rate(rate, sizeof(rate), el > 0 ? (double)ld->replies / el : 0);
    if (lost) {
        fprintf(stderr,
                "%s: %llu of %llu commands sent were acknowledged "
                "(last acknowledged input line %llu).\n",
                user_interrupt ? "Interrupted" : "Connection lost", (unsigned long long)ld->replies,
                (unsigned long long)ld->produced, (unsigned long long)ld->last_acked_line);
    }
    if (ld->errors && ld->opts->pipe_compat) {
        fprintf(stderr, "first errors (input line: reply):\n");
        for (int i = 0; i < ld->nfirst; i++)
            fprintf(stderr, "  %llu: %s\n", (unsigned long long)ld->first[i].line, ld->first[i].msg);
    } else if (ld->errors > ld->shown && !ld->opts->pipe_compat) {
        fprintf(stderr, "(%llu more errors not shown)\n", (unsigned long long)(ld->errors - ld->shown));
    }
    fprintf(stderr, "%s: %llu %s, %llu replies, %llu errors in %.2fs (%s/s)\n", lost ? "interrupted" : "done",
            (unsigned long long)ld->produced, ld->opts->unit, (unsigned long long)ld->replies,
            (unsigned long long)ld->errors, el, rate);
}

int loader_run(loader_fill_fn fill, void *ctx, const loader_opts *opts) {
    conn *c = session_connect(0);
    if (!c) return 1;
    /* Anything the setup left unread stays in c->rd; there is none after
     * complete request/reply exchanges. */
    loader L;
    memset(&L, 0, sizeof(L));
    loader *ld = &L;
    ld->opts = opts;
    ld->fd = c->fd;
    ld->rcap = 1 << 20;
    ld->rbuf = xmalloc(ld->rcap);
    ld->start = ld->last_progress = ld->last_reply_time = now();
    ld->progress = isatty(STDERR_FILENO);
    fcntl(ld->fd, F_SETFL, fcntl(ld->fd, F_GETFL) | O_NONBLOCK);
    /* Ctrl-C ends the load with the same accounting as a lost connection */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    int urnd = open("/dev/urandom", O_RDONLY);
    if (urnd < 0 || read(urnd, ld->marker, 20) != 20) {
        for (int i = 0; i < 20; i++) ld->marker[i] = (char)(rand() & 0xff);
    }
    if (urnd >= 0) close(urnd);

    int input_done = 0, input_err = 0, lost = 0, timed_out = 0, write_failed = 0;
    const size_t chunk = 256 * 1024;
    double all_sent_at = 0;
    ld->can_read = 1;
    int starved = 0;
    while (!ld->done) {
        /* produce; a source never blocks on its input while we hold data to
         * send: it reads only when poll() said the input is readable */
        starved = 0;
        while (!input_done && !user_interrupt) {
            size_t pending = ld->out.len - ld->out_pos;
            uint64_t inflight = ld->written_bytes - ld->acked_bytes;
            if (pending >= chunk || inflight + pending >= cfg.window) break;
            if (ld->out_pos == ld->out.len) {
                ld->out.len = 0;
                ld->out_pos = 0;
            } else if (ld->out_pos > (1u << 20)) {
                memmove(ld->out.p, ld->out.p + ld->out_pos, pending);
                ld->out.len = pending;
                ld->out_pos = 0;
            }
            int r = fill(ctx, ld, &ld->out, ld->out.len + chunk);
            if (r == LOADER_STARVED) {
                starved = 1;
                break;
            }
            if (r <= 0) {
                input_done = 1;
                input_err = r < 0;
            }
        }
        if (input_done && !ld->marker_sent) {
            buf_printf(&ld->out, "*2\r\n$4\r\nECHO\r\n$20\r\n");
            buf_add(&ld->out, ld->marker, 20);
            buf_add(&ld->out, "\r\n", 2);
            ld->marker_sent = 1;
        }
        struct pollfd pf[2] = {{.fd = ld->fd, .events = POLLIN}, {.fd = opts->input_fd, .events = POLLIN}};
        if (ld->out.len > ld->out_pos && !write_failed) pf[0].events |= POLLOUT;
        int pr = poll(pf, starved && !input_done ? 2 : 1, 250);
        if (pr > 0 && starved && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) ld->can_read = 1;
        if (user_interrupt || (pr < 0 && errno != EINTR)) {
            lost = 1;
            break;
        }
        if (pr > 0 && (pf[0].revents & POLLOUT)) {
            while (ld->out.len > ld->out_pos) {
                ssize_t w = write(ld->fd, ld->out.p + ld->out_pos, ld->out.len - ld->out_pos);
                if (w < 0) {
                    if (errno == EAGAIN || errno == EINTR) break;
                    write_failed = 1; /* drain the replies still readable */
                    ld->out_pos = ld->out.len;
                    input_done = 1;
                    ld->marker_sent = 1;
                    break;
                }
                ld->out_pos += (size_t)w;
                ld->written_bytes += (uint64_t)w;
            }
            if (ld->marker_sent && ld->out.len == ld->out_pos && all_sent_at == 0 && !write_failed) {
                all_sent_at = now();
                ld->last_reply_time = all_sent_at;
                clear_progress(ld);
                printf("All data transferred. Waiting for the last reply...\n");
                fflush(stdout);
            }
        }
        if (pr > 0 && (pf[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            for (int reads = 0; reads < 16; reads++) {
                if (ld->rcap - ld->rlen < 65536) {
                    if (ld->rpos) {
                        memmove(ld->rbuf, ld->rbuf + ld->rpos, ld->rlen - ld->rpos);
                        ld->rlen -= ld->rpos;
                        ld->rpos = 0;
                    }
                    if (ld->rcap - ld->rlen < 65536) {
                        ld->rcap *= 2;
                        ld->rbuf = xrealloc(ld->rbuf, ld->rcap);
                    }
                }
                ssize_t n = read(ld->fd, ld->rbuf + ld->rlen, ld->rcap - ld->rlen);
                if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
                if (n <= 0) {
                    lost = 1;
                    break;
                }
                ld->rlen += (size_t)n;
                if (scan_replies(ld) < 0) {
                    loader_msg(ld, "Error: protocol error in the server's replies\n");
                    lost = 1;
                    break;
                }
                if (ld->done) break;
            }
            if (lost) break;
        }
        double t = now();
        if (ld->progress && t - ld->last_progress >= 0.25 && !ld->done) {
            ld->last_progress = t;
            show_progress(ld, t);
        }
        if (all_sent_at && cfg.pipe_timeout > 0 && t - ld->last_reply_time > cfg.pipe_timeout) {
            clear_progress(ld);
            fprintf(stderr, "No replies for %d seconds: exiting.\n", cfg.pipe_timeout);
            ld->errors++;
            timed_out = 1;
            break;
        }
    }
    if (write_failed && !ld->done) lost = 1;
    if (ld->done) {
        clear_progress(ld);
        printf("Last reply received from server.\n");
    }
    printf("errors: %llu, replies: %llu\n", (unsigned long long)ld->errors, (unsigned long long)ld->replies);
    fflush(stdout);
    finish_report(ld, lost);
    (void)timed_out;
    for (int i = 0; i < ld->nfirst; i++) free(ld->first[i].msg);
    free(ld->q);
    free(ld->rbuf);
    free(ld->stack);
    buf_free(&ld->out);
    conn_close(c);
    return (ld->errors || lost || input_err) ? 1 : 0;
}
