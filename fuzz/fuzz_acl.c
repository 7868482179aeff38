/* fuzz_acl: the ACL rule language and ACL files (features/acl.c).
 *
 * The input is read twice.  As an ACL file (acl_parse_text, what ACL LOAD and aclfile read): it must
 * either load or return errors ending with Redis's "no change" warning.  Then line by line as ACL
 * SETUSER rules (split on spaces, as the rules of a file line) applied to one user: every change is
 * all or nothing, and whenever it succeeds the user's description (ACL LIST) applied with "reset" to a
 * fresh user describes that user the same way (descriptions read back exactly), then a few command
 * lines are checked against the user.  Both users are deleted after each input.
 *
 * Checked: no memory error or undefined behaviour; the invariants above. */
#include "fuzz/fuzz.h"
#include "features/acl.h"
#include "util/mem.h"
#include <stdio.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    acl_init();
    return 0;
}

/* The description reads back unless a pattern or a first argument holds what the rule syntax cannot
 * carry (parentheses inside a selector, spaces), as in Redis. */
static int describable(const acl_user *u) {
    for (int i = 0; i < u->nsels; i++) {
        const acl_selector *s = &u->sels[i];
        for (int k = 0; k < s->nkeys; k++)
            if (memchr(s->keys[k].p, '(', s->keys[k].len) || memchr(s->keys[k].p, ')', s->keys[k].len)) return 0;
        for (int k = 0; k < s->nchans; k++)
            if (memchr(s->chans[k].p, '(', s->chans[k].len) || memchr(s->chans[k].p, ')', s->chans[k].len))
                return 0;
        for (int k = 0; k < s->nfa; k++)
            if (strpbrk(s->fa[k].arg, " ()\t\r\n\v\f")) return 0;
    }
    return 1;
}

/* A description without its leading flags. */
static const char *skip_flags(const char *d) {
    static const char *const flags[] = {"on ", "off ", "nopass ", "skip-sanitize-payload ", "sanitize-payload "};
    for (int again = 1; again;) {
        again = 0;
        for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
            if (!strncmp(d, flags[i], strlen(flags[i]))) {
                d += strlen(flags[i]);
                again = 1;
            }
    }
    return d;
}

static int split(char *line, arg *v, int max) {
    int n = 0;
    char *p = line;
    for (;;) {
        char *sp = strchr(p, ' ');
        if (n == max) break;
        v[n].p = p;
        v[n].len = sp ? (size_t)(sp - p) : strlen(p);
        n++;
        if (!sp) break;
        *sp = 0;
        p = sp + 1;
    }
    return n;
}

static void check_commands(const acl_user *u) {
    static const char *const lines[][4] = {{"get", "a", NULL}, {"set", "key", "v", NULL},
                                           {"publish", "ch", "m", NULL}, {"psubscribe", "p*", NULL},
                                           {"config", "get", "x", NULL}, {"select", "0", NULL}};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        arg v[4];
        int n = 0;
        for (; lines[i][n]; n++) {
            v[n].p = (char *)lines[i][n];
            v[n].len = strlen(lines[i][n]);
        }
        char full[64];
        snprintf(full, sizeof(full), "%s|%s", lines[i][0], n > 1 ? lines[i][1] : "");
        const cmd_def *d = command_def_find(full, strlen(full));
        if (!d) d = command_def_find(lines[i][0], strlen(lines[i][0]));
        int pos = -1;
        int r = acl_check(u, d, v, n, &pos);
        FUZZ_CHECK(r == ACL_OK || r == ACL_DENIED_CMD || ((r == ACL_DENIED_KEY || r == ACL_DENIED_CHANNEL) && pos > 0 && pos < n));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 16384) return 0;
    char *err = acl_parse_text((const char *)data, size, "fuzz.acl");
    if (err) {
        FUZZ_CHECK(strstr(err, "WARNING: ACL errors detected, no change to the previously active ACL rules was performed"));
        s_free(err);
    }
    char *text = s_malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    arg v[256];
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        int n = split(line, v, 256);
        acl_user *before = acl_find("f", 1);
        char *old = before ? acl_describe_user(before) : NULL;
        err = acl_setuser("f", 1, v, n, NULL);
        acl_user *u = acl_find("f", 1);
        if (err) { /* nothing changed */
            char *now = u ? acl_describe_user(u) : NULL;
            FUZZ_CHECK((old == NULL) == (now == NULL) && (!old || !strcmp(old, now)));
            s_free(now);
            s_free(err);
        } else {
            FUZZ_CHECK(u != NULL);
            check_commands(u);
            if (describable(u)) {
                char *d = acl_describe_user(u);
                char *copy = s_strdup(d);
                arg w[1024];
                w[0].p = "reset";
                w[0].len = 5;
                int m = 1 + split(copy, w + 1, 1023);
                char *e2 = acl_setuser("g", 1, w, m, NULL);
                FUZZ_CHECK(e2 == NULL);
                char *d2 = acl_describe_user(acl_find("g", 1));
                /* "reset" leaves sanitize-payload on: compare everything after the flags */
                const char *a = skip_flags(d), *b = skip_flags(d2);
                FUZZ_CHECK(a && b && !strcmp(a, b));
                s_free(d);
                s_free(d2);
                s_free(copy);
                acl_deluser("g", 1, NULL);
            }
        }
        s_free(old);
    }
    acl_deluser("f", 1, NULL);
    s_free(text);
    return 0;
}
