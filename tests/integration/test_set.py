"""Set commands: exact replies and error texts, intset/hashtable encodings and conversions, random members
(properties only: replies are random), set algebra and the STORE forms, SSCAN.

Reply types: simple string -> str, bulk -> bytes, integer -> int, error -> Err; RESP3 sets -> RSet.
Validated against Debian's redis-server 7.0 (SARDINE_SERVER=/usr/bin/redis-server).
"""
import pytest

from sardine_resp import Err, Raw, RSet
from harness import assert_keyspace_ok

SYNTAX = Err("ERR syntax error")
NOT_INT = Err("ERR value is not an integer or out of range")
WRONGTYPE = Err("WRONGTYPE Operation against a key holding the wrong kind of value")
POSITIVE = Err("ERR value is out of range, must be positive")


def wrong_args(cmd):
    return Err(f"ERR wrong number of arguments for '{cmd}' command")


def check(c, steps):
    for args, expected in steps:
        got = c.cmd(*args)
        assert got == expected and type(got) is type(expected), f"{args}: got {got!r}, want {expected!r}"


def enc(c, key):
    return c.cmd("OBJECT", "ENCODING", key)


def members(c, key):
    return sorted(c.cmd("SMEMBERS", key))


def test_basic(c):
    check(c, [
        (("SADD", "s", "b", "a", "b"), 2),
        (("SADD", "s", "a", "c"), 1),
        (("SCARD", "s"), 3),
        (("SCARD", "nope"), 0),
        (("SISMEMBER", "s", "a"), 1),
        (("SISMEMBER", "s", "z"), 0),
        (("SISMEMBER", "nope", "z"), 0),
        (("SMISMEMBER", "s", "a", "z", "c"), [1, 0, 1]),
        (("SMISMEMBER", "nope", "a", "b"), [0, 0]),
        (("SREM", "s", "a", "z", "a"), 1),
        (("SREM", "nope", "a"), 0),
        (("SREM", "s", "b", "c"), 2),
        (("EXISTS", "s"), 0),
        (("SMEMBERS", "nope"), []),
        (("SADD", "s"), wrong_args("sadd")),
        (("SMISMEMBER", "s"), wrong_args("smismember")),
        (("TYPE", "nope"), "none"),
    ])
    c.cmd("SADD", "s", "x")
    assert c.cmd("TYPE", "s") == "set"


def test_intset_order_and_encoding(c):
    c.cmd("SADD", "s", "5", "-3", "100000", "0", "-9223372036854775808", "9223372036854775807", "70000")
    assert enc(c, "s") == b"intset"
    assert c.cmd("SMEMBERS", "s") == [b"-9223372036854775808", b"-3", b"0", b"5", b"70000", b"100000",
                                      b"9223372036854775807"]
    assert c.cmd("SSCAN", "s", "0") == [b"0", c.cmd("SMEMBERS", "s")]
    c.cmd("SADD", "t", "1", "007")  # not canonical: a string
    assert enc(c, "t") == b"hashtable"
    c.cmd("SADD", "u", "-0")
    assert enc(c, "u") == b"hashtable"
    c.cmd("SADD", "v", "9223372036854775808")
    assert enc(c, "v") == b"hashtable"
    c.cmd("SADD", "w", "1", "2")
    c.cmd("SADD", "w", "x")
    assert enc(c, "w") == b"hashtable"
    c.cmd("SREM", "w", "x")
    assert enc(c, "w") == b"hashtable"  # never back
    assert members(c, "w") == [b"1", b"2"]


def test_intset_limit(make_sardine):
    srv = make_sardine("--set-max-intset-entries", "4")
    c = Raw(srv.port)
    c.cmd("SADD", "s", "1", "2", "3", "4")
    assert enc(c, "s") == b"intset"
    c.cmd("SADD", "s", "4")
    assert enc(c, "s") == b"intset"
    c.cmd("SADD", "s", "5")
    assert enc(c, "s") == b"hashtable"
    c.cmd("CONFIG", "SET", "set-max-intset-entries", "0")
    c.cmd("SADD", "z", "1")
    assert enc(c, "z") == b"hashtable"
    c.close()


