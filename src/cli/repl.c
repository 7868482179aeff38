/* repl: interactive mode.
 *
 * On a terminal, lines are read with libedit (emacs bindings, history in
 * ~/.sardinecli_history or $SARDINECLI_HISTFILE, saved after every line
 * except ones carrying passwords).  Tab completes command names (and help
 * topics) from the server's COMMAND DOCS; the syntax of the command being
 * typed is shown as a right-side hint, refreshed when space is pressed.
 * When stdin is not a terminal, lines are read plainly and no prompt is
 * printed, like redis-cli.  The connection may be absent ("not connected>");
 * every command first reconnects if needed, so a restarted server is picked
 * up by the next command.  SIGINT only interrupts streaming commands. */
#include "cli/repl.h"

#include <ctype.h>
#include <histedit.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/buf.h"
#include "cli/config.h"
#include "cli/exec.h"
#include "cli/help.h"
#include "cli/session.h"

static conn *C;
static int in_multi;
static int hints = 1;
static char prompt_buf[512];
static char hint_buf[1024];

static char *repl_prompt(EditLine *el) {
    (void)el;
    if (!C) {
        snprintf(prompt_buf, sizeof(prompt_buf), "not connected> ");
    } else {
        char db[32] = "";
        if (cfg.dbnum) snprintf(db, sizeof(db), "[%d]", cfg.dbnum);
        if (cfg.sock)
            snprintf(prompt_buf, sizeof(prompt_buf), "redis %s%s%s> ", cfg.sock, db, in_multi ? "(TX)" : "");
        else
            snprintf(prompt_buf, sizeof(prompt_buf), "%s:%d%s%s> ", cfg.host, cfg.port, db,
                     in_multi ? "(TX)" : "");
    }
    return prompt_buf;
}

/* The right-side hint: the syntax of the typed command minus the words
 * already typed after it. */
static char *repl_rprompt(EditLine *el) {
    hint_buf[0] = '\0';
    if (!hints) return hint_buf;
    const LineInfo *li = el_line(el);
    size_t n = (size_t)(li->lastchar - li->buffer);
    char *line = strndup(li->buffer, n);
    argv_t a;
    if (args_split(line, &a) == 0 && a.argc > 0) {
        int used;
        const cmd_doc *d = help_find(a.argc, a.argv, &used);
        int ends_space = n > 0 && isspace((unsigned char)line[n - 1]);
        if (d && (a.argc > used || ends_space)) {
            const char *p = d->params;
            int skip = a.argc - used;
            while (skip-- > 0 && p) {
                p = strchr(p, ' ');
                if (p) p++;
            }
            /* libedit draws the right prompt only if it fits: cut it to the room left */
            int cols = 80;
            el_get(el, EL_GETTC, "co", &cols);
            int room = cols - (int)strlen(prompt_buf) - (int)n - 2;
            int len = p ? (int)strlen(p) : 0;
            if (len > room) len = room > 4 ? room - 3 : 0;
            if (len > 0)
                snprintf(hint_buf, sizeof(hint_buf), "\1\x1b[90m\1%.*s%s\1\x1b[0m\1", len, p,
                         len < (int)strlen(p) ? "..." : "");
        }
        args_free(&a);
    }
    free(line);
    return hint_buf;
}

static unsigned char repl_space(EditLine *el, int ch) {
    (void)ch;
    el_insertstr(el, " ");
    return CC_REFRESH;
}

