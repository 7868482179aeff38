"""Stream commands: exact replies and error texts (raw RESP2 connection `c`, RESP3 where the reply
shapes differ), node boundaries and XINFO's radix-tree figures under small node sizes, big streams
against a Python model, consumer groups (XREADGROUP, XPENDING, XCLAIM, XAUTOCLAIM's 7.0 reply with
deleted IDs, lag and entries-read), and blocking XREAD/XREADGROUP.

Times that depend on the clock (idle, seen-time, delivery time) are checked for range, not equality.
Validated against Debian's redis-server 7.0.15 (SARDINE_SERVER=/usr/bin/redis-server).
"""
import random
import time

from sardine_resp import Err, Map, Raw, encode
from harness import assert_keyspace_ok

SYNTAX = Err("ERR syntax error")
NOT_INT = Err("ERR value is not an integer or out of range")
WRONGTYPE = Err("WRONGTYPE Operation against a key holding the wrong kind of value")
INVALID_ID = Err("ERR Invalid stream ID specified as stream command argument")
SMALLER = Err("ERR The ID specified in XADD is equal or smaller than the target stream top item")
NO_KEY = Err("ERR no such key")


def wrong_args(cmd):
    return Err(f"ERR wrong number of arguments for '{cmd}' command")


def check(c, steps):
    for args, expected in steps:
        got = c.cmd(*args)
        assert got == expected and type(got) is type(expected), f"{args}: got {got!r}, want {expected!r}"


def info(c, key):
    r = c.cmd("XINFO", "STREAM", key)
    return dict(zip(r[::2], r[1::2]))


def blocked(conn, *args):
    conn.send(encode(*args))
    assert conn.nothing_pending(0.15), f"{args} did not block"


# ---------------------------------------------------------------------------------------------
# XADD / XLEN / XRANGE / XREVRANGE
# ---------------------------------------------------------------------------------------------

def test_xadd_ids_and_errors(c):
    check(c, [
        (("XADD", "s", "1-1", "a", "1", "b", "2"), b"1-1"),
        (("XADD", "s", "1-1", "a", "1"), SMALLER),
        (("XADD", "s", "1-0", "a", "1"), SMALLER),
        (("XADD", "s", "1-*", "a", "1"), b"1-2"),
        (("XADD", "s", "1", "a", "1"), SMALLER),
        (("XADD", "s", "2", "a", "1"), b"2-0"),
        (("XADD", "s", "5-*", "a", "1"), b"5-0"),
        (("XADD", "s", "0-0", "a", "1"), Err("ERR The ID specified in XADD must be greater than 0-0")),
        (("XADD", "n", "0-0", "a", "1"), Err("ERR The ID specified in XADD must be greater than 0-0")),
        (("EXISTS", "n"), 0),
        (("XADD", "n", "0-*", "a", "1"), b"0-1"),
        (("XADD", "s", "abc", "a", "1"), INVALID_ID),
        (("XADD", "s", "1-x", "a", "1"), INVALID_ID),
        (("XADD", "s", "-", "a", "1"), INVALID_ID),
        (("XADD", "s", "+", "a", "1"), INVALID_ID),
        (("XADD", "s", "-1", "a", "1"), INVALID_ID),
        (("XADD", "s", "*", "a"), wrong_args("xadd")),
        (("XADD", "s", "*", "a", "1", "b"), wrong_args("xadd")),
        (("XADD", "s", "*"), wrong_args("xadd")),
        (("XADD", "nokey", "NOMKSTREAM", "*", "a", "1"), None),
        (("EXISTS", "nokey"), 0),
        (("XADD", "s", "NOMKSTREAM", "6-0", "a", "1"), b"6-0"),
        (("XLEN", "s"), 5),
        (("XLEN", "nokey"), 0),
        (("TYPE", "s"), "stream"),
        (("OBJECT", "ENCODING", "s"), b"stream"),
        (("SET", "str", "x"), "OK"),
        (("XADD", "str", "*", "a", "1"), WRONGTYPE),
        (("XLEN", "str"), WRONGTYPE),
        (("XRANGE", "str", "-", "+"), WRONGTYPE),
    ])
    # "*" is the clock: increasing, and later than the explicit IDs here
    ids = [c.cmd("XADD", "s", "*", "f", "v") for _ in range(5)]
    parsed = [tuple(map(int, i.split(b"-"))) for i in ids]
    assert parsed == sorted(parsed) and len(set(parsed)) == 5
    assert parsed[0][0] > 1_600_000_000_000


def test_xadd_max_id(c):
    top = "18446744073709551615-18446744073709551615"
    check(c, [
        (("XADD", "s", "18446744073709551615-18446744073709551614", "a", "1"),
         b"18446744073709551615-18446744073709551614"),
        (("XADD", "s", "18446744073709551615-*", "a", "1"), top.encode()),
        (("XADD", "s", "18446744073709551615-*", "a", "1"),
         Err("ERR The stream has exhausted the last possible ID, unable to add more items")),
        (("XADD", "s", "*", "a", "1"),
         Err("ERR The stream has exhausted the last possible ID, unable to add more items")),
        (("XADD", "t", "18446744073709551616-0", "a", "1"), INVALID_ID),
        (("XADD", "t", "5-18446744073709551615", "a", "1"), b"5-18446744073709551615"),
        (("XADD", "t", "5-*", "a", "1"), Err("ERR Elements are too large to be stored")),  # 7.0's text
        (("XRANGE", "s", "(" + top, "+"), Err("ERR invalid start ID for the interval")),
        (("XRANGE", "s", "-", "(0-0"), Err("ERR invalid end ID for the interval")),
    ])


