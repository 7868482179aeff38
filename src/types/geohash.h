/* geohash: the 52-bit interleaved geohash that GEO commands store as sorted
 * set scores, and the geometry of searches, computed exactly as Redis 7.0
 * computes them (so scores, coordinates and distances match its bytes).
 *
 * A cell of `step` bits per axis is the pair (bits, step): latitude bits sit
 * in the even positions of `bits`, longitude bits in the odd ones, each axis
 * split into 2^step equal intervals of [-180, 180] x [-85.05112878,
 * 85.05112878] (Web Mercator's limits).  A member's score is its step-26
 * cell, a 52-bit integer (exact in a double).  A score decodes to the centre
 * of its cell, clamped to the limits.
 *
 * A search (radius or box around a point) is answered from at most 9 cells
 * of one step chosen from the search radius: the centre's cell and its 8
 * neighbours, minus those the bounding box of the shape cannot reach.  Each
 * cell is one score range [min, max) of the sorted set; its members are
 * then filtered by the exact distance (haversine on a sphere of radius
 * 6372797.560856 m). */
#ifndef SARDINE_GEOHASH_H
#define SARDINE_GEOHASH_H
#include <stdint.h>

#define GEO_STEP_MAX 26
#define GEO_LAT_MIN -85.05112878
#define GEO_LAT_MAX 85.05112878
#define GEO_LONG_MIN -180
#define GEO_LONG_MAX 180
#define GEO_EARTH_RADIUS 6372797.560856

typedef struct gh_bits {
    uint64_t bits;
    uint8_t step; /* 0 with bits 0: an excluded cell */
} gh_bits;

typedef struct gh_range {
    double min, max;
} gh_range;

typedef struct gh_area {
    gh_range lon, lat;
} gh_area;

/* The 9 cells of a search, in the order Redis visits them. */
enum { GH_CENTER, GH_N, GH_S, GH_E, GH_W, GH_NE, GH_NW, GH_SE, GH_SW, GH_CELLS };

enum { GH_CIRCLE = 1, GH_BOX = 2 };

typedef struct gh_shape {
    int type;
    double xy[2];       /* centre: longitude, latitude */
    double conversion;  /* meters per unit of radius/width/height */
    double radius;      /* GH_CIRCLE, in units */
    double width, height; /* GH_BOX, in units */
    double cos_lat;     /* cos of the centre's latitude: gh_shape_prepare */
} gh_shape;

/* Encodes a point into a cell of `step` bits per axis over the given ranges; 0 when out of range. */
int gh_encode(gh_range lon_r, gh_range lat_r, double lon, double lat, int step, gh_bits *out);
int gh_encode_wgs84(double lon, double lat, int step, gh_bits *out);
/* The area of a cell (0 for an excluded cell). */
int gh_decode(gh_range lon_r, gh_range lat_r, gh_bits h, gh_area *area);
/* A cell's centre, clamped to the limits. */
void gh_area_center(const gh_area *a, double xy[2]);
/* A sorted set score as Redis reads it: (uint64_t) of the double, a step-26 cell, its centre. */
int gh_decode_score(double score, double xy[2]);
/* The cell's bits shifted to 52 bits (its first score). */
uint64_t gh_align52(gh_bits h);
/* The score of a point: its step-26 cell (the point must be within the limits). */
uint64_t gh_score(double lon, double lat);
/* The 11-character standard geohash (latitude range +-90) of a score's point, as GEOHASH prints it. */
void gh_string(double score, char out[11]);
/* The 8 neighbours of a cell, in enum order from GH_N (wrapping around at the edges). */
void gh_neighbors(gh_bits h, gh_bits out[GH_CELLS]);
/* The cells covering a shape (GH_CENTER first); excluded ones have step 0. */
void gh_cells_for_shape(const gh_shape *s, gh_bits cells[GH_CELLS]);
/* Great-circle distance in meters. */
double gh_distance(double lon1, double lat1, double lon2, double lat2);
/* Caches what every distance from the centre needs; call once the centre is known, before gh_in_shape. */
void gh_shape_prepare(gh_shape *s);
/* 1 if the point (lon, lat) lies in the shape; *dist gets its distance from the centre in meters. */
int gh_in_shape(const gh_shape *s, double lon, double lat, double *dist);
/* The score range [min, max) of a cell's members. */
void gh_cell_scores(gh_bits h, uint64_t *min, uint64_t *max);
#endif
