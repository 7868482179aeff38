"""Differential tests for the bitmap commands: hypothesis-generated sequences of SETBIT (random offsets), GETBIT,
BITCOUNT, BITPOS, BITOP and BITFIELD/BITFIELD_RO (random types, offsets, #offsets, values and OVERFLOW modes)
mixed with plain string writes, run on sardine and on the Debian redis-server oracle. Every reply must be
identical (errors by full message), OBJECT ENCODING of every key after every step, and every key's type and
bytes at the end. Nothing here is random on the server side, so nothing is normalized.
"""
from hypothesis import given
from hypothesis import strategies as st

from diffharness import Side, run_sequence, settings_for, sides_fixture

EXAMPLES, SETTINGS = settings_for(400)

KEYS = ["a", "b", "c", "l"]
key = st.sampled_from(KEYS)
keys = st.lists(key, min_size=1, max_size=4)

offset = st.one_of(
    st.integers(0, 40), st.integers(0, 400), st.integers(0, 5000),
    st.sampled_from([-1, 4294967295, 4294967296, "x", "", "1.0", "007", "+1"]),
).map(str)
bitval = st.sampled_from(["0", "1", "0", "1", "2", "-1", "x", ""])
index = st.one_of(st.integers(-60, 60), st.sampled_from([-9223372036854775808, 9223372036854775807, "x"])).map(str)
unit = st.sampled_from([[], [], ["BYTE"], ["BIT"], ["bit"], ["FOO"]])
value = st.sampled_from(["", "0", "1", "12345", "-7", "foobar", "\xff\xf0\x00", "\x00\x00", "x" * 44,
                         "y" * 50, "\xff" * 9, "9223372036854775807"])

bftype = st.one_of(
    st.builds(lambda s, n: f"{s}{n}", st.sampled_from("iu"), st.integers(1, 64)),
    st.sampled_from(["u64", "i65", "i0", "I8", "u", "x8", "i-1", "u08", ""]),
)
bfoffset = st.one_of(
    st.integers(0, 120).map(str), st.integers(0, 20).map(lambda n: f"#{n}"),
    st.sampled_from(["-1", "#-1", "x", "#", "4294967296"]),
)
bfvalue = st.one_of(
    st.integers(-300, 300), st.integers(-2 ** 63, 2 ** 63 - 1),
    st.sampled_from([127, 128, -128, -129, 255, 256, 2 ** 63 - 1, -2 ** 63, "x"]),
).map(str)
bfop = st.one_of(
    st.tuples(st.just("GET"), bftype, bfoffset),
    st.tuples(st.sampled_from(["SET", "set", "INCRBY", "incrby"]), bftype, bfoffset, bfvalue),
    st.tuples(st.just("OVERFLOW"), st.sampled_from(["WRAP", "SAT", "FAIL", "sat", "FOO"])),
)
bfop_ok = st.one_of(  # well-formed operations, so long sequences actually execute
    st.tuples(st.just("GET"), st.builds(lambda s, n: f"{s}{n}", st.sampled_from("iu"), st.integers(1, 63)),
              st.integers(0, 100).map(str)),
    st.tuples(st.sampled_from(["SET", "INCRBY"]),
              st.builds(lambda s, n: f"{s}{n}", st.sampled_from("iu"), st.integers(1, 63)),
              st.integers(0, 100).map(str), st.integers(-2 ** 40, 2 ** 40).map(str)),
    st.tuples(st.just("OVERFLOW"), st.sampled_from(["WRAP", "SAT", "FAIL"])),
)


def c(*parts):
    return st.tuples(*[st.just(p) if isinstance(p, str) else p for p in parts])


def cat(base, extra):
    return st.tuples(base, extra).map(lambda t: tuple(t[0]) + tuple(x for xs in t[1] for x in xs))


BIT_CMDS = [
    c("SETBIT", key, offset, bitval),
    c("SETBIT", key, st.integers(0, 200).map(str), st.sampled_from(["0", "1"])),
    c("SETBIT", key, st.integers(0, 200).map(str), st.sampled_from(["0", "1"])),
    c("GETBIT", key, offset),
    c("BITCOUNT", key),
    cat(c("BITCOUNT", key, index, index), unit.map(lambda u: [u])),
    c("BITCOUNT", key, index),
    cat(c("BITPOS", key, bitval), st.sampled_from([[], [["0"]], [["1"]], [["-1"]], [["x"]]])),
    cat(c("BITPOS", key, st.sampled_from(["0", "1"]), index, index), unit.map(lambda u: [u])),
    c("BITPOS", key, st.sampled_from(["0", "1"]), index),
    st.tuples(st.sampled_from(["AND", "OR", "XOR", "and", "NOT", "NAND"]), key, keys).map(
        lambda t: ("BITOP", t[0], t[1], *t[2])),
    c("BITOP", "NOT", key, key),
    cat(c("BITFIELD", key), st.lists(bfop.map(list), max_size=5)),
    cat(c("BITFIELD", key), st.lists(bfop_ok.map(list), min_size=1, max_size=6)),
    cat(c("BITFIELD_RO", key), st.lists(bfop.map(list), max_size=3)),
    c("SET", key, value),
    c("APPEND", key, value),
    c("GET", key),
    c("STRLEN", key),
    c("DEL", key),
    c("LPUSH", "l", "x"),
    c("INCR", key),
    c("SETBIT", key), c("BITOP", "AND", key), c("BITPOS", key), c("GETBIT", key),
]


def encoding(conn, k):
    return conn.cmd("OBJECT", "ENCODING", k)


class BitmapSide(Side):
    """Commands on main, encodings and the end state through aux; replies compared raw."""

    TWO_CONNECTIONS = True
    CONFIG = (("proto-max-bulk-len", "1mb"),)
    OBSERVED_KEYS = KEYS

    def state(self):
        out = []
        for k in sorted(self.aux.cmd("KEYS", "*")):
            t = self.aux.cmd("TYPE", k)
            out.append((k, t, self.aux.cmd("GET", k) if t == "string" else None, encoding(self.aux, k)))
        return out


sides = sides_fixture(BitmapSide)


@SETTINGS
@given(seq=st.lists(st.one_of(*BIT_CMDS), min_size=3, max_size=30))
def test_diff_bitmap_commands(sides, seq):
    run_sequence(sides, seq)


@SETTINGS
@given(seq=st.lists(st.one_of(
    c("SETBIT", key, st.integers(0, 3000).map(str), st.sampled_from(["0", "1"])),
    c("BITCOUNT", key), cat(c("BITCOUNT", key, index, index), unit.map(lambda u: [u])),
    cat(c("BITPOS", key, st.sampled_from(["0", "1"]), index, index), unit.map(lambda u: [u])),
    c("BITPOS", key, st.sampled_from(["0", "1"]), index), c("BITPOS", key, st.sampled_from(["0", "1"])),
    cat(c("BITFIELD", key), st.lists(bfop_ok.map(list), min_size=1, max_size=8)),
    st.tuples(st.sampled_from(["AND", "OR", "XOR"]), key, keys).map(lambda t: ("BITOP", t[0], t[1], *t[2])),
    c("BITOP", "NOT", key, key),
), min_size=5, max_size=40))
def test_diff_bitmap_random_offsets(sides, seq):
    run_sequence(sides, seq)
