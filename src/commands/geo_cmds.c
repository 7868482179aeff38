/* geo_cmds: the GEO commands (GEOADD, GEODIST, GEOHASH, GEOPOS, GEORADIUS,
 * GEORADIUSBYMEMBER and their _RO variants, GEOSEARCH, GEOSEARCHSTORE) on
 * top of sorted sets, with Redis 7.0's argument rules, replies and errors.
 *
 * A geo index is an ordinary sorted set whose scores are 52-bit geohashes
 * (types/geohash.h); there is no geo type.  GEOADD is ZADD with the scores
 * computed: it rewrites its arguments and runs the ZADD command itself, as
 * Redis does, so NX/XX/CH, the encodings and the replies are ZADD's.
 *
 * A search visits up to 9 cells, each a score range of the set, in Redis's
 * order, keeps the members inside the shape, then sorts them by distance if
 * asked (or if COUNT is given without ANY).  The order of members at equal
 * distances is part of the reply, so the sorts are the ones Redis uses:
 * libc's qsort for a full sort, and Redis's partial quicksort
 * (sort_partial, in sort_cmds.c) when COUNT keeps fewer than were found.
 *
 * Members found are copied into one byte pool (no allocation per member)
 * before the reply or the STORE result is built, so storing into the
 * source key itself is safe. */
#include "commands/command.h"
#include "commands/commands.h"
#include "protocol/reply.h"
#include "server/server.h"
#include "types/geohash.h"
#include "types/tzset.h"
#include "util/mem.h"
#include "util/numconv.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Redis's partial quicksort (sort_cmds.c): sorts enough that positions lo..hi hold their final elements. */
void sort_partial(void *base, size_t n, size_t es, int (*cmp)(const void *, const void *), size_t lo, size_t hi);

/* ---- arguments ---- */

/* An option word compared as Redis compares it (strcasecmp: the argument ends at its first NUL). */
static int opt_is(const arg *a, const char *word) {
    size_t n = strnlen(a->p, a->len);
    return n == strlen(word) && strncasecmp(a->p, word, n) == 0;
}

/* A double as Redis's getDoubleFromObject reads one: all of strtod, no leading space, no NaN,
 * no overflow or underflow to zero; any length. */
static int parse_double(const arg *a, double *out) {
    if (a->len == 0 || isspace((unsigned char)a->p[0])) return 0;
    char sbuf[128], *buf = a->len < sizeof(sbuf) ? sbuf : s_malloc(a->len + 1);
    memcpy(buf, a->p, a->len);
    buf[a->len] = 0;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    int ok = (size_t)(end - buf) == a->len && !isnan(v) &&
             !(errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO));
    if (buf != sbuf) s_free(buf);
    if (ok) *out = v;
    return ok;
}

static int double_or_reply(client *c, const arg *a, double *v, const char *err) {
    if (parse_double(a, v)) return 1;
    reply_error(c, err ? err : "ERR value is not a valid float");
    return 0;
}

/* Two arguments: longitude, latitude, within the limits of the index. */
static int lonlat_or_reply(client *c, const arg *a, double xy[2]) {
    if (!double_or_reply(c, &a[0], &xy[0], NULL) || !double_or_reply(c, &a[1], &xy[1], NULL)) return 0;
    if (xy[0] < GEO_LONG_MIN || xy[0] > GEO_LONG_MAX || xy[1] < GEO_LAT_MIN || xy[1] > GEO_LAT_MAX) {
        reply_errorf(c, "ERR invalid longitude,latitude pair %f,%f", xy[0], xy[1]);
        return 0;
    }
    return 1;
}

/* Meters per unit; -1 after replying an error. */
static double unit_or_reply(client *c, const arg *a) {
    if (opt_is(a, "m")) return 1;
    if (opt_is(a, "km")) return 1000;
    if (opt_is(a, "ft")) return 0.3048;
    if (opt_is(a, "mi")) return 1609.34;
    reply_error(c, "ERR unsupported unit provided. please use M, KM, FT, MI");
    return -1;
}

