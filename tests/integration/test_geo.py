"""GEO commands: exact replies and error texts (raw RESP2 connection `c`, RESP3 where the shapes
differ), GEOADD as ZADD (NX/XX/CH, encodings), GEOPOS/GEOHASH/GEODIST texts, searches with every
option, STORE/STOREDIST, the order of results, big indexes (skiplist encoding) against a brute-force
Python model, and the same big searches against the Debian redis-server oracle.

Validated against Debian's redis-server 7.0.15 (SARDINE_SERVER=/usr/bin/redis-server).
"""
import math
import random

from sardine_resp import Err, Raw

SYNTAX = Err("ERR syntax error")
NOT_FLOAT = Err("ERR value is not a valid float")
NOT_INT = Err("ERR value is not an integer or out of range")
WRONGTYPE = Err("WRONGTYPE Operation against a key holding the wrong kind of value")
BAD_UNIT = Err("ERR unsupported unit provided. please use M, KM, FT, MI")
NO_MEMBER = Err("ERR could not decode requested zset member")

PALERMO = ("13.361389", "38.115556")
CATANIA = ("15.087269", "37.502669")


def check(c, steps):
    for args, expected in steps:
        got = c.cmd(*args)
        assert got == expected and type(got) is type(expected), f"{args}: got {got!r}, want {expected!r}"


def sicily(c, key="Sicily"):
    assert c.cmd("GEOADD", key, *PALERMO, "Palermo", *CATANIA, "Catania") == 2


def test_geoadd(c):
    check(c, [
        (("GEOADD", "k", *PALERMO, "Palermo"), 1),
        (("ZSCORE", "k", "Palermo"), b"3479099956230698"),
        (("GEOADD", "k", *PALERMO, "Palermo", *CATANIA, "Catania"), 1),
        (("GEOADD", "k", "CH", "1", "2", "Palermo"), 1),
        (("GEOADD", "k", "NX", *PALERMO, "Palermo", "3", "4", "new"), 1),
        (("ZSCORE", "k", "Palermo"), b"3378080408407459"),  # NX kept (1, 2)
        (("GEOADD", "k", "XX", *PALERMO, "Palermo", "3", "4", "other"), 0),
        (("ZSCORE", "k", "other"), None),
        (("GEOADD", "k", "xx", "ch", *PALERMO, "Palermo"), 0),  # unchanged
        (("GEOADD", "k", "xx", "ch", "5", "5", "Palermo"), 1),
        (("GEOADD", "nokey", "XX", "1", "2", "m"), 0),
        (("EXISTS", "nokey"), 0),
        (("OBJECT", "ENCODING", "k"), b"listpack"),
        (("TYPE", "k"), "zset"),
    ])


def test_geoadd_errors(c):
    c.cmd("SET", "str", "x")
    check(c, [
        (("GEOADD", "k", "1", "2"), Err("ERR wrong number of arguments for 'geoadd' command")),
        (("GEOADD", "k", "1", "2", "m", "3"), SYNTAX),
        (("GEOADD", "k", "NX", "XX", "1", "2", "m"), SYNTAX),
        (("GEOADD", "k", "NX", "1", "2"), SYNTAX),
        (("GEOADD", "k", "GT", "1", "2", "m"), SYNTAX),  # not an option: 4 arguments left
        (("GEOADD", "k", "abc", "2", "m"), NOT_FLOAT),
        (("GEOADD", "k", "1", "", "m"), NOT_FLOAT),
        (("GEOADD", "k", "200", "100", "m"), Err("ERR invalid longitude,latitude pair 200.000000,100.000000")),
        (("GEOADD", "k", "0", "85.06", "m"), Err("ERR invalid longitude,latitude pair 0.000000,85.060000")),
        (("GEOADD", "k", "inf", "0", "m"), Err("ERR invalid longitude,latitude pair inf,0.000000")),
        (("GEOADD", "k", "1", "2", "ok", "300", "2", "bad"), Err("ERR invalid longitude,latitude pair 300.000000,2.000000")),
        (("EXISTS", "k"), 0),  # nothing added when one pair is bad
        (("GEOADD", "str", "1", "2", "m"), WRONGTYPE),
        (("GEOADD", "str", "1", "200", "m"), Err("ERR invalid longitude,latitude pair 1.000000,200.000000")),
        (("GEOADD", "k", "-180", "-85.05112878", "sw", "180", "85.05112878", "ne"), 2),
    ])


