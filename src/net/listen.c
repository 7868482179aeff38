/* listen: see listen.h.
 *
 * Descriptor exhaustion: one spare descriptor (/dev/null) is held open while there is room.  When accept
 * fails with EMFILE/ENFILE, the spare is closed, the pending connection accepted, told that the server
 * is full and closed, and the spare reopened; the listeners are then left out of epoll for
 * PAUSE_MS so a backlog of connections cannot keep the loop spinning.  Logged at most once a second. */
#include "net/listen.h"
#include "net/client.h"
#include "net/eventloop.h"
#include "net/tls.h"
#include "server/server.h"
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/resource.h>
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

/* The TLS listeners: tls-port on every bind address (optional ones may fail).  0 ok, -1 logged. */
static int tls_listen_open(int port, int fds[], int *n) {
    *n = 0;
    for (int i = 0; i < srv.nbind; i++) {
        const char *addr = srv.bind[i];
        int optional = addr[0] == '-';
        if (optional) addr++;
        int fd = tcp_listen(addr, port);
        if (fd < 0) {
            if (optional) continue;
            serverLog(LL_WARNING, "Warning: Could not create server TCP listening socket %s:%d: %s", addr, port,
                      strerror(errno));
            for (int k = 0; k < *n; k++) close(fds[k]);
            *n = 0;
            return -1;
        }
        fds[(*n)++] = fd;
    }
    if (*n == 0) {
        serverLog(LL_WARNING, "Failed listening on port %d (tls), aborting.", port);
        return -1;
    }
    return 0;
}

static void tls_listeners_poll(int on) {
    for (int i = 0; i < srv.ntls_listen; i++) {
        if (on) {
            el_add(srv.el, srv.tls_listen_fds[i], EL_READABLE, accept_tls_handler, NULL);
            el_set_first(srv.el, srv.tls_listen_fds[i]);
        } else {
            el_del(srv.el, srv.tls_listen_fds[i], EL_READABLE);
        }
    }
}

int listen_tls_port(int port) {
    static int current;
    int fds[CONFIG_MAX_BIND], n = 0;
    if (port == current && (port == 0 || srv.ntls_listen)) return 0; /* already there (rebinding would fail) */
    if (port && tls_listen_open(port, fds, &n) != 0) return -1;
    current = port;
    tls_listeners_poll(0);
    for (int i = 0; i < srv.ntls_listen; i++) close(srv.tls_listen_fds[i]);
    memcpy(srv.tls_listen_fds, fds, sizeof(int) * (size_t)n);
    srv.ntls_listen = n;
    tls_listeners_poll(1);
    return 0;
}

int listen_all(void) {
    srv.nlisten = 0;
    srv.ntls_listen = 0;
    if (tlsc.port && listen_tls_port(tlsc.port) != 0) return -1;
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

#define PAUSE_MS 100

static int spare_fd = -1;
static long long paused_until;

static void spare_open(void) {
    if (spare_fd < 0) spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void listeners_set(int on) {
    for (int i = 0; i < srv.nlisten; i++) {
        if (on) el_add(srv.el, srv.listen_fds[i], EL_READABLE, accept_tcp_handler, NULL);
        else el_del(srv.el, srv.listen_fds[i], EL_READABLE);
    }
    tls_listeners_poll(on);
    if (srv.unix_fd >= 0) {
        if (on) el_add(srv.el, srv.unix_fd, EL_READABLE, accept_unix_handler, NULL);
        else el_del(srv.el, srv.unix_fd, EL_READABLE);
    }
}

int listen_out_of_fds(int listen_fd, int err) {
    static long long last_log;
    static long long suppressed;
    long long now = mstime();
    if (now - last_log >= 1000) {
        serverLog(LL_WARNING, "Accepting client connection: %s%s", strerror(err),
                  suppressed ? " (similar errors suppressed in the last second)" : "");
        last_log = now;
        suppressed = 0;
    } else {
        suppressed++;
    }
    if (spare_fd >= 0) {
        close(spare_fd);
        spare_fd = -1;
        int cfd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd >= 0) {
            static const char msg[] = "-ERR max number of clients reached\r\n";
            if (write(cfd, msg, sizeof(msg) - 1) < 0) { /* best effort */
            }
            srv.stat_rejected_conn++;
            close(cfd);
        }
        spare_open();
        if (cfd >= 0 && spare_fd >= 0) return 1; /* one connection answered; the next accept may work */
    }
    if (!paused_until) listeners_set(0);
    paused_until = now + PAUSE_MS;
    return 0;
}

void listen_cron(void) {
    spare_open();
    if (paused_until && mstime() >= paused_until) {
        paused_until = 0;
        listeners_set(1);
    }
}

static rlim_t nr_open(void) {
    FILE *f = fopen("/proc/sys/fs/nr_open", "r");
    unsigned long long v = 0;
    if (f) {
        if (fscanf(f, "%llu", &v) != 1) v = 0;
        fclose(f);
    }
    return (rlim_t)v;
}

unsigned int listen_fit_maxclients(unsigned int maxclients, int startup) {
    rlim_t want = (rlim_t)maxclients + LISTEN_RESERVED_FDS;
    struct rlimit l;
    if (getrlimit(RLIMIT_NOFILE, &l) == -1) {
        serverLog(LL_WARNING, "Unable to obtain the current NOFILE limit (%s), assuming 1024 and setting the max "
                              "clients configuration accordingly.", strerror(errno));
        return maxclients < 1024 - LISTEN_RESERVED_FDS ? maxclients : 1024 - LISTEN_RESERVED_FDS;
    }
    rlim_t old = l.rlim_cur;
    if (old >= want) return maxclients;
    /* Try the whole need, then the kernel's ceiling (root may raise the hard limit up to it), then the
     * hard limit (always allowed); the first that works is the best this process can get. */
    rlim_t tries[3] = {want, nr_open(), l.rlim_max}, best = old;
    int error = 0;
    for (int i = 0; i < 3; i++) {
        rlim_t t = tries[i];
        if (t <= old || t > want) continue;
        struct rlimit nl = {t, t > l.rlim_max ? t : l.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &nl) == 0) {
            best = t;
            break;
        }
        error = errno;
    }
    if (best >= want) {
        serverLog(LL_NOTICE, "Increased maximum number of open files to %llu (it was originally set to %llu).",
                  (unsigned long long)want, (unsigned long long)old);
        return maxclients;
    }
    if (best <= LISTEN_RESERVED_FDS) {
        serverLog(LL_WARNING, "Your current 'ulimit -n' of %llu is not enough for the server to start. Please increase "
                              "your open file limit to at least %llu.%s", (unsigned long long)old,
                  (unsigned long long)want, startup ? " Exiting." : "");
        return 0;
    }
    unsigned int fit = (unsigned int)(best - LISTEN_RESERVED_FDS);
    serverLog(LL_WARNING, "You requested maxclients of %u requiring at least %llu max file descriptors.", maxclients,
              (unsigned long long)want);
    serverLog(LL_WARNING, "Server can't set maximum open files to %llu because of OS error: %s.",
              (unsigned long long)want, strerror(error ? error : EPERM));
    serverLog(LL_WARNING, "Current maximum open files is %llu. maxclients has been reduced to %u to compensate for low "
                          "ulimit. If you need higher maxclients increase 'ulimit -n'.", (unsigned long long)best, fit);
    return fit;
}
