/* debug: the failure path of DBG_ASSERT (see debug.h). */
#include "util/debug.h"
#include <stdio.h>
#include <stdlib.h>

const char *dbg_check_why = "";

#ifdef SARDINE_DEBUG
void dbg_assert_fail(const char *cond, const char *file, int line, const char *func) {
    fprintf(stderr, "sardine: DBG_ASSERT failed: %s (%s:%d, %s)\n", cond, file, line, func);
    fflush(stderr);
    abort();
}
#endif
