/* help: COMMAND DOCS parsing and rendering.
 *
 * Docs are fetched lazily once per process with COMMAND DOCS and flattened
 * into a sorted array of cmd_doc (commands and "CONTAINER SUB" subcommands).
 * The argument syntax is rendered from the nested argument specs the way
 * redis-cli 7 prints it: "TOKEN name", "x [x ...]" for multiple, "[...]" for
 * optional, "a|b" for oneof, blocks joined by spaces. */
#include "cli/help.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/buf.h"

static cmd_doc *docs;
static size_t ndocs, capdocs;
static int loaded;

static const reply *map_get(const reply *m, const char *key) {
    if (!m || (m->type != R_ARRAY && m->type != R_MAP)) return NULL;
    for (size_t i = 0; i + 1 < m->elements; i += 2) {
        const reply *k = m->element[i];
        if (k->str && !strcasecmp(k->str, key)) return m->element[i + 1];
    }
    return NULL;
}

static const char *map_str(const reply *m, const char *key) {
    const reply *v = map_get(m, key);
    return v && v->str ? v->str : NULL;
}

static int has_flag(const reply *arg, const char *flag) {
    const reply *f = map_get(arg, "flags");
    if (!f) return 0;
    for (size_t i = 0; i < f->elements; i++)
        if (f->element[i]->str && !strcmp(f->element[i]->str, flag)) return 1;
    return 0;
}

static void render_args(buf *b, const reply *args, const char *sep);

static void render_arg(buf *b, const reply *arg) {
    const char *type = map_str(arg, "type");
    const char *name = map_str(arg, "display_text");
    if (!name) name = map_str(arg, "name");
    const char *token = map_str(arg, "token");
    buf one = {0};
    if (type && !strcmp(type, "pure-token")) {
        buf_adds(&one, token ? token : name);
    } else {
        if (token) {
            buf_adds(&one, token);
            buf_addc(&one, ' ');
        }
        if (type && !strcmp(type, "oneof"))
            render_args(&one, map_get(arg, "arguments"), "|");
        else if (type && !strcmp(type, "block"))
            render_args(&one, map_get(arg, "arguments"), " ");
        else
            buf_adds(&one, name ? name : "arg");
    }
    int opt = has_flag(arg, "optional");
    int multi = has_flag(arg, "multiple");
    if (opt) buf_addc(b, '[');
    buf_add(b, one.p, one.len);
    if (multi) {
        buf_adds(b, " [");
        buf_add(b, one.p, one.len);
        buf_adds(b, " ...]");
    }
    if (opt) buf_addc(b, ']');
    buf_free(&one);
}

static void render_args(buf *b, const reply *args, const char *sep) {
    if (!args) return;
    for (size_t i = 0; i < args->elements; i++) {
        if (i) buf_adds(b, sep);
        render_arg(b, args->element[i]);
    }
}

static void add_doc(const char *name, const reply *d) {
    if (ndocs == capdocs) {
        capdocs = capdocs ? capdocs * 2 : 256;
        docs = xrealloc(docs, capdocs * sizeof(*docs));
    }
    cmd_doc *c = &docs[ndocs++];
    c->name = xstrdup(name);
    for (char *p = c->name; *p; p++) *p = *p == '|' ? ' ' : (char)toupper((unsigned char)*p);
    buf b = {0};
    buf_reserve(&b, 0);
    render_args(&b, map_get(d, "arguments"), " ");
    c->params = b.p;
    const char *s;
    c->summary = xstrdup((s = map_str(d, "summary")) ? s : "");
    c->since = xstrdup((s = map_str(d, "since")) ? s : "");
    c->group = xstrdup((s = map_str(d, "group")) ? s : "");
}

static int cmp_doc(const void *a, const void *b) {
    return strcmp(((const cmd_doc *)a)->name, ((const cmd_doc *)b)->name);
}

size_t help_load(conn *c) {
    if (loaded || !c) return ndocs;
    reply *r = conn_cmdf(c, "COMMAND DOCS");
    if (!r) return 0;
    loaded = 1;
    if (r->type == R_ARRAY || r->type == R_MAP) {
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
            const reply *d = r->element[i + 1];
            if (!r->element[i]->str) continue;
            add_doc(r->element[i]->str, d);
            const reply *subs = map_get(d, "subcommands");
            if (subs)
                for (size_t j = 0; j + 1 < subs->elements; j += 2)
                    if (subs->element[j]->str) add_doc(subs->element[j]->str, subs->element[j + 1]);
        }
    }
    reply_free(r);
    qsort(docs, ndocs, sizeof(*docs), cmp_doc);
    return ndocs;
}

size_t help_count(void) {
    return ndocs;
}
const cmd_doc *help_get(size_t i) {
    return i < ndocs ? &docs[i] : NULL;
}

const cmd_doc *help_find(int argc, char **argv, int *used) {
    if (argc < 1) return NULL;
    const cmd_doc *best = NULL;
    for (size_t i = 0; i < ndocs; i++) {
        const char *n = docs[i].name;
        const char *sp = strchr(n, ' ');
        if (sp) {
            if (argc >= 2 && (size_t)(sp - n) == strlen(argv[0]) &&
                !strncasecmp(n, argv[0], (size_t)(sp - n)) && !strcasecmp(sp + 1, argv[1])) {
                *used = 2;
                return &docs[i];
            }
        } else if (!strcasecmp(n, argv[0]) && !best) {
            best = &docs[i];
        }
    }
    *used = 1;
    return best;
}

static void print_doc(const cmd_doc *d, int group) {
    printf("\r\n  \x1b[1m%s\x1b[0m \x1b[90m%s\x1b[0m\r\n", d->name, d->params);
    printf("  \x1b[33msummary:\x1b[0m %s\r\n", d->summary);
    printf("  \x1b[33msince:\x1b[0m %s\r\n", d->since);
    if (group) printf("  \x1b[33mgroup:\x1b[0m %s\r\n", d->group);
}

void help_command(int argc, char **argv) {
    if (argc <= 1) {
        printf("sardine-cli\n"
               "To get help about commands type:\n"
               "      \"help @<group>\" to get a list of commands in <group>\n"
               "      \"help <command>\" for help on <command>\n"
               "      \"help <tab>\" to get a list of possible help topics\n"
               "      \"quit\" to exit\n");
        return;
    }
    if (argv[1][0] == '@') {
        for (size_t i = 0; i < ndocs; i++)
            if (!strcasecmp(docs[i].group, argv[1] + 1)) print_doc(&docs[i], 0);
        printf("\r\n");
        return;
    }
    int used;
    const cmd_doc *d = help_find(argc - 1, argv + 1, &used);
    if (d) {
        /* a container with subcommands asked by name alone lists them all */
        size_t n = strlen(d->name);
        int subs = 0;
        if (used == 1)
            for (size_t i = 0; i < ndocs; i++)
                if (!strncmp(docs[i].name, d->name, n) && docs[i].name[n] == ' ') {
                    print_doc(&docs[i], 1);
                    subs = 1;
                }
        if (!subs) print_doc(d, 1);
    }
    printf("\r\n");
}

void help_free(void) {
    for (size_t i = 0; i < ndocs; i++) {
        free(docs[i].name);
        free(docs[i].params);
        free(docs[i].summary);
        free(docs[i].since);
        free(docs[i].group);
    }
    free(docs);
    docs = NULL;
    ndocs = capdocs = 0;
    loaded = 0;
}
