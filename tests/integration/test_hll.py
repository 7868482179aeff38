"""HyperLogLog commands: PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST. Exact replies and error texts, Redis's
byte format (the same bytes as redis-server for the same additions, checked with GET on both; bytes written by
Redis work here), the cached cardinality, sparse -> dense conversion at hll-sparse-max-bytes, corrupt values,
WATCH, and the estimate's accuracy on a million distinct elements.

Reply types: simple string -> str, bulk -> bytes, integer -> int, error -> Err, null -> None.
Validated against Debian's redis-server 7.0 (SARDINE_SERVER=/usr/bin/redis-server).
"""
import random

import pytest

from sardine_resp import Err, Raw

WRONGTYPE = Err("WRONGTYPE Operation against a key holding the wrong kind of value")
NOT_HLL = Err("WRONGTYPE Key is not a valid HyperLogLog string value.")
CORRUPT = Err("INVALIDOBJ Corrupted HLL object detected")
EMPTY = b"HYLL\x01\x00\x00\x00" + b"\x00" * 8 + b"\x7f\xff"
DENSE_SIZE = 16 + 12288


def wrong_args(cmd):
    return Err(f"ERR wrong number of arguments for '{cmd}' command")


def check(c, steps):
    for args, expected in steps:
        got = c.cmd(*args)
        assert got == expected and type(got) is type(expected), f"{args}: got {got!r}, want {expected!r}"


def enc(c, key):
    return c.cmd("OBJECT", "ENCODING", key)


def pfadd_many(c, key, items, batch=10000):
    for i in range(0, len(items), batch):
        c.cmd("PFADD", key, *items[i:i + batch])


def test_basic(c):
    check(c, [
        (("PFADD", "h", "a", "b", "c"), 1),
        (("PFADD", "h", "a", "b"), 0),
        (("PFCOUNT", "h"), 3),
        (("PFADD", "h", "d"), 1),
        (("PFCOUNT", "h"), 4),
        (("PFCOUNT", "nope"), 0),
        (("PFADD", "e"), 1),             # creates an empty HLL
        (("PFADD", "e"), 0),
        (("GET", "e"), EMPTY[:15] + b"\x80" + EMPTY[16:]),   # the cache is marked stale by PFADD
        (("PFCOUNT", "e"), 0),
        (("GET", "e"), EMPTY),
        (("TYPE", "h"), "string"),
        (("PFADD",), wrong_args("pfadd")),
        (("PFCOUNT",), wrong_args("pfcount")),
        (("PFMERGE",), wrong_args("pfmerge")),
    ])
    assert enc(c, "h") == b"raw"


def test_cached_cardinality(c):
    c.cmd("PFADD", "h", *[f"x{i}" for i in range(100)])
    raw = c.cmd("GET", "h")
    assert raw[15] & 0x80                       # stale after PFADD
    n = c.cmd("PFCOUNT", "h")
    raw = c.cmd("GET", "h")
    assert int.from_bytes(raw[8:16], "little") == n  # PFCOUNT stores it
    # a PFADD that changes nothing keeps the cache; one that changes a register marks it stale
    assert c.cmd("PFADD", "h", "x1") == 0
    assert c.cmd("GET", "h")[8:16] == raw[8:16]
    assert c.cmd("PFADD", "h", "new-one") == 1
    stale = c.cmd("GET", "h")
    assert stale[15] & 0x80 and stale[8:15] == raw[8:15]  # only the top bit changes
    # a forged cached value is believed, as in Redis
    forged = raw[:8] + (12345).to_bytes(8, "little") + raw[16:]
    c.cmd("SET", "f", forged)
    assert c.cmd("PFCOUNT", "f") == 12345


def test_not_hll(c):
    c.cmd("LPUSH", "l", "a")
    c.cmd("SET", "s", "hello")
    c.cmd("SET", "i", "12345")
    c.cmd("SET", "short", "HYLL")
    c.cmd("SET", "enc2", b"HYLL\x02" + b"\x00" * 11 + b"\x7f\xff")
    c.cmd("SET", "baddense", b"HYLL\x00" + b"\x00" * 20)
    c.cmd("SET", "magic", b"HYLA\x01" + b"\x00" * 11 + b"\x7f\xff")
    for k in ("s", "i", "short", "enc2", "baddense", "magic"):
        check(c, [
            (("PFADD", k, "a"), NOT_HLL),
            (("PFCOUNT", k), NOT_HLL),
            (("PFCOUNT", k, "nope"), NOT_HLL),
            (("PFMERGE", "d", k), NOT_HLL),
            (("PFMERGE", k, "nope"), NOT_HLL),
            (("PFDEBUG", "GETREG", k), NOT_HLL),
        ])
    check(c, [
        (("PFADD", "l", "a"), WRONGTYPE),
        (("PFCOUNT", "l"), WRONGTYPE),
        (("PFCOUNT", "nope", "l"), WRONGTYPE),
        (("PFMERGE", "d", "l"), WRONGTYPE),
        (("EXISTS", "d"), 0),
        (("GET", "s"), b"hello"),
    ])


