"""Hash commands: exact replies and error texts, encodings and their conversions, random fields and HSCAN
(raw RESP2 connection `c`, RESP3 where the reply shape differs).

Reply types: simple string -> str, bulk -> bytes, integer -> int, error -> Err.
Validated against Debian's redis-server 7.0 (SARDINE_SERVER=/usr/bin/redis-server).
"""
import pytest

from sardine_resp import Err, Map, Raw
from harness import assert_keyspace_ok

SYNTAX = Err("ERR syntax error")
NOT_INT = Err("ERR value is not an integer or out of range")
NOT_FLOAT = Err("ERR value is not a valid float")
WRONGTYPE = Err("WRONGTYPE Operation against a key holding the wrong kind of value")


def wrong_args(cmd):
    return Err(f"ERR wrong number of arguments for '{cmd}' command")


def check(c, steps):
    for args, expected in steps:
        got = c.cmd(*args)
        assert got == expected and type(got) is type(expected), f"{args}: got {got!r}, want {expected!r}"


def enc(c, key):
    return c.cmd("OBJECT", "ENCODING", key)


def test_set_get_basic(c):
    check(c, [
        (("HSET", "h", "a", "1"), 1),
        (("HSET", "h", "a", "2", "b", "x"), 1),
        (("HGET", "h", "a"), b"2"),
        (("HGET", "h", "b"), b"x"),
        (("HGET", "h", "nope"), None),
        (("HGET", "missing", "a"), None),
        (("HMSET", "h", "c", "3", "d", ""), "OK"),
        (("HGET", "h", "d"), b""),
        (("HLEN", "h"), 4),
        (("HLEN", "missing"), 0),
        (("HEXISTS", "h", "c"), 1),
        (("HEXISTS", "h", "z"), 0),
        (("HEXISTS", "missing", "z"), 0),
        (("HSTRLEN", "h", "b"), 1),
        (("HSTRLEN", "h", "z"), 0),
        (("HMGET", "h", "a", "z", "c"), [b"2", None, b"3"]),
        (("HMGET", "missing", "a", "b"), [None, None]),
        (("HSET", "h", "a"), wrong_args("hset")),
        (("HSET", "h", "a", "1", "b"), wrong_args("hset")),
        (("HMSET", "h", "a", "1", "b"), wrong_args("hmset")),
        (("HSET", "h"), wrong_args("hset")),
        (("HGET", "h"), wrong_args("hget")),
        (("TYPE", "h"), "hash"),
    ])


def test_integer_values_keep_their_text(c):
    vals = ["0", "-1", "127", "128", "-4096", "4096", "9223372036854775807", "-9223372036854775808",
            "9223372036854775808", "007", "-0", "+1", " 1", "1.5", "1e3"]
    for i, v in enumerate(vals):
        c.cmd("HSET", "h", f"f{i}", v)
    assert c.cmd("HMGET", "h", *[f"f{i}" for i in range(len(vals))]) == [v.encode() for v in vals]
    assert c.cmd("HSTRLEN", "h", "f6") == 19
    # numeric-looking fields too
    check(c, [(("HSET", "h", "12", "a", "-5", "b"), 2), (("HGET", "h", "12"), b"a"), (("HGET", "h", "012"), None)])


def test_binary_safe(c):
    f, v = b"f\x00\xff\r\n", b"v\x00\x01" * 30
    assert c.cmd("HSET", "h", f, v) == 1
    assert c.cmd("HGET", "h", f) == v
    assert c.cmd("HGETALL", "h") == [f, v]


def test_hsetnx(c):
    check(c, [
        (("HSETNX", "h", "a", "1"), 1),
        (("HSETNX", "h", "a", "2"), 0),
        (("HGET", "h", "a"), b"1"),
        (("HSETNX", "h", "b", "2"), 1),
        (("HSETNX", "h", "a", "x" * 100), 0),
    ])
    assert enc(c, "h") == b"listpack"  # an existing field is not touched, so no conversion
    assert c.cmd("HSETNX", "h", "c", "x" * 65) == 1
    assert enc(c, "h") == b"hashtable"


