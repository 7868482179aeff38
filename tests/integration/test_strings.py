"""String commands: exact replies, exact error texts, encodings (raw RESP2 connection `c`).
Only string keys are used here; interactions with other types are in test_wrongtype.py.

Reply types: simple string -> str, bulk -> bytes, integer -> int, error -> Err.
"""
import time

import pytest

from sardine_resp import Err

SYNTAX = Err("ERR syntax error")
NOT_INT = Err("ERR value is not an integer or out of range")
NOT_FLOAT = Err("ERR value is not a valid float")
OVERFLOW = Err("ERR increment or decrement would overflow")
TOO_BIG = Err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")


def bad_expire(cmd):
    return Err(f"ERR invalid expire time in '{cmd}' command")


def wrong_args(cmd):
    return Err(f"ERR wrong number of arguments for '{cmd}' command")


def check(c, steps):
    for args, expected in steps:
        got = c.cmd(*args)
        assert got == expected and type(got) is type(expected), f"{args}: got {got!r}, want {expected!r}"


# ---------------------------------------------------------------------------------------------
# GET / SET and options
# ---------------------------------------------------------------------------------------------

def test_get_set_basic(c):
    check(c, [
        (("GET", "k"), None),
        (("SET", "k", "v"), "OK"),
        (("GET", "k"), b"v"),
        (("SET", "k", "v2"), "OK"),
        (("GET", "k"), b"v2"),
        (("SET", "k", ""), "OK"),
        (("GET", "k"), b""),
        (("SET", "n", "12"), "OK"),
        (("GET", "n"), b"12"),
        (("GET",), wrong_args("get")),
        (("SET", "k"), wrong_args("set")),
    ])


def test_set_nx_xx(c):
    check(c, [
        (("SET", "k", "v", "XX"), None),
        (("GET", "k"), None),
        (("SET", "k", "v", "NX"), "OK"),
        (("SET", "k", "w", "NX"), None),
        (("GET", "k"), b"v"),
        (("SET", "k", "w", "XX"), "OK"),
        (("GET", "k"), b"w"),
        (("SET", "k", "x", "nx"), None),
        (("SET", "k", "v", "NX", "XX"), SYNTAX),
        (("SET", "k", "v", "XX", "NX"), SYNTAX),
        (("SET", "k", "v", "nx", "nx"), None),  # repeating the same flag is allowed
    ])


def test_set_get_option(c):
    check(c, [
        (("SET", "k", "v", "GET"), None),
        (("GET", "k"), b"v"),
        (("SET", "k", "v2", "GET"), b"v"),
        (("SET", "k", "v3", "NX", "GET"), b"v2"),   # NX+GET allowed in 7.0, no write
        (("GET", "k"), b"v2"),
        (("SET", "k2", "x", "XX", "GET"), None),
        (("EXISTS", "k2"), 0),
        (("SET", "k", "v4", "XX", "GET"), b"v2"),
        (("GET", "k"), b"v4"),
        (("SET", "k", "v5", "GET", "GET"), b"v4"),
    ])


def test_set_expire_options(c):
    check(c, [
        (("SET", "k", "v", "EX", "100"), "OK"),
        (("TTL", "k"), 100),
        (("SET", "k", "v", "PX", "100000"), "OK"),
        (("TTL", "k"), 100),
        (("SET", "k", "v", "ex", "10", "ex", "20"), "OK"),  # last wins
        (("TTL", "k"), 20),
    ])
    pttl = c.cmd("PTTL", "k")
    assert 19000 < pttl <= 20000
    now = int(time.time())
    check(c, [(("SET", "k", "v", "EXAT", str(now + 1000)), "OK")])
    assert 998 <= c.cmd("TTL", "k") <= 1000
    assert c.cmd("EXPIRETIME", "k") == now + 1000
    check(c, [(("SET", "k", "v", "PXAT", str(now * 1000 + 500000)), "OK")])
    assert c.cmd("PEXPIRETIME", "k") == now * 1000 + 500000
    # a time in the past deletes the key (reply still OK)
    check(c, [
        (("SET", "k", "v", "EXAT", str(now - 10)), "OK"),
        (("EXISTS", "k"), 0),
        (("SET", "k", "v", "PXAT", "1"), "OK"),
        (("GET", "k"), None),
        (("SET", "k", "v"), "OK"),
        (("TTL", "k"), -1),
    ])


