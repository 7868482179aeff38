/* numconv: strict conversions between numbers and their text, with the exact
 * acceptance rules Redis clients rely on.
 *
 * str2ll accepts only the canonical form of a 64-bit integer: optional '-',
 * no '+', no spaces, no leading zeros, no "-0".  A string that passes str2ll
 * prints back to the same bytes, which is what lets a string value be stored
 * as an integer and still be returned byte for byte. */
#ifndef SARDINE_NUMCONV_H
#define SARDINE_NUMCONV_H
#include <stddef.h>

#define LL_STR_SIZE 21 /* "-9223372036854775808" plus NUL */
#define LD_STR_SIZE 5120

int str2ll(const char *s, size_t len, long long *out);      /* 1 ok, 0 not canonical / out of range */
int str2ull(const char *s, size_t len, unsigned long long *out);
int ll2str(char *buf, long long v);                         /* returns the length; buf >= LL_STR_SIZE */
int ull2str(char *buf, unsigned long long v);
int str2ld(const char *s, size_t len, long double *out);    /* INCRBYFLOAT's parser */
int ld2str(char *buf, size_t size, long double v);          /* "human" form: no exponent, zeros trimmed */
int str2d(const char *s, size_t len, double *out);          /* scores: strtod, no spaces, no NaN */
int d2str(char *buf, size_t size, double v);                /* "%.17g", with inf/-inf */
/* Parses a memory amount such as "100mb", "1gb", "512k" (Redis's memtoull); 1 ok. */
int str2mem(const char *s, unsigned long long *out);
/* Formats bytes as Redis's INFO does ("1.50M", "953.67K", "0B"). */
void bytes_human(char *buf, size_t size, unsigned long long n);
#endif
