"""Differential tests for COMMAND: INFO, DOCS, COUNT, LIST (FILTERBY MODULE/ACLCAT/PATTERN), GETKEYS and
GETKEYSANDFLAGS, run on sardine and on the Debian redis-server 7.0 oracle over sardine's whole command list
(commands and subcommands), in RESP2 and RESP3.  Replies must be identical, errors by full message.

GETKEYS/GETKEYSANDFLAGS run on argument lists built from each command's own COMMAND DOCS argument tree
(required arguments only, everything, and each alternative of every oneof), plus hand-written edge cases for
the commands whose keys move (numkeys, STORE, STREAMS, GET/BY/LIMIT ...).

Where sardine deliberately differs, and only there, replies are normalized:
  * a container's subcommands (COMMAND INFO element 10, COMMAND DOCS "subcommands") list only the
    subcommands sardine implements, and Redis lists them in its hash table's order (random per process):
    compared as sets, the oracle's restricted to sardine's;
  * CLIENT NO-TOUCH is Redis 7.2's, absent from 7.0: sardine describes it as 7.2 does, the oracle does not
    know it (checked against the data in src/commands/commands_extra.json instead);
  * whole-list replies (COMMAND, COMMAND INFO/DOCS without names, COMMAND LIST) are in each server's own
    table order (Redis's is random): compared as sets, the oracle's restricted to what sardine implements.
"""
import itertools
import json
import os

import pytest

from sardine_resp import Err, Map, Raw

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# validation mode: SARDINE_SERVER=redis-server runs the suite against the oracle itself
IS_REAL_REDIS = os.path.basename(os.environ.get("SARDINE_SERVER", "")).startswith("redis-server")
NOT_IN_70 = set() if IS_REAL_REDIS else {"client|no-touch"}


@pytest.fixture
def pair(sardine, oracle):
    conns = []

    def make(resp=2):
        s, o = Raw(sardine.port), Raw(oracle.port)
        conns.extend([s, o])
        if resp == 3:
            assert isinstance(s.cmd("HELLO", "3"), Map)
            assert isinstance(o.cmd("HELLO", "3"), Map)
        return s, o

    yield make
    for c in conns:
        c.close()


def names_of(conn):
    return [n.decode() for n in conn.cmd("COMMAND", "LIST")]


def norm_info(info, keep=None):
    """COMMAND INFO entry with its subcommands sorted by name (and restricted to `keep`)."""
    if info is None:
        return None
    subs = [norm_info(s, keep) for s in info[9] if keep is None or s[0].decode() in keep]
    return list(info[:9]) + [sorted(subs, key=lambda s: s[0])]


def norm_docs(docs, keep=None):
    """COMMAND DOCS reply (a map, or a flat array in RESP2) with nested subcommands sorted and restricted."""
    pairs = list(docs) if isinstance(docs, Map) else list(zip(docs[::2], docs[1::2]))
    out = []
    for name, d in pairs:
        if keep is not None and name.decode() not in keep:
            continue
        fields = list(d) if isinstance(d, Map) else list(zip(d[::2], d[1::2]))
        fields = [(k, norm_docs(v, keep) if k == b"subcommands" else v) for k, v in fields]
        out.append((name, fields))
    return sorted(out, key=lambda p: p[0])


@pytest.mark.parametrize("resp", [2, 3])
def test_command_info_every_command(pair, resp):
    s, o = pair(resp)
    names = names_of(s)
    keep = set(names)
    assert len(names) > (350 if IS_REAL_REDIS else 250)
    for name in names:
        mine = s.cmd("COMMAND", "INFO", name)
        if name in NOT_IN_70:
            assert o.cmd("COMMAND", "INFO", name) == [None]
            assert mine[0][0] == name.encode()
            continue
        theirs = o.cmd("COMMAND", "INFO", name)
        assert [norm_info(mine[0], keep - NOT_IN_70)] == [norm_info(theirs[0], keep)], name
        # any case, and the same null for an unknown name
        assert s.cmd("COMMAND", "INFO", name.upper())[0][0] == name.encode()
    for args in (["nosuch"], ["get", "nosuch", "SET"], ["config|get"], ["CONFIG|GET"], ["get|x"], ["config|"],
                 ["config|nosuch"], ["|"], [""]):
        assert s.cmd("COMMAND", "INFO", *args) == o.cmd("COMMAND", "INFO", *args), args