def test_set_keepttl_and_overwrite_clears_ttl(c):
    check(c, [
        (("SET", "k", "v", "EX", "100"), "OK"),
        (("SET", "k", "v2", "KEEPTTL"), "OK"),
        (("TTL", "k"), 100),
        (("GET", "k"), b"v2"),
        (("SET", "k", "v3", "KEEPTTL", "KEEPTTL"), "OK"),
        (("TTL", "k"), 100),
        (("SET", "k", "v4"), "OK"),
        (("TTL", "k"), -1),
        (("SET", "nokey", "v", "KEEPTTL"), "OK"),
        (("TTL", "nokey"), -1),
    ])


@pytest.mark.parametrize("opts,err", [
    (("EX", "10", "PX", "100"), SYNTAX),
    (("PX", "100", "EX", "10"), SYNTAX),
    (("EX", "10", "KEEPTTL"), SYNTAX),
    (("KEEPTTL", "PX", "10"), SYNTAX),
    (("EX", "10", "EXAT", "99999999999"), SYNTAX),
    (("PXAT", "99999999999999", "EXAT", "99999999999"), SYNTAX),
    (("NX", "XX"), SYNTAX),
    (("FOO",), SYNTAX),
    (("EX",), SYNTAX),
    (("PX",), SYNTAX),
    (("EXAT",), SYNTAX),
    (("PERSIST",), SYNTAX),
    (("EX", "10", "20"), SYNTAX),
    (("EX", "abc"), NOT_INT),
    (("EX", "1.5"), NOT_INT),
    (("PX", "12x"), NOT_INT),
    (("EX", "0"), bad_expire("set")),
    (("EX", "-1"), bad_expire("set")),
    (("PX", "0"), bad_expire("set")),
    (("PX", "-100"), bad_expire("set")),
    (("EXAT", "0"), bad_expire("set")),
    (("PXAT", "0"), bad_expire("set")),
    (("PXAT", "-1"), bad_expire("set")),
    (("EX", "9223372036854775807"), bad_expire("set")),
    (("EX", "9223372036854774"), bad_expire("set")),
    (("PX", "9223372036854775807"), bad_expire("set")),
    (("EX", "9223372036854775808"), NOT_INT),
], ids=lambda v: " ".join(v) if isinstance(v, tuple) else None)
def test_set_option_errors(c, opts, err):
    c.cmd("SET", "k", "old")
    assert c.cmd("SET", "k", "new", *opts) == err
    assert c.cmd("GET", "k") == b"old"
    assert c.cmd("TTL", "k") == -1


def test_setnx_setex_psetex(c):
    check(c, [
        (("SETNX", "k", "v"), 1),
        (("SETNX", "k", "w"), 0),
        (("GET", "k"), b"v"),
        (("SETEX", "k", "100", "x"), "OK"),
        (("GET", "k"), b"x"),
        (("TTL", "k"), 100),
        (("PSETEX", "k", "50000", "y"), "OK"),
        (("TTL", "k"), 50),
        (("GET", "k"), b"y"),
        (("SETEX", "k", "0", "v"), bad_expire("setex")),
        (("SETEX", "k", "-5", "v"), bad_expire("setex")),
        (("SETEX", "k", "abc", "v"), NOT_INT),
        (("PSETEX", "k", "0", "v"), bad_expire("psetex")),
        (("PSETEX", "k", "-1", "v"), bad_expire("psetex")),
        (("GET", "k"), b"y"),
        (("SETEX", "k", "10"), wrong_args("setex")),
        (("SETNX", "k"), wrong_args("setnx")),
    ])


