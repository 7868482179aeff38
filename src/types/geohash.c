/* geohash: see geohash.h.  Every floating-point step below is written in the
 * order Redis 7.0 evaluates it (the same operations on the same doubles), so
 * that scores, decoded coordinates, distances and the choice of cells come
 * out bit for bit identical; do not "simplify" the arithmetic. */
#include "types/geohash.h"
#include <math.h>
#include <stddef.h>

#define DEG_RAD (M_PI / 180.0)
#define MERCATOR_MAX 20037726.37

static const gh_range LON_WGS84 = {GEO_LONG_MIN, GEO_LONG_MAX};
static const gh_range LAT_WGS84 = {GEO_LAT_MIN, GEO_LAT_MAX};

static double deg_rad(double d) { return d * DEG_RAD; }
static double rad_deg(double r) { return r / DEG_RAD; }

/* Spreads the 32 bits of v over the even bit positions of a 64-bit word. */
static uint64_t spread(uint32_t v) {
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x << 2)) & 0x3333333333333333ULL;
    x = (x | (x << 1)) & 0x5555555555555555ULL;
    return x;
}

/* The inverse: gathers the even bits of x into 32 bits. */
static uint32_t gather(uint64_t x) {
    x &= 0x5555555555555555ULL;
    x = (x | (x >> 1)) & 0x3333333333333333ULL;
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
    return (uint32_t)x;
}

static int range_zero(gh_range r) { return r.min == 0 && r.max == 0; }

int gh_encode(gh_range lon_r, gh_range lat_r, double lon, double lat, int step, gh_bits *out) {
    if (step > 32 || step == 0 || range_zero(lat_r) || range_zero(lon_r)) return 0;
    if (lon > GEO_LONG_MAX || lon < GEO_LONG_MIN || lat > GEO_LAT_MAX || lat < GEO_LAT_MIN) return 0;
    out->bits = 0;
    out->step = (uint8_t)step;
    if (lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max) return 0;
    double lat_off = (lat - lat_r.min) / (lat_r.max - lat_r.min);
    double lon_off = (lon - lon_r.min) / (lon_r.max - lon_r.min);
    lat_off *= (double)(1ULL << step);
    lon_off *= (double)(1ULL << step);
    out->bits = spread((uint32_t)lat_off) | (spread((uint32_t)lon_off) << 1);
    return 1;
}

int gh_encode_wgs84(double lon, double lat, int step, gh_bits *out) {
    return gh_encode(LON_WGS84, LAT_WGS84, lon, lat, step, out);
}

int gh_decode(gh_range lon_r, gh_range lat_r, gh_bits h, gh_area *a) {
    if ((h.bits == 0 && h.step == 0) || range_zero(lat_r) || range_zero(lon_r)) return 0;
    uint32_t ilat = gather(h.bits), ilon = gather(h.bits >> 1);
    double lat_scale = lat_r.max - lat_r.min, lon_scale = lon_r.max - lon_r.min;
    /* Redis divides by 2^step; multiplying by 2^-step is exactly the same operation on doubles (a power
     * of two scales without rounding) and saves four divisions per decoded member. */
    double inv_cells = 1.0 / (double)(1ULL << h.step);
    /* (ilat + 1) is 32-bit arithmetic, wrapping as Redis's does for scores beyond 52 bits */
    uint32_t ilat1 = ilat + 1, ilon1 = ilon + 1;
    a->lat.min = lat_r.min + (ilat * inv_cells) * lat_scale;
    a->lat.max = lat_r.min + (ilat1 * inv_cells) * lat_scale;
    a->lon.min = lon_r.min + (ilon * inv_cells) * lon_scale;
    a->lon.max = lon_r.min + (ilon1 * inv_cells) * lon_scale;
    return 1;
}

void gh_area_center(const gh_area *a, double xy[2]) {
    xy[0] = (a->lon.min + a->lon.max) / 2;
    if (xy[0] > GEO_LONG_MAX) xy[0] = GEO_LONG_MAX;
    if (xy[0] < GEO_LONG_MIN) xy[0] = GEO_LONG_MIN;
    xy[1] = (a->lat.min + a->lat.max) / 2;
    if (xy[1] > GEO_LAT_MAX) xy[1] = GEO_LAT_MAX;
    if (xy[1] < GEO_LAT_MIN) xy[1] = GEO_LAT_MIN;
}

/* (uint64_t)score as x86-64 code computes it, defined for every double (C leaves values outside
 * [0, 2^64) undefined): below 2^63 a signed truncation (out of range: 0x8000000000000000), above
 * it the same on score - 2^63 with the top bit flipped. */
