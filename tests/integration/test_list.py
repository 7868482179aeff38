"""List commands: exact replies and error texts (raw RESP2 connection `c`, RESP3 where the null forms
differ), big lists against a Python model under several node sizes, and the blocking commands
(BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP): serving, FIFO order, timeouts, MULTI.

Validated against Debian's redis-server 7.0.15 (SARDINE_SERVER=/usr/bin/redis-server).
"""
import random
import socket
import time

import pytest

from sardine_resp import Err, Raw, encode
from harness import assert_keyspace_ok

SYNTAX = Err("ERR syntax error")
NOT_INT = Err("ERR value is not an integer or out of range")
WRONGTYPE = Err("WRONGTYPE Operation against a key holding the wrong kind of value")
POSITIVE = Err("ERR value is out of range, must be positive")
RANK_ZERO = Err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
                "or use negative to start from the end of the list")
NOT_FLOAT = Err("ERR timeout is not a float or out of range")
NEGATIVE = Err("ERR timeout is negative")


def wrong_args(cmd):
    return Err(f"ERR wrong number of arguments for '{cmd}' command")


def check(c, steps):
    for args, expected in steps:
        got = c.cmd(*args)
        assert got == expected and type(got) is type(expected), f"{args}: got {got!r}, want {expected!r}"


def contents(c, key):
    return c.cmd("LRANGE", key, 0, -1)


# ---------------------------------------------------------------------------------------------
# push / pop / length
# ---------------------------------------------------------------------------------------------

def test_push_pop_basic(c):
    check(c, [
        (("LPUSH", "l", "a"), 1),
        (("LPUSH", "l", "b", "c"), 3),
        (("RPUSH", "l", "x", "y"), 5),
        (("LRANGE", "l", "0", "-1"), [b"c", b"b", b"a", b"x", b"y"]),
        (("LLEN", "l"), 5),
        (("LLEN", "nokey"), 0),
        (("LPOP", "l"), b"c"),
        (("RPOP", "l"), b"y"),
        (("TYPE", "l"), "list"),
        (("OBJECT", "ENCODING", "l"), b"quicklist"),
        (("LPUSH", "l"), wrong_args("lpush")),
        (("RPUSH",), wrong_args("rpush")),
        (("LLEN", "l", "x"), wrong_args("llen")),
    ])


def test_pushx(c):
    check(c, [
        (("LPUSHX", "l", "a"), 0),
        (("RPUSHX", "l", "a", "b"), 0),
        (("EXISTS", "l"), 0),
        (("RPUSH", "l", "m"), 1),
        (("LPUSHX", "l", "a", "b"), 3),
        (("RPUSHX", "l", "y", "z"), 5),
        (("LRANGE", "l", "0", "-1"), [b"b", b"a", b"m", b"y", b"z"]),
        (("SET", "s", "v"), "OK"),
        (("LPUSHX", "s", "a"), WRONGTYPE),
        (("RPUSHX", "s", "a"), WRONGTYPE),
    ])


def test_pop_count_and_null_forms(c):
    check(c, [
        (("LPOP", "nokey"), None),
        (("LPOP", "nokey", "0"), None),
        (("LPOP", "nokey", "abc"), POSITIVE),
        (("LPOP", "nokey", "-1"), POSITIVE),
        (("LPOP", "nokey", "1", "2"), wrong_args("lpop")),
        (("RPUSH", "l", "a", "b", "c", "d", "e"), 5),
        (("LPOP", "l", "0"), []),
        (("LPOP", "l", "-1"), POSITIVE),
        (("LPOP", "l", "2"), [b"a", b"b"]),
        (("RPOP", "l", "2"), [b"e", b"d"]),
        (("RPOP", "l", "10"), [b"c"]),
        (("EXISTS", "l"), 0),
        (("RPUSH", "l", "1", "2"), 2),
        (("LPOP", "l"), b"1"),
        (("LPOP", "l"), b"2"),
        (("EXISTS", "l"), 0),
    ])
    # the exact RESP2 bytes: $-1 without count, *-1 with a count
    c.send(encode("LPOP", "nokey") + encode("RPOP", "nokey", "3") + encode("RPOP", "nokey", "0"))
    assert c.read_raw(len(b"$-1\r\n*-1\r\n*-1\r\n")) == b"$-1\r\n*-1\r\n*-1\r\n"
    # RESP3: both are the null type
    c.cmd("HELLO", "3")
    c.send(encode("LPOP", "nokey") + encode("RPOP", "nokey", "3"))
    assert c.read_raw(6) == b"_\r\n_\r\n"


