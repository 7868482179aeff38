/* args: splitting a typed line into arguments the way redis-cli does
 * (whitespace separated; "double quotes" with \n \r \t \b \a \\ \" \xHH
 * escapes; 'single quotes' with \' only). */
#ifndef SARDINE_CLI_ARGS_H
#define SARDINE_CLI_ARGS_H

#include <stddef.h>

typedef struct argv_t {
    int argc;
    char **argv; /* each NUL-terminated, may contain NULs (see lens) */
    size_t *lens;
} argv_t;

/* Returns 0, or -1 on unbalanced quotes (argv left empty). */
int args_split(const char *line, argv_t *out);
void args_free(argv_t *a);
void args_push(argv_t *a, const char *s, size_t len);

#endif