def test_corrupt(c):
    c.cmd("PFADD", "h", *[f"e{i}" for i in range(40)])
    good = c.cmd("GET", "h")
    c.cmd("SET", "cut", good[:-1])             # registers no longer add up to 16384
    c.cmd("SET", "long", good + b"\x80")       # one register too many
    for k in ("cut", "long"):
        check(c, [
            (("PFCOUNT", k), CORRUPT),
            (("PFCOUNT", k, "h"), CORRUPT),
            (("PFMERGE", "d", k), CORRUPT),
            (("PFDEBUG", "TODENSE", k), CORRUPT),
        ])
    assert c.cmd("PFADD", "cut", *[f"z{i}" for i in range(2000)]) == CORRUPT


@pytest.mark.parametrize("tail,cut,pfadd", [
    (b"\x80", 0, 1),          # one VAL register too many
    (b"\x00", 0, 1),          # one ZERO register too many
    (b"\x40\x00", 0, 1),      # an XZERO too many
    (b"\x40", 0, 1),          # a lone XZERO byte at the end
    (b"", 1, 1),              # the last opcode cut
])
def test_corrupt_variants(c, tail, cut, pfadd):
    c.cmd("PFADD", "h", *[f"e{i}" for i in range(40)])
    good = c.cmd("GET", "h")
    bad = good[:len(good) - cut] + tail
    c.cmd("SET", "x", bad)
    check(c, [
        (("PFCOUNT", "x", "h"), CORRUPT),
        (("PFMERGE", "d", "x"), CORRUPT),
        (("PFCOUNT", "x"), CORRUPT),
        (("PFDEBUG", "TODENSE", "x"), CORRUPT),
        (("SET", "x", bad), "OK"),
        (("PFADD", "x", "zzz", "yyy"), pfadd),   # PFADD only reads up to the register it updates
    ])
    c.cmd("SET", "x", good[:16])               # a header with no opcodes at all
    check(c, [(("PFADD", "x", "a"), CORRUPT), (("PFCOUNT", "x"), CORRUPT)])


def test_pfmerge(c):
    c.cmd("PFADD", "a", *[f"a{i}" for i in range(50)])
    c.cmd("PFADD", "b", *[f"b{i}" for i in range(50)])
    c.cmd("PFADD", "big", *[f"c{i}" for i in range(5000)])
    check(c, [
        (("PFMERGE", "d", "a", "b"), "OK"),
        (("PFCOUNT", "d"), c.cmd("PFCOUNT", "a", "b")),
        (("PFDEBUG", "ENCODING", "d"), "sparse"),
        (("PFMERGE", "d", "big"), "OK"),          # a dense source makes the destination dense
        (("PFDEBUG", "ENCODING", "d"), "dense"),
        (("PFCOUNT", "d"), c.cmd("PFCOUNT", "a", "b", "big")),
        (("PFMERGE", "e"), "OK"),                 # no sources: an empty HLL
        (("GET", "e"), EMPTY[:15] + b"\x80" + EMPTY[16:]),
        (("PFMERGE", "f", "nope1", "nope2"), "OK"),
        (("PFCOUNT", "f"), 0),
        (("PFMERGE", "a", "b"), "OK"),            # the destination is also a source
        (("PFCOUNT", "a"), c.cmd("PFCOUNT", "b", "a")),
    ])
    assert enc(c, "d") == b"raw"


def test_pfcount_multi(c):
    c.cmd("PFADD", "a", "1", "2", "3")
    c.cmd("PFADD", "b", "3", "4")
    before = c.cmd("GET", "a")
    check(c, [
        (("PFCOUNT", "a", "b"), 4),
        (("PFCOUNT", "a", "b", "nope"), 4),
        (("PFCOUNT", "nope", "nope2"), 0),
        (("GET", "a"), before),                   # the union count writes nothing
    ])


