"""Differential tests for streams: hypothesis-generated sequences of stream commands (explicit IDs only,
since "*" reads the clock; bad arguments, wrong types, transactions, trimming with = and ~ and LIMIT,
consumer groups, claims, XINFO including radix-tree figures, small node sizes set by CONFIG SET) run on
sardine and on the Debian redis-server oracle.  Every reply must be identical once clock-dependent
numbers (idle times, delivery and seen times) are masked; OBJECT ENCODING of every key is compared after
each step, and the whole keyspace (type, entries, XINFO STREAM FULL) at the end.

Deterministic (fixed seeds); SARDINE_DIFF_RANDOM=1 explores, SARDINE_DIFF_EXAMPLES=N sets the count.
"""
from hypothesis import given
from hypothesis import strategies as st

from diffharness import Side, run_sequence, settings_for, sides_fixture

EXAMPLES, SETTINGS = settings_for(120)

KEYS = ["s", "t", "x"]
MS = ["0", "1", "2", "3", "5", "8", "13", "100", "256", "70000"]
IDS_BAD = ["abc", "-", "+", "1-x", "-1", "(1", "", "18446744073709551615-18446744073709551615",
           "18446744073709551616", " 2", "007-1"]
FIELDS = ["a", "b", "c", "1", "f" * 20]
VALUES = ["x", "1", "-1", "128", "9223372036854775807", "", "hello world", "v" * 70, "007"]
GROUPS = ["g", "h", "nog"]
CONSUMERS = ["alice", "bob", "c"]
COUNTS = ["0", "1", "2", "5", "-1", "x"]

key = st.sampled_from(KEYS)
ms = st.sampled_from(MS)
seq = st.sampled_from(["0", "1", "2", "3", "18446744073709551615"])
good_id = st.one_of(st.tuples(ms, seq).map(lambda t: f"{t[0]}-{t[1]}"), ms)
any_id = st.one_of(good_id, good_id, good_id, st.sampled_from(IDS_BAD))
range_id = st.one_of(any_id, st.sampled_from(["-", "+"]), good_id.map(lambda i: "(" + i))
add_id = st.one_of(good_id, good_id, ms.map(lambda m: m + "-*"), st.sampled_from(IDS_BAD + ["0-0"]))
group = st.sampled_from(GROUPS)
consumer = st.sampled_from(CONSUMERS)
cnt = st.sampled_from(COUNTS)
idle = st.sampled_from(["0", "100000", "-5", "x"])


def c(*parts):
    return st.tuples(*[st.just(p) if isinstance(p, str) else p for p in parts]).map(list)


def cat(*parts):
    return st.tuples(*parts).map(lambda t: [x for p in t for x in (p if isinstance(p, list) else [p])])


fv = st.lists(st.tuples(st.sampled_from(FIELDS), st.sampled_from(VALUES)).map(list), min_size=1, max_size=3) \
    .map(lambda l: [x for p in l for x in p])
trim = st.one_of(
    st.just([]), st.just([]),
    c("MAXLEN", st.sampled_from(["=", "~"]), st.sampled_from(["0", "1", "2", "5", "-1"])),
    c("MAXLEN", st.sampled_from(["0", "2", "3"])),
    c("MINID", st.sampled_from(["=", "~"]), good_id),
    c("MAXLEN", "~", st.sampled_from(["0", "2"]), "LIMIT", st.sampled_from(["0", "1", "10", "-1"])),
    c("MINID", good_id, "LIMIT", "5"),
)
ids_list = st.lists(any_id, min_size=1, max_size=3)

