/* config: every configuration directive, by Redis's names.
 *
 * One table describes each directive: its type (bool, int, memory, enum,
 * string, or a special parser), where the value lives, its default, limits
 * and whether CONFIG SET may change it.  The same parsers serve the config
 * file, --name value arguments, CONFIG SET and CONFIG GET, so the accepted
 * syntax and the error texts are the same everywhere (Redis 7's). */
#ifndef SARDINE_CONFIG_H
#define SARDINE_CONFIG_H
#include "net/client.h"

void config_set_defaults(void);
/* Loads a config text (file contents plus "--name value" lines).  On an error
 * prints Redis's FATAL CONFIG FILE ERROR report and exits. */
void config_load_text(const char *text, const char *origin);
/* The same without exiting: 0 on success; -1 with the report in err.  Directives already
 * applied stay applied (the caller starts again from config_set_defaults for a clean state). */
int config_load_string(const char *text, const char *origin, char *err, size_t errlen);
/* Builds the config text from argv (file, then --options), as Redis does. */
char *config_from_args(int argc, char **argv, char **configfile);
int config_rewrite(char *err, size_t errlen);
/* How the server reacts to CONFIG SET (each directive changed, by name) and to CONFIG RESETSTAT; installed
 * by the top of the server (app/loop.c), so that this feature calls nothing above it. */
typedef struct config_hooks {
    void (*changed)(const char *name);
    void (*reset_stats)(void);
} config_hooks;
void config_set_hooks(const config_hooks *h);
/* Directives kept as text that other modules act on. */
enum { SANITIZE_NO = 0, SANITIZE_YES = 1, SANITIZE_CLIENTS = 2 };
int config_sanitize_dump(void);  /* sanitize-dump-payload */
int config_rdbchecksum(void);    /* rdbchecksum: 1 yes */
/* A percentile as Redis 7.0 prints it (latency-tracking-info-percentiles, INFO latencystats): "%f" with
 * trailing zeros and a bare decimal point trimmed ("99.9", "50"). */
void config_format_percentile(double p, char *buf, size_t len);
#endif
