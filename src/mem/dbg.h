/* dbg: assertions that only debug builds pay for.
 *
 * DBG_ASSERT(cond) aborts with the file, line and condition when the build
 * defines SARDINE_DEBUG (the SAN=1 build does) and compiles to nothing
 * otherwise (the condition is not evaluated, so it may be expensive but must
 * have no side effects).  Use it where an invariant stated in a header must
 * hold; the full structure checks (arena_check, kt_check, zi_check) are
 * separate functions called by tests and DEBUG subcommands. */
#ifndef SARDINE_DBG_H
#define SARDINE_DBG_H

/* The reason the last failed structure check (arena_check, kt_check, zindex_check) gave. */
extern const char *dbg_check_why;
#ifdef SARDINE_DEBUG
#include <stdio.h>
#include <stdlib.h>
#define DBG_ASSERT(cond)                                                                        \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            fprintf(stderr, "sardine: %s:%d: debug assertion failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                            \
        }                                                                                       \
    } while (0)
#else
#define DBG_ASSERT(cond) ((void)0)
#endif
#endif
