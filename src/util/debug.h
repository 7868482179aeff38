/* debug: DBG_ASSERT(cond), the cheap invariant checks of the type modules.
 *
 * Active only when SARDINE_DEBUG is defined (the ASan build, `make SAN=1`,
 * defines it); otherwise the condition is not evaluated at all, so it may
 * cost something but must have no side effects.  A failed assertion prints
 * the condition and its place to stderr and aborts (ASan then prints the
 * stack).  Only O(1) checks belong here, at the points where a header's
 * invariant must hold; the full structure checks are the xxx_check()
 * functions (DEBUG CHECK-KEY) and arena_check, kt_check, zindex_check. */
#ifndef SARDINE_DEBUG_H
#define SARDINE_DEBUG_H

/* The reason the last failed structure check that returns 0/1 gave (arena_check, kt_check,
 * zindex_check); the xxx_check() functions of the types return their reason instead. */
extern const char *dbg_check_why;

#ifdef SARDINE_DEBUG
void dbg_assert_fail(const char *cond, const char *file, int line, const char *func) __attribute__((noreturn));
#define DBG_ASSERT(cond) ((cond) ? (void)0 : dbg_assert_fail(#cond, __FILE__, __LINE__, __func__))
#else
#define DBG_ASSERT(cond) ((void)0)
#endif
#endif