/* <radius> <unit> */
static int radius_or_reply(client *c, const arg *a, gh_shape *s) {
    double r;
    if (!double_or_reply(c, &a[0], &r, "ERR need numeric radius")) return 0;
    if (r < 0) {
        reply_error(c, "ERR radius cannot be negative");
        return 0;
    }
    s->radius = r;
    double conv = unit_or_reply(c, &a[1]);
    if (conv < 0) return 0;
    s->conversion = conv;
    return 1;
}

/* <width> <height> <unit> */
static int box_or_reply(client *c, const arg *a, gh_shape *s) {
    double w, h;
    if (!double_or_reply(c, &a[0], &w, "ERR need numeric width") ||
        !double_or_reply(c, &a[1], &h, "ERR need numeric height"))
        return 0;
    if (h < 0 || w < 0) {
        reply_error(c, "ERR height or width cannot be negative");
        return 0;
    }
    s->width = w;
    s->height = h;
    double conv = unit_or_reply(c, &a[2]);
    if (conv < 0) return 0;
    s->conversion = conv;
    return 1;
}

/* ---- replies ---- */

/* Distances: 4 decimals, a bulk string in both protocols. */
static void reply_distance(client *c, double d) {
    char buf[128];
    int n = snprintf(buf, sizeof(buf), "%.4f", d);
    if (n < 0 || (size_t)n >= sizeof(buf)) n = snprintf(buf, sizeof(buf), "%g", d); /* huge: never a coordinate */
    reply_bulk(c, buf, (size_t)n);
}

/* Coordinates: Redis's "human" long double text (%.17Lf, zeros trimmed); a RESP3 double. */
static void reply_coord(client *c, double v) {
    char buf[160];
    int n = ld2str(buf + 1, sizeof(buf) - 3, (long double)v);
    if (c->resp >= 3) {
        buf[0] = ',';
        buf[n + 1] = '\r';
        buf[n + 2] = '\n';
        reply_raw(c, buf, (size_t)n + 3);
    } else {
        reply_bulk(c, buf + 1, (size_t)n);
    }
}

/* The sorted set at a key: 1 found, 0 missing, -1 wrong type (replied). */
static int get_zset(client *c, const arg *k, kref *r, zset **z) {
    if (!db_lookup(c->db, k->p, k->len, 0, r)) return 0;
    if (e_type(r->e) != OBJ_ZSET) {
        reply_wrongtype(c);
        return -1;
    }
    *z = e_ptr(r->e);
    return 1;
}

/* ---- GEOADD ---- */

static void cmd_geoadd(client *c) {
    int nx = 0, xx = 0, idx = 2;
    for (; idx < c->argc; idx++) {
        if (opt_is(&c->argv[idx], "nx")) nx = 1;
        else if (opt_is(&c->argv[idx], "xx")) xx = 1;
        else if (!opt_is(&c->argv[idx], "ch")) break;
    }
    if ((c->argc - idx) % 3 || (nx && xx)) {
        reply_syntax_error(c);
        return;
    }
    command *zadd = command_lookup_name("zadd", 4);
    if (!zadd) {
        reply_error(c, "ERR unknown command 'zadd'");
        return;
    }
    int elements = (c->argc - idx) / 3;
    int argc = idx + elements * 2;
    arg *argv = s_malloc(sizeof(arg) * (size_t)argc);
    char (*scores)[LL_STR_SIZE] = s_malloc(sizeof(*scores) * (size_t)(elements ? elements : 1));
    argv[0] = (arg){"zadd", 4};
    argv[1] = c->argv[1];
    for (int j = 2; j < idx; j++) { /* the options, as ZADD spells them */
        const char *o = opt_is(&c->argv[j], "nx") ? "nx" : opt_is(&c->argv[j], "xx") ? "xx" : "ch";
        argv[j] = (arg){(char *)o, 2};
    }
    for (int i = 0; i < elements; i++) {
        double xy[2];
        if (!lonlat_or_reply(c, &c->argv[idx + 3 * i], xy)) goto done;
        int n = ll2str(scores[i], (long long)gh_score(xy[0], xy[1]));
        argv[idx + 2 * i] = (arg){scores[i], (size_t)n};
        argv[idx + 2 * i + 1] = c->argv[idx + 3 * i + 2];
    }
    /* ZADD runs on the rewritten arguments, then the client gets its own back. */
    arg *saved = c->argv;
    int saved_argc = c->argc;
    c->argv = argv;
    c->argc = argc;
    zadd->proc(c);
    c->argv = saved;
    c->argc = saved_argc;
done:
    s_free(scores);
    s_free(argv);
}

