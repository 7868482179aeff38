/* pipe */
#ifndef SARDINE_CLI_PIPE_H
#define SARDINE_CLI_PIPE_H

int pipe_mode(void);

#endif
