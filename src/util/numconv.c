/* numconv: see numconv.h. */
#include "util/numconv.h"
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int str2ull(const char *s, size_t len, unsigned long long *out) {
    if (len == 0 || len > 20) return 0;
    if (len == 1 && s[0] == '0') {
        *out = 0;
        return 1;
    }
    if (s[0] < '1' || s[0] > '9') return 0;
    unsigned long long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

int str2ll(const char *s, size_t len, long long *out) {
    unsigned long long v;
    if (len == 0) return 0;
    if (s[0] == '-') {
        if (!str2ull(s + 1, len - 1, &v) || v == 0) return 0;
        if (v > (unsigned long long)LLONG_MAX + 1) return 0;
        *out = (long long)(0 - v);
        return 1;
    }
    if (!str2ull(s, len, &v) || v > (unsigned long long)LLONG_MAX) return 0;
    *out = (long long)v;
    return 1;
}

int ull2str(char *buf, unsigned long long v) {
    char tmp[LL_STR_SIZE];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
    buf[n] = 0;
    return n;
}

int ll2str(char *buf, long long v) {
    if (v < 0) {
        buf[0] = '-';
        return 1 + ull2str(buf + 1, (unsigned long long)0 - (unsigned long long)v);
    }
    return ull2str(buf, (unsigned long long)v);
}

int str2ld(const char *s, size_t len, long double *out) {
    char buf[LD_STR_SIZE];
    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, s, len);
    buf[len] = 0;
    if (isspace((unsigned char)buf[0])) return 0;
    char *end;
    errno = 0;
    long double v = strtold(buf, &end);
    if ((size_t)(end - buf) != len || isnan(v)) return 0;
    if (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO)) return 0;
    *out = v;
    return 1;
}

int ld2str(char *buf, size_t size, long double v) {
    if (isinf(v)) return snprintf(buf, size, v > 0 ? "inf" : "-inf");
    int n = snprintf(buf, size, "%.17Lf", v);
    if (n < 0 || (size_t)n >= size) return 0;
    if (strchr(buf, '.')) {
        while (n > 0 && buf[n - 1] == '0') n--;
        if (n > 0 && buf[n - 1] == '.') n--;
        buf[n] = 0;
    }
    if (n == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        buf[1] = 0;
        n = 1;
    }
    return n;
}

int str2d(const char *s, size_t len, double *out) {
    char buf[256];
    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, s, len);
    buf[len] = 0;
    if (isspace((unsigned char)buf[0])) return 0;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if ((size_t)(end - buf) != len || isnan(v)) return 0;
    if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO)) return 0;
    *out = v;
    return 1;
}

int d2str(char *buf, size_t size, double v) {
    if (isinf(v)) return snprintf(buf, size, v > 0 ? "inf" : "-inf");
    return snprintf(buf, size, "%.17g", v);
}

int str2mem(const char *s, unsigned long long *out) {
    static const struct { const char *suffix; unsigned long long mul; } units[] = {
        {"k", 1000ULL}, {"kb", 1024ULL}, {"m", 1000000ULL}, {"mb", 1048576ULL},
        {"g", 1000000000ULL}, {"gb", 1073741824ULL}, {"b", 1ULL}};
    size_t len = strlen(s), digits = 0;
    unsigned long long mul = 1, v;
    if (len == 0) return 0;
    while (digits < len && (isdigit((unsigned char)s[digits]) || (digits == 0 && s[0] == '-'))) digits++;
    if (digits < len) {
        int found = 0;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (strcasecmp(s + digits, units[i].suffix) == 0) {
                mul = units[i].mul;
                found = 1;
            }
        if (!found) return 0;
    }
    if (!str2ull(s, digits, &v)) return 0;
    if (mul > 1 && v > ULLONG_MAX / mul) return 0;
    *out = v * mul;
    return 1;
}

void bytes_human(char *buf, size_t size, unsigned long long n) {
    double d = (double)n;
    if (n < 1024) snprintf(buf, size, "%lluB", n);
    else if (n < 1024ULL * 1024) snprintf(buf, size, "%.2fK", d / 1024);
    else if (n < 1024ULL * 1024 * 1024) snprintf(buf, size, "%.2fM", d / (1024.0 * 1024));
    else if (n < 1024ULL * 1024 * 1024 * 1024) snprintf(buf, size, "%.2fG", d / (1024.0 * 1024 * 1024));
    else if (n < 1024ULL * 1024 * 1024 * 1024 * 1024) snprintf(buf, size, "%.2fT", d / (1024.0 * 1024 * 1024 * 1024));
    else snprintf(buf, size, "%.2fP", d / (1024.0 * 1024 * 1024 * 1024 * 1024));
}
