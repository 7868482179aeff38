"""Differential tests for the HyperLogLog commands: hypothesis-generated sequences of PFADD (single elements and
bulk batches), PFCOUNT (one and several keys), PFMERGE, PFDEBUG, SET of valid/invalid/corrupt HLL bytes and
plain strings, with small hll-sparse-max-bytes values so the sparse -> dense conversion happens in short
sequences, run on sardine and on the Debian redis-server oracle. Every reply must be identical (errors by
full message), OBJECT ENCODING of every key after every step, GET of every HLL key after every step (the same
bytes: registers, opcodes and cached cardinality), and every key at the end.
"""
from hypothesis import given
from hypothesis import strategies as st

import diffharness
from harness import assert_keyspace_ok
from diffharness import Side, settings_for, sides_fixture

EXAMPLES, SETTINGS = settings_for(300)

KEYS = ["a", "b", "c", "s"]
EMPTY = b"HYLL\x01\x00\x00\x00" + b"\x00" * 8 + b"\x7f\xff"
key = st.sampled_from(KEYS)
keys = st.lists(key, min_size=1, max_size=4)
element = st.one_of(st.integers(0, 300).map(str), st.sampled_from(["", "a", "b", "hello", "\x00", "x" * 100]))
elements = st.lists(element, max_size=6)
batch = st.builds(lambda seed, n: [f"{seed}:{i}" for i in range(n)],
                  st.integers(0, 50), st.sampled_from([10, 50, 200, 1000, 3000]))
stored = st.sampled_from([
    EMPTY,
    EMPTY[:15] + b"\x80" + EMPTY[16:],
    EMPTY[:8] + b"\x05" + EMPTY[9:],          # a forged cached value
    EMPTY + b"\x80",                          # one register too many
    EMPTY[:-1],                               # cut
    b"HYLL\x00" + b"\x00" * 11,               # dense with the wrong size
    b"HYLL\x00" + b"\x00" * 12299,            # an all-zero dense HLL, exact size
    b"HYLL\x02" + b"\x00" * 13,               # unknown encoding
    b"HYLL", b"hello", b"12345", b"",
])
sparse_max = st.sampled_from(["0", "20", "40", "100", "300", "3000"])


def c(*parts):
    return st.tuples(*[st.just(p) if isinstance(p, str) else p for p in parts])


def cat(base, extra):
    return st.tuples(base, extra).map(lambda t: tuple(t[0]) + tuple(t[1]))


HLL_CMDS = [
    cat(c("PFADD", key), elements),
    cat(c("PFADD", key), elements),
    cat(c("PFADD", key), batch),
    c("PFCOUNT", key),
    cat(c("PFCOUNT"), keys),
    cat(c("PFMERGE", key), st.lists(key, max_size=3)),
    c("PFDEBUG", st.sampled_from(["ENCODING", "DECODE", "TODENSE", "encoding", "FOO"]), key),
    c("SET", key, stored),
    c("GET", key),
    c("DEL", key),
    c("LPUSH", "s", "x"),
    c("APPEND", key, "x"),
    c("SETBIT", key, st.sampled_from(["0", "130", "140"]), "1"),   # flips a header or an opcode bit
    c("CONFIG", "SET", "hll-sparse-max-bytes", sparse_max),
    c("PFADD"), c("PFMERGE"), c("PFDEBUG", "ENCODING"),
]


def encoding(conn, k):
    return conn.cmd("OBJECT", "ENCODING", k)


class HllSide(Side):
    """Commands on main; after every step each key's type, encoding and bytes (GET) through aux.
    hll-sparse-max-bytes is given per sequence; there is no separate end state (the last step's
    observation is it)."""
    CHECK_STRUCTURE = False  # some tests write corrupt HLLs on purpose; the one that does not checks itself

    TWO_CONNECTIONS = True
    SHORTEN_ARGS = 12

    def snapshot(self, k):
        t = self.aux.cmd("TYPE", k)
        return (t, encoding(self.aux, k), self.aux.cmd("GET", k) if t == "string" else None)

    def observe(self):
        return [(k, self.snapshot(k)) for k in KEYS]


sides = sides_fixture(HllSide)


def run_sequence(sides, limit, seq):
    diffharness.run_sequence(sides, seq, config=[("hll-sparse-max-bytes", limit)])


@SETTINGS
@given(limit=sparse_max, seq=st.lists(st.one_of(*HLL_CMDS), min_size=3, max_size=25))
def test_diff_hll_commands(sides, limit, seq):
    run_sequence(sides, limit, seq)


@SETTINGS
@given(limit=st.sampled_from(["60", "200", "1000", "3000"]), seq=st.lists(st.one_of(
    cat(c("PFADD", key), elements), cat(c("PFADD", key), batch), c("PFCOUNT", key), cat(c("PFCOUNT"), keys),
    cat(c("PFMERGE", key), st.lists(key, max_size=3)),
), min_size=5, max_size=30))
def test_diff_hll_growth_and_merges(sides, limit, seq):
    run_sequence(sides, limit, seq)
    assert_keyspace_ok(sides[0].main)  # no corrupt HLLs written here: every one must pass the check
