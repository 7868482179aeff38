"""Differential tests for sorted sets: hypothesis-generated sequences of sorted set commands (with bad
arguments, option conflicts, wrong types, transactions, blocking pops that serve at once or time out,
and CONFIG SET of the listpack limits so that sets convert at every size) run on sardine and on the
Debian redis-server oracle, over RESP2 and RESP3.  Every reply must be identical, OBJECT ENCODING
of every key is compared after each step, and the whole keyspace (type and contents) at the end.

Nondeterminism is kept out by construction:
  * lexicographic commands only touch key "l", whose members all have score 0 (Redis leaves lex
    ranges over mixed scores unspecified);
  * ZRANDMEMBER is asked for more members than a set can hold (the whole set, in order) or for
    errors; ZSCAN uses a COUNT that covers a whole set, and its reply is compared as sorted pairs
    (a hash table's order is its own).

Deterministic (fixed seeds); SARDINE_DIFF_RANDOM=1 explores, SARDINE_DIFF_EXAMPLES=N sets the count.
"""
from hypothesis import given
from hypothesis import strategies as st

from diffharness import Side, run_sequence, settings_for, sides_fixture

EXAMPLES, SETTINGS = settings_for(100)

KEYS = ["a", "b", "s"]          # scored sets (and the odd string)
LEX = "l"                       # lexicographic set: every score is 0
ALL_KEYS = KEYS + [LEX, "t"]    # "t" may hold a plain set
MEMBERS = ["x", "y", "z", "w", "1", "10", "-5", "", "a\x00b", "m" * 70, "q" * 5000, "007"]
LEXMEMBERS = ["a", "b", "c", "ab", "abc", "", "z", "1", "10", "x" * 70]
SCORES = ["0", "1", "2", "-1", "1.5", "-0", "0.1", "1e18", "inf", "-inf", "+inf", "3", "2.5", "10"]
BAD_SCORES = ["abc", "nan", "", " 1", "(1", "1e400"]
BOUNDS = ["-inf", "+inf", "0", "1", "(1", "2", "(2", "1.5", "(-inf", "10", "-1", "abc", "", "(", "nan"]
LEXBOUNDS = ["-", "+", "[a", "(a", "[ab", "(b", "[", "(", "[z", "a", "+x"]
INDEXES = ["0", "1", "2", "-1", "-2", "5", "-10", "100", "abc"]
COUNTS = ["0", "1", "2", "3", "-1", "10", "abc"]

key = st.sampled_from(KEYS)
member = st.sampled_from(MEMBERS)
score = st.one_of(st.sampled_from(SCORES), st.sampled_from(SCORES), st.sampled_from(BAD_SCORES))
good_score = st.sampled_from(SCORES)
bound = st.sampled_from(BOUNDS)
lexbound = st.sampled_from(LEXBOUNDS)
idx = st.sampled_from(INDEXES)
cnt = st.sampled_from(COUNTS)
srckey = st.sampled_from(KEYS + ["t", "nokey"])


def c(*parts):
    return st.tuples(*[st.just(p) if isinstance(p, str) else p for p in parts]).map(list)


def cat(*parts):
    return st.tuples(*parts).map(lambda t: [x for part in t for x in part])


def many(s, lo=0, hi=3):
    return st.lists(s, min_size=lo, max_size=hi).map(lambda xs: [x for part in xs for x in part])


zadd_flags = st.lists(st.sampled_from(["NX", "XX", "GT", "LT", "CH", "INCR", "nx", "ch"]), max_size=2)
pairs = st.lists(st.tuples(score, member).map(list), min_size=1, max_size=4).map(
    lambda xs: [x for p in xs for x in p])
range_opts = many(st.one_of(c("WITHSCORES"), c("LIMIT", idx, cnt), c("REV"), c("BYSCORE"), c("LIMIT", "0")), 0, 2)
weights = st.sampled_from([[], ["WEIGHTS", "2", "0.5"], ["WEIGHTS", "1", "-1"], ["WEIGHTS", "0", "inf"],
                           ["WEIGHTS", "1"], ["WEIGHTS", "x", "1"]])
aggregate = st.sampled_from([[], ["AGGREGATE", "SUM"], ["AGGREGATE", "min"], ["AGGREGATE", "MAX"],
                             ["AGGREGATE", "avg"]])

