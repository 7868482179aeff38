/* diag: keyspace diagnostics: --scan, --bigkeys, --memkeys (--top-keys N),
 * --hotkeys; output as redis-cli prints it. */
#ifndef SARDINE_CLI_DIAG_H
#define SARDINE_CLI_DIAG_H

int scan_mode(void);
int keys_mode(void);

#endif
