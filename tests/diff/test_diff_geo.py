"""Differential tests for the GEO commands: hypothesis-generated points (clustered around a few centres,
near the poles and the antimeridian, with repeated coordinates so that distances tie) and queries
(GEORADIUS*, GEOSEARCH*, GEODIST, GEOPOS, GEOHASH, with every option, bad arguments and STORE) run on
sardine and on the Debian redis-server oracle, over RESP2 and RESP3.  Replies must be byte-identical
(RESP3 doubles are compared as their text), OBJECT ENCODING of every key is compared after each step,
and the whole keyspace at the end (STOREDIST results keep distances to the last bit).  Ties in distance are part of the test: the order Redis gives them
comes from its sort algorithms, which sardine reproduces.

Deterministic (fixed seeds); SARDINE_DIFF_RANDOM=1 explores, SARDINE_DIFF_EXAMPLES=N sets the count.
"""
from hypothesis import given, note, settings
from hypothesis import strategies as st

from diffharness import Side, run_sequence, settings_for, sides_fixture
from sardine_resp import Raw
from harness import assert_keyspace_ok

EXAMPLES, SETTINGS = settings_for(60)

GEO_KEYS = ["g", "h"]
ALL_KEYS = GEO_KEYS + ["d", "s"]
CENTRES = [(13.361389, 38.115556), (0.0, 0.0), (-179.95, 0.5), (179.9, -0.3), (100.0, 84.9),
           (-120.0, -84.95), (-0.01, 51.5), (151.2, -33.87), (45.0, 70.0)]
MEMBERS = ["a", "b", "c", "d", "e", "f", "g", "p1", "p2", "1", "10", "", "x" * 70]
UNITS = ["m", "km", "ft", "mi", "KM", "Mi", "yd"]
RADII = ["0", "1", "50", "500", "1000", "5000", "20000", "100000", "1e7", "0.5", "-1", "abc", "inf"]


def fmt(x):
    return repr(round(x, 6)) if isinstance(x, float) else x


@st.composite
def point(draw):
    """(lon, lat) text: near a centre (often exactly on it, so distances tie), or anywhere."""
    if draw(st.integers(0, 5)) == 0:
        lon = draw(st.floats(-180, 180, allow_nan=False))
        lat = draw(st.floats(-85.05112878, 85.05112878, allow_nan=False))
        return [fmt(lon), fmt(lat)]
    cx, cy = draw(st.sampled_from(CENTRES))
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return [fmt(cx), fmt(cy)]
    spread = draw(st.sampled_from([0.001, 0.05, 1.0, 5.0, 30.0]))
    # kind 1: on the centre's meridian (distances along a meridian take their own formula in Redis)
    lon = cx if kind == 1 else min(180.0, max(-180.0, cx + draw(st.floats(-spread, spread))))
    lat = min(85.05112878, max(-85.05112878, cy + draw(st.floats(-spread, spread))))
    return [fmt(lon), fmt(lat)]


BAD_POINTS = st.sampled_from([["200", "10"], ["10", "86"], ["abc", "1"], ["1", ""], ["-180.0001", "0"],
                              ["180", "85.05112878"], ["-180", "-85.05112878"], ["1e1", "0x1"]])
key = st.sampled_from(GEO_KEYS)
srckey = st.sampled_from(GEO_KEYS + ["s", "nokey"])
member = st.sampled_from(MEMBERS)
unit = st.one_of(st.sampled_from(UNITS[:4]), st.sampled_from(UNITS))
radius = st.sampled_from(RADII)


def c(*parts):
    return st.tuples(*[st.just(p) if isinstance(p, str) else p for p in parts]).map(
        lambda t: [x for p in t for x in (p if isinstance(p, list) else [p])])


def cat(*parts):
    return st.tuples(*parts).map(lambda t: [x for part in t for x in part])


def many(s, lo=0, hi=3):
    return st.lists(s, min_size=lo, max_size=hi).map(lambda xs: [x for part in xs for x in part])


triples = st.lists(st.tuples(point(), member).map(lambda t: t[0] + [t[1]]), min_size=1, max_size=6).map(
    lambda xs: [x for p in xs for x in p])
