/* diag */
#ifndef SARDINE_CLI_DIAG_H
#define SARDINE_CLI_DIAG_H

int scan_mode(void);
int keys_mode(void);

#endif
