/* getkeys: where a command line's keys are (command.h, getkeys.h).
 *
 * command_get_keys() follows Redis 7.0's order of preference: when the
 * command has a key spec that is a real key and none with VARIABLE_FLAGS, the
 * specs are walked in order; a spec whose keyword is absent contributes
 * nothing, a spec that cannot be applied (unknown type, a numkeys that is not
 * a canonical integer, a range outside the arguments, an INCOMPLETE spec)
 * makes the whole walk invalid.  Then, or when the specs were not usable, the
 * command's getkeys function answers; without one there are no keys.
 *
 * Numbers are read as Redis reads them: a keynum spec wants a canonical
 * integer (and keeps its low 32 bits, as Redis's int does), the getkeys
 * functions' numkeys is atoi()'s.
 *
 * Invariants: every returned position is in [1, argc); out receives at most
 * max entries but the return value counts them all, so a caller can retry
 * with a bigger array. */
#include "commands/getkeys.h"
#include "util/numconv.h"
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

/* Redis compares arguments with strcasecmp(): an argument ends at its first NUL byte. */
static int arg_eq(const arg *a, const char *word) {
    size_t n = strlen(word);
    return strnlen(a->p, a->len) == n && strncasecmp(a->p, word, n) == 0;
}

static void put(keyref *out, int max, int n, int pos, uint32_t flags) {
    if (n < max) {
        out[n].pos = pos;
        out[n].flags = flags;
    }
}

/* ---- the key specs ---- */

/* The first key position of a spec, 0 when its keyword is absent, -1 when the spec cannot be used. */
static int spec_begin(const key_spec *s, arg *argv, int argc) {
    if (s->bs == KS_BS_INDEX) return s->index;
    if (s->bs != KS_BS_KEYWORD) return -1;
    int start = s->startfrom > 0 ? s->startfrom : argc + s->startfrom;
    int end = s->startfrom > 0 ? argc - 1 : 0;
    for (int i = start; i != end; i += start <= end ? 1 : -1) {
        if (i >= argc || i < 1) break;
        if (arg_eq(&argv[i], s->keyword)) return i + 1;
    }
    return 0;
}

/* The keys by the specs; -1 when they cannot describe this command line. */
static int keys_by_specs(const cmd_def *def, arg *argv, int argc, keyref *out, int max) {
    int n = 0;
    for (int j = 0; j < def->nspecs; j++) {
        const key_spec *s = &def->specs[j];
        if (s->flags & KS_NOT_KEY) continue;
        int first = spec_begin(s, argv, argc), last, step;
        if (first < 0) return -1;
        if (first == 0) continue; /* keyword not found */
        if (s->fk == KS_FK_RANGE) {
            step = s->keystep;
            if (s->lastkey >= 0)
                last = first + s->lastkey;
            else if (!s->limit)
                last = argc + s->lastkey;
            else
                last = first + ((argc - first) / s->limit + s->lastkey);
        } else if (s->fk == KS_FK_KEYNUM) {
            step = s->keystep;
            long long numkeys;
            if (s->keynumidx >= argc || first + s->keynumidx >= argc) return -1;
            const arg *a = &argv[first + s->keynumidx];
            if (!str2ll(a->p, a->len, &numkeys) || numkeys < 0) return -1;
            /* Redis 7.0 counts in an int: 2^32 + 1 is one key, 2^31 is negative (no keys: invalid). */
            long long count = (int32_t)(uint32_t)(unsigned long long)numkeys;
            first += s->firstkey;
            if (count > argc) return -1; /* past the end */
            last = first + (int)count - 1;
        } else {
            return -1;
        }
        if (last >= argc || last < first || first >= argc) return -1;
        for (int i = first; i <= last; i += step) put(out, max, n++, i, s->flags);
        if (s->flags & KS_INCOMPLETE) return -1;
    }
    return n;
}

int cmd_def_has_keys(const cmd_def *def) {
    if (def->getkeys) return 1;
    for (int j = 0; j < def->nspecs; j++)
        if (!(def->specs[j].flags & KS_NOT_KEY)) return 1;
    return 0;
}

int cmd_def_get_keys(const cmd_def *def, arg *argv, int argc, keyref *out, int max) {
    int real = 0, variable = 0;
    for (int j = 0; j < def->nspecs; j++) {
        real |= !(def->specs[j].flags & KS_NOT_KEY);
        variable |= (def->specs[j].flags & KS_VARIABLE_FLAGS) != 0;
    }
    if (real && !variable) {
        int n = keys_by_specs(def, argv, argc, out, max);
        if (n >= 0) return n;
    }
    return def->getkeys ? def->getkeys(argv, argc, out, max) : 0;
}

int command_get_keys(const command *cmd, arg *argv, int argc, keyref *out, int max) {
    return cmd_def_get_keys(cmd->def, argv, argc, out, max);
}

/* ---- the getkeys functions ---- */

/* atoi() of an argument, as Redis's numkeys fallbacks read it (glibc: strtol, saturated, then cut to an int):
 * leading blanks, a sign, the digits up to the first other byte. */
static int leading_int(const arg *a) {
    size_t i = 0;
    while (i < a->len && (a->p[i] == ' ' || (a->p[i] >= '\t' && a->p[i] <= '\r'))) i++;
    int neg = 0;
    if (i < a->len && (a->p[i] == '-' || a->p[i] == '+')) neg = a->p[i++] == '-';
    unsigned long long v = 0, cap = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
    for (; i < a->len && a->p[i] >= '0' && a->p[i] <= '9'; i++) {
        unsigned d = (unsigned)(a->p[i] - '0');
        v = v > (cap - d) / 10 ? cap : v * 10 + d;
    }
    if (neg) v = 0 - v; /* two's complement, as the long strtol returns */
    return (int32_t)(uint32_t)v;
}