def test_wrongtype(c):
    c.cmd("SET", "str", "x")
    c.cmd("SADD", "s", "a")
    for args in [("SADD", "str", "a"), ("SREM", "str", "a"), ("SISMEMBER", "str", "a"), ("SMISMEMBER", "str", "a"),
                 ("SCARD", "str"), ("SMEMBERS", "str"), ("SRANDMEMBER", "str"), ("SRANDMEMBER", "str", "2"),
                 ("SPOP", "str"), ("SPOP", "str", "2"), ("SMOVE", "str", "s", "a"), ("SMOVE", "s", "str", "a"),
                 ("SINTER", "s", "str"), ("SINTER", "nope", "str"), ("SINTERCARD", "2", "s", "str"),
                 ("SUNION", "s", "str"), ("SDIFF", "s", "str"), ("SDIFF", "nope", "str"),
                 ("SINTERSTORE", "d", "s", "str"), ("SUNIONSTORE", "d", "str"), ("SDIFFSTORE", "d", "s", "str"),
                 ("SSCAN", "str", "0")]:
        assert c.cmd(*args) == WRONGTYPE, args
    assert c.cmd("SMOVE", "nope", "str", "a") == 0  # a missing source is checked first
    assert c.cmd("EXISTS", "d") == 0
    # the destination of a STORE is overwritten whatever its type
    assert c.cmd("SUNIONSTORE", "str", "s") == 1
    assert c.cmd("TYPE", "str") == "set"


def test_smove(c):
    c.cmd("SADD", "a", "1", "2", "x")
    c.cmd("SADD", "b", "3")
    check(c, [
        (("SMOVE", "a", "b", "1"), 1),
        (("SMOVE", "a", "b", "1"), 0),
        (("SMOVE", "a", "a", "2"), 1),
        (("SMOVE", "a", "a", "9"), 0),
        (("SMOVE", "nope", "b", "1"), 0),
        (("SMOVE", "a", "new", "2"), 1),
        (("SMOVE", "a", "b", "x"), 1),
        (("EXISTS", "a"), 0),
        (("SMOVE", "b", "c", "x"), 1),
    ])
    assert members(c, "b") == [b"1", b"3"] and enc(c, "b") == b"hashtable"
    assert enc(c, "new") == b"intset" and members(c, "new") == [b"2"]
    assert enc(c, "c") == b"hashtable"
    c.cmd("SADD", "d", "1")
    assert c.cmd("SMOVE", "b", "d", "1") == 1  # already there: still moved out of b
    assert members(c, "b") == [b"3"] and members(c, "d") == [b"1"]


def test_set_algebra(c):
    c.cmd("SADD", "a", "1", "2", "3", "4", "x")
    c.cmd("SADD", "b", "2", "3", "y")
    c.cmd("SADD", "i1", "5", "1", "3")
    c.cmd("SADD", "i2", "3", "1", "9")
    assert sorted(c.cmd("SINTER", "a", "b")) == [b"2", b"3"]
    assert c.cmd("SINTER", "i1", "i2") == [b"1", b"3"]  # the smallest is an intset: ascending
    assert c.cmd("SINTER", "a", "nope") == []
    assert c.cmd("SINTER", "a", "a") == c.cmd("SMEMBERS", "a")
    assert sorted(c.cmd("SUNION", "a", "b", "nope")) == sorted([b"1", b"2", b"3", b"4", b"x", b"y"])
    assert c.cmd("SUNION", "i1", "i2") == [b"1", b"3", b"5", b"9"]
    assert sorted(c.cmd("SDIFF", "a", "b")) == [b"1", b"4", b"x"]
    assert c.cmd("SDIFF", "i1", "i2") == [b"5"]
    assert c.cmd("SDIFF", "nope", "a") == []
    assert c.cmd("SDIFF", "a", "a") == []
    assert sorted(c.cmd("SDIFF", "a", "nope")) == sorted(c.cmd("SMEMBERS", "a"))
    check(c, [
        (("SINTERCARD", "2", "a", "b"), 2),
        (("SINTERCARD", "2", "a", "b", "LIMIT", "1"), 1),
        (("SINTERCARD", "2", "a", "b", "LIMIT", "0"), 2),
        (("SINTERCARD", "1", "a", "LIMIT", "3"), 3),
        (("SINTERCARD", "2", "a", "nope"), 0),
        (("SINTERCARD", "0", "a"), Err("ERR numkeys should be greater than 0")),
        (("SINTERCARD", "x", "a"), Err("ERR numkeys should be greater than 0")),
        (("SINTERCARD", "3", "a", "b"), Err("ERR Number of keys can't be greater than number of args")),
        (("SINTERCARD", "1", "a", "LIMIT", "-1"), Err("ERR LIMIT can't be negative")),
        (("SINTERCARD", "1", "a", "LIMIT", "x"), Err("ERR LIMIT can't be negative")),
        (("SINTERCARD", "1", "a", "LIMIT"), SYNTAX),
        (("SINTERCARD", "1", "a", "b"), SYNTAX),
    ])