@pytest.mark.parametrize("resp", [2, 3])
def test_command_docs_every_command(pair, resp):
    s, o = pair(resp)
    names = names_of(s)
    keep = set(names)
    for name in names:
        mine = s.cmd("COMMAND", "DOCS", name)
        if name in NOT_IN_70:
            assert o.cmd("COMMAND", "DOCS", name) in ([], Map())
            continue
        assert norm_docs(mine, keep - NOT_IN_70) == norm_docs(o.cmd("COMMAND", "DOCS", name), keep), name
        # the reply shape itself, not only the content: a map in RESP3, a flat array in RESP2
        assert isinstance(mine, Map) == (resp == 3)
    for args in (["nosuch"], ["get", "nosuch", "SET"], ["CONFIG|GET", "config|nosuch"]):
        assert s.cmd("COMMAND", "DOCS", *args) == o.cmd("COMMAND", "DOCS", *args), args


@pytest.mark.parametrize("resp", [2, 3])
def test_whole_lists(pair, resp):
    """COMMAND, COMMAND INFO, COMMAND DOCS and COMMAND COUNT without names: sardine's commands exactly."""
    s, o = pair(resp)
    names = names_of(s)
    keep = set(names)
    top = {n for n in names if "|" not in n}
    assert s.cmd("COMMAND", "COUNT") == len(top)
    for args in (["COMMAND"], ["COMMAND", "INFO"]):
        mine = {e[0].decode(): norm_info(e, keep - NOT_IN_70) for e in s.cmd(*args)}
        theirs = {e[0].decode(): norm_info(e, keep) for e in o.cmd(*args) if e[0].decode() in keep}
        assert set(mine) == top
        assert mine == theirs
    mine = norm_docs(s.cmd("COMMAND", "DOCS"), keep - NOT_IN_70)
    theirs = norm_docs(o.cmd("COMMAND", "DOCS"), keep)
    assert [n for n, _ in mine] == sorted(n.encode() for n in top)
    assert mine == theirs


def test_command_list_filters(pair):
    s, o = pair()
    names = names_of(s)
    keep = set(names)
    assert len(names) == len(keep)
    assert keep - set(names_of(o)) == NOT_IN_70
    cats = [c[1:] for c in ("@keyspace @read @write @set @sortedset @list @hash @string @bitmap @hyperloglog @geo "
                            "@stream @pubsub @admin @fast @slow @blocking @dangerous @connection @transaction "
                            "@scripting").split()]
    for filt in [("ACLCAT", c) for c in cats + ["READ", "nosuch", ""]] + \
            [("PATTERN", p) for p in ("*", "x*", "*|*", "CONFIG*", "?et", "[gs]et", "nosuch", "", "client|*")] + \
            [("MODULE", "x"), ("module", "")]:
        mine = sorted(s.cmd("COMMAND", "LIST", "FILTERBY", *filt))
        theirs = sorted(n for n in o.cmd("COMMAND", "LIST", "FILTERBY", *filt) if n.decode() in keep)
        extra = {n.decode() for n in mine} & NOT_IN_70
        assert [n for n in mine if n.decode() not in extra] == theirs, filt
    for bad in (["x"], ["FILTERBY"], ["FILTERBY", "ACLCAT"], ["FILTERBY", "foo", "x"],
                ["FILTERBY", "PATTERN", "x", "y"]):
        assert s.cmd("COMMAND", "LIST", *bad) == o.cmd("COMMAND", "LIST", *bad), bad