/* ---- GEODIST, GEOHASH, GEOPOS ---- */

static void cmd_geodist(client *c) {
    double to_meter = 1;
    if (c->argc == 5) {
        to_meter = unit_or_reply(c, &c->argv[4]);
        if (to_meter < 0) return;
    } else if (c->argc > 5) {
        reply_syntax_error(c);
        return;
    }
    kref r;
    zset *z;
    int f = get_zset(c, &c->argv[1], &r, &z);
    if (f < 0) return;
    double s1, s2, a[2], b[2];
    if (!f || !zs_score(z, c->argv[2].p, c->argv[2].len, &s1) || !zs_score(z, c->argv[3].p, c->argv[3].len, &s2) ||
        !gh_decode_score(s1, a) || !gh_decode_score(s2, b)) {
        reply_null(c);
        return;
    }
    reply_distance(c, gh_distance(a[0], a[1], b[0], b[1]) / to_meter);
}

static void cmd_geohash(client *c) {
    kref r;
    zset *z = NULL;
    int f = get_zset(c, &c->argv[1], &r, &z);
    if (f < 0) return;
    reply_array(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double score;
        if (!f || !zs_score(z, c->argv[j].p, c->argv[j].len, &score)) {
            reply_null(c);
            continue;
        }
        char buf[11];
        gh_string(score, buf);
        reply_bulk(c, buf, 11);
    }
}

static void cmd_geopos(client *c) {
    kref r;
    zset *z = NULL;
    int f = get_zset(c, &c->argv[1], &r, &z);
    if (f < 0) return;
    reply_array(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double score, xy[2];
        if (!f || !zs_score(z, c->argv[j].p, c->argv[j].len, &score) || !gh_decode_score(score, xy)) {
            reply_null_array(c);
            continue;
        }
        reply_array(c, 2);
        reply_coord(c, xy[0]);
        reply_coord(c, xy[1]);
    }
}

/* ---- searches ---- */

typedef struct geo_pt {
    double lon, lat, dist, score;
    size_t off;   /* member bytes in the pool */
    uint32_t len;
} geo_pt;

typedef struct geo_res {
    geo_pt *pts;
    size_t n, cap;
    char *pool;
    size_t used, size;
} geo_res;

static void res_add(geo_res *res, const zs_elem *e, const double xy[2], double dist) {
    if (res->n == res->cap) {
        res->cap = res->cap ? res->cap * 2 : 16;
        res->pts = s_realloc(res->pts, res->cap * sizeof(geo_pt));
    }
    if (res->used + e->len > res->size) {
        res->size = res->size * 2 > res->used + e->len ? res->size * 2 : res->used + e->len + 256;
        res->pool = s_realloc(res->pool, res->size);
    }
    if (e->len) memcpy(res->pool + res->used, e->m, e->len);
    res->pts[res->n++] = (geo_pt){xy[0], xy[1], dist, e->score, res->used, (uint32_t)e->len};
    res->used += e->len;
}

static void res_free(geo_res *res) {
    s_free(res->pts);
    s_free(res->pool);
}