def test_geopos_geohash_geodist(c):
    sicily(c)
    c.cmd("SET", "str", "x")
    check(c, [
        (("GEOPOS", "Sicily", "Palermo", "nope", "Catania"),
         [[b"13.36138933897018433", b"38.11555639549629859"], None,
          [b"15.08726745843887329", b"37.50266842333162032"]]),
        (("GEOPOS", "nokey", "a"), [None]),
        (("GEOPOS", "str", "a"), WRONGTYPE),
        (("GEOHASH", "Sicily", "Palermo", "Catania", "nope"), [b"sqc8b49rny0", b"sqdtr74hyu0", None]),
        (("GEOHASH", "nokey", "a", "b"), [None, None]),
        (("GEOHASH", "Sicily"), []),
        (("GEOHASH", "str", "a"), WRONGTYPE),
        (("GEODIST", "Sicily", "Palermo", "Catania"), b"166274.1516"),
        (("GEODIST", "Sicily", "Palermo", "Catania", "km"), b"166.2742"),
        (("GEODIST", "Sicily", "Palermo", "Catania", "MI"), b"103.3182"),
        (("GEODIST", "Sicily", "Palermo", "Catania", "ft"), b"545518.8700"),
        (("GEODIST", "Sicily", "Palermo", "Palermo"), b"0.0000"),
        (("GEODIST", "Sicily", "Palermo", "nope"), None),
        (("GEODIST", "nokey", "a", "b"), None),
        (("GEODIST", "Sicily", "Palermo", "Catania", "yd"), BAD_UNIT),
        (("GEODIST", "nokey", "a", "b", "yd"), BAD_UNIT),  # the unit first, then the key
        (("GEODIST", "Sicily", "Palermo", "Catania", "km", "x"), SYNTAX),
        (("GEODIST", "str", "a", "b"), WRONGTYPE),
    ])
    # scores that are not geohashes still decode (Redis converts the double to a 64-bit integer)
    c.cmd("ZADD", "odd", "-5", "neg", "1.5", "frac", "1e30", "big")
    check(c, [
        (("GEOPOS", "odd", "neg", "frac", "big"),
         [[b"180", b"85.0511287799999991"], [b"-179.99999731779098511", b"-85.05112497791824921"],
          [b"-179.99999731779098511", b"-85.05112751263942528"]]),
        (("GEOHASH", "odd", "neg", "frac"), [b"bp05b5048p0", b"00bh0hbj210"]),
    ])


def test_resp3_shapes(sardine):
    r = Raw(sardine.port)
    r.cmd("HELLO", "3")
    sicily(r)
    r.send(b"*4\r\n$6\r\nGEOPOS\r\n$6\r\nSicily\r\n$7\r\nPalermo\r\n$1\r\nx\r\n")
    raw = r.read_raw(len(b"*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n"))
    assert raw == b"*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n"
    assert r.cmd("GEODIST", "Sicily", "Palermo", "Catania") == b"166274.1516"  # a bulk string in RESP3 too
    assert r.cmd("GEODIST", "Sicily", "Palermo", "x") is None
    reply = r.cmd("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHHASH", "COUNT", "1")
    assert reply == [[b"Catania", b"56.4413", 3479447370796909]]
    r.close()