def test_integers_keep_their_text(c):
    vals = ["0", "-1", "127", "128", "-4096", "4095", "32767", "-32768", "8388607", "2147483647",
            "-2147483648", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
            "007", "-0", "+1", " 1", "1.0", "", "a\x00b"]
    c.cmd("RPUSH", "l", *vals)
    assert contents(c, "l") == [v.encode() for v in vals]
    assert [c.cmd("LINDEX", "l", i) for i in range(len(vals))] == [v.encode() for v in vals]
    assert c.cmd("LPOS", "l", "4095") == 5
    assert c.cmd("LPOS", "l", "007") == 14
    assert c.cmd("LPOS", "l", "7") is None
    assert c.cmd("LREM", "l", "0", "-1") == 1


def test_wrongtype(c):
    c.cmd("SET", "s", "v")
    for args in (("LPUSH", "s", "a"), ("RPUSH", "s", "a"), ("LPOP", "s"), ("RPOP", "s", "1"), ("LLEN", "s"),
                 ("LRANGE", "s", "0", "-1"), ("LINDEX", "s", "0"), ("LSET", "s", "0", "x"),
                 ("LINSERT", "s", "BEFORE", "a", "b"), ("LREM", "s", "0", "a"), ("LTRIM", "s", "0", "1"),
                 ("LPOS", "s", "a"), ("LMOVE", "s", "d", "LEFT", "LEFT"), ("RPOPLPUSH", "s", "d"),
                 ("LMPOP", "1", "s", "LEFT"), ("BLPOP", "s", "0"), ("BRPOP", "s", "0"),
                 ("BLMOVE", "s", "d", "LEFT", "LEFT", "0"), ("BRPOPLPUSH", "s", "d", "0"),
                 ("BLMPOP", "0", "1", "s", "LEFT")):
        assert c.cmd(*args) == WRONGTYPE, args
    assert c.cmd("GET", "s") == b"v"


# ---------------------------------------------------------------------------------------------
# reads
# ---------------------------------------------------------------------------------------------

def test_lindex_lrange(c):
    c.cmd("RPUSH", "l", "a", "b", "c", "d")
    check(c, [
        (("LINDEX", "l", "0"), b"a"),
        (("LINDEX", "l", "-1"), b"d"),
        (("LINDEX", "l", "-4"), b"a"),
        (("LINDEX", "l", "-5"), None),
        (("LINDEX", "l", "4"), None),
        (("LINDEX", "l", "abc"), NOT_INT),
        (("LINDEX", "nokey", "abc"), None),  # the key is looked up first
        (("LINDEX", "l", "9223372036854775807"), None),
        (("LINDEX", "l", "-9223372036854775808"), None),
        (("LRANGE", "l", "1", "2"), [b"b", b"c"]),
        (("LRANGE", "l", "-3", "-2"), [b"b", b"c"]),
        (("LRANGE", "l", "-100", "100"), [b"a", b"b", b"c", b"d"]),
        (("LRANGE", "l", "2", "1"), []),
        (("LRANGE", "l", "4", "10"), []),
        (("LRANGE", "l", "0", "-5"), []),
        (("LRANGE", "l", "-9223372036854775808", "9223372036854775807"), [b"a", b"b", b"c", b"d"]),
        (("LRANGE", "nokey", "0", "-1"), []),
        (("LRANGE", "nokey", "a", "1"), NOT_INT),  # the arguments are parsed first
        (("LRANGE", "l", "0", "x"), NOT_INT),
    ])