def test_pfdebug(c):
    c.cmd("PFADD", "h", "a", "b")
    dec = c.cmd("PFDEBUG", "DECODE", "h")
    assert isinstance(dec, bytes) and dec.startswith((b"Z:", b"z:", b"v:")) and not dec.endswith(b" ")
    check(c, [
        (("PFDEBUG", "ENCODING", "h"), "sparse"),
        (("PFDEBUG", "encoding", "h"), "sparse"),
        (("PFDEBUG", "FOO", "h"), Err("ERR Unknown PFDEBUG subcommand 'FOO'")),
        (("PFDEBUG", "GETREG", "nope"), Err("ERR The specified key does not exist")),
        (("PFDEBUG", "GETREG"), wrong_args("pfdebug")),
        (("PFDEBUG", "GETREG", "h", "x"), wrong_args("pfdebug")),
    ])
    regs = c.cmd("PFDEBUG", "GETREG", "h")      # converts to dense
    assert len(regs) == 16384 and sum(1 for r in regs if r) == 2
    check(c, [
        (("PFDEBUG", "ENCODING", "h"), "dense"),
        (("PFDEBUG", "DECODE", "h"), Err("ERR HLL encoding is not sparse")),
        (("PFDEBUG", "TODENSE", "h"), 0),
        (("PFADD", "g", "x"), 1),
        (("PFDEBUG", "TODENSE", "g"), 1),
        (("STRLEN", "g"), DENSE_SIZE),
        (("PFCOUNT", "g"), 1),
        (("PFSELFTEST",), "OK"),
        (("PFSELFTEST", "x"), wrong_args("pfselftest")),
    ])


def test_encodings_and_ttl(c):
    c.cmd("SET", "h", EMPTY)                    # 18 bytes: an embstr until an HLL command writes it
    assert enc(c, "h") == b"embstr"
    assert c.cmd("PFCOUNT", "h", "h") == 0
    assert enc(c, "h") == b"embstr"             # the union count only reads
    assert c.cmd("PFCOUNT", "h") == 0
    assert enc(c, "h") == b"raw"                # PFCOUNT of one key unshares, as in Redis
    c.cmd("SET", "h2", EMPTY)
    assert c.cmd("PFADD", "h2") == 0
    assert enc(c, "h2") == b"raw"
    c.cmd("PFADD", "t", "a")
    c.cmd("EXPIRE", "t", "1000")
    c.cmd("PFADD", "t", *[f"v{i}" for i in range(3000)])   # through the dense conversion
    assert 0 < c.cmd("TTL", "t") <= 1000


def test_sparse_max_bytes(c):
    assert c.cmd("CONFIG", "SET", "hll-sparse-max-bytes", "50") == "OK"
    c.cmd("PFADD", "h", "a", "b", "c")
    assert c.cmd("PFDEBUG", "ENCODING", "h") == "sparse"
    n = 3
    while c.cmd("PFDEBUG", "ENCODING", "h") == "sparse":
        assert c.cmd("STRLEN", "h") <= 50
        c.cmd("PFADD", "h", f"more{n}")
        n += 1
    assert c.cmd("STRLEN", "h") == DENSE_SIZE and n < 40
    assert c.cmd("CONFIG", "SET", "hll-sparse-max-bytes", "0") == "OK"
    c.cmd("PFADD", "z", "a")                    # the first register written converts at once
    assert c.cmd("PFDEBUG", "ENCODING", "z") == "dense"


def test_watch(sardine, c):
    other = Raw(sardine.port)
    try:
        c.cmd("PFADD", "h", "a", "b")

        def touched(*cmd):
            assert c.cmd("WATCH", "h") == "OK"
            other.cmd(*cmd)
            assert c.cmd("MULTI") == "OK"
            assert c.cmd("PING") == "QUEUED"
            return c.cmd("EXEC") is None

        assert touched("PFCOUNT", "h")          # writes the cached cardinality
        assert not touched("PFCOUNT", "h")      # cache valid: nothing written
        assert not touched("PFADD", "h", "a")   # no register changed
        assert touched("PFADD", "h", "zzz")
        assert not touched("PFCOUNT", "h", "nope")
        assert touched("PFMERGE", "h", "nope")  # always rewrites the destination
    finally:
        other.close()


