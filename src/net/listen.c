/* listen: see listen.h. */
#include "net/listen.h"
#include "net/client.h"
#include "net/eventloop.h"
#include "server/server.h"
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int tcp_listen(const char *addr, int port) {
    struct addrinfo hints = {0}, *res, *p;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    hints.ai_family = strchr(addr, ':') ? AF_INET6 : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if (!strcmp(addr, "*")) addr = NULL, hints.ai_family = AF_INET;
    if (getaddrinfo(addr, portstr, &hints, &res) != 0) return -1;
    int fd = -1;
    for (p = res; p; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, p->ai_protocol);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (p->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (bind(fd, p->ai_addr, p->ai_addrlen) == 0 && listen(fd, srv.tcp_backlog) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

int listen_all(void) {
    srv.nlisten = 0;
    if (srv.port) {
        for (int i = 0; i < srv.nbind; i++) {
            const char *addr = srv.bind[i];
            int optional = addr[0] == '-';
            if (optional) addr++;
            int fd = tcp_listen(addr, srv.port);
            if (fd < 0) {
                if (optional) continue;
                serverLog(LL_WARNING, "Warning: Could not create server TCP listening socket %s:%d: %s", addr, srv.port,
                          strerror(errno));
                return -1;
            }
            srv.listen_fds[srv.nlisten++] = fd;
            el_add(srv.el, fd, EL_READABLE, accept_tcp_handler, NULL);
            el_set_first(srv.el, fd);
        }
        if (srv.nlisten == 0) {
            serverLog(LL_WARNING, "Failed listening on port %d (tcp), aborting.", srv.port);
            return -1;
        }
    }
    if (srv.unixsocket && srv.unixsocket[0]) {
        unlink(srv.unixsocket);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = {0};
        sa.sun_family = AF_UNIX;
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", srv.unixsocket);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, srv.tcp_backlog) != 0) {
            serverLog(LL_WARNING, "Failed opening Unix socket: %s", strerror(errno));
            return -1;
        }
        if (srv.unixsocketperm) chmod(srv.unixsocket, (mode_t)srv.unixsocketperm);
        srv.unix_fd = fd;
        el_add(srv.el, fd, EL_READABLE, accept_unix_handler, NULL);
        el_set_first(srv.el, fd);
    }
    return 0;
}
