/* fuzz_replay: runs a fuzz target's entry point over files, without libFuzzer.
 *
 * Linked with one fuzz/fuzz_<target>.c by gcc under ASan/UBSan, it is how the
 * regular test run replays each target's checked-in corpus and every crash
 * ever found (fuzz/corpus/<target>/, fuzz/crashes/<target>/).  Arguments are
 * files or directories (every regular file inside, not recursive).  A crash
 * aborts the process (ASan, UBSan with -fno-sanitize-recover, FUZZ_CHECK);
 * the name of the file being run is printed first so it can be found. */
#include "fuzz/fuzz.h"
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static long runs;
static const char *current; /* the input being run, named when it crashes */

static void on_abort(int sig) {
    (void)sig;
    if (current) fprintf(stderr, "fuzz_replay: crashed on %s\n", current);
    signal(SIGABRT, SIG_DFL);
    abort();
}

static void on_sanitizer_death(void) {
    if (current) fprintf(stderr, "fuzz_replay: crashed on %s\n", current);
}
void __sanitizer_set_death_callback(void (*callback)(void));

static void run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz_replay: cannot open %s\n", path);
        exit(2);
    }
    size_t cap = 4096, n = 0;
    unsigned char *buf = malloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (getenv("FUZZ_REPLAY_VERBOSE")) fprintf(stderr, "fuzz_replay: %s\n", path);
    current = path;
    /* an exact-size copy, so ASan sees reads past the end of the input as libFuzzer does */
    unsigned char *in = malloc(n ? n : 1);
    memcpy(in, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(in, n);
    free(in);
    current = NULL;
    runs++;
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
    signal(SIGABRT, on_abort);
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_set_death_callback(on_sanitizer_death);
#else
    (void)on_sanitizer_death;
#endif
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) continue; /* e.g. a target with no crashes yet */
        if (!S_ISDIR(st.st_mode)) {
            run_file(argv[i]);
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d) continue;
        char **names = NULL;
        size_t nn = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
            if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
            names = realloc(names, (nn + 1) * sizeof(char *));
            names[nn++] = strdup(path);
        }
        closedir(d);
        if (nn) qsort(names, nn, sizeof(char *), cmp);
        for (size_t k = 0; k < nn; k++) {
            run_file(names[k]);
            free(names[k]);
        }
        free(names);
    }
    printf("fuzz_replay: %s: %ld inputs, no crash\n", argv[0], runs);
    return 0;
}