def test_getset_getdel(c):
    check(c, [
        (("GETSET", "k", "a"), None),
        (("GETSET", "k", "b"), b"a"),
        (("GET", "k"), b"b"),
        (("EXPIRE", "k", "100"), 1),
        (("GETSET", "k", "c"), b"b"),
        (("TTL", "k"), -1),  # GETSET clears the TTL
        (("GETDEL", "k"), b"c"),
        (("GETDEL", "k"), None),
        (("EXISTS", "k"), 0),
        (("GETDEL", "k", "x"), wrong_args("getdel")),
    ])


def test_getex(c):
    check(c, [
        (("GETEX", "nosuch"), None),
        (("GETEX", "nosuch", "EX", "10"), None),
        (("EXISTS", "nosuch"), 0),
        (("SET", "k", "v"), "OK"),
        (("GETEX", "k"), b"v"),
        (("TTL", "k"), -1),
        (("GETEX", "k", "EX", "100"), b"v"),
        (("TTL", "k"), 100),
        (("GETEX", "k", "PX", "50000"), b"v"),
        (("TTL", "k"), 50),
        (("GETEX", "k", "PERSIST"), b"v"),
        (("TTL", "k"), -1),
        (("GETEX", "k", "EXAT", str(int(time.time()) + 200)), b"v"),
    ])
    assert 198 <= c.cmd("TTL", "k") <= 200
    check(c, [
        (("GETEX", "k", "PXAT", str(int(time.time() * 1000) + 300000)), b"v"),
    ])
    assert 298 <= c.cmd("TTL", "k") <= 300
    check(c, [
        (("GETEX", "k", "EX", "0"), bad_expire("getex")),
        (("GETEX", "k", "EX", "-1"), bad_expire("getex")),
        (("GETEX", "k", "PX", "0"), bad_expire("getex")),
        (("GETEX", "k", "EX", "abc"), NOT_INT),
        (("GETEX", "k", "EX", "100", "PX", "100"), SYNTAX),
        (("GETEX", "k", "PERSIST", "EX", "10"), SYNTAX),
        (("GETEX", "k", "EX", "10", "PERSIST"), SYNTAX),
        (("GETEX", "k", "FOO"), SYNTAX),
        (("GETEX", "k", "EX"), SYNTAX),
        (("EXISTS", "k"), 1),
        # an absolute time in the past deletes the key, but the value is still returned
        (("GETEX", "k", "EXAT", "1"), b"v"),
        (("EXISTS", "k"), 0),
    ])


def test_mget_mset_msetnx(c):
    check(c, [
        (("MSET", "a", "1", "b", "2", "c", "3"), "OK"),
        (("MGET", "a", "b", "nosuch", "c"), [b"1", b"2", None, b"3"]),
        (("MSET", "a", "x", "a", "y"), "OK"),
        (("GET", "a"), b"y"),
        (("MSET", "a"), wrong_args("mset")),
        (("MSET", "a", "1", "b"), wrong_args("mset")),
        (("MSETNX", "d", "4", "e", "5"), 1),
        (("MSETNX", "e", "6", "f", "7"), 0),
        (("EXISTS", "f"), 0),
        (("GET", "e"), b"5"),
        (("MSETNX", "g", "1", "g", "2"), 1),
        (("GET", "g"), b"2"),
        (("MSETNX", "a"), wrong_args("msetnx")),
        (("MGET",), wrong_args("mget")),
        (("EXPIRE", "a", "100"), 1),
        (("MSET", "a", "z"), "OK"),
        (("TTL", "a"), -1),
    ])


