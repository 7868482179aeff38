/* main: startup and shutdown.  Parses the config (embedded defaults, then an
 * optional file, then --name value arguments), reserves the entry arena,
 * opens the listeners, and runs the event loop until SIGTERM/SIGINT or
 * SHUTDOWN.
 *
 * Running as a service, as Redis 7.0 does: `supervised` is resolved first
 * (server/supervise.h); `daemonize yes` forks into the background unless a
 * supervisor is in charge; the pidfile is written when daemonized or when
 * `pidfile` is set (default /var/run/sardine.pid when daemonized) and removed
 * at shutdown; the supervisor hears READY=1 once the listeners are open.
 * SIGTERM and SIGINT schedule a graceful shutdown (the cron runs it: replies
 * in flight go out, STOPPING=1, pidfile and unix socket removed); a second
 * SIGINT while it is pending exits at once with status 1.  SIGHUP and
 * SIGPIPE are ignored, as in Redis (SIGHUP neither stops the server nor
 * reopens the log: logfile is opened for every line, so rotation needs no
 * signal). */
#include "features/acl.h"
#include "features/saving.h"
#include "app/loop.h"
#include "commands/command.h"
#include "commands/debug_cmds.h"
#include "features/aof_load.h"
#include "features/functions.h"
#include "persist/aof.h"
#include "commands/dispatch.h"
#include "mem/arena.h"
#include "net/eventloop.h"
#include "net/listen.h"
#include "net/tls.h"
#include "server/bio.h"
#include "features/config.h"
#include "server/server.h"
#include "server/supervise.h"
#include "types/zstr.h"
#include "util/durclock.h"
#include "util/mem.h"
#include "util/numconv.h"
#include "util/siphash.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#define DEFAULT_PIDFILE "/var/run/sardine.pid"

/* Async-signal-safe: the message goes out with write(2) (the cron logs the ordinary case later). */
static void on_signal(int sig) {
    if (srv.shutdown_asap && sig == SIGINT) {
        static const char msg[] = "You insist... exiting now.\n";
        int fd = srv.logfile && srv.logfile[0] ? open(srv.logfile, O_WRONLY | O_APPEND | O_CREAT, 0644) : STDOUT_FILENO;
        if (fd >= 0 && write(fd, msg, sizeof(msg) - 1) < 0) {
        }
        _exit(1);
    }
    srv.last_signal = sig;
    srv.shutdown_asap = 1;
}

static void install_signal_handlers(void) {
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

/* Forks into the background as Redis does: the parent exits 0, the child leaves the terminal's session
 * and its standard streams point at /dev/null. */
static void daemonize(void) {
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "fork: %s\n", strerror(errno));
        exit(1);
    }
    if (pid > 0) _exit(0);
    setsid();
    int fd = open("/dev/null", O_RDWR, 0);
    if (fd != -1) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO) close(fd);
    }
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
    if (!srv.pidfile || !srv.pidfile[0]) {
        s_free(srv.pidfile);
        srv.pidfile = s_strdup(DEFAULT_PIDFILE);
    }
    FILE *f = fopen(srv.pidfile, "w");
    if (!f) {
        serverLog(LL_WARNING, "Failed to write PID file: %s", strerror(errno));
        return;
    }
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
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
    if (srv.logfile && srv.logfile[0]) { /* as Redis: a log that cannot be written is a config error */
        FILE *lf = fopen(srv.logfile, "a");
        if (!lf) {
            fprintf(stderr, "\n*** FATAL CONFIG FILE ERROR (Redis %s) ***\n>>> 'logfile \"%s\"'\nCan't open the log file: %s\n",
                    SARDINE_VERSION, srv.logfile, strerror(errno));
            exit(1);
        }
        fclose(lf);
    }
    syslog_open();
    serverLog(LL_WARNING, "Sardine version=%s (redis_version=%s), bits=64, pid=%d, just started", SARDINE_REAL_VERSION,
              SARDINE_VERSION, (int)getpid());
    if (!srv.configfile)
        serverLog(LL_WARNING, "Warning: no config file specified, using the default config. In order to specify a "
                              "config file use %s /path/to/redis.conf", argv[0]);
    else
        serverLog(LL_WARNING, "Configuration loaded");
    srv.supervised = supervise_start(srv.supervised_mode);
    int background = srv.daemonize && !srv.supervised;
    if (background) daemonize();
    ssize_t n = readlink("/proc/self/exe", srv.executable, sizeof(srv.executable) - 1);
    if (n > 0) srv.executable[n] = 0;
    if (arena_init(0) != 0) { /* the default reservation: see mem/arena.h */
        serverLog(LL_WARNING, "Could not reserve address space for the key arena");
        return 1;
    }
    server_init_state();
    zstr_init(); /* this is the event loop thread: values are compressed only here */
    dispatch_init();
    acl_load_at_startup(); /* requirepass, then `user` lines or the aclfile */
    unsigned int fit = listen_fit_maxclients(srv.maxclients, 1);
    if (!fit) return 1;
    srv.maxclients = fit;
    srv.el = el_create((int)(srv.maxclients < (1u << 20) ? srv.maxclients : (1u << 20)) + 1024);
    install_signal_handlers();
    if (tls_wanted() && tls_configure() != 0) {
        serverLog(LL_WARNING, "Failed to configure TLS. Check logs for more info.");
        return 1;
    }
    if (listen_all() != 0) return 1;
    bio_init();
    s_allocator_init();
    debug_set_loadaof(aof_debug_loadaof);
    aof_set_other_save_check(saving_bgsave_running);
    aof_set_functions_source(functions_codes);
    if (background || (srv.pidfile && srv.pidfile[0])) write_pidfile();
    durclock_init();
    serverLog(LL_NOTICE, "monotonic clock: %s", durclock_is_tsc() ? "X86 TSC @ measured rate" : "POSIX clock_gettime");
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
    /* As Redis: with appendonly yes the AOF is the dataset and the RDB file is not read. */
    if (aof_load_startup() != 0) return 1;
    if (!aofc.enabled && saving_load_at_startup() != 0) return 1;
    serverLog(LL_NOTICE, "Ready to accept connections");
    supervise_ready();
    server_install_loop_hooks();
    el_run(srv.el);
    return 0;
}