def test_lpos(c):
    c.cmd("RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c")
    check(c, [
        (("LPOS", "l", "c"), 2),
        (("LPOS", "l", "c", "RANK", "2"), 6),
        (("LPOS", "l", "c", "RANK", "-1"), 7),
        (("LPOS", "l", "c", "RANK", "-3"), 2),
        (("LPOS", "l", "c", "RANK", "4"), None),
        (("LPOS", "l", "c", "COUNT", "0"), [2, 6, 7]),
        (("LPOS", "l", "c", "COUNT", "2"), [2, 6]),
        (("LPOS", "l", "c", "COUNT", "2", "RANK", "-1"), [7, 6]),
        (("LPOS", "l", "c", "RANK", "2", "COUNT", "5"), [6, 7]),
        (("LPOS", "l", "c", "MAXLEN", "3"), 2),
        (("LPOS", "l", "c", "MAXLEN", "2"), None),
        (("LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7"), [2, 6]),
        (("LPOS", "l", "c", "RANK", "-1", "MAXLEN", "1"), 7),
        (("LPOS", "l", "2"), 4),
        (("LPOS", "l", "zz", "COUNT", "2"), []),
        (("LPOS", "l", "zz"), None),
        (("LPOS", "nokey", "a"), None),
        (("LPOS", "nokey", "a", "COUNT", "0"), []),
        (("LPOS", "l", "c", "RANK", "0"), RANK_ZERO),
        (("LPOS", "nokey", "c", "RANK", "0"), RANK_ZERO),
        (("LPOS", "l", "c", "RANK", "x"), NOT_INT),
        (("LPOS", "l", "c", "COUNT", "-1"), Err("ERR COUNT can't be negative")),
        (("LPOS", "l", "c", "COUNT", "x"), Err("ERR COUNT can't be negative")),
        (("LPOS", "l", "c", "MAXLEN", "-1"), Err("ERR MAXLEN can't be negative")),
        (("LPOS", "l", "c", "MAXLEN", "x"), Err("ERR MAXLEN can't be negative")),
        (("LPOS", "l", "c", "FOO"), SYNTAX),
        (("LPOS", "l", "c", "RANK"), SYNTAX),
        (("LPOS", "l", "c", "COUNT", "1", "RANK"), SYNTAX),
        (("LPOS", "l"), wrong_args("lpos")),
        # Redis 7.0 negates LONG_MIN into itself: the first match from the tail, COUNT ignored
        (("LPOS", "l", "c", "RANK", "-9223372036854775808"), 7),
        (("LPOS", "l", "c", "RANK", "-9223372036854775808", "COUNT", "1"), [7, 6, 2]),
    ])


# ---------------------------------------------------------------------------------------------
# in-place changes
# ---------------------------------------------------------------------------------------------

def test_lset(c):
    c.cmd("RPUSH", "l", "a", "b", "c")
    check(c, [
        (("LSET", "nokey", "0", "x"), Err("ERR no such key")),
        (("LSET", "nokey", "abc", "x"), Err("ERR no such key")),
        (("LSET", "l", "abc", "x"), NOT_INT),
        (("LSET", "l", "3", "x"), Err("ERR index out of range")),
        (("LSET", "l", "-4", "x"), Err("ERR index out of range")),
        (("LSET", "l", "0", "x"), "OK"),
        (("LSET", "l", "-1", "12345"), "OK"),
        (("LSET", "l", "1", "y" * 10000), "OK"),
        (("LRANGE", "l", "0", "-1"), [b"x", b"y" * 10000, b"12345"]),
    ])


def test_linsert(c):
    check(c, [
        (("LINSERT", "nokey", "FOO", "a", "b"), SYNTAX),
        (("LINSERT", "nokey", "BEFORE", "a", "b"), 0),
        (("EXISTS", "nokey"), 0),
        (("RPUSH", "l", "a", "b", "c"), 3),
        (("LINSERT", "l", "before", "b", "x"), 4),
        (("LINSERT", "l", "AFTER", "c", "y"), 5),
        (("LINSERT", "l", "BEFORE", "a", "z"), 6),
        (("LINSERT", "l", "AFTER", "zz", "q"), -1),
        (("LINSERT", "l", "MIDDLE", "a", "q"), SYNTAX),
        (("LRANGE", "l", "0", "-1"), [b"z", b"a", b"x", b"b", b"c", b"y"]),
        (("LINSERT", "l", "BEFORE", "a"), wrong_args("linsert")),
    ])


def test_lrem(c):
    c.cmd("RPUSH", "l", "a", "b", "a", "c", "a", "b", "a")
    check(c, [
        (("LREM", "nokey", "a", "x"), NOT_INT),
        (("LREM", "nokey", "1", "x"), 0),
        (("LREM", "l", "1", "a"), 1),
        (("LRANGE", "l", "0", "-1"), [b"b", b"a", b"c", b"a", b"b", b"a"]),
        (("LREM", "l", "-2", "a"), 2),
        (("LRANGE", "l", "0", "-1"), [b"b", b"a", b"c", b"b"]),
        (("LREM", "l", "0", "b"), 2),
        (("LREM", "l", "0", "zz"), 0),
        (("LRANGE", "l", "0", "-1"), [b"a", b"c"]),
        (("LREM", "l", "-9223372036854775808", "a"), 1),
        (("LREM", "l", "0", "c"), 1),
        (("EXISTS", "l"), 0),
    ])