def test_store_forms(c):
    c.cmd("SADD", "a", "1", "2", "3", "x")
    c.cmd("SADD", "b", "2", "3", "4")
    c.cmd("SET", "d", "old")
    c.cmd("EXPIRE", "d", "100")
    check(c, [
        (("SINTERSTORE", "d", "a", "b"), 2),
        (("TTL", "d"), -1),
        (("SMEMBERS", "d"), [b"2", b"3"]),
        (("OBJECT", "ENCODING", "d"), b"intset"),  # a result of integers is an intset again
        (("SUNIONSTORE", "u", "a", "b"), 5),
        (("OBJECT", "ENCODING", "u"), b"hashtable"),
        (("SDIFFSTORE", "df", "a", "b"), 2),
        (("OBJECT", "ENCODING", "df"), b"hashtable"),
        (("SDIFFSTORE", "df2", "b", "a"), 1),
        (("SMEMBERS", "df2"), [b"4"]),
        (("OBJECT", "ENCODING", "df2"), b"intset"),
        (("SINTERSTORE", "d", "a", "nope"), 0),
        (("EXISTS", "d"), 0),
        (("SDIFFSTORE", "u", "a", "a"), 0),
        (("EXISTS", "u"), 0),
        (("SUNIONSTORE", "n", "nope"), 0),
        (("EXISTS", "n"), 0),
        (("SINTERSTORE", "a", "a", "b"), 2),  # destination is also a source
        (("SMEMBERS", "a"), [b"2", b"3"]),
        (("SINTERSTORE", "d"), wrong_args("sinterstore")),
    ])
    assert_keyspace_ok(c)


