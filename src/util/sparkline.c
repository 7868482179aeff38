/* sparkline: see sparkline.h.  The output size is known before drawing: per
 * graph of w columns, (rows + label lines) lines of w + 1 bytes, plus one
 * separator per extra graph; the buffer is allocated once to that bound. */
#include "util/sparkline.h"
#include "util/debug.h"
#include "util/mem.h"
#include <limits.h>
#include <string.h>

#define LEVELS 3 /* characters per row: '_', 'o', '#' */
static const char fill[LEVELS] = {'_', 'o', '#'};

/* The step of value v in [0, steps): the scaled value truncated as Redis does (the product first,
 * then the quotient). */
static int step_of(double v, double min, double range, int steps) {
    double scaled = (v - min) * steps;
    if (scaled >= INT_MAX) return steps - 1;
    int step = (int)((double)(int)scaled / range);
    if (step < 0) step = 0;
    if (step >= steps) step = steps - 1;
    return step;
}

/* One graph: values [off, off+w) scaled to [min, min+range]; label lines only when has_labels. */
static size_t render_range(char *out, const double *values, const char *const *labels, int off, int w,
                           int rows, double min, double range, int has_labels, size_t maxlab) {
    size_t len = 0;
    int steps = LEVELS * rows;
    for (int row = 0; row < rows; row++) {
        for (int j = 0; j < w; j++) {
            int idx = step_of(values[off + j], min, range, steps) - (rows - row - 1) * LEVELS;
            out[len++] = idx >= LEVELS ? '|' : idx >= 0 ? fill[idx] : ' ';
        }
        out[len++] = '\n';
    }
    if (!has_labels) return len;
    memset(out + len, ' ', (size_t)w); /* the margin between the graph and its labels */
    len += (size_t)w;
    out[len++] = '\n';
    /* Label lines, as long as one of this graph's labels is that long. */
    size_t longest = 0;
    for (int j = 0; j < w; j++) {
        const char *l = labels[off + j];
        size_t ll = l ? strlen(l) : 0;
        if (ll > longest) longest = ll;
    }
    DBG_ASSERT(longest <= maxlab);
    (void)maxlab;
    for (size_t k = 0; k < longest; k++) {
        for (int j = 0; j < w; j++) {
            const char *l = labels[off + j];
            out[len++] = l && strlen(l) > k ? l[k] : ' ';
        }
        out[len++] = '\n';
    }
    return len;
}

char *sparkline_render(const double *values, const char *const *labels, int n, int columns, int rows,
                       size_t *len) {
    DBG_ASSERT(n >= 0 && columns >= 1 && rows >= 1);
    double min = 0, max = 0;
    size_t maxlab = 0;
    int has_labels = 0;
    for (int i = 0; i < n; i++) {
        if (i == 0 || values[i] < min) min = values[i];
        if (i == 0 || values[i] > max) max = values[i];
        size_t ll = labels && labels[i] ? strlen(labels[i]) : 0;
        if (ll) has_labels = 1;
        if (ll > maxlab) maxlab = ll;
    }
    double range = max - min;
    if (range == 0) range = 1;
    size_t lines = (size_t)rows + (has_labels ? 1 + maxlab : 0);
    size_t graphs = (size_t)(n + columns - 1) / (size_t)columns;
    size_t cap = lines * ((size_t)n + graphs) + graphs + 1;
    char *out = s_malloc(cap);
    size_t used = 0;
    for (int off = 0; off < n; off += columns) {
        int w = n - off < columns ? n - off : columns;
        if (off) out[used++] = '\n';
        used += render_range(out + used, values, has_labels ? labels : NULL, off, w, rows, min, range,
                             has_labels, maxlab);
    }
    DBG_ASSERT(used < cap);
    out[used] = 0;
    *len = used;
    return out;
}
