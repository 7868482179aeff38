"""Differential tests for client-side caching: generated reads and writes on several connections with
tracking in different modes, on Sardine and redis-server 7.0; after every step every connection's
replies and invalidation messages (RESP3 pushes, `__redis__:invalidate` messages on a RESP2
subscriber, BCAST arrays, nulls of flushes, broken redirections) must be the same.

Connections: t3 (RESP3, tracking with generated options: NOLOOP, OPTIN, OPTOUT), tb (RESP3, BCAST with
generated prefixes, maybe NOLOOP), t2 (RESP2 redirecting to r, a RESP2 subscriber of
`__redis__:invalidate`), t2b (RESP3 redirecting to q, which may be killed), w (no tracking).  Keys
collide across types on purpose (errors are tracked reads too).  Nothing is normalized but client
IDs (tracking_transcript.py); commands with random results or timing (SPOP, expiry) are left out."""
from hypothesis import given
from hypothesis import strategies as st

from diffharness import settings_for
from tracking_transcript import assert_same

EXAMPLES, SETTINGS = settings_for(40)
KEYS = ["a", "a:1", "a:2", "b:1", "bx", "h"]
key = st.sampled_from(KEYS)
val = st.sampled_from(["1", "x", "10"])
READERS = ["t3", "t2", "t2b", "tb", "w"]
who = st.sampled_from(READERS)

READS = [
    st.tuples(st.just("GET"), key),
    st.tuples(st.just("MGET"), key, key),
    st.tuples(st.just("EXISTS"), key, key),
    st.tuples(st.just("STRLEN"), key),
    st.tuples(st.just("HGET"), key, st.just("f")),
    st.tuples(st.just("LRANGE"), key, st.just("0"), st.just("-1")),
    st.tuples(st.just("TYPE"), key),
    st.tuples(st.just("EVAL"), st.just("return redis.call('get', KEYS[1])"), st.just("1"), key),
    st.tuples(st.just("EVAL_RO"), st.just("return redis.call('exists', KEYS[1])"), st.just("1"), key),
    st.tuples(st.just("TOUCH"), key),
    st.tuples(st.just("DUMP"), key),
    st.tuples(st.just("OBJECT"), st.just("ENCODING"), key),
    st.tuples(st.just("ZSCORE"), key, st.just("m")),
    st.tuples(st.just("PFCOUNT"), key),
    st.tuples(st.just("SINTER"), key, key),
    st.tuples(st.just("XRANGE"), key, st.just("-"), st.just("+")),
    st.tuples(st.just("GETRANGE"), key, st.just("0"), st.just("1")),
    st.tuples(st.just("DBSIZE")),
]
WRITES = [
    st.tuples(st.just("SET"), key, val),
    st.tuples(st.just("SETNX"), key, val),
    st.tuples(st.just("DEL"), key, key),
    st.tuples(st.just("UNLINK"), key),
    st.tuples(st.just("INCR"), key),
    st.tuples(st.just("APPEND"), key, val),
    st.tuples(st.just("HSET"), key, st.just("f"), val),
    st.tuples(st.just("LPUSH"), key, val),
    st.tuples(st.just("LPOP"), key),
    st.tuples(st.just("MSET"), key, val, key, val),
    st.tuples(st.just("EXPIRE"), key, st.just("100")),
    st.tuples(st.just("PERSIST"), key),
    st.tuples(st.just("RENAME"), key, key),
    st.tuples(st.just("COPY"), key, key, st.just("REPLACE")),
    st.tuples(st.just("MOVE"), key, st.just("1")),
    st.tuples(st.just("GETDEL"), key),
    st.tuples(st.just("SWAPDB"), st.just("0"), st.just("1")),
    st.tuples(st.just("SELECT"), st.sampled_from(["0", "1"])),
    st.tuples(st.just("FLUSHDB")),
    st.tuples(st.just("FLUSHALL")),
    st.tuples(st.just("EVAL"), st.just("return redis.call('set', KEYS[1], 'e')"), st.just("1"), key),
    st.tuples(st.just("SETRANGE"), key, st.just("1"), val),
    st.tuples(st.just("GETEX"), key, st.just("PERSIST")),
    st.tuples(st.just("SET"), key, val, st.just("KEEPTTL"), st.just("GET")),
    st.tuples(st.just("RENAMENX"), key, key),
    st.tuples(st.just("ZADD"), key, st.just("1"), st.just("m")),
    st.tuples(st.just("ZINCRBY"), key, st.just("2"), st.just("m")),
    st.tuples(st.just("SADD"), key, val),
    st.tuples(st.just("SUNIONSTORE"), key, key, key),
    st.tuples(st.just("LMOVE"), key, key, st.just("LEFT"), st.just("RIGHT")),
    st.tuples(st.just("BLPOP"), key, st.just("0.01")),
    st.tuples(st.just("HINCRBY"), key, st.just("f"), st.just("1")),
    st.tuples(st.just("HDEL"), key, st.just("f")),
    st.tuples(st.just("XADD"), key, st.just("1-1"), st.just("f"), val),
    st.tuples(st.just("PFADD"), key, val),
    st.tuples(st.just("SORT"), key, st.just("STORE"), key),
    st.tuples(st.just("BITOP"), st.just("OR"), key, key, key),
    st.tuples(st.just("OBJECT"), st.just("FREQ"), key),
]

