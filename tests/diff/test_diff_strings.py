"""Differential tests: hypothesis-generated command sequences run on sardine and on the Debian
redis-server oracle; every reply must be identical (errors compared by full message).

The generators use a tiny key alphabet so commands collide, include wrong arity, bad numbers,
bad options, transactions with WATCH broken by a second connection, multiple databases and
expiry. Nothing here depends on timing:
  * relative TTLs are >= 100 s or <= 0 (immediate delete); absolute ones are far future or past;
  * GT/LT are only combined with absolute times, so "equal expire time" races cannot happen;
  * TTL/PTTL/EXPIRETIME/PEXPIRETIME replies are compared as -2 / -1 / positive;
  * RANDOMKEY, TIME, SCAN cursors and INFO avg_ttl are not compared.

Runs derandomized (fixed seeds) so CI is stable; set SARDINE_DIFF_RANDOM=1 to explore new
examples and SARDINE_DIFF_EXAMPLES=N to change the example count.
"""
import os

from hypothesis import given, note
from hypothesis import strategies as st

from diffharness import Side, run_sequence, settings_for, sides_fixture
from sardine_resp import Raw, encode, parse_info

EXAMPLES, SETTINGS = settings_for(150)

KEYS = ["a", "b", "c", "n"]
VALUES = ["", "0", "1", "-1", "10", "42", "abc", "3.5", "-2.25", "9223372036854775807",
          "-9223372036854775808", "9223372036854775808", "1e3", " 1", "-0", "0x10", "007", "+5",
          "hello world", "x" * 44, "y" * 45, "inf", "nan", "1.7976931348623157e308", "a\x00b"]
INTS = ["-1", "0", "1", "2", "5", "100", "-100", "abc", "1.5", "", "9223372036854775807",
        "-9223372036854775808", "9223372036854775808", "+1", " 1"]
FLOATS = ["0", "1", "-1", "0.1", "1.5", "-2.5", "1e3", "5.0e3", "abc", "inf", "-inf", "nan", "",
          "1e308", "0x10", "3.0"]
REL_TTL = ["100", "1000", "100000", "0", "-5", "abc", "", "9223372036854775807", "9223372036854775",
           "1.5"]
REL_PTTL = ["100000", "5000000", "0", "-1", "abc", "9223372036854775807"]
ABS_S = ["4102444800", "4102444801", "1", "0", "-1", "abc", "9223372036854775807"]
ABS_MS = ["4102444800000", "4102444800500", "1", "0", "abc", "9223372036854775807"]
PATTERNS = ["*", "a", "?", "[ab]", "[^a]", "n*", "*[", "\\a", "[a-c]", ""]

key = st.sampled_from(KEYS)
val = st.one_of(st.sampled_from(VALUES), st.text(alphabet="ab01-.e ", max_size=6))
num = st.sampled_from(INTS)
small_int = st.sampled_from(["-3", "-1", "0", "1", "2", "5", "50", "abc"])
db = st.sampled_from(["0", "1", "2", "16", "-1", "x"])


def opt(*parts):
    return st.tuples(*[st.just(p) if isinstance(p, str) else p for p in parts]).map(list)


set_opt = st.one_of(
    opt("NX"), opt("XX"), opt("GET"), opt("KEEPTTL"), opt("EX", st.sampled_from(REL_TTL)),
    opt("PX", st.sampled_from(REL_PTTL)), opt("EXAT", st.sampled_from(ABS_S)),
    opt("PXAT", st.sampled_from(ABS_MS)), opt("FOO"), opt("EX"), opt("nx"), opt("get"),
)
getex_opt = st.one_of(
    opt("EX", st.sampled_from(REL_TTL)), opt("PX", st.sampled_from(REL_PTTL)),
    opt("EXAT", st.sampled_from(ABS_S)), opt("PXAT", st.sampled_from(ABS_MS)), opt("PERSIST"),
    opt("FOO"), opt("EX"),
)
rel_expire_flag = st.sampled_from([[], [], ["NX"], ["XX"], ["NX", "XX"], ["FOO"], ["GT", "LT"]])
abs_expire_flag = st.sampled_from([[], ["NX"], ["XX"], ["GT"], ["LT"], ["XX", "GT"], ["LT", "NX"],
                                   ["GT", "LT"]])
lcs_opt = st.sampled_from([[], ["LEN"], ["IDX"], ["IDX", "WITHMATCHLEN"], ["IDX", "MINMATCHLEN", "2"],
                           ["LEN", "IDX"], ["IDX", "MINMATCHLEN"], ["FOO"]])


def c(*parts):
    return st.tuples(*[st.just(p) if isinstance(p, str) else p for p in parts])


