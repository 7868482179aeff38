/* Unit tests for the geohash (types/geohash.c): golden scores, GEOPOS texts, GEOHASH strings and
 * distances taken from redis-server 7.0.15; neighbours; the search cells against brute force; and the
 * partial quicksort shared by GEO and SORT (commands/sort_cmds.c) against a full sort. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "types/geohash.h"
#include "util/numconv.h"

void sort_partial(void *base, size_t n, size_t es, int (*cmp)(const void *, const void *), size_t lo, size_t hi);

/* GEOADD g lon lat p; ZSCORE, GEOPOS, GEOHASH of p, on redis-server 7.0.15. */
static const struct {
    double lon, lat;
    uint64_t score;
    const char *pos_lon, *pos_lat, *hash;
} golden[] = {
    {13.361389, 38.115556, 3479099956230698ULL, "13.36138933897018433", "38.11555639549629859", "sqc8b49rny0"},
    {15.087269, 37.502669, 3479447370796909ULL, "15.08726745843887329", "37.50266842333162032", "sqdtr74hyu0"},
    {0, 0, 3377699720527872ULL, "0.00000268220901489", "0.00000126736058093", "s0000000000"},
    {-180, -85.05112878, 0ULL, "-179.99999731779098511", "-85.05112751263942528", "00bh0hbj200"},
    {180, 85.05112878, 13510798882111488ULL, "180", "85.0511287799999991", "bp05b5048p0"},
    {-0.1278, 51.5074, 2163557714755072ULL, "-0.12779921293258667", "51.50740077990133159", "gcpvj0duq50"},
    {139.6917, 35.6895, 4171231230197045ULL, "139.69170123338699341", "35.68950126697937009", "xn774c06kt0"},
    {-122.4194, 37.7749, 1367859919124626ULL, "-122.41940170526504517", "37.77490001056577995", "9q8yyk8ytp0"},
    {151.2093, -33.8688, 3252046221964352ULL, "151.20929986238479614", "-33.86880091934155956", "r3gx2f77bj0"},
    {-58.3816, -34.6037, 887133777343301ULL, "-58.38160246610641479", "-34.60370022923218158", "69y7pkxff40"},
    {-63.420205, -59.35564, 670490680993604ULL, "-63.42020720243453979", "-59.35564016251441899", "4t6ykfdu640"},
    {54.33641, -72.685831, 2413207195517780ULL, "54.33640748262405396", "-72.68582998943969642", "j5ndkryw650"},
    {12.917522, -22.832884, 2565387371163908ULL, "12.91752129793167114", "-22.83288353313802332", "k7cnjgqkb40"},
    {-159.120387, 1.264075, 1137579691868759ULL, "-159.12038952112197876", "1.26407431368639322", "82nz5nh5f00"},
    {-166.501563, -11.280234, 366653462421774ULL, "-166.5015605092048645", "-11.28023282194931909", "2mcxg4mrbk0"},
    {-154.852048, -69.578788, 54406574774780ULL, "-154.85204547643661499", "-69.57878907009128966", "0e9uhm84jv0"},
};

/* GEODIST g p<a> p<b> (meters). */
static const struct {
    int a, b;
    const char *dist;
} golden_dist[] = {
    {0, 1, "166274.1516"},   {2, 3, "10560811.9169"}, {4, 5, "4831832.7857"},   {6, 7, "8273047.4024"},
    {8, 9, "11804395.5588"}, {10, 11, "4598934.3111"}, {12, 13, "17472159.0746"}, {14, 15, "6536994.8409"},
};

/* Scores that are not geohashes (ZADD w <score> m; GEOPOS, GEOHASH): Redis's (uint64_t) conversion. */
static const struct {
    double score;
    const char *pos_lon, *pos_lat, *hash;
} odd[] = {
    {-5, "180", "85.0511287799999991", "bp05b5048p0"},
    {1e30, "-179.99999731779098511", "-85.05112751263942528", "00bh0hbj200"},
    {9007199254740991.0, "179.99999731779098511", "85.0511287799999991", "zzpgzgpfxz0"},
    {1.5, "-179.99999731779098511", "-85.05112497791824921", "00bh0hbj210"},
    {1e19, "180", "85.0511287799999991", "bp05b5048p0"},
};

static void coord_text(double v, char *buf) { ld2str(buf, 64, (long double)v); }

