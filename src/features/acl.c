/* acl: see acl.h. */
#include "features/acl.h"
#include "features/pubsub.h"
#include "net/client.h"
#include "protocol/request.h"
#include "server/server.h"
#include "util/debug.h"
#include "util/glob.h"
#include "util/mem.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum { SEL_ROOT = 1, SEL_ALLKEYS = 2, SEL_ALLCOMMANDS = 4, SEL_ALLCHANNELS = 8 };
enum { USER_ENABLED = 1, USER_DISABLED = 2, USER_NOPASS = 4, USER_SANITIZE_SKIP = 8, USER_SANITIZE = 16 };
enum { PERM_R = 1, PERM_W = 2, PERM_ALL = 3 };
#define FUTURE_BIT (ACL_CMD_BITS - 1)

/* Errors of one rule, as Redis's errno values name them. */
enum { E_OK = 0, E_INVAL, E_NOENT, E_EXIST, E_ISDIR, E_NODEV, E_BADMSG, E_ALREADY, E_CHILD };
static const char *rule_error(int e) {
    switch (e) {
    case E_NOENT: return "Unknown command or category name in ACL";
    case E_INVAL: return "Syntax error";
    case E_EXIST:
        return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any "
               "effect. Try 'resetkeys' to start with an empty list of patterns";
    case E_ISDIR:
        return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have "
               "any effect. Try 'resetchannels' to start with an empty list of channels";
    case E_NODEV: return "The password you are trying to remove from the user does not exist";
    case E_BADMSG: return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters";
    case E_ALREADY: return "Duplicate user found. A user can only be defined once in config files";
    case E_CHILD: return "Allowing first-arg of a subcommand is not supported";
    default: return "Wrong format";
    }
}

/* ---- a growable string ---- */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;
static void sb_add(sbuf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2 + 32;
        b->p = s_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}
static void sb_cat(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }
static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof(tmp)) {
        sb_add(b, tmp, (size_t)n);
        return;
    }
    char *big = s_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_add(b, big, (size_t)n);
    s_free(big);
}
static char *sb_take(sbuf *b) {
    if (!b->p) return s_strdup("");
    return b->p;
}

