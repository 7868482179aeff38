"""Bitmap commands: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO. Exact replies and error texts,
the raw encoding after a bit write, TTLs, proto-max-bulk-len limits, WATCH, and random operations against a
Python model of the bytes.

Reply types: simple string -> str, bulk -> bytes, integer -> int, error -> Err, null -> None.
Validated against Debian's redis-server 7.0 (SARDINE_SERVER=/usr/bin/redis-server).
"""
import random

from sardine_resp import Err, Raw

SYNTAX = Err("ERR syntax error")
NOT_INT = Err("ERR value is not an integer or out of range")
WRONGTYPE = Err("WRONGTYPE Operation against a key holding the wrong kind of value")
BAD_OFFSET = Err("ERR bit offset is not an integer or out of range")
BAD_BIT = Err("ERR bit is not an integer or out of range")
BAD_TYPE = Err("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")


def wrong_args(cmd):
    return Err(f"ERR wrong number of arguments for '{cmd}' command")


def check(c, steps):
    for args, expected in steps:
        got = c.cmd(*args)
        assert got == expected and type(got) is type(expected), f"{args}: got {got!r}, want {expected!r}"


def enc(c, key):
    return c.cmd("OBJECT", "ENCODING", key)


def test_setbit_getbit(c):
    check(c, [
        (("SETBIT", "k", "7", "1"), 0),
        (("GET", "k"), b"\x01"),
        (("SETBIT", "k", "7", "1"), 1),
        (("SETBIT", "k", "7", "0"), 1),
        (("SETBIT", "k", "23", "1"), 0),
        (("GET", "k"), b"\x00\x00\x01"),
        (("GETBIT", "k", "23"), 1),
        (("GETBIT", "k", "22"), 0),
        (("GETBIT", "k", "100000"), 0),
        (("GETBIT", "nope", "0"), 0),
        (("STRLEN", "k"), 3),
        (("SETBIT", "k", "-1", "1"), BAD_OFFSET),
        (("SETBIT", "k", "x", "1"), BAD_OFFSET),
        (("SETBIT", "k", "1.5", "1"), BAD_OFFSET),
        (("SETBIT", "k", "0", "2"), BAD_BIT),
        (("SETBIT", "k", "0", "-1"), BAD_BIT),
        (("SETBIT", "k", "0", "x"), BAD_BIT),
        (("SETBIT", "k", "x", "x"), BAD_OFFSET),
        (("GETBIT", "k", "-1"), BAD_OFFSET),
        (("GETBIT", "k", "#1"), BAD_OFFSET),
        (("SETBIT", "k", "0"), wrong_args("setbit")),
        (("GETBIT", "k"), wrong_args("getbit")),
    ])
    assert enc(c, "k") == b"raw"
    c.cmd("LPUSH", "l", "a")
    check(c, [
        (("SETBIT", "l", "0", "1"), WRONGTYPE),
        (("SETBIT", "l", "x", "1"), BAD_OFFSET),  # arguments are checked before the type
        (("SETBIT", "l", "0", "5"), BAD_BIT),
        (("GETBIT", "l", "0"), WRONGTYPE),
    ])


def test_bits_of_other_encodings(c):
    c.cmd("SET", "n", "12345")          # int encoding: its text "12345"
    c.cmd("SET", "e", "hello")          # embstr
    assert enc(c, "n") == b"int" and enc(c, "e") == b"embstr"
    check(c, [
        (("GETBIT", "n", "2"), 1),      # '1' = 0x31 = 00110001
        (("GETBIT", "n", "0"), 0),
        (("BITCOUNT", "n"), 17),
        (("GETBIT", "e", "1"), 1),
    ])
    assert enc(c, "n") == b"int"        # reads leave the encoding alone
    check(c, [(("SETBIT", "n", "0", "0"), 0)])
    assert enc(c, "n") == b"raw"        # any bit write makes the value raw, even without a change
    assert c.cmd("GET", "n") == b"12345"
    check(c, [(("SETBIT", "e", "47", "1"), 0), (("GET", "e"), b"hello\x01")])
    assert enc(c, "e") == b"raw"


