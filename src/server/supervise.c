/* supervise: see supervise.h. */
#include "server/supervise.h"
#include "server/server.h"
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int active; /* the supervisor in charge, SUPERVISED_NONE when none */

int supervise_notify(const char *msg) {
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !path[0]) return 0;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path)) {
        errno = EINVAL;
        return -1;
    }
    memcpy(sa.sun_path, path, len);
    if (path[0] == '@') sa.sun_path[0] = 0; /* abstract namespace */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd == -1) return -1;
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    ssize_t n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
    int saved = errno;
    close(fd);
    errno = saved;
    return n == (ssize_t)strlen(msg) ? 1 : -1;
}

/* Redis's wording for the two ways the notification can fail. */
static int communicate(const char *msg) {
    int r = supervise_notify(msg);
    if (r == 0) serverLog(LL_WARNING, "systemd supervision error: NOTIFY_SOCKET not found!");
    else if (r < 0) serverLog(LL_WARNING, "systemd supervision error: sd_notify: %d", -errno);
    return r;
}

int supervise_start(int mode) {
    if (mode == SUPERVISED_AUTODETECT) {
        if (getenv("UPSTART_JOB")) {
            serverLog(LL_VERBOSE, "Upstart supervision detected.");
            mode = SUPERVISED_UPSTART;
        } else if (getenv("NOTIFY_SOCKET")) {
            serverLog(LL_VERBOSE, "Systemd supervision detected.");
            mode = SUPERVISED_SYSTEMD;
        }
    }
    if (mode == SUPERVISED_UPSTART) {
        if (!getenv("UPSTART_JOB")) {
            serverLog(LL_WARNING, "upstart supervision requested, but UPSTART_JOB not found!");
            return 0;
        }
        serverLog(LL_NOTICE, "supervised by upstart, will stop to signal readiness.");
    } else if (mode == SUPERVISED_SYSTEMD) {
        if (communicate("STATUS=Sardine is loading...\n") <= 0) return 0;
        serverLog(LL_NOTICE, "Supervised by systemd. Please make sure you set appropriate values for "
                             "TimeoutStartSec and TimeoutStopSec in your service unit.");
    } else {
        return 0;
    }
    active = mode;
    return 1;
}

void supervise_ready(void) {
    if (active == SUPERVISED_SYSTEMD) {
        communicate("STATUS=Ready to accept connections\n");
        communicate("READY=1\n");
    } else if (active == SUPERVISED_UPSTART) {
        raise(SIGSTOP);
        unsetenv("UPSTART_JOB");
    }
}

void supervise_stopping(void) {
    if (active == SUPERVISED_SYSTEMD) communicate("STOPPING=1\n");
}
