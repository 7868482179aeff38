/* repl: interactive mode (libedit line editing, history, hints, completion),
 * or line-by-line execution when stdin is not a terminal (see repl.c). */
#ifndef SARDINE_CLI_REPL_H
#define SARDINE_CLI_REPL_H

int repl_mode(void);

#endif