static void test_golden_encode_decode(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
        assert_int_equal(gh_score(golden[i].lon, golden[i].lat), golden[i].score);
        double xy[2];
        char buf[64];
        assert_true(gh_decode_score((double)golden[i].score, xy));
        coord_text(xy[0], buf);
        assert_string_equal(buf, golden[i].pos_lon);
        coord_text(xy[1], buf);
        assert_string_equal(buf, golden[i].pos_lat);
        char h[12] = {0};
        gh_string((double)golden[i].score, h);
        assert_string_equal(h, golden[i].hash);
    }
}

static void test_golden_distances(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(golden_dist) / sizeof(golden_dist[0]); i++) {
        double a[2], b[2];
        gh_decode_score((double)golden[golden_dist[i].a].score, a);
        gh_decode_score((double)golden[golden_dist[i].b].score, b);
        char buf[64];
        snprintf(buf, sizeof(buf), "%.4f", gh_distance(a[0], a[1], b[0], b[1]));
        assert_string_equal(buf, golden_dist[i].dist);
    }
}

/* Points on one meridian: Redis 7.0.15 takes the arc of latitude (GEOSEARCHSTORE ... STOREDIST showed
 * 3913.470779651428 km; the full haversine gives 3913470.7796514276 m). */
static void test_same_meridian_distance(void **state) {
    (void)state;
    double a[2], b[2];
    gh_decode_score(1921281377640583.0, a);
    gh_decode_score(2188528486589570.0, b);
    assert_true(a[0] == b[0]);
    char buf[64];
    snprintf(buf, sizeof(buf), "%.17g", gh_distance(a[0], a[1], b[0], b[1]));
    assert_string_equal(buf, "3913470.7796514281");
    gh_shape s = {.type = GH_CIRCLE, .xy = {a[0], a[1]}, .conversion = 1000, .radius = 40000};
    gh_shape_prepare(&s);
    double d;
    assert_true(gh_in_shape(&s, b[0], b[1], &d));
    snprintf(buf, sizeof(buf), "%.17g", d / 1000);
    assert_string_equal(buf, "3913.4707796514281");
}

static void test_odd_scores(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        double xy[2];
        char buf[64], h[12] = {0};
        assert_true(gh_decode_score(odd[i].score, xy));
        coord_text(xy[0], buf);
        assert_string_equal(buf, odd[i].pos_lon);
        coord_text(xy[1], buf);
        assert_string_equal(buf, odd[i].pos_lat);
        gh_string(odd[i].score, h);
        assert_string_equal(h, odd[i].hash);
    }
}

static void test_encode_limits(void **state) {
    (void)state;
    gh_bits h;
    assert_false(gh_encode_wgs84(180.0001, 0, 26, &h));
    assert_false(gh_encode_wgs84(0, 85.06, 26, &h));
    assert_false(gh_encode_wgs84(0, 0, 0, &h));
    assert_true(gh_encode_wgs84(-180, -85.05112878, 26, &h));
    assert_int_equal(h.bits, 0);
    /* a score decodes inside the cell it names, and re-encodes to itself */
    srand(1);
    for (int i = 0; i < 10000; i++) {
        double lon = -180 + 360.0 * rand() / RAND_MAX, lat = GEO_LAT_MIN + (2 * GEO_LAT_MAX) * rand() / RAND_MAX;
        uint64_t s = gh_score(lon, lat);
        assert_true(s < (1ULL << 52) || (lon == 180 || lat == GEO_LAT_MAX));
        double xy[2];
        gh_decode_score((double)s, xy);
        assert_true(fabs(xy[0] - lon) < 1e-5 && fabs(xy[1] - lat) < 1e-5);
        assert_int_equal(gh_score(xy[0], xy[1]), s);
    }
}

static void test_neighbors(void **state) {
    (void)state;
    for (int step = 1; step <= 26; step++) {
        gh_bits h, n[GH_CELLS], back[GH_CELLS];
        gh_encode_wgs84(12.5, 41.9, step, &h);
        gh_neighbors(h, n);
        assert_int_equal(n[GH_CENTER].bits, h.bits);
        /* east of west, north of south ... is the cell itself */
        gh_neighbors(n[GH_W], back);
        assert_int_equal(back[GH_E].bits, h.bits);
        gh_neighbors(n[GH_S], back);
        assert_int_equal(back[GH_N].bits, h.bits);
        gh_neighbors(n[GH_NE], back);
        assert_int_equal(back[GH_SW].bits, h.bits);
        if (step < 3) continue;
        gh_area c, a;
        gh_decode((gh_range){-180, 180}, (gh_range){GEO_LAT_MIN, GEO_LAT_MAX}, h, &c);
        gh_decode((gh_range){-180, 180}, (gh_range){GEO_LAT_MIN, GEO_LAT_MAX}, n[GH_NE], &a);
        assert_true(a.lat.min == c.lat.max && a.lon.min == c.lon.max);
    }
    /* wrapping: east of the last column is the first */
    gh_bits h, n[GH_CELLS];
    gh_encode_wgs84(179.9, 0, 4, &h);
    gh_neighbors(h, n);
    gh_area a;
    gh_decode((gh_range){-180, 180}, (gh_range){GEO_LAT_MIN, GEO_LAT_MAX}, n[GH_E], &a);
    assert_true(a.lon.min == -180);
}