def test_same_bytes_as_redis(sardine, oracle):
    """The same PFADD/PFMERGE/PFCOUNT sequence gives the same bytes on both servers, through the sparse
    forms, the conversion to dense and the dense form; and HLLs written by Redis are used as they are."""
    s, o = Raw(sardine.port), Raw(oracle.port)
    try:
        rnd = random.Random(1)
        for conn in (s, o):
            conn.cmd("CONFIG", "SET", "hll-sparse-max-bytes", "3000")
        added = 0
        while added < 6000:
            n = rnd.choice([1, 1, 2, 5, 20, 100])
            items = [f"el:{rnd.randrange(10 ** 9)}" for _ in range(n)]
            added += n
            assert s.cmd("PFADD", "h", *items) == o.cmd("PFADD", "h", *items)
            if rnd.random() < 0.2:
                assert s.cmd("PFCOUNT", "h") == o.cmd("PFCOUNT", "h")
            assert s.cmd("GET", "h") == o.cmd("GET", "h"), f"after {added} elements"
        # HLLs made by Redis (sparse and dense) work here and keep evolving identically
        for n in (30, 500, 4000):
            o.cmd("DEL", "r")
            pfadd_many(o, "r", [f"r{n}:{i}" for i in range(n)])
            s.cmd("SET", "r", o.cmd("GET", "r"))
            assert s.cmd("PFCOUNT", "r") == o.cmd("PFCOUNT", "r")
            more = [f"m{i}" for i in range(300)]
            assert s.cmd("PFADD", "r", *more) == o.cmd("PFADD", "r", *more)
            assert s.cmd("PFMERGE", "m", "r", "h") == o.cmd("PFMERGE", "m", "r", "h") == "OK"
            assert s.cmd("PFCOUNT", "m") == o.cmd("PFCOUNT", "m")
            assert s.cmd("GET", "r") == o.cmd("GET", "r")
            assert s.cmd("GET", "m") == o.cmd("GET", "m")
        # merging sparse sources into a fresh destination
        for conn in (s, o):
            conn.cmd("PFADD", "p1", "a", "b", "c")
            conn.cmd("PFADD", "p2", "c", "d", *[f"q{i}" for i in range(60)])
            conn.cmd("PFMERGE", "p3", "p1", "p2")
        assert s.cmd("GET", "p3") == o.cmd("GET", "p3")
        assert s.cmd("PFCOUNT", "p1", "p2", "r") == o.cmd("PFCOUNT", "p1", "p2", "r")
    finally:
        s.close()
        o.close()


def test_counts_match_redis(sardine, oracle):
    s, o = Raw(sardine.port), Raw(oracle.port)
    try:
        items = [f"user:{i}" for i in range(200000)]
        checkpoints = {10, 100, 1000, 2500, 10000, 50000, 200000}
        done = 0
        for cp in sorted(checkpoints):
            pfadd_many(s, "h", items[done:cp])
            pfadd_many(o, "h", items[done:cp])
            done = cp
            assert s.cmd("PFCOUNT", "h") == o.cmd("PFCOUNT", "h")
        assert s.cmd("GET", "h") == o.cmd("GET", "h")
    finally:
        s.close()
        o.close()


def test_accuracy_one_million(c):
    n = 1000000
    pfadd_many(c, "h", [f"item:{i}" for i in range(n)], batch=20000)
    got = c.cmd("PFCOUNT", "h")
    assert abs(got - n) / n < 0.02, got
    # the union of two halves estimates the same set
    pfadd_many(c, "a", [f"item:{i}" for i in range(0, n, 2)], batch=20000)
    pfadd_many(c, "b", [f"item:{i}" for i in range(1, n, 2)], batch=20000)
    assert c.cmd("PFCOUNT", "a", "b") == got
    assert c.cmd("PFMERGE", "ab", "a", "b") == "OK"
    assert c.cmd("PFCOUNT", "ab") == got


@pytest.mark.parametrize("n", [1, 10, 100, 1000, 10000])
def test_accuracy_small(c, n):
    pfadd_many(c, "h", [f"s{n}:{i}" for i in range(n)])
    got = c.cmd("PFCOUNT", "h")
    assert abs(got - n) <= max(1, n * 0.03), got


def test_command_info(c):
    """Arity, flags, key positions and ACL categories (a set: compared sorted)."""
    info = c.cmd("COMMAND", "INFO", "pfadd", "pfcount", "pfmerge", "pfdebug", "pfselftest")
    got = {i[0]: (i[1], sorted(i[2]), i[3], i[4], i[5], sorted(i[6])) for i in info}
    assert got == {
        b"pfadd": (-2, ["denyoom", "fast", "write"], 1, 1, 1, ["@fast", "@hyperloglog", "@write"]),
        b"pfcount": (-2, ["readonly"], 1, -1, 1, ["@hyperloglog", "@read", "@slow"]),
        b"pfmerge": (-2, ["denyoom", "write"], 1, -1, 1, ["@hyperloglog", "@slow", "@write"]),
        b"pfdebug": (3, ["admin", "denyoom", "write"], 2, 2, 1,
                     ["@admin", "@dangerous", "@hyperloglog", "@slow", "@write"]),
        b"pfselftest": (1, ["admin"], 0, 0, 0, ["@admin", "@dangerous", "@hyperloglog", "@slow"]),
    }
