"""COMMAND without the oracle: the generated metadata is fresh, RESP2/RESP3 shapes, GETKEYS/GETKEYSANDFLAGS
of the commands whose keys move, and the errors.  The differential suite (tests/diff/test_diff_command.py)
compares everything with redis-server 7.0; these pin the answers that matter most to readers of this file."""
import os
import shutil
import subprocess
import sys

from conftest import ROOT
from sardine_resp import Err, Map, Raw, RSet

GEN = os.path.join(ROOT, "scripts", "gen_commands.py")


def test_generated_command_defs_are_fresh():
    """src/commands/command_defs.c is what scripts/gen_commands.py makes of the data files."""
    r = subprocess.run([sys.executable, GEN, "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_stale_check_detects_an_edit(tmp_path):
    """The freshness check fails when the data changes and the C file does not."""
    os.makedirs(tmp_path / "scripts")
    os.makedirs(tmp_path / "src" / "commands")
    shutil.copy(GEN, tmp_path / "scripts")
    for f in ("commands.json", "commands_extra.json", "command_defs.c"):
        shutil.copy(os.path.join(ROOT, "src", "commands", f), tmp_path / "src" / "commands")
    gen = str(tmp_path / "scripts" / "gen_commands.py")
    assert subprocess.run([sys.executable, gen, "--check"], capture_output=True).returncode == 0
    data = tmp_path / "src" / "commands" / "commands.json"
    data.write_text(data.read_text().replace('"Get the value of a key"', '"Get the value of a key!"'))
    r = subprocess.run([sys.executable, gen, "--check"], capture_output=True, text=True)
    assert r.returncode == 1 and "stale" in r.stdout


def test_info_shapes_resp2_and_resp3(sardine):
    with Raw(sardine.port) as c2, Raw(sardine.port) as c3:
        c3.cmd("HELLO", "3")
        spec2 = [b"flags", ["RW", "access", "delete"],
                 b"begin_search", [b"type", b"index", b"spec", [b"index", 1]],
                 b"find_keys", [b"type", b"keynum", b"spec", [b"keynumidx", 0, b"firstkey", 1, b"keystep", 1]]]
        assert c2.cmd("COMMAND", "INFO", "lmpop") == [[
            b"lmpop", -4, ["write", "movablekeys"], 0, 0, 0, ["@write", "@list", "@slow"], [], [spec2], []]]
        info3 = c3.cmd("COMMAND", "INFO", "lmpop")[0]
        assert isinstance(info3[2], RSet) and isinstance(info3[8], RSet) and isinstance(info3[8][0], Map)
        assert info3[8][0].dict()[b"begin_search"].dict()[b"spec"].dict() == {b"index": 1}
        # SORT's specs are 'unknown' and carry notes
        sort = c2.cmd("COMMAND", "INFO", "sort")[0]
        assert [s[0] for s in sort[8]] == [b"flags", b"notes", b"notes"]
        assert sort[8][1][4:] == [b"begin_search", [b"type", b"unknown", b"spec", []],
                                  b"find_keys", [b"type", b"unknown", b"spec", []]]
        assert c2.cmd("COMMAND", "INFO", "nosuch", "config|get")[0] is None
        assert c3.cmd("COMMAND", "DOCS", "nosuch") == Map()


def test_getkeys_moving_keys(c):
    assert c.cmd("COMMAND", "GETKEYS", "zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "2") == [b"d", b"a", b"b"]
    # an unusable numkeys: the specs fail and Redis's fallback puts the destination last
    assert c.cmd("COMMAND", "GETKEYS", "zunionstore", "d", "2x", "a", "b") == [b"a", b"b", b"d"]
    assert c.cmd("COMMAND", "GETKEYS", "zunion", "0", "a") == Err("ERR Invalid arguments specified for command")
    assert c.cmd("COMMAND", "GETKEYS", "xread", "COUNT", "2", "STREAMS", "a", "b", "0", "0") == [b"a", b"b"]
    assert c.cmd("COMMAND", "GETKEYS", "blmpop", "0", "2", "a", "b", "LEFT") == [b"a", b"b"]
    assert c.cmd("COMMAND", "GETKEYS", "sort", "a", "GET", "store", "STORE", "d") == [b"a", b"d"]
    assert c.cmd("COMMAND", "GETKEYS", "georadius", "k", "0", "0", "1", "m", "STORE", "d", "STOREDIST", "e") == \
        [b"k", b"d", b"e"]
    assert c.cmd("COMMAND", "GETKEYSANDFLAGS", "set", "a", "b") == [[b"a", ["OW", "update"]]]
    assert c.cmd("COMMAND", "GETKEYSANDFLAGS", "set", "a", "b", "GET") == [[b"a", ["RW", "access", "update"]]]
    assert c.cmd("COMMAND", "GETKEYSANDFLAGS", "bitfield", "a", "GET", "u8", "0") == [[b"a", ["RO", "access"]]]
    assert c.cmd("COMMAND", "GETKEYSANDFLAGS", "lmove", "a", "b", "LEFT", "RIGHT") == \
        [[b"a", ["RW", "access", "delete"]], [b"b", ["RW", "insert"]]]


def test_getkeys_many_keys(c):
    keys = [f"k{i}" for i in range(100)]
    assert c.cmd("COMMAND", "GETKEYS", "del", *keys) == [k.encode() for k in keys]
    flagged = c.cmd("COMMAND", "GETKEYSANDFLAGS", "zunion", "50", *keys[:50])
    assert flagged == [[k.encode(), ["RO", "access"]] for k in keys[:50]]


def test_getkeys_errors(c):
    assert c.cmd("COMMAND", "GETKEYS", "nosuch", "a") == Err("ERR Invalid command specified")
    assert c.cmd("COMMAND", "GETKEYS", "ping", "a") == Err("ERR The command has no key arguments")
    assert c.cmd("COMMAND", "GETKEYS", "config", "get", "x") == Err("ERR The command has no key arguments")
    assert c.cmd("COMMAND", "GETKEYS", "xinfo", "stream") == \
        Err("ERR Invalid number of arguments specified for command")
    assert c.cmd("COMMAND", "GETKEYS", "get", "a", "b") == Err("ERR Invalid number of arguments specified for command")
    assert c.cmd("COMMAND", "GETKEYS", "get") == Err("ERR wrong number of arguments for 'command|getkeys' command")


def test_list_filters(c):
    names = c.cmd("COMMAND", "LIST")
    assert b"config|get" in names and b"get" in names and len(names) == len(set(names))
    assert sorted(c.cmd("COMMAND", "LIST", "FILTERBY", "PATTERN", "xinfo*")) == \
        [b"xinfo", b"xinfo|consumers", b"xinfo|groups", b"xinfo|help", b"xinfo|stream"]
    hll = c.cmd("COMMAND", "LIST", "FILTERBY", "ACLCAT", "hyperloglog")
    assert sorted(hll) == [b"pfadd", b"pfcount", b"pfdebug", b"pfmerge", b"pfselftest"]
    assert c.cmd("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch") == []
    assert c.cmd("COMMAND", "LIST", "FILTERBY", "MODULE", "x") == []
    assert c.cmd("COMMAND", "LIST", "FILTERBY", "foo", "x") == Err("ERR syntax error")
