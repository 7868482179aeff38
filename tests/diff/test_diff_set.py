"""Differential tests for sets: hypothesis-generated command sequences run on sardine and on the Debian
redis-server oracle; every reply must be identical (errors by full message), OBJECT ENCODING of every key
after every step, and every key's type and content at the end.

Only what Redis itself leaves unspecified is normalized:
  * member order of a reply when a hashtable-encoded set is involved (sorted); replies built only from
    intsets are ascending in both servers and compared exactly;
  * SRANDMEMBER (random): length, membership, distinctness; exact when it must return the whole set;
  * SPOP only appears in deterministic forms (the whole set, zero, bad arguments), so states never diverge;
  * SSCAN of hashtables (cursor positions differ by design).
Small thresholds (set-max-intset-entries 5) make conversions happen in short sequences.
"""
from hypothesis import given
from hypothesis import strategies as st

from diffharness import Side, run_sequence, settings_for, sides_fixture
from sardine_resp import Err

EXAMPLES, SETTINGS = settings_for(200)

KEYS = ["a", "b", "c", "s"]
MEMBERS = ["1", "2", "3", "10", "-5", "0", "65536", "-2147483649", "9223372036854775807", "x", "y", "",
           "007", "-0", "1.5", "9223372036854775808"]
COUNTS = ["0", "1", "2", "3", "5", "100", "-1", "-3", "-10", "x", "-9223372036854775808"]
PATTERNS = ["*", "1*", "?", "[xy]", "-*", ""]

key = st.sampled_from(KEYS)
member = st.sampled_from(MEMBERS)
members = st.lists(member.map(lambda m: [m]), min_size=1, max_size=4)
keys = st.lists(key.map(lambda k: [k]), min_size=1, max_size=3)


def c(*parts):
    return st.tuples(*[st.just(p) if isinstance(p, str) else p for p in parts])


def cat(base, extra):
    return st.tuples(base, extra).map(lambda t: tuple(t[0]) + tuple(x for xs in t[1] for x in xs))


intercard = st.tuples(keys, st.sampled_from([[], ["LIMIT", "0"], ["LIMIT", "1"], ["LIMIT", "-1"], ["LIMIT"],
                                              ["FOO"]])).map(
    lambda t: ("SINTERCARD", str(len(t[0]))) + tuple(k for ks in t[0] for k in ks) + tuple(t[1]))

SET_CMDS = [
    cat(c("SADD", key), members),
    cat(c("SADD", key), members),
    cat(c("SREM", key), members),
    c("SISMEMBER", key, member),
    cat(c("SMISMEMBER", key), members),
    c("SCARD", key),
    c("SMEMBERS", key),
    c("SRANDMEMBER", key),
    c("SRANDMEMBER", key, st.sampled_from(COUNTS)),
    c("SRANDMEMBER", key, "1", "2"),
    c("SPOP", key, st.sampled_from(["100", "0", "-1", "x"])),
    c("SPOP", key, "1", "2"),
    c("SMOVE", key, key, member),
    c("SMOVE", key, key, member),
    cat(c("SINTER"), keys),
    cat(c("SUNION"), keys),
    cat(c("SDIFF"), keys),
    cat(c("SINTERSTORE", key), keys),
    cat(c("SUNIONSTORE", key), keys),
    cat(c("SDIFFSTORE", key), keys),
    intercard,
    c("SINTERCARD", st.sampled_from(["0", "x", "5"]), key),
    c("SSCAN", key, st.sampled_from(["0", "7", "x"])),
    c("SSCAN", key, "0", "MATCH", st.sampled_from(PATTERNS)),
    c("SSCAN", key, "0", "COUNT", st.sampled_from(["1", "0", "x"])),
    c("SET", "s", member),
    c("DEL", key),
    c("COPY", key, key),
    c("SADD", key), c("SISMEMBER", key), c("SMOVE", key, key),
]

ALGEBRA = {"SMEMBERS", "SINTER", "SUNION", "SDIFF", "SPOP", "SSCAN"}


def encoding(conn, k):
    return conn.cmd("OBJECT", "ENCODING", k)


class SetSide(Side):
    """Commands on main; encodings, contents and the end state read through aux."""

    TWO_CONNECTIONS = True
    CONFIG = (("set-max-intset-entries", "5"),)
    OBSERVED_KEYS = KEYS

    def involved(self, args):
        name = args[0].upper()
        if name == "SINTERCARD":
            return []
        if name in ("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"):
            return list(args[2:])
        if name in ("SINTER", "SUNION", "SDIFF"):
            return list(args[1:])
        return [args[1]] if len(args) > 1 else []

    def before(self, args):
        name = args[0].upper()
        ks = self.involved(args)
        hashtable = any(encoding(self.aux, k) == b"hashtable" for k in ks)
        content = self.aux.cmd("SMEMBERS", args[1]) if name == "SRANDMEMBER" and len(args) > 1 else None
        content = set(content) if isinstance(content, list) else None
        return hashtable, content

    def normalize(self, args, reply, hint):
        name = args[0].upper()
        hashtable, content = hint or (False, None)  # no hint for replies inside EXEC: compared raw
        if isinstance(reply, Err) or not isinstance(reply, list):
            if name == "SRANDMEMBER" and reply is not None and not isinstance(reply, Err):
                return ("one", reply in content)
            return reply
        if name == "SSCAN":
            return ("hashtable-scan",) if hashtable else reply
        if name in ALGEBRA:
            return sorted(reply) if hashtable else reply
        if name == "SRANDMEMBER":
            count = int(args[2])
            ok = all(m in content for m in reply)
            if count >= len(content):
                return ("whole", sorted(reply) if hashtable else reply, ok)
            return ("random", len(reply), ok, count < 0 or len(set(reply)) == len(reply))
        return reply

    def state(self):
        out = []
        for k in sorted(self.aux.cmd("KEYS", "*")):
            t = self.aux.cmd("TYPE", k)
            if t == "set":
                out.append((k, t, sorted(self.aux.cmd("SMEMBERS", k)), encoding(self.aux, k)))
            else:
                out.append((k, t, self.aux.cmd("GET", k)))
        return out


sides = sides_fixture(SetSide)


@SETTINGS
@given(seq=st.lists(st.one_of(*SET_CMDS), min_size=3, max_size=30))
def test_diff_set_commands(sides, seq):
    run_sequence(sides, seq)


@SETTINGS
@given(seq=st.lists(st.one_of(*(SET_CMDS[:3] * 3 + SET_CMDS[12:21])), min_size=5, max_size=40))
def test_diff_set_algebra_and_conversions(sides, seq):
    run_sequence(sides, seq)