def test_ltrim(c):
    check(c, [
        (("LTRIM", "nokey", "a", "1"), NOT_INT),
        (("LTRIM", "nokey", "0", "1"), "OK"),
        (("RPUSH", "l", "a", "b", "c", "d", "e"), 5),
        (("LTRIM", "l", "1", "-2"), "OK"),
        (("LRANGE", "l", "0", "-1"), [b"b", b"c", b"d"]),
        (("LTRIM", "l", "-100", "100"), "OK"),
        (("LRANGE", "l", "0", "-1"), [b"b", b"c", b"d"]),
        (("LTRIM", "l", "1", "1"), "OK"),
        (("LRANGE", "l", "0", "-1"), [b"c"]),
        (("LTRIM", "l", "2", "1"), "OK"),
        (("EXISTS", "l"), 0),
        (("RPUSH", "l", "a"), 1),
        (("LTRIM", "l", "5", "10"), "OK"),
        (("EXISTS", "l"), 0),
    ])


# ---------------------------------------------------------------------------------------------
# moves
# ---------------------------------------------------------------------------------------------

def test_lmove_rpoplpush(c):
    check(c, [
        (("LMOVE", "nokey", "d", "LEFT", "FOO"), SYNTAX),
        (("LMOVE", "nokey", "d", "FOO", "LEFT"), SYNTAX),
        (("LMOVE", "nokey", "d", "LEFT", "LEFT"), None),
        (("RPOPLPUSH", "nokey", "d"), None),
        (("EXISTS", "d"), 0),
        (("RPUSH", "s", "a", "b", "c"), 3),
        (("LMOVE", "s", "d", "LEFT", "RIGHT"), b"a"),
        (("LMOVE", "s", "d", "right", "left"), b"c"),
        (("RPOPLPUSH", "s", "d"), b"b"),
        (("EXISTS", "s"), 0),
        (("LRANGE", "d", "0", "-1"), [b"b", b"c", b"a"]),
        # rotation of one list
        (("LMOVE", "d", "d", "LEFT", "RIGHT"), b"b"),
        (("LRANGE", "d", "0", "-1"), [b"c", b"a", b"b"]),
        (("RPOPLPUSH", "d", "d"), b"b"),
        (("LRANGE", "d", "0", "-1"), [b"b", b"c", b"a"]),
        # a wrong-type destination leaves the source alone
        (("SET", "str", "v"), "OK"),
        (("LMOVE", "d", "str", "LEFT", "LEFT"), WRONGTYPE),
        (("RPOPLPUSH", "d", "str"), WRONGTYPE),
        (("LRANGE", "d", "0", "-1"), [b"b", b"c", b"a"]),
        (("LMOVE", "nokey", "str", "LEFT", "LEFT"), None),
        # a single-element list moved onto itself stays
        (("RPUSH", "one", "x"), 1),
        (("LMOVE", "one", "one", "LEFT", "LEFT"), b"x"),
        (("LRANGE", "one", "0", "-1"), [b"x"]),
        (("LMOVE", "one", "two", "LEFT", "LEFT"), b"x"),
        (("EXISTS", "one"), 0),
        (("LRANGE", "two", "0", "-1"), [b"x"]),
    ])


def test_lmpop(c):
    check(c, [
        (("LMPOP", "0", "a", "LEFT"), Err("ERR numkeys should be greater than 0")),
        (("LMPOP", "abc", "a", "LEFT"), Err("ERR numkeys should be greater than 0")),
        (("LMPOP", "-1", "a", "LEFT"), Err("ERR numkeys should be greater than 0")),
        (("LMPOP", "2", "a", "LEFT"), SYNTAX),
        (("LMPOP", "9223372036854775807", "a", "LEFT"), SYNTAX),
        (("LMPOP", "1", "a", "FOO"), SYNTAX),
        (("LMPOP", "1", "a", "LEFT", "COUNT", "0"), Err("ERR count should be greater than 0")),
        (("LMPOP", "1", "a", "LEFT", "COUNT", "x"), Err("ERR count should be greater than 0")),
        (("LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1"), SYNTAX),
        (("LMPOP", "1", "a", "LEFT", "COUNT"), SYNTAX),
        (("LMPOP", "1", "a", "LEFT", "FOO"), SYNTAX),
        (("LMPOP", "1", "a"), wrong_args("lmpop")),
        (("LMPOP", "1", "nokey", "LEFT"), None),
        (("RPUSH", "l", "a", "b", "c"), 3),
        (("LMPOP", "2", "nokey", "l", "LEFT"), [b"l", [b"a"]]),
        (("LMPOP", "2", "nokey", "l", "RIGHT", "COUNT", "10"), [b"l", [b"c", b"b"]]),
        (("EXISTS", "l"), 0),
        (("RPUSH", "l2", "x"), 1),
        (("SET", "s", "v"), "OK"),
        (("LMPOP", "2", "s", "l2", "LEFT"), WRONGTYPE),
        (("LMPOP", "2", "l2", "s", "left"), [b"l2", [b"x"]]),
    ])
    c.send(encode("LMPOP", "1", "nokey", "LEFT"))
    assert c.read_raw(5) == b"*-1\r\n"