def test_setbit_keeps_ttl(c):
    c.cmd("SET", "k", "abc", "EX", "1000")
    c.cmd("SETBIT", "k", "100", "1")
    assert 0 < c.cmd("TTL", "k") <= 1000
    c.cmd("SETBIT", "k", "0", "1")
    assert 0 < c.cmd("TTL", "k") <= 1000


def test_offset_limit(c):
    assert c.cmd("CONFIG", "SET", "proto-max-bulk-len", "1mb") == "OK"
    top = 8 * 1024 * 1024
    check(c, [
        (("SETBIT", "k", str(top), "1"), BAD_OFFSET),
        (("GETBIT", "k", str(top)), BAD_OFFSET),
        (("SETBIT", "k", str(top - 1), "1"), 0),
        (("STRLEN", "k"), 1024 * 1024),
        (("BITCOUNT", "k"), 1),
        (("BITPOS", "k", "1"), top - 1),
        (("BITFIELD", "k", "GET", "u8", str(top)), BAD_OFFSET),
        (("BITFIELD", "k", "GET", "u8", "#1048576"), BAD_OFFSET),
        (("BITFIELD", "k", "GET", "u8", "#1048575"), [1]),
        (("SETBIT", "k", "18446744073709551616", "1"), BAD_OFFSET),
    ])


def test_bitcount(c):
    c.cmd("SET", "mykey", "foobar")
    check(c, [
        (("BITCOUNT", "mykey"), 26),
        (("BITCOUNT", "mykey", "0", "0"), 4),
        (("BITCOUNT", "mykey", "1", "1"), 6),
        (("BITCOUNT", "mykey", "1", "1", "BYTE"), 6),
        (("BITCOUNT", "mykey", "5", "30", "BIT"), 17),
        (("BITCOUNT", "mykey", "5", "30", "bit"), 17),
        (("BITCOUNT", "mykey", "0", "-1", "BIT"), 26),
        (("BITCOUNT", "mykey", "-1", "-1", "BIT"), 0),
        (("BITCOUNT", "mykey", "-2", "-1"), 7),
        (("BITCOUNT", "mykey", "-1", "-2"), 0),
        (("BITCOUNT", "mykey", "-100", "100"), 26),
        (("BITCOUNT", "mykey", "3", "1"), 0),
        (("BITCOUNT", "mykey", "1", "1", "2"), SYNTAX),
        (("BITCOUNT", "mykey", "1", "1", "BITS"), SYNTAX),
        (("BITCOUNT", "mykey", "1"), SYNTAX),
        (("BITCOUNT", "mykey", "1", "1", "BIT", "x"), SYNTAX),
        (("BITCOUNT", "mykey", "a", "1"), NOT_INT),
        (("BITCOUNT", "mykey", "1", "a"), NOT_INT),
        (("BITCOUNT", "mykey", "a", "1", "FOO"), NOT_INT),   # numbers are parsed before the unit
        (("BITCOUNT", "mykey", "-1", "-2", "FOO"), 0),       # ... and an empty negative range answered
        (("BITCOUNT", "nope"), 0),
        (("BITCOUNT", "nope", "a", "b"), 0),                  # Redis 7.0 looks the key up first
        (("BITCOUNT", "nope", "1"), 0),
        (("BITCOUNT",), wrong_args("bitcount")),
    ])
    c.cmd("SET", "empty", "")
    check(c, [
        (("BITCOUNT", "empty"), 0),
        (("BITCOUNT", "empty", "0", "-1"), 0),
        (("BITCOUNT", "empty", "0", "-1", "BIT"), 0),
    ])
    c.cmd("LPUSH", "l", "a")
    check(c, [(("BITCOUNT", "l"), WRONGTYPE), (("BITCOUNT", "l", "a", "b"), WRONGTYPE)])


def test_bitcount_big_random(c):
    rnd = random.Random(5)
    data = bytes(rnd.getrandbits(8) for _ in range(100003))
    c.cmd("SET", "big", data)
    bits = "".join(f"{b:08b}" for b in data)
    assert c.cmd("BITCOUNT", "big") == bits.count("1")
    for _ in range(40):
        s, e = sorted(rnd.randrange(len(data)) for _ in range(2))
        assert c.cmd("BITCOUNT", "big", str(s), str(e)) == bits[8 * s:8 * e + 8].count("1")
        s, e = sorted(rnd.randrange(len(bits)) for _ in range(2))
        assert c.cmd("BITCOUNT", "big", str(s), str(e), "BIT") == bits[s:e + 1].count("1")