static char *memdup0(const char *p, size_t n) {
    char *s = s_malloc(n + 1);
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

/* ---- command ids: the index of a definition in command_defs ---- */
static int *parent_of;   /* id -> parent id, -1 for a top-level command */
static int *child_start; /* id -> first index in children[] */
static int *child_count;
static int *children;
static uint8_t *chan_kind; /* CH_*: what a command's arguments are as channels */
enum { CH_NONE, CH_PUBLISH, CH_SUBSCRIBE, CH_PSUBSCRIBE };

static int def_id(const cmd_def *d) { return (int)(d - command_defs); }

int acl_def_in_redis70(const cmd_def *def) {
    int major = 0, minor = 0;
    if (def->since && sscanf(def->since, "%d.%d", &major, &minor) == 2) return major < 7 || (major == 7 && minor == 0);
    return 1;
}

static void ids_init(void) {
    if (parent_of) return;
    int n = command_defs_count;
    DBG_ASSERT(n < FUTURE_BIT);
    parent_of = s_malloc(sizeof(int) * (size_t)n);
    child_start = s_calloc(sizeof(int) * (size_t)n);
    child_count = s_calloc(sizeof(int) * (size_t)n);
    children = s_malloc(sizeof(int) * (size_t)n);
    chan_kind = s_calloc((size_t)n);
    int nchildren = 0;
    for (int i = 0; i < n; i++) {
        const char *name = command_defs[i].fullname, *bar = strchr(name, '|');
        parent_of[i] = -1;
        if (bar) {
            const cmd_def *p = command_def_find(name, (size_t)(bar - name));
            if (p) parent_of[i] = def_id(p);
        }
        if (!strcmp(name, "publish") || !strcmp(name, "spublish")) chan_kind[i] = CH_PUBLISH;
        else if (!strcmp(name, "subscribe") || !strcmp(name, "ssubscribe")) chan_kind[i] = CH_SUBSCRIBE;
        else if (!strcmp(name, "psubscribe")) chan_kind[i] = CH_PSUBSCRIBE;
    }
    for (int i = 0; i < n; i++) {
        child_start[i] = nchildren;
        for (int j = 0; j < n; j++)
            if (parent_of[j] == i) children[nchildren++] = j;
        child_count[i] = nchildren - child_start[i];
    }
}

/* Redis's lookup for rules: "name" or "container|sub" (a sub of a command without subcommands, or a third
 * level, is not found). */
static const cmd_def *lookup_def(const char *name, size_t len) {
    const char *bar = memchr(name, '|', len);
    if (bar) {
        const cmd_def *base = command_def_find(name, (size_t)(bar - name));
        if (!base || child_count[def_id(base)] == 0) return NULL;
        if (memchr(bar + 1, '|', len - (size_t)(bar + 1 - name))) return NULL;
    }
    return command_def_find(name, len);
}

uint32_t acl_category_flag(const char *name, size_t len) {
    for (int i = 0; i < ACL_CATEGORIES; i++)
        if (strlen(acl_category_names[i]) == len && !strncasecmp(acl_category_names[i], name, len)) return 1u << i;
    return 0;
}

/* ---- selectors ---- */
static int get_bit(const acl_selector *s, int id) {
    if (id < 0 || id >= ACL_CMD_BITS) return 0;
    return (s->allowed[id / 64] >> (id % 64)) & 1;
}
static void set_bit(acl_selector *s, int id, int v) {
    if (id < 0 || id >= ACL_CMD_BITS) return;
    if (v) s->allowed[id / 64] |= 1ull << (id % 64);
    else {
        s->allowed[id / 64] &= ~(1ull << (id % 64));
        s->flags &= ~(uint32_t)SEL_ALLCOMMANDS;
    }
}

static void reset_firstargs_for(acl_selector *s, int id) {
    int w = 0;
    for (int i = 0; i < s->nfa; i++) {
        if (s->fa[i].id == id) s_free(s->fa[i].arg);
        else s->fa[w++] = s->fa[i];
    }
    s->nfa = w;
}
static void reset_firstargs(acl_selector *s) {
    for (int i = 0; i < s->nfa; i++) s_free(s->fa[i].arg);
    s_free(s->fa);
    s->fa = NULL;
    s->nfa = 0;
}
static void add_firstarg(acl_selector *s, int id, const char *a, size_t len) {
    for (int i = 0; i < s->nfa; i++)
        if (s->fa[i].id == id && strlen(s->fa[i].arg) == len && !strncasecmp(s->fa[i].arg, a, len)) return;
    s->fa = s_realloc(s->fa, sizeof(*s->fa) * (size_t)(s->nfa + 1));
    s->fa[s->nfa].id = id;
    s->fa[s->nfa].arg = memdup0(a, len);
    s->nfa++;
}

/* Allows or denies a command and, for a container, all its subcommands. */
static void change_perm(acl_selector *s, int id, int allow) {
    set_bit(s, id, allow);
    reset_firstargs_for(s, id);
    for (int k = 0; k < child_count[id]; k++) set_bit(s, children[child_start[id] + k], allow);
}

static void set_category(acl_selector *s, uint32_t flag, int allow) {
    for (int i = 0; i < command_defs_count; i++) {
        if (parent_of[i] >= 0) continue;
        if (command_defs[i].acl & flag) change_perm(s, i, allow);
        for (int k = 0; k < child_count[i]; k++) {
            int c = children[child_start[i] + k];
            if (command_defs[c].acl & flag) change_perm(s, c, allow);
        }
    }
}

static void count_category(const acl_selector *s, uint32_t flag, unsigned long *on, unsigned long *off) {
    *on = *off = 0;
    for (int i = 0; i < command_defs_count; i++)
        if (command_defs[i].acl & flag) {
            if (get_bit(s, i)) (*on)++;
            else (*off)++;
        }
}

static void pat_free(acl_pattern *v, int n) {
    for (int i = 0; i < n; i++) s_free(v[i].p);
    s_free(v);
}
static acl_pattern *pat_dup(const acl_pattern *v, int n) {
    if (!n) return NULL;
    acl_pattern *o = s_malloc(sizeof(*o) * (size_t)n);
    for (int i = 0; i < n; i++) {
        o[i] = v[i];
        o[i].p = memdup0(v[i].p, v[i].len);
    }
    return o;
}
static int pat_find(const acl_pattern *v, int n, const char *p, size_t len) {
    for (int i = 0; i < n; i++)
        if (v[i].len == len && !memcmp(v[i].p, p, len)) return i;
    return -1;
}
static void pat_add(acl_pattern **v, int *n, const char *p, size_t len, int perm) {
    *v = s_realloc(*v, sizeof(**v) * (size_t)(*n + 1));
    (*v)[*n].p = memdup0(p, len);
    (*v)[*n].len = len;
    (*v)[*n].perm = perm;
    (*n)++;
}

static void sel_init(acl_selector *s, uint32_t flags) {
    memset(s, 0, sizeof(*s));
    s->flags = flags | (srv.acl_pubsub_default ? SEL_ALLCHANNELS : 0);
}
static void sel_free(acl_selector *s) {
    reset_firstargs(s);
    pat_free(s->keys, s->nkeys);
    pat_free(s->chans, s->nchans);
    memset(s, 0, sizeof(*s));
}
static void sel_copy(acl_selector *d, const acl_selector *s) {
    *d = *s;
    d->keys = pat_dup(s->keys, s->nkeys);
    d->chans = pat_dup(s->chans, s->nchans);
    d->fa = NULL;
    d->nfa = 0;
    for (int i = 0; i < s->nfa; i++) add_firstarg(d, s->fa[i].id, s->fa[i].arg, strlen(s->fa[i].arg));
}

static int has_spaces(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (isspace((unsigned char)s[i]) || s[i] == 0) return 1;
    return 0;
}

static int eq(const char *op, size_t len, const char *word) {
    return strlen(word) == len && !strncasecmp(op, word, len);
}

static int sel_set(acl_selector *s, const char *op, size_t len);

/* "(rule rule ...)": a new selector, or NULL with *e set. */
static int sel_from_opset(acl_selector *out, const char *op, size_t len) {
    sel_init(out, 0);
    int argc = 0;
    arg *v = split_args(op + 1, len - 2, &argc);
    if (!v) {
        sel_free(out);
        return E_INVAL;
    }
    for (int i = 0; i < argc; i++) {
        int e = sel_set(out, v[i].p, v[i].len);
        if (e) {
            free_split_args(v, argc);
            sel_free(out);
            return e;
        }
    }
    free_split_args(v, argc);
    return E_OK;
}

/* One selector rule; E_OK or the error. */
static int sel_set(acl_selector *s, const char *op, size_t len) {
    if (eq(op, len, "allkeys") || eq(op, len, "~*")) {
        s->flags |= SEL_ALLKEYS;
        pat_free(s->keys, s->nkeys);
        s->keys = NULL;
        s->nkeys = 0;
    } else if (eq(op, len, "resetkeys")) {
        s->flags &= ~(uint32_t)SEL_ALLKEYS;
        pat_free(s->keys, s->nkeys);
        s->keys = NULL;
        s->nkeys = 0;
    } else if (eq(op, len, "allchannels") || eq(op, len, "&*")) {
        s->flags |= SEL_ALLCHANNELS;
        pat_free(s->chans, s->nchans);
        s->chans = NULL;
        s->nchans = 0;
    } else if (eq(op, len, "resetchannels")) {
        s->flags &= ~(uint32_t)SEL_ALLCHANNELS;
        pat_free(s->chans, s->nchans);
        s->chans = NULL;
        s->nchans = 0;
    } else if (eq(op, len, "allcommands") || eq(op, len, "+@all")) {
        memset(s->allowed, 255, sizeof(s->allowed));
        s->flags |= SEL_ALLCOMMANDS;
        reset_firstargs(s);
    } else if (eq(op, len, "nocommands") || eq(op, len, "-@all")) {
        memset(s->allowed, 0, sizeof(s->allowed));
        s->flags &= ~(uint32_t)SEL_ALLCOMMANDS;
        reset_firstargs(s);
    } else if (len && (op[0] == '~' || op[0] == '%')) {
        if (s->flags & SEL_ALLKEYS) return E_EXIST;
        int perm = 0;
        size_t off = 1;
        if (op[0] == '%') {
            for (; off < len; off++) {
                char ch = (char)toupper((unsigned char)op[off]);
                if (ch == 'R' && !(perm & PERM_R)) perm |= PERM_R;
                else if (ch == 'W' && !(perm & PERM_W)) perm |= PERM_W;
                else if (op[off] == '~') {
                    off++;
                    break;
                } else return E_INVAL;
            }
            if (!perm) return E_INVAL; /* "%" or "%~": Redis 7.0 accepts them and then cannot describe them */
        } else {
            perm = PERM_ALL;
        }
        /* "%R" with no '~' gives the empty pattern, as Redis */
        if (has_spaces(op + off, len - off)) return E_INVAL;
        int at = pat_find(s->keys, s->nkeys, op + off, len - off);
        if (at < 0) pat_add(&s->keys, &s->nkeys, op + off, len - off, perm);
        else s->keys[at].perm |= perm;
        s->flags &= ~(uint32_t)SEL_ALLKEYS;
    } else if (len && op[0] == '&') {
        if (s->flags & SEL_ALLCHANNELS) return E_ISDIR;
        if (has_spaces(op + 1, len - 1)) return E_INVAL;
        if (pat_find(s->chans, s->nchans, op + 1, len - 1) < 0) pat_add(&s->chans, &s->nchans, op + 1, len - 1, 0);
        s->flags &= ~(uint32_t)SEL_ALLCHANNELS;
    } else if (len && op[0] == '+' && (len < 2 || op[1] != '@')) {
        const char *name = op + 1;
        size_t nlen = len - 1;
        const char *bar = NULL;
        for (size_t i = nlen; i > 0; i--)
            if (name[i - 1] == '|') {
                bar = name + i - 1;
                break;
            }
        if (!bar) {
            const cmd_def *d = lookup_def(name, nlen);
            if (!d) return E_NOENT;
            change_perm(s, def_id(d), 1);
        } else {
            const cmd_def *d = lookup_def(name, (size_t)(bar - name));
            if (!d) return E_NOENT;
            if (parent_of[def_id(d)] >= 0) return E_CHILD;
            size_t sublen = nlen - (size_t)(bar + 1 - name);
            if (sublen == 0) return E_INVAL;
            if (child_count[def_id(d)]) {
                const cmd_def *sub = lookup_def(name, nlen);
                if (!sub) return E_NOENT;
                change_perm(s, def_id(sub), 1);
            } else {
                if (memchr(bar + 1, 0, sublen)) return E_INVAL; /* not representable in a rule */
                add_firstarg(s, def_id(d), bar + 1, sublen);
            }
        }
    } else if (len && op[0] == '-' && (len < 2 || op[1] != '@')) {
        const cmd_def *d = lookup_def(op + 1, len - 1);
        if (!d) return E_NOENT;
        change_perm(s, def_id(d), 0);
    } else if (len >= 2 && (op[0] == '+' || op[0] == '-') && op[1] == '@') {
        uint32_t f = acl_category_flag(op + 2, len - 2);
        if (!f) return E_NOENT;
        set_category(s, f, op[0] == '+');
    } else {
        return E_INVAL;
    }
    return E_OK;
}

/* ---- users ---- */
static acl_user **users;
static int nusers;
static acl_user *default_user;

static void user_update_unrestricted(acl_user *u) {
    u->unrestricted = 0;
    for (int i = 0; i < u->nsels; i++) {
        uint32_t all = SEL_ALLCOMMANDS | SEL_ALLKEYS | SEL_ALLCHANNELS;
        if ((u->sels[i].flags & all) == all) u->unrestricted = 1;
    }
    if (u == default_user)
        srv.default_user_open = (u->flags & USER_NOPASS) && !(u->flags & USER_DISABLED);
}

static acl_user *user_new(const char *name, size_t len) {
    ids_init();
    acl_user *u = s_calloc(sizeof(*u));
    u->name = memdup0(name, len);
    u->namelen = len;
    u->flags = USER_DISABLED;
    u->sels = s_malloc(sizeof(acl_selector));
    u->nsels = 1;
    sel_init(&u->sels[0], SEL_ROOT);
    return u;
}

static void user_clear(acl_user *u) {
    for (int i = 0; i < u->nsels; i++) sel_free(&u->sels[i]);
    s_free(u->sels);
    s_free(u->pass);
    u->sels = NULL;
    u->pass = NULL;
    u->nsels = u->npass = 0;
}

static void user_free(acl_user *u) {
    user_clear(u);
    s_free(u->name);
    s_free(u);
}

/* dst's rules become a copy of src's (names stay). */
static void user_copy_rules(acl_user *dst, const acl_user *src) {
    user_clear(dst);
    dst->flags = src->flags;
    dst->npass = src->npass;
    if (src->npass) {
        dst->pass = s_malloc(sizeof(*dst->pass) * (size_t)src->npass);
        memcpy(dst->pass, src->pass, sizeof(*dst->pass) * (size_t)src->npass);
    }
    dst->nsels = src->nsels;
    dst->sels = s_malloc(sizeof(acl_selector) * (size_t)src->nsels);
    for (int i = 0; i < src->nsels; i++) sel_copy(&dst->sels[i], &src->sels[i]);
    user_update_unrestricted(dst);
}

static void hash_password(const char *p, size_t len, char out[ACL_HASH_LEN + 1]) {
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[i * 2] = hex[md[i] >> 4];
        out[i * 2 + 1] = hex[md[i] & 15];
    }
    out[ACL_HASH_LEN] = 0;
}