def test_append_strlen(c):
    check(c, [
        (("APPEND", "k", "hello"), 5),
        (("APPEND", "k", " world"), 11),
        (("GET", "k"), b"hello world"),
        (("STRLEN", "k"), 11),
        (("STRLEN", "nosuch"), 0),
        (("APPEND", "k", ""), 11),
        (("SET", "n", "12"), "OK"),
        (("APPEND", "n", "34"), 4),
        (("GET", "n"), b"1234"),
        (("STRLEN", "n"), 4),
        (("SET", "i", "-123456"), "OK"),
        (("STRLEN", "i"), 7),
        (("APPEND", "e", ""), 0),
        (("EXISTS", "e"), 1),
    ])


def test_append_keeps_ttl(c):
    check(c, [
        (("SET", "k", "a", "EX", "100"), "OK"),
        (("APPEND", "k", "b"), 2),
        (("TTL", "k"), 100),
        (("SETRANGE", "k", "0", "x"), 2),
        (("TTL", "k"), 100),
        (("INCR", "n"), 1),
        (("EXPIRE", "n", "100"), 1),
        (("INCR", "n"), 2),
        (("TTL", "n"), 100),
    ])


# ---------------------------------------------------------------------------------------------
# Counters
# ---------------------------------------------------------------------------------------------

def test_incr_decr_family(c):
    check(c, [
        (("INCR", "n"), 1),
        (("INCR", "n"), 2),
        (("INCRBY", "n", "10"), 12),
        (("INCRBY", "n", "-20"), -8),
        (("DECR", "n"), -9),
        (("DECRBY", "n", "3"), -12),
        (("DECRBY", "n", "-12"), 0),
        (("GET", "n"), b"0"),
        (("DECR", "m"), -1),
        (("INCRBY", "o", "5"), 5),
        (("DECRBY", "p", "5"), -5),
        (("SET", "s", "41"), "OK"),
        (("INCR", "s"), 42),
        (("GET", "s"), b"42"),
        (("INCR", "n", "1"), wrong_args("incr")),
        (("INCRBY", "n"), wrong_args("incrby")),
    ])


@pytest.mark.parametrize("value", ["abc", " 1", "1 ", "01", "+1", "", "-0", "1.5", "1e3",
                                   "9223372036854775808", "-9223372036854775809", "0x10", "1\x00"])
def test_incr_on_non_integer_string(c, value):
    c.cmd("SET", "k", value)
    for args in (("INCR", "k"), ("DECR", "k"), ("INCRBY", "k", "1"), ("DECRBY", "k", "1")):
        assert c.cmd(*args) == NOT_INT
    assert c.cmd("GET", "k") == value.encode()


@pytest.mark.parametrize("incr", ["abc", "1.5", "", " 1", "9223372036854775808", "1e3"])
def test_incrby_bad_increment(c, incr):
    c.cmd("SET", "k", "5")
    assert c.cmd("INCRBY", "k", incr) == NOT_INT
    assert c.cmd("DECRBY", "k", incr) == NOT_INT
    assert c.cmd("GET", "k") == b"5"


def test_incr_overflow(c):
    check(c, [
        (("SET", "n", "9223372036854775807"), "OK"),
        (("INCR", "n"), OVERFLOW),
        (("INCRBY", "n", "1"), OVERFLOW),
        (("GET", "n"), b"9223372036854775807"),
        (("DECR", "n"), 9223372036854775806),
        (("SET", "n", "-9223372036854775808"), "OK"),
        (("DECR", "n"), OVERFLOW),
        (("DECRBY", "n", "1"), OVERFLOW),
        (("INCRBY", "n", "-1"), OVERFLOW),
        (("INCR", "n"), -9223372036854775807),
        (("SET", "n", "0"), "OK"),
        # negating LLONG_MIN is its own error
        (("DECRBY", "n", "-9223372036854775808"), Err("ERR decrement would overflow")),
        (("INCRBY", "n", "-9223372036854775808"), -9223372036854775808),
        (("INCRBY", "n", "9223372036854775807"), -1),
    ])


