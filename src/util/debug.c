/* debug: the failure path of DBG_ASSERT (see debug.h). */
#include "util/debug.h"
#include <stdio.h>
#include <stdlib.h>

#ifdef SARDINE_DEBUG
void dbg_assert_fail(const char *cond, const char *file, int line, const char *func) {
    fprintf(stderr, "sardine: DBG_ASSERT failed: %s (%s:%d, %s)\n", cond, file, line, func);
    fflush(stderr);
    abort();
}
#else
typedef int dbg_unused_translation_unit; /* ISO C forbids an empty translation unit */
#endif