static int valid_hash(const char *h, size_t len) {
    if (len != ACL_HASH_LEN) return 0;
    for (size_t i = 0; i < len; i++)
        if (!((h[i] >= 'a' && h[i] <= 'f') || (h[i] >= '0' && h[i] <= '9'))) return 0;
    return 1;
}

static int pass_find(const acl_user *u, const char *h) {
    for (int i = 0; i < u->npass; i++)
        if (!memcmp(u->pass[i], h, ACL_HASH_LEN)) return i;
    return -1;
}

static int user_set(acl_user *u, const char *op, size_t len);

static void user_reset(acl_user *u) {
    user_set(u, "resetpass", 9);
    user_set(u, "resetkeys", 9);
    user_set(u, "resetchannels", 13);
    if (srv.acl_pubsub_default) user_set(u, "allchannels", 11);
    user_set(u, "off", 3);
    user_set(u, "sanitize-payload", 16);
    user_set(u, "clearselectors", 14);
    user_set(u, "-@all", 5);
}

/* One rule on a user; E_OK or the error. */
static int user_set(acl_user *u, const char *op, size_t len) {
    if (len == 0) return E_OK;
    if (eq(op, len, "on")) {
        u->flags |= USER_ENABLED;
        u->flags &= ~(uint32_t)USER_DISABLED;
    } else if (eq(op, len, "off")) {
        u->flags |= USER_DISABLED;
        u->flags &= ~(uint32_t)USER_ENABLED;
    } else if (eq(op, len, "skip-sanitize-payload")) {
        u->flags |= USER_SANITIZE_SKIP;
        u->flags &= ~(uint32_t)USER_SANITIZE;
    } else if (eq(op, len, "sanitize-payload")) {
        u->flags &= ~(uint32_t)USER_SANITIZE_SKIP;
        u->flags |= USER_SANITIZE;
    } else if (eq(op, len, "nopass")) {
        u->flags |= USER_NOPASS;
        s_free(u->pass);
        u->pass = NULL;
        u->npass = 0;
    } else if (eq(op, len, "resetpass")) {
        u->flags &= ~(uint32_t)USER_NOPASS;
        s_free(u->pass);
        u->pass = NULL;
        u->npass = 0;
    } else if (op[0] == '>' || op[0] == '#') {
        char h[ACL_HASH_LEN + 1];
        if (op[0] == '>') hash_password(op + 1, len - 1, h);
        else {
            if (!valid_hash(op + 1, len - 1)) return E_BADMSG;
            memcpy(h, op + 1, ACL_HASH_LEN);
            h[ACL_HASH_LEN] = 0;
        }
        if (pass_find(u, h) < 0) {
            u->pass = s_realloc(u->pass, sizeof(*u->pass) * (size_t)(u->npass + 1));
            memcpy(u->pass[u->npass++], h, ACL_HASH_LEN + 1);
        }
        u->flags &= ~(uint32_t)USER_NOPASS;
    } else if (op[0] == '<' || op[0] == '!') {
        char h[ACL_HASH_LEN + 1];
        if (op[0] == '<') hash_password(op + 1, len - 1, h);
        else {
            if (!valid_hash(op + 1, len - 1)) return E_BADMSG;
            memcpy(h, op + 1, ACL_HASH_LEN);
            h[ACL_HASH_LEN] = 0;
        }
        int at = pass_find(u, h);
        if (at < 0) return E_NODEV;
        memmove(u->pass[at], u->pass[at + 1], sizeof(*u->pass) * (size_t)(u->npass - at - 1));
        u->npass--;
    } else if (op[0] == '(' && op[len - 1] == ')') {
        if (len < 2) return E_INVAL;
        acl_selector s;
        int e = sel_from_opset(&s, op, len);
        if (e) return e;
        u->sels = s_realloc(u->sels, sizeof(acl_selector) * (size_t)(u->nsels + 1));
        u->sels[u->nsels++] = s;
    } else if (eq(op, len, "clearselectors")) {
        for (int i = 1; i < u->nsels; i++) sel_free(&u->sels[i]);
        u->nsels = 1;
    } else if (eq(op, len, "reset")) {
        user_reset(u);
    } else {
        int e = sel_set(&u->sels[0], op, len);
        if (e) return e;
    }
    user_update_unrestricted(u);
    return E_OK;
}