ZSET_CMDS = [
    cat(c("ZADD", key), zadd_flags, pairs),
    cat(c("ZADD", key), zadd_flags, pairs),
    cat(c("ZADD", key), st.lists(st.tuples(good_score, member).map(list), min_size=5, max_size=10).map(
        lambda xs: [x for p in xs for x in p])),
    c("ZINCRBY", key, score, member),
    cat(c("ZREM", key), many(member.map(lambda m: [m]), 1, 3)),
    c("ZCARD", key), c("ZSCORE", key, member), cat(c("ZMSCORE", key), many(member.map(lambda m: [m]), 1, 3)),
    c("ZRANK", key, member), c("ZREVRANK", key, member),
    c("ZCOUNT", key, bound, bound),
    cat(c("ZRANGE", key, idx, idx), range_opts),
    cat(c("ZRANGE", key, bound, bound, "BYSCORE"), range_opts),
    cat(c("ZRANGEBYSCORE", key, bound, bound), range_opts),
    cat(c("ZREVRANGEBYSCORE", key, bound, bound), range_opts),
    cat(c("ZREVRANGE", key, idx, idx), many(c("WITHSCORES"), 0, 1)),
    cat(c("ZRANGESTORE", key, srckey, idx, idx), many(c("REV"), 0, 1)),
    cat(c("ZRANGESTORE", key, srckey, bound, bound, "BYSCORE"), many(st.one_of(c("REV"), c("LIMIT", idx, cnt)), 0, 2)),
    c("ZREMRANGEBYRANK", key, idx, idx), c("ZREMRANGEBYSCORE", key, bound, bound),
    c("ZPOPMIN", key), c("ZPOPMAX", key, cnt), c("ZPOPMIN", key, cnt),
    cat(c("ZMPOP", st.sampled_from(["1", "2", "0", "3"]), key, key, st.sampled_from(["MIN", "MAX", "max", "foo"])),
        st.sampled_from([[], ["COUNT", "2"], ["COUNT", "0"], ["COUNT", "10"]])),
    c("BZPOPMIN", key, key, "0.01"), c("BZPOPMAX", key, "0.01"),
    cat(c("BZMPOP", "0.01", "2", key, key, st.sampled_from(["MIN", "MAX"])), st.sampled_from([[], ["COUNT", "3"]])),
    c("BZPOPMIN", key, st.sampled_from(["-1", "abc"])),
    cat(c("ZRANDMEMBER", key, st.sampled_from(["5000", "0", "abc", "-9223372036854775808"])),
        many(c("WITHSCORES"), 0, 1)),
    c("ZRANDMEMBER", key, "4611686018427387904", "WITHSCORES"),
    cat(c("ZUNION", "2", srckey, srckey), weights, aggregate, many(c("WITHSCORES"), 0, 1)),
    cat(c("ZINTER", "2", srckey, srckey), weights, aggregate, many(c("WITHSCORES"), 0, 1)),
    cat(c("ZDIFF", "2", srckey, srckey), many(c("WITHSCORES"), 0, 1)),
    cat(c("ZINTERCARD", st.sampled_from(["1", "2", "0"]), srckey, srckey),
        st.sampled_from([[], ["LIMIT", "1"], ["LIMIT", "-1"]])),
    cat(c("ZUNIONSTORE", key, "2", srckey, srckey), weights, aggregate),
    cat(c("ZINTERSTORE", key, "2", srckey, srckey), weights, aggregate),
    c("ZDIFFSTORE", key, "2", srckey, srckey),
    c("ZSCAN", key, "0", "COUNT", "10000"),
    c("ZSCAN", key, st.sampled_from(["x", "0"]), st.sampled_from(["COUNT", "MATCH"]), st.sampled_from(["0", "x*"])),
]

LEX_CMDS = [
    cat(c("ZADD", LEX), many(st.sampled_from(LEXMEMBERS).map(lambda m: ["0", m]), 1, 4)),
    c("ZREM", LEX, st.sampled_from(LEXMEMBERS)),
    c("ZLEXCOUNT", LEX, lexbound, lexbound),
    cat(c("ZRANGE", LEX, lexbound, lexbound, "BYLEX"), many(st.one_of(c("REV"), c("LIMIT", idx, cnt), c("WITHSCORES")), 0, 2)),
    cat(c("ZRANGEBYLEX", LEX, lexbound, lexbound), many(c("LIMIT", idx, cnt), 0, 1)),
    cat(c("ZREVRANGEBYLEX", LEX, lexbound, lexbound), many(c("LIMIT", idx, cnt), 0, 1)),
    c("ZREMRANGEBYLEX", LEX, lexbound, lexbound),
    c("ZRANGESTORE", "s", LEX, lexbound, lexbound, "BYLEX"),
    c("ZRANGE", LEX, "0", "-1"),
]

OTHER_CMDS = [
    c("SET", key, "str"), c("DEL", key), c("TYPE", key),
    c("SADD", "t", st.sampled_from(["x", "y", "q"])),
    c("MULTI"), c("EXEC"), c("DISCARD"),
    c("CONFIG", "SET", "zset-max-listpack-entries", st.sampled_from(["0", "1", "2", "3", "128"])),
    c("CONFIG", "SET", "zset-max-listpack-value", st.sampled_from(["0", "1", "2", "64"])),
]


def normalize(args, reply):
    """ZSCAN's order over a hash table is the table's own: compare its pairs sorted."""
    if args[0].upper() == "ZSCAN" and isinstance(reply, list) and len(reply) == 2 and isinstance(reply[1], list):
        items = reply[1]
        return [reply[0], sorted(zip(items[::2], items[1::2]))]
    if args[0].upper() == "EXEC" and isinstance(reply, list):
        return [normalize(["?"], r) for r in reply]
    return reply


class ZsetSide(Side):
    """One connection, RESP2 or RESP3; listpack limits reset to the defaults before every sequence.
    Replies inside EXEC are compared raw."""

    CONFIG = (("zset-max-listpack-entries", "128"), ("zset-max-listpack-value", "64"))
    OBSERVED_KEYS = ALL_KEYS
    NORMALIZE_QUEUED = False

    def normalize(self, args, reply, hint):
        return normalize(args, reply)

    def state(self):
        out = []
        for k in ALL_KEYS:
            t = self.conn.cmd("TYPE", k)
            out.append((k, t, self.conn.cmd("ZRANGE", k, "0", "-1", "WITHSCORES") if t == "zset" else None))
        return out


sides = sides_fixture(ZsetSide, resps=(2, 3))


@SETTINGS
@given(seq=st.lists(st.one_of(*(ZSET_CMDS + LEX_CMDS)), min_size=1, max_size=30))
def test_diff_zset_commands(sides, seq):
    run_sequence(sides, seq)


@SETTINGS
@given(seq=st.lists(st.one_of(*(ZSET_CMDS + LEX_CMDS + OTHER_CMDS * 2)), min_size=1, max_size=40))
def test_diff_zset_with_types_config_and_transactions(sides, seq):
    run_sequence(sides, seq)