geoadd_flags = st.lists(st.sampled_from(["NX", "XX", "CH", "ch"]), max_size=2)
count = st.one_of(c("COUNT", st.sampled_from(["1", "2", "3", "5", "100"])),
                  c("COUNT", st.sampled_from(["1", "2", "3"]), "ANY"),
                  c("COUNT", st.sampled_from(["0", "-1", "x"])), c("ANY"))
with_opts = st.sampled_from(["WITHDIST", "WITHHASH", "WITHCOORD", "withdist"]).map(lambda x: [x])
order = st.sampled_from(["ASC", "DESC", "asc"]).map(lambda x: [x])
radius_opts = many(st.one_of(with_opts, with_opts, order, count), 0, 4)
store_opt = st.one_of(c("STORE", st.sampled_from(["d", "h"])), c("STOREDIST", st.sampled_from(["d", "g"])))
from_opt = st.one_of(c("FROMMEMBER", member), c("FROMLONLAT", point()), c("FROMLONLAT", BAD_POINTS))
by_opt = st.one_of(c("BYRADIUS", radius, unit),
                   c("BYBOX", radius, radius, unit),
                   c("BYBOX", st.sampled_from(["100", "2000", "40000"]), st.sampled_from(["100", "2000", "40000"]), "km"))

GEO_CMDS = [
    cat(c("GEOADD", key), geoadd_flags, triples),
    cat(c("GEOADD", key), geoadd_flags, triples),
    cat(c("GEOADD", key), geoadd_flags, many(c(BAD_POINTS, member), 1, 2)),
    c("GEOADD", key, "NX", "XX", point(), member),
    cat(c("GEOPOS", key), many(member.map(lambda m: [m]), 1, 3)),
    cat(c("GEOHASH", key), many(member.map(lambda m: [m]), 1, 3)),
    c("GEODIST", key, member, member),
    c("GEODIST", key, member, member, unit),
    c("GEODIST", key, member, member, "km", "extra"),
    cat(c("GEORADIUS", srckey, point(), radius, unit), radius_opts),
    cat(c("GEORADIUS", srckey, point(), radius, unit), radius_opts),
    cat(c("GEORADIUS", srckey, BAD_POINTS, radius, unit), radius_opts),
    cat(c("GEORADIUS_RO", srckey, point(), radius, unit), radius_opts),
    cat(c("GEORADIUS", srckey, point(), radius, unit), many(st.one_of(order, count), 0, 2), store_opt),
    cat(c("GEORADIUS_RO", srckey, point(), radius, unit), store_opt),
    cat(c("GEORADIUSBYMEMBER", srckey, member, radius, unit), radius_opts),
    cat(c("GEORADIUSBYMEMBER_RO", srckey, member, radius, unit), radius_opts),
    cat(c("GEORADIUSBYMEMBER", srckey, member, radius, unit), many(st.one_of(order, count), 0, 2), store_opt),
    cat(c("GEOSEARCH", srckey), from_opt, by_opt, radius_opts),
    cat(c("GEOSEARCH", srckey), from_opt, by_opt, radius_opts),
    cat(c("GEOSEARCH", srckey), many(st.one_of(from_opt, by_opt, radius_opts), 0, 3)),
    cat(c("GEOSEARCHSTORE", st.sampled_from(["d", "g"]), srckey), from_opt, by_opt,
        many(st.one_of(order, count, c("STOREDIST")), 0, 3)),
    cat(c("GEOSEARCHSTORE", "d", srckey), from_opt, by_opt, with_opts),
]

OTHER_CMDS = [
    c("ZADD", key, st.sampled_from(["-5", "1.5", "1e30", "4503599627370496", "9007199254740991", "0", "inf"]),
      member),
    c("ZREM", key, member), c("DEL", key), c("SET", "s", "str"),
    c("ZRANGE", "d", "0", "-1", "WITHSCORES"), c("TYPE", "d"),
    c("CONFIG", "SET", "zset-max-listpack-entries", st.sampled_from(["0", "1", "3", "128"])),
    c("CONFIG", "SET", "zset-max-listpack-value", st.sampled_from(["0", "1", "64"])),
]


class ExactRaw(Raw):
    """Keeps RESP3 doubles as their text (Redis prints coordinates as 17-decimal long doubles)."""

    def reply(self):
        line = self._line()
        if line[:1] == b",":
            return ("double", line[1:])
        self.buf = line + b"\r\n" + self.buf
        return super().reply()