static uint64_t score_bits(double score) {
    const double two63 = 9223372036854775808.0;
    if (!(score >= two63)) {
        if (score > -two63 && score < two63) return (uint64_t)(int64_t)score;
        return 0x8000000000000000ULL;
    }
    double rest = score - two63;
    uint64_t v = rest < two63 ? (uint64_t)(int64_t)rest : 0x8000000000000000ULL;
    return v ^ 0x8000000000000000ULL;
}

int gh_decode_score(double score, double xy[2]) {
    gh_bits h = {score_bits(score), GEO_STEP_MAX};
    gh_area a;
    if (!gh_decode(LON_WGS84, LAT_WGS84, h, &a)) return 0;
    gh_area_center(&a, xy);
    return 1;
}

uint64_t gh_align52(gh_bits h) { return h.bits << (52 - h.step * 2); }

uint64_t gh_score(double lon, double lat) {
    gh_bits h;
    gh_encode_wgs84(lon, lat, GEO_STEP_MAX, &h);
    return gh_align52(h);
}

void gh_string(double score, char out[11]) {
    static const char alphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
    double xy[2];
    gh_decode_score(score, xy);
    gh_range lon_r = {-180, 180}, lat_r = {-90, 90};
    gh_bits h = {0, 0};
    gh_encode(lon_r, lat_r, xy[0], xy[1], GEO_STEP_MAX, &h);
    for (int i = 0; i < 10; i++) out[i] = alphabet[(h.bits >> (52 - (i + 1) * 5)) & 0x1f];
    out[10] = '0'; /* 52 bits fill 10.4 characters; the 11th has always been 0 */
}

/* Moves a cell one step east (d > 0) or west along longitude (odd bits), wrapping around. */
static void move_x(gh_bits *h, int d) {
    if (d == 0) return;
    uint64_t x = h->bits & 0xaaaaaaaaaaaaaaaaULL, y = h->bits & 0x5555555555555555ULL;
    uint64_t fill = 0x5555555555555555ULL >> (64 - h->step * 2); /* the other axis' bits set: carries pass */
    if (d > 0) x = x + (fill + 1);
    else x = (x | fill) - (fill + 1);
    x &= 0xaaaaaaaaaaaaaaaaULL >> (64 - h->step * 2);
    h->bits = x | y;
}

/* The same north (d > 0) or south along latitude (even bits). */
static void move_y(gh_bits *h, int d) {
    if (d == 0) return;
    uint64_t x = h->bits & 0xaaaaaaaaaaaaaaaaULL, y = h->bits & 0x5555555555555555ULL;
    uint64_t fill = 0xaaaaaaaaaaaaaaaaULL >> (64 - h->step * 2);
    if (d > 0) y = y + (fill + 1);
    else y = (y | fill) - (fill + 1);
    y &= 0x5555555555555555ULL >> (64 - h->step * 2);
    h->bits = x | y;
}

void gh_neighbors(gh_bits h, gh_bits out[GH_CELLS]) {
    static const int dx[GH_CELLS] = {0, 0, 0, 1, -1, 1, -1, 1, -1};
    static const int dy[GH_CELLS] = {0, 1, -1, 0, 0, 1, 1, -1, -1};
    for (int i = 0; i < GH_CELLS; i++) {
        out[i] = h;
        move_x(&out[i], dx[i]);
        move_y(&out[i], dy[i]);
    }
}

/* The number of bits per axis for cells big enough that 9 of them cover a search of this radius. */
static int steps_for_radius(double meters, double lat) {
    if (meters == 0) return 26;
    int step = 1;
    while (meters < MERCATOR_MAX) {
        meters *= 2;
        step++;
    }
    step -= 2;
    if (lat > 66 || lat < -66) {
        step--;
        if (lat > 80 || lat < -80) step--;
    }
    if (step < 1) step = 1;
    if (step > 26) step = 26;
    return step;
}

/* The shape's bounding box: min lon, min lat, max lon, max lat.  A box's sides bend toward the pole,
 * so its widest edge is the one nearer the equator. */
static void bounding_box(const gh_shape *s, double b[4]) {
    double lon = s->xy[0], lat = s->xy[1];
    double height = s->conversion * (s->type == GH_CIRCLE ? s->radius : s->height / 2);
    double width = s->conversion * (s->type == GH_CIRCLE ? s->radius : s->width / 2);
    const double lat_delta = rad_deg(height / GEO_EARTH_RADIUS);
    const double lon_delta_top = rad_deg(width / GEO_EARTH_RADIUS / cos(deg_rad(lat + lat_delta)));
    const double lon_delta_bottom = rad_deg(width / GEO_EARTH_RADIUS / cos(deg_rad(lat - lat_delta)));
    int south = lat < 0;
    b[0] = south ? lon - lon_delta_bottom : lon - lon_delta_top;
    b[2] = south ? lon + lon_delta_bottom : lon + lon_delta_top;
    b[1] = lat - lat_delta;
    b[3] = lat + lat_delta;
}

