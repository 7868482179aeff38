"""Differential tests for hashes: hypothesis-generated command sequences run on sardine and on the Debian
redis-server oracle; every reply must be identical (errors by full message), OBJECT ENCODING of every key
after every step, and every key's type and content at the end.

Only what Redis itself leaves unspecified is normalized:
  * the order of HGETALL/HKEYS/HVALS/HSCAN replies for hashtable-encoded hashes (sorted; listpacks in
    insertion order are compared exactly);
  * HRANDFIELD, which is random: its length and that every field (and value) belongs to the hash, except
    when it must return the whole hash (compared as above);
  * HSCAN cursors of hashtables (each server's full iteration is compared at the end through HGETALL).
Small thresholds (hash-max-listpack-entries 4, -value 8) make conversions happen in short sequences.
"""
from hypothesis import given
from hypothesis import strategies as st

from diffharness import Side, run_sequence, settings_for, sides_fixture
from sardine_resp import Err

EXAMPLES, SETTINGS = settings_for(200)

KEYS = ["a", "b", "s"]
FIELDS = ["f", "g", "h", "1", "-2", "", "long-field-x", "f\x00"]
VALUES = ["", "0", "1", "-1", "42", "abc", "3.5", "-2.25", "9223372036854775807", "-9223372036854775808",
          "9223372036854775808", "1e3", " 1", "-0", "007", "+5", "12345678", "123456789", "inf", "5.0e3"]
INTS = ["-1", "0", "1", "5", "100", "-100", "abc", "1.5", "", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "+1"]
FLOATS = ["0", "1", "-1", "0.1", "1.5", "-2.5", "1e3", "abc", "inf", "-inf", "nan", "", "1e308", "3.0"]
COUNTS = ["0", "1", "2", "3", "5", "100", "-1", "-3", "-10", "x", "-9223372036854775808",
          "4611686018427387904", "9223372036854775807"]
PATTERNS = ["*", "f*", "?", "[fg]", "1", "*x*", ""]

key = st.sampled_from(KEYS)
field = st.sampled_from(FIELDS)
value = st.one_of(st.sampled_from(VALUES), st.text(alphabet="ab01-.", max_size=10))


def c(*parts):
    return st.tuples(*[st.just(p) if isinstance(p, str) else p for p in parts])


def cat(base, extra):
    return st.tuples(base, extra).map(lambda t: tuple(t[0]) + tuple(x for xs in t[1] for x in xs))


pairs_ = st.lists(st.tuples(field, value).map(list), min_size=1, max_size=4)

HASH_CMDS = [
    cat(c("HSET", key), pairs_),
    cat(c("HMSET", key), pairs_),
    c("HSET", key, field),
    c("HSETNX", key, field, value),
    c("HGET", key, field),
    cat(c("HMGET", key), st.lists(field.map(lambda f: [f]), min_size=1, max_size=3)),
    cat(c("HDEL", key), st.lists(field.map(lambda f: [f]), min_size=1, max_size=3)),
    c("HEXISTS", key, field),
    c("HLEN", key),
    c("HSTRLEN", key, field),
    c("HGETALL", key),
    c("HKEYS", key),
    c("HVALS", key),
    c("HINCRBY", key, field, st.sampled_from(INTS)),
    c("HINCRBYFLOAT", key, field, st.sampled_from(FLOATS)),
    c("HRANDFIELD", key),
    c("HRANDFIELD", key, st.sampled_from(COUNTS)),
    c("HRANDFIELD", key, st.sampled_from(COUNTS), st.sampled_from(["WITHVALUES", "withvalues", "WITHVALUE"])),
    c("HRANDFIELD", key, "1", "WITHVALUES", "x"),
    c("HSCAN", key, st.sampled_from(["0", "1", "x", "-1"])),
    c("HSCAN", key, "0", "MATCH", st.sampled_from(PATTERNS)),
    c("HSCAN", key, "0", "COUNT", st.sampled_from(["1", "0", "x", "100"])),
    c("HSCAN", key, "0", st.sampled_from(["FOO", "MATCH", "COUNT"])),
    c("SET", "s", value),
    c("DEL", key),
    c("COPY", key, key),
    c("RENAME", key, key),
    c("HGET", key), c("HSET", key), c("HMSET", key, field, value, field), c("HINCRBY", key, field),
]

ORDERED = {"HGETALL", "HKEYS", "HVALS"}


def encoding(conn, k):
    return conn.cmd("OBJECT", "ENCODING", k)


def pairs_of(flat):
    return sorted(zip(flat[::2], flat[1::2]))


class HashSide(Side):
    """Commands on main; encodings, contents and the end state read through aux."""

    TWO_CONNECTIONS = True
    CONFIG = (("hash-max-listpack-entries", "4"), ("hash-max-listpack-value", "8"))
    OBSERVED_KEYS = KEYS

    def content(self, k):
        """field -> value of the hash at k (empty if missing or not a hash)."""
        flat = self.aux.cmd("HGETALL", k)
        return dict(zip(flat[::2], flat[1::2])) if isinstance(flat, list) else {}

    def before(self, args):
        name = args[0].upper()
        k = args[1] if len(args) > 1 else None
        enc = encoding(self.aux, k) if k is not None else None
        return enc == b"hashtable", self.content(k) if name == "HRANDFIELD" else None

    def normalize(self, args, reply, hint):
        name = args[0].upper()
        hashtable, content = hint or (False, None)  # no hint for replies inside EXEC: compared raw
        if isinstance(reply, Err) or not isinstance(reply, list):
            if name == "HRANDFIELD" and len(args) == 2 and reply is not None and not isinstance(reply, Err):
                return ("one", reply in content)
            return reply
        if name in ORDERED and hashtable:
            return pairs_of(reply) if name == "HGETALL" else sorted(reply)
        if name == "HSCAN":
            return ("hashtable-scan",) if hashtable else reply
        if name == "HRANDFIELD":
            count = int(args[2])
            withvalues = len(args) == 4
            fields = reply[::2] if withvalues else reply
            ok = all(f in content for f in fields)
            if withvalues:
                ok = ok and all(content.get(f) == v for f, v in zip(reply[::2], reply[1::2]))
            if count >= len(content):  # must be the whole hash
                whole = pairs_of(reply) if withvalues else sorted(reply)
                return ("whole", whole if hashtable else reply, ok)
            distinct = count > 0 and len(set(fields)) == len(fields)
            return ("random", len(reply), ok, distinct)
        return reply

    def state(self):
        out = []
        for k in sorted(self.aux.cmd("KEYS", "*")):
            t = self.aux.cmd("TYPE", k)
            if t == "hash":
                out.append((k, t, pairs_of(self.aux.cmd("HGETALL", k)), encoding(self.aux, k)))
            else:
                out.append((k, t, self.aux.cmd("GET", k)))
        return out


sides = sides_fixture(HashSide)


@SETTINGS
@given(seq=st.lists(st.one_of(*HASH_CMDS), min_size=3, max_size=30))
def test_diff_hash_commands(sides, seq):
    run_sequence(sides, seq)


@SETTINGS
@given(seq=st.lists(st.one_of(*(HASH_CMDS[:4] * 3 + HASH_CMDS[6:7] + HASH_CMDS[10:15])), min_size=5, max_size=40))
def test_diff_hash_conversions(sides, seq):
    run_sequence(sides, seq)
