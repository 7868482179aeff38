/* output: reply formatting, byte-compatible with redis-cli's three modes:
 * standard (human, "(integer) 1", nested "1) ..."), raw, CSV and JSON. */
#ifndef SARDINE_CLI_OUTPUT_H
#define SARDINE_CLI_OUTPUT_H

#include "cli/buf.h"
#include "cli/resp.h"

enum { OUT_STANDARD, OUT_RAW, OUT_CSV, OUT_JSON, OUT_QUOTED_JSON };

/* Human format; prefix is the indentation for nested elements ("" at top). */
void fmt_tty(buf *b, const reply *r, const char *prefix);
/* Raw format; mb_delim separates the elements of aggregates. */
void fmt_raw(buf *b, const reply *r, const char *mb_delim);
void fmt_csv(buf *b, const reply *r);
/* JSON (redis-cli --json); quoted: strings are redis-cli quoted first, so the
 * output is ASCII-only (--quoted-json). */
void fmt_json(buf *b, const reply *r, int quoted);
/* The full text printed for one reply in the given mode, as redis-cli does
 * (raw adds cmd_delim, CSV adds a newline). */
void fmt_reply(buf *b, const reply *r, int mode, const char *mb_delim, const char *cmd_delim);

#endif