/* Bisection in a sorted set of users: the index of name, or where it would go. */
static int set_index(acl_user *const *set, int n, const char *name, size_t len, int *found) {
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        const acl_user *u = set[mid];
        size_t m = u->namelen < len ? u->namelen : len;
        int c = memcmp(u->name, name, m);
        if (c == 0) c = u->namelen < len ? -1 : u->namelen > len ? 1 : 0;
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = 0;
    return lo;
}

static int user_index(const char *name, size_t len, int *found) { return set_index(users, nusers, name, len, found); }

acl_user *acl_find(const char *name, size_t len) {
    int found, at = user_index(name, len, &found);
    return found ? users[at] : NULL;
}

static void users_insert(acl_user ***set, int *n, acl_user *u) {
    int found, at = set_index(*set, *n, u->name, u->namelen, &found);
    DBG_ASSERT(!found);
    *set = s_realloc(*set, sizeof(**set) * (size_t)(*n + 1));
    memmove(*set + at + 1, *set + at, sizeof(**set) * (size_t)(*n - at));
    (*set)[at] = u;
    (*n)++;
}

acl_user **acl_users(int *n) {
    *n = nusers;
    return users;
}

acl_user *acl_default_user(void) { return default_user; }

int acl_user_nopass(const acl_user *u) { return (u->flags & USER_NOPASS) != 0; }

static acl_user *create_default(void) {
    acl_user *u = user_new("default", 7);
    user_set(u, "+@all", 5);
    user_set(u, "~*", 2);
    user_set(u, "&*", 2);
    user_set(u, "on", 2);
    user_set(u, "nopass", 6);
    return u;
}

void acl_init(void) {
    if (default_user) return;
    ids_init();
    default_user = create_default();
    users_insert(&users, &nusers, default_user);
    user_update_unrestricted(default_user);
    srv.default_user = default_user;
}

void acl_set_default_password(const char *pass) {
    user_set(default_user, "resetpass", 9);
    if (pass && pass[0]) {
        size_t n = strlen(pass);
        char *op = s_malloc(n + 2);
        op[0] = '>';
        memcpy(op + 1, pass, n);
        user_set(default_user, op, n + 1);
        s_free(op);
    } else {
        user_set(default_user, "nopass", 6);
    }
}

/* ---- describing ---- */
static const char *const user_flag_names[] = {"on", "off", "nopass", "skip-sanitize-payload", "sanitize-payload"};

int acl_user_flag_names(const acl_user *u, const char **out) {
    int n = 0;
    for (int i = 0; i < 5; i++)
        if (u->flags & (1u << i)) out[n++] = user_flag_names[i];
    return n;
}

static void single_commands(const acl_selector *s, acl_selector *fake, sbuf *b, int id) {
    int ub = get_bit(s, id), fb = get_bit(fake, id);
    if (ub != fb) {
        sb_add(b, ub ? "+" : "-", 1);
        sb_cat(b, command_defs[id].fullname);
        sb_add(b, " ", 1);
        change_perm(fake, id, ub);
    }
    for (int k = 0; k < child_count[id]; k++) single_commands(s, fake, b, children[child_start[id] + k]);
    if (!ub)
        for (int i = 0; i < s->nfa; i++)
            if (s->fa[i].id == id) {
                sb_add(b, "+", 1);
                sb_cat(b, command_defs[id].fullname);
                sb_add(b, "|", 1);
                sb_cat(b, s->fa[i].arg);
                sb_add(b, " ", 1);
            }
}

char *acl_describe_commands(const acl_selector *s) {
    sbuf b = {0};
    acl_selector fake, temp;
    sel_init(&fake, 0);
    sel_init(&temp, 0);
    int additive;
    if (get_bit(s, FUTURE_BIT)) {
        additive = 0;
        sb_cat(&b, "+@all ");
        sel_set(&fake, "+@all", 5);
    } else {
        additive = 1;
        sb_cat(&b, "-@all ");
        sel_set(&fake, "-@all", 5);
    }
    memcpy(temp.allowed, s->allowed, sizeof(temp.allowed));
    char applied[ACL_CATEGORIES] = {0};
    for (;;) {
        int best = -1;
        unsigned long mindiff = (unsigned long)-1, maxsame = 0;
        for (int j = 0; j < ACL_CATEGORIES; j++) {
            if (applied[j]) continue;
            unsigned long on, off;
            count_category(&temp, 1u << j, &on, &off);
            unsigned long diff = additive ? off : on, same = additive ? on : off;
            if (same > diff && (diff < mindiff || (diff == mindiff && same > maxsame))) {
                best = j;
                mindiff = diff;
                maxsame = same;
            }
        }
        if (best < 0) break;
        set_category(&fake, 1u << best, additive);
        set_category(&temp, 1u << best, !additive);
        sb_add(&b, additive ? "+@" : "-@", 2);
        sb_cat(&b, acl_category_names[best]);
        sb_add(&b, " ", 1);
        applied[best] = 1;
    }
    for (int i = 0; i < command_defs_count; i++)
        if (parent_of[i] < 0) single_commands(s, &fake, &b, i);
    if (b.len) b.p[--b.len] = 0; /* the last space */
    DBG_ASSERT(!memcmp(fake.allowed, s->allowed, sizeof(fake.allowed)));
    sel_free(&fake);
    sel_free(&temp);
    return sb_take(&b);
}

static void cat_key_pattern(sbuf *b, const acl_pattern *p) {
    sb_cat(b, p->perm == PERM_ALL ? "~" : p->perm == PERM_R ? "%R~" : "%W~");
    sb_add(b, p->p, p->len);
}

char *acl_describe_keys(const acl_selector *s) {
    if (s->flags & SEL_ALLKEYS) return s_strdup("~*");
    sbuf b = {0};
    for (int i = 0; i < s->nkeys; i++) {
        if (i) sb_add(&b, " ", 1);
        cat_key_pattern(&b, &s->keys[i]);
    }
    return sb_take(&b);
}