def test_command_help_and_errors(pair):
    s, o = pair()
    for args in (["HELP"], ["help"], ["FOO"], ["COUNT", "x"], ["HELP", "x"], ["GETKEYS"], ["GETKEYSANDFLAGS"],
                 ["GETKEYS", "get"], ["GETKEYS", "nosuch", "a"], ["GETKEYS", "ping", "x"], ["GETKEYS", "config"],
                 ["GETKEYS", "config", "get", "x"], ["GETKEYS", "config", "nosuch", "x"], ["GETKEYS", "xinfo"],
                 ["GETKEYS", "xinfo", "stream"], ["GETKEYS", "xinfo", "nosuch", "k"], ["GETKEYS", "get", "a", "b"],
                 ["GETKEYS", "set", "a"], ["GETKEYS", "object", "encoding"], ["GETKEYSANDFLAGS", "ping", "x"],
                 ["GETKEYS", "GET", "a"]):
        assert s.cmd("COMMAND", *args) == o.cmd("COMMAND", *args), args


# ---- GETKEYS on argument lists built from the docs -----------------------------------------------------------

def as_dict(m):
    return m.dict() if isinstance(m, Map) else dict(zip(m[::2], m[1::2]))


VALUES = {"string": "v", "integer": "1", "double": "1.5", "pattern": "*", "unix-time": "100"}


def expand(args, full, choice, keys):
    """One command line for an argument tree: `full` includes optional arguments and repeats multiple ones
    twice; `choice` picks the alternative of each oneof."""
    out = []
    reps = 2 if full else 1
    for a in args:
        a = as_dict(a)
        flags = a.get(b"flags", [])
        if "optional" in flags and not full:
            continue
        n = reps if "multiple" in flags else 1
        for i in range(n):
            if a.get(b"token") and (i == 0 or "multiple_token" in flags):
                out.append(a[b"token"].decode())
            t = a[b"type"].decode()
            if t == "key":
                keys[0] += 1
                out.append("k%d" % keys[0])
            elif t == "pure-token":
                pass
            elif t == "oneof":
                alts = a[b"arguments"]
                out += expand([alts[choice % len(alts)]], full, choice, keys)
            elif t == "block":
                out += expand(a[b"arguments"], full, choice, keys)
            elif a[b"name"] == b"numkeys":
                out.append(str(reps))
            else:
                out.append(VALUES[t])
    return out


def command_lines(conn, name):
    docs = as_dict(conn.cmd("COMMAND", "DOCS", name)[1])
    words = name.split("|")
    lines = []
    for full, choice in itertools.product((False, True), range(4)):
        line = words + expand(docs.get(b"arguments", []), full, choice, [0])
        if line not in lines:
            lines.append(line)
    return lines