def flat(xs):
    out = []
    for x in xs:
        if isinstance(x, (list, tuple)):
            out.extend(flat(x))
        else:
            out.append(x)
    return out


def cat(base, extra):
    """base command tuple + flattened optional extra arguments."""
    return st.tuples(base, extra).map(lambda t: tuple(t[0]) + tuple(flat(t[1])))


STRING_CMDS = [
    c("GET", key),
    cat(c("SET", key, val), st.lists(set_opt, max_size=3)),
    c("SETNX", key, val),
    c("SETEX", key, st.sampled_from(REL_TTL), val),
    c("PSETEX", key, st.sampled_from(REL_PTTL), val),
    c("GETSET", key, val),
    c("GETDEL", key),
    cat(c("GETEX", key), st.lists(getex_opt, max_size=2)),
    cat(c("MGET"), st.lists(key, min_size=1, max_size=4)),
    cat(c("MSET"), st.lists(st.tuples(key, val).map(list), min_size=1, max_size=3)),
    cat(c("MSETNX"), st.lists(st.tuples(key, val).map(list), min_size=1, max_size=3)),
    c("APPEND", key, val),
    c("STRLEN", key),
    c("INCR", key),
    c("DECR", key),
    c("INCRBY", key, num),
    c("DECRBY", key, num),
    c("INCRBYFLOAT", key, st.sampled_from(FLOATS)),
    c("GETRANGE", key, small_int, small_int),
    c("SUBSTR", key, small_int, small_int),
    c("SETRANGE", key, st.sampled_from(["0", "1", "3", "10", "-1", "abc"]), val),
    cat(c("LCS", key, key), lcs_opt),
]

KEYSPACE_CMDS = [
    cat(c("DEL"), st.lists(key, min_size=1, max_size=3)),
    cat(c("UNLINK"), st.lists(key, min_size=1, max_size=3)),
    cat(c("EXISTS"), st.lists(key, min_size=1, max_size=3)),
    cat(c("TOUCH"), st.lists(key, min_size=1, max_size=3)),
    c("TYPE", key),
    c("RENAME", key, key),
    c("RENAMENX", key, key),
    cat(c("COPY", key, key), st.sampled_from([[], ["REPLACE"], ["DB", "1"], ["DB", "1", "REPLACE"],
                                              ["DB", "16"], ["FOO"]])),
    c("KEYS", st.sampled_from(PATTERNS)),
    c("DBSIZE"),
    c("SELECT", db),
    c("MOVE", key, db),
    c("SWAPDB", st.sampled_from(["0", "1"]), st.sampled_from(["0", "1", "2", "x"])),
    c("FLUSHDB"),
]

EXPIRE_CMDS = [
    cat(c("EXPIRE", key, st.sampled_from(REL_TTL)), rel_expire_flag),
    cat(c("PEXPIRE", key, st.sampled_from(REL_PTTL)), rel_expire_flag),
    cat(c("EXPIREAT", key, st.sampled_from(ABS_S)), abs_expire_flag),
    cat(c("PEXPIREAT", key, st.sampled_from(ABS_MS)), abs_expire_flag),
    c("PERSIST", key),
    c("TTL", key),
    c("PTTL", key),
    c("EXPIRETIME", key),
    c("PEXPIRETIME", key),
]

TX_CMDS = [
    c("MULTI"), c("MULTI"), c("EXEC"), c("EXEC"), c("DISCARD"),
    cat(c("WATCH"), st.lists(key, min_size=1, max_size=2)),
    c("UNWATCH"),
    c("__OTHER", "SET", key, val),      # a write from a second connection (breaks WATCH)
    c("__OTHER", "GET", key),           # a read from a second connection (does not)
]

BAD_CMDS = [
    c("GET"), c("SET", key), c("GET", key, key), c("INCRBY", key), c("MSET", key),
    c("EXPIRE", key), c("NOSUCHCMD", key), c("MULTI", key), c("EXEC", key), c("WATCH"),
    c("ECHO", val), c("PING"),
]

INFO_CMDS = [c("__KEYSPACE")]

ENCODING_CMDS = [c("OBJECT", "ENCODING", key)]

TTL_LIKE = {"TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"}


def norm_int_ttl(v):
    if isinstance(v, int) and v > 0:
        return "positive"
    return v


def normalize(name, reply):
    name = name.upper()
    if name in TTL_LIKE:
        return norm_int_ttl(reply)
    if name == "KEYS" and isinstance(reply, list):
        return sorted(reply)
    return reply