def test_georadius(c):
    sicily(c)
    check(c, [
        (("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST"), [[b"Palermo", b"190.4424"], [b"Catania", b"56.4413"]]),
        (("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "ASC"), [[b"Catania", b"56.4413"], [b"Palermo", b"190.4424"]]),
        (("GEORADIUS", "Sicily", "15", "37", "200", "km", "DESC"), [b"Palermo", b"Catania"]),
        (("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHCOORD"),
         [[b"Palermo", [b"13.36138933897018433", b"38.11555639549629859"]],
          [b"Catania", [b"15.08726745843887329", b"37.50266842333162032"]]]),
        (("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHHASH", "WITHCOORD", "WITHDIST", "COUNT", "1"),
         [[b"Catania", b"56.4413", 3479447370796909, [b"15.08726745843887329", b"37.50266842333162032"]]]),
        (("GEORADIUS", "Sicily", "15", "37", "100", "km"), [b"Catania"]),
        (("GEORADIUS", "Sicily", "15", "37", "1", "m"), []),
        (("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1", "ANY"), [b"Palermo"]),  # first found
        (("GEORADIUS_RO", "Sicily", "15", "37", "200000", "m", "ASC"), [b"Catania", b"Palermo"]),
        (("GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "WITHDIST"),
         [[b"Palermo", b"0.0000"], [b"Catania", b"166.2742"]]),
        (("GEORADIUSBYMEMBER_RO", "Sicily", "Catania", "100", "mi"), [b"Catania"]),
        (("GEORADIUS", "nokey", "15", "37", "200", "km"), []),
        (("GEORADIUSBYMEMBER", "nokey", "x", "-1", "yd"), []),  # no key: the radius is not even read
    ])


def test_search_errors(c):
    sicily(c)
    c.cmd("SET", "str", "x")
    check(c, [
        (("GEORADIUS", "Sicily", "15", "37", "-1", "km"), Err("ERR radius cannot be negative")),
        (("GEORADIUS", "Sicily", "15", "37", "x", "km"), Err("ERR need numeric radius")),
        (("GEORADIUS", "Sicily", "15", "37", "1", "yd"), BAD_UNIT),
        (("GEORADIUS", "Sicily", "x", "37", "1", "km"), NOT_FLOAT),
        (("GEORADIUS", "Sicily", "15", "90", "1", "km"), Err("ERR invalid longitude,latitude pair 15.000000,90.000000")),
        (("GEORADIUS", "Sicily", "15", "37", "1", "km", "COUNT", "0"), Err("ERR COUNT must be > 0")),
        (("GEORADIUS", "Sicily", "15", "37", "1", "km", "COUNT", "x"), NOT_INT),
        (("GEORADIUS", "Sicily", "15", "37", "1", "km", "COUNT"), SYNTAX),
        (("GEORADIUS", "Sicily", "15", "37", "1", "km", "ANY"), Err("ERR the ANY argument requires COUNT argument")),
        (("GEORADIUS", "Sicily", "15", "37", "1", "km", "foo"), SYNTAX),
        (("GEORADIUS", "Sicily", "15", "37", "1", "km", "STORE", "d", "WITHDIST"),
         Err("ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options")),
        (("GEORADIUS_RO", "Sicily", "15", "37", "1", "km", "STORE", "d"), SYNTAX),
        (("GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "1", "km", "STOREDIST", "d"), SYNTAX),
        (("GEORADIUS", "str", "x", "37", "1", "km"), WRONGTYPE),  # the key is checked first
        (("GEORADIUSBYMEMBER", "Sicily", "nope", "1", "km"), NO_MEMBER),
        (("GEOSEARCH", "Sicily", "FROMMEMBER", "nope", "BYRADIUS", "1", "km"), NO_MEMBER),
        (("GEOSEARCH", "Sicily", "BYRADIUS", "1", "km", "ASC", "WITHDIST"),
         Err("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH")),
        (("geosearch", "Sicily", "FROMLONLAT", "15", "37", "WITHDIST", "ASC"),
         Err("ERR exactly one of BYRADIUS and BYBOX can be specified for geosearch")),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"), SYNTAX),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "BYBOX", "1", "1", "km"), SYNTAX),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "x", "km"), Err("ERR need numeric height")),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "x", "1", "km"), Err("ERR need numeric width")),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "-1", "km"),
         Err("ERR height or width cannot be negative")),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "STORE", "d"), SYNTAX),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "STOREDIST"), SYNTAX),
        (("GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "km"), []),
        (("GEOSEARCH", "nokey", "FROMMEMBER", "x"),
         Err("ERR wrong number of arguments for 'geosearch' command")),
        (("GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km", "WITHHASH"),
         Err("ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options")),
        (("GEOSEARCH", "str", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "km"), WRONGTYPE),
    ])


def test_geosearch(c):
    sicily(c)
    c.cmd("GEOADD", "Sicily", "12.758489", "38.788135", "edge1", "17.241510", "38.788135", "edge2")
    check(c, [
        (("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC"), [b"Catania", b"Palermo"]),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "ASC", "WITHDIST"),
         [[b"Catania", b"56.4413"], [b"Palermo", b"190.4424"], [b"edge2", b"279.7403"], [b"edge1", b"279.7405"]]),
        (("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "120", "160", "km"), [b"Palermo", b"edge1"]),
        (("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "100", "160", "km"), [b"Palermo"]),
        (("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "120", "140", "km"), [b"Palermo"]),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "DESC", "COUNT", "2"),
         [b"edge1", b"edge2"]),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "0", "m"), []),
    ])


def test_store_and_storedist(c):
    sicily(c)
    c.cmd("SET", "d", "x", "EX", "100")
    check(c, [
        (("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d"), 2),
        (("TYPE", "d"), "zset"),
        (("TTL", "d"), -1),
        (("ZRANGE", "d", "0", "-1", "WITHSCORES"), [b"Palermo", b"3479099956230698", b"Catania", b"3479447370796909"]),
        (("GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "d", "COUNT", "1"), 1),
        (("ZRANGE", "d", "0", "-1", "WITHSCORES"), [b"Catania", b"56.441257870158204"]),
        (("GEORADIUSBYMEMBER", "Sicily", "Palermo", "1", "km", "STORE", "d"), 1),
        (("ZRANGE", "d", "0", "-1"), [b"Palermo"]),
        (("GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STOREDIST", "DESC"), 2),
        (("ZRANGE", "d", "0", "-1", "WITHSCORES"), [b"Catania", b"56.441257870158204", b"Palermo", b"190.44242984775784"]),
        (("OBJECT", "ENCODING", "d"), b"listpack"),
        (("GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"), 0),
        (("EXISTS", "d"), 0),  # an empty result deletes the destination
        (("SET", "d", "x"), "OK"),
        (("GEORADIUS", "nokey", "15", "37", "200", "km", "STORE", "d"), 0),
        (("EXISTS", "d"), 0),
        (("GEOSEARCHSTORE", "Sicily", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"), 1),  # onto itself
        (("ZRANGE", "Sicily", "0", "-1"), [b"Palermo"]),
    ])
    c.cmd("CONFIG", "SET", "zset-max-listpack-entries", "1")
    sicily(c, "s2")
    check(c, [
        (("GEOSEARCHSTORE", "d", "s2", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"), 2),
        (("OBJECT", "ENCODING", "d"), b"skiplist"),
        (("GEOSEARCHSTORE", "d", "s2", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "COUNT", "1"), 1),
        (("OBJECT", "ENCODING", "d"), b"listpack"),
    ])


def test_command_info(c):
    info = c.cmd("COMMAND", "INFO", "geoadd", "georadius", "georadius_ro", "geosearch", "geosearchstore")
    assert [x[:6] for x in info] == [
        [b"geoadd", -5, ["write", "denyoom"], 1, 1, 1],
        [b"georadius", -6, ["write", "denyoom", "movablekeys"], 1, 1, 1],
        [b"georadius_ro", -6, ["readonly"], 1, 1, 1],
        [b"geosearch", -7, ["readonly"], 1, 1, 1],
        [b"geosearchstore", -8, ["write", "denyoom"], 1, 2, 1],
    ]


EARTH = 6372797.560856


def haversine(lon1, lat1, lon2, lat2):
    lat1r, lon1r, lat2r, lon2r = map(math.radians, (lat1, lon1, lat2, lon2))
    u, v = math.sin((lat2r - lat1r) / 2), math.sin((lon2r - lon1r) / 2)
    return 2.0 * EARTH * math.asin(math.sqrt(u * u + math.cos(lat1r) * math.cos(lat2r) * v * v))


def load_points(conn, n, seed):
    rnd = random.Random(seed)
    pts = {}
    args = ["GEOADD", "big"]
    for i in range(n):
        lon, lat = rnd.uniform(-10, 10), rnd.uniform(40, 50)
        pts["m%d" % i] = (lon, lat)
        args += [repr(lon), repr(lat), "m%d" % i]
    assert conn.cmd(*args) == n
    return pts


def test_big_index_against_model(c):
    pts = load_points(c, 3000, 1)
    assert c.cmd("OBJECT", "ENCODING", "big") == b"skiplist"
    # the stored positions are the decoded cells: compare membership with a margin for the cell size
    pos = {}
    names = list(pts)
    for i in range(0, len(names), 500):
        for m, p in zip(names[i:i + 500], c.cmd("GEOPOS", "big", *names[i:i + 500])):
            pos[m] = (float(p[0]), float(p[1]))
    rnd = random.Random(2)
    for _ in range(30):
        lon, lat, r = rnd.uniform(-8, 8), rnd.uniform(41, 49), rnd.choice([10, 50, 200, 600])
        got = c.cmd("GEOSEARCH", "big", "FROMLONLAT", repr(lon), repr(lat), "BYRADIUS", str(r), "km", "WITHDIST", "ASC")
        want = sorted((haversine(lon, lat, *pos[m]), m) for m in pos if haversine(lon, lat, *pos[m]) <= r * 1000)
        assert [m.encode() for _, m in want] == [g[0] for g in got]
        dists = [float(g[1]) for g in got]
        assert dists == sorted(dists)


def test_big_index_against_redis(sardine, oracle):
    s, o = Raw(sardine.port), Raw(oracle.port)
    load_points(s, 2000, 3)
    load_points(o, 2000, 3)
    rnd = random.Random(4)
    for _ in range(40):
        lon, lat = rnd.uniform(-12, 12), rnd.uniform(38, 52)
        shape = rnd.choice([["BYRADIUS", str(rnd.choice([1, 30, 200, 900, 3000])), "km"],
                            ["BYBOX", str(rnd.choice([5, 100, 800])), str(rnd.choice([5, 100, 800])), "km"]])
        opts = rnd.choice([[], ["ASC"], ["DESC"], ["COUNT", "7"], ["COUNT", "7", "ANY"], ["DESC", "COUNT", "3"]])
        q = ["GEOSEARCH", "big", "FROMLONLAT", repr(lon), repr(lat)] + shape + opts + ["WITHDIST", "WITHHASH"]
        assert s.cmd(*q) == o.cmd(*q), q
        q = ["GEORADIUSBYMEMBER", "big", "m%d" % rnd.randrange(2000), "50", "km", "STOREDIST", "dst"] + opts
        assert s.cmd(*q) == o.cmd(*q), q
        assert s.cmd("ZRANGE", "dst", "0", "-1", "WITHSCORES") == o.cmd("ZRANGE", "dst", "0", "-1", "WITHSCORES")
    s.close()
    o.close()
