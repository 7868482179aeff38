/* listen: the listening sockets (TCP on each bind address, optional unix
 * socket).  A bind address prefixed with '-' is optional: failing to bind it
 * (e.g. no IPv6) is not an error, as in Redis 7. */
#ifndef SARDINE_LISTEN_H
#define SARDINE_LISTEN_H
int listen_all(void); /* 0 ok, -1 fatal (logged) */
/* Moves the TLS listeners to this port (0: none), as CONFIG SET tls-port: the new sockets are opened
 * before the old ones close, so a failure (logged, -1) leaves things as they were. */
int listen_tls_port(int port);

/* Descriptors kept beyond maxclients for listeners, logs and files (Redis's CONFIG_MIN_RESERVED_FDS). */
#define LISTEN_RESERVED_FDS 32
/* Raises RLIMIT_NOFILE toward maxclients + LISTEN_RESERVED_FDS (as far as the system allows) and
 * returns how many clients fit: maxclients when it all fits, else fewer (with Redis's warnings logged),
 * 0 when not even one does. */
unsigned int listen_fit_maxclients(unsigned int maxclients, int startup);

/* Out of descriptors (EMFILE/ENFILE on accept): answers the waiting connection with "-ERR max number of
 * clients reached" through a spare descriptor kept for this and returns 1 (a connection was consumed:
 * accepting may go on); when that is not possible, stops polling the listeners for a moment instead
 * of spinning on accept and returns 0.  listen_cron resumes them. */
int listen_out_of_fds(int listen_fd, int err);
void listen_cron(void);
#endif
