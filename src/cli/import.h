/* import: --import FILE: CSV (RFC 4180), TSV or JSON lines turned into
 * commands by a template and streamed with the --pipe engine (loader). */
#ifndef SARDINE_CLI_IMPORT_H
#define SARDINE_CLI_IMPORT_H

int import_mode(void);

#endif