# ---------------------------------------------------------------------------------------------
# big lists against a model, under several node sizes
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fill,depth", [("-2", "0"), ("-1", "0"), ("-5", "0"), ("3", "0"), ("128", "0"),
                                        ("-2", "1"), ("-1", "2"), ("3", "1")])
def test_big_list_model(make_sardine, fill, depth):
    server = make_sardine("--list-max-listpack-size", fill, "--list-compress-depth", depth)
    c = Raw(server.port)
    rnd = random.Random(int(fill) * 10 + int(depth))
    model = []

    def val():
        k = rnd.random()
        if k < 0.3:
            return str(rnd.randint(-100000, 100000))
        if k < 0.32:
            return "v" * rnd.randint(5000, 20000)
        return "e%d-" % rnd.randint(0, 50) + "x" * rnd.randint(0, 30)

    batch = [val() for _ in range(3000)]
    c.cmd("RPUSH", "l", *batch)
    model += batch
    batch = [val() for _ in range(2000)]
    c.cmd("LPUSH", "l", *batch)
    model = batch[::-1] + model
    for step in range(300):
        op = rnd.randrange(8)
        if op == 0:
            i = rnd.randrange(-len(model) - 3, len(model) + 3)
            want = model[i].encode() if -len(model) <= i < len(model) else None
            assert c.cmd("LINDEX", "l", i) == want
        elif op == 1:
            i = rnd.randrange(len(model))
            v = val()
            assert c.cmd("LSET", "l", i, v) == "OK"
            model[i] = v
        elif op == 2:
            pivot = rnd.choice(model)
            v = val()
            where = rnd.choice(["BEFORE", "AFTER"])
            at = model.index(pivot) + (where == "AFTER")
            assert c.cmd("LINSERT", "l", where, pivot, v) == len(model) + 1
            model.insert(at, v)
        elif op == 3:
            target = "e%d-" % rnd.randint(0, 50)
            cnt = rnd.choice([0, 1, 2, -1, -3])
            # LREM compares whole elements: pick an existing one
            target = rnd.choice(model)
            idxs = [i for i, x in enumerate(model) if x == target]
            if cnt > 0:
                idxs = idxs[:cnt]
            elif cnt < 0:
                idxs = idxs[cnt:]
            assert c.cmd("LREM", "l", cnt, target) == len(idxs)
            for i in reversed(idxs):
                del model[i]
        elif op == 4:
            s, e = rnd.randrange(-len(model), len(model)), rnd.randrange(-len(model), len(model))
            ps, pe = s % len(model), e % len(model)
            assert c.cmd("LRANGE", "l", s, e) == [x.encode() for x in model[ps:pe + 1]]
        elif op == 5:
            n = rnd.randint(1, 50)
            where = rnd.choice(["LPOP", "RPOP"])
            got = c.cmd(where, "l", n)
            want = model[:n] if where == "LPOP" else model[::-1][:n]
            assert got == [x.encode() for x in want]
            model = model[n:] if where == "LPOP" else model[:len(model) - n]
        elif op == 6:
            s, e = rnd.randint(0, 20), -rnd.randint(1, 20)
            assert c.cmd("LTRIM", "l", s, e) == "OK"
            model = model[s:len(model) + e + 1]
        elif op == 7:
            v = val()
            p = rnd.choice(model)
            rank = rnd.choice([1, 2, -1, -2])
            idxs = [i for i, x in enumerate(model) if x == p]
            pick = (idxs[rank - 1] if rank > 0 else idxs[rank]) if len(idxs) >= abs(rank) else None
            assert c.cmd("LPOS", "l", p, "RANK", rank) == pick
            c.cmd("RPUSH", "l", v)
            model.append(v)
        if len(model) < 100:
            batch = [val() for _ in range(500)]
            c.cmd("RPUSH", "l", *batch)
            model += batch
        if step % 50 == 0:
            assert c.cmd("LLEN", "l") == len(model)
            assert contents(c, "l") == [x.encode() for x in model]
    assert contents(c, "l") == [x.encode() for x in model]
    # COPY duplicates, DEL frees
    assert c.cmd("COPY", "l", "l2") == 1
    assert c.cmd("LRANGE", "l2", 0, -1) == [x.encode() for x in model]
    assert c.cmd("OBJECT", "ENCODING", "l2") == b"quicklist"
    assert_keyspace_ok(c)
    assert c.cmd("DEL", "l", "l2") == 2
    c.close()