EDGE_CASES = [
    # numkeys: bad, zero, too many, negative, not canonical (the specs fail, Redis's atoi-based fallback answers)
    *[[cmd, *args] for cmd in ("zunion", "zinter", "zdiff", "zintercard", "sintercard")
      for args in (["0", "a"], ["2", "a"], ["2", "a", "b"], ["-1", "a"], ["x", "a"], ["01", "a"], ["1x", "a"],
                   [" 1", "a"], ["+1", "a"], ["1", "a", "b", "c"], ["3", "a", "b", "c", "WEIGHTS"])],
    *[[cmd, "d", *args] for cmd in ("zunionstore", "zinterstore", "zdiffstore")
      for args in (["0", "a"], ["1", "a"], ["2", "a", "b"], ["3", "a", "b"], ["2x", "a", "b"], ["1", "d", "x"])],
    ["zunionstore", "d", "2147483647", "a"], ["zunionstore", "d", "2147483648", "a"], ["zunion", "4294967297", "a"],
    ["zunion", "9223372036854775807", "a"], ["zunion", "-9223372036854775808", "a"],
    ["zunion", "4294967297x", "a"], ["zunion", "99999999999999999999x", "a"], ["zunion", "-4294967295x", "a"],
    ["zunion", "-99999999999999999999x", "a"], ["zunion", "\t 1x", "a"], ["zunion", "1 ", "a"],
    ["lmpop", "2", "a", "b", "LEFT"], ["lmpop", "0", "a", "LEFT"], ["lmpop", "3", "a", "b", "LEFT"],
    ["lmpop", "x", "a", "LEFT"], ["zmpop", "1", "a", "MIN"], ["zmpop", "2a", "a", "b", "MAX"],
    ["blmpop", "0", "2", "a", "b", "LEFT"], ["blmpop", "0", "0", "a", "LEFT"], ["blmpop", "0", "3", "a", "RIGHT"],
    ["bzmpop", "1", "2", "a", "b", "MIN"], ["bzmpop", "1", "x", "a", "b", "MIN"],
    # keyword searches
    ["xread", "STREAMS", "a", "0"], ["xread", "STREAMS", "a", "b", "0", "0"], ["xread", "COUNT", "1", "STREAMS", "a"],
    ["xread", "STREAMS", "a", "b", "0"], ["xread", "BLOCK", "0", "STREAMS", "streams", "0"], ["xread", "a", "b", "c"],
    ["xread", "COUNT", "STREAMS", "STREAMS", "a", "0"], ["xread", "a", "b", "STREAMS"],
    ["xreadgroup", "GROUP", "g", "c", "STREAMS", "a", "0"], ["xreadgroup", "GROUP", "g", "c", "STREAMS", "a"],
    ["xreadgroup", "GROUP", "streams", "streams", "STREAMS", "a", "b", ">", ">"],
    ["xreadgroup", "GROUP", "g", "c", "NOACK", "COUNT", "1", "streams", "a", "0"],
    ["xreadgroup", "GROUP", "g", "c", "x", "y", "z"],
    ["georadius", "k", "0", "0", "1", "m", "STORE", "d"], ["georadius", "k", "0", "0", "1", "m", "STOREDIST", "d"],
    ["georadius", "k", "0", "0", "1", "m", "STORE", "d", "STOREDIST", "e"],
    ["georadius", "k", "0", "0", "1", "m", "STORE"], ["georadius", "k", "0", "0", "1", "store", "x"],
    ["georadiusbymember", "k", "m", "1", "m", "STORE", "d"], ["georadiusbymember", "k", "m", "1", "m", "storedist", "d"],
    ["georadius_ro", "k", "0", "0", "1", "m", "STORE", "d"], ["georadius", "k", "0", "0", "STORE", "m", "x"],
    ["georadius", "k", "0", "0", "1", "STORE", "STORE", "d"], ["georadius", "k", "0", "0", "1", "m", "store", "d", "x"],
    # getkeys functions: SORT's STORE, SET's and BITFIELD's variable flags
    ["sort", "a"], ["sort", "a", "STORE", "d"], ["sort", "a", "store", "d", "STORE", "e"],
    ["sort", "a", "GET", "store", "STORE", "d"], ["sort", "a", "BY", "store"], ["sort", "a", "LIMIT", "0", "store"],
    ["sort", "a", "LIMIT", "store", "x", "STORE", "d"], ["sort", "a", "STORE"], ["sort", "a", "GET"],
    ["sort", "a", "LIMIT", "0", "STORE", "x"], ["sort", "a", "LIMIT", "0", "1", "STORE", "x"],
    ["sort", "a", "GET", "STORE", "x"], ["sort", "a", "BY", "STORE", "x", "STORE", "y"], ["sort", "a", "x", "STORE", "y"],
    ["sort", "a", "STORE\x00x", "d"], ["sort", "a", "LIMIT\x00", "STORE", "d", "e"], ["set", "a", "b", "GET\x00x"],
    ["xread", "STREAMS\x00", "a", "0"], ["bitfield", "a", "get\x00", "u8", "0"],
    ["sort_ro", "a", "STORE", "d"], ["sort_ro", "a", "BY", "x"],
    ["set", "a", "b"], ["set", "a", "b", "GET"], ["set", "a", "get"], ["set", "a", "b", "EX", "10", "get"],
    ["set", "a", "b", "XX", "gets"], ["set", "a", "b", "NX"], ["set", "a", "get"], ["set", "get", "b"],
    ["set", "a", "b", "PX", "get"],
    ["bitfield", "a"], ["bitfield", "a", "GET", "u8", "0"], ["bitfield", "a", "GET", "u8"],
    ["bitfield", "a", "SET", "u8", "0", "1"], ["bitfield", "a", "OVERFLOW", "SAT", "GET", "u8", "0"],
    ["bitfield", "a", "INCRBY", "u8", "0", "1"], ["bitfield", "a", "overflow"], ["bitfield", "a", "foo"],
    ["bitfield", "a", "GET", "u8", "0", "SET", "u8"], ["bitfield", "a", "GET", "u8", "0", "INCRBY", "u8", "0"],
    ["bitfield", "a", "OVERFLOW", "WRAP"], ["bitfield", "a", "GET", "set", "1", "GET", "u8", "0"],
    ["bitfield_ro", "a", "GET", "u8", "0"],
    # plain ranges
    ["mset", "a", "1", "b", "2"], ["mset", "a", "1", "b"], ["msetnx", "a", "1"], ["mget", "a", "b", "c"],
    ["del", "a", "b"], ["bitop", "AND", "d", "a", "b"], ["pfmerge", "d"], ["pfcount", "a", "b"],
    ["blpop", "a", "b", "0"], ["bzpopmin", "a", "1"], ["rename", "a", "b"], ["lcs", "a", "b", "LEN"],
    ["copy", "a", "b", "DB", "1"], ["smove", "a", "b", "m"], ["sinterstore", "d", "a", "b"],
    ["memory", "usage", "k"], ["object", "encoding", "k"], ["xgroup", "create", "k", "g", "$"],
    ["xinfo", "stream", "k", "FULL"], ["touch", "a", "b"], ["exists", "a", "a"],
]