/* The members of one cell (a score range) inside the shape, in the set's order; stops at `limit`. */
static void search_cell(const zset *z, gh_bits cell, const gh_shape *s, geo_res *res, size_t limit) {
    uint64_t min, max;
    gh_cell_scores(cell, &min, &max);
    size_t rank = zs_count_score(z, (double)min, 0);
    zs_iter it;
    zs_elem e;
    zs_iter_init(&it, z, rank, 1);
    while (zs_iter_next(&it, &e)) {
        if (!(e.score < (double)max)) break;
        double xy[2], dist;
        if (gh_decode_score(e.score, xy) && gh_in_shape(s, xy[0], xy[1], &dist)) res_add(res, &e, xy, dist);
        if (res->n && limit && res->n >= limit) break;
    }
}

/* The centre cell and its neighbours, in Redis's order; a cell equal to the one visited just before it
 * is skipped (huge radii make neighbours coincide). */
static void search_shape(const zset *z, const gh_shape *s, geo_res *res, size_t limit) {
    gh_bits cells[GH_CELLS];
    gh_cells_for_shape(s, cells);
    int last = 0;
    for (int i = 0; i < GH_CELLS; i++) {
        if (cells[i].bits == 0 && cells[i].step == 0) continue;
        if (last && cells[i].bits == cells[last].bits && cells[i].step == cells[last].step) continue;
        if (res->n && limit && res->n >= limit) break;
        search_cell(z, cells[i], s, res, limit);
        last = i;
    }
}

static int by_dist_asc(const void *a, const void *b) {
    const geo_pt *x = a, *y = b;
    if (x->dist > y->dist) return 1;
    else if (x->dist == y->dist) return 0;
    return -1;
}

static int by_dist_desc(const void *a, const void *b) { return -by_dist_asc(a, b); }

enum { SORT_NONE, SORT_ASC, SORT_DESC };
enum { G_COORDS = 1, G_MEMBER = 2, G_NOSTORE = 4, G_SEARCH = 8, G_SEARCHSTORE = 16 };

/* Options of a search: parsed in one pass as Redis does, so the first bad argument decides the error. */
typedef struct geo_opts {
    int withdist, withhash, withcoord, any, sort, storedist;
    int frommember, fromloc, byradius, bybox;
    long long count;
    const arg *storekey;
} geo_opts;

static int parse_opts(client *c, int base, int flags, const zset *z, int found, gh_shape *s, geo_opts *o) {
    int remaining = c->argc - base;
    for (int i = 0; i < remaining; i++) {
        const arg *a = &c->argv[base + i];
        if (opt_is(a, "withdist")) {
            o->withdist = 1;
        } else if (opt_is(a, "withhash")) {
            o->withhash = 1;
        } else if (opt_is(a, "withcoord")) {
            o->withcoord = 1;
        } else if (opt_is(a, "any")) {
            o->any = 1;
        } else if (opt_is(a, "asc")) {
            o->sort = SORT_ASC;
        } else if (opt_is(a, "desc")) {
            o->sort = SORT_DESC;
        } else if (opt_is(a, "count") && i + 1 < remaining) {
            if (!arg_ll(c, a + 1, &o->count, NULL)) return 0;
            if (o->count <= 0) {
                reply_error(c, "ERR COUNT must be > 0");
                return 0;
            }
            i++;
        } else if ((opt_is(a, "store") || opt_is(a, "storedist")) && i + 1 < remaining &&
                   !(flags & (G_NOSTORE | G_SEARCH))) {
            o->storekey = a + 1;
            o->storedist = opt_is(a, "storedist");
            i++;
        } else if (opt_is(a, "storedist") && (flags & G_SEARCH) && (flags & G_SEARCHSTORE)) {
            o->storedist = 1;
        } else if (opt_is(a, "frommember") && i + 1 < remaining && (flags & G_SEARCH) && !o->fromloc) {
            double score;
            /* without a source key the parsing goes on: the reply depends on the rest */
            if (found && (!zs_score(z, a[1].p, a[1].len, &score) || !gh_decode_score(score, s->xy))) {
                reply_error(c, "ERR could not decode requested zset member");
                return 0;
            }
            o->frommember = 1;
            i++;
        } else if (opt_is(a, "fromlonlat") && i + 2 < remaining && (flags & G_SEARCH) && !o->frommember) {
            if (!lonlat_or_reply(c, a + 1, s->xy)) return 0;
            o->fromloc = 1;
            i += 2;
        } else if (opt_is(a, "byradius") && i + 2 < remaining && (flags & G_SEARCH) && !o->bybox) {
            if (!radius_or_reply(c, a + 1, s)) return 0;
            s->type = GH_CIRCLE;
            o->byradius = 1;
            i += 2;
        } else if (opt_is(a, "bybox") && i + 3 < remaining && (flags & G_SEARCH) && !o->byradius) {
            if (!box_or_reply(c, a + 1, s)) return 0;
            s->type = GH_BOX;
            o->bybox = 1;
            i += 3;
        } else {
            reply_syntax_error(c);
            return 0;
        }
    }
    return 1;
}