char *acl_describe_channels(const acl_selector *s) {
    if (s->flags & SEL_ALLCHANNELS) return s_strdup("&*");
    sbuf b = {0};
    for (int i = 0; i < s->nchans; i++) {
        if (i) sb_add(&b, " ", 1);
        sb_add(&b, "&", 1);
        sb_add(&b, s->chans[i].p, s->chans[i].len);
    }
    return sb_take(&b);
}

static void describe_selector(sbuf *b, const acl_selector *s) {
    if (s->flags & SEL_ALLKEYS) sb_cat(b, "~* ");
    else
        for (int i = 0; i < s->nkeys; i++) {
            cat_key_pattern(b, &s->keys[i]);
            sb_add(b, " ", 1);
        }
    if (s->flags & SEL_ALLCHANNELS) sb_cat(b, "&* ");
    else {
        sb_cat(b, "resetchannels ");
        for (int i = 0; i < s->nchans; i++) {
            sb_add(b, "&", 1);
            sb_add(b, s->chans[i].p, s->chans[i].len);
            sb_add(b, " ", 1);
        }
    }
    char *cmds = acl_describe_commands(s);
    sb_cat(b, cmds);
    s_free(cmds);
}

char *acl_describe_user(const acl_user *u) {
    sbuf b = {0};
    const char *names[5];
    int nf = acl_user_flag_names(u, names);
    for (int i = 0; i < nf; i++) {
        sb_cat(&b, names[i]);
        sb_add(&b, " ", 1);
    }
    for (int i = 0; i < u->npass; i++) {
        sb_add(&b, "#", 1);
        sb_add(&b, u->pass[i], ACL_HASH_LEN);
        sb_add(&b, " ", 1);
    }
    for (int i = 0; i < u->nsels; i++) {
        if (i) sb_cat(&b, " (");
        describe_selector(&b, &u->sels[i]);
        if (i) sb_cat(&b, ")");
    }
    return sb_take(&b);
}

/* ---- changing users ---- */

/* Rules spread over several arguments ("(~a" "+get)") joined back into selectors; NULL with *bad the
 * argument opening an unmatched parenthesis. */
static arg *merge_selectors(const arg *argv, int argc, int *out_n, int *bad) {
    arg *out = s_malloc(sizeof(arg) * (size_t)(argc ? argc : 1));
    int n = 0, open = -1;
    sbuf sel = {0};
    for (int j = 0; j < argc; j++) {
        const arg *a = &argv[j];
        if (open < 0 && a->len && a->p[0] == '(' && a->p[a->len - 1] != ')') {
            sel.len = 0;
            sb_add(&sel, a->p, a->len);
            open = j;
            continue;
        }
        if (open >= 0) {
            sb_add(&sel, " ", 1);
            sb_add(&sel, a->p, a->len);
            if (a->len && a->p[a->len - 1] == ')') {
                open = -1;
                out[n].p = memdup0(sel.p, sel.len);
                out[n].len = sel.len;
                n++;
            }
            continue;
        }
        out[n].p = memdup0(a->p, a->len);
        out[n].len = a->len;
        n++;
    }
    s_free(sel.p);
    if (open >= 0) {
        for (int i = 0; i < n; i++) s_free(out[i].p);
        s_free(out);
        if (bad) *bad = open;
        return NULL;
    }
    *out_n = n;
    return out;
}

static void free_args(arg *v, int n) {
    for (int i = 0; i < n; i++) s_free(v[i].p);
    s_free(v);
}

static client *current_client;

/* Closes a client now, or after its reply when it is the one running the command. */
static void close_client(client *c) {
    if (c == current_client) c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    else client_close_async(c);
}

static int chan_allowed(const acl_pattern *v, int n, const char *ch, size_t len, int is_pattern) {
    for (int i = 0; i < n; i++) {
        if (is_pattern ? (v[i].len == len && !memcmp(v[i].p, ch, len)) : glob_match(v[i].p, v[i].len, ch, len, 0))
            return 1;
    }
    return 0;
}

typedef struct allowed_check {
    const acl_pattern *v;
    int n;
} allowed_check;

static int subscription_allowed(void *ud, const char *name, size_t len, int is_pattern) {
    const allowed_check *a = ud;
    return chan_allowed(a->v, a->n, name, len, is_pattern);
}

/* Redis 7.0: when a user's channel permissions shrink, its pub/sub clients subscribed to something no
 * longer allowed are closed. */
static void kill_pubsub_if_needed(const acl_user *nu, const acl_user *orig) {
    for (int i = 0; i < nu->nsels; i++)
        if (nu->sels[i].flags & SEL_ALLCHANNELS) return;
    acl_pattern *up = NULL;
    int nup = 0;
    for (int i = 0; i < nu->nsels; i++)
        for (int k = 0; k < nu->sels[i].nchans; k++)
            pat_add(&up, &nup, nu->sels[i].chans[k].p, nu->sels[i].chans[k].len, 0);
    int match = 1;
    for (int i = 0; i < orig->nsels && match; i++) {
        if (orig->sels[i].flags & SEL_ALLCHANNELS) match = 0;
        for (int k = 0; k < orig->sels[i].nchans && match; k++)
            if (pat_find(up, nup, orig->sels[i].chans[k].p, orig->sels[i].chans[k].len) < 0) match = 0;
    }
    if (!match) {
        for (size_t i = 0; i < srv.nclients; i++) {
            client *c = srv.clients[i];
            if (c->user != orig || !(c->flags & CLIENT_PUBSUB) || (c->flags & CLIENT_CLOSE_ASAP)) continue;
            allowed_check a = {up, nup};
            if (!pubsub_client_each(c, subscription_allowed, &a)) close_client(c);
        }
    }
    pat_free(up, nup);
}

static char *setuser_error(const arg *rule, int e) {
    sbuf b = {0};
    sb_cat(&b, "Error in ACL SETUSER modifier '");
    sb_add(&b, rule->p, rule->len);
    sb_cat(&b, "': ");
    sb_cat(&b, rule_error(e));
    return sb_take(&b);
}

char *acl_setuser(const char *name, size_t namelen, const arg *rules, int n, client *current) {
    int merged_n = 0, bad = 0;
    arg *m = merge_selectors(rules, n, &merged_n, &bad);
    if (!m) {
        sbuf b = {0};
        sb_cat(&b, "Unmatched parenthesis in acl selector starting at '");
        sb_add(&b, rules[bad].p, rules[bad].len);
        sb_cat(&b, "'.");
        return sb_take(&b);
    }
    acl_user *u = acl_find(name, namelen);
    acl_user *tmp = user_new(name, namelen);
    if (u) user_copy_rules(tmp, u);
    for (int j = 0; j < merged_n; j++) {
        int e = user_set(tmp, m[j].p, m[j].len);
        if (e) {
            char *err = setuser_error(&m[j], e);
            user_free(tmp);
            free_args(m, merged_n);
            return err;
        }
    }
    current_client = current;
    if (u) kill_pubsub_if_needed(tmp, u);
    current_client = NULL;
    if (!u) {
        u = user_new(name, namelen);
        users_insert(&users, &nusers, u);
    }
    user_copy_rules(u, tmp);
    user_free(tmp);
    free_args(m, merged_n);
    return NULL;
}