def test_incrbyfloat(c):
    check(c, [
        (("INCRBYFLOAT", "f", "1"), b"1"),
        (("INCRBYFLOAT", "g", "0.1"), b"0.1"),
        (("SET", "f", "10.50"), "OK"),
        (("INCRBYFLOAT", "f", "0.1"), b"10.6"),
        (("INCRBYFLOAT", "f", "-5"), b"5.6"),
        (("SET", "f", "3"), "OK"),
        (("INCRBYFLOAT", "f", "1.5"), b"4.5"),
        (("INCRBYFLOAT", "f", "-4.5"), b"0"),
        (("SET", "f", "3.0"), "OK"),
        (("INCRBYFLOAT", "f", "0"), b"3"),
        (("SET", "f", "5.0e3"), "OK"),
        (("INCRBYFLOAT", "f", "2.0e2"), b"5200"),
        (("SET", "f", "1"), "OK"),
        (("INCRBYFLOAT", "f", "1e-20"), b"1"),
        (("INCRBYFLOAT", "h", "123456789012345678"), b"123456789012345678"),
        (("SET", "f", "1.5"), "OK"),
        (("INCRBY", "f", "1"), NOT_INT),
        (("INCRBYFLOAT", "f", "abc"), NOT_FLOAT),
        (("INCRBYFLOAT", "f", "nan"), NOT_FLOAT),
        (("INCRBYFLOAT", "f", ""), NOT_FLOAT),
        (("INCRBYFLOAT", "f", " 1"), NOT_FLOAT),
        (("INCRBYFLOAT", "f", "inf"), Err("ERR increment would produce NaN or Infinity")),
        (("INCRBYFLOAT", "f", "-inf"), Err("ERR increment would produce NaN or Infinity")),
        (("GET", "f"), b"1.5"),
        (("SET", "s", "abc"), "OK"),
        (("INCRBYFLOAT", "s", "1"), NOT_FLOAT),
        (("SET", "s", " 1.5"), "OK"),
        (("INCRBYFLOAT", "s", "1"), NOT_FLOAT),
        (("INCRBYFLOAT", "f"), wrong_args("incrbyfloat")),
    ])


def test_incrbyfloat_long_double_formatting(c):
    """Redis computes in long double and prints with %.17Lf, trimming trailing zeros."""
    check(c, [
        (("SET", "f", "10.50"), "OK"),
        (("INCRBYFLOAT", "f", "0.1"), b"10.6"),
        (("INCRBYFLOAT", "f", "-5"), b"5.6"),
        (("INCRBYFLOAT", "f", "5.0e3"), b"5005.60000000000000009"),
        (("SET", "e", "1.5e2"), "OK"),
        (("INCRBYFLOAT", "e", "0.25"), b"150.25"),
    ])


def test_incrbyfloat_overflow(c):
    check(c, [
        (("SET", "f", "1.7976931348623157e308"), "OK"),
        (("INCRBYFLOAT", "f", "1.7976931348623157e308"),
         b"3595386269724631399918420935482088680967728938886583569706288415303532570462487927094037372167741711"
         b"2885758683885104137861741672690227211071579455605295523414699795537257678967123632658809118886985907"
         b"4894581254961338834769297758245552436667197907705664206565009503223382416235440319971852753604933726679072768"),
    ])
    # ... but beyond long double range it is an error
    c.cmd("SET", "big", "1e4932")
    assert c.cmd("INCRBYFLOAT", "big", "1e4932") == Err("ERR increment would produce NaN or Infinity")


# ---------------------------------------------------------------------------------------------
# Ranges
# ---------------------------------------------------------------------------------------------