def test_srandmember(c):
    c.cmd("SADD", "s", *[str(i) for i in range(20)])
    c.cmd("SADD", "h", *[f"m{i}" for i in range(300)])
    check(c, [
        (("SRANDMEMBER", "nope"), None),
        (("SRANDMEMBER", "nope", "3"), []),
        (("SRANDMEMBER", "s", "0"), []),
        (("SRANDMEMBER", "s", "x"), NOT_INT),
        (("SRANDMEMBER", "s", "1", "2"), SYNTAX),
        (("SRANDMEMBER", "s", "x", "2"), SYNTAX),
        (("SRANDMEMBER", "s", "-9223372036854775808"),
         Err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")),
        (("SRANDMEMBER", "s", "20"), [str(i).encode() for i in range(20)]),  # whole intset, ascending
        (("SRANDMEMBER", "s", "100"), [str(i).encode() for i in range(20)]),
    ])
    for key, universe in [("s", {str(i).encode() for i in range(20)}), ("h", {f"m{i}".encode() for i in range(300)})]:
        assert c.cmd("SRANDMEMBER", key) in universe
        for count in [1, 2, 5, len(universe) // 3, len(universe) // 2, len(universe) - 1]:
            got = c.cmd("SRANDMEMBER", key, str(count))
            assert len(got) == count and len(set(got)) == count and set(got) <= universe
        got = c.cmd("SRANDMEMBER", key, "-1000")
        assert len(got) == 1000 and set(got) <= universe and len(set(got)) > len(universe) // 2
        assert sorted(c.cmd("SRANDMEMBER", key, str(len(universe)))) == sorted(universe)
    assert c.cmd("SCARD", "s") == 20


@pytest.mark.parametrize("n,count", [(20, 1), (20, 3), (20, 17), (20, 19), (600, 10), (600, 590), (600, 599)])
def test_spop_count(c, n, count):
    universe = {f"m{i}".encode() for i in range(n)} if n > 100 else {str(i).encode() for i in range(n)}
    c.cmd("SADD", "s", *universe)
    got = c.cmd("SPOP", "s", str(count))
    assert len(got) == count and len(set(got)) == count and set(got) <= universe
    rest = set(c.cmd("SMEMBERS", "s"))
    assert rest | set(got) == universe and not (rest & set(got))
    assert c.cmd("SCARD", "s") == n - count


def test_spop_edges_and_encoding(c):
    check(c, [
        (("SPOP", "nope"), None),
        (("SPOP", "nope", "3"), []),
        (("SPOP", "nope", "-1"), POSITIVE),
        (("SPOP", "nope", "x"), POSITIVE),
        (("SPOP", "nope", "1", "2"), SYNTAX),
    ])
    c.cmd("SADD", "s", "1", "2", "3")
    assert c.cmd("SPOP", "s", "0") == []
    assert c.cmd("SPOP", "s", "-1") == POSITIVE
    assert c.cmd("SPOP", "s", "3") == [b"1", b"2", b"3"]
    assert c.cmd("EXISTS", "s") == 0
    c.cmd("SADD", "s", "1")
    assert c.cmd("SPOP", "s") == b"1"
    assert c.cmd("EXISTS", "s") == 0
    # a hashtable of integers keeping only a few members becomes an intset again (Redis rebuilds it)
    c.cmd("SADD", "h", *[str(i) for i in range(600)])
    assert enc(c, "h") == b"hashtable"
    c.cmd("SPOP", "h", "100")
    assert enc(c, "h") == b"hashtable"
    c.cmd("SPOP", "h", "490")
    assert enc(c, "h") == b"intset" and c.cmd("SCARD", "h") == 10
    # popping a whole small hashtable of integers replies them sorted (a rebuilt copy)
    c.cmd("SADD", "w", "5", "3", "x")
    c.cmd("SREM", "w", "x")
    assert c.cmd("SPOP", "w", "5") == [b"3", b"5"]


def test_resp3_set_replies(sardine):
    c = Raw(sardine.port)
    c.cmd("HELLO", "3")
    c.cmd("SADD", "s", "1", "2")
    for args in [("SMEMBERS", "s"), ("SINTER", "s"), ("SUNION", "s"), ("SDIFF", "s"), ("SMEMBERS", "nope"),
                 ("SPOP", "nope", "2"), ("SPOP", "s", "0")]:
        assert isinstance(c.cmd(*args), RSet), args
    assert type(c.cmd("SRANDMEMBER", "s", "5")) is list
    assert type(c.cmd("SMISMEMBER", "s", "1")) is list
    assert isinstance(c.cmd("SPOP", "s", "1"), RSet)
    c.close()


def test_sscan(c):
    check(c, [
        (("SSCAN", "nope", "0"), [b"0", []]),
        (("SSCAN", "nope", "0", "BAD"), [b"0", []]),
        (("SSCAN", "nope", "x"), Err("ERR invalid cursor")),
    ])
    c.cmd("SADD", "s", "a1", "a2", "b1")
    assert sorted(c.cmd("SSCAN", "s", "0", "MATCH", "a*")[1]) == [b"a1", b"a2"]
    check(c, [
        (("SSCAN", "s", "0", "COUNT", "0"), SYNTAX),
        (("SSCAN", "s", "0", "COUNT", "x"), NOT_INT),
        (("SSCAN", "s", "0", "MATCH"), SYNTAX),
        (("SSCAN", "s", "-1", "FOO", "1"), SYNTAX),
    ])
    c.cmd("SADD", "i", "3", "1", "20", "12")
    assert c.cmd("SSCAN", "i", "77", "COUNT", "1", "MATCH", "1*") == [b"0", [b"1", b"12"]]
    n = 900
    c.cmd("SADD", "big", *[f"m{i}" for i in range(n)])
    seen, cursor, calls = set(), b"0", 0
    while True:
        cursor, items = c.cmd("SSCAN", "big", cursor, "COUNT", "25")
        seen.update(items)
        calls += 1
        if cursor == b"0":
            break
    assert calls > 5 and seen == {f"m{i}".encode() for i in range(n)}


def test_big_set_operations_and_del(c):
    n = 30000
    for start in range(0, n, 1000):
        c.cmd("SADD", "big", *[f"member:{i}" for i in range(start, start + 1000)])
    assert c.cmd("SCARD", "big") == n
    assert c.cmd("SISMEMBER", "big", "member:777") == 1
    c.cmd("SADD", "small", "member:1", "member:2", "zzz")
    assert sorted(c.cmd("SINTER", "big", "small")) == [b"member:1", b"member:2"]
    assert c.cmd("SINTERCARD", "2", "small", "big") == 2
    assert c.cmd("SDIFFSTORE", "d", "small", "big") == 1
    assert c.cmd("COPY", "big", "big2") == 1
    assert c.cmd("SREM", "big", *[f"member:{i}" for i in range(0, n, 2)]) == n // 2
    assert c.cmd("SCARD", "big") == n // 2 and c.cmd("SCARD", "big2") == n
    assert_keyspace_ok(c)
    assert c.cmd("DEL", "big", "big2") == 2
    assert c.cmd("PING") == "PONG"
    assert c.cmd("EXISTS", "big") == 0
