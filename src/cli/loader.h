/* loader: the pipelined bulk-loading engine behind --pipe and --import.
 *
 * A source appends complete RESP commands to an output buffer and tells the
 * loader, for each one, the input line it came from and its size.  The
 * loader writes while it reads replies, keeps at most cfg.window bytes
 * unacknowledged, matches each reply to its command (one reply per command),
 * reports errors with input line numbers, shows progress on a terminal, and
 * ends with an ECHO of a random 20-byte marker to know the last reply came. */
#ifndef SARDINE_CLI_LOADER_H
#define SARDINE_CLI_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "cli/buf.h"

typedef struct loader loader;

/* Append commands to out until out->len >= want or the input is exhausted.
 * Returns 1 if more input may follow, 0 at end of input, -1 on an input
 * error (already reported; the load then finishes what was sent), or
 * LOADER_STARVED when it needs to read but loader_may_read() said no. */
typedef int (*loader_fill_fn)(void *ctx, loader *ld, buf *out, size_t want);
#define LOADER_STARVED 2
/* A source calls this before each read() of its input: 1 if the input is
 * known readable (the read will not block the pipeline), else 0. */
int loader_may_read(loader *ld);

/* Record one command just appended: its first input line and its bytes. */
void loader_cmd(loader *ld, uint64_t line, size_t bytes);
/* Input bytes consumed so far (for the progress ETA). */
void loader_input_pos(loader *ld, uint64_t pos);
/* Print a message on stderr without garbling the progress line. */
void loader_msg(loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef struct loader_opts {
    int pipe_compat;      /* print each error reply like redis-cli --pipe */
    const char *unit;     /* "commands" or "rows" in progress/summary */
    uint64_t input_size;  /* 0 if unknown */
    int max_shown_errors; /* errors printed with their line numbers */
    int input_fd;         /* polled for readability between fills */
} loader_opts;

/* Run a load to completion.  Returns the process exit status. */
int loader_run(loader_fill_fn fill, void *ctx, const loader_opts *opts);

#endif