def test_bitpos(c):
    c.cmd("SET", "mykey", b"\xff\xf0\x00")
    c.cmd("SET", "ones", b"\xff\xff\xff")
    c.cmd("SET", "zeros", b"\x00\x00\x00")
    check(c, [
        (("BITPOS", "mykey", "0"), 12),
        (("BITPOS", "mykey", "1"), 0),
        (("BITPOS", "mykey", "1", "2"), -1),
        (("BITPOS", "mykey", "1", "2", "-1", "BYTE"), -1),
        (("BITPOS", "mykey", "1", "7", "15", "BIT"), 7),
        (("BITPOS", "mykey", "0", "7", "15", "BIT"), 12),
        (("BITPOS", "mykey", "1", "12", "-1", "bit"), -1),
        (("BITPOS", "mykey", "0", "0", "3", "BIT"), -1),
        (("BITPOS", "mykey", "0", "-3", "-1", "BIT"), 21),
        # a clear bit past the end: only when no end was given
        (("BITPOS", "ones", "0"), 24),
        (("BITPOS", "ones", "0", "1"), 24),
        (("BITPOS", "ones", "0", "1", "-1"), -1),
        (("BITPOS", "ones", "0", "0", "-1", "BIT"), -1),
        (("BITPOS", "ones", "0", "3"), -1),
        (("BITPOS", "ones", "0", "5", "10"), -1),
        (("BITPOS", "ones", "1", "3"), -1),
        (("BITPOS", "zeros", "1"), -1),
        (("BITPOS", "zeros", "0"), 0),
        (("BITPOS", "zeros", "0", "2"), 16),
        (("BITPOS", "zeros", "0", "17", "-1", "BIT"), 17),
        (("BITPOS", "nope", "1"), -1),
        (("BITPOS", "nope", "0"), 0),
        (("BITPOS", "nope", "0", "a", "b", "c"), 0),
        (("BITPOS", "nope", "2"), Err("ERR The bit argument must be 1 or 0.")),
        (("BITPOS", "mykey", "x"), NOT_INT),
        (("BITPOS", "mykey", "1", "x"), NOT_INT),
        (("BITPOS", "mykey", "1", "0", "x"), NOT_INT),
        (("BITPOS", "mykey", "1", "0", "x", "FOO"), SYNTAX),  # the unit is checked before the end
        (("BITPOS", "mykey", "1", "0", "1", "FOO"), SYNTAX),
        (("BITPOS", "mykey", "1", "0", "1", "BIT", "x"), SYNTAX),
        (("BITPOS", "mykey"), wrong_args("bitpos")),
    ])
    c.cmd("SET", "empty", "")
    check(c, [(("BITPOS", "empty", "0"), -1), (("BITPOS", "empty", "1"), -1)])
    c.cmd("LPUSH", "l", "a")
    check(c, [(("BITPOS", "l", "1"), WRONGTYPE), (("BITPOS", "l", "3"), Err("ERR The bit argument must be 1 or 0."))])


def test_bitpos_model(c):
    rnd = random.Random(11)
    for trial in range(60):
        n = rnd.randrange(1, 40)
        fill = rnd.choice([0x00, 0xff, None])
        data = bytearray(rnd.getrandbits(8) if fill is None else fill for _ in range(n))
        if fill is not None and rnd.random() < 0.7:
            data[rnd.randrange(n)] ^= 1 << rnd.randrange(8)
        c.cmd("SET", "k", bytes(data))
        bits = "".join(f"{b:08b}" for b in data)
        for _ in range(10):
            bit = rnd.choice("01")
            unit = rnd.choice(["BYTE", "BIT"])
            total = len(bits) if unit == "BIT" else n
            s, e = rnd.randrange(-total - 2, total + 2), rnd.randrange(-total - 2, total + 2)
            ss, ee = (s + total if s < 0 else s), (e + total if e < 0 else e)
            ss, ee = max(ss, 0), min(max(ee, 0), total - 1)
            if ss > ee:
                want = -1
            else:
                lo, hi = (ss, ee) if unit == "BIT" else (8 * ss, 8 * ee + 7)
                i = bits.find(bit, lo, hi + 1)
                want = i
            assert c.cmd("BITPOS", "k", bit, str(s), str(e), unit) == want, (bytes(data), bit, s, e, unit)
        want = bits.find("1")
        assert c.cmd("BITPOS", "k", "1") == want
        i = bits.find("0")
        assert c.cmd("BITPOS", "k", "0") == (i if i >= 0 else len(bits))