def test_xadd_options_errors(c):
    c.cmd("XADD", "s", "1-0", "a", "1")
    check(c, [
        (("XADD", "s", "MAXLEN", "-1", "*", "a", "1"), Err("ERR The MAXLEN argument must be >= 0.")),
        (("XADD", "s", "MAXLEN", "x", "*", "a", "1"), NOT_INT),
        (("XADD", "s", "MAXLEN", "1", "MINID", "0", "*", "a", "1"),
         Err("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")),
        (("XADD", "s", "LIMIT", "5", "*", "a", "1"),
         Err("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")),
        (("XADD", "s", "MAXLEN", "5", "LIMIT", "5", "*", "a", "1"),
         Err("ERR syntax error, LIMIT cannot be used without the special ~ option")),
        (("XADD", "s", "MAXLEN", "~", "5", "LIMIT", "-1", "*", "a", "1"),
         Err("ERR The LIMIT argument must be >= 0.")),
        (("XADD", "s", "MINID", "x", "*", "a", "1"), INVALID_ID),
        (("XADD", "s", "MINID", "+", "*", "a", "1"), INVALID_ID),
        (("XTRIM", "s"), wrong_args("xtrim")),
        (("XTRIM", "s", "MAXLEN"), wrong_args("xtrim")),
        (("XTRIM", "s", "FOO", "1"), SYNTAX),
        (("XTRIM", "s", "MAXLEN", "1", "junk"), SYNTAX),
        (("XTRIM", "s", "LIMIT", "5", "x"), SYNTAX),
        (("XTRIM", "s", "LIMIT", "5", "MAXLEN", "1"),
         Err("ERR syntax error, LIMIT cannot be used without the special ~ option")),
        (("XTRIM", "nokey", "MAXLEN", "0"), 0),
        (("XTRIM", "nokey", "MAXLEN", "x"), NOT_INT),
        (("XADD", "s", "MAXLEN", "=", "0", "2-0", "b", "2"), b"2-0"),
        (("XLEN", "s"), 0),
        (("EXISTS", "s"), 1),
    ])


def test_xrange_xrevrange(c):
    for i in range(1, 6):
        c.cmd("XADD", "s", f"{i}-0", "f", str(i), "g", "x")
    e = {i: [f"{i}-0".encode(), [b"f", str(i).encode(), b"g", b"x"]] for i in range(1, 6)}
    check(c, [
        (("XRANGE", "s", "-", "+"), [e[1], e[2], e[3], e[4], e[5]]),
        (("XRANGE", "s", "2", "4"), [e[2], e[3], e[4]]),
        (("XRANGE", "s", "(2-0", "(4-0"), [e[3]]),
        (("XRANGE", "s", "(2", "+", "COUNT", "2"), [e[3], e[4]]),
        (("XRANGE", "s", "-", "+", "COUNT", "0"), None),
        (("XRANGE", "s", "-", "+", "COUNT", "-3"), None),
        (("XRANGE", "nokey", "-", "+", "COUNT", "0"), []),
        (("XRANGE", "s", "-", "+", "COUNT"), SYNTAX),
        (("XRANGE", "s", "-", "+", "COUNT", "x"), NOT_INT),
        (("XRANGE", "s", "-", "+", "FOO", "1"), SYNTAX),
        (("XRANGE", "s", "(-", "+"), INVALID_ID),
        (("XRANGE", "s", "x", "+"), INVALID_ID),
        (("XRANGE", "s", "5", "1"), []),
        (("XRANGE", "s", "3-0", "3-0"), [e[3]]),
        (("XRANGE", "s", "(", "+"), INVALID_ID),
        (("XRANGE", "s", "+1", "+"), [e[1], e[2], e[3], e[4], e[5]]),
        (("XRANGE", "s", "1--1", "+"), INVALID_ID),
        (("XREVRANGE", "s", "+", "-"), [e[5], e[4], e[3], e[2], e[1]]),
        (("XREVRANGE", "s", "(5", "(1", "COUNT", "2"), [e[5], e[4]]),  # "(5" excludes only 5-max
        (("XREVRANGE", "s", "(5-0", "(1", "COUNT", "2"), [e[4], e[3]]),
        (("XREVRANGE", "s", "4", "2"), [e[4], e[3], e[2]]),
        (("XREVRANGE", "s", "+", "-", "COUNT", "0"), None),
        (("XRANGE", "s"), wrong_args("xrange")),
        (("XREVRANGE", "s", "+"), wrong_args("xrevrange")),
    ])


def test_values_integers_and_binary(c):
    vals = ["0", "-1", "127", "128", "4095", "-4096", "9223372036854775807", "-9223372036854775808",
            "9223372036854775808", "007", "", "a\x00b", "x" * 5000]
    for i, v in enumerate(vals):
        c.cmd("XADD", "s", f"{i + 1}-0", v, v)
    got = c.cmd("XRANGE", "s", "-", "+")
    assert [g[1] for g in got] == [[v.encode(), v.encode()] for v in vals]


def test_xdel(c):
    for i in range(1, 6):
        c.cmd("XADD", "s", f"{i}-0", "f", str(i))
    check(c, [
        (("XDEL", "s", "2-0", "3", "9-0", "2-0"), 2),
        (("XDEL", "s", "x"), INVALID_ID),
        (("XDEL", "s", "-"), INVALID_ID),
        (("XDEL", "s", "4-0", "x"), INVALID_ID),
        (("XLEN", "s"), 3),
        (("XDEL", "nokey", "x"), 0),
        (("XRANGE", "s", "-", "+"), [[b"1-0", [b"f", b"1"]], [b"4-0", [b"f", b"4"]], [b"5-0", [b"f", b"5"]]]),
        (("XDEL", "s", "1-0", "4-0", "5-0"), 3),
        (("XLEN", "s"), 0),
        (("EXISTS", "s"), 1),
        (("XRANGE", "s", "-", "+"), []),
        (("XDEL", "s"), wrong_args("xdel")),
    ])
    i = info(c, "s")
    assert i[b"max-deleted-entry-id"] == b"5-0" and i[b"recorded-first-entry-id"] == b"0-0"
    assert i[b"entries-added"] == 5 and i[b"last-generated-id"] == b"5-0"
    assert i[b"first-entry"] is None and i[b"last-entry"] is None


