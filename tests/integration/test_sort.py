"""SORT and SORT_RO: exact replies and error texts (raw RESP2 connection `c`), numeric and ALPHA
ordering, LIMIT clamping, BY patterns (string keys, hash fields, constants), GET patterns ("#",
missing keys -> null), STORE (list result, TTL dropped, empty result deletes, wakes BLPOP), every
source type and encoding, and a hypothesis differential test against the Debian redis-server oracle
that includes ties, partial sorts (BY + LIMIT) and numeric parsing edge cases.

Validated against Debian's redis-server 7.0.15 (SARDINE_SERVER=/usr/bin/redis-server).
"""
import os
import threading
import time

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from sardine_resp import Err, Raw

SYNTAX = Err("ERR syntax error")
NOT_INT = Err("ERR value is not an integer or out of range")
NOT_DOUBLE = Err("ERR One or more scores can't be converted into double")
WRONGTYPE = Err("WRONGTYPE Operation against a key holding the wrong kind of value")


def b(*xs):
    return [x if x is None or isinstance(x, bytes) else str(x).encode() for x in xs]


def check(c, steps):
    for args, expected in steps:
        got = c.cmd(*args)
        assert got == expected and type(got) is type(expected), f"{args}: got {got!r}, want {expected!r}"


def test_numeric_and_alpha(c):
    c.cmd("RPUSH", "l", "3", "1", "2", "10", "-1", "1.5", "1e1", "", " 7", "0x10", "007")
    check(c, [
        # "" parses as 0, " 7" as 7 and "0x10" as 16 (strtod); equal numbers order by their bytes
        (("SORT", "l"), b("-1", "", "1", "1.5", "2", "3", " 7", "007", "10", "1e1", "0x10")),
        (("SORT", "l", "DESC"), b("0x10", "1e1", "10", "007", " 7", "3", "2", "1.5", "1", "", "-1")),
        (("SORT", "l", "ALPHA"), b("", " 7", "-1", "007", "0x10", "1", "1.5", "10", "1e1", "2", "3")),
        (("sort", "l", "alpha", "desc", "asc"), b("", " 7", "-1", "007", "0x10", "1", "1.5", "10", "1e1", "2", "3")),
        (("SORT_RO", "l", "LIMIT", "0", "3"), b("-1", "", "1")),
    ])
    c.cmd("RPUSH", "bad", "1", "x", "2")
    check(c, [
        (("SORT", "bad"), NOT_DOUBLE),
        (("SORT", "bad", "ALPHA"), b("1", "2", "x")),
        (("RPUSH", "bad3", "nan"), 1),
        (("SORT", "bad3"), NOT_DOUBLE),
        (("RPUSH", "ok", "inf", "-inf", "5"), 3),
        (("SORT", "ok"), b("-inf", "5", "inf")),
        # Overflow is an error too.  (Last: Redis never clears errno after this one, so its next SORTs
        # on the same connection may fail as well until some call resets errno; sardine does not copy that.)
        (("RPUSH", "bad2", "1e400"), 1),
        (("SORT", "bad2"), NOT_DOUBLE),
    ])


def test_limit_clamping(c):
    c.cmd("RPUSH", "l", *[str(i) for i in range(10, 0, -1)])
    check(c, [
        (("SORT", "l", "LIMIT", "0", "3"), b(1, 2, 3)),
        (("SORT", "l", "LIMIT", "8", "5"), b(9, 10)),
        (("SORT", "l", "LIMIT", "-5", "2"), b(1, 2)),
        (("SORT", "l", "LIMIT", "2", "-1"), b(3, 4, 5, 6, 7, 8, 9, 10)),
        (("SORT", "l", "LIMIT", "2", "-7"), b(3, 4, 5, 6, 7, 8, 9, 10)),
        (("SORT", "l", "LIMIT", "10", "1"), []),
        (("SORT", "l", "LIMIT", "3", "0"), []),
        (("SORT", "l", "LIMIT", "9223372036854775807", "9223372036854775807"), []),
        (("SORT", "l", "LIMIT", "1", "9223372036854775807"), b(2, 3, 4, 5, 6, 7, 8, 9, 10)),
        (("SORT", "l", "LIMIT", "1"), SYNTAX),
        (("SORT", "l", "LIMIT", "a", "1"), NOT_INT),
        (("SORT", "l", "LIMIT", "1", "1.5"), NOT_INT),
        (("SORT", "l", "LIMIT", "0", "2", "LIMIT", "5", "1"), b(6)),
    ])