def test_hdel_deletes_empty_key(c):
    check(c, [
        (("HSET", "h", "a", "1", "b", "2", "c", "3"), 3),
        (("HDEL", "h", "a", "zz", "a"), 1),
        (("HDEL", "missing", "a"), 0),
        (("HDEL", "h", "b", "c", "d"), 2),
        (("EXISTS", "h"), 0),
        (("HDEL", "h"), wrong_args("hdel")),
    ])


def test_getall_keys_vals_in_insertion_order(c):
    c.cmd("HSET", "h", "z", "1", "a", "2", "m", "3")
    c.cmd("HSET", "h", "a", "20")
    check(c, [
        (("HGETALL", "h"), [b"z", b"1", b"a", b"20", b"m", b"3"]),
        (("HKEYS", "h"), [b"z", b"a", b"m"]),
        (("HVALS", "h"), [b"1", b"20", b"3"]),
        (("HGETALL", "missing"), []),
        (("HKEYS", "missing"), []),
        (("HVALS", "missing"), []),
    ])
    c.cmd("HDEL", "h", "z")
    assert c.cmd("HKEYS", "h") == [b"a", b"m"]


def test_resp3_shapes(sardine):
    c = Raw(sardine.port)
    c.cmd("HELLO", "3")
    c.cmd("HSET", "h", "a", "1", "b", "2")
    m = c.cmd("HGETALL", "h")
    assert isinstance(m, Map) and m.dict() == {b"a": b"1", b"b": b"2"}
    assert isinstance(c.cmd("HGETALL", "nope"), Map)
    r = c.cmd("HRANDFIELD", "h", "5", "WITHVALUES")
    assert sorted(r) == [[b"a", b"1"], [b"b", b"2"]]
    r = c.cmd("HRANDFIELD", "h", "-3", "WITHVALUES")
    assert len(r) == 3 and all(p in ([b"a", b"1"], [b"b", b"2"]) for p in r)
    assert c.cmd("HRANDFIELD", "nope") is None
    c.close()


def test_wrongtype(c):
    c.cmd("SET", "s", "x")
    for args in [("HSET", "s", "a", "1"), ("HSETNX", "s", "a", "1"), ("HGET", "s", "a"), ("HMGET", "s", "a"),
                 ("HMSET", "s", "a", "1"), ("HGETALL", "s"), ("HDEL", "s", "a"), ("HEXISTS", "s", "a"),
                 ("HLEN", "s"), ("HSTRLEN", "s", "a"), ("HKEYS", "s"), ("HVALS", "s"),
                 ("HINCRBY", "s", "a", "1"), ("HINCRBYFLOAT", "s", "a", "1"), ("HRANDFIELD", "s"),
                 ("HRANDFIELD", "s", "2"), ("HSCAN", "s", "0")]:
        assert c.cmd(*args) == WRONGTYPE, args
    c.cmd("HSET", "h", "a", "1")
    assert c.cmd("GET", "h") == WRONGTYPE
    # argument errors come before the type check for the counters
    assert c.cmd("HINCRBY", "s", "a", "x") == NOT_INT
    assert c.cmd("HINCRBYFLOAT", "s", "a", "x") == NOT_FLOAT


def test_hincrby(c):
    check(c, [
        (("HINCRBY", "h", "n", "5"), 5),
        (("HINCRBY", "h", "n", "-10"), -5),
        (("HGET", "h", "n"), b"-5"),
        (("HSET", "h", "s", "abc", "big", "9223372036854775807", "sp", " 1", "z", "007"), 4),
        (("HINCRBY", "h", "s", "1"), Err("ERR hash value is not an integer")),
        (("HINCRBY", "h", "sp", "1"), Err("ERR hash value is not an integer")),
        (("HINCRBY", "h", "z", "1"), Err("ERR hash value is not an integer")),
        (("HINCRBY", "h", "big", "1"), Err("ERR increment or decrement would overflow")),
        (("HINCRBY", "h", "big", "-1"), 9223372036854775806),
        (("HINCRBY", "h", "n", "x"), NOT_INT),
        (("HINCRBY", "h", "n", "1.5"), NOT_INT),
        (("HINCRBY", "h", "n", "9223372036854775808"), NOT_INT),
        (("HINCRBY", "new", "f", "0"), 0),
        (("HGETALL", "new"), [b"f", b"0"]),
    ])
    c.cmd("HSET", "m", "f", "-9223372036854775808")
    assert c.cmd("HINCRBY", "m", "f", "-1") == Err("ERR increment or decrement would overflow")


