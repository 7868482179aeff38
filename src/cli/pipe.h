/* pipe: --pipe: forward a raw RESP stream from stdin through the loader,
 * validating it command by command (see pipe.c). */
#ifndef SARDINE_CLI_PIPE_H
#define SARDINE_CLI_PIPE_H

int pipe_mode(void);

#endif