static unsigned char repl_complete(EditLine *el, int ch) {
    (void)ch;
    help_load(C);
    const LineInfo *li = el_line(el);
    const char *start = li->cursor;
    while (start > li->buffer && !isspace((unsigned char)start[-1])) start--;
    size_t plen = (size_t)(li->cursor - start);
    /* which word is this: the command, or the topic after "help" */
    const char *b = li->buffer;
    while (b < start && isspace((unsigned char)*b)) b++;
    int for_help = 0;
    if (b != start) {
        if (strncasecmp(b, "help", 4) || !isspace((unsigned char)b[4])) return CC_ERROR;
        const char *q = b + 4;
        while (q < start && isspace((unsigned char)*q)) q++;
        if (q != start) return CC_ERROR;
        for_help = 1;
    }
    const char *matches[4096];
    size_t nm = 0;
    for (size_t i = 0; i < help_count() && nm < 4096; i++) {
        const char *name = help_get(i)->name;
        if (strchr(name, ' ')) continue;
        if (!strncasecmp(name, start, plen)) matches[nm++] = name;
    }
    if (for_help) {
        static const char *groups[] = {"@generic",    "@string", "@list",      "@set",
                                       "@sorted-set", "@hash",   "@pubsub",    "@transactions",
                                       "@connection", "@server", "@scripting", "@hyperloglog",
                                       "@cluster",    "@geo",    "@stream",    "@bitmap"};
        for (size_t i = 0; i < sizeof(groups) / sizeof(*groups); i++)
            if (!strncasecmp(groups[i], start, plen)) matches[nm++] = groups[i];
    }
    if (nm == 0) return CC_ERROR;
    size_t common = strlen(matches[0]);
    for (size_t i = 1; i < nm; i++) {
        size_t k = 0;
        while (k < common && tolower((unsigned char)matches[i][k]) == tolower((unsigned char)matches[0][k]))
            k++;
        common = k;
    }
    int lower = plen > 0 && islower((unsigned char)start[0]);
    if (common > plen || nm == 1) {
        char ins[256];
        size_t len = common < sizeof(ins) - 2 ? common : sizeof(ins) - 2;
        for (size_t k = 0; k < len; k++)
            ins[k] = lower ? (char)tolower((unsigned char)matches[0][k]) : matches[0][k];
        if (nm == 1) ins[len++] = ' ';
        ins[len] = '\0';
        el_deletestr(el, (int)plen);
        el_insertstr(el, ins);
        return CC_REFRESH;
    }
    fputc('\n', stdout);
    for (size_t i = 0; i < nm; i++) printf("%-24s%s", matches[i], (i % 4 == 3 || i + 1 == nm) ? "\n" : "");
    fflush(stdout);
    return CC_REDISPLAY;
}

static void on_sigint(int sig) {
    (void)sig;
    conn_interrupted = 1;
}

static int sensitive(const argv_t *a) {
    const char *c = a->argv[0];
    if (!strcasecmp(c, "auth")) return 1;
    if (!strcasecmp(c, "hello")) {
        for (int i = 1; i < a->argc; i++)
            if (!strcasecmp(a->argv[i], "auth")) return 1;
    }
    if (!strcasecmp(c, "migrate")) {
        for (int i = 1; i < a->argc; i++)
            if (!strcasecmp(a->argv[i], "auth") || !strcasecmp(a->argv[i], "auth2")) return 1;
    }
    if (a->argc >= 2 && !strcasecmp(c, "acl") && !strcasecmp(a->argv[1], "setuser")) return 1;
    if (a->argc >= 3 && !strcasecmp(c, "config") && !strcasecmp(a->argv[1], "set") &&
        (!strcasecmp(a->argv[2], "masterauth") || !strcasecmp(a->argv[2], "requirepass")))
        return 1;
    return 0;
}