def test_hincrbyfloat(c):
    check(c, [
        (("HINCRBYFLOAT", "h", "f", "1.5"), b"1.5"),
        (("HINCRBYFLOAT", "h", "f", "0.25"), b"1.75"),
        (("HINCRBYFLOAT", "h", "f", "5.0e3"), b"5001.75"),
        (("HSET", "h", "i", "10", "s", "abc", "e", "5.0"), 3),
        (("HINCRBYFLOAT", "h", "i", "1"), b"11"),
        (("HINCRBYFLOAT", "h", "e", "0"), b"5"),
        (("HINCRBYFLOAT", "h", "s", "1"), Err("ERR hash value is not a float")),
        (("HINCRBYFLOAT", "h", "i", "abc"), NOT_FLOAT),
        (("HINCRBYFLOAT", "h", "i", "nan"), NOT_FLOAT),
        (("HINCRBYFLOAT", "h", "i", ""), NOT_FLOAT),
        (("HINCRBYFLOAT", "h", "i", "inf"), Err("ERR value is NaN or Infinity")),
        (("HINCRBYFLOAT", "h", "i", "-inf"), Err("ERR value is NaN or Infinity")),
        (("HGET", "h", "i"), b"11"),
    ])


def test_encoding_conversion_by_entries(make_sardine):
    srv = make_sardine("--hash-max-listpack-entries", "4")
    c = Raw(srv.port)
    c.cmd("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4")
    assert enc(c, "h") == b"listpack"
    c.cmd("HSET", "h", "a", "5", "a", "6")  # updates do not count
    assert enc(c, "h") == b"listpack"
    c.cmd("HSET", "h", "e", "5")
    assert enc(c, "h") == b"hashtable"
    c.cmd("HDEL", "h", "a", "b", "c", "d")
    assert enc(c, "h") == b"hashtable"  # never converts back
    assert c.cmd("HGETALL", "h") == [b"e", b"5"]
    c.cmd("CONFIG", "SET", "hash-max-listpack-entries", "0")
    c.cmd("HSET", "z", "a", "1")
    assert enc(c, "z") == b"hashtable"
    c.close()


def test_encoding_conversion_by_length(c):
    c.cmd("HSET", "a", "f", "x" * 64)
    assert enc(c, "a") == b"listpack"
    c.cmd("HSET", "a", "g", "x" * 65)
    assert enc(c, "a") == b"hashtable"
    c.cmd("HSET", "b", "f" * 65, "1")
    assert enc(c, "b") == b"hashtable"
    c.cmd("HINCRBY", "c", "f" * 65, "1")
    assert enc(c, "c") == b"hashtable"
    c.cmd("HSET", "d", "f", "1")
    c.cmd("HINCRBYFLOAT", "d", "f", "1e60")
    assert 50 < c.cmd("HSTRLEN", "d", "f") <= 64
    assert enc(c, "d") == b"listpack"
    c.cmd("HINCRBYFLOAT", "d", "f", "1e70")
    assert enc(c, "d") == b"hashtable"
    c.cmd("CONFIG", "SET", "hash-max-listpack-value", "3")
    c.cmd("HSET", "e", "abc", "abcd")
    assert enc(c, "e") == b"hashtable"
    c.cmd("CONFIG", "SET", "hash-max-ziplist-value", "100")
    c.cmd("HSET", "f", "abc", "x" * 100)
    assert enc(c, "f") == b"listpack"


