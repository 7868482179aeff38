/* sanitizer: defaults for the ASan/UBSan build (make SAN=1).
 *
 * libedit keeps a few wcsdup()'d strings (function names registered with
 * EL_ADDFN) that el_end() never frees; the stack LeakSanitizer records for
 * them stops inside libc, so they are suppressed by that frame.  sardine-cli
 * itself never calls wcsdup, so no leak of ours can hide behind this. */
#ifdef __SANITIZE_ADDRESS__
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:wcsdup\n";
}
#endif
