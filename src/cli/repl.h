/* repl */
#ifndef SARDINE_CLI_REPL_H
#define SARDINE_CLI_REPL_H

int repl_mode(void);

#endif
