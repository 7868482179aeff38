"""Interaction of the string/keyspace commands with NON-string keys.

These need LPUSH / SADD / HSET / ZADD, which Sardine implements later than the server core:
enable this file once those types exist.
"""
import pytest

from sardine_resp import Err

WRONGTYPE = Err("WRONGTYPE Operation against a key holding the wrong kind of value")


@pytest.fixture
def typed(c):
    assert c.cmd("LPUSH", "list", "a", "b") == 2
    assert c.cmd("SADD", "set", "x", "y", "z") == 3
    assert c.cmd("HSET", "hash", "f", "v") == 1
    assert c.cmd("ZADD", "zset", "1", "m") == 1
    assert c.cmd("SET", "str", "v") == "OK"
    return c


STRING_COMMANDS = [
    ("GET", "{k}"),
    ("GETDEL", "{k}"),
    ("GETEX", "{k}"),
    ("GETEX", "{k}", "EX", "10"),
    ("GETSET", "{k}", "v"),
    ("SET", "{k}", "v", "GET"),
    ("APPEND", "{k}", "v"),
    ("STRLEN", "{k}"),
    ("INCR", "{k}"),
    ("DECR", "{k}"),
    ("INCRBY", "{k}", "2"),
    ("DECRBY", "{k}", "2"),
    ("INCRBYFLOAT", "{k}", "1.5"),
    ("GETRANGE", "{k}", "0", "1"),
    ("SUBSTR", "{k}", "0", "1"),
    ("SETRANGE", "{k}", "0", "x"),
]


@pytest.mark.parametrize("cmd", STRING_COMMANDS, ids=lambda a: " ".join(a))
def test_string_commands_on_other_types(typed, cmd):
    c = typed
    for key in ("list", "set", "hash", "zset"):
        args = [a.replace("{k}", key) for a in cmd]
        assert c.cmd(*args) == WRONGTYPE, args
        assert c.cmd("TYPE", key) == key  # unchanged


def test_types_and_existence(typed):
    c = typed
    assert [c.cmd("TYPE", k) for k in ("list", "set", "hash", "zset", "str", "nosuch")] == [
        "list", "set", "hash", "zset", "string", "none"]
    assert c.cmd("EXISTS", "list", "set", "hash", "zset", "str") == 5
    assert c.cmd("DBSIZE") == 5


def test_mget_returns_nil_for_non_strings(typed):
    assert typed.cmd("MGET", "str", "list", "set", "nosuch") == [b"v", None, None, None]


def test_set_overwrites_any_type(typed):
    c = typed
    for key in ("list", "set", "hash", "zset"):
        assert c.cmd("SET", key, "now-a-string") == "OK"
        assert c.cmd("TYPE", key) == "string"
        assert c.cmd("GET", key) == b"now-a-string"
    assert c.cmd("SETNX", "str", "x") == 0
    assert c.cmd("LPUSH", "l2", "a") == 1
    assert c.cmd("SETEX", "l2", "100", "v") == "OK"
    assert c.cmd("TYPE", "l2") == "string"
    assert c.cmd("TTL", "l2") == 100
    assert c.cmd("SADD", "s2", "a") == 1
    assert c.cmd("MSET", "s2", "v") == "OK"
    assert c.cmd("TYPE", "s2") == "string"


def test_msetnx_and_setnx_respect_other_types(typed):
    c = typed
    assert c.cmd("SETNX", "list", "v") == 0
    assert c.cmd("MSETNX", "new", "1", "set", "2") == 0
    assert c.cmd("EXISTS", "new") == 0
    assert c.cmd("TYPE", "set") == "set"
    assert c.cmd("SET", "list", "v", "NX") is None
    assert c.cmd("SET", "zset", "v", "XX") == "OK"
    assert c.cmd("TYPE", "zset") == "string"


def test_lcs_on_non_string(typed):
    assert typed.cmd("LCS", "str", "list") == Err("ERR The specified keys must contain string values")


def test_keyspace_commands_work_on_any_type(typed):
    c = typed
    assert c.cmd("RENAME", "list", "list2") == "OK"
    assert c.cmd("TYPE", "list2") == "list"
    assert c.cmd("LRANGE", "list2", "0", "-1") == [b"b", b"a"]
    assert c.cmd("COPY", "set", "set2") == 1
    assert sorted(c.cmd("SMEMBERS", "set2")) == [b"x", b"y", b"z"]
    assert c.cmd("SADD", "set2", "w") == 1
    assert c.cmd("SCARD", "set") == 3  # deep copy
    assert c.cmd("EXPIRE", "hash", "100") == 1
    assert c.cmd("TTL", "hash") == 100
    assert c.cmd("MOVE", "zset", "1") == 1
    assert c.cmd("RENAME", "str", "set2") == "OK"  # RENAME overwrites whatever type
    assert c.cmd("TYPE", "set2") == "string"
    assert c.cmd("DEL", "list2", "set", "hash") == 3
    assert c.cmd("SELECT", "1") == "OK"
    assert c.cmd("TYPE", "zset") == "zset"


def test_scan_type_filter(typed):
    c = typed
    def scan(t):
        cursor, out = b"0", []
        while True:
            cursor, keys = c.cmd("SCAN", cursor, "TYPE", t, "COUNT", "100")
            out += keys
            if cursor == b"0":
                return sorted(out)
    assert scan("list") == [b"list"]
    assert scan("set") == [b"set"]
    assert scan("hash") == [b"hash"]
    assert scan("zset") == [b"zset"]
    assert scan("string") == [b"str"]
    assert scan("LIST") == [b"list"]  # type names are case-insensitive
    assert scan("stream") == []


def test_wrongtype_inside_multi_is_a_runtime_error(typed):
    c = typed
    assert c.cmd("MULTI") == "OK"
    assert c.cmd("INCR", "list") == "QUEUED"
    assert c.cmd("SET", "x", "1") == "QUEUED"
    assert c.cmd("EXEC") == [WRONGTYPE, "OK"]
    assert c.cmd("GET", "x") == b"1"


def test_wrongtype_counts_in_errorstats(typed):
    c = typed
    c.cmd("CONFIG", "RESETSTAT")
    c.cmd("GET", "list")
    c.cmd("INCR", "set")
    info = c.cmd("INFO", "errorstats").decode()
    assert "errorstat_WRONGTYPE:count=2" in info