def test_getrange_substr(c):
    c.cmd("SET", "s", "Hello World")
    check(c, [
        (("GETRANGE", "s", "0", "4"), b"Hello"),
        (("GETRANGE", "s", "-5", "-1"), b"World"),
        (("GETRANGE", "s", "0", "-1"), b"Hello World"),
        (("GETRANGE", "s", "5", "2"), b""),
        (("GETRANGE", "s", "-100", "100"), b"Hello World"),
        (("GETRANGE", "s", "100", "200"), b""),
        (("GETRANGE", "s", "3", "3"), b"l"),
        (("GETRANGE", "s", "10", "100"), b"d"),
        (("GETRANGE", "nosuch", "0", "10"), b""),
        (("GETRANGE", "s", "a", "b"), NOT_INT),
        (("GETRANGE", "s", "0"), wrong_args("getrange")),
        (("SUBSTR", "s", "0", "4"), b"Hello"),
        (("SUBSTR", "s", "-3", "-1"), b"rld"),
        (("SET", "i", "12345"), "OK"),
        (("GETRANGE", "i", "1", "2"), b"23"),
        (("GETRANGE", "i", "-2", "-1"), b"45"),
    ])


def test_getrange_redis70_negative_end_quirk(c):
    """Redis 7.0: an end index that is still negative after adding the length clamps to 0,
    so GETRANGE s 0 -100 returns the first byte (changed only in Redis 7.2)."""
    c.cmd("SET", "s", "Hello World")
    assert c.cmd("GETRANGE", "s", "0", "-100") == b"H"
    assert c.cmd("GETRANGE", "s", "-100", "-50") == b"H"
    assert c.cmd("SET", "e", "") == "OK"
    assert c.cmd("GETRANGE", "e", "0", "-1") == b""


def test_setrange(c):
    check(c, [
        (("SET", "s", "Hello World"), "OK"),
        (("SETRANGE", "s", "6", "Redis"), 11),
        (("GET", "s"), b"Hello Redis"),
        (("SETRANGE", "s", "20", "X"), 21),
        (("GET", "s"), b"Hello Redis" + b"\x00" * 9 + b"X"),
        (("SETRANGE", "new", "3", "ab"), 5),
        (("GET", "new"), b"\x00\x00\x00ab"),
        (("SETRANGE", "s", "0", ""), 21),
        (("SETRANGE", "empty", "0", ""), 0),
        (("SETRANGE", "empty", "5", ""), 0),
        (("EXISTS", "empty"), 0),
        (("SETRANGE", "s", "-1", "x"), Err("ERR offset is out of range")),
        (("SETRANGE", "s", "a", "x"), NOT_INT),
        (("SETRANGE", "s", "536870912", "x"), TOO_BIG),
        (("SETRANGE", "s", "536870911", ""), 21),
        (("SET", "i", "1234"), "OK"),
        (("SETRANGE", "i", "1", "x"), 4),
        (("GET", "i"), b"1x34"),
        (("SETRANGE", "s", "0"), wrong_args("setrange")),
    ])


# ---------------------------------------------------------------------------------------------
# LCS
# ---------------------------------------------------------------------------------------------

