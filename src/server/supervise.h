/* supervise: telling a service manager how the server is doing, as Redis's
 * `supervised no|upstart|systemd|auto` does.
 *
 * systemd: the sd_notify datagram protocol, written here rather than linked
 * from libsystemd (it is one sendto on a unix datagram socket named by
 * $NOTIFY_SOCKET, "@" meaning the abstract namespace).  The unit is
 * Type=notify: STATUS= lines while starting, READY=1 once the listeners are
 * open, STOPPING=1 when shutdown begins.  upstart (`expect stop`): the server
 * stops itself with SIGSTOP once ready and upstart continues it.  auto picks
 * upstart when $UPSTART_JOB is set, systemd when $NOTIFY_SOCKET is. */
#ifndef SARDINE_SUPERVISE_H
#define SARDINE_SUPERVISE_H

enum { SUPERVISED_NONE = 0, SUPERVISED_AUTODETECT, SUPERVISED_SYSTEMD, SUPERVISED_UPSTART };

/* Resolves `supervised` (auto) and checks that the supervisor is there; returns 1 when supervised.
 * Called once at startup, before the server daemonizes (a supervised server never does). */
int supervise_start(int mode);
/* The listeners are open: READY=1 (systemd) or SIGSTOP (upstart). */
void supervise_ready(void);
/* Shutdown begins: STOPPING=1 (systemd). */
void supervise_stopping(void);
/* One sd_notify message (e.g. "STATUS=...\n"); returns 1 sent, 0 no NOTIFY_SOCKET, -1 error. */
int supervise_notify(const char *msg);
#endif
