/* fuzz_config: the config file parser (server/config.c).
 *
 * The input is the text of a config file.  Each run starts from the default
 * configuration and loads the text with config_load_string, the same code
 * that reads sardine.conf and the --name value arguments, which reports an
 * error instead of exiting.  "dir" changes the working directory, so it is
 * restored after every run.
 *
 * Checked: no memory error or undefined behaviour; an error comes with
 * Redis's FATAL CONFIG FILE ERROR report; a text that loaded once loads again
 * (the parser keeps no hidden state between loads). */
#include "fuzz/fuzz.h"
#include "features/config.h"
#include "server/server.h"
#include "util/mem.h"
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static int cwd_fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    cwd_fd = open(".", O_RDONLY | O_DIRECTORY);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 65536) return 0;
    char *text = s_malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    char err[8192];
    config_set_defaults();
    int r = config_load_string(text, "fuzz.conf", err, sizeof(err));
    if (r != 0) FUZZ_CHECK(strstr(err, "*** FATAL CONFIG FILE ERROR") != NULL);
    if (r == 0) {
        config_set_defaults();
        FUZZ_CHECK(config_load_string(text, "fuzz.conf", err, sizeof(err)) == 0);
    }
    config_set_defaults();
    if (cwd_fd >= 0 && fchdir(cwd_fd) != 0) abort();
    s_free(text);
    return 0;
}
