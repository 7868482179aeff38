/* main: startup and shutdown.  Parses the config (embedded defaults, then an
 * optional file, then --name value arguments), reserves the entry arena,
 * opens the listeners, and runs the event loop until SIGTERM/SIGINT or
 * SHUTDOWN. */
#include "commands/command.h"
#include "mem/arena.h"
#include "net/eventloop.h"
#include "net/listen.h"
#include "server/bio.h"
#include "server/config.h"
#include "server/server.h"
#include "util/mem.h"
#include "util/numconv.h"
#include "util/siphash.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void server_install_loop_hooks(void);

static void on_signal(int sig) {
    (void)sig;
    if (srv.shutdown_asap && sig == SIGINT) {
        fprintf(stderr, "You insist... exiting now.\n");
        _exit(1);
    }
    srv.shutdown_asap = 1;
}

static void usage(void) {
    fprintf(stderr,
            "Usage: ./sardine-server [/path/to/redis.conf] [options] [-]\n"
            "       ./sardine-server - (read config from stdin)\n"
            "       ./sardine-server -v or --version\n"
            "       ./sardine-server -h or --help\n\n"
            "Examples:\n"
            "       ./sardine-server (run the server with default conf)\n"
            "       ./sardine-server /etc/redis/6379.conf\n"
            "       ./sardine-server --port 7777\n"
            "       ./sardine-server /etc/myredis.conf --loglevel verbose -\n");
    exit(1);
}

static void write_pidfile(void) {
    if (!srv.pidfile || !srv.pidfile[0]) return;
    FILE *f = fopen(srv.pidfile, "w");
    if (f) {
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
    }
}

int main(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version"))) {
        printf("Sardine server v=%s redis_version=%s bits=64 malloc=%s\n", SARDINE_REAL_VERSION, SARDINE_VERSION,
               s_allocator_name());
        return 0;
    }
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) usage();
    siphash_seed_random();
    srand((unsigned)(getpid() ^ (unsigned)mstime()));
    config_set_defaults();
    char *configfile = NULL;
    char *text = config_from_args(argc, argv, &configfile);
    srv.configfile = configfile;
    if (configfile && strcmp(configfile, "-")) {
        char *abs = realpath(configfile, NULL);
        if (abs) {
            srv.configfile = s_strdup(abs);
            free(abs);
            s_free(configfile);
        }
    }
    serverLog(LL_WARNING, "oO0OoO0OoO0Oo Sardine is starting oO0OoO0OoO0Oo");
    config_load_text(text, configfile);
    s_free(text);
    serverLog(LL_WARNING, "Sardine version=%s (redis_version=%s), bits=64, pid=%d, just started", SARDINE_REAL_VERSION,
              SARDINE_VERSION, (int)getpid());
    if (!srv.configfile)
        serverLog(LL_WARNING, "Warning: no config file specified, using the default config. In order to specify a "
                              "config file use %s /path/to/redis.conf", argv[0]);
    else
        serverLog(LL_WARNING, "Configuration loaded");
    if (srv.daemonize) {
        if (daemon(1, 0) != 0) {
            perror("daemon");
            return 1;
        }
    }
    ssize_t n = readlink("/proc/self/exe", srv.executable, sizeof(srv.executable) - 1);
    if (n > 0) srv.executable[n] = 0;
    if (arena_init(0) != 0) { /* the default reservation: see mem/arena.h */
        serverLog(LL_WARNING, "Could not reserve address space for the key arena");
        return 1;
    }
    server_init_state();
    commands_init();
    srv.el = el_create(srv.maxclients + 1024);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (listen_all() != 0) return 1;
    bio_init();
    s_allocator_init();
    write_pidfile();
    serverLog(LL_NOTICE, "monotonic clock: POSIX clock_gettime");
    serverLog(LL_NOTICE, "Running mode=standalone, port=%d.", srv.port);
    if (srv.safety_limit) {
        char h[32];
        bytes_human(h, sizeof(h), srv.safety_limit);
        serverLog(LL_WARNING,
                  "WARNING: no maxmemory is set. To avoid being killed by the kernel, Sardine will refuse writes with "
                  "-OOM (and keep serving reads) when its memory reaches %s, 90%% of the physical or cgroup memory.",
                  h);
    }
    serverLog(LL_WARNING, "Server initialized");
    serverLog(LL_NOTICE, "Ready to accept connections");
    server_install_loop_hooks();
    el_run(srv.el);
    return 0;
}