/* Every point within the shape lies in one of its cells (the search misses nothing). */
static void test_cells_cover_shape(void **state) {
    (void)state;
    srand(2);
    for (int q = 0; q < 300; q++) {
        gh_shape s = {0};
        s.xy[0] = -179 + 358.0 * rand() / RAND_MAX;
        s.xy[1] = -80 + 160.0 * rand() / RAND_MAX;
        s.conversion = 1000;
        if (q % 2) {
            s.type = GH_CIRCLE;
            s.radius = 1 + 2000.0 * rand() / RAND_MAX;
        } else {
            s.type = GH_BOX;
            s.width = 1 + 3000.0 * rand() / RAND_MAX;
            s.height = 1 + 3000.0 * rand() / RAND_MAX;
        }
        gh_shape_prepare(&s);
        gh_bits cells[GH_CELLS];
        gh_cells_for_shape(&s, cells);
        for (int p = 0; p < 300; p++) {
            double lon = s.xy[0] + (-25 + 50.0 * rand() / RAND_MAX), lat = s.xy[1] + (-20 + 40.0 * rand() / RAND_MAX);
            if (lon < -180 || lon > 180 || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX) continue;
            uint64_t score = gh_score(lon, lat);
            double xy[2], d;
            gh_decode_score((double)score, xy);
            if (!gh_in_shape(&s, xy[0], xy[1], &d)) continue;
            int covered = 0;
            for (int i = 0; i < GH_CELLS && !covered; i++) {
                if (!cells[i].step) continue;
                uint64_t min, max;
                gh_cell_scores(cells[i], &min, &max);
                covered = score >= min && score < max;
            }
            assert_true(covered);
        }
    }
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

static void test_sort_partial(void **state) {
    (void)state;
    srand(3);
    for (int t = 0; t < 2000; t++) {
        size_t n = 1 + (size_t)(rand() % 200);
        int a[200], b[200];
        int dups = t % 3 == 0; /* many equal keys exercise the three-way partitioning */
        for (size_t i = 0; i < n; i++) a[i] = b[i] = dups ? rand() % 5 : rand();
        size_t lo = (size_t)rand() % n, hi = lo + (size_t)rand() % (n - lo);
        sort_partial(a, n, sizeof(int), cmp_int, lo, hi);
        qsort(b, n, sizeof(int), cmp_int);
        for (size_t i = lo; i <= hi; i++) assert_int_equal(a[i], b[i]);
        /* the others are all still there */
        qsort(a, n, sizeof(int), cmp_int);
        assert_memory_equal(a, b, n * sizeof(int));
    }
    /* Equal keys keep Redis 7.0's order: GEOSEARCH ... ASC COUNT 1 over 7 results with three tied nearest
     * returned m17 (the sort leaves this array as it was). */
    struct { int key, id; } v[7] = {{1, 17}, {1, 18}, {1, 19}, {2, 16}, {3, 5}, {3, 6}, {3, 7}};
    sort_partial(v, 7, sizeof(v[0]), cmp_int, 0, 0);
    static const int ids[7] = {17, 18, 19, 16, 5, 6, 7};
    for (int i = 0; i < 7; i++) assert_int_equal(v[i].id, ids[i]);
    int none[1] = {0};
    sort_partial(none, 0, sizeof(int), cmp_int, (size_t)-1, (size_t)-2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_encode_decode),
        cmocka_unit_test(test_golden_distances),
        cmocka_unit_test(test_same_meridian_distance),
        cmocka_unit_test(test_odd_scores),
        cmocka_unit_test(test_encode_limits),
        cmocka_unit_test(test_neighbors),
        cmocka_unit_test(test_cells_cover_shape),
        cmocka_unit_test(test_sort_partial),
    };
    return cmocka_run_group_tests_name("geohash", tests, NULL, NULL);
}