def test_bitop(c):
    c.cmd("SET", "a", b"\xff\x0f\x01")
    c.cmd("SET", "b", b"\x0f\xff")
    check(c, [
        (("BITOP", "AND", "d", "a", "b"), 3),
        (("GET", "d"), b"\x0f\x0f\x00"),
        (("BITOP", "or", "d", "a", "b"), 3),
        (("GET", "d"), b"\xff\xff\x01"),
        (("BITOP", "XOR", "d", "a", "b"), 3),
        (("GET", "d"), b"\xf0\xf0\x01"),
        (("BITOP", "XOR", "d", "a", "b", "a"), 3),
        (("GET", "d"), b"\x0f\xff\x00"),
        (("BITOP", "NOT", "d", "b"), 2),
        (("GET", "d"), b"\xf0\x00"),
        (("BITOP", "AND", "d", "a", "nope"), 3),
        (("GET", "d"), b"\x00\x00\x00"),
        (("BITOP", "OR", "d", "nope", "a"), 3),
        (("GET", "d"), b"\xff\x0f\x01"),
        (("BITOP", "AND", "d", "a"), 3),
        (("GET", "d"), b"\xff\x0f\x01"),
        (("BITOP", "NOT", "d", "a", "b"), Err("ERR BITOP NOT must be called with a single source key.")),
        (("BITOP", "NOT", "d"), wrong_args("bitop")),
        (("BITOP", "NAND", "d", "a"), SYNTAX),
        (("BITOP", "NAND", "d", "nope"), SYNTAX),
        (("BITOP", "OR", "d", "nope1", "nope2"), 0),
        (("EXISTS", "d"), 0),                   # an empty result deletes the destination
        (("BITOP", "OR", "a", "a", "b"), 3),    # destination among the sources
        (("GET", "a"), b"\xff\xff\x01"),
    ])
    c.cmd("SET", "num", "12")
    check(c, [(("BITOP", "NOT", "d", "num"), 2), (("GET", "d"), b"\xce\xcd")])
    assert enc(c, "d") == b"raw"
    c.cmd("SET", "short", "x")
    c.cmd("BITOP", "OR", "d", "short")
    assert enc(c, "d") == b"raw"               # BITOP results are raw even when short
    c.cmd("SET", "d", "v", "EX", "100")
    c.cmd("BITOP", "OR", "d", "short")
    assert c.cmd("TTL", "d") == -1             # the destination is replaced, TTL included
    c.cmd("LPUSH", "l", "x")
    check(c, [
        (("BITOP", "OR", "d", "a", "l"), WRONGTYPE),
        (("BITOP", "OR", "l", "a"), 3),          # the destination may be of any type
        (("TYPE", "l"), "string"),
        (("SET", "e", ""), "OK"),
        (("LPUSH", "l2", "x"), 1),
        (("BITOP", "OR", "l2", "e"), 0),
        (("EXISTS", "l2"), 0),
    ])


def test_bitop_model(c):
    rnd = random.Random(3)
    for _ in range(30):
        srcs = [bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 30))) for _ in range(rnd.randrange(1, 5))]
        for i, s in enumerate(srcs):
            if s:
                c.cmd("SET", f"s{i}", s)
            else:
                c.cmd("DEL", f"s{i}")
        op = rnd.choice(["AND", "OR", "XOR"])
        n = max(len(s) for s in srcs)
        want = bytearray(srcs[0].ljust(n, b"\0"))
        for s in srcs[1:]:
            s = s.ljust(n, b"\0")
            for i in range(n):
                want[i] = want[i] & s[i] if op == "AND" else want[i] | s[i] if op == "OR" else want[i] ^ s[i]
        assert c.cmd("BITOP", op, "d", *[f"s{i}" for i in range(len(srcs))]) == n
        assert c.cmd("GET", "d") == (bytes(want) if n else None)


