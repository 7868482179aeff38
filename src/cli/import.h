/* import */
#ifndef SARDINE_CLI_IMPORT_H
#define SARDINE_CLI_IMPORT_H

int import_mode(void);

#endif