class StringSide(Side):
    """A main connection plus a second one (`aux`) for __OTHER writes/reads and __KEYSPACE; both leave
    MULTI, forget WATCHes and go back to db 0 at reset.  The end state is every key of dbs 0-2 with its
    value and TTL class."""

    TWO_CONNECTIONS = True
    RESET_COMMANDS = (("DISCARD",), ("UNWATCH",), ("SELECT", "0"))

    def normalize(self, args, reply, hint):
        return normalize(args[0], reply)

    def run(self, args):
        name = args[0]
        if name == "__OTHER":
            return ("other", normalize(args[1], self.aux.cmd(*args[1:])))
        if name == "__KEYSPACE":
            ks = parse_info(self.aux.cmd("INFO", "keyspace"))
            return {db: (v["keys"], v["expires"]) for db, v in ks.items()}
        return super().run(args)

    def state(self):
        out = []
        conn = self.aux
        for dbi in ("0", "1", "2"):
            conn.cmd("SELECT", dbi)
            keys = sorted(conn.cmd("KEYS", "*"))
            vals = [conn.cmd("GET", k) for k in keys]
            ttls = [norm_int_ttl(conn.cmd("TTL", k)) for k in keys]
            out.append((f"db{dbi}", keys, vals, ttls))
            conn.cmd("SELECT", "0")
        return out


pairs = sides_fixture(StringSide, name="pairs")


def sequences(cmds, max_size=30):
    return st.lists(st.one_of(*cmds), min_size=1, max_size=max_size)


@SETTINGS
@given(seq=sequences(STRING_CMDS + BAD_CMDS))
def test_diff_string_commands(pairs, seq):
    run_sequence(pairs, seq)


@SETTINGS
@given(seq=sequences(STRING_CMDS + KEYSPACE_CMDS + EXPIRE_CMDS + INFO_CMDS))
def test_diff_keyspace_and_expiry(pairs, seq):
    run_sequence(pairs, seq)


@SETTINGS
@given(seq=sequences(STRING_CMDS[:14] + KEYSPACE_CMDS[:8] + EXPIRE_CMDS[:5] + TX_CMDS * 2 + BAD_CMDS,
                     max_size=40))
def test_diff_transactions(pairs, seq):
    run_sequence(pairs, seq)


@SETTINGS
@given(seq=sequences(STRING_CMDS + ENCODING_CMDS * 4 + [c("COPY", key, key), c("RENAME", key, key)]))
def test_diff_object_encoding(pairs, seq):
    run_sequence(pairs, seq)


# ---------------------------------------------------------------------------------------------
# Raw protocol: the same bytes, split arbitrarily, must produce the same bytes back
# ---------------------------------------------------------------------------------------------

proto_arg = st.sampled_from([b"a", b"b", b"1", b"", b"a b", b"\r\n", b"\x00", b"x" * 100, b"-5"])
proto_cmd = st.one_of(
    st.tuples(st.sampled_from([b"SET", b"GET", b"APPEND", b"INCR", b"DEL", b"EXISTS", b"STRLEN",
                               b"PING", b"ECHO", b"MGET", b"set", b"NOSUCH"]),
              st.lists(proto_arg, max_size=3)).map(lambda t: encode(t[0], *t[1])),
    st.sampled_from([b"PING\r\n", b"GET a\r\n", b"SET a \"x y\"\r\n", b"INCR n\r\n", b"\r\n",
                     b"EXISTS a b\n", b"set b 'q'\r\n", b"*0\r\n", b"*-1\r\n", b"MGET a b\r\n"]),
)
proto_bad_tail = st.sampled_from([
    b"", b"", b"*abc\r\n", b"*1\r\n$-5\r\n", b"*2\r\nfoo\r\n", b"*1\r\n$600000000\r\n",
    b"SET a \"b\r\n", b"*2147483648\r\n",
])


@SETTINGS
@given(cmds=st.lists(proto_cmd, min_size=1, max_size=12), tail=proto_bad_tail,
       cuts=st.lists(st.integers(min_value=1, max_value=40), max_size=8))
def test_diff_raw_protocol(sardine, oracle, cmds, tail, cuts):
    data = b"".join(cmds) + tail + (b"" if tail else encode("QUIT"))
    outs = []
    for server in (sardine, oracle):
        r = Raw(server.port)
        try:
            r.cmd("FLUSHALL")
            pos = 0
            for cut in cuts:
                if pos >= len(data):
                    break
                r.send(data[pos:pos + cut])
                pos += cut
            if pos < len(data):
                r.send(data[pos:])
            try:
                outs.append(r.read_until_closed(timeout=10))
            except ConnectionResetError:
                outs.append(b"<reset>")
        finally:
            r.close()
    note(f"data={data!r}")
    assert outs[0] == outs[1]