/* The command name as the client spelled it (error texts quote it). */
static void argv0(const client *c, char *buf, size_t size) {
    size_t n = strnlen(c->argv[0].p, c->argv[0].len);
    if (n >= size) n = size - 1;
    memcpy(buf, c->argv[0].p, n);
    buf[n] = 0;
}

/* Replaces dst with a sorted set of the first n results (or deletes it when n is 0). */
static void store_results(client *c, const arg *dst, const geo_res *res, size_t n, int storedist, double conv) {
    if (!n) {
        db_delete_key(c->db, dst->p, dst->len);
        return;
    }
    size_t maxlen = 0;
    for (size_t i = 0; i < n; i++)
        if (res->pts[i].len > maxlen) maxlen = res->pts[i].len;
    long long mark = dirty_mark();
    zset *z = zs_new(n, maxlen);
    for (size_t i = 0; i < n; i++) {
        const geo_pt *p = &res->pts[i];
        int out;
        double ns;
        zs_add(&z, storedist ? p->dist / conv : p->score, res->pool + p->off, p->len, 0, &out, &ns);
    }
    zs_fit(&z, maxlen);
    entry_value v = {.type = OBJ_ZSET, .store = VAL_PTR, .ptr = z};
    db_set_value(c->db, dst->p, dst->len, &v, -1);
    key_event(c, dst, FX_ZSET, strncmp(c->cmd->name, "georadius", 9) == 0 ? "georadiusstore" : "geosearchstore");
    dirty_count(mark, (long long)n); /* Redis: one per member stored */
}

