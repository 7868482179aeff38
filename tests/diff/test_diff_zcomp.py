"""Differential tests with value-compression on (Sardine's own, types/zstr.h): the string and bitmap
commands of test_diff_strings.py / test_diff_bitmap.py on values long enough to be compressed (JSON
documents, repeated text, long numbers, incompressible bytes that stay raw) mixed with short ones, on a
Sardine with `value-compression zstd` and `value-compression-min-size 64` and on the Debian
redis-server oracle, which has no such thing.  Every reply, OBJECT ENCODING of every key after every
step ("raw" for a compressed value, as Redis says), every key's value and TTL class at the end and DEBUG
DIGEST must be identical.  Two Sardines: one whose dictionary was trained first (values compressed with
it), one without dictionaries.  Nothing is normalized beyond test_diff_strings.py's TTL classes.
"""
import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from diffharness import run_sequence, settings_for
from test_diff_strings import StringSide, c, cat, flat, lcs_opt, set_opt
from sardine_resp import wait_until, parse_info

EXAMPLES, SETTINGS = settings_for(150)

KEYS = ["a", "b", "c", "n"]
key = st.sampled_from(KEYS)
_rng = random.Random(7)
WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima".split()


def doc(rng, n_items):
    return json.dumps({"id": "%032x" % rng.getrandbits(128), "type": "order",
                       "items": [{"sku": "SKU-%06d" % rng.randrange(10**6), "qty": rng.randint(1, 9),
                                  "name": " ".join(rng.choice(WORDS) for _ in range(3))} for _ in range(n_items)],
                       "notes": " ".join(rng.choice(WORDS) for _ in range(12))}, separators=(",", ":"))


LONG = [doc(_rng, 2), doc(_rng, 6), doc(_rng, 9), "x" * 64, "ab" * 40, "0" * 80 + "1.5", "1" * 70,
        "".join(chr(_rng.randrange(256)) for _ in range(120)),  # incompressible: stays raw
        "y" * 63, "hello world " * 30]
SHORT = ["", "1", "-1", "42", "abc", "3.5", "x" * 44, "z" * 45, "a\x00b"]
val = st.one_of(st.sampled_from(LONG), st.sampled_from(LONG), st.sampled_from(SHORT))
small_int = st.sampled_from(["-3", "-1", "0", "1", "2", "5", "50", "70", "300", "abc"])
offset = st.sampled_from(["0", "1", "7", "100", "500", "1000", "5000", "-1"])
bit = st.sampled_from(["0", "1"])

CMDS = [
    c("GET", key),
    cat(c("SET", key, val), st.lists(set_opt, max_size=2)),
    c("SETNX", key, val),
    c("GETSET", key, val),
    c("GETDEL", key),
    cat(c("MGET"), st.lists(key, min_size=1, max_size=4)),
    cat(c("MSET"), st.lists(st.tuples(key, val).map(list), min_size=1, max_size=3)),
    c("APPEND", key, val),
    c("STRLEN", key),
    c("INCR", key),
    c("INCRBYFLOAT", key, st.sampled_from(["1", "-0.5", "abc"])),
    c("GETRANGE", key, small_int, small_int),
    c("SETRANGE", key, st.sampled_from(["0", "3", "63", "100", "400", "-1"]), val),
    cat(c("LCS", key, key), lcs_opt),
    c("SETBIT", key, offset, bit),
    c("GETBIT", key, offset),
    cat(c("BITCOUNT", key), st.sampled_from([[], ["0", "-1"], ["2", "40", "BIT"], ["-10", "-2"]])),
    cat(c("BITPOS", key, bit), st.sampled_from([[], ["1"], ["3", "90", "BIT"]])),
    c("BITFIELD", key, "GET", st.sampled_from(["u8", "i16", "u63"]), offset),
    c("BITFIELD", key, "INCRBY", st.sampled_from(["u8", "i5"]), offset, st.sampled_from(["1", "-100"])),
    cat(c("BITOP", st.sampled_from(["AND", "OR", "XOR"]), key), st.lists(key, min_size=1, max_size=3)),
    c("BITOP", "NOT", key, key),
    c("PFADD", key, "e"),
    c("PFCOUNT", key),
    c("COPY", key, key),
    c("RENAME", key, key),
    c("MOVE", key, "1"),
    c("DUMP", key),
    c("OBJECT", "ENCODING", key),
    c("DEL", key),
]


class ZSide(StringSide):
    OBSERVED_KEYS = KEYS


def pair_of(make_sardine, make_oracle, *args, warm=False):
    s = make_sardine("--value-compression", "zstd", "--value-compression-min-size", "64", *args)
    if warm:  # train the dictionary first, on documents like the ones above
        r = s.client()
        rng = random.Random(3)
        for i in range(1100):
            r.set(f"warm:{i}", doc(rng, rng.randint(2, 9)))
        wait_until(lambda: r.set("poke", doc(rng, 5)) and r.info("memory")["compression_dict"] == "ready",
                   timeout=60, msg="the dictionary")
        r.flushall()
        r.close()
    return ZSide(s), ZSide(make_oracle())


@pytest.fixture(name="zpairs", params=["dict", "nodict"])
def zpairs(request, make_sardine, make_oracle):
    if request.param == "dict":
        sides = pair_of(make_sardine, make_oracle, warm=True)
    else:
        sides = pair_of(make_sardine, make_oracle, "--value-compression-dict", "no")
    try:
        yield sides
    finally:
        for side in sides:
            side.close()


@SETTINGS
@given(seq=st.lists(st.one_of(*CMDS), min_size=1, max_size=30))
def test_diff_compressed_strings(zpairs, seq):
    run_sequence(zpairs, seq)


def test_the_sequences_compress(zpairs):
    """The sides above do hold compressed values (the comparison is not of raw values only)."""
    s, o = zpairs
    for side in zpairs:
        side.reset()
        for args in [("SET", "a", LONG[1]), ("SET", "b", LONG[3]), ("SET", "c", LONG[7]), ("APPEND", "a", "x")]:
            side.run(args)
    assert s.state() == o.state()
    inf = parse_info(s.aux.cmd("INFO", "memory"))
    assert inf["compressed_values"] == "1"  # b; a was written in place, c is incompressible
    if inf["compression_dict"] == "ready":
        assert inf["compression_dicts"] == "1"
