"""Sorted set commands: exact replies and error texts (raw RESP2 connection `c`, RESP3 where the
shapes differ), both encodings and the conversions between them, big sets against a Python model,
ZSCAN's guarantee, set algebra with weights/aggregates and plain sets as inputs, and the blocking
commands (BZPOPMIN, BZPOPMAX, BZMPOP): serving, waking, FIFO, timeouts, MULTI.

Validated against Debian's redis-server 7.0.15 (SARDINE_SERVER=/usr/bin/redis-server).
"""
import math
import random
import time

import pytest

from sardine_resp import Double, Err, Raw, encode
from harness import assert_keyspace_ok

SYNTAX = Err("ERR syntax error")
NOT_INT = Err("ERR value is not an integer or out of range")
NOT_FLOAT = Err("ERR value is not a valid float")
NAN = Err("ERR resulting score is not a number (NaN)")
RANGE_FLOAT = Err("ERR min or max is not a float")
RANGE_LEX = Err("ERR min or max not valid string range item")
WRONGTYPE = Err("WRONGTYPE Operation against a key holding the wrong kind of value")
POSITIVE = Err("ERR value is out of range, must be positive")
XX_NX = Err("ERR XX and NX options at the same time are not compatible")
GT_LT_NX = Err("ERR GT, LT, and/or NX options at the same time are not compatible")
INCR_ONE = Err("ERR INCR option supports a single increment-element pair")
TIMEOUT_FLOAT = Err("ERR timeout is not a float or out of range")
TIMEOUT_NEG = Err("ERR timeout is negative")


def wrong_args(cmd):
    return Err(f"ERR wrong number of arguments for '{cmd}' command")


def check(c, steps):
    for args, expected in steps:
        got = c.cmd(*args)
        assert got == expected and type(got) is type(expected), f"{args}: got {got!r}, want {expected!r}"


def flat(pairs):
    out = []
    for m, s in pairs:
        out += [m if isinstance(m, bytes) else m.encode(), s if isinstance(s, bytes) else s.encode()]
    return out


def enc(c, key):
    return c.cmd("OBJECT", "ENCODING", key).decode()


# ---------------------------------------------------------------------------------------------
# ZADD / ZINCRBY
# ---------------------------------------------------------------------------------------------

def test_zadd_basic(c):
    check(c, [
        (("ZADD", "z", "1", "a", "2", "b", "3", "c"), 3),
        (("ZADD", "z", "1", "a", "5", "b"), 0),
        (("ZRANGE", "z", "0", "-1", "WITHSCORES"), flat([("a", "1"), ("c", "3"), ("b", "5")])),
        (("ZCARD", "z"), 3),
        (("ZCARD", "nokey"), 0),
        (("ZADD", "z", "1", "a", "1", "a", "2", "a"), 0),
        (("ZSCORE", "z", "a"), b"2"),
        (("ZADD", "z"), wrong_args("zadd")),
        (("ZADD", "z", "1"), wrong_args("zadd")),
        (("ZADD", "z", "1", "a", "2"), SYNTAX),
        (("ZADD", "z", "nx", "1"), SYNTAX),
        (("ZADD", "z", "x", "a"), NOT_FLOAT),
        (("ZADD", "z", "1", "a", "nan", "b"), NOT_FLOAT),
        (("ZCARD", "z"), 3),
    ])


def test_zadd_options(c):
    c.cmd("ZADD", "z", "10", "a", "20", "b")
    check(c, [
        (("ZADD", "z", "NX", "XX", "1", "a"), XX_NX),
        (("ZADD", "z", "GT", "LT", "1", "a"), GT_LT_NX),
        (("ZADD", "z", "GT", "NX", "1", "a"), GT_LT_NX),
        (("ZADD", "z", "LT", "nx", "1", "a"), GT_LT_NX),
        (("ZADD", "z", "INCR", "1", "a", "2", "b"), INCR_ONE),
        (("ZADD", "z", "NX", "1", "a", "30", "c"), 1),
        (("ZSCORE", "z", "a"), b"10"),
        (("ZADD", "z", "XX", "11", "a", "40", "d"), 0),
        (("ZSCORE", "z", "a"), b"11"),
        (("ZSCORE", "z", "d"), None),
        (("ZADD", "z", "CH", "12", "a", "20", "b", "50", "e"), 2),
        (("ZADD", "z", "GT", "CH", "5", "a", "25", "b"), 1),
        (("ZMSCORE", "z", "a", "b"), [b"12", b"25"]),
        (("ZADD", "z", "LT", "CH", "5", "a", "30", "b", "1", "f"), 2),
        (("ZMSCORE", "z", "a", "b", "f"), [b"5", b"25", b"1"]),
        (("ZADD", "z", "XX", "GT", "CH", "100", "a", "100", "nope"), 1),
        (("ZADD", "z", "INCR", "2.5", "a"), b"102.5"),
        (("ZADD", "z", "INCR", "NX", "1", "a"), None),
        (("ZADD", "z", "INCR", "XX", "1", "nope"), None),
        (("ZADD", "z", "INCR", "GT", "-1", "a"), None),
        (("ZADD", "z", "INCR", "LT", "-1", "a"), b"101.5"),
        (("ZADD", "nokey", "XX", "1", "a"), 0),
        (("ZADD", "nokey", "XX", "INCR", "1", "a"), None),
        (("EXISTS", "nokey"), 0),
        (("ZADD", "z", "nx", "xx"), SYNTAX),
    ])


def test_zincrby(c):
    check(c, [
        (("ZINCRBY", "z", "1.5", "a"), b"1.5"),
        (("ZINCRBY", "z", "-3", "a"), b"-1.5"),
        (("ZINCRBY", "z", "x", "a"), NOT_FLOAT),
        (("ZINCRBY", "z", "nan", "a"), NOT_FLOAT),
        (("ZINCRBY", "z", "incr", "a"), SYNTAX),  # option words are parsed, as in Redis
        (("ZINCRBY", "z", "+inf", "b"), b"inf"),
        (("ZINCRBY", "z", "-inf", "b"), NAN),
        (("ZADD", "z", "INCR", "-inf", "b"), NAN),
        (("ZSCORE", "z", "b"), b"inf"),
        (("ZINCRBY", "z", "1"), wrong_args("zincrby")),
    ])