def test_by_and_get(c):
    c.cmd("RPUSH", "l", "a", "b", "c", "d")
    c.cmd("MSET", "w_a", "3", "w_b", "1", "w_c", "2", "o_a", "A", "o_b", "B", "o_c", "C")
    c.cmd("HSET", "h_a", "f", "z", "n", "30")
    c.cmd("HSET", "h_b", "f", "y", "n", "10")
    c.cmd("HSET", "h_c", "f", "x")
    check(c, [
        # d has no weight: 0, before b (1)
        (("SORT", "l", "BY", "w_*"), b("d", "b", "c", "a")),
        (("SORT", "l", "BY", "w_*", "DESC"), b("a", "c", "b", "d")),
        (("SORT", "l", "BY", "w_*", "GET", "o_*"), b(None, "B", "C", "A")),
        (("SORT", "l", "BY", "w_*", "GET", "#", "GET", "o_*", "GET", "w_*"),
         b("d", None, None, "b", "B", "1", "c", "C", "2", "a", "A", "3")),
        (("SORT", "l", "BY", "h_*->f", "ALPHA"), b("d", "c", "b", "a")),  # missing first
        (("SORT", "l", "BY", "h_*->n"), b("c", "d", "b", "a")),  # c and d: 0, by bytes
        (("SORT", "l", "BY", "h_*->f", "ALPHA", "GET", "h_*->f"), b(None, "x", "y", "z")),
        (("SORT", "l", "BY", "x", "GET", "h_*->"), b(None, None, None, None)),  # "h_a->": a string key
        (("SORT", "l", "BY", "x", "GET", "nostar"), b(None, None, None, None)),
        (("SORT", "l", "GET", "o_*"), NOT_DOUBLE),  # without BY the elements are the numbers
        (("SORT", "l", "BY", "w_*", "LIMIT", "1", "2"), b("b", "c")),
        (("SORT", "l", "BY", "o_*"), NOT_DOUBLE),
        (("SORT", "l", "BY", "o_*", "ALPHA", "DESC"), b("c", "b", "a", "d")),
    ])
    # the hash is not a string: a BY/GET on it finds nothing
    check(c, [(("SORT", "l", "ALPHA", "GET", "h_*"), b(None, None, None, None))])