/* numkeys at argv[count], keys from argv[first]; with store, argv[store] is a key too, listed last. */
static int numkeys_keys(arg *argv, int argc, int store, int count, int first, keyref *out, int max) {
    int num = leading_int(&argv[count]);
    if (num < 1 || num > argc - first) return 0;
    int n = 0;
    for (int i = 0; i < num; i++) put(out, max, n++, first + i, 0);
    if (store) put(out, max, n++, store, 0);
    return n;
}

int getkeys_numkeys_store(arg *argv, int argc, keyref *out, int max) {
    return numkeys_keys(argv, argc, 1, 2, 3, out, max);
}
int getkeys_numkeys_at1(arg *argv, int argc, keyref *out, int max) {
    return numkeys_keys(argv, argc, 0, 1, 2, out, max);
}
int getkeys_numkeys_at2(arg *argv, int argc, keyref *out, int max) {
    return numkeys_keys(argv, argc, 0, 2, 3, out, max);
}

/* SORT key [BY p] [LIMIT o c] [GET p ...] [ASC|DESC] [ALPHA] [STORE dest]: the last STORE wins. */
int getkeys_sort(arg *argv, int argc, keyref *out, int max) {
    int store = 0;
    for (int i = 2; i < argc; i++) {
        if (arg_eq(&argv[i], "limit"))
            i += 2;
        else if (arg_eq(&argv[i], "get") || arg_eq(&argv[i], "by"))
            i += 1;
        else if (arg_eq(&argv[i], "store") && i + 1 < argc)
            store = i + 1;
    }
    put(out, max, 0, 1, KS_RO | KS_ACCESS);
    if (store) put(out, max, 1, store, KS_OW | KS_UPDATE);
    return store ? 2 : 1;
}

int getkeys_sort_ro(arg *argv, int argc, keyref *out, int max) {
    (void)argv;
    (void)argc;
    put(out, max, 0, 1, KS_RO | KS_ACCESS);
    return 1;
}

/* MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw] [KEYS key ...] */
int getkeys_migrate(arg *argv, int argc, keyref *out, int max) {
    int first = 3, num = 1;
    for (int i = 6; i < argc; i++) {
        if (arg_eq(&argv[i], "keys")) {
            if (argv[3].len > 0) return 0; /* KEYS needs the empty key argument */
            first = i + 1;
            num = argc - first;
            break;
        }
        if (arg_eq(&argv[i], "auth"))
            i += 1;
        else if (arg_eq(&argv[i], "auth2"))
            i += 2;
    }
    for (int i = 0; i < num; i++) put(out, max, i, first + i, KS_RW | KS_ACCESS | KS_DELETE);
    return num;
}

/* SET reads the old value only with GET. */
int getkeys_set(arg *argv, int argc, keyref *out, int max) {
    uint32_t flags = KS_OW | KS_UPDATE;
    for (int i = 3; i < argc; i++)
        if (arg_eq(&argv[i], "get")) {
            flags = KS_RW | KS_ACCESS | KS_UPDATE;
            break;
        }
    put(out, max, 0, 1, flags);
    return 1;
}

/* BITFIELD is read-only when it has only GET (and OVERFLOW) operations, all complete. */
int getkeys_bitfield(arg *argv, int argc, keyref *out, int max) {
    int readonly = 1;
    for (int i = 2; i < argc && readonly; i++) {
        int rest = argc - i - 1;
        if (arg_eq(&argv[i], "get") && rest >= 2)
            i += 2;
        else if (arg_eq(&argv[i], "overflow") && rest >= 1)
            i += 1;
        else
            readonly = 0; /* SET, INCRBY or a syntax error */
    }
    put(out, max, 0, 1, readonly ? KS_RO | KS_ACCESS : KS_RW | KS_ACCESS | KS_UPDATE);
    return 1;
}

/* XREAD/XREADGROUP: the options until STREAMS, then as many keys as IDs. */
int getkeys_xread(arg *argv, int argc, keyref *out, int max) {
    int streams = -1;
    for (int i = 1; i < argc; i++) {
        if (arg_eq(&argv[i], "block") || arg_eq(&argv[i], "count"))
            i++;
        else if (arg_eq(&argv[i], "group"))
            i += 2;
        else if (arg_eq(&argv[i], "noack"))
            continue;
        else {
            if (arg_eq(&argv[i], "streams")) streams = i;
            break;
        }
    }
    int num = argc - streams - 1;
    if (streams == -1 || num == 0 || num % 2 != 0) return 0;
    num /= 2;
    for (int i = 0; i < num; i++) put(out, max, i, streams + 1 + i, 0);
    return num;
}

/* GEORADIUS/GEORADIUSBYMEMBER key ... [STORE k] [STOREDIST k]: the last of them wins. */
int getkeys_georadius(arg *argv, int argc, keyref *out, int max) {
    int stored = 0;
    for (int i = 5; i < argc; i++)
        if ((arg_eq(&argv[i], "store") || arg_eq(&argv[i], "storedist")) && i + 1 < argc) stored = ++i;
    put(out, max, 0, 1, 0);
    if (stored) put(out, max, 1, stored, 0);
    return stored ? 2 : 1;
}