static void georadius_generic(client *c, int src, int flags) {
    kref r;
    zset *z = NULL;
    int found = get_zset(c, &c->argv[src], &r, &z);
    if (found < 0) return;
    gh_shape s = {0};
    geo_opts o = {0};
    int base;
    if (flags & G_COORDS) {
        base = 6;
        s.type = GH_CIRCLE;
        if (!lonlat_or_reply(c, &c->argv[2], s.xy) || !radius_or_reply(c, &c->argv[4], &s)) return;
    } else if (flags & G_MEMBER) {
        base = 5;
        if (found) { /* without a source key the parsing goes on: the reply depends on the rest */
            s.type = GH_CIRCLE;
            double score;
            if (!zs_score(z, c->argv[2].p, c->argv[2].len, &score) || !gh_decode_score(score, s.xy)) {
                reply_error(c, "ERR could not decode requested zset member");
                return;
            }
            if (!radius_or_reply(c, &c->argv[3], &s)) return;
        }
    } else {
        base = 2;
        if (flags & G_SEARCHSTORE) {
            base = 3;
            o.storekey = &c->argv[1];
        }
    }
    if (!parse_opts(c, base, flags, z, found, &s, &o)) return;

    char name[64];
    if (o.storekey && (o.withdist || o.withhash || o.withcoord)) {
        reply_errorf(c, "ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
                     (flags & G_SEARCHSTORE) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS");
        return;
    }
    if ((flags & G_SEARCH) && !(o.frommember || o.fromloc)) {
        argv0(c, name, sizeof(name));
        reply_errorf(c, "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %s", name);
        return;
    }
    if ((flags & G_SEARCH) && !(o.byradius || o.bybox)) {
        argv0(c, name, sizeof(name));
        reply_errorf(c, "ERR exactly one of BYRADIUS and BYBOX can be specified for %s", name);
        return;
    }
    if (o.any && !o.count) {
        reply_error(c, "ERR the ANY argument requires COUNT argument");
        return;
    }
    if (!found) {
        if (o.storekey) {
            db_delete_key(c->db, o.storekey->p, o.storekey->len);
            reply_int(c, 0);
        } else {
            reply_array(c, 0);
        }
        return;
    }
    /* COUNT needs the nearest ones: sort ascending unless told otherwise (ANY takes the first found). */
    if (o.count && o.sort == SORT_NONE && !o.any) o.sort = SORT_ASC;

    geo_res res = {0};
    gh_shape_prepare(&s);
    search_shape(z, &s, &res, o.any ? (size_t)o.count : 0);
    if (res.n == 0 && !o.storekey) {
        reply_array(c, 0);
        res_free(&res);
        return;
    }
    size_t n = (o.count == 0 || res.n < (size_t)o.count) ? res.n : (size_t)o.count;
    if (o.sort != SORT_NONE && n > 0) { /* nothing to sort (res.pts may be NULL) */
        int (*cmp)(const void *, const void *) = o.sort == SORT_ASC ? by_dist_asc : by_dist_desc;
        if (n == res.n) qsort(res.pts, res.n, sizeof(geo_pt), cmp);
        else sort_partial(res.pts, res.n, sizeof(geo_pt), cmp, 0, n - 1);
    }
    if (o.storekey) {
        store_results(c, o.storekey, &res, n, o.storedist, s.conversion);
        reply_int(c, (long long)n);
        res_free(&res);
        return;
    }
    int extra = o.withdist + o.withcoord + o.withhash;
    reply_array(c, (long)n);
    for (size_t i = 0; i < n; i++) {
        const geo_pt *p = &res.pts[i];
        if (extra) reply_array(c, extra + 1);
        reply_bulk(c, res.pool + p->off, p->len);
        if (o.withdist) reply_distance(c, p->dist / s.conversion);
        if (o.withhash) reply_int(c, (long long)p->score);
        if (o.withcoord) {
            reply_array(c, 2);
            reply_coord(c, p->lon);
            reply_coord(c, p->lat);
        }
    }
    res_free(&res);
}

static void cmd_georadius(client *c) { georadius_generic(c, 1, G_COORDS); }
static void cmd_georadius_ro(client *c) { georadius_generic(c, 1, G_COORDS | G_NOSTORE); }
static void cmd_georadiusbymember(client *c) { georadius_generic(c, 1, G_MEMBER); }
static void cmd_georadiusbymember_ro(client *c) { georadius_generic(c, 1, G_MEMBER | G_NOSTORE); }
static void cmd_geosearch(client *c) { georadius_generic(c, 1, G_SEARCH); }
static void cmd_geosearchstore(client *c) { georadius_generic(c, 2, G_SEARCH | G_SEARCHSTORE); }

command geo_commands[] = {
    {"geoadd", cmd_geoadd},
    {"geodist", cmd_geodist},
    {"geohash", cmd_geohash},
    {"geopos", cmd_geopos},
    {"georadius", cmd_georadius},
    {"georadius_ro", cmd_georadius_ro},
    {"georadiusbymember", cmd_georadiusbymember},
    {"georadiusbymember_ro", cmd_georadiusbymember_ro},
    {"geosearch", cmd_geosearch},
    {"geosearchstore", cmd_geosearchstore},
    {0}};