def test_bitfield(c):
    check(c, [
        (("BITFIELD", "mykey", "INCRBY", "i5", "100", "1", "GET", "u4", "0"), [1, 0]),
        (("BITFIELD", "mystring", "SET", "i8", "#0", "100", "SET", "i8", "#1", "200"), [0, 0]),
        (("GET", "mystring"), b"d\xc8"),
        (("BITFIELD", "mystring", "GET", "i8", "#1", "GET", "u8", "#1", "GET", "u16", "0"), [-56, 200, 25800]),
        (("BITFIELD", "mykey", "incrby", "u2", "100", "1", "OVERFLOW", "SAT", "incrby", "u2", "102", "1"), [1, 1]),
        (("BITFIELD", "mykey", "incrby", "u2", "100", "1", "OVERFLOW", "SAT", "incrby", "u2", "102", "1"), [2, 2]),
        (("BITFIELD", "mykey", "incrby", "u2", "100", "1", "OVERFLOW", "SAT", "incrby", "u2", "102", "1"), [3, 3]),
        (("BITFIELD", "mykey", "incrby", "u2", "100", "1", "OVERFLOW", "SAT", "incrby", "u2", "102", "1"), [0, 3]),
        (("BITFIELD", "mykey", "OVERFLOW", "FAIL", "incrby", "u2", "102", "1"), [None]),
        (("BITFIELD", "k", "SET", "i8", "0", "-100", "INCRBY", "i8", "0", "-100", "OVERFLOW", "SAT",
          "INCRBY", "i8", "0", "-100", "GET", "u4", "0", "OVERFLOW", "FAIL", "INCRBY", "u2", "100", "4"),
         [0, 56, -44, 13, None]),
        (("BITFIELD", "k"), []),
        (("BITFIELD", "nope"), []),
        (("BITFIELD", "nope", "GET", "u8", "0", "GET", "i64", "3"), [0, 0]),
        (("EXISTS", "nope"), 0),
        (("BITFIELD", "k", "OVERFLOW", "SAT"), []),
        (("BITFIELD", "k", "OVERFLOW", "FOO"), Err("ERR Invalid OVERFLOW type specified")),
        (("BITFIELD", "k", "GET", "u64", "0"), BAD_TYPE),
        (("BITFIELD", "k", "GET", "i65", "0"), BAD_TYPE),
        (("BITFIELD", "k", "GET", "i0", "0"), BAD_TYPE),
        (("BITFIELD", "k", "GET", "I8", "0"), BAD_TYPE),
        (("BITFIELD", "k", "GET", "u", "0"), BAD_TYPE),
        (("BITFIELD", "k", "GET", "", "0"), BAD_TYPE),
        (("BITFIELD", "k", "GET", "i08", "0"), BAD_TYPE),
        (("BITFIELD", "k", "GET", "i8", "-1"), BAD_OFFSET),
        (("BITFIELD", "k", "GET", "i8", "#-1"), BAD_OFFSET),
        (("BITFIELD", "k", "GET", "i8", "##1"), BAD_OFFSET),
        (("BITFIELD", "k", "GET", "i8", "x"), BAD_OFFSET),
        (("BITFIELD", "k", "GET", "u8", "#2305843009213693952"), [212]),   # the #-product wraps, as in Redis
        (("BITFIELD", "k", "SET", "i8", "0", "x"), NOT_INT),
        (("BITFIELD", "k", "SET", "i8", "0"), SYNTAX),
        (("BITFIELD", "k", "GET", "i8"), SYNTAX),
        (("BITFIELD", "k", "FOO", "i8", "0"), SYNTAX),
        (("BITFIELD", "k", "GET", "i8", "0", "SET"), SYNTAX),
        (("BITFIELD", "k", "OVERFLOW"), SYNTAX),
        (("BITFIELD",), wrong_args("bitfield")),
    ])