STREAM_CMDS = [
    cat(c("XADD", key), st.sampled_from([[], [], ["NOMKSTREAM"]]), trim, add_id.map(lambda i: [i]), fv),
    cat(c("XADD", key), add_id.map(lambda i: [i]), fv),
    cat(c("XADD", key), add_id.map(lambda i: [i]), fv),
    c("XADD", key, good_id, "onlyfield"),
    cat(c("XTRIM", key), trim),
    c("XLEN", key),
    c("XRANGE", key, range_id, range_id),
    cat(c("XRANGE", key, "-", "+"), st.sampled_from([[], ["COUNT", "2"], ["COUNT", "0"], ["COUNT"]])),
    c("XREVRANGE", key, range_id, range_id, "COUNT", cnt),
    c("XREVRANGE", key, "+", "-"),
    cat(c("XDEL", key), ids_list),
    cat(c("XREAD", "COUNT", cnt, "STREAMS", key, key), st.tuples(range_id, st.sampled_from(["$", "0", "2-0"]))
        .map(list)),
    c("XREAD", "BLOCK", "10", "STREAMS", key, "$"),
    c("XREAD", "STREAMS", key, "0"),
    cat(c("XGROUP", "CREATE", key, group), st.sampled_from(["$", "0", "2-1", "x"]).map(lambda i: [i]),
        st.sampled_from([[], ["MKSTREAM"], ["ENTRIESREAD", "1"], ["ENTRIESREAD", "-2"], ["FOO"]])),
    cat(c("XGROUP", "SETID", key, group), st.sampled_from(["$", "0", "3-0", "-", "x"]).map(lambda i: [i]),
        st.sampled_from([[], ["ENTRIESREAD", "2"], ["ENTRIESREAD", "-1"]])),
    c("XGROUP", "DESTROY", key, group),
    c("XGROUP", "CREATECONSUMER", key, group, consumer),
    c("XGROUP", "DELCONSUMER", key, group, consumer),
    cat(c("XREADGROUP", "GROUP", group, consumer), st.sampled_from([[], ["COUNT", "1"], ["COUNT", "2"],
                                                                   ["NOACK"]]),
        c("STREAMS", key, st.sampled_from([">", ">", "0", "2-0", "$"]))),
    c("XREADGROUP", "GROUP", group, consumer, "BLOCK", "10", "STREAMS", key, ">"),
    cat(c("XACK", key, group), ids_list),
    c("XPENDING", key, group),
    cat(c("XPENDING", key, group), st.sampled_from([[], ["IDLE", "0"], ["IDLE", "100000"]]),
        c(range_id, range_id, cnt), st.sampled_from([[], ["alice"], ["nobody"]])),
    cat(c("XCLAIM", key, group, consumer, idle), ids_list,
        st.sampled_from([[], ["JUSTID"], ["FORCE"], ["RETRYCOUNT", "5"], ["LASTID", "7-0"], ["IDLE", "10"],
                         ["TIME", "1000"], ["FOO"], ["FORCE", "JUSTID"]])),
    cat(c("XAUTOCLAIM", key, group, consumer, idle, range_id),
        st.sampled_from([[], ["COUNT", "1"], ["COUNT", "2"], ["JUSTID"], ["COUNT", "0"], ["COUNT", "1", "JUSTID"]])),
    cat(c("XSETID", key, any_id), st.sampled_from([[], ["ENTRIESADDED", "3"], ["ENTRIESADDED", "100"],
                                                   ["MAXDELETEDID", "1-0"], ["MAXDELETEDID", "99-0"], ["FOO"]])),
    c("XINFO", "STREAM", key),
    c("XINFO", "STREAM", key, "FULL"),
    c("XINFO", "STREAM", key, "FULL", "COUNT", st.sampled_from(["1", "0", "-1"])),
    c("XINFO", "GROUPS", key),
    c("XINFO", "CONSUMERS", key, group),
]

OTHER_CMDS = [
    c("SET", key, "v"), c("DEL", key), c("TYPE", key), c("LPUSH", key, "e"),
    c("MULTI"), c("EXEC"), c("DISCARD"),
    c("CONFIG", "SET", "stream-node-max-entries", st.sampled_from(["1", "2", "3", "100", "0"])),
    c("CONFIG", "SET", "stream-node-max-bytes", st.sampled_from(["30", "60", "4096", "0"])),
]