/* Frees a user after closing (or moving to the default user) every client authenticated as it. */
static void free_user_and_kill_clients(acl_user *u) {
    for (size_t i = 0; i < srv.nclients; i++) {
        client *c = srv.clients[i];
        if (c->user != u) continue;
        c->user = default_user;
        c->flags &= ~CLIENT_AUTHENTICATED;
        close_client(c);
    }
    user_free(u);
}

int acl_deluser(const char *name, size_t namelen, client *current) {
    int found, at = user_index(name, namelen, &found);
    if (!found || users[at] == default_user) return 0;
    acl_user *u = users[at];
    memmove(users + at, users + at + 1, sizeof(*users) * (size_t)(nusers - at - 1));
    nusers--;
    current_client = current;
    free_user_and_kill_clients(u);
    current_client = NULL;
    return 1;
}

/* ---- authentication ---- */
static int const_time_eq(const char *a, const char *b, size_t n) {
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++) d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

acl_user *acl_check_credentials(const char *user, size_t ulen, const char *pass, size_t plen) {
    acl_user *u = acl_find(user, ulen);
    if (!u || (u->flags & USER_DISABLED)) return NULL;
    if (u->flags & USER_NOPASS) return u;
    char h[ACL_HASH_LEN + 1];
    hash_password(pass, plen, h);
    int ok = 0;
    for (int i = 0; i < u->npass; i++) ok |= const_time_eq(h, u->pass[i], ACL_HASH_LEN);
    return ok ? u : NULL;
}

int acl_authenticate(client *c, const arg *user, const arg *pass) {
    acl_user *u = acl_check_credentials(user->p, user->len, pass->p, pass->len);
    if (u) {
        c->user = u;
        c->flags |= CLIENT_AUTHENTICATED;
        return 0;
    }
    acl_log(c, NULL, ACL_DENIED_AUTH, (c->flags & CLIENT_MULTI) ? ACL_CTX_MULTI : ACL_CTX_TOPLEVEL, c->argv[0].p,
            c->argv[0].len, user->p, user->len);
    return -1;
}

const char *acl_client_user_name(const client *c) { return c->user ? c->user->name : "default"; }

/* ---- checks ---- */
static int key_allowed(const acl_selector *s, const char *key, size_t len, uint32_t ksflags) {
    if (s->flags & SEL_ALLKEYS) return 1;
    int need = 0;
    if (ksflags & KS_ACCESS) need |= PERM_R;
    if (ksflags & (KS_INSERT | KS_DELETE | KS_UPDATE)) need |= PERM_W;
    for (int i = 0; i < s->nkeys; i++) {
        if ((s->keys[i].perm & need) != need) continue;
        if (glob_match(s->keys[i].p, s->keys[i].len, key, len, 0)) return 1;
    }
    return 0;
}

typedef struct key_cache {
    int init, n;
    keyref stack[16], *keys;
} key_cache;

static int sel_check(const acl_selector *s, const cmd_def *def, arg *argv, int argc, int *pos, key_cache *kc) {
    int id = def_id(def);
    if (!(s->flags & SEL_ALLCOMMANDS) && !(def->flags & CMD_NO_AUTH) && !get_bit(s, id)) {
        int idx = parent_of[id] >= 0 ? 2 : 1, ok = 0;
        if (argc > idx)
            for (int i = 0; i < s->nfa && !ok; i++)
                if (s->fa[i].id == id && strlen(s->fa[i].arg) == argv[idx].len &&
                    !strncasecmp(s->fa[i].arg, argv[idx].p, argv[idx].len))
                    ok = 1;
        if (!ok) return ACL_DENIED_CMD;
    }
    if (!(s->flags & SEL_ALLKEYS) && cmd_def_has_keys(def)) {
        if (!kc->init) {
            kc->keys = kc->stack;
            kc->n = cmd_def_get_keys(def, argv, argc, kc->keys, 16);
            if (kc->n > 16) {
                int max = kc->n;
                kc->keys = s_malloc(sizeof(keyref) * (size_t)max);
                kc->n = cmd_def_get_keys(def, argv, argc, kc->keys, max);
                if (kc->n > max) kc->n = max;
            }
            kc->init = 1;
        }
        for (int j = 0; j < kc->n; j++) {
            const arg *k = &argv[kc->keys[j].pos];
            if (!key_allowed(s, k->p, k->len, kc->keys[j].flags)) {
                *pos = kc->keys[j].pos;
                return ACL_DENIED_KEY;
            }
        }
    }
    int ck = chan_kind[id];
    if (ck != CH_NONE && !(s->flags & SEL_ALLCHANNELS)) {
        int last = ck == CH_PUBLISH ? (argc > 1 ? 1 : 0) : argc - 1;
        for (int j = 1; j <= last; j++)
            if (!chan_allowed(s->chans, s->nchans, argv[j].p, argv[j].len, ck == CH_PSUBSCRIBE)) {
                *pos = j;
                return ACL_DENIED_CHANNEL;
            }
    }
    return ACL_OK;
}

int acl_check(const acl_user *u, const cmd_def *def, arg *argv, int argc, int *errpos) {
    if (!u) return ACL_OK;
    int relevant = ACL_DENIED_CMD, last = 0;
    key_cache kc = {0};
    int result = -1;
    for (int i = 0; i < u->nsels; i++) {
        int pos = 0;
        int r = sel_check(&u->sels[i], def, argv, argc, &pos, &kc);
        if (r == ACL_OK) {
            result = ACL_OK;
            break;
        }
        if (r > relevant || (r == relevant && pos > last)) {
            relevant = r;
            last = pos;
        }
    }
    if (kc.init && kc.keys != kc.stack) s_free(kc.keys);
    if (result == ACL_OK) return ACL_OK;
    if (errpos) *errpos = last;
    return relevant;
}

const char *acl_denied_message(int result, const command *cmd, char *buf, size_t size) {
    switch (result) {
    case ACL_DENIED_CMD:
        snprintf(buf, size, "NOPERM this user has no permissions to run the '%s' command", cmd->fullname);
        break;
    case ACL_DENIED_KEY:
        snprintf(buf, size, "NOPERM this user has no permissions to access one of the keys used as arguments");
        break;
    case ACL_DENIED_CHANNEL:
        snprintf(buf, size, "NOPERM this user has no permissions to access one of the channels used as arguments");
        break;
    default: snprintf(buf, size, "ERR no permission"); break;
    }
    return buf;
}

/* ---- the log ---- */
#define LOG_GROUPING_MS 60000
static acl_log_entry **log_v;
static size_t log_n, log_cap;