def test_bitfield_wide_and_overflow(c):
    I64_MAX, I64_MIN = 9223372036854775807, -9223372036854775808
    check(c, [
        (("BITFIELD", "w", "SET", "i64", "3", str(I64_MIN)), [0]),
        (("BITFIELD", "w", "GET", "i64", "3", "GET", "u63", "3", "GET", "u63", "4"), [I64_MIN, 4611686018427387904, 0]),
        (("BITFIELD", "w", "INCRBY", "i64", "3", "-1"), [I64_MAX]),               # wraps by default
        (("BITFIELD", "w", "OVERFLOW", "SAT", "INCRBY", "i64", "3", "1"), [I64_MAX]),
        (("BITFIELD", "w", "OVERFLOW", "FAIL", "INCRBY", "i64", "3", "1"), [None]),
        (("BITFIELD", "w", "OVERFLOW", "WRAP", "INCRBY", "i64", "3", str(I64_MAX)), [-2]),
        (("BITFIELD", "w", "SET", "u63", "3", "-1"), [9223372036854775807]),
        (("BITFIELD", "w", "GET", "u63", "3"), [9223372036854775807]),           # SET of -1 wraps to all ones
        (("BITFIELD", "w", "OVERFLOW", "SAT", "SET", "u8", "100", "-1"), [0]),
        (("BITFIELD", "w", "GET", "u8", "100"), [255]),                           # saturates at the maximum
        (("BITFIELD", "w", "OVERFLOW", "SAT", "SET", "i4", "200", "100", "SET", "i4", "204", "-100"), [0, 0]),
        (("BITFIELD", "w", "GET", "i4", "200", "GET", "i4", "204"), [7, -8]),
        (("BITFIELD", "w", "SET", "i4", "200", "100", "GET", "i4", "200"), [7, 4]),  # wrap: 100 & 15 = 4
        (("BITFIELD", "w", "OVERFLOW", "SAT", "INCRBY", "u4", "200", "-100"), [0]),
        (("BITFIELD", "w", "OVERFLOW", "WRAP", "INCRBY", "u4", "200", "-1"), [15]),
        (("BITFIELD", "w", "INCRBY", "i1", "300", "1"), [-1]),
        (("BITFIELD", "w", "INCRBY", "u1", "301", "3"), [1]),
        (("BITFIELD", "w", "OVERFLOW", "FAIL", "SET", "i8", "400", "128", "SET", "i8", "400", "-128"), [None, 0]),
        (("BITFIELD", "w", "GET", "i8", "400"), [-128]),
    ])
    # FAIL still creates the key, zero-filled up to the highest field written
    check(c, [
        (("BITFIELD", "f", "OVERFLOW", "FAIL", "SET", "u8", "8", "256"), [None]),
        (("GET", "f"), b"\x00\x00"),
    ])
    assert enc(c, "f") == b"raw"


def test_bitfield_ro_and_types(c):
    c.cmd("SET", "k", "foobar")
    c.cmd("LPUSH", "l", "x")
    check(c, [
        (("BITFIELD_RO", "k", "GET", "u8", "0", "GET", "i16", "#1"), [102, 28514]),
        (("BITFIELD_RO", "k", "SET", "u8", "0", "1"), Err("ERR BITFIELD_RO only supports the GET subcommand")),
        (("BITFIELD_RO", "k", "INCRBY", "u8", "0", "1"), Err("ERR BITFIELD_RO only supports the GET subcommand")),
        (("BITFIELD_RO", "k", "SET", "u8", "0", "x"), NOT_INT),
        (("BITFIELD_RO", "k", "GET", "u8", "0", "FOO"), SYNTAX),
        (("BITFIELD_RO", "nope", "GET", "u8", "0"), [0]),
        (("BITFIELD_RO", "l", "GET", "u8", "0"), WRONGTYPE),
        (("BITFIELD_RO", "l", "SET", "u8", "0", "1"), Err("ERR BITFIELD_RO only supports the GET subcommand")),
        (("BITFIELD", "l", "GET", "u8", "0"), WRONGTYPE),
        (("BITFIELD", "l", "SET", "u8", "x", "1"), BAD_OFFSET),
        (("BITFIELD", "l", "SET", "u8", "0", "1"), WRONGTYPE),
        (("BITFIELD_RO",), wrong_args("bitfield_ro")),
    ])
    c.cmd("SET", "n", "123")
    check(c, [(("BITFIELD", "n", "GET", "u8", "0"), [49])])
    assert enc(c, "n") == b"int"
    check(c, [(("BITFIELD", "n", "INCRBY", "u8", "0", "1"), [50]), (("GET", "n"), b"223")])
    assert enc(c, "n") == b"raw"


