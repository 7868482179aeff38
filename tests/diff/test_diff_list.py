"""Differential tests for lists: hypothesis-generated sequences of list commands (with bad arguments,
wrong types, transactions, blocking commands that serve at once or run inside MULTI, and small
node sizes set by CONFIG SET so that lists span many nodes) run on sardine and on the Debian
redis-server oracle.  Every reply must be identical, OBJECT ENCODING of every key is compared after
each step, and the whole keyspace (type and contents) at the end.  CONFIG SET list-compress-depth
makes lists created afterwards keep their interior nodes compressed.

Deterministic (fixed seeds); SARDINE_DIFF_RANDOM=1 explores, SARDINE_DIFF_EXAMPLES=N sets the count.
"""
from hypothesis import given
from hypothesis import strategies as st

from diffharness import Side, run_sequence, settings_for, sides_fixture

EXAMPLES, SETTINGS = settings_for(120)

KEYS = ["a", "b", "s"]
VALUES = ["x", "y", "z", "0", "1", "-1", "127", "128", "4095", "-4096", "9223372036854775807",
          "-9223372036854775808", "9223372036854775808", "007", "-0", "", "hello world", "v" * 70,
          "w" * 5000, "a\x00b"]
INDEXES = ["0", "1", "2", "-1", "-2", "-3", "5", "-10", "100", "abc", "", "9223372036854775807",
           "-9223372036854775808", "1.5"]
COUNTS = ["0", "1", "2", "3", "-1", "-2", "10", "abc", "-9223372036854775808"]
WHERE = ["LEFT", "RIGHT", "left", "FOO"]
FILLS = ["-2", "-1", "1", "2", "3", "-5", "0"]

key = st.sampled_from(KEYS)
val = st.sampled_from(VALUES)
idx = st.sampled_from(INDEXES)
cnt = st.sampled_from(COUNTS)
where = st.sampled_from(WHERE)


def c(*parts):
    return st.tuples(*[st.just(p) if isinstance(p, str) else p for p in parts]).map(list)


def cat(base, extra):
    return st.tuples(base, extra).map(lambda t: t[0] + [x for part in t[1] for x in part])


lpos_opt = st.one_of(c("RANK", st.sampled_from(["1", "2", "-1", "-2", "0", "x"])),
                     c("COUNT", st.sampled_from(["0", "1", "2", "-1"])),
                     c("MAXLEN", st.sampled_from(["0", "1", "3", "-1"])), c("FOO"))

LIST_CMDS = [
    cat(c("LPUSH", key), st.lists(val.map(lambda v: [v]), min_size=1, max_size=4)),
    cat(c("RPUSH", key), st.lists(val.map(lambda v: [v]), min_size=1, max_size=4)),
    c("RPUSH", key, *(["e"] * 12)),
    cat(c("LPUSHX", key), st.lists(val.map(lambda v: [v]), min_size=1, max_size=2)),
    cat(c("RPUSHX", key), st.lists(val.map(lambda v: [v]), min_size=1, max_size=2)),
    c("LPOP", key), c("RPOP", key), c("LPOP", key, cnt), c("RPOP", key, cnt),
    c("LLEN", key),
    c("LRANGE", key, idx, idx), c("LRANGE", key, "0", "-1"),
    c("LINDEX", key, idx),
    c("LSET", key, idx, val),
    c("LINSERT", key, st.sampled_from(["BEFORE", "AFTER", "after", "X"]), val, val),
    c("LREM", key, cnt, val),
    c("LTRIM", key, idx, idx),
    cat(c("LPOS", key, val), st.lists(lpos_opt, max_size=3)),
    c("LMOVE", key, key, where, where),
    c("RPOPLPUSH", key, key),
    cat(c("LMPOP", st.sampled_from(["1", "2", "0", "3"]), key, key, where),
        st.sampled_from([[], [["COUNT", "2"]], [["COUNT", "0"]], [["COUNT", "10"]]])),
    # blocking commands: keys that hold elements serve at once; otherwise a 10 ms timeout
    c("BLPOP", key, key, "0.01"), c("BRPOP", key, "0.01"),
    c("BLMOVE", key, key, where, where, "0.01"), c("BRPOPLPUSH", key, key, "0.01"),
    c("BLMPOP", "0.01", "2", key, key, where, "COUNT", "2"),
    c("BLPOP", key, st.sampled_from(["-1", "abc", "nan"])),
]

OTHER_CMDS = [
    c("SET", key, val), c("DEL", key), c("TYPE", key), c("GET", key),
    c("MULTI"), c("EXEC"), c("DISCARD"),
    c("CONFIG", "SET", "list-max-listpack-size", st.sampled_from(FILLS)),
    c("CONFIG", "SET", "list-compress-depth", st.sampled_from(["0", "1", "2"])),
]


class ListSide(Side):
    """One connection; node size and compression reset to the defaults before every sequence."""

    CONFIG = (("list-max-listpack-size", "-2"), ("list-compress-depth", "0"))
    OBSERVED_KEYS = KEYS

    def state(self):
        out = []
        for k in KEYS:
            t = self.conn.cmd("TYPE", k)
            out.append((k, t, self.conn.cmd("LRANGE", k, "0", "-1") if t == "list" else None))
        return out


sides = sides_fixture(ListSide)


@SETTINGS
@given(seq=st.lists(st.one_of(*LIST_CMDS), min_size=1, max_size=30))
def test_diff_list_commands(sides, seq):
    run_sequence(sides, seq)


@SETTINGS
@given(seq=st.lists(st.one_of(*(LIST_CMDS + OTHER_CMDS * 2)), min_size=1, max_size=40))
def test_diff_list_with_types_config_and_transactions(sides, seq):
    run_sequence(sides, seq)
