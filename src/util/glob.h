/* glob: Redis's glob-style pattern matching (KEYS, SCAN MATCH, CONFIG GET,
 * PSUBSCRIBE): '*' any run, '?' one byte, '[abc]' '[^a]' '[a-z]' classes,
 * '\' escapes the next byte.  Binary-safe; optional case folding.  The
 * recursion on '*' is bounded by the pattern's length and a nesting limit so
 * that a hostile pattern cannot blow the stack or run for exponential time. */
#ifndef SARDINE_GLOB_H
#define SARDINE_GLOB_H
#include <stddef.h>

int glob_match(const char *pat, size_t plen, const char *str, size_t slen, int nocase);
#endif