def test_memory_usage_and_big_del(c):
    for i in range(0, 200000, 5000):
        c.cmd("RPUSH", "big", *["element:%d" % j for j in range(i, i + 5000)])
    assert c.cmd("LLEN", "big") == 200000
    usage = c.cmd("MEMORY", "USAGE", "big")
    assert 200000 * 10 < usage < 200000 * 30
    assert c.cmd("LINDEX", "big", 123456) == b"element:123456"
    assert c.cmd("LINDEX", "big", -123456) == b"element:76544"
    assert c.cmd("DEL", "big") == 1
    assert c.cmd("EXISTS", "big") == 0


def test_compress_depth_saves_memory(c):
    """list-compress-depth is read when a list is created; interior nodes are then stored compressed."""
    c.cmd("CONFIG", "SET", "list-compress-depth", "0")
    for i in range(0, 50000, 5000):
        c.cmd("RPUSH", "plain", *["member:%d" % j for j in range(i, i + 5000)])
    c.cmd("CONFIG", "SET", "list-compress-depth", "1")
    for i in range(0, 50000, 5000):
        c.cmd("RPUSH", "packed", *["member:%d" % j for j in range(i, i + 5000)])
    assert c.cmd("MEMORY", "USAGE", "packed") < c.cmd("MEMORY", "USAGE", "plain") * 0.8
    assert c.cmd("OBJECT", "ENCODING", "packed") == b"quicklist"
    assert c.cmd("LRANGE", "packed", 0, -1) == c.cmd("LRANGE", "plain", 0, -1)
    for i in (0, 1, 777, 25000, 49998, -1, -30000):
        assert c.cmd("LINDEX", "packed", i) == c.cmd("LINDEX", "plain", i)
    assert c.cmd("LSET", "packed", 20000, "changed") == "OK"
    assert c.cmd("LINSERT", "packed", "BEFORE", "member:30000", "new") == 50001
    assert c.cmd("LREM", "packed", 0, "member:40000") == 1
    assert c.cmd("LPOS", "packed", "member:45000") == 45000
    assert c.cmd("LINDEX", "packed", 20000) == b"changed"
    assert c.cmd("LTRIM", "packed", 100, -100) == "OK"
    assert c.cmd("LLEN", "packed") == 49801
    assert c.cmd("LINDEX", "packed", 0) == b"member:100"


