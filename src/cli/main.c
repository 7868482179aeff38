/* main: sardine-cli option parsing and mode dispatch.
 *
 * Options are parsed like redis-cli: they come first, and the first argument
 * that is not an option starts the command.  Everything parsed lands in the
 * global cfg, which the modes only read.  Exit status: 0 on success, 1 on
 * connection failure, bad options, or (with -e) an error reply. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/buf.h"
#include "cli/config.h"
#include "cli/diag.h"
#include "cli/exec.h"
#include "cli/import.h"
#include "cli/latency.h"
#include "cli/output.h"
#include "cli/pipe.h"
#include "cli/rdb.h"
#include "cli/repl.h"
#include "cli/session.h"

#define SARDINE_CLI_VERSION "0.1.0"

cli_config cfg;

static void usage(int status) {
    FILE *o = status ? stderr : stdout;
    fprintf(
        o,
        "sardine-cli %s\n"
        "\n"
        "Usage: sardine-cli [OPTIONS] [cmd [arg [arg ...]]]\n"
        "  -h <hostname>      Server hostname (default: 127.0.0.1).\n"
        "  -p <port>          Server port (default: 6379).\n"
        "  -s <socket>        Server socket (overrides hostname and port).\n"
        "  -a <password>      Password to use when connecting to the server.\n"
        "                     You can also use the REDISCLI_AUTH environment\n"
        "                     variable to pass this password more safely.\n"
        "  --user <username>  Used to send ACL style 'AUTH username pass'. Needs -a.\n"
        "  --pass <password>  Alias of -a for consistency with the new --user option.\n"
        "  -u <uri>           Server URI (redis://[[user]:password@]host[:port][/db]).\n"
        "  --tls              Establish a secure TLS connection.\n"
        "  --sni <host>       Server name indication for TLS.\n"
        "  --cacert <file>    CA Certificate file to verify with.\n"
        "  --cacertdir <dir>  Directory where trusted CA certificates are stored.\n"
        "                     If neither cacert nor cacertdir are specified, the default\n"
        "                     system-wide trusted root certs configuration will apply.\n"
        "  --insecure         Allow insecure TLS connection by skipping cert validation.\n"
        "  --cert <file>      Client certificate to authenticate with.\n"
        "  --key <file>       Private key file to authenticate with.\n"
        "  --tls-ciphers <list> Sets the list of preferred ciphers (TLSv1.2 and below)\n"
        "                     in order of preference from highest to lowest separated by colon (\":\").\n"
        "  --tls-ciphersuites <list> Sets the list of preferred ciphersuites (TLSv1.3)\n"
        "                     in order of preference from highest to lowest separated by colon (\":\").\n"
        "  -r <repeat>        Execute specified command N times (-1: forever).\n"
        "  -i <interval>      When -r is used, waits <interval> seconds per command.\n"
        "                     Also the pause between --scan, --stat batches and\n"
        "                     between 100-key batches of --bigkeys/--memkeys/--hotkeys.\n"
        "  -n <db>            Database number.\n"
        "  -2                 Start session in RESP2 protocol mode.\n"
        "  -3, --resp3        Start session in RESP3 protocol mode.\n"
        "  -x                 Read last argument from STDIN.\n"
        "  -d <delimiter>     Delimiter between response bulks for raw formatting (default: \\n).\n"
        "  -D <delimiter>     Delimiter between responses for raw formatting (default: \\n).\n"
        "  -e                 Return exit error code when command execution fails.\n"
        "  --raw              Use raw formatting for replies (default when STDOUT is\n"
        "                     not a tty).\n"
        "  --no-raw           Force formatted output even when STDOUT is not a tty.\n"
        "  --csv              Output in CSV format.\n"
        "  --json             Output in JSON format (default RESP3, use -2 if you want to use with RESP2).\n"
        "  --quoted-json      Same as --json, but produce ASCII-safe quoted strings, not Unicode.\n"
        "  --show-pushes <yn> Whether to print RESP3 PUSH messages.  Enabled by default when\n"
        "                     STDOUT is a tty but can be overridden with --show-pushes no.\n"
        "  --stat             Print rolling stats about server: mem, clients, ...\n"
        "  --latency          Enter a special mode continuously sampling latency.\n"
        "  --latency-history  Like --latency but tracking latency changes over time.\n"
        "                     Default time interval is 15 sec. Change it using -i.\n"
        "  --latency-dist     Shows latency as a spectrum, requires xterm 256 colors.\n"
        "                     Default time interval is 1 sec. Change it using -i.\n"
        "  --rdb <filename>   Transfer an RDB dump from remote server to local file.\n"
        "                     Use filename of \"-\" to write to stdout.\n"
        "  --pipe             Transfer raw Redis protocol from stdin to server.\n"
        "  --pipe-timeout <n> In --pipe mode, abort with error if after sending all data.\n"
        "                     no reply is received within <n> seconds.\n"
        "                     Default timeout: 30. Use 0 to wait forever.\n"
        "  --import <file>    Stream commands built from a CSV/TSV/JSON-lines file\n"
        "                     (\"-\" for stdin) with --pipe's pipelining.\n"
        "  --format <fmt>     csv, tsv or jsonl (default: from the file extension).\n"
        "  --header           The first CSV/TSV row names the fields ({name}).\n"
        "  --cmd <template>   Command template, e.g. 'SET {1} {2} EX 3600'.\n"
        "  --window <bytes>   Max bytes in flight for --pipe/--import (default 4MB).\n"
        "  --bigkeys          Sample keys looking for keys with many elements (complexity).\n"
        "  --memkeys          Sample keys looking for keys consuming a lot of memory.\n"
        "  --memkeys-samples <n> Number of key elements to sample for MEMORY USAGE.\n"
        "  --top-keys <n>     With --bigkeys/--memkeys: report the N biggest keys per type.\n"
        "  --hotkeys          Sample keys looking for hot keys (needs an LFU policy).\n"
        "  --scan             List all keys using the SCAN command.\n"
        "  --pattern <pat>    Keys pattern for --scan, --bigkeys, --memkeys, --hotkeys.\n"
        "  --count <n>        COUNT hint for --scan.\n"
        "  --type <type>      Only keys of this type for --scan.\n"
        "  --intrinsic-latency <sec> Run a test to measure intrinsic system latency.\n"
        "  --eval <file>      Send an EVAL command using the Lua script at <file>.\n"
        "                     (sardine-cli --eval myscript.lua key1 key2 , arg1 arg2)\n"
        "  --verbose          Verbose mode.\n"
        "  --no-auth-warning  Don't show warning message when using password on command\n"
        "                     line interface.\n"
        "  --help             Output this help and exit.\n"
        "  --version          Output version and exit.\n"
        "\n"
        "Examples:\n"
        "  cat /etc/passwd | sardine-cli -x set mypasswd\n"
        "  sardine-cli -r 100 lpush mylist x\n"
        "  sardine-cli --pipe < commands.resp\n"
        "  sardine-cli --import users.csv --header --cmd 'HSET user:{id} name {name}'\n"
        "  sardine-cli --scan --pattern '*:12345*'\n"
        "\n"
        "When no command is given, sardine-cli starts in interactive mode.\n"
        "Type \"help\" in interactive mode for information on available commands.\n",
        SARDINE_CLI_VERSION);
    exit(status);
}

static char *unescape_delim(const char *s) {
    argv_t a;
    buf b = {0};
    buf_addc(&b, '"');
    buf_adds(&b, s);
    buf_addc(&b, '"');
    char *out;
    if (args_split(b.p, &a) == 0 && a.argc == 1)
        out = xstrdup(a.argv[0]);
    else
        out = xstrdup(s);
    if (a.argc) args_free(&a);
    buf_free(&b);
    return out;
}

static int parse_uri(const char *uri) {
    const char *p = uri;
    if (!strncmp(p, "redis://", 8))
        p += 8;
    else if (!strncmp(p, "sardine://", 10))
        p += 10;
    else {
        fprintf(stderr, "Invalid URI scheme\n");
        return -1;
    }
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon) {
            if (colon > p) {
                free(cfg.user);
                cfg.user = strndup(p, (size_t)(colon - p));
            }
            free(cfg.auth);
            cfg.auth = strndup(colon + 1, (size_t)(at - colon - 1));
        } else {
            free(cfg.auth);
            cfg.auth = strndup(p, (size_t)(at - p));
        }
        p = at + 1;
    }
    const char *slash = strchr(p, '/');
    size_t hostlen = slash ? (size_t)(slash - p) : strlen(p);
    const char *colon = memchr(p, ':', hostlen);
    if (colon) {
        cfg.port = atoi(colon + 1);
        hostlen = (size_t)(colon - p);
    }
    if (hostlen) {
        free(cfg.host);
        cfg.host = strndup(p, hostlen);
    }
    if (slash && slash[1]) cfg.dbnum = atoi(slash + 1);
    return 0;
}

static int parse_options(int argc, char **argv) {
    int i;
    for (i = 1; i < argc; i++) {
        const char *o = argv[i];
        int last = i == argc - 1;
#define OPT(name) (!strcmp(o, name) && !last)
        if (OPT("-h")) {
            free(cfg.host);
            cfg.host = xstrdup(argv[++i]);
        } else if (!strcmp(o, "-h") && last)
            usage(0);
        else if (!strcmp(o, "--help"))
            usage(0);
        else if (!strcmp(o, "-v") || !strcmp(o, "--version")) {
            printf("sardine-cli %s\n", SARDINE_CLI_VERSION);
            exit(0);
        } else if (OPT("-p"))
            cfg.port = atoi(argv[++i]);
        else if (OPT("-s"))
            cfg.sock = argv[++i];
        else if (!strcmp(o, "--tls"))
            cfg.tls = 1;
        else if (OPT("--sni"))
            cfg.sni = argv[++i];
        else if (OPT("--cacert"))
            cfg.cacert = argv[++i];
        else if (OPT("--cacertdir"))
            cfg.cacertdir = argv[++i];
        else if (OPT("--cert"))
            cfg.cert = argv[++i];
        else if (OPT("--key"))
            cfg.key = argv[++i];
        else if (OPT("--tls-ciphers"))
            cfg.tls_ciphers = argv[++i];
        else if (OPT("--tls-ciphersuites"))
            cfg.tls_ciphersuites = argv[++i];
        else if (!strcmp(o, "--insecure"))
            cfg.insecure = 1;
        else if (OPT("-a") || OPT("--pass")) {
            free(cfg.auth);
            cfg.auth = xstrdup(argv[++i]);
            cfg.auth_from_cli = 1;
        } else if (OPT("--user")) {
            free(cfg.user);
            cfg.user = xstrdup(argv[++i]);
        } else if (OPT("-u")) {
            if (parse_uri(argv[++i]) < 0) exit(1);
            if (cfg.auth) cfg.auth_from_cli = 1;
        } else if (OPT("-r"))
            cfg.repeat = strtoll(argv[++i], NULL, 10);
        else if (OPT("-i")) {
            cfg.interval = strtod(argv[++i], NULL);
            cfg.interval_set = 1;
        } else if (OPT("-n"))
            cfg.dbnum = atoi(argv[++i]);
        else if (!strcmp(o, "-2")) {
            cfg.resp3 = 0;
            cfg.resp2_forced = 1;
        } else if (!strcmp(o, "-3") || !strcmp(o, "--resp3"))
            cfg.resp3 = 1;
        else if (!strcmp(o, "-x"))
            cfg.stdin_last = 1;
        else if (OPT("-d")) {
            free(cfg.mb_delim);
            cfg.mb_delim = unescape_delim(argv[++i]);
        } else if (OPT("-D")) {
            free(cfg.cmd_delim);
            cfg.cmd_delim = unescape_delim(argv[++i]);
        } else if (!strcmp(o, "-e"))
            cfg.exit_on_err = 1;
        else if (!strcmp(o, "--raw"))
            cfg.output = OUT_RAW;
        else if (!strcmp(o, "--no-raw"))
            cfg.output = OUT_STANDARD;
        else if (!strcmp(o, "--csv"))
            cfg.output = OUT_CSV;
        else if (!strcmp(o, "--json"))
            cfg.output = OUT_JSON;
        else if (!strcmp(o, "--quoted-json"))
            cfg.output = OUT_QUOTED_JSON;
        else if (!strcmp(o, "--no-auth-warning"))
            cfg.no_auth_warning = 1;
        else if (!strcmp(o, "--verbose"))
            cfg.verbose = 1;
        else if (OPT("--show-pushes")) {
            i++;
            cfg.show_pushes = argv[i][0] == 'y' || argv[i][0] == 'Y';
        } else if (!strcmp(o, "--pipe"))
            cfg.pipe = 1;
        else if (OPT("--pipe-timeout"))
            cfg.pipe_timeout = atoi(argv[++i]);
        else if (OPT("--window"))
            cfg.window = (size_t)strtoull(argv[++i], NULL, 10);
        else if (OPT("--import"))
            cfg.import_file = argv[++i];
        else if (OPT("--format"))
            cfg.import_format = argv[++i];
        else if (!strcmp(o, "--header"))
            cfg.import_header = 1;
        else if (OPT("--cmd"))
            cfg.import_cmd = argv[++i];
        else if (!strcmp(o, "--scan"))
            cfg.scan = 1;
        else if (!strcmp(o, "--bigkeys"))
            cfg.bigkeys = 1;
        else if (!strcmp(o, "--memkeys"))
            cfg.memkeys = 1;
        else if (OPT("--memkeys-samples")) {
            cfg.memkeys = 1;
            cfg.memkeys_samples = atol(argv[++i]);
        } else if (!strcmp(o, "--hotkeys"))
            cfg.hotkeys = 1;
        else if (OPT("--top-keys"))
            cfg.top_keys = atoi(argv[++i]);
        else if (OPT("--pattern"))
            cfg.pattern = argv[++i];
        else if (OPT("--count"))
            cfg.scan_count = atol(argv[++i]);
        else if (OPT("--type"))
            cfg.scan_type = argv[++i];
        else if (!strcmp(o, "--latency"))
            cfg.latency = 1;
        else if (!strcmp(o, "--latency-history")) {
            cfg.latency = 1;
            cfg.latency_history = 1;
        } else if (!strcmp(o, "--latency-dist")) {
            cfg.latency = 1;
            cfg.latency_dist = 1;
        } else if (OPT("--intrinsic-latency")) {
            cfg.intrinsic = 1;
            cfg.intrinsic_secs = atof(argv[++i]);
        } else if (!strcmp(o, "--stat"))
            cfg.stat = 1;
        else if (OPT("--rdb"))
            cfg.rdb = argv[++i];
        else if (OPT("--eval"))
            cfg.eval_file = argv[++i];
        else if (o[0] == '-' && o[1] != '\0') {
            fprintf(stderr, "Unrecognized option or bad number of args for: '%s'\n", o);
            exit(1);
        } else {
            break;
        }
#undef OPT
    }
    return i;
}

static char *read_all_stdin(size_t *len) {
    buf b = {0};
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), stdin)) > 0) buf_add(&b, tmp, n);
    buf_reserve(&b, 0);
    *len = b.len;
    return b.p;
}

static int finish(int rc) {
    free(cfg.host);
    free(cfg.auth);
    free(cfg.user);
    free(cfg.mb_delim);
    free(cfg.cmd_delim);
    return rc;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    cfg.host = xstrdup("127.0.0.1");
    cfg.port = 6379;
    cfg.repeat = 1;
    cfg.output = isatty(STDOUT_FILENO) ? OUT_STANDARD : OUT_RAW;
    cfg.show_pushes = isatty(STDOUT_FILENO);
    cfg.mb_delim = xstrdup("\n");
    cfg.cmd_delim = xstrdup("\n");
    cfg.pipe_timeout = 30;
    cfg.window = 4u << 20;
    cfg.scan_count = 0;
    cfg.top_keys = 1;
    if (getenv("REDISCLI_AUTH")) cfg.auth = xstrdup(getenv("REDISCLI_AUTH"));

    int first = parse_options(argc, argv);
    argc -= first;
    argv += first;

    if (cfg.auth && cfg.auth_from_cli && !cfg.no_auth_warning)
        fprintf(stderr, "Warning: Using a password with '-a' or '-u' option on the command line "
                        "interface may not be safe.\n");
    if (cfg.window < 65536) cfg.window = 65536;
    /* JSON output speaks RESP3 (maps become objects) unless -2 was given */
    if ((cfg.output == OUT_JSON || cfg.output == OUT_QUOTED_JSON) && !cfg.resp2_forced) cfg.resp3 = 1;

    int rc;
    if (cfg.intrinsic) return finish(latency_intrinsic(cfg.intrinsic_secs));
    if (cfg.tls && (cfg.pipe || cfg.import_file || cfg.rdb)) {
        fprintf(stderr, "--tls is not supported with --pipe, --import or --rdb yet\n");
        return 1;
    }
    if (cfg.pipe) return finish(pipe_mode());
    if (cfg.import_file) return finish(import_mode());
    if (cfg.latency) return finish(latency_mode());
    if (cfg.stat) return finish(stat_mode());
    if (cfg.rdb) return finish(rdb_mode());
    if (cfg.scan) return finish(scan_mode());
    if (cfg.bigkeys || cfg.memkeys || cfg.hotkeys) return finish(keys_mode());

    if (argc == 0 && !cfg.stdin_last && !cfg.eval_file) return finish(repl_mode());

    argv_t a = {0};
    if (cfg.eval_file) {
        /* --eval file key1 key2 , arg1 arg2: EVAL <script> <numkeys> keys... args... */
        FILE *f = fopen(cfg.eval_file, "rb");
        if (!f) {
            fprintf(stderr, "Can't open file '%s': %s\n", cfg.eval_file, strerror(errno));
            return finish(1);
        }
        buf script = {0};
        char tmp[8192];
        size_t n;
        while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) buf_add(&script, tmp, n);
        fclose(f);
        int numkeys = 0;
        while (numkeys < argc && strcmp(argv[numkeys], ",")) numkeys++;
        char nk[16];
        snprintf(nk, sizeof(nk), "%d", numkeys);
        args_push(&a, "EVAL", 4);
        args_push(&a, script.p ? script.p : "", script.len);
        args_push(&a, nk, strlen(nk));
        for (int i = 0; i < argc; i++)
            if (i != numkeys) args_push(&a, argv[i], strlen(argv[i]));
        buf_free(&script);
        argc = 0;
    }
    for (int i = 0; i < argc; i++) args_push(&a, argv[i], strlen(argv[i]));
    if (cfg.stdin_last) {
        size_t len;
        char *data = read_all_stdin(&len);
        args_push(&a, data, len);
        free(data);
    }
    conn *c = session_connect(0);
    if (!c) {
        args_free(&a);
        return finish(1);
    }
    rc = exec_command(&c, &a, cfg.repeat, 0);
    conn_close(c);
    args_free(&a);
    return finish(rc == 0 ? 0 : 1);
}