# ---------------------------------------------------------------------------------------------
# node boundaries, trimming, XINFO STREAM
# ---------------------------------------------------------------------------------------------

def test_nodes_and_approx_trim(c):
    assert c.cmd("CONFIG", "SET", "stream-node-max-entries", "10") == "OK"
    for i in range(1, 101):
        c.cmd("XADD", "s", f"{i}-0", "f", "v")
    i = info(c, "s")
    assert (i[b"length"], i[b"radix-tree-keys"], i[b"radix-tree-nodes"]) == (100, 10, 22)
    check(c, [
        (("XTRIM", "s", "MAXLEN", "~", "55"), 40),
        (("XLEN", "s"), 60),
        (("XTRIM", "s", "MAXLEN", "~", "55", "LIMIT", "5"), 0),
        (("XTRIM", "s", "MAXLEN", "55"), 5),
        (("XLEN", "s"), 55),
        (("XTRIM", "s", "MINID", "~", "70"), 15),
        (("XTRIM", "s", "MINID", "70"), 9),
        (("XRANGE", "s", "-", "+", "COUNT", "1"), [[b"70-0", [b"f", b"v"]]]),
        (("XADD", "s", "MAXLEN", "~", "30", "101-0", "f", "v"), b"101-0"),
        (("XLEN", "s"), 31),
    ])
    i = info(c, "s")
    assert i[b"recorded-first-entry-id"] == b"71-0"
    assert i[b"radix-tree-keys"] == 4


def test_node_bytes_limit(c):
    assert c.cmd("CONFIG", "SET", "stream-node-max-bytes", "100") == "OK"
    for i in range(1, 21):
        c.cmd("XADD", "s", f"{i}-0", "field", "v" * 20)
    i = info(c, "s")
    assert (i[b"radix-tree-keys"], i[b"radix-tree-nodes"]) == (10, 22)


def test_radix_tree_nodes_figures(c):
    c.cmd("CONFIG", "SET", "stream-node-max-entries", "1")
    assert info(c, "nokey") if False else True
    c.cmd("XADD", "e", "MAXLEN", "0", "1-0", "f", "v")
    i = info(c, "e")
    assert (i[b"radix-tree-keys"], i[b"radix-tree-nodes"]) == (0, 1)
    for ms in (1, 2, 3, 256, 257, 70000, 1 << 40):
        c.cmd("XADD", "s", f"{ms}-0", "f", "v")
    for seq in (1, 2, 300):
        c.cmd("XADD", "s", f"{1 << 40}-{seq}", "f", "v")
    i = info(c, "s")
    assert (i[b"radix-tree-keys"], i[b"radix-tree-nodes"]) == (10, 27)
    c.cmd("XDEL", "s", "256-0", "2-0")
    i = info(c, "s")
    assert (i[b"radix-tree-keys"], i[b"radix-tree-nodes"]) == (8, 22)


def test_xinfo_stream(c):
    c.cmd("XADD", "s", "1-1", "a", "1", "b", "2")
    c.cmd("XADD", "s", "2-0", "c", "3")
    check(c, [
        (("XINFO", "STREAM", "s"), [
            b"length", 2, b"radix-tree-keys", 1, b"radix-tree-nodes", 2, b"last-generated-id", b"2-0",
            b"max-deleted-entry-id", b"0-0", b"entries-added", 2, b"recorded-first-entry-id", b"1-1",
            b"groups", 0, b"first-entry", [b"1-1", [b"a", b"1", b"b", b"2"]],
            b"last-entry", [b"2-0", [b"c", b"3"]]]),
        (("XINFO", "STREAM", "s", "FULL"), [
            b"length", 2, b"radix-tree-keys", 1, b"radix-tree-nodes", 2, b"last-generated-id", b"2-0",
            b"max-deleted-entry-id", b"0-0", b"entries-added", 2, b"recorded-first-entry-id", b"1-1",
            b"entries", [[b"1-1", [b"a", b"1", b"b", b"2"]], [b"2-0", [b"c", b"3"]]], b"groups", []]),
        (("XINFO", "STREAM", "s", "FULL", "COUNT", "1"), [
            b"length", 2, b"radix-tree-keys", 1, b"radix-tree-nodes", 2, b"last-generated-id", b"2-0",
            b"max-deleted-entry-id", b"0-0", b"entries-added", 2, b"recorded-first-entry-id", b"1-1",
            b"entries", [[b"1-1", [b"a", b"1", b"b", b"2"]]], b"groups", []]),
        (("XINFO", "STREAM", "s", "x"),
         Err("ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.")),
        (("XINFO", "STREAM", "s", "FULL", "COUNT"),
         Err("ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.")),
        (("XINFO", "STREAM", "s", "FULL", "COUNT", "x"), NOT_INT),
        (("XINFO", "STREAM", "nokey"), NO_KEY),
        (("XINFO", "STREAM", "nokey", "x"), NO_KEY),
        (("XINFO", "GROUPS", "nokey"), NO_KEY),
        (("XINFO", "STREAM"), Err("ERR wrong number of arguments for 'xinfo|stream' command")),
        (("XINFO", "FOO", "s"), Err("ERR unknown subcommand 'FOO'. Try XINFO HELP.")),
        (("XINFO", "HELP"), [
            "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.", "GROUPS <key>", "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]", "    Show information about the stream.", "HELP",
            "    Prints this help."]),
    ])