def test_watch_is_invalidated_by_list_writes(sardine):
    c, other = Raw(sardine.port), Raw(sardine.port)
    other.cmd("RPUSH", "l", "a", "b")
    for write in (("LPUSH", "l", "x"), ("RPOP", "l"), ("LSET", "l", "0", "y"), ("LTRIM", "l", "0", "-1"),
                  ("LINSERT", "l", "BEFORE", "y", "z"), ("LREM", "l", "1", "z"), ("LMOVE", "l", "l", "LEFT", "RIGHT")):
        assert c.cmd("WATCH", "l") == "OK"
        assert other.cmd(*write) not in (None, -1, 0)
        assert c.cmd("MULTI") == "OK"
        assert c.cmd("LLEN", "l") == "QUEUED"
        assert c.cmd("EXEC") is None, write
    # a LREM that removes nothing does not touch the key
    assert c.cmd("WATCH", "l") == "OK"
    assert other.cmd("LREM", "l", "0", "nothing") == 0
    c.cmd("MULTI")
    c.cmd("LLEN", "l")
    assert c.cmd("EXEC") == [2]
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
        (("BLPOP", "k", "abc"), NOT_FLOAT),
        (("BLPOP", "k", "-1"), NEGATIVE),
        (("BLPOP", "k", "nan"), NOT_FLOAT),
        (("BLPOP", "k", " 1"), NOT_FLOAT),
        (("BLPOP", "k", "inf"), NEGATIVE),
        (("BLPOP", "k", "1e300"), NEGATIVE),
        (("BLPOP", "k", "-0.0011"), NEGATIVE),
        (("BRPOP", "k", ""), NOT_FLOAT),
        (("BLPOP", "k"), wrong_args("blpop")),
        (("BLMOVE", "k", "d", "FOO", "LEFT", "abc"), SYNTAX),
        (("BLMOVE", "k", "d", "LEFT", "LEFT", "abc"), NOT_FLOAT),
        (("BRPOPLPUSH", "k", "d", "abc"), NOT_FLOAT),
        (("BRPOPLPUSH", "k", "d", "-5"), NEGATIVE),
        (("BLMPOP", "abc", "1", "k", "LEFT"), NOT_FLOAT),
        (("BLMPOP", "0", "0", "k", "LEFT"), Err("ERR numkeys should be greater than 0")),
        (("BLMPOP", "-1", "1", "k", "LEFT"), NEGATIVE),
        (("BLMPOP", "abc", "1", "k", "FOO"), SYNTAX),
        (("BLMPOP", "0", "2", "k", "LEFT"), SYNTAX),
        (("BLMPOP", "0", "1", "k", "LEFT", "COUNT", "0"), Err("ERR count should be greater than 0")),
    ])


def test_blocking_serves_immediately(c):
    c.cmd("RPUSH", "a", "1", "2", "3")
    check(c, [
        (("BLPOP", "nokey", "a", "0"), [b"a", b"1"]),
        (("BRPOP", "a", "0"), [b"a", b"3"]),
        (("BLMOVE", "a", "d", "LEFT", "RIGHT", "0"), b"2"),
        (("EXISTS", "a"), 0),
        (("BRPOPLPUSH", "d", "e", "0"), b"2"),
        (("RPUSH", "m", "x", "y", "z"), 3),
        (("BLMPOP", "0", "2", "nokey", "m", "RIGHT", "COUNT", "2"), [b"m", [b"z", b"y"]]),
        (("BLMPOP", "0", "1", "m", "LEFT"), [b"m", [b"x"]]),
    ])


def test_blpop_wakes_on_push(sardine):
    w, p = Raw(sardine.port), Raw(sardine.port)
    blocked(w, "BLPOP", "k1", "k2", "0")
    assert p.cmd("RPUSH", "k2", "a", "b") == 2
    assert w.reply() == [b"k2", b"a"]
    assert p.cmd("LRANGE", "k2", 0, -1) == [b"b"]
    # the connection works normally afterwards
    assert w.cmd("PING") == "PONG"
    blocked(w, "BRPOP", "k3", "0")
    assert p.cmd("LPUSH", "k3", "x", "y") == 2
    assert w.reply() == [b"k3", b"x"]
    w.close()
    p.close()


def test_blocking_timeout_replies(sardine):
    w = Raw(sardine.port)
    t = time.time()
    w.send(encode("BLPOP", "k", "0.2"))
    assert w.read_raw(5, timeout=5) == b"*-1\r\n"
    assert 0.15 < time.time() - t < 3
    w.send(encode("BLMPOP", "0.1", "1", "k", "LEFT"))
    assert w.read_raw(5, timeout=5) == b"*-1\r\n"
    # BLMOVE / BRPOPLPUSH time out with a null array in 7.0 (but reply a null bulk inside MULTI)
    w.send(encode("BLMOVE", "k", "d", "LEFT", "LEFT", "0.1"))
    assert w.read_raw(5, timeout=5) == b"*-1\r\n"
    w.send(encode("BRPOPLPUSH", "k", "d", "0.1"))
    assert w.read_raw(5, timeout=5) == b"*-1\r\n"
    # a tiny timeout is rounded up to 1 ms, not "forever"
    w.send(encode("BLPOP", "k", "0.0000001"))
    assert w.read_raw(5, timeout=5) == b"*-1\r\n"
    w.cmd("HELLO", "3")
    w.send(encode("BLPOP", "k", "0.1"))
    assert w.read_raw(3, timeout=5) == b"_\r\n"
    w.close()