def test_score_parsing_and_formatting(c):
    check(c, [
        (("ZADD", "z", "1.1", "a", "1e20", "b", "-0", "c", "0x10", "d", "-inf", "e", "+INF", "f", "1e-5", "g"), 7),
        (("ZRANGE", "z", "0", "-1", "WITHSCORES"), flat([
            ("e", "-inf"), ("c", "0"), ("g", "1.0000000000000001e-05"), ("a", "1.1000000000000001"),
            ("d", "16"), ("b", "1e+20"), ("f", "inf")])),
        (("ZADD", "z", " 1", "x"), NOT_FLOAT),
        (("ZADD", "z", "1 ", "x"), NOT_FLOAT),
        (("ZADD", "z", "", "x"), NOT_FLOAT),
        (("ZADD", "z", "1e400", "x"), NOT_FLOAT),
        (("ZADD", "z", "1e-400", "x"), NOT_FLOAT),
        (("ZADD", "z", "(1", "x"), NOT_FLOAT),
    ])


def test_negative_zero_per_encoding(c):
    # a listpack stores integral scores as integers (-0 becomes 0); the skiplist keeps -0
    c.cmd("ZADD", "lp", "-0", "a", "1e18", "b", "2.5", "c")
    assert enc(c, "lp") == "listpack"
    assert c.cmd("ZSCORE", "lp", "a") == b"0"
    assert c.cmd("ZSCAN", "lp", "0") == [b"0", flat([("a", "0"), ("c", "2.5"), ("b", "1000000000000000000")])]
    c.cmd("CONFIG", "SET", "zset-max-listpack-entries", "0")
    c.cmd("ZADD", "sk", "-0", "a", "1e18", "b")
    assert enc(c, "sk") == "skiplist"
    assert c.cmd("ZSCORE", "sk", "a") == b"-0"
    assert c.cmd("ZRANGE", "sk", "0", "-1", "WITHSCORES") == flat([("a", "-0"), ("b", "1e+18")])
    assert sorted(zip(*[iter(c.cmd("ZSCAN", "sk", "0")[1])] * 2)) == [(b"a", b"-0"), (b"b", b"1e+18")]
    c.cmd("CONFIG", "SET", "zset-max-listpack-entries", "128")


def test_member_forms(c):
    # integer-looking members keep their exact text; empty and binary members work
    members = ["123", "-5", "0123", "9223372036854775807", "9223372036854775808", "", "a\x00b", "-0"]
    for i, m in enumerate(members):
        assert c.cmd("ZADD", "z", str(i), m) == 1
    assert c.cmd("ZRANGE", "z", "0", "-1") == [m.encode() for m in members]
    for i, m in enumerate(members):
        assert c.cmd("ZSCORE", "z", m) == str(i).encode()
        assert c.cmd("ZRANK", "z", m) == i
    assert c.cmd("ZSCORE", "z", "5") is None
    assert c.cmd("ZREM", "z", "123", "0123", "") == 3


def test_wrongtype(c):
    c.cmd("SET", "s", "x")
    for args in (("ZADD", "s", "1", "a"), ("ZINCRBY", "s", "1", "a"), ("ZREM", "s", "a"), ("ZCARD", "s"),
                 ("ZSCORE", "s", "a"), ("ZMSCORE", "s", "a"), ("ZRANK", "s", "a"), ("ZCOUNT", "s", "0", "1"),
                 ("ZLEXCOUNT", "s", "-", "+"), ("ZRANGE", "s", "0", "1"), ("ZRANGESTORE", "d", "s", "0", "1"),
                 ("ZREMRANGEBYRANK", "s", "0", "1"), ("ZPOPMIN", "s"), ("ZMPOP", "1", "s", "MIN"),
                 ("ZRANDMEMBER", "s"), ("ZUNION", "1", "s"), ("ZSCAN", "s", "0"), ("BZPOPMIN", "s", "0"),
                 ("BZMPOP", "0", "1", "s", "MAX")):
        assert c.cmd(*args) == WRONGTYPE, args
    # the option and score errors come first
    assert c.cmd("ZADD", "s", "x", "a") == NOT_FLOAT
    assert c.cmd("ZCOUNT", "s", "x", "1") == RANGE_FLOAT
    assert c.cmd("ZRANGE", "s", "0", "1", "FOO") == SYNTAX
    assert c.cmd("GET", "s") == b"x"


# ---------------------------------------------------------------------------------------------
# reads
# ---------------------------------------------------------------------------------------------

def test_rank_score_mscore(c):
    c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c")
    check(c, [
        (("ZRANK", "z", "a"), 0), (("ZRANK", "z", "c"), 2), (("ZREVRANK", "z", "a"), 2),
        (("ZRANK", "z", "x"), None), (("ZRANK", "nokey", "a"), None),
        (("ZRANK", "z", "a", "withscore"), wrong_args("zrank")),
        (("ZMSCORE", "z", "a", "x", "c"), [b"1", None, b"3"]),
        (("ZMSCORE", "nokey", "a", "b"), [None, None]),
        (("ZMSCORE", "z"), wrong_args("zmscore")),
        (("ZSCORE", "nokey", "a"), None),
    ])


