/* listen: the listening sockets (TCP on each bind address, optional unix
 * socket).  A bind address prefixed with '-' is optional: failing to bind it
 * (e.g. no IPv6) is not an error, as in Redis 7. */
#ifndef SARDINE_LISTEN_H
#define SARDINE_LISTEN_H
int listen_all(void); /* 0 ok, -1 fatal (logged) */
#endif