void gh_cells_for_shape(const gh_shape *s, gh_bits cells[GH_CELLS]) {
    double b[4];
    bounding_box(s, b);
    double min_lon = b[0], min_lat = b[1], max_lon = b[2], max_lat = b[3];
    double lon = s->xy[0], lat = s->xy[1];
    double radius = s->type == GH_CIRCLE ? s->radius
                                         : sqrt((s->width / 2) * (s->width / 2) + (s->height / 2) * (s->height / 2));
    radius *= s->conversion;
    int steps = steps_for_radius(radius, lat);
    gh_bits h;
    gh_area area;
    gh_encode_wgs84(lon, lat, steps, &h);
    gh_neighbors(h, cells);
    gh_decode(LON_WGS84, LAT_WGS84, h, &area);

    /* Cells too small to reach the box's edges: one step coarser. */
    gh_area n, so, e, w;
    gh_decode(LON_WGS84, LAT_WGS84, cells[GH_N], &n);
    gh_decode(LON_WGS84, LAT_WGS84, cells[GH_S], &so);
    gh_decode(LON_WGS84, LAT_WGS84, cells[GH_E], &e);
    gh_decode(LON_WGS84, LAT_WGS84, cells[GH_W], &w);
    int coarser = n.lat.max < max_lat || so.lat.min > min_lat || e.lon.max < max_lon || w.lon.min > min_lon;
    if (steps > 1 && coarser) {
        steps--;
        gh_encode_wgs84(lon, lat, steps, &h);
        gh_neighbors(h, cells);
        gh_decode(LON_WGS84, LAT_WGS84, h, &area);
    }

    /* Neighbours the box does not reach are excluded. */
    static const gh_bits none = {0, 0};
    if (steps >= 2) {
        if (area.lat.min < min_lat) cells[GH_S] = cells[GH_SW] = cells[GH_SE] = none;
        if (area.lat.max > max_lat) cells[GH_N] = cells[GH_NE] = cells[GH_NW] = none;
        if (area.lon.min < min_lon) cells[GH_W] = cells[GH_SW] = cells[GH_NW] = none;
        if (area.lon.max > max_lon) cells[GH_E] = cells[GH_SE] = cells[GH_NE] = none;
    }
}

/* Haversine with cos(lat1) given (the same value cos() returns: the result is bit for bit the same).
 * Points on the same meridian (v == 0) take the arc of latitude directly, as Redis 7.0.15 does: the
 * two formulas differ in the last bits for about one pair in ten (visible through STOREDIST). */
static double distance_cos1(double lon1, double lat1, double cos_lat1, double lon2, double lat2) {
    double lon1r = deg_rad(lon1), lon2r = deg_rad(lon2);
    double v = sin((lon2r - lon1r) / 2);
    if (v == 0.0) return GEO_EARTH_RADIUS * fabs(deg_rad(lat2) - deg_rad(lat1));
    double lat1r = deg_rad(lat1), lat2r = deg_rad(lat2);
    double u = sin((lat2r - lat1r) / 2);
    return 2.0 * GEO_EARTH_RADIUS * asin(sqrt(u * u + cos_lat1 * cos(lat2r) * v * v));
}

double gh_distance(double lon1, double lat1, double lon2, double lat2) {
    return distance_cos1(lon1, lat1, cos(deg_rad(lat1)), lon2, lat2);
}

void gh_shape_prepare(gh_shape *s) { s->cos_lat = cos(deg_rad(s->xy[1])); }

int gh_in_shape(const gh_shape *s, double lon, double lat, double *dist) {
    if (s->type == GH_CIRCLE) {
        *dist = distance_cos1(s->xy[0], s->xy[1], s->cos_lat, lon, lat);
        return *dist <= s->radius * s->conversion;
    }
    double width = s->width * s->conversion, height = s->height * s->conversion;
    /* distance along the meridian, then along the parallel through the point */
    double lat_dist = GEO_EARTH_RADIUS * fabs(deg_rad(s->xy[1]) - deg_rad(lat));
    if (lat_dist > height / 2) return 0;
    double lon_dist = gh_distance(lon, lat, s->xy[0], lat);
    if (lon_dist > width / 2) return 0;
    *dist = distance_cos1(s->xy[0], s->xy[1], s->cos_lat, lon, lat);
    return 1;
}

void gh_cell_scores(gh_bits h, uint64_t *min, uint64_t *max) {
    *min = gh_align52(h);
    h.bits++;
    *max = gh_align52(h);
}