/* Execute one typed line.  Returns 1 to leave the REPL. */
static int do_line(const char *line, int *saveable) {
    argv_t a;
    *saveable = 0;
    if (args_split(line, &a) < 0) {
        printf("Invalid argument(s)\n");
        fflush(stdout);
        return 0;
    }
    if (a.argc == 0) return 0;
    *saveable = !sensitive(&a);
    const char *c = a.argv[0];
    int quit = 0;
    if (!strcasecmp(c, "quit") || !strcasecmp(c, "exit")) {
        quit = 1;
    } else if (!strcasecmp(c, "help") || c[0] == '?') {
        if (!C) C = session_connect(1);
        help_load(C);
        help_command(a.argc, a.argv);
    } else if (!strcasecmp(c, "clear")) {
        printf("\x1b[H\x1b[2J");
    } else if (!strcasecmp(c, ":set") && a.argc == 2) {
        if (!strcasecmp(a.argv[1], "hints"))
            hints = 1;
        else if (!strcasecmp(a.argv[1], "nohints"))
            hints = 0;
    } else if (!strcasecmp(c, "connect") && a.argc >= 2) {
        conn_close(C);
        C = NULL;
        free(cfg.host);
        cfg.host = xstrdup(a.argv[1]);
        cfg.sock = NULL;
        if (a.argc >= 3) cfg.port = atoi(a.argv[2]);
        in_multi = 0;
        cfg.dbnum = 0;
        C = session_connect(0);
        help_free();
    } else {
        long long repeat = 1;
        argv_t *cmd = &a;
        argv_t shifted = a;
        char *end;
        long long n = strtoll(c, &end, 10);
        if (a.argc > 1 && *end == '\0' && end != c) {
            repeat = n;
            shifted.argc--;
            shifted.argv++;
            shifted.lens++;
            cmd = &shifted;
        }
        conn_interrupted = 0;
        int had = C != NULL;
        int rc = exec_command(&C, cmd, repeat, 1);
        if (!had && C) {
            help_free();
            help_load(C);
        }
        const char *name = cmd->argv[0];
        if (rc == 0 && C) {
            if (!strcasecmp(name, "multi"))
                in_multi = 1;
            else if (!strcasecmp(name, "exec") || !strcasecmp(name, "discard"))
                in_multi = 0;
        }
        if (!C) in_multi = 0;
        conn_interrupted = 0;
    }
    args_free(&a);
    fflush(stdout);
    return quit;
}

static int repl_plain(void) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        int save;
        if (do_line(line, &save)) break;
    }
    free(line);
    return 0;
}

int repl_mode(void) {
    C = session_connect(0);
    if (!isatty(STDIN_FILENO)) {
        int rc = repl_plain();
        conn_close(C);
        return rc;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);

    char histpath[1024] = "";
    const char *env = getenv("SARDINECLI_HISTFILE");
    const char *home = getenv("HOME");
    if (env)
        snprintf(histpath, sizeof(histpath), "%s", env);
    else if (home)
        snprintf(histpath, sizeof(histpath), "%s/.sardinecli_history", home);

    HistEvent ev;
    History *hist = history_init();
    history(hist, &ev, H_SETSIZE, 1000);
    history(hist, &ev, H_SETUNIQUE, 1);
    if (histpath[0] && strcmp(histpath, "/dev/null")) history(hist, &ev, H_LOAD, histpath);

    EditLine *el = el_init("sardine-cli", stdin, stdout, stderr);
    el_set(el, EL_EDITOR, "emacs");
    el_set(el, EL_PROMPT, repl_prompt);
    el_set(el, EL_RPROMPT_ESC, repl_rprompt, '\1');
    el_set(el, EL_HIST, history, hist);
    el_set(el, EL_ADDFN, "sardine-complete", "Complete command names", repl_complete);
    el_set(el, EL_BIND, "^I", "sardine-complete", NULL);
    el_set(el, EL_ADDFN, "sardine-space", "Insert a space and refresh the hint", repl_space);
    el_set(el, EL_BIND, " ", "sardine-space", NULL);
    el_source(el, NULL);
    help_load(C);

    for (;;) {
        int count;
        const char *line = el_gets(el, &count);
        if (!line) break;
        char *copy = xstrdup(line);
        size_t n = strlen(copy);
        while (n > 0 && (copy[n - 1] == '\n' || copy[n - 1] == '\r')) copy[--n] = '\0';
        int save;
        int quit = do_line(copy, &save);
        if (save && n > 0) {
            history(hist, &ev, H_ENTER, copy);
            if (histpath[0] && strcmp(histpath, "/dev/null")) history(hist, &ev, H_SAVE, histpath);
        }
        free(copy);
        if (quit) break;
    }
    el_end(el);
    history_end(hist);
    conn_close(C);
    help_free();
    return 0;
}