def test_zrange_by_rank(c):
    c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d")
    check(c, [
        (("ZRANGE", "z", "0", "-1"), [b"a", b"b", b"c", b"d"]),
        (("ZRANGE", "z", "1", "2", "WITHSCORES"), flat([("b", "2"), ("c", "3")])),
        (("ZRANGE", "z", "-2", "100"), [b"c", b"d"]),
        (("ZRANGE", "z", "-100", "0"), [b"a"]),
        (("ZRANGE", "z", "3", "1"), []),
        (("ZRANGE", "z", "4", "10"), []),
        (("ZRANGE", "z", "0", "1", "REV"), [b"d", b"c"]),
        (("ZREVRANGE", "z", "0", "1", "WITHSCORES"), flat([("d", "4"), ("c", "3")])),
        (("ZRANGE", "z", "a", "1"), NOT_INT),
        (("ZRANGE", "z", "0", "1", "LIMIT", "0", "1"),
         Err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")),
        (("ZREVRANGE", "z", "0", "1", "REV"), SYNTAX),
        (("ZRANGE", "nokey", "0", "-1"), []),
        (("ZRANGE", "z", "0"), wrong_args("zrange")),
    ])


def test_zrange_by_score(c):
    c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "-inf", "m", "inf", "p")
    check(c, [
        (("ZRANGE", "z", "(1", "3", "BYSCORE"), [b"b", b"c"]),
        (("ZRANGE", "z", "1", "(3", "BYSCORE", "WITHSCORES"), flat([("a", "1"), ("b", "2")])),
        (("ZRANGE", "z", "-inf", "+inf", "BYSCORE"), [b"m", b"a", b"b", b"c", b"d", b"p"]),
        (("ZRANGE", "z", "(-inf", "(inf", "BYSCORE"), [b"a", b"b", b"c", b"d"]),
        (("ZRANGE", "z", "3", "1", "BYSCORE"), []),
        (("ZRANGE", "z", "(2", "(2", "BYSCORE"), []),
        (("ZRANGE", "z", "3", "1", "BYSCORE", "REV"), [b"c", b"b", b"a"]),
        (("ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "1", "2"), [b"a", b"b"]),
        (("ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "1", "-1"), [b"a", b"b", b"c", b"d", b"p"]),
        (("ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "-1", "2"), []),
        (("ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "10", "2"), []),
        (("ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "0", "0"), []),
        (("ZRANGE", "z", "inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2", "WITHSCORES"),
         flat([("d", "4"), ("c", "3")])),
        (("ZRANGEBYSCORE", "z", "2", "3", "WITHSCORES"), flat([("b", "2"), ("c", "3")])),
        (("ZRANGEBYSCORE", "z", "2", "inf", "LIMIT", "1", "1"), [b"c"]),
        (("ZREVRANGEBYSCORE", "z", "3", "2"), [b"c", b"b"]),
        (("ZREVRANGEBYSCORE", "z", "2", "3"), []),
        (("ZRANGEBYSCORE", "z", "x", "3"), RANGE_FLOAT),
        (("ZRANGEBYSCORE", "z", "1", "nan"), RANGE_FLOAT),
        (("ZRANGEBYSCORE", "z", "1", "(x"), RANGE_FLOAT),
        (("ZRANGEBYSCORE", "z", "1", "2", "LIMIT", "1"), SYNTAX),
        (("ZRANGEBYSCORE", "z", "1", "2", "LIMIT", "a", "1"), NOT_INT),
        (("ZRANGEBYSCORE", "z", "1", "2", "BYSCORE"), SYNTAX),
        (("ZRANGEBYSCORE", "z", "1", "2", "REV"), SYNTAX),
        # Redis reads bounds with strtod: "", " 2" and "(" are accepted, overflow is infinity
        (("ZRANGEBYSCORE", "z", "", "1"), [b"a"]),
        (("ZRANGEBYSCORE", "z", " 2", "2"), [b"b"]),
        (("ZRANGEBYSCORE", "z", "(", "1"), [b"a"]),
        (("ZRANGEBYSCORE", "z", "1e400", "+inf"), [b"p"]),
        (("ZCOUNT", "z", "-inf", "+inf"), 6),
        (("ZCOUNT", "z", "(1", "(4"), 2),
        (("ZCOUNT", "z", "5", "1"), 0),
        (("ZCOUNT", "z", "a", "1"), RANGE_FLOAT),
        (("ZCOUNT", "nokey", "0", "1"), 0),
    ])


def test_zrange_by_lex(c):
    c.cmd("ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d", "0", "ab", "0", "abc", "0", "")
    check(c, [
        (("ZRANGE", "z", "-", "+", "BYLEX"), [b"", b"a", b"ab", b"abc", b"b", b"c", b"d"]),
        (("ZRANGE", "z", "[a", "(b", "BYLEX"), [b"a", b"ab", b"abc"]),
        (("ZRANGE", "z", "(a", "[b", "BYLEX"), [b"ab", b"abc", b"b"]),
        (("ZRANGE", "z", "[", "(a", "BYLEX"), [b""]),
        (("ZRANGE", "z", "+", "-", "BYLEX"), []),
        (("ZRANGE", "z", "-", "+", "BYLEX", "LIMIT", "2", "3"), [b"ab", b"abc", b"b"]),
        (("ZRANGE", "z", "+", "-", "BYLEX", "REV", "LIMIT", "0", "2"), [b"d", b"c"]),
        (("ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"),
         Err("ERR syntax error, WITHSCORES not supported in combination with BYLEX")),
        (("ZRANGEBYLEX", "z", "[b", "+"), [b"b", b"c", b"d"]),
        (("ZREVRANGEBYLEX", "z", "[c", "(a"), [b"c", b"b", b"abc", b"ab"]),
        (("ZRANGEBYLEX", "z", "a", "+"), RANGE_LEX),
        (("ZRANGEBYLEX", "z", "-", "+x"), RANGE_LEX),
        (("ZRANGEBYLEX", "z", "", "+"), RANGE_LEX),
        (("ZLEXCOUNT", "z", "-", "+"), 7),
        (("ZLEXCOUNT", "z", "[ab", "[abc"), 2),
        (("ZLEXCOUNT", "z", "(ab", "(abc"), 0),
        (("ZLEXCOUNT", "z", "x", "+"), RANGE_LEX),
        (("ZLEXCOUNT", "nokey", "-", "+"), 0),
        (("ZREMRANGEBYLEX", "z", "[ab", "[abc"), 2),
        (("ZREMRANGEBYLEX", "z", "-", "(b"), 2),
        (("ZRANGE", "z", "0", "-1"), [b"b", b"c", b"d"]),
        (("ZREMRANGEBYLEX", "z", "foo", "+"), RANGE_LEX),
    ])


def test_zrangestore(c):
    c.cmd("ZADD", "src", "1", "a", "2", "b", "3", "c", "4", "d")
    c.cmd("SET", "dst", "string")
    c.cmd("EXPIRE", "dst", "100")
    check(c, [
        (("ZRANGESTORE", "dst", "src", "1", "2"), 2),
        (("TYPE", "dst"), "zset"),
        (("TTL", "dst"), -1),
        (("ZRANGE", "dst", "0", "-1", "WITHSCORES"), flat([("b", "2"), ("c", "3")])),
        (("ZRANGESTORE", "dst", "src", "(1", "+inf", "BYSCORE", "REV", "LIMIT", "0", "2"), 0),
        (("ZRANGESTORE", "dst", "src", "+inf", "(1", "BYSCORE", "REV", "LIMIT", "0", "2"), 2),
        (("ZRANGE", "dst", "0", "-1"), [b"c", b"d"]),
        (("ZRANGESTORE", "dst", "src", "[a", "[b", "BYLEX"), 2),
        (("ZRANGESTORE", "dst", "src", "5", "6"), 0),
        (("EXISTS", "dst"), 0),
        (("ZRANGESTORE", "dst", "nokey", "0", "-1"), 0),
        (("ZRANGESTORE", "dst", "src", "0", "-1", "WITHSCORES"), SYNTAX),
        (("ZRANGESTORE", "src", "src", "0", "0"), 1),
        (("ZRANGE", "src", "0", "-1"), [b"a"]),
        (("ZRANGESTORE", "dst", "src", "0"), wrong_args("zrangestore")),
    ])


# ---------------------------------------------------------------------------------------------
# removal and pops
# ---------------------------------------------------------------------------------------------

def test_zrem_and_remrange(c):
    c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")
    check(c, [
        (("ZREM", "z", "a", "x", "a"), 1),
        (("ZREM", "nokey", "a"), 0),
        (("ZREMRANGEBYRANK", "z", "0", "0"), 1),
        (("ZREMRANGEBYRANK", "z", "5", "10"), 0),
        (("ZREMRANGEBYRANK", "z", "a", "1"), NOT_INT),
        (("ZREMRANGEBYSCORE", "z", "(3", "4"), 1),
        (("ZREMRANGEBYSCORE", "z", "x", "4"), RANGE_FLOAT),
        (("ZRANGE", "z", "0", "-1"), [b"c", b"e"]),
        (("ZREMRANGEBYRANK", "z", "0", "-1"), 2),
        (("EXISTS", "z"), 0),
        (("ZREMRANGEBYSCORE", "nokey", "0", "1"), 0),
        (("ZADD", "z", "1", "a"), 1),
        (("ZREM", "z", "a", "b"), 1),
        (("EXISTS", "z"), 0),
    ])


def test_zpop(c):
    c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d")
    check(c, [
        (("ZPOPMIN", "z"), [b"a", b"1"]),
        (("ZPOPMAX", "z", "2"), flat([("d", "4"), ("c", "3")])),
        (("ZPOPMIN", "z", "0"), []),
        (("ZPOPMIN", "z", "-1"), POSITIVE),
        (("ZPOPMIN", "z", "x"), POSITIVE),
        (("ZPOPMIN", "z", "1", "2"), SYNTAX),
        (("ZPOPMIN", "z", "10"), flat([("b", "2")])),
        (("EXISTS", "z"), 0),
        (("ZPOPMIN", "z"), []),
        (("ZPOPMAX", "nokey", "3"), []),
    ])


def test_zmpop(c):
    c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c")
    check(c, [
        (("ZMPOP", "2", "nokey", "z", "MIN"), [b"z", [[b"a", b"1"]]]),
        (("ZMPOP", "1", "z", "max", "COUNT", "5"), [b"z", [[b"c", b"3"], [b"b", b"2"]]]),
        (("EXISTS", "z"), 0),
        (("ZMPOP", "1", "z", "MIN"), None),
        (("ZMPOP", "0", "z", "MIN"), Err("ERR numkeys should be greater than 0")),
        (("ZMPOP", "x", "z", "MIN"), Err("ERR numkeys should be greater than 0")),
        (("ZMPOP", "2", "z", "MIN"), SYNTAX),
        (("ZMPOP", "1", "z", "FOO"), SYNTAX),
        (("ZMPOP", "1", "z", "MIN", "COUNT", "0"), Err("ERR count should be greater than 0")),
        (("ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "1"), SYNTAX),
        (("ZMPOP", "1", "z", "MIN", "FOO"), SYNTAX),
        (("ZMPOP", "1", "z"), wrong_args("zmpop")),
    ])


def test_resp3_shapes(c):
    c.cmd("HELLO", "3")
    c.cmd("ZADD", "z", "1", "a", "2.5", "b", "3", "c", "4", "d", "5", "e", "6", "f")
    z = c.cmd("ZRANGE", "z", "0", "1", "WITHSCORES")
    assert z == [[b"a", 1.0], [b"b", 2.5]] and all(type(p[1]) is Double for p in z)
    assert c.cmd("ZRANGE", "z", "0", "1") == [b"a", b"b"]
    assert c.cmd("ZSCORE", "z", "b") == 2.5 and type(c.cmd("ZSCORE", "z", "b")) is Double
    assert c.cmd("ZMSCORE", "z", "a", "x") == [1.0, None]
    assert c.cmd("ZINCRBY", "z", "1", "a") == 2.0
    assert c.cmd("ZPOPMIN", "z") == [b"a", 2.0]
    assert c.cmd("ZPOPMIN", "z", "1") == [[b"b", 2.5]]
    assert c.cmd("ZPOPMAX", "z", "0") == []
    assert c.cmd("ZMPOP", "1", "z", "MAX") == [b"z", [[b"f", 6.0]]]
    assert c.cmd("BZPOPMIN", "z", "0") == [b"z", b"c", 3.0]
    assert c.cmd("ZUNION", "1", "z", "WITHSCORES") == [[b"d", 4.0], [b"e", 5.0]]
    assert c.cmd("ZRANDMEMBER", "z", "5", "WITHSCORES") == [[b"e", 5.0], [b"d", 4.0]]
    assert c.cmd("ZSCAN", "z", "0") == [b"0", [b"d", b"4", b"e", b"5"]]
    assert c.cmd("ZSCORE", "z", "x") is None
    assert c.cmd("ZMPOP", "1", "nokey", "MAX") is None
    assert c.cmd("ZRANDMEMBER", "nokey") is None


def test_zrandmember(c):
    c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d")
    check(c, [
        (("ZRANDMEMBER", "nokey"), None),
        (("ZRANDMEMBER", "nokey", "3"), []),
        (("ZRANDMEMBER", "z", "0"), []),
        (("ZRANDMEMBER", "z", "x"), NOT_INT),
        (("ZRANDMEMBER", "z", "1", "foo"), SYNTAX),
        (("ZRANDMEMBER", "z", "1", "withscores", "x"), SYNTAX),
        (("ZRANDMEMBER", "z", "-9223372036854775808"),
         Err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")),
        (("ZRANDMEMBER", "z", "4611686018427387904", "WITHSCORES"), Err("ERR value is out of range")),
        # the whole set, from the top
        (("ZRANDMEMBER", "z", "10", "WITHSCORES"), flat([("d", "4"), ("c", "3"), ("b", "2"), ("a", "1")])),
    ])
    scores = {b"a": b"1", b"b": b"2", b"c": b"3", b"d": b"4"}
    assert c.cmd("ZRANDMEMBER", "z") in scores
    for n in (1, 2, 3):
        got = c.cmd("ZRANDMEMBER", "z", str(n))
        assert len(got) == n and len(set(got)) == n and set(got) <= set(scores)
    got = c.cmd("ZRANDMEMBER", "z", "-20", "WITHSCORES")
    assert len(got) == 40
    for m, s in zip(got[::2], got[1::2]):
        assert scores[m] == s
    # big encoding, distinct picks
    c.cmd("CONFIG", "SET", "zset-max-listpack-entries", "4")
    c.cmd("ZADD", "big", *[x for i in range(300) for x in (str(i), f"m{i}")])
    for n in (5, 150, 299):
        got = c.cmd("ZRANDMEMBER", "big", str(n), "WITHSCORES")
        ms = got[::2]
        assert len(set(ms)) == n
        assert all(m == b"m" + s for m, s in zip(got[::2], got[1::2]))
    c.cmd("CONFIG", "SET", "zset-max-listpack-entries", "128")


# ---------------------------------------------------------------------------------------------
# set algebra
# ---------------------------------------------------------------------------------------------

def test_union_inter_diff(c):
    c.cmd("ZADD", "s1", "1", "a", "2", "b", "3", "c")
    c.cmd("ZADD", "s2", "10", "b", "20", "c", "30", "d")
    check(c, [
        (("ZUNION", "2", "s1", "s2", "WITHSCORES"), flat([("a", "1"), ("b", "12"), ("c", "23"), ("d", "30")])),
        (("ZUNION", "2", "s1", "s2", "WEIGHTS", "2", "0.5", "AGGREGATE", "MAX", "WITHSCORES"),
         flat([("a", "2"), ("b", "5"), ("c", "10"), ("d", "15")])),
        (("ZUNION", "3", "s1", "nokey", "s2", "AGGREGATE", "min"), [b"a", b"b", b"c", b"d"]),
        (("ZINTER", "2", "s1", "s2", "WITHSCORES"), flat([("b", "12"), ("c", "23")])),
        (("ZINTER", "2", "s1", "s2", "WEIGHTS", "1", "-1", "WITHSCORES"), flat([("c", "-17"), ("b", "-8")])),
        (("ZINTER", "2", "s1", "nokey"), []),
        (("ZDIFF", "2", "s1", "s2", "WITHSCORES"), flat([("a", "1")])),
        (("ZDIFF", "2", "s2", "nokey"), [b"b", b"c", b"d"]),
        (("ZDIFF", "1", "nokey"), []),
        (("ZINTERCARD", "2", "s1", "s2"), 2),
        (("ZINTERCARD", "2", "s1", "s2", "LIMIT", "1"), 1),
        (("ZINTERCARD", "2", "s1", "s2", "LIMIT", "0"), 2),
        (("ZINTERCARD", "1", "s1", "LIMIT", "-1"), Err("ERR LIMIT can't be negative")),
        (("ZINTERCARD", "1", "s1", "LIMIT", "x"), Err("ERR LIMIT can't be negative")),
        (("ZINTERCARD", "0", "s1"), Err("ERR at least 1 input key is needed for 'zintercard' command")),
        (("ZINTERCARD", "2", "s1"), SYNTAX),
        (("ZINTERCARD", "1", "s1", "WITHSCORES"), SYNTAX),
        (("ZUNION", "0", "s1"), Err("ERR at least 1 input key is needed for 'zunion' command")),
        (("ZUNION", "x", "s1"), NOT_INT),
        (("ZUNION", "3", "s1", "s2"), SYNTAX),
        (("ZUNION", "2", "s1", "s2", "WEIGHTS", "1"), SYNTAX),
        (("ZUNION", "2", "s1", "s2", "WEIGHTS", "1", "x"), Err("ERR weight value is not a float")),
        (("ZUNION", "2", "s1", "s2", "AGGREGATE", "avg"), SYNTAX),
        (("ZUNION", "2", "s1", "s2", "AGGREGATE"), SYNTAX),
        (("ZUNION", "1", "s1", "WITHSCORES", "WITHSCORES"), flat([("a", "1"), ("b", "2"), ("c", "3")])),
        (("ZDIFF", "2", "s1", "s2", "WEIGHTS", "1", "1"), SYNTAX),
        (("ZDIFF", "2", "s1", "s2", "AGGREGATE", "SUM"), SYNTAX),
        (("ZUNIONSTORE", "d", "2", "s1", "s2", "WITHSCORES"), SYNTAX),
        (("ZUNIONSTORE", "d", "0", "s1"), Err("ERR at least 1 input key is needed for 'zunionstore' command")),
    ])


def test_infinities_and_nan_in_aggregates(c):
    c.cmd("ZADD", "i", "1", "a", "-inf", "b", "+inf", "c")
    check(c, [
        (("ZUNION", "2", "i", "i", "WEIGHTS", "1", "-1", "WITHSCORES"), flat([("a", "0"), ("b", "0"), ("c", "0")])),
        (("ZINTER", "2", "i", "i", "WEIGHTS", "1", "-1", "WITHSCORES"), flat([("a", "0"), ("b", "0"), ("c", "0")])),
        (("ZUNION", "1", "i", "WEIGHTS", "0", "WITHSCORES"), flat([("a", "0"), ("b", "0"), ("c", "0")])),
        (("ZINTER", "2", "i", "i", "WEIGHTS", "0", "1", "AGGREGATE", "MIN", "WITHSCORES"),
         flat([("b", "-inf"), ("a", "0"), ("c", "0")])),
        (("ZINTER", "2", "i", "i", "WEIGHTS", "1", "0", "AGGREGATE", "MAX", "WITHSCORES"),
         flat([("b", "-inf"), ("a", "1"), ("c", "inf")])),
        (("ZUNIONSTORE", "d", "2", "i", "i"), 3),
        (("ZRANGE", "d", "0", "-1", "WITHSCORES"), flat([("b", "-inf"), ("a", "2"), ("c", "inf")])),
    ])


def test_stores(c):
    c.cmd("ZADD", "s1", "1", "a", "2", "b")
    c.cmd("ZADD", "s2", "3", "b", "4", "c")
    c.cmd("SET", "d", "x")
    c.cmd("EXPIRE", "d", "100")
    check(c, [
        (("ZUNIONSTORE", "d", "2", "s1", "s2"), 3),
        (("TTL", "d"), -1),
        (("ZRANGE", "d", "0", "-1", "WITHSCORES"), flat([("a", "1"), ("c", "4"), ("b", "5")])),
        (("ZINTERSTORE", "d", "2", "s1", "s2", "AGGREGATE", "MAX"), 1),
        (("ZRANGE", "d", "0", "-1", "WITHSCORES"), flat([("b", "3")])),
        (("ZDIFFSTORE", "d", "2", "s1", "s2"), 1),
        (("ZRANGE", "d", "0", "-1", "WITHSCORES"), flat([("a", "1")])),
        (("ZINTERSTORE", "d", "2", "s1", "nokey"), 0),
        (("EXISTS", "d"), 0),
        (("ZINTERSTORE", "d", "2", "s1", "nokey"), 0),
        (("ZUNIONSTORE", "s1", "2", "s1", "s2", "WEIGHTS", "2", "1"), 3),
        (("ZRANGE", "s1", "0", "-1", "WITHSCORES"), flat([("a", "2"), ("c", "4"), ("b", "7")])),
    ])


def test_plain_sets_as_inputs(c):
    if isinstance(c.cmd("SADD", "st", "a", "b", "x"), Err):
        pytest.skip("the set type is not available")
    c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c")
    c.cmd("SADD", "nums", "n1", "n2", "n3")
    check(c, [
        (("ZUNION", "2", "z", "st", "WITHSCORES"), flat([("x", "1"), ("a", "2"), ("b", "3"), ("c", "3")])),
        (("ZINTER", "2", "st", "z", "WEIGHTS", "5", "1", "AGGREGATE", "MAX", "WITHSCORES"),
         flat([("a", "5"), ("b", "5")])),
        (("ZDIFF", "2", "st", "z", "WITHSCORES"), flat([("x", "1")])),
        (("ZDIFF", "2", "z", "st"), [b"c"]),
        (("ZINTERCARD", "2", "st", "nums"), 0),
        (("ZUNIONSTORE", "d", "2", "nums", "st", "WEIGHTS", "2", "3"), 6),
        (("ZRANGE", "d", "0", "-1", "WITHSCORES"),
         flat([("n1", "2"), ("n2", "2"), ("n3", "2"), ("a", "3"), ("b", "3"), ("x", "3")])),
        (("OBJECT", "ENCODING", "d"), b"listpack"),
        (("ZRANGE", "st", "0", "-1"), WRONGTYPE),
        # an intset as input
        (("SADD", "ints", "1", "2", "3"), 3),
        (("ZUNION", "2", "ints", "z", "WITHSCORES"),
         flat([("1", "1"), ("2", "1"), ("3", "1"), ("a", "1"), ("b", "2"), ("c", "3")])),
        (("ZINTERSTORE", "d", "2", "ints", "ints", "WEIGHTS", "1", "2"), 3),
        (("ZRANGE", "d", "0", "-1", "WITHSCORES"), flat([("1", "3"), ("2", "3"), ("3", "3")])),
        (("ZDIFF", "2", "ints", "nums"), [b"1", b"2", b"3"]),
    ])


# ---------------------------------------------------------------------------------------------
# encodings
# ---------------------------------------------------------------------------------------------

def test_encoding_thresholds(c):
    c.cmd("CONFIG", "SET", "zset-max-listpack-entries", "3")
    c.cmd("CONFIG", "SET", "zset-max-listpack-value", "5")
    c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c")
    assert enc(c, "z") == "listpack"
    c.cmd("ZADD", "z", "4", "d")
    assert enc(c, "z") == "skiplist"
    c.cmd("ZREM", "z", "a", "b", "c")
    assert enc(c, "z") == "skiplist"  # never back
    c.cmd("ZADD", "v", "1", "12345")
    assert enc(c, "v") == "listpack"
    c.cmd("ZADD", "v", "1", "123456")
    assert enc(c, "v") == "skiplist"
    c.cmd("ZADD", "w", "1", "123456")
    assert enc(c, "w") == "skiplist"
    c.cmd("ZINCRBY", "x", "1", "123456")
    assert enc(c, "x") == "skiplist"
    # duplicates in one ZADD do not count
    c.cmd("ZADD", "dup", "1", "a", "1", "a", "1", "a", "1", "a")
    assert enc(c, "dup") == "listpack"
    # store results choose by their own size
    c.cmd("ZADD", "big", *[x for i in range(10) for x in (str(i), f"m{i}")])
    assert c.cmd("ZRANGESTORE", "r1", "big", "0", "2") == 3
    assert enc(c, "r1") == "listpack"
    assert c.cmd("ZRANGESTORE", "r2", "big", "0", "3") == 4
    assert enc(c, "r2") == "skiplist"
    assert c.cmd("ZUNIONSTORE", "r3", "1", "big", "WEIGHTS", "1") == 10
    assert enc(c, "r3") == "skiplist"
    assert c.cmd("ZINTERSTORE", "r4", "2", "big", "r1") == 3
    assert enc(c, "r4") == "listpack"
    assert c.cmd("ZUNIONSTORE", "r5", "1", "w") == 1
    assert enc(c, "r5") == "skiplist"  # a member longer than the value limit
    assert c.cmd("ZRANGESTORE", "r6", "w", "0", "-1") == 1
    assert enc(c, "r6") == "skiplist"
    c.cmd("CONFIG", "SET", "zset-max-listpack-entries", "0")
    c.cmd("ZADD", "zero", "1", "a")
    assert enc(c, "zero") == "skiplist"
    assert c.cmd("ZRANGESTORE", "r7", "r1", "0", "-1") == 3
    assert enc(c, "r7") == "skiplist"
    c.cmd("CONFIG", "SET", "zset-max-listpack-entries", "128")
    c.cmd("CONFIG", "SET", "zset-max-listpack-value", "64")
    # the legacy names are aliases
    assert c.cmd("CONFIG", "GET", "zset-max-ziplist-entries") == [b"zset-max-ziplist-entries", b"128"]


def test_copy_and_long_members(c):
    long = "L" * 5000
    c.cmd("CONFIG", "SET", "zset-max-listpack-entries", "2")
    c.cmd("ZADD", "big", "1", "a", "2", long, "3", "c")
    c.cmd("ZADD", "small", "1", "a", "2", "b")
    assert c.cmd("ZSCORE", "big", long) == b"2"
    assert c.cmd("COPY", "big", "big2") == 1
    assert c.cmd("COPY", "small", "small2") == 1
    c.cmd("ZADD", "big2", "10", "a")
    c.cmd("ZADD", "small2", "10", "a")
    assert c.cmd("ZRANGE", "big", "0", "-1", "WITHSCORES") == flat([("a", "1"), (long, "2"), ("c", "3")])
    assert c.cmd("ZRANGE", "big2", "0", "-1", "WITHSCORES") == flat([(long, "2"), ("c", "3"), ("a", "10")])
    assert c.cmd("ZRANGE", "small", "0", "-1", "WITHSCORES") == flat([("a", "1"), ("b", "2")])
    assert enc(c, "big2") == "skiplist" and enc(c, "small2") == "listpack"
    assert c.cmd("ZREM", "big", long) == 1
    assert c.cmd("ZRANGEBYLEX", "big2", "[L", "(M") == [long.encode()]
    c.cmd("CONFIG", "SET", "zset-max-listpack-entries", "128")


# ---------------------------------------------------------------------------------------------
# big sets against a model
# ---------------------------------------------------------------------------------------------

class Model:
    def __init__(self):
        self.d = {}

    def ordered(self):
        return sorted(self.d.items(), key=lambda kv: (kv[1], kv[0]))


def fmt(s):
    if s == math.inf:
        return b"inf"
    if s == -math.inf:
        return b"-inf"
    return ("%.17g" % s).encode()


@pytest.mark.parametrize("entries", ["0", "16"])
def test_big_zset_model(c, entries):
    c.cmd("CONFIG", "SET", "zset-max-listpack-entries", entries)
    rnd = random.Random(int(entries) + 7)
    m = Model()
    for step in range(2500):
        op = rnd.random()
        member = b"m%d" % rnd.randrange(1500)
        if op < 0.45:
            s = rnd.choice([rnd.randrange(50), rnd.random() * 100, -rnd.randrange(10)])
            added = c.cmd("ZADD", "z", repr(float(s)), member)
            assert added == (0 if member in m.d else 1)
            m.d[member] = float(s)
        elif op < 0.55:
            inc = rnd.randrange(-5, 6)
            got = c.cmd("ZINCRBY", "z", str(inc), member)
            m.d[member] = m.d.get(member, 0.0) + inc
            assert got == fmt(m.d[member])
        elif op < 0.65:
            assert c.cmd("ZREM", "z", member) == (1 if m.d.pop(member, None) is not None else 0)
        elif op < 0.70:
            lo = rnd.randrange(50)
            hi = lo + rnd.randrange(5)
            got = c.cmd("ZREMRANGEBYSCORE", "z", str(lo), "(%d" % hi)
            gone = [k for k, v in m.d.items() if lo <= v < hi]
            for k in gone:
                del m.d[k]
            assert got == len(gone)
        elif op < 0.72:
            got = c.cmd("ZPOPMIN", "z", "3")
            want = m.ordered()[:3]
            for k, _ in want:
                del m.d[k]
            assert got == [x for k, v in want for x in (k, fmt(v))]
        elif op < 0.80:
            order = m.ordered()
            if member in m.d:
                r = order.index((member, m.d[member]))
                assert c.cmd("ZRANK", "z", member) == r
                assert c.cmd("ZREVRANK", "z", member) == len(order) - 1 - r
            else:
                assert c.cmd("ZRANK", "z", member) is None
        elif op < 0.90:
            order = m.ordered()
            a, b = sorted([rnd.randrange(-len(order) - 5, len(order) + 5) for _ in range(2)])
            got = c.cmd("ZRANGE", "z", str(a), str(b), "WITHSCORES")
            n = len(order)
            s, e = (a + n if a < 0 else a), (b + n if b < 0 else b)
            s = max(s, 0)
            want = order[s:e + 1] if s <= e else []
            assert got == [x for k, v in want for x in (k, fmt(v))]
        else:
            lo = rnd.uniform(-10, 60)
            hi = lo + rnd.uniform(0, 20)
            off, lim = rnd.randrange(5), rnd.choice([-1, 3, 50])
            got = c.cmd("ZRANGEBYSCORE", "z", "(%r" % lo, repr(hi), "LIMIT", str(off), str(lim))
            want = [k for k, v in m.ordered() if lo < v <= hi][off:]
            if lim >= 0:
                want = want[:lim]
            assert got == want
            assert c.cmd("ZCOUNT", "z", "(%r" % lo, repr(hi)) == len([1 for v in m.d.values() if lo < v <= hi])
    assert c.cmd("ZCARD", "z") == len(m.d)
    assert c.cmd("ZRANGE", "z", "0", "-1", "WITHSCORES") == [x for k, v in m.ordered() for x in (k, fmt(v))]
    if m.d:
        assert enc(c, "z") == ("skiplist" if entries == "0" or len(m.d) > 16 else enc(c, "z"))
    c.cmd("CONFIG", "SET", "zset-max-listpack-entries", "128")
    assert_keyspace_ok(c)


def test_zscan_covers_everything(c):
    c.cmd("CONFIG", "SET", "zset-max-listpack-entries", "16")
    n = 3000
    c.cmd("ZADD", "z", *[x for i in range(n) for x in (str(i * 0.5), f"m{i}")])
    seen = {}
    cursor = b"0"
    calls = 0
    while True:
        cursor, items = c.cmd("ZSCAN", "z", cursor, "COUNT", "100")
        calls += 1
        for m, s in zip(items[::2], items[1::2]):
            seen[m] = s
        if cursor == b"0":
            break
    assert calls > 5
    assert len(seen) == n
    assert all(float(seen[f"m{i}".encode()]) == i * 0.5 for i in range(n))
    cursor, items = c.cmd("ZSCAN", "z", "0", "MATCH", "m1?", "COUNT", "100000")
    assert cursor == b"0" and sorted(items[::2]) == sorted(f"m{i}".encode() for i in range(10, 20))
    check(c, [
        (("ZSCAN", "z", "x"), Err("ERR invalid cursor")),
        (("ZSCAN", "z", "0", "COUNT", "0"), SYNTAX),
        (("ZSCAN", "z", "0", "COUNT", "x"), NOT_INT),
        (("ZSCAN", "z", "0", "TYPE", "zset"), SYNTAX),
        (("ZSCAN", "nokey", "0", "COUNT", "x"), [b"0", []]),
    ])
    c.cmd("CONFIG", "SET", "zset-max-listpack-entries", "128")


def test_big_set_delete_and_memory(c):
    c.cmd("CONFIG", "SET", "zset-max-listpack-entries", "128")
    for start in range(0, 100000, 5000):
        c.cmd("ZADD", "big", *[x for i in range(start, start + 5000) for x in (str(i), f"member:{i}")])
    assert c.cmd("ZCARD", "big") == 100000
    assert enc(c, "big") == "skiplist"
    assert c.cmd("ZRANGE", "big", "50000", "50001", "WITHSCORES") == flat([("member:50000", "50000"),
                                                                          ("member:50001", "50001")])
    assert c.cmd("ZREMRANGEBYRANK", "big", "10", "89999") == 89990
    assert c.cmd("ZRANGE", "big", "8", "11") == [b"member:8", b"member:9", b"member:90000", b"member:90001"]
    assert c.cmd("DEL", "big") == 1
    assert c.cmd("PING") == "PONG"
    assert c.cmd("EXISTS", "big") == 0


# ---------------------------------------------------------------------------------------------
# WATCH
# ---------------------------------------------------------------------------------------------

def test_watch_is_invalidated_by_zset_writes(sardine):
    c, other = Raw(sardine.port), Raw(sardine.port)
    c.cmd("ZADD", "z", "1", "a")
    for args in (("ZADD", "z", "2", "a"), ("ZINCRBY", "z", "1", "a"), ("ZREM", "z", "a"),
                 ("ZUNIONSTORE", "z", "1", "q")):
        other.cmd("ZADD", "q", "1", "x")
        c.cmd("WATCH", "z")
        other.cmd(*args)
        c.cmd("MULTI")
        c.cmd("ZCARD", "z")
        assert c.cmd("EXEC") is None, args
    # no-op writes leave the watch alone
    c.cmd("WATCH", "z")
    other.cmd("ZADD", "z", "1", "x")
    c.cmd("WATCH", "z")
    other.cmd("ZADD", "z", "NX", "5", "x")
    other.cmd("ZREM", "z", "nope")
    c.cmd("MULTI")
    c.cmd("ZCARD", "z")
    assert c.cmd("EXEC") == [1]
    c.close()
    other.close()


# ---------------------------------------------------------------------------------------------
# blocking commands
# ---------------------------------------------------------------------------------------------

def blocked(conn, *args):
    conn.send(encode(*args))
    assert conn.nothing_pending(0.15), f"{args} did not block"


def test_blocking_errors(c):
    check(c, [
        (("BZPOPMIN", "k", "abc"), TIMEOUT_FLOAT),
        (("BZPOPMIN", "k", "-1"), TIMEOUT_NEG),
        (("BZPOPMAX", "k", "nan"), TIMEOUT_FLOAT),
        (("BZPOPMAX", "k", ""), TIMEOUT_FLOAT),
        (("BZPOPMIN", "k"), wrong_args("bzpopmin")),
        (("BZMPOP", "abc", "1", "k", "MIN"), TIMEOUT_FLOAT),
        (("BZMPOP", "0", "0", "k", "MIN"), Err("ERR numkeys should be greater than 0")),
        (("BZMPOP", "-1", "1", "k", "MIN"), TIMEOUT_NEG),
        (("BZMPOP", "abc", "1", "k", "FOO"), SYNTAX),
        (("BZMPOP", "0", "2", "k", "MIN"), SYNTAX),
        (("BZMPOP", "0", "1", "k", "MIN", "COUNT", "0"), Err("ERR count should be greater than 0")),
        (("BZMPOP", "0", "1", "k"), wrong_args("bzmpop")),
    ])


def test_blocking_serves_immediately(c):
    c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c")
    check(c, [
        (("BZPOPMIN", "nokey", "z", "0"), [b"z", b"a", b"1"]),
        (("BZPOPMAX", "z", "0"), [b"z", b"c", b"3"]),
        (("ZADD", "m", "1", "x", "2", "y", "3", "z"), 3),
        (("BZMPOP", "0", "2", "nokey", "m", "MAX", "COUNT", "2"), [b"m", [[b"z", b"3"], [b"y", b"2"]]]),
        (("BZMPOP", "0", "2", "z", "m", "MIN"), [b"z", [[b"b", b"2"]]]),
        (("EXISTS", "z"), 0),
    ])


def test_bzpop_wakes_on_zadd(sardine):
    w, p = Raw(sardine.port), Raw(sardine.port)
    blocked(w, "BZPOPMIN", "k1", "k2", "0")
    assert p.cmd("ZADD", "k2", "5", "a", "3", "b") == 2
    assert w.reply() == [b"k2", b"b", b"3"]
    assert p.cmd("ZRANGE", "k2", "0", "-1") == [b"a"]
    assert w.cmd("PING") == "PONG"
    blocked(w, "BZPOPMAX", "k3", "0")
    assert p.cmd("ZINCRBY", "k3", "7", "x") == b"7"
    assert w.reply() == [b"k3", b"x", b"7"]
    blocked(w, "BZMPOP", "0", "2", "k4", "k5", "MIN", "COUNT", "10")
    p.cmd("ZADD", "src", "1", "a", "2", "b")
    assert p.cmd("ZUNIONSTORE", "k5", "1", "src") == 2
    assert w.reply() == [b"k5", [[b"a", b"1"], [b"b", b"2"]]]
    blocked(w, "BZPOPMIN", "k6", "0")
    assert p.cmd("ZRANGESTORE", "k6", "src", "0", "0") == 1
    assert w.reply() == [b"k6", b"a", b"1"]
    w.close()
    p.close()


def test_blocking_timeouts(sardine):
    w = Raw(sardine.port)
    t = time.time()
    w.send(encode("BZPOPMIN", "k", "0.2"))
    assert w.read_raw(5, timeout=5) == b"*-1\r\n"
    assert 0.15 < time.time() - t < 3
    w.send(encode("BZMPOP", "0.1", "1", "k", "MIN"))
    assert w.read_raw(5, timeout=5) == b"*-1\r\n"
    w.cmd("HELLO", "3")
    w.send(encode("BZPOPMAX", "k", "0.1"))
    assert w.read_raw(3, timeout=5) == b"_\r\n"
    w.close()


def test_blocking_inside_multi_never_blocks(c):
    c.cmd("MULTI")
    for args in (("BZPOPMIN", "k", "0"), ("BZMPOP", "0", "1", "k", "MIN"), ("ZADD", "k", "1", "v"),
                 ("BZPOPMAX", "k", "0")):
        assert c.cmd(*args) == "QUEUED"
    assert c.cmd("EXEC") == [None, None, 1, [b"k", b"v", b"1"]]


def test_blocking_fifo_and_other_types(sardine):
    waiters = [Raw(sardine.port) for _ in range(3)]
    p = Raw(sardine.port)
    for w in waiters:
        blocked(w, "BZPOPMIN", "q", "0")
    assert p.cmd("ZADD", "q", "1", "a") == 1
    assert waiters[0].reply() == [b"q", b"a", b"1"]
    assert waiters[1].nothing_pending(0.1)
    assert p.cmd("ZADD", "q", "1", "b", "2", "c") == 2
    assert waiters[1].reply() == [b"q", b"b", b"1"]
    assert waiters[2].reply() == [b"q", b"c", b"2"]
    # a key that stops being a zset before the waiter runs: it keeps waiting, no error
    blocked(waiters[0], "BZPOPMIN", "q", "0")
    p.cmd("MULTI")
    p.cmd("ZADD", "q", "1", "x")
    p.cmd("DEL", "q")
    p.cmd("SET", "q", "str")
    p.cmd("EXEC")
    assert waiters[0].nothing_pending(0.2)
    p.cmd("DEL", "q")
    p.cmd("ZADD", "q", "4", "z")
    assert waiters[0].reply() == [b"q", b"z", b"4"]
    for w in waiters + [p]:
        w.close()