static void log_entry_free(acl_log_entry *e) {
    s_free(e->object);
    s_free(e->username);
    s_free(e->cinfo);
    s_free(e);
}

void acl_log_trim(void) {
    unsigned long long max = srv.acllog_max_len < 0 ? 0 : (unsigned long long)srv.acllog_max_len;
    while (log_n > max) log_entry_free(log_v[--log_n]);
}

void acl_log(client *who, const acl_user *u, int reason, int context, const char *object, size_t objlen,
             const char *username, size_t ulen) {
    if (!username) {
        u = u ? u : (who->user ? who->user : default_user);
        username = u->name;
        ulen = u->namelen;
    }
    long long now = mstime();
    char *info = client_info_line(who);
    for (size_t i = 0; i < log_n && i < 10; i++) {
        acl_log_entry *e = log_v[i];
        long long delta = e->ctime_ms - now;
        if (delta < 0) delta = -delta;
        if (e->reason == reason && e->context == context && delta <= LOG_GROUPING_MS && e->objlen == objlen &&
            !memcmp(e->object, object, objlen) && e->ulen == ulen && !memcmp(e->username, username, ulen)) {
            s_free(e->cinfo);
            e->cinfo = info;
            e->ctime_ms = now;
            e->count++;
            memmove(log_v + 1, log_v, sizeof(*log_v) * i);
            log_v[0] = e;
            return;
        }
    }
    acl_log_entry *e = s_calloc(sizeof(*e));
    e->count = 1;
    e->reason = reason;
    e->context = context;
    e->object = memdup0(object, objlen);
    e->objlen = objlen;
    e->username = memdup0(username, ulen);
    e->ulen = ulen;
    e->cinfo = info;
    e->ctime_ms = now;
    if (log_n == log_cap) {
        log_cap = log_cap ? log_cap * 2 : 16;
        log_v = s_realloc(log_v, sizeof(*log_v) * log_cap);
    }
    memmove(log_v + 1, log_v, sizeof(*log_v) * log_n);
    log_v[0] = e;
    log_n++;
    acl_log_trim();
}

void acl_log_denied(client *c, client *who, int reason, int context, int errpos) {
    const char *obj = "";
    size_t len = 0;
    if (reason == ACL_DENIED_CMD && c->cmd) {
        obj = c->cmd->fullname;
        len = strlen(obj);
    } else if ((reason == ACL_DENIED_KEY || reason == ACL_DENIED_CHANNEL) && errpos < c->argc) {
        obj = c->argv[errpos].p;
        len = c->argv[errpos].len;
    }
    acl_log(who, c->user, reason, context, obj, len, NULL, 0);
}

acl_log_entry **acl_log_entries(size_t *n) {
    *n = log_n;
    return log_v;
}

void acl_log_reset(void) {
    for (size_t i = 0; i < log_n; i++) log_entry_free(log_v[i]);
    log_n = 0;
}

/* ---- files and the config ---- */
static arg **pending; /* `user` lines of the config file: [name, rules...] each, n in pending_n */
static int *pending_argc;
static int npending;

int acl_config_user(const arg *argv, int argc, const char **err) {
    static char buf[1024];
    /* argv[0] "user", argv[1] the name */
    for (int i = 0; i < npending; i++)
        if (pending[i][0].len == argv[1].len && !memcmp(pending[i][0].p, argv[1].p, argv[1].len)) {
            snprintf(buf, sizeof(buf), "Error in user declaration '%.*s': %s", (int)argv[1].len, argv[1].p,
                     rule_error(E_ALREADY));
            *err = buf;
            return 0;
        }
    int merged_n = 0, bad = 0;
    arg *m = merge_selectors(argv + 2, argc - 2, &merged_n, &bad);
    if (!m) {
        snprintf(buf, sizeof(buf), "Error in user declaration '%.*s': %s", (int)argv[bad].len, argv[bad].p,
                 rule_error(E_INVAL));
        *err = buf;
        return 0;
    }
    acl_user *fake = user_new("", 0);
    for (int j = 0; j < merged_n; j++) {
        int e = user_set(fake, m[j].p, m[j].len);
        if (e && e != E_NOENT) { /* unknown commands are reported when the users are loaded */
            /* Redis names argv[j] of the whole line here */
            snprintf(buf, sizeof(buf), "Error in user declaration '%.*s': %s", (int)argv[j].len, argv[j].p,
                     rule_error(e));
            *err = buf;
            user_free(fake);
            free_args(m, merged_n);
            return 0;
        }
    }
    user_free(fake);
    pending = s_realloc(pending, sizeof(*pending) * (size_t)(npending + 1));
    pending_argc = s_realloc(pending_argc, sizeof(int) * (size_t)(npending + 1));
    arg *copy = s_malloc(sizeof(arg) * (size_t)(merged_n + 1));
    copy[0].p = memdup0(argv[1].p, argv[1].len);
    copy[0].len = argv[1].len;
    for (int j = 0; j < merged_n; j++) copy[j + 1] = m[j];
    s_free(m);
    pending[npending] = copy;
    pending_argc[npending] = merged_n + 1;
    npending++;
    return 1;
}

static void load_configured_users(void) {
    for (int i = 0; i < npending; i++) {
        arg *r = pending[i];
        if (has_spaces(r[0].p, r[0].len)) {
            serverLog(LL_WARNING, "Spaces not allowed in ACL usernames");
            serverLog(LL_WARNING, "Critical error while loading ACLs. Exiting.");
            exit(1);
        }
        acl_user *u = acl_find(r[0].p, r[0].len);
        if (!u) {
            u = user_new(r[0].p, r[0].len);
            users_insert(&users, &nusers, u);
        } else {
            user_set(u, "reset", 5);
        }
        for (int j = 1; j < pending_argc[i]; j++) {
            int e = user_set(u, r[j].p, r[j].len);
            if (e) {
                serverLog(LL_WARNING, "Error loading ACL rule '%s' for the user named '%s': %s", r[j].p, r[0].p,
                          rule_error(e));
                serverLog(LL_WARNING, "Critical error while loading ACLs. Exiting.");
                exit(1);
            }
        }
        if (u->flags & USER_DISABLED)
            serverLog(LL_NOTICE,
                      "The user '%s' is disabled (there is no 'on' modifier in the user description). Make sure "
                      "this is not a configuration error.",
                      r[0].p);
    }
    for (int i = 0; i < npending; i++) free_args(pending[i], pending_argc[i]);
    s_free(pending);
    s_free(pending_argc);
    pending = NULL;
    pending_argc = NULL;
    npending = 0;
}

