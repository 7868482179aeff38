/* help: command documentation fetched from the server's COMMAND DOCS, used
 * for `help <command>`, `help @group`, hints and tab completion. */
#ifndef SARDINE_CLI_HELP_H
#define SARDINE_CLI_HELP_H

#include <stddef.h>

#include "cli/conn.h"

typedef struct cmd_doc {
    char *name;   /* upper case, "CONFIG GET" for subcommands */
    char *params; /* argument syntax, e.g. "key value [NX|XX]" */
    char *summary, *since, *group;
} cmd_doc;

/* Load docs once (no-op if loaded or c is NULL).  Returns the count. */
size_t help_load(conn *c);
size_t help_count(void);
const cmd_doc *help_get(size_t i);
/* Doc of the command the words start with (longest match: "config get"). */
const cmd_doc *help_find(int argc, char **argv, int *used);
/* Handle "help ..." typed in interactive mode. */
void help_command(int argc, char **argv);
void help_free(void);

#endif