single = st.tuples(who, st.one_of(*READS, *WRITES))
transaction = st.tuples(who, st.lists(st.one_of(*READS, *WRITES), min_size=1, max_size=3)).map(
    lambda t: [(t[0], ("MULTI",))] + [(t[0], cmd) for cmd in t[1]] + [(t[0], ("EXEC",))])
cached_read = st.tuples(st.just("t3"), st.sampled_from(["yes", "no"]), st.one_of(*READS)).map(
    lambda t: [("t3", ("CLIENT", "CACHING", t[1]), "nodrain"), ("t3", t[2])])
kill_q = st.just([("w", ("CLIENT", "KILL", "ID", "@q"))])
step = st.one_of(single.map(lambda s: [s]), transaction, cached_read, kill_q)


def setup_steps(t3_opts, bcast):
    prefixes, noloop = bcast
    steps = [("t3", ("HELLO", "3")), ("t3", ("CLIENT", "TRACKING", "on") + tuple(t3_opts)),
             ("r", ("SUBSCRIBE", "__redis__:invalidate")),
             ("t2", ("CLIENT", "TRACKING", "on", "REDIRECT", "@r")),
             ("q", ("HELLO", "3")), ("t2b", ("HELLO", "3")),
             ("t2b", ("CLIENT", "TRACKING", "on", "REDIRECT", "@q")),
             ("tb", ("HELLO", "3"))]
    args = ("CLIENT", "TRACKING", "on", "BCAST")
    for p in prefixes:
        args += ("PREFIX", p)
    steps.append(("tb", args + (("NOLOOP",) if noloop else ())))
    return steps


def flatten(groups):
    out, killed = [], False
    for g in groups:
        if g[0][1][:2] == ("CLIENT", "KILL"):
            if killed:
                continue
            killed = True
        out += g
    return out


@SETTINGS
@given(t3_opts=st.sampled_from([(), ("NOLOOP",), ("OPTIN",), ("OPTOUT",), ("OPTOUT", "NOLOOP")]),
       bcast=st.tuples(st.sampled_from([(), ("a",), ("a:", "b")]), st.booleans()),
       groups=st.lists(step, min_size=1, max_size=15))
def test_diff_tracking(sardine, oracle, t3_opts, bcast, groups):
    steps = setup_steps(t3_opts, bcast) + flatten(groups) + [("w", ("FLUSHALL",))]
    assert_same(sardine, oracle, steps)
