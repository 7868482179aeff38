/* sparkline: Redis's ASCII "sparkline" graph of a sequence of values, the
 * body of LATENCY GRAPH, byte for byte as Redis 7.0 draws it (filled style,
 * linear scale).
 *
 * Each value maps to one column and to a step in [0, rows*3) of the range
 * [min, max] of the whole sequence (a flat sequence uses a range of 1);
 * each row, top first, shows '|' where the column's step lies above the
 * row, '_', 'o' or '#' where it lies inside it and ' ' below.  When any value
 * has a label, a blank line follows the rows and then the labels are written
 * vertically, one character per line, under their columns.  Sequences longer
 * than `columns` are drawn as several graphs of at most `columns` values,
 * separated by an empty line, all scaled to the whole sequence. */
#ifndef SARDINE_SPARKLINE_H
#define SARDINE_SPARKLINE_H
#include <stddef.h>

/* The graph of values[0..n) (labels[i] may be NULL or "" for none) as a heap string of *len bytes
 * (NUL-terminated; free with s_free).  n >= 0, columns >= 1, rows >= 1. */
char *sparkline_render(const double *values, const char *const *labels, int n, int columns, int rows,
                       size_t *len);
#endif