def test_resp3_shapes(sardine):
    c = Raw(sardine.port)
    c.cmd("HELLO", "3")
    c.cmd("XADD", "s", "1-0", "a", "1")
    assert c.cmd("XREAD", "STREAMS", "s", "0") == Map([(b"s", [[b"1-0", [b"a", b"1"]]])])
    assert c.cmd("XREAD", "STREAMS", "s", "$") is None
    r = c.cmd("XINFO", "STREAM", "s")
    assert isinstance(r, Map) and r.dict()[b"length"] == 1
    c.cmd("XGROUP", "CREATE", "s", "g", "0")
    r = c.cmd("XINFO", "GROUPS", "s")
    assert isinstance(r[0], Map) and r[0].dict()[b"entries-read"] is None
    c.close()


# ---------------------------------------------------------------------------------------------
# a big stream against a model
# ---------------------------------------------------------------------------------------------

def test_big_stream_against_model(c):
    rnd = random.Random(7)
    for entries in ("100", "7"):
        c.cmd("DEL", "s")
        c.cmd("CONFIG", "SET", "stream-node-max-entries", entries)
        model = []
        ms = 1
        for i in range(3000):
            ms += rnd.choice([0, 0, 1, 1000])
            seq = 0 if not model or model[-1][0][0] != ms else model[-1][0][1] + 1
            fields = rnd.choice([["a", "b"], ["a", "b"], ["c"], ["a"], ["a", "b", "c"]])
            fv = []
            for f in fields:
                fv += [f, rnd.choice(["1", "x", str(i), "-5", "v" * rnd.randint(0, 70)])]
            assert c.cmd("XADD", "s", f"{ms}-{seq}", *fv) == f"{ms}-{seq}".encode()
            model.append(((ms, seq), fv))
        for _ in range(600):
            victim = rnd.choice(model)
            assert c.cmd("XDEL", "s", "%d-%d" % victim[0]) == 1
            model.remove(victim)

        def fmt(e):
            return ["%d-%d" % e[0]] and [("%d-%d" % e[0]).encode(), [x.encode() for x in e[1]]]
        assert c.cmd("XLEN", "s") == len(model)
        assert c.cmd("XRANGE", "s", "-", "+") == [fmt(e) for e in model]
        assert c.cmd("XREVRANGE", "s", "+", "-") == [fmt(e) for e in reversed(model)]
        for _ in range(50):
            a, b = sorted(rnd.sample(range(len(model)), 2))
            lo, hi = "%d-%d" % model[a][0], "%d-%d" % model[b][0]
            assert c.cmd("XRANGE", "s", lo, hi) == [fmt(e) for e in model[a:b + 1]]
            assert c.cmd("XRANGE", "s", "(" + lo, hi, "COUNT", "5") == [fmt(e) for e in model[a + 1:b + 1][:5]]
            assert c.cmd("XREVRANGE", "s", hi, lo, "COUNT", "5") == [fmt(e) for e in model[a:b + 1][::-1][:5]]
        assert c.cmd("XTRIM", "s", "MAXLEN", "1000") == len(model) - 1000
        model = model[-1000:]
        assert c.cmd("XRANGE", "s", "-", "+") == [fmt(e) for e in model]
        cut = model[500][0]
        assert c.cmd("XTRIM", "s", "MINID", "%d-%d" % cut) == 500
        assert c.cmd("XRANGE", "s", "-", "+", "COUNT", "1") == [fmt(model[500])]
    assert_keyspace_ok(c)


def test_copy_and_del(c):
    for i in range(1, 500):
        c.cmd("XADD", "s", f"{i}-0", "f", str(i))
    c.cmd("XGROUP", "CREATE", "s", "g", "0")
    c.cmd("XREADGROUP", "GROUP", "g", "alice", "COUNT", "10", "STREAMS", "s", ">")
    assert c.cmd("COPY", "s", "t") == 1
    assert c.cmd("XRANGE", "t", "-", "+") == c.cmd("XRANGE", "s", "-", "+")
    assert c.cmd("XPENDING", "t", "g") == [10, b"1-0", b"10-0", [[b"alice", b"10"]]]
    assert c.cmd("XACK", "t", "g", "1-0") == 1
    assert c.cmd("XPENDING", "s", "g")[0] == 10
    assert isinstance(c.cmd("MEMORY", "USAGE", "s"), int)
    assert_keyspace_ok(c)
    assert c.cmd("DEL", "s", "t") == 2


# ---------------------------------------------------------------------------------------------
# consumer groups
# ---------------------------------------------------------------------------------------------

