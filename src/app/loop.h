/* loop: the server's startup state and the hooks that drive it (see loop.c). */
#ifndef SARDINE_LOOP_H
#define SARDINE_LOOP_H

/* The process state: databases, run id, times, the safety limit (after the config is loaded). */
void server_init_state(void);
/* Installs the cron, the before-sleep hook, the latency monitor's hook and the reactions to CONFIG SET. */
void server_install_loop_hooks(void);
#endif