def test_big_hash_all_operations(c):
    n = 1000
    args = []
    for i in range(n):
        args += [f"field:{i}", str(i) if i % 3 == 0 else f"v{i}" * (1 + i % 7)]
    assert c.cmd("HSET", "h", *args) == n
    assert enc(c, "h") == b"hashtable"
    assert c.cmd("HLEN", "h") == n
    want = {args[i].encode(): args[i + 1].encode() for i in range(0, len(args), 2)}
    got = c.cmd("HGETALL", "h")
    assert dict(zip(got[::2], got[1::2])) == want and len(got) == 2 * n
    assert sorted(c.cmd("HKEYS", "h")) == sorted(want)
    assert sorted(c.cmd("HVALS", "h")) == sorted(want.values())
    assert c.cmd("HGET", "h", "field:7") == want[b"field:7"]
    assert c.cmd("HINCRBY", "h", "field:3", "10") == 13
    assert c.cmd("HSET", "h", "field:3", "x" * 5000) == 0  # longer than an arena entry: heap value
    assert c.cmd("HGET", "h", "field:3") == b"x" * 5000
    assert c.cmd("HSTRLEN", "h", "field:3") == 5000
    assert c.cmd("HDEL", "h", *[f"field:{i}" for i in range(0, n, 2)]) == n // 2
    assert c.cmd("HLEN", "h") == n // 2
    assert c.cmd("HEXISTS", "h", "field:2") == 0 and c.cmd("HEXISTS", "h", "field:3") == 1
    assert c.cmd("COPY", "h", "h2") == 1
    assert c.cmd("HGET", "h2", "field:3") == b"x" * 5000
    assert c.cmd("HLEN", "h2") == n // 2
    assert c.cmd("DEL", "h") == 1
    assert c.cmd("HLEN", "h2") == n // 2
    assert c.cmd("HDEL", "h2", *[f"field:{i}" for i in range(1, n, 2)]) == n // 2
    assert c.cmd("EXISTS", "h2") == 0
    assert_keyspace_ok(c)


def test_copy_and_rename_listpack(c):
    c.cmd("HSET", "h", "a", "1", "b", "two")
    assert c.cmd("COPY", "h", "h2") == 1
    c.cmd("HSET", "h", "a", "changed")
    assert c.cmd("HGETALL", "h2") == [b"a", b"1", b"b", b"two"]
    assert c.cmd("RENAME", "h2", "h3") == "OK"
    assert c.cmd("HGETALL", "h3") == [b"a", b"1", b"b", b"two"]
    assert enc(c, "h3") == b"listpack"