def test_lcs(c):
    c.cmd("MSET", "key1", "ohmytext", "key2", "mynewtext")
    check(c, [
        (("LCS", "key1", "key2"), b"mytext"),
        (("LCS", "key1", "key2", "LEN"), 6),
        (("LCS", "key1", "key2", "IDX"),
         [b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len", 6]),
        (("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4"), [b"matches", [[[4, 7], [5, 8]]], b"len", 6]),
        (("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"),
         [b"matches", [[[4, 7], [5, 8], 4]], b"len", 6]),
        (("LCS", "key1", "key2", "IDX", "WITHMATCHLEN"),
         [b"matches", [[[4, 7], [5, 8], 4], [[2, 3], [0, 1], 2]], b"len", 6]),
        (("LCS", "key1", "key2", "idx", "minmatchlen", "-1"),
         [b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len", 6]),
        (("LCS", "key1", "key2", "LEN", "WITHMATCHLEN"), 6),
        (("LCS", "key1", "key2", "MINMATCHLEN", "100"), b"mytext"),
        (("LCS", "key1", "nosuch"), b""),
        (("LCS", "nosuch", "nosuch2", "LEN"), 0),
        (("LCS", "nosuch", "nosuch2", "IDX"), [b"matches", [], b"len", 0]),
        (("LCS", "key1", "key1"), b"ohmytext"),
        (("LCS", "key1", "key2", "LEN", "IDX"),
         Err("ERR If you want both the length and indexes, please just use IDX.")),
        (("LCS", "key1", "key2", "FOO"), SYNTAX),
        (("LCS", "key1", "key2", "MINMATCHLEN"), SYNTAX),
        (("LCS", "key1", "key2", "MINMATCHLEN", "abc"), NOT_INT),
        (("LCS", "key1"), wrong_args("lcs")),
    ])


def test_lcs_more(c):
    c.cmd("MSET", "a", "ABCBDAB", "b", "BDCABA", "x", "12345", "y", "24")
    assert c.cmd("LCS", "a", "b", "LEN") == 4
    assert len(c.cmd("LCS", "a", "b")) == 4
    assert c.cmd("LCS", "x", "y") == b"24"
    assert c.cmd("LCS", "x", "y", "IDX") == [b"matches", [[[3, 3], [1, 1]], [[1, 1], [0, 0]]], b"len", 2]


# ---------------------------------------------------------------------------------------------
# Object encodings
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value,enc", [
    ("123", b"int"),
    ("-1", b"int"),
    ("0", b"int"),
    ("9223372036854775807", b"int"),
    ("-9223372036854775808", b"int"),
    ("9223372036854775808", b"embstr"),
    ("12345678901234567890", b"embstr"),
    ("0123", b"embstr"),
    ("+1", b"embstr"),
    ("  5", b"embstr"),
    ("1e3", b"embstr"),
    ("1.5", b"embstr"),
    ("", b"embstr"),
    ("abc", b"embstr"),
    ("a" * 44, b"embstr"),
    ("a" * 45, b"raw"),
    ("a" * 1000, b"raw"),
])
def test_set_encoding(c, value, enc):
    assert c.cmd("SET", "k", value) == "OK"
    assert c.cmd("OBJECT", "ENCODING", "k") == enc
    assert c.cmd("GET", "k") == value.encode()


def test_encoding_transitions(c):
    check(c, [
        (("SET", "e", "abc"), "OK"),
        (("APPEND", "e", "d"), 4),
        (("OBJECT", "ENCODING", "e"), b"raw"),
        (("SET", "e", "5"), "OK"),
        (("APPEND", "e", "1"), 2),
        (("OBJECT", "ENCODING", "e"), b"raw"),
        (("INCR", "e"), 52),
        (("OBJECT", "ENCODING", "e"), b"int"),
        (("SET", "e", "abc"), "OK"),
        (("SETRANGE", "e", "0", "x"), 3),
        (("OBJECT", "ENCODING", "e"), b"raw"),
        (("SETRANGE", "e2", "0", "12"), 2),
        (("OBJECT", "ENCODING", "e2"), b"raw"),
        (("SET", "f", "10"), "OK"),
        (("INCRBYFLOAT", "f", "1.5"), b"11.5"),
        (("OBJECT", "ENCODING", "f"), b"embstr"),
        (("INCRBYFLOAT", "f", "0.5"), b"12"),
        (("OBJECT", "ENCODING", "f"), b"embstr"),
        (("GETSET", "g", "42"), None),
        (("OBJECT", "ENCODING", "g"), b"int"),
        (("MSET", "h", "77", "i", "xyz"), "OK"),
        (("OBJECT", "ENCODING", "h"), b"int"),
        (("OBJECT", "ENCODING", "i"), b"embstr"),
        (("SETEX", "j", "100", "42"), "OK"),
        (("OBJECT", "ENCODING", "j"), b"int"),
        (("INCR", "new"), 1),
        (("OBJECT", "ENCODING", "new"), b"int"),
        (("SET", "big", "99999"), "OK"),
        (("DECR", "big"), 99998),
        (("OBJECT", "ENCODING", "big"), b"int"),
        (("OBJECT", "ENCODING", "nosuch"), None),
    ])