def mask(args, reply):
    """Replaces clock-dependent numbers in a reply by 0."""
    if not isinstance(reply, list):
        return reply
    name = [a.upper() for a in args[:2]]
    if name[0] == "XPENDING" and len(args) > 3:
        return [[r[0], r[1], 0, r[3]] if isinstance(r, list) else r for r in reply]
    if name == ["XINFO", "CONSUMERS"]:
        return [[0 if i == 5 else v for i, v in enumerate(r)] for r in reply]
    if name == ["XINFO", "STREAM"] and len(args) > 3:
        out = list(reply)
        gi = out.index(b"groups") + 1
        groups = []
        for g in out[gi]:
            g = list(g)
            pi = g.index(b"pending") + 1
            g[pi] = [[p[0], p[1], 0, p[3]] for p in g[pi]]
            ci = g.index(b"consumers") + 1
            cons = []
            for cs in g[ci]:
                cs = list(cs)
                cs[3] = 0
                cs[7] = [[p[0], 0, p[2]] for p in cs[7]]
                cons.append(cs)
            g[ci] = cons
            groups.append(g)
        out[gi] = groups
        return out
    return reply


class StreamSide(Side):
    """One connection; node limits reset before every sequence; clock-dependent numbers masked, inside
    EXEC too."""

    CONFIG = (("stream-node-max-entries", "100"), ("stream-node-max-bytes", "4096"))
    OBSERVED_KEYS = KEYS

    def normalize(self, args, reply, hint):
        return mask(args, reply)

    def state(self):
        out = []
        for k in KEYS:
            t = self.conn.cmd("TYPE", k)
            if t == "stream":
                args = ["XINFO", "STREAM", k, "FULL", "COUNT", "0"]
                out.append((k, t, mask(args, self.conn.cmd(*args)), self.conn.cmd("XINFO", "GROUPS", k)))
            else:
                out.append((k, t))
        return out


sides = sides_fixture(StreamSide)


@SETTINGS
@given(seq=st.lists(st.one_of(*STREAM_CMDS), min_size=1, max_size=30))
def test_diff_stream_commands(sides, seq):
    run_sequence(sides, seq)


@SETTINGS
@given(seq=st.lists(st.one_of(*(STREAM_CMDS + OTHER_CMDS * 2)), min_size=1, max_size=40))
def test_diff_stream_with_types_config_and_transactions(sides, seq):
    run_sequence(sides, seq)


GROUP_FLOW = [
    cat(c("XADD", "s"), st.integers(1, 40).map(lambda n: [f"{n}-0"]), fv),
    c("XGROUP", "CREATE", "s", "g", st.sampled_from(["0", "$", "5-0"]), "MKSTREAM"),
    c("XREADGROUP", "GROUP", "g", consumer, "COUNT", st.sampled_from(["1", "3"]), "STREAMS", "s", ">"),
    c("XREADGROUP", "GROUP", "g", consumer, "STREAMS", "s", st.sampled_from(["0", "3-0"])),
    cat(c("XACK", "s", "g"), st.lists(st.integers(1, 40).map(lambda n: f"{n}-0"), min_size=1, max_size=4)),
    cat(c("XDEL", "s"), st.lists(st.integers(1, 40).map(lambda n: f"{n}-0"), min_size=1, max_size=3)),
    c("XCLAIM", "s", "g", consumer, "0", st.integers(1, 40).map(lambda n: f"{n}-0"),
      st.sampled_from(["JUSTID", "FORCE", "RETRYCOUNT"]), st.sampled_from(["2", "LASTID", "JUSTID"])),
    c("XAUTOCLAIM", "s", "g", consumer, "0", st.integers(0, 40).map(lambda n: f"{n}-0"), "COUNT",
      st.sampled_from(["1", "2", "5"])),
    c("XPENDING", "s", "g", "-", "+", "20"),
    c("XGROUP", "DELCONSUMER", "s", "g", consumer),
    c("XGROUP", "SETID", "s", "g", st.sampled_from(["0", "$", "10-0"])),
    c("XTRIM", "s", st.sampled_from(["MAXLEN", "MINID"]), st.sampled_from(["~", "="]), st.sampled_from(["3", "20"])),
    c("XINFO", "GROUPS", "s"),
    c("XINFO", "STREAM", "s"),
    c("CONFIG", "SET", "stream-node-max-entries", st.sampled_from(["2", "5"])),
]


@SETTINGS
@given(seq=st.lists(st.one_of(*GROUP_FLOW), min_size=5, max_size=40))
def test_diff_stream_consumer_groups(sides, seq):
    run_sequence(sides, seq)