def test_by_constant_keeps_native_order(c):
    c.cmd("RPUSH", "l", "c", "a", "b", "d")
    c.cmd("ZADD", "z", "3", "x", "1", "y", "2", "w")
    c.cmd("SADD", "s", "5", "1", "3")
    check(c, [
        (("SORT", "l", "BY", "nosort"), b("c", "a", "b", "d")),
        (("SORT", "l", "BY", "nosort", "DESC"), b("d", "b", "a", "c")),
        (("SORT", "l", "BY", "nosort", "LIMIT", "1", "2"), b("a", "b")),
        (("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "2"), b("b", "a")),
        (("SORT", "l", "BY", "nosort", "LIMIT", "5", "2"), []),
        (("SORT", "z", "BY", "nosort"), b("y", "w", "x")),
        (("SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "5"), b("w", "y")),
        (("SORT", "z", "BY", "nosort", "GET", "#"), b("y", "w", "x")),
        (("SORT", "s", "BY", "nosort"), b("1", "3", "5")),  # an intset's order
        # STORE of a set without sorting sorts it (ALPHA) so that the result is reproducible
        (("SADD", "t", "b", "a", "c"), 3),
        (("SORT", "t", "BY", "nosort", "STORE", "d"), 3),
        (("LRANGE", "d", "0", "-1"), b("a", "b", "c")),
        # a constant BY anywhere wins over a later pattern
        (("SORT", "l", "BY", "nosort", "BY", "w_*"), b("c", "a", "b", "d")),
    ])


def test_sources_and_encodings(c):
    c.cmd("SADD", "s", "3", "1", "2")
    c.cmd("SADD", "t", "b", "a", "10")
    c.cmd("ZADD", "z", "1", "c", "2", "b", "3", "a")
    check(c, [
        (("SORT", "s"), b(1, 2, 3)),
        (("SORT", "t", "ALPHA"), b("10", "a", "b")),
        (("SORT", "z", "ALPHA"), b("a", "b", "c")),
        (("SORT", "nokey"), []),
        (("SORT", "nokey", "STORE", "d"), 0),
        (("EXISTS", "d"), 0),
        (("SET", "str", "x"), "OK"),
        (("SORT", "str"), WRONGTYPE),
        (("HSET", "h", "a", "1"), 1),
        (("SORT", "h"), WRONGTYPE),
        (("SORT", "str", "foo"), SYNTAX),  # options are checked before the key
    ])
    # Redis converts a sorted set it sorts to the skiplist encoding, SORT_RO included
    assert c.cmd("OBJECT", "ENCODING", "z") == b"skiplist"
    c.cmd("ZADD", "z2", "1", "a")
    assert c.cmd("OBJECT", "ENCODING", "z2") == b"listpack"
    c.cmd("SORT_RO", "z2", "BY", "nosort")
    assert c.cmd("OBJECT", "ENCODING", "z2") == b"skiplist"
    assert c.cmd("ZRANGE", "z2", "0", "-1", "WITHSCORES") == b("a", "1")


def test_store(c):
    c.cmd("RPUSH", "l", "3", "1", "2")
    c.cmd("SET", "d", "old", "EX", "100")
    check(c, [
        (("SORT", "l", "STORE", "d"), 3),
        (("TYPE", "d"), "list"),
        (("TTL", "d"), -1),
        (("LRANGE", "d", "0", "-1"), b(1, 2, 3)),
        (("OBJECT", "ENCODING", "d"), b"quicklist"),
        (("SORT", "l", "GET", "x_*", "GET", "#", "STORE", "d"), 6),
        (("LRANGE", "d", "0", "-1"), b("", 1, "", 2, "", 3)),
        (("SORT", "l", "LIMIT", "5", "5", "STORE", "d"), 0),
        (("EXISTS", "d"), 0),
        (("SORT", "l", "STORE", "l"), 3),  # onto itself
        (("LRANGE", "l", "0", "-1"), b(1, 2, 3)),
        (("SORT_RO", "l", "STORE", "d"), SYNTAX),
        (("SORT", "l", "STORE"), SYNTAX),
        (("RPUSH", "bad", "x"), 1),
        (("SET", "keep", "v"), "OK"),
        (("SORT", "bad", "STORE", "keep"), NOT_DOUBLE),
        (("GET", "keep"), b"v"),
    ])


def test_store_wakes_blocked_client(sardine, c):
    c.cmd("RPUSH", "l", "b", "a")
    waiter = Raw(sardine.port)
    waiter.send(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nd\r\n$1\r\n5\r\n")
    time.sleep(0.2)
    assert c.cmd("SORT", "l", "ALPHA", "STORE", "d") == 2
    assert waiter.reply() == b("d", "a")
    assert c.cmd("LRANGE", "d", "0", "-1") == b("b")
    waiter.close()


def test_arity_and_command_info(c):
    assert c.cmd("SORT") == Err("ERR wrong number of arguments for 'sort' command")
    assert c.cmd("SORT_RO") == Err("ERR wrong number of arguments for 'sort_ro' command")
    info = c.cmd("COMMAND", "INFO", "sort", "sort_ro")
    assert info[0][:6] == [b"sort", -2, ["write", "denyoom", "movablekeys"], 1, 1, 1]
    assert info[1][:6] == [b"sort_ro", -2, ["readonly", "movablekeys"], 1, 1, 1]


def test_big_sort_matches_python(c):
    vals = [str((i * 7919) % 1000 - 500) for i in range(3000)]
    c.send(b"".join(b"*3\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$%d\r\n%s\r\n" % (len(v), v.encode()) for v in vals))
    for _ in vals:
        c.reply()
    want = sorted(vals, key=lambda v: (int(v), v.encode()))
    assert c.cmd("SORT", "l") == [v.encode() for v in want]
    assert c.cmd("SORT", "l", "DESC", "LIMIT", "10", "20") == [v.encode() for v in want[::-1][10:30]]
    assert c.cmd("SORT", "l", "ALPHA", "LIMIT", "0", "5") == sorted(v.encode() for v in vals)[:5]


# ---------------------------------------------------------------------------------------------
# Differential: sardine vs redis-server
# ---------------------------------------------------------------------------------------------

EXAMPLES = int(os.environ.get("SARDINE_DIFF_EXAMPLES", "60"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("SARDINE_DIFF_RANDOM"),
                    database=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                          HealthCheck.too_slow, HealthCheck.data_too_large])

ELEMS = ["1", "2", "10", "-3", "007", "7", "1.5", "1e1", "", " 4", "0x10", "inf", "a", "b", "ab", "B", "x y",
         "5\x00z", "a\x00b", "a\x00c", "*", "k->f", "9" * 30]
# In a (sorted) set, elements that tie under ALPHA (strcoll stops at a NUL byte) keep the hash order
SET_ELEMS = [e for e in ELEMS if "\x00" not in e]
INTS = ["1", "2", "3", "10", "-5", "42", "100", "7"]
WEIGHTS = ["1", "2", "2", "0", "-1", "1.5", "x", "", "10", "-0", "0x1p3"]  # no overflow: see test_numeric_and_alpha
SRC = ["l", "s", "i", "z"]  # list, hashtable set, intset, sorted set


@st.composite
def dataset(draw):
    cmds = []
    lst = draw(st.lists(st.sampled_from(ELEMS), min_size=0, max_size=25))
    if lst:
        cmds.append(["RPUSH", "l"] + lst)
    s = draw(st.lists(st.sampled_from(SET_ELEMS), min_size=1, max_size=15))
    cmds.append(["SADD", "s"] + s)
    cmds.append(["SADD", "i"] + draw(st.lists(st.sampled_from(INTS), min_size=1, max_size=8)))
    z = draw(st.lists(st.tuples(st.sampled_from(["1", "2", "3", "-1", "0"]), st.sampled_from(SET_ELEMS)),
                      min_size=1, max_size=15))
    cmds.append(["ZADD", "z"] + [x for p in z for x in p])
    for e in ELEMS + INTS:  # numeric weights (with ties, gaps and junk) and unique ALPHA keys
        if draw(st.integers(0, 3)):
            cmds.append(["SET", "w_" + e, draw(st.sampled_from(WEIGHTS))])
        cmds.append(["SET", "u_" + e, "u" + e.encode().hex()])
        if draw(st.booleans()):
            cmds.append(["HSET", "h_" + e, "f", draw(st.sampled_from(WEIGHTS)), "g", e])
    if draw(st.booleans()):
        cmds.append(["CONFIG", "SET", "zset-max-listpack-entries", "0"])
    return cmds


limit = st.one_of(st.just([]), st.tuples(st.sampled_from(["0", "1", "3", "-2", "30"]),
                                         st.sampled_from(["0", "1", "2", "5", "-1"])).map(lambda t: ["LIMIT", *t]))


@st.composite
def sort_cmd(draw):
    src = draw(st.sampled_from(SRC + ["nokey"]))
    args = [draw(st.sampled_from(["SORT", "SORT_RO"])), src]
    by = draw(st.sampled_from([None, "w_*", "h_*->f", "nosort", "u_*", "missing_*"]))
    alpha = draw(st.booleans())
    # Ties under ALPHA BY keep the input order, which for (sorted) sets is Redis's hash order:
    # only the unique u_* keys are used there.
    if alpha and by not in (None, "nosort", "u_*") and src in ("s", "z", "i"):
        by = "u_*"
    store = args[0] == "SORT" and draw(st.integers(0, 4)) == 0
    # a hashtable set in its own (hash) order cannot be compared, unless STORE sorts it
    if by == "nosort" and src == "s" and not store:
        by = None
    opts = []
    if by:
        opts.append(["BY", by])
    if alpha:
        opts.append(["ALPHA"])
    if draw(st.booleans()):
        opts.append([draw(st.sampled_from(["ASC", "DESC", "desc"]))])
    lim = draw(limit)
    if lim:
        opts.append(lim)
    for g in draw(st.lists(st.sampled_from(["#", "w_*", "h_*->g", "h_*->f", "nothere_*", "u_*"]), max_size=2)):
        opts.append(["GET", g])
    if store:
        opts.append(["STORE", "dst"])
    opts = draw(st.permutations(opts))
    return args + [x for o in opts for x in o]


@SETTINGS
@given(data=dataset(), cmds=st.lists(sort_cmd(), min_size=1, max_size=8))
def test_diff_sort(sardine, oracle, data, cmds):
    s, o = Raw(sardine.port), Raw(oracle.port)
    try:
        for side in (s, o):
            side.cmd("FLUSHALL")
            side.cmd("CONFIG", "SET", "zset-max-listpack-entries", "128")
            for cmd in data:
                side.cmd(*cmd)
        for cmd in cmds:
            got, want = s.cmd(*cmd), o.cmd(*cmd)
            note(f"{cmd!r} -> {got!r} / {want!r}")
            assert got == want, f"{cmd!r}: sardine {got!r}, redis {want!r}"
            if "STORE" in cmd:
                assert s.cmd("LRANGE", "dst", "0", "-1") == o.cmd("LRANGE", "dst", "0", "-1")
            for k in ("l", "s", "i", "z", "dst"):
                assert s.cmd("OBJECT", "ENCODING", k) == o.cmd("OBJECT", "ENCODING", k)
    finally:
        s.close()
        o.close()