class GeoSide(Side):
    """One connection that keeps RESP3 doubles as text, RESP2 or RESP3; listpack limits reset before every
    sequence; replies compared raw."""

    CONN = ExactRaw
    CONFIG = (("zset-max-listpack-entries", "128"), ("zset-max-listpack-value", "64"))
    OBSERVED_KEYS = ALL_KEYS

    def state(self):
        out = []
        for k in ALL_KEYS:
            t = self.conn.cmd("TYPE", k)
            out.append((k, t, self.conn.cmd("ZRANGE", k, "0", "-1", "WITHSCORES") if t == "zset" else None))
        return out


sides = sides_fixture(GeoSide, resps=(2, 3))


@SETTINGS
@given(seq=st.lists(st.one_of(*GEO_CMDS), min_size=1, max_size=25))
def test_diff_geo_commands(sides, seq):
    run_sequence(sides, seq)


@SETTINGS
@given(seq=st.lists(st.one_of(*(GEO_CMDS + OTHER_CMDS)), min_size=1, max_size=30))
def test_diff_geo_with_odd_scores_and_config(sides, seq):
    run_sequence(sides, seq)


@settings(SETTINGS, max_examples=max(1, EXAMPLES // 3))
@given(pts=st.lists(point(), min_size=20, max_size=150), queries=st.lists(
    st.tuples(st.sampled_from(CENTRES), st.sampled_from(["1", "20", "200", "1000", "3000", "9000"]),
              st.sampled_from(["ASC", "DESC", None]), st.sampled_from([None, "1", "3", "10"]),
              st.booleans()), min_size=1, max_size=8))
def test_diff_geo_dense_searches(sides, pts, queries):
    """Many points (both encodings), many ties, searches of every size: results and their order."""
    s, o = sides
    s.reset()
    o.reset()
    for side in (s, o):
        side.run(["CONFIG", "SET", "zset-max-listpack-entries", "64"])
    args = ["GEOADD", "g"]
    for i, p in enumerate(pts):
        args += p + ["m%d" % (i % 120)]
    assert s.run(args) == o.run(args)
    for (cx, cy), r, order, cnt, box in queries:
        q = ["GEOSEARCH", "g", "FROMLONLAT", fmt(cx), fmt(cy)]
        q += ["BYBOX", r, r, "km"] if box else ["BYRADIUS", r, "km"]
        q += ["WITHDIST", "WITHCOORD", "WITHHASH"]
        if order:
            q.append(order)
        if cnt:
            q += ["COUNT", cnt]
        got, want = s.run(q), o.run(q)
        note(f"{q!r}")
        assert got == want
    assert s.encodings() == o.encodings()
    assert s.state() == o.state()
    assert_keyspace_ok(s.conn)


@settings(SETTINGS, max_examples=max(1, EXAMPLES // 3))
@given(lon=st.floats(-180, 180), lats=st.lists(st.floats(-85, 85), min_size=5, max_size=25),
       unit=st.sampled_from(["m", "km", "mi"]))
def test_diff_geo_meridian_distances(sides, lon, lats, unit):
    """Points on one meridian: Redis takes the arc of latitude there (not the full haversine), which
    differs in the last bits for about one pair in ten; STOREDIST keeps every bit."""
    s, o = sides
    s.reset()
    o.reset()
    args = ["GEOADD", "g"]
    for i, lat in enumerate(lats):
        args += [fmt(lon), fmt(lat), "m%d" % i]
    assert s.run(args) == o.run(args)
    for q in (["GEOSEARCHSTORE", "d", "g", "FROMMEMBER", "m0", "BYRADIUS", "40000", "km", "STOREDIST"],
              ["GEOSEARCHSTORE", "d", "g", "FROMLONLAT", fmt(lon), "0", "BYBOX", "100", "40000", "km",
               "STOREDIST"]):
        assert s.run(q) == o.run(q), q
        got, want = s.run(["ZRANGE", "d", "0", "-1", "WITHSCORES"]), o.run(["ZRANGE", "d", "0", "-1", "WITHSCORES"])
        assert got == want, q
    q = ["GEOSEARCH", "g", "FROMMEMBER", "m1", "BYRADIUS", "40000", "km", "ASC", "WITHDIST", "COUNT", "3"]
    assert s.run(q) == o.run(q)
    q = ["GEODIST", "g", "m0", "m1", unit]
    assert s.run(q) == o.run(q)
