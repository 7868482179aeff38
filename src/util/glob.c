/* glob: see glob.h.  Consecutive stars collapse into one; a failed match of
 * the rest after a star at every position means no later star can succeed
 * either, which we report back (skip_longer) to cut the search short. */
#include "util/glob.h"
#include <ctype.h>

static int fold(int c, int nocase) { return nocase ? tolower(c) : c; }

static int match(const char *p, size_t plen, const char *s, size_t slen, int nocase, int *skip_longer,
                 int nesting) {
    if (nesting > 1000) return 0;
    while (plen && slen) {
        switch (p[0]) {
        case '*':
            while (plen > 1 && p[1] == '*') p++, plen--;
            if (plen == 1) return 1;
            while (slen) {
                if (match(p + 1, plen - 1, s, slen, nocase, skip_longer, nesting + 1)) return 1;
                if (*skip_longer) return 0;
                s++, slen--;
            }
            *skip_longer = 1;
            return 0;
        case '?':
            s++, slen--;
            break;
        case '[': {
            p++, plen--;
            int negate = plen && p[0] == '^';
            if (negate) p++, plen--;
            int hit = 0;
            while (plen && p[0] != ']') {
                if (p[0] == '\\' && plen >= 2) {
                    p++, plen--;
                    if (p[0] == s[0]) hit = 1;
                } else if (plen >= 3 && p[1] == '-') {
                    int a = fold((unsigned char)p[0], nocase), b = fold((unsigned char)p[2], nocase);
                    int c = fold((unsigned char)s[0], nocase);
                    if (a > b) {
                        int t = a;
                        a = b;
                        b = t;
                    }
                    if (c >= a && c <= b) hit = 1;
                    p += 2, plen -= 2;
                } else if (fold((unsigned char)p[0], nocase) == fold((unsigned char)s[0], nocase)) {
                    hit = 1;
                }
                p++, plen--;
            }
            if (plen == 0) { /* unterminated class: the '[' run consumed the pattern */
                p--, plen++;
            }
            if (negate) hit = !hit;
            if (!hit) return 0;
            s++, slen--;
            break;
        }
        case '\\':
            if (plen >= 2) p++, plen--;
            /* fall through */
        default:
            if (fold((unsigned char)p[0], nocase) != fold((unsigned char)s[0], nocase)) return 0;
            s++, slen--;
            break;
        }
        p++, plen--;
        if (slen == 0) {
            while (plen && p[0] == '*') p++, plen--;
            break;
        }
    }
    return plen == 0 && slen == 0;
}

int glob_match(const char *pat, size_t plen, const char *str, size_t slen, int nocase) {
    int skip = 0;
    return match(pat, plen, str, slen, nocase, &skip, 0);
}