/* Parses an ACL file's text into a new set of users (sorted); NULL ok, else the errors. */
static char *parse_file_text(const char *text, size_t tlen, const char *fname, acl_user ***out, int *out_n) {
    acl_user **set = NULL;
    int n = 0;
    sbuf errors = {0};
    size_t pos = 0;
    int linenum = 0;
    while (pos < tlen) {
        const char *nl = memchr(text + pos, '\n', tlen - pos);
        size_t llen = nl ? (size_t)(nl - (text + pos)) : tlen - pos;
        const char *line = text + pos;
        pos += llen + (nl ? 1 : 0);
        linenum++;
        /* trim " \t\r\n" */
        while (llen && strchr(" \t\r\n", line[0]) && line[0]) line++, llen--;
        while (llen && strchr(" \t\r\n", line[llen - 1]) && line[llen - 1]) llen--;
        if (llen == 0) continue;
        /* split on single spaces, as Redis (empty words are no-ops) */
        int argc = 0, cap = 8;
        arg *argv = s_malloc(sizeof(arg) * (size_t)cap);
        size_t s = 0;
        for (size_t i = 0; i <= llen; i++) {
            if (i == llen || line[i] == ' ') {
                if (argc == cap) {
                    cap *= 2;
                    argv = s_realloc(argv, sizeof(arg) * (size_t)cap);
                }
                argv[argc].p = memdup0(line + s, i - s);
                argv[argc].len = i - s;
                argc++;
                s = i + 1;
            }
        }
        if (argc < 2 || strcmp(argv[0].p, "user") || argv[0].len != 4) {
            sb_printf(&errors, "%s:%d should start with user keyword followed by the username. ", fname, linenum);
            free_args(argv, argc);
            continue;
        }
        if (has_spaces(argv[1].p, argv[1].len)) {
            sb_printf(&errors, "'%s:%d: username '%s' contains invalid characters. ", fname, linenum, argv[1].p);
            free_args(argv, argc);
            continue;
        }
        int dup;
        set_index(set, n, argv[1].p, argv[1].len, &dup);
        if (dup) {
            sb_printf(&errors, "WARNING: Duplicate user '%s' found on line %d. ", argv[1].p, linenum);
            free_args(argv, argc);
            continue;
        }
        acl_user *u = user_new(argv[1].p, argv[1].len);
        users_insert(&set, &n, u);
        int merged_n = 0;
        arg *m = merge_selectors(argv + 2, argc - 2, &merged_n, NULL);
        if (!m) {
            sb_printf(&errors, "%s:%d: Unmatched parenthesis in selector definition.", fname, linenum);
            merged_n = 0;
        }
        int syntax_error = 0;
        for (int j = 0; j < merged_n; j++) {
            const char *p = m[j].p;
            size_t l = m[j].len;
            while (l && strchr("\t\r\n", p[0]) && p[0]) p++, l--;
            while (l && strchr("\t\r\n", p[l - 1]) && p[l - 1]) l--;
            int e = user_set(u, p, l);
            if (e == E_NOENT) {
                sb_printf(&errors, "%s:%d: Error in applying operation '%.*s': %s. ", fname, linenum, (int)l, p,
                          rule_error(e));
            } else if (e && !syntax_error) {
                sb_printf(&errors, "%s:%d: %s. ", fname, linenum, rule_error(e));
                syntax_error = 1;
            }
        }
        if (m) free_args(m, merged_n);
        free_args(argv, argc);
    }
    if (errors.len) {
        for (int i = 0; i < n; i++) user_free(set[i]);
        s_free(set);
        sb_cat(&errors, "WARNING: ACL errors detected, no change to the previously active ACL rules was performed");
        return sb_take(&errors);
    }
    *out = set;
    *out_n = n;
    return NULL;
}

char *acl_parse_text(const char *text, size_t len, const char *fname) {
    acl_user **set = NULL;
    int n = 0;
    char *err = parse_file_text(text, len, fname, &set, &n);
    for (int i = 0; i < n; i++) user_free(set[i]);
    s_free(set);
    return err;
}

static char *read_file(const char *path, size_t *len, char **err) {
    FILE *fp = fopen(path, "r");
    if (!fp) {
        sbuf b = {0};
        sb_printf(&b, "Error loading ACLs, opening file '%s': %s", path, strerror(errno));
        *err = sb_take(&b);
        return NULL;
    }
    sbuf b = {0};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) sb_add(&b, buf, n);
    fclose(fp);
    *len = b.len;
    /* Redis reads the file as C strings: it ends at the first NUL byte */
    if (b.p) *len = strnlen(b.p, b.len);
    return b.p ? b.p : s_strdup("");
}

char *acl_load_file(const char *path, client *current) {
    size_t len = 0;
    char *err = NULL;
    char *text = read_file(path, &len, &err);
    if (!text) return err;
    acl_user **set = NULL;
    int n = 0;
    err = parse_file_text(text, len, path, &set, &n);
    s_free(text);
    if (err) return err;
    /* The new default user's rules go into the existing default user (clients point at it). */
    int found, at = set_index(set, n, "default", 7, &found);
    acl_user *nd;
    if (found) {
        nd = set[at];
        memmove(set + at, set + at + 1, sizeof(*set) * (size_t)(n - at - 1));
        n--;
    } else {
        nd = create_default();
    }
    user_copy_rules(default_user, nd);
    user_free(nd);
    acl_user **old = users;
    int oldn = nusers;
    users = set;
    nusers = n;
    users_insert(&users, &nusers, default_user);
    current_client = current;
    for (int i = 0; i < oldn; i++)
        if (old[i] != default_user) free_user_and_kill_clients(old[i]);
    current_client = NULL;
    s_free(old);
    return NULL;
}

int acl_save_file(const char *path) {
    sbuf b = {0};
    for (int i = 0; i < nusers; i++) {
        char *d = acl_describe_user(users[i]);
        sb_cat(&b, "user ");
        sb_add(&b, users[i]->name, users[i]->namelen);
        sb_add(&b, " ", 1);
        sb_cat(&b, d);
        sb_add(&b, "\n", 1);
        s_free(d);
    }
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp-%d-%lld", path, (int)getpid(), mstime());
    int rc = -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        serverLog(LL_WARNING, "Opening temp ACL file for ACL SAVE: %s", strerror(errno));
    } else if (write(fd, b.p ? b.p : "", b.len) != (ssize_t)b.len) {
        serverLog(LL_WARNING, "Writing ACL file for ACL SAVE: %s", strerror(errno));
    } else if (close(fd), fd = -1, rename(tmp, path) == -1) {
        serverLog(LL_WARNING, "Renaming ACL file for ACL SAVE: %s", strerror(errno));
    } else {
        rc = 0;
    }
    if (fd >= 0) close(fd);
    if (rc) unlink(tmp);
    s_free(b.p);
    return rc;
}

void acl_load_at_startup(void) {
    acl_set_default_password(srv.requirepass);
    if (srv.aclfile && srv.aclfile[0] && npending) {
        serverLog(LL_WARNING,
                  "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is "
                  "invalid. This setup is very likely to lead to configuration errors and security holes, please "
                  "define either an ACL file or declare users directly in your redis.conf, but not both.");
        exit(1);
    }
    load_configured_users();
    if (srv.aclfile && srv.aclfile[0]) {
        char *err = acl_load_file(srv.aclfile, NULL);
        if (err) {
            serverLog(LL_WARNING, "Aborting Redis startup because of ACL errors: %s", err);
            s_free(err);
            exit(1);
        }
    }
}