def test_bitfield_model(c):
    """Random GET/SET/INCRBY with every overflow mode against a Python model of the bits."""
    rnd = random.Random(8)
    data = bytearray()

    def get(off, bits):
        need = (off + bits + 7) // 8
        buf = bytes(data[:need]).ljust(need, b"\0")
        v = int.from_bytes(buf, "big") >> (need * 8 - off - bits)
        return v & ((1 << bits) - 1)

    def put(off, bits, v):
        need = (off + bits + 7) // 8
        if len(data) < need:
            data.extend(b"\0" * (need - len(data)))
        whole = int.from_bytes(data[:need], "big")
        shift = need * 8 - off - bits
        mask = ((1 << bits) - 1) << shift
        whole = (whole & ~mask) | ((v & ((1 << bits) - 1)) << shift)
        data[:need] = whole.to_bytes(need, "big")

    for _ in range(300):
        sign = rnd.random() < 0.5
        bits = rnd.randint(1, 64 if sign else 63)
        off = rnd.randrange(0, 200)
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if sign else (0, (1 << bits) - 1)
        op = rnd.choice(["GET", "SET", "INCRBY"])
        ow = rnd.choice(["WRAP", "SAT", "FAIL"])
        arg = rnd.choice([rnd.randint(-2**63, 2**63 - 1), rnd.randint(-300, 300), hi, lo, hi + 1, lo - 1])
        arg = max(min(arg, 2**63 - 1), -2**63)
        t = ("i" if sign else "u") + str(bits)
        old = get(off, bits)
        if sign and old >= 1 << (bits - 1):
            old -= 1 << bits
        if op == "GET":
            want = [old]
            cmd = ("GET", t, str(off))
        else:
            cmd = ("OVERFLOW", ow, op, t, str(off), str(arg))
            if op == "SET":
                v = arg if sign else arg % (1 << 64)
            else:
                v = old + arg
            if lo <= v <= hi:
                nv, over = v, False
            else:
                over = True
                if ow == "SAT":
                    nv = hi if v > hi else lo
                else:
                    nv = v % (1 << bits)
                    if sign and nv > hi:
                        nv -= 1 << bits
            if over and ow == "FAIL":
                want = [None]
                if len(data) < (off + bits + 7) // 8:
                    data.extend(b"\0" * ((off + bits + 7) // 8 - len(data)))
            else:
                want = [old if op == "SET" else nv]
                put(off, bits, nv)
        got = c.cmd("BITFIELD", "m", *cmd)
        assert got == want, (cmd, got, want)
    assert c.cmd("GET", "m") == (bytes(data) if data else None)


def test_watch(sardine, c):
    other = Raw(sardine.port)
    try:
        c.cmd("SETBIT", "k", "10", "1")
        # a SETBIT that changes nothing (same bit, no growth) does not touch the key
        assert c.cmd("WATCH", "k") == "OK"
        assert other.cmd("SETBIT", "k", "3", "0") == 0
        assert c.cmd("MULTI") == "OK"
        assert c.cmd("PING") == "QUEUED"
        assert c.cmd("EXEC") == ["PONG"]
        # a real change does
        assert c.cmd("WATCH", "k") == "OK"
        assert other.cmd("SETBIT", "k", "3", "1") == 0
        assert c.cmd("MULTI") == "OK"
        assert c.cmd("PING") == "QUEUED"
        assert c.cmd("EXEC") is None
        # so does growing it with a zero bit
        assert c.cmd("WATCH", "k") == "OK"
        assert other.cmd("SETBIT", "k", "100", "0") == 0
        assert c.cmd("MULTI") == "OK"
        assert c.cmd("PING") == "QUEUED"
        assert c.cmd("EXEC") is None
        # BITFIELD: a failed write or one that stores the same value does not touch it, a change does
        assert c.cmd("WATCH", "k") == "OK"
        assert other.cmd("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u1", "3", "1") == [None]
        assert other.cmd("BITFIELD", "k", "SET", "u4", "0", "1", "GET", "u8", "0") == [1, 16]
        assert c.cmd("MULTI") == "OK"
        assert c.cmd("PING") == "QUEUED"
        assert c.cmd("EXEC") == ["PONG"]
        assert c.cmd("WATCH", "k") == "OK"
        assert other.cmd("BITFIELD", "k", "SET", "u4", "0", "1", "INCRBY", "u4", "0", "0", "SET", "u4", "0", "2") == [1, 1, 1]
        assert c.cmd("MULTI") == "OK"
        assert c.cmd("PING") == "QUEUED"
        assert c.cmd("EXEC") is None
        # growing the string is a change for a write that happens, not for one that fails
        assert c.cmd("WATCH", "k") == "OK"
        assert other.cmd("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u1", "1000", "2") == [None]
        assert c.cmd("MULTI") == "OK"
        assert c.cmd("PING") == "QUEUED"
        assert c.cmd("EXEC") == ["PONG"]
        assert other.cmd("STRLEN", "k") == 126
        assert c.cmd("WATCH", "k") == "OK"
        assert other.cmd("BITFIELD", "k", "SET", "u8", "2000", "0") == [0]
        assert c.cmd("MULTI") == "OK"
        assert c.cmd("PING") == "QUEUED"
        assert c.cmd("EXEC") is None
    finally:
        other.close()


def test_random_setbit_model(c):
    rnd = random.Random(2)
    model = bytearray()
    for _ in range(2000):
        off = rnd.choice([rnd.randrange(64), rnd.randrange(4096), rnd.randrange(100000)])
        v = rnd.randrange(2)
        byte = off >> 3
        if len(model) <= byte:
            model.extend(b"\0" * (byte + 1 - len(model)))
        old = (model[byte] >> (7 - (off & 7))) & 1
        if v:
            model[byte] |= 1 << (7 - (off & 7))
        else:
            model[byte] &= ~(1 << (7 - (off & 7))) & 0xff
        assert c.cmd("SETBIT", "k", str(off), str(v)) == old
        probe = rnd.randrange(len(model) * 8 + 16)
        pb = probe >> 3
        want = (model[pb] >> (7 - (probe & 7))) & 1 if pb < len(model) else 0
        assert c.cmd("GETBIT", "k", str(probe)) == want
    assert c.cmd("GET", "k") == bytes(model)
    assert c.cmd("BITCOUNT", "k") == sum(bin(b).count("1") for b in model)


def test_command_info(c):
    """Arity, flags, key positions and ACL categories (a set: compared sorted)."""
    info = c.cmd("COMMAND", "INFO", "setbit", "getbit", "bitcount", "bitpos", "bitop", "bitfield", "bitfield_ro")
    got = {i[0]: (i[1], sorted(i[2]), i[3], i[4], i[5], sorted(i[6])) for i in info}
    assert got == {
        b"setbit": (4, ["denyoom", "write"], 1, 1, 1, ["@bitmap", "@slow", "@write"]),
        b"getbit": (3, ["fast", "readonly"], 1, 1, 1, ["@bitmap", "@fast", "@read"]),
        b"bitcount": (-2, ["readonly"], 1, 1, 1, ["@bitmap", "@read", "@slow"]),
        b"bitpos": (-3, ["readonly"], 1, 1, 1, ["@bitmap", "@read", "@slow"]),
        b"bitop": (-4, ["denyoom", "write"], 2, -1, 1, ["@bitmap", "@slow", "@write"]),
        b"bitfield": (-2, ["denyoom", "write"], 1, 1, 1, ["@bitmap", "@slow", "@write"]),
        b"bitfield_ro": (-2, ["fast", "readonly"], 1, 1, 1, ["@bitmap", "@fast", "@read"]),
    }