def test_xgroup_errors_and_help(c):
    c.cmd("XADD", "s", "1-0", "a", "1")
    need_key = Err("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want "
                   "to use the MKSTREAM option to create an empty stream automatically.")
    check(c, [
        (("XGROUP", "CREATE", "nokey", "g", "$"), need_key),
        (("XGROUP", "SETID", "nokey", "g", "$"), need_key),
        (("XGROUP", "DESTROY", "nokey", "g"), need_key),
        (("XGROUP", "CREATECONSUMER", "nokey", "g", "c"), need_key),
        (("XGROUP", "CREATE", "s", "g", "$"), "OK"),
        (("XGROUP", "CREATE", "s", "g", "$"), Err("BUSYGROUP Consumer Group name already exists")),
        (("XGROUP", "CREATE", "s", "g2", "x"), INVALID_ID),
        (("XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "-2"),
         Err("ERR value for ENTRIESREAD must be positive or -1")),
        (("XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "x"), NOT_INT),
        (("XGROUP", "CREATE", "s", "g2", "$", "FOO"),
         Err("ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.")),
        (("XGROUP", "SETID", "s", "g", "$", "MKSTREAM"),
         Err("ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP.")),
        (("XGROUP", "SETID", "s", "nog", "$"), Err("NOGROUP No such consumer group 'nog' for key name 's'")),
        (("XGROUP", "CREATECONSUMER", "s", "nog", "c"),
         Err("NOGROUP No such consumer group 'nog' for key name 's'")),
        (("XGROUP", "DELCONSUMER", "s", "nog", "c"), Err("NOGROUP No such consumer group 'nog' for key name 's'")),
        (("XGROUP", "DESTROY", "s", "nog"), 0),
        (("XGROUP", "CREATE", "s"), Err("ERR wrong number of arguments for 'xgroup|create' command")),
        (("XGROUP", "FOO"), Err("ERR unknown subcommand 'FOO'. Try XGROUP HELP.")),
        (("XGROUP", "CREATECONSUMER", "s", "g", "c"), 1),
        (("XGROUP", "CREATECONSUMER", "s", "g", "c"), 0),
        (("XGROUP", "DELCONSUMER", "s", "g", "c"), 0),
        (("XGROUP", "DELCONSUMER", "s", "g", "c"), 0),
        (("XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "0"), "OK"),
        (("XGROUP", "SETID", "s", "g", "-"), "OK"),
        (("XGROUP", "DESTROY", "s", "g"), 1),
        (("XGROUP", "CREATE", "m", "g", "$", "MKSTREAM"), "OK"),
        (("XLEN", "m"), 0),
        (("SET", "str", "x"), "OK"),
        (("XGROUP", "CREATE", "str", "g", "$", "MKSTREAM"), WRONGTYPE),
    ])
    lines = c.cmd("XGROUP", "HELP")
    assert lines[0] == "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert lines[-2:] == ["HELP", "    Prints this help."] and len(lines) == 17


def test_consumer_group_flow(c):
    for i in range(1, 6):
        c.cmd("XADD", "s", f"{i}-0", "f", str(i))
    e = {i: [f"{i}-0".encode(), [b"f", str(i).encode()]] for i in range(1, 6)}
    check(c, [
        (("XGROUP", "CREATE", "s", "g", "0"), "OK"),
        (("XINFO", "GROUPS", "s"), [[b"name", b"g", b"consumers", 0, b"pending", 0, b"last-delivered-id", b"0-0",
                                     b"entries-read", None, b"lag", 5]]),
        (("XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">"), [[b"s", [e[1], e[2]]]]),
        (("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"), [[b"s", [e[3], e[4], e[5]]]]),
        (("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"), None),
        (("XINFO", "GROUPS", "s"), [[b"name", b"g", b"consumers", 2, b"pending", 5, b"last-delivered-id", b"5-0",
                                     b"entries-read", 5, b"lag", 0]]),
        (("XPENDING", "s", "g"), [5, b"1-0", b"5-0", [[b"alice", b"2"], [b"bob", b"3"]]]),
        (("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"), [[b"s", [e[1], e[2]]]]),
        (("XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", "1-0"), [[b"s", [e[2]]]]),
        (("XACK", "s", "g", "1-0", "1-0", "9-0"), 1),
        (("XACK", "s", "g", "x"), INVALID_ID),
        (("XACK", "s", "nog", "x"), 0),
        (("XACK", "nokey", "g", "1-0"), 0),
        (("XDEL", "s", "3-0"), 1),
        (("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "0"), [[b"s", [[b"3-0", None], e[4], e[5]]]]),
        (("XADD", "s", "6-0", "f", "6"), b"6-0"),
        (("XREADGROUP", "GROUP", "g", "carol", "NOACK", "STREAMS", "s", ">"), [[b"s", [[b"6-0", [b"f", b"6"]]]]]),
        (("XPENDING", "s", "g"), [4, b"2-0", b"5-0", [[b"alice", b"1"], [b"bob", b"3"]]]),
        (("XGROUP", "DELCONSUMER", "s", "g", "bob"), 3),
        (("XPENDING", "s", "g"), [1, b"2-0", b"2-0", [[b"alice", b"1"]]]),
        (("XGROUP", "SETID", "s", "g", "0"), "OK"),
        (("XREADGROUP", "GROUP", "g", "dave", "COUNT", "2", "STREAMS", "s", ">"), [[b"s", [e[1], e[2]]]]),
        (("XPENDING", "s", "g"), [2, b"1-0", b"2-0", [[b"dave", b"2"]]]),
    ])
    consumers = c.cmd("XINFO", "CONSUMERS", "s", "g")
    assert [x[1] for x in consumers] == [b"alice", b"carol", b"dave"]
    assert [x[3] for x in consumers] == [0, 0, 2]
    assert all(0 <= x[5] < 5000 for x in consumers)
    check(c, [
        (("XINFO", "CONSUMERS", "s", "nog"), Err("NOGROUP No such consumer group 'nog' for key name 's'")),
        (("XINFO", "CONSUMERS", "nokey", "g"), NO_KEY),
    ])


def test_xreadgroup_errors(c):
    c.cmd("XADD", "s", "1-0", "a", "1")
    c.cmd("XGROUP", "CREATE", "s", "g", "0")
    c.cmd("SET", "str", "x")
    check(c, [
        (("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s"),
         Err("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")),
        (("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$"),
         Err("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this "
             "consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just "
             "return an empty result set.")),
        (("XREADGROUP", "GROUP", "nog", "c", "STREAMS", "s", ">"),
         Err("NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option")),
        (("XREADGROUP", "GROUP", "g", "c", "STREAMS", "nokey", ">"),
         Err("NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP option")),
        (("XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"), WRONGTYPE),
        (("XREADGROUP", "STREAMS", "s", ">", "x", "y"), wrong_args("xreadgroup")),
        (("XREADGROUP", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", ">"),
         Err("ERR Missing GROUP option for XREADGROUP")),
        (("XREADGROUP", "GROUP", "g", "c", "FOO", "STREAMS", "s", ">"), SYNTAX),
        (("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "x"), INVALID_ID),
        (("XREAD", "COUNT", "1", "STREAMS", "s"),
         Err("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")),
        (("XREAD", "GROUP", "g", "c", "STREAMS", "s", ">"),
         Err("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")),
        (("XREAD", "NOACK", "STREAMS", "s", ">"),
         Err("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")),
        (("XREAD", "STREAMS", "s", ">"),
         Err("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> "
             "option.")),
        (("XREAD", "COUNT", "x", "STREAMS", "s", "0"), NOT_INT),
        (("XREAD", "BLOCK", "x", "STREAMS", "s", "0"), Err("ERR timeout is not an integer or out of range")),
        (("XREAD", "BLOCK", "-1", "STREAMS", "s", "0"), Err("ERR timeout is negative")),
        (("XREAD", "COUNT", "1", "s", "0"), SYNTAX),
        (("XREAD", "STREAMS", "str", "0"), WRONGTYPE),
        (("XREAD", "STREAMS", "nokey", "s", "0", "0"), [[b"s", [[b"1-0", [b"a", b"1"]]]]]),
        (("XREAD", "COUNT", "-1", "STREAMS", "s", "0"), [[b"s", [[b"1-0", [b"a", b"1"]]]]]),
        (("XREAD", "STREAMS", "s", "1-0"), None),
    ])


def test_xpending_extended(c):
    for i in range(1, 6):
        c.cmd("XADD", "s", f"{i}-0", "f", str(i))
    c.cmd("XGROUP", "CREATE", "s", "g", "0")
    c.cmd("XREADGROUP", "GROUP", "g", "a", "COUNT", "2", "STREAMS", "s", ">")
    c.cmd("XREADGROUP", "GROUP", "g", "b", "STREAMS", "s", ">")
    got = c.cmd("XPENDING", "s", "g", "-", "+", "10")
    assert [(x[0], x[1], x[3]) for x in got] == [(b"1-0", b"a", 1), (b"2-0", b"a", 1), (b"3-0", b"b", 1),
                                                 (b"4-0", b"b", 1), (b"5-0", b"b", 1)]
    assert all(0 <= x[2] < 5000 for x in got)
    # exclusive bounds select what the inclusive ones do; idle times are left out (the two calls may fall
    # in different milliseconds)
    ex, inc = c.cmd("XPENDING", "s", "g", "(1-0", "(5", "2"), c.cmd("XPENDING", "s", "g", "2", "4", "2")
    assert [(x[0], x[1], x[3]) for x in ex] == [(x[0], x[1], x[3]) for x in inc] == [(b"2-0", b"a", 1), (b"3-0", b"b", 1)]
    check(c, [
        (("XPENDING", "s", "g", "-", "+", "0"), []),
        (("XPENDING", "s", "g", "-", "+", "-5"), []),
        (("XPENDING", "s", "g", "-", "+", "10", "nobody"), []),
        (("XPENDING", "s", "g", "IDLE", "100000", "-", "+", "10"), []),
        (("XPENDING", "s", "g", "IDLE", "100000", "-", "+"), SYNTAX),
        (("XPENDING", "s", "g", "IDLE", "x", "-", "+", "10"), NOT_INT),
        (("XPENDING", "s", "g", "-", "+"), SYNTAX),
        (("XPENDING", "s", "g", "-"), SYNTAX),
        (("XPENDING", "s", "g", "-", "+", "x"), NOT_INT),
        (("XPENDING", "s", "g", "x", "+", "1"), INVALID_ID),
        (("XPENDING", "s", "nog"), Err("NOGROUP No such key 's' or consumer group 'nog'")),
        (("XPENDING", "nokey", "g", "-", "+", "1"), Err("NOGROUP No such key 'nokey' or consumer group 'g'")),
        (("XGROUP", "CREATE", "s", "e", "$"), "OK"),
        (("XPENDING", "s", "e"), [0, None, None, None]),
    ])
    got = c.cmd("XPENDING", "s", "g", "IDLE", "0", "-", "+", "10", "b")
    assert [x[0] for x in got] == [b"3-0", b"4-0", b"5-0"]


def test_xclaim(c):
    for i in range(1, 6):
        c.cmd("XADD", "s", f"{i}-0", "f", str(i))
    c.cmd("XGROUP", "CREATE", "s", "g", "0")
    c.cmd("XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">")
    c.cmd("XDEL", "s", "2-0")
    check(c, [
        (("XCLAIM", "s", "g", "b", "100000", "1-0"), []),
        (("XCLAIM", "s", "g", "b", "0", "1-0", "2-0", "9-0"), [[b"1-0", [b"f", b"1"]]]),
        (("XPENDING", "s", "g"), [4, b"1-0", b"5-0", [[b"a", b"3"], [b"b", b"1"]]]),
        (("XCLAIM", "s", "g", "b", "0", "3-0", "JUSTID"), [b"3-0"]),
        (("XCLAIM", "s", "g", "b", "0", "4-0", "RETRYCOUNT", "7", "IDLE", "5000", "JUSTID"), [b"4-0"]),
        (("XCLAIM", "s", "g", "c", "0", "5-0", "TIME", "1000", "FORCE", "LASTID", "9-0"), [[b"5-0", [b"f", b"5"]]]),
        (("XINFO", "GROUPS", "s"), [[b"name", b"g", b"consumers", 3, b"pending", 4, b"last-delivered-id", b"9-0",
                                     b"entries-read", 5, b"lag", 0]]),
        (("XGROUP", "SETID", "s", "g", "0"), "OK"),
        (("XACK", "s", "g", "1-0"), 1),
        (("XCLAIM", "s", "g", "d", "0", "1-0", "FORCE"), [[b"1-0", [b"f", b"1"]]]),
        (("XCLAIM", "s", "g", "d", "0", "2-0", "FORCE"), []),
        (("XCLAIM", "s", "g", "d", "x", "1-0"), Err("ERR Invalid min-idle-time argument for XCLAIM")),
        (("XCLAIM", "s", "g", "d", "0", "1-0", "IDLE", "x"), Err("ERR Invalid IDLE option argument for XCLAIM")),
        (("XCLAIM", "s", "g", "d", "0", "1-0", "TIME", "x"), Err("ERR Invalid TIME option argument for XCLAIM")),
        (("XCLAIM", "s", "g", "d", "0", "1-0", "RETRYCOUNT", "x"),
         Err("ERR Invalid RETRYCOUNT option argument for XCLAIM")),
        (("XCLAIM", "s", "g", "d", "0", "1-0", "LASTID", "x"), INVALID_ID),
        (("XCLAIM", "s", "g", "d", "0", "1-0", "FOO"), Err("ERR Unrecognized XCLAIM option 'FOO'")),
        (("XCLAIM", "s", "g", "d", "0", "1-0", "IDLE"), Err("ERR Unrecognized XCLAIM option 'IDLE'")),
        (("XCLAIM", "s", "nog", "d", "0", "1-0"), Err("NOGROUP No such key 's' or consumer group 'nog'")),
        (("XCLAIM", "nokey", "g", "d", "0", "1-0"), Err("NOGROUP No such key 'nokey' or consumer group 'g'")),
    ])
    pend = {x[0]: x for x in c.cmd("XPENDING", "s", "g", "-", "+", "10")}
    assert pend[b"4-0"][3] == 7 and pend[b"4-0"][2] >= 5000
    assert pend[b"1-0"][1] == b"d" and pend[b"1-0"][3] == 2
    assert pend[b"5-0"][1] == b"c" and pend[b"5-0"][3] == 2 and pend[b"5-0"][2] > 1_000_000
    full = c.cmd("XINFO", "STREAM", "s", "FULL")
    g = dict(zip(full[-1][0][::2], full[-1][0][1::2]))
    assert [p[0] for p in g[b"pending"]] == [b"1-0", b"3-0", b"4-0", b"5-0"]
    assert [p for p in g[b"pending"] if p[0] == b"5-0"][0][2] == 1000


def test_xautoclaim(c):
    for i in range(1, 8):
        c.cmd("XADD", "s", f"{i}-0", "f", str(i))
    c.cmd("XGROUP", "CREATE", "s", "g", "0")
    c.cmd("XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">")
    c.cmd("XDEL", "s", "2-0", "5-0")
    check(c, [
        (("XAUTOCLAIM", "s", "g", "b", "100000", "0-0", "COUNT", "1"), [b"3-0", [], [b"2-0"]]),
        (("XAUTOCLAIM", "s", "g", "b", "0", "0-0", "COUNT", "2"),
         [b"4-0", [[b"1-0", [b"f", b"1"]], [b"3-0", [b"f", b"3"]]], []]),
        (("XAUTOCLAIM", "s", "g", "b", "0", "4-0", "COUNT", "2", "JUSTID"), [b"6-0", [b"4-0"], [b"5-0"]]),
        (("XAUTOCLAIM", "s", "g", "c", "0", "(4-0", "JUSTID"), [b"0-0", [b"6-0", b"7-0"], []]),
        (("XPENDING", "s", "g"), [5, b"1-0", b"7-0", [[b"b", b"3"], [b"c", b"2"]]]),
        (("XAUTOCLAIM", "s", "g", "c", "0", "0-0", "COUNT", "0"), Err("ERR COUNT must be > 0")),
        (("XAUTOCLAIM", "s", "g", "c", "0", "0-0", "COUNT", "x"), Err("ERR COUNT must be > 0")),
        (("XAUTOCLAIM", "s", "g", "c", "x", "0-0"), Err("ERR Invalid min-idle-time argument for XAUTOCLAIM")),
        (("XAUTOCLAIM", "s", "g", "c", "0", "x"), INVALID_ID),
        (("XAUTOCLAIM", "s", "g", "c", "0", "0-0", "FOO"), SYNTAX),
        (("XAUTOCLAIM", "s", "nog", "c", "0", "0-0"), Err("NOGROUP No such key 's' or consumer group 'nog'")),
        (("XAUTOCLAIM", "s", "g", "c", "0", "(18446744073709551615-18446744073709551615"),
         Err("ERR invalid start ID for the interval")),
    ])
    pend = {x[0]: x[3] for x in c.cmd("XPENDING", "s", "g", "-", "+", "10")}
    assert pend == {b"1-0": 2, b"3-0": 2, b"4-0": 1, b"6-0": 1, b"7-0": 1}


def test_lag_and_entries_read(c):
    for i in range(1, 5):
        c.cmd("XADD", "s", f"{i}-0", "f", str(i))
    c.cmd("XGROUP", "CREATE", "s", "g", "0")
    c.cmd("XGROUP", "CREATE", "s", "h", "$", "ENTRIESREAD", "2")

    def groups():
        return {x[1]: (x[9], x[11]) for x in c.cmd("XINFO", "GROUPS", "s")}
    assert groups() == {b"g": (None, 4), b"h": (2, 2)}
    c.cmd("XREADGROUP", "GROUP", "g", "a", "COUNT", "1", "STREAMS", "s", ">")
    assert groups()[b"g"] == (1, 3)
    c.cmd("XDEL", "s", "3-0")
    c.cmd("XREADGROUP", "GROUP", "g", "a", "COUNT", "1", "STREAMS", "s", ">")
    assert groups()[b"g"] == (None, None)  # a tombstone ahead: the counter is unknown
    c.cmd("XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">")
    assert groups()[b"g"] == (4, 0)
    c.cmd("XADD", "s", "5-0", "f", "5")
    assert groups() == {b"g": (4, 1), b"h": (2, 3)}


def test_xsetid(c):
    c.cmd("XADD", "s", "5-0", "a", "1")
    check(c, [
        (("XSETID", "s", "4-0"), Err("ERR The ID specified in XSETID is smaller than the target stream top item")),
        (("XSETID", "s", "x"), INVALID_ID),
        (("XSETID", "nokey", "1-0"), NO_KEY),
        (("XSETID", "s", "9-0", "ENTRIESADDED", "-1"), Err("ERR entries_added must be positive")),
        (("XSETID", "s", "9-0", "ENTRIESADDED", "0"),
         Err("ERR The entries_added specified in XSETID is smaller than the target stream length")),
        (("XSETID", "s", "9-0", "MAXDELETEDID", "10-0"),
         Err("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")),
        (("XSETID", "s", "9-0", "FOO"), SYNTAX),
        (("XSETID", "s", "9-0", "ENTRIESADDED", "7", "MAXDELETEDID", "3-0"), "OK"),
        (("XSETID", "s", "8-0", "MAXDELETEDID", "2-0"), "OK"),
        (("XADD", "s", "8-5", "a", "1"), b"8-5"),
        (("XSETID", "s", "8-0"), Err("ERR The ID specified in XSETID is smaller than the target stream top item")),
    ])
    i = info(c, "s")
    assert (i[b"last-generated-id"], i[b"entries-added"], i[b"max-deleted-entry-id"]) == (b"8-5", 8, b"2-0")
    c.cmd("XDEL", "s", "5-0", "8-5")
    assert c.cmd("XSETID", "s", "6-0") == "OK"  # 7.0 does not compare with max-deleted-entry-id
    assert info(c, "s")[b"max-deleted-entry-id"] == b"8-5"


# ---------------------------------------------------------------------------------------------
# blocking
# ---------------------------------------------------------------------------------------------

def test_xread_block_served_by_xadd(sardine):
    w, p = Raw(sardine.port), Raw(sardine.port)
    blocked(w, "XREAD", "BLOCK", "0", "STREAMS", "s1", "s2", "$", "$")
    assert p.cmd("XADD", "s2", "5-0", "f", "v") == b"5-0"
    assert w.reply() == [[b"s2", [[b"5-0", [b"f", b"v"]]]]]
    # "$" is the last ID when the command blocked: entries added since then are what it gets
    blocked(w, "XREAD", "BLOCK", "0", "STREAMS", "s2", "$")
    p.cmd("MULTI")
    p.cmd("XADD", "s2", "6-0", "f", "6")
    p.cmd("XADD", "s2", "7-0", "f", "7")
    p.cmd("EXEC")
    assert w.reply() == [[b"s2", [[b"6-0", [b"f", b"6"]], [b"7-0", [b"f", b"7"]]]]]
    # an ID in the past is served at once
    assert w.cmd("XREAD", "BLOCK", "0", "COUNT", "1", "STREAMS", "s2", "0") == [[b"s2", [[b"5-0", [b"f", b"v"]]]]]
    # entries added then deleted before the waiter runs: served with no entries, as Redis does
    blocked(w, "XREAD", "BLOCK", "0", "STREAMS", "s2", "$")
    p.cmd("MULTI")
    p.cmd("XADD", "s2", "8-0", "f", "8")
    p.cmd("XDEL", "s2", "8-0")
    p.cmd("EXEC")
    assert w.reply() == [[b"s2", []]]
    # another type under the key does not wake the reader
    blocked(w, "XREAD", "BLOCK", "0", "STREAMS", "k", "$")
    p.cmd("LPUSH", "k", "x")
    assert w.nothing_pending(0.2)
    p.cmd("DEL", "k")
    p.cmd("XADD", "k", "1-0", "a", "b")
    assert w.reply() == [[b"k", [[b"1-0", [b"a", b"b"]]]]]
    assert w.cmd("PING") == "PONG"
    w.close()
    p.close()


def test_xread_block_fifo_and_timeout(sardine):
    a, b, p = Raw(sardine.port), Raw(sardine.port), Raw(sardine.port)
    blocked(a, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    blocked(b, "XREAD", "BLOCK", "0", "COUNT", "1", "STREAMS", "s", "$")
    p.cmd("XADD", "s", "1-0", "f", "1")
    assert a.reply() == [[b"s", [[b"1-0", [b"f", b"1"]]]]]
    assert b.reply() == [[b"s", [[b"1-0", [b"f", b"1"]]]]]
    t = time.time()
    a.send(encode("XREAD", "BLOCK", "200", "STREAMS", "s", "$"))
    assert a.read_raw(5, timeout=5) == b"*-1\r\n"
    assert 0.15 < time.time() - t < 3
    # inside MULTI a blocking read that cannot be served replies as on timeout
    p.cmd("MULTI")
    p.cmd("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    p.cmd("XREAD", "BLOCK", "0", "STREAMS", "s", "0")
    assert p.cmd("EXEC") == [None, [[b"s", [[b"1-0", [b"f", b"1"]]]]]]
    for x in (a, b, p):
        x.close()


def test_xreadgroup_block(sardine):
    w, p = Raw(sardine.port), Raw(sardine.port)
    p.cmd("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    blocked(w, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    assert p.cmd("XINFO", "CONSUMERS", "s", "g") == []
    p.cmd("XADD", "s", "1-0", "f", "1")
    assert w.reply() == [[b"s", [[b"1-0", [b"f", b"1"]]]]]
    assert p.cmd("XPENDING", "s", "g") == [1, b"1-0", b"1-0", [[b"c", b"1"]]]
    blocked(w, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "NOACK", "STREAMS", "s", ">")
    p.cmd("XADD", "s", "2-0", "f", "2")
    assert w.reply() == [[b"s", [[b"2-0", [b"f", b"2"]]]]]
    assert p.cmd("XPENDING", "s", "g")[0] == 1
    blocked(w, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    assert p.cmd("XGROUP", "DESTROY", "s", "g") == 1
    assert w.reply() == Err("NOGROUP the consumer group this client was blocked on no longer exists")
    w.close()
    p.close()