def test_blocking_inside_multi_never_blocks(c):
    c.cmd("MULTI")
    for args in (("BLPOP", "k", "0"), ("BRPOP", "k", "0"), ("BLMOVE", "k", "d", "LEFT", "LEFT", "0"),
                 ("BRPOPLPUSH", "k", "d", "0"), ("BLMPOP", "0", "1", "k", "LEFT"), ("RPUSH", "k", "v"),
                 ("BLPOP", "k", "0")):
        assert c.cmd(*args) == "QUEUED"
    c.send(encode("EXEC"))
    want = b"*7\r\n*-1\r\n*-1\r\n$-1\r\n$-1\r\n*-1\r\n:1\r\n*2\r\n$1\r\nk\r\n$1\r\nv\r\n"
    assert c.read_raw(len(want)) == want


def test_blocking_fifo(sardine):
    waiters = [Raw(sardine.port) for _ in range(3)]
    p = Raw(sardine.port)
    for i, w in enumerate(waiters):
        blocked(w, "BLPOP", "q", "0")
    assert p.cmd("RPUSH", "q", "1") == 1
    assert waiters[0].reply() == [b"q", b"1"]
    assert waiters[1].nothing_pending(0.1) and waiters[2].nothing_pending(0.05)
    assert p.cmd("RPUSH", "q", "2", "3") == 2
    assert waiters[1].reply() == [b"q", b"2"]
    assert waiters[2].reply() == [b"q", b"3"]
    assert p.cmd("EXISTS", "q") == 0
    # the first waiter again: it queues behind nobody now
    blocked(waiters[2], "BRPOP", "q", "0")
    blocked(waiters[0], "BRPOP", "q", "0")
    assert p.cmd("RPUSH", "q", "a", "b") == 2
    assert waiters[2].reply() == [b"q", b"b"]
    assert waiters[0].reply() == [b"q", b"a"]
    for w in waiters + [p]:
        w.close()


def test_blmove_chain_and_brpoplpush(sardine):
    w1, w2, p = Raw(sardine.port), Raw(sardine.port), Raw(sardine.port)
    blocked(w1, "BLMOVE", "src", "mid", "RIGHT", "LEFT", "0")
    blocked(w2, "BRPOPLPUSH", "mid", "dst", "0")
    assert p.cmd("LPUSH", "src", "v") == 1
    assert w1.reply() == b"v"
    assert w2.reply() == b"v"  # the push into mid served the second waiter
    assert p.cmd("LRANGE", "dst", 0, -1) == [b"v"]
    assert p.cmd("EXISTS", "src", "mid") == 0
    for x in (w1, w2, p):
        x.close()


def test_blmpop_served_with_count(sardine):
    w, p = Raw(sardine.port), Raw(sardine.port)
    blocked(w, "BLMPOP", "0", "2", "a", "b", "RIGHT", "COUNT", "2")
    p.cmd("RPUSH", "b", "1", "2", "3")
    assert w.reply() == [b"b", [b"3", b"2"]]
    assert p.cmd("LRANGE", "b", 0, -1) == [b"1"]
    w.close()
    p.close()


def test_blocked_client_served_from_transaction(sardine):
    w, p = Raw(sardine.port), Raw(sardine.port)
    blocked(w, "BLPOP", "k", "0")
    p.cmd("MULTI")
    p.cmd("RPUSH", "k", "a")
    p.cmd("LPOP", "k")
    p.cmd("RPUSH", "k", "b")
    assert p.cmd("EXEC") == [1, b"a", 1]
    assert w.reply() == [b"k", b"b"]
    # a key that stops being a list before the waiter runs: it keeps waiting, no error
    blocked(w, "BLPOP", "k", "0")
    p.cmd("MULTI")
    p.cmd("RPUSH", "k", "a")
    p.cmd("DEL", "k")
    p.cmd("SET", "k", "str")
    p.cmd("EXEC")
    assert w.nothing_pending(0.2)
    p.cmd("DEL", "k")
    p.cmd("RPUSH", "k", "z")
    assert w.reply() == [b"k", b"z"]
    w.close()
    p.close()


def test_blocking_timeout_while_waiting_with_others(sardine):
    a, b, p = Raw(sardine.port), Raw(sardine.port), Raw(sardine.port)
    blocked(a, "BLPOP", "k", "0.3")
    blocked(b, "BLPOP", "k", "0")
    assert a.read_raw(5, timeout=5) == b"*-1\r\n"
    p.cmd("RPUSH", "k", "x")
    assert b.reply() == [b"k", b"x"]
    assert a.nothing_pending(0.05)
    for x in (a, b, p):
        x.close()