def keys_of(conn, line):
    return conn.cmd("COMMAND", "GETKEYS", *line), conn.cmd("COMMAND", "GETKEYSANDFLAGS", *line)


def test_getkeys_every_command_with_keys(pair):
    s, o = pair()
    checked = found = 0
    for name in names_of(s):
        info = s.cmd("COMMAND", "INFO", name)[0]
        if not info[8] or name in NOT_IN_70:  # no key specs: "The command has no key arguments", tested above
            continue
        for line in command_lines(s, name):
            mine = keys_of(s, line)
            assert mine == keys_of(o, line), line
            checked += 1
            found += isinstance(mine[0], list) and len(mine[0]) > 0
    assert checked > 350 and found > 300


def test_getkeys_edge_cases(pair):
    s, o = pair()
    for line in EDGE_CASES:
        assert keys_of(s, line) == keys_of(o, line), line


def test_getkeysandflags_resp3(pair):
    s, o = pair(3)
    for line in EDGE_CASES[::3]:
        assert keys_of(s, line) == keys_of(o, line), line


@pytest.mark.skipif(IS_REAL_REDIS, reason="sardine's own command")
def test_no_touch_matches_the_extra_data(pair):
    """CLIENT NO-TOUCH (Redis 7.2) is described by src/commands/commands_extra.json."""
    s, _ = pair()
    with open(os.path.join(ROOT, "src", "commands", "commands_extra.json")) as f:
        extra = {c["name"]: c for c in json.load(f)["commands"]}["client|no-touch"]
    info = s.cmd("COMMAND", "INFO", "client|no-touch")[0]
    assert info[:8] == [b"client|no-touch", extra["arity"], extra["flags"], 0, 0, 0, extra["acl_categories"], []]
    docs = s.cmd("COMMAND", "DOCS", "client|no-touch")[1]
    assert docs[:8] == [b"summary", extra["docs"]["summary"].encode(), b"since", b"7.2.0", b"group",
                        b"connection", b"complexity", b"O(1)"]
    assert s.cmd("COMMAND", "GETKEYS", "client", "no-touch", "on") == Err("ERR The command has no key arguments")