def test_hrandfield_errors_and_edges(c):
    c.cmd("HSET", "h", "a", "1", "b", "2", "c", "3")
    check(c, [
        (("HRANDFIELD", "missing"), None),
        (("HRANDFIELD", "missing", "5"), []),
        (("HRANDFIELD", "missing", "5", "WITHVALUES"), []),
        (("HRANDFIELD", "h", "0"), []),
        (("HRANDFIELD", "h", "0", "WITHVALUES"), []),
        (("HRANDFIELD", "h", "x"), NOT_INT),
        (("HRANDFIELD", "h", "1", "WITHVALUE"), SYNTAX),
        (("HRANDFIELD", "h", "1", "WITHVALUES", "x"), SYNTAX),
        (("HRANDFIELD", "h", "-9223372036854775808"),
         Err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")),
        (("HRANDFIELD", "h", "-9223372036854775807", "WITHVALUES"), Err("ERR value is out of range")),
        (("HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"), Err("ERR value is out of range")),
        (("HRANDFIELD", "h", "4611686018427387903", "WITHVALUES"), [b"a", b"1", b"b", b"2", b"c", b"3"]),
        (("HRANDFIELD", "h", "3"), [b"a", b"b", b"c"]),  # the whole hash, in order
        (("HRANDFIELD", "h", "100"), [b"a", b"b", b"c"]),
    ])


@pytest.mark.parametrize("size", [5, 100, 1000])
def test_hrandfield_properties(c, size):
    args = []
    for i in range(size):
        args += [f"f{i}", f"v{i}"]
    c.cmd("HSET", "h", *args)
    fields = {f"f{i}".encode() for i in range(size)}
    assert c.cmd("HRANDFIELD", "h") in fields
    for count in [1, 2, size // 3, size // 2, size - 1]:
        got = c.cmd("HRANDFIELD", "h", str(count))
        assert len(got) == count and len(set(got)) == count and set(got) <= fields
        got = c.cmd("HRANDFIELD", "h", str(count), "WITHVALUES")
        assert len(got) == 2 * count and len(set(got[::2])) == count
        assert all(v == b"v" + f[1:] for f, v in zip(got[::2], got[1::2]))
    got = c.cmd("HRANDFIELD", "h", str(-3 * size))
    assert len(got) == 3 * size and set(got) <= fields and len(set(got)) > 1
    got = c.cmd("HRANDFIELD", "h", "-50", "WITHVALUES")
    assert len(got) == 100 and all(v == b"v" + f[1:] for f, v in zip(got[::2], got[1::2]))
    # over many calls, every field shows up
    seen = set()
    for _ in range(60):
        seen.update(c.cmd("HRANDFIELD", "h", "-50"))
    if size <= 100:
        assert seen == fields


def test_hscan_listpack_returns_all(c):
    c.cmd("HSET", "h", "a", "1", "b", "2", "ab", "3")
    check(c, [
        (("HSCAN", "h", "0"), [b"0", [b"a", b"1", b"b", b"2", b"ab", b"3"]]),
        (("HSCAN", "h", "0", "COUNT", "1"), [b"0", [b"a", b"1", b"b", b"2", b"ab", b"3"]]),
        (("HSCAN", "h", "123"), [b"0", [b"a", b"1", b"b", b"2", b"ab", b"3"]]),
        (("HSCAN", "h", "0", "MATCH", "a*"), [b"0", [b"a", b"1", b"ab", b"3"]]),
        (("HSCAN", "h", "0", "MATCH", "1"), [b"0", []]),
        (("HSCAN", "h", "0", "COUNT", "0"), SYNTAX),
        (("HSCAN", "h", "0", "COUNT", "x"), NOT_INT),
        (("HSCAN", "h", "0", "MATCH"), SYNTAX),
        (("HSCAN", "h", "0", "FOO", "bar"), SYNTAX),
        (("HSCAN", "h", "x"), Err("ERR invalid cursor")),
        (("HSCAN", "h", " 1"), Err("ERR invalid cursor")),
        (("HSCAN", "h", "18446744073709551616"), Err("ERR invalid cursor")),
        (("HSCAN", "missing", "0"), [b"0", []]),
        (("HSCAN", "missing", "0", "FOO"), [b"0", []]),  # options are parsed only for an existing key
        (("HSCAN", "missing", "x"), Err("ERR invalid cursor")),
    ])


def test_hscan_hashtable_full_iteration(c):
    n = 700
    args = []
    for i in range(n):
        args += [f"k{i}", str(i)]
    c.cmd("HSET", "h", *args)
    seen = {}
    cursor = b"0"
    calls = 0
    while True:
        cursor, items = c.cmd("HSCAN", "h", cursor, "COUNT", "20")
        calls += 1
        for f, v in zip(items[::2], items[1::2]):
            seen[f] = v
        if cursor == b"0":
            break
    assert calls > 5
    assert seen == {f"k{i}".encode(): str(i).encode() for i in range(n)}
    cursor, items = b"0", []
    matched = set()
    while True:
        cursor, items = c.cmd("HSCAN", "h", cursor, "MATCH", "k1*", "COUNT", "100")
        matched.update(items[::2])
        if cursor == b"0":
            break
    assert matched == {f"k{i}".encode() for i in range(n) if str(i).startswith("1")}


def test_big_hash_del_is_quick_and_frees(c):
    for start in range(0, 20000, 1000):
        args = []
        for i in range(start, start + 1000):
            args += [f"member:{i}", f"v{i}"]
        c.cmd("HSET", "big", *args)
    assert c.cmd("HLEN", "big") == 20000
    assert c.cmd("DEL", "big") == 1
    assert c.cmd("PING") == "PONG"
    assert c.cmd("EXISTS", "big") == 0
    c.cmd("HSET", "big", "a", "1")
    assert c.cmd("HGETALL", "big") == [b"a", b"1"]
