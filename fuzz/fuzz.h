/* fuzz: what every fuzz target shares.
 *
 * A target defines LLVMFuzzerTestOneInput (and, when it needs process-wide
 * state, LLVMFuzzerInitialize).  The same file links either with libFuzzer
 * (clang -fsanitize=fuzzer, `make fuzz`) or with tests/unit/fuzz_replay.c, a
 * small main() that feeds it every file of the target's corpus and crash
 * directories (gcc + ASan, `make test`).  A target must leave no state behind
 * that changes the next input's outcome.  FUZZ_CHECK aborts on a broken
 * invariant so that both drivers report it as a crash. */
#ifndef SARDINE_FUZZ_H
#define SARDINE_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                                                     \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);                     \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)
#endif
