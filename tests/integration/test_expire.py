"""Key expiry: EXPIRE family options and errors, TTL replies, lazy and active expiry, stats."""
import time

import pytest

from sardine_resp import Err, Raw, parse_info, wait_until

NOT_INT = Err("ERR value is not an integer or out of range")
NX_XX = Err("ERR NX and XX, GT or LT options at the same time are not compatible")
GT_LT = Err("ERR GT and LT options at the same time are not compatible")


def bad_expire(cmd):
    return Err(f"ERR invalid expire time in '{cmd}' command")


def wrong_args(cmd):
    return Err(f"ERR wrong number of arguments for '{cmd}' command")


def check(c, steps):
    for args, expected in steps:
        got = c.cmd(*args)
        assert got == expected and type(got) is type(expected), f"{args}: got {got!r}, want {expected!r}"


def info(c, section):
    return parse_info(c.cmd("INFO", section))


# ---------------------------------------------------------------------------------------------
# Setting and reading TTLs
# ---------------------------------------------------------------------------------------------

def test_ttl_replies_for_missing_and_persistent_keys(c):
    check(c, [
        (("TTL", "nosuch"), -2),
        (("PTTL", "nosuch"), -2),
        (("EXPIRETIME", "nosuch"), -2),
        (("PEXPIRETIME", "nosuch"), -2),
        (("SET", "k", "v"), "OK"),
        (("TTL", "k"), -1),
        (("PTTL", "k"), -1),
        (("EXPIRETIME", "k"), -1),
        (("PEXPIRETIME", "k"), -1),
        (("TTL",), wrong_args("ttl")),
        (("PTTL", "a", "b"), wrong_args("pttl")),
        (("EXPIRETIME",), wrong_args("expiretime")),
        (("PEXPIRETIME",), wrong_args("pexpiretime")),
    ])


def test_expire_pexpire_ttl_pttl(c):
    c.cmd("SET", "k", "v")
    assert c.cmd("EXPIRE", "k", "100") == 1
    assert c.cmd("TTL", "k") == 100
    assert 99000 < c.cmd("PTTL", "k") <= 100000
    assert c.cmd("PEXPIRE", "k", "5500") == 1
    assert c.cmd("TTL", "k") in (5, 6)  # rounded
    assert 5000 < c.cmd("PTTL", "k") <= 5500
    now_ms = int(time.time() * 1000)
    exptime = c.cmd("PEXPIRETIME", "k")
    assert now_ms + 4000 < exptime <= now_ms + 6000
    assert c.cmd("EXPIRETIME", "k") == (exptime + 500) // 1000
    assert c.cmd("EXPIRE", "nosuch", "100") == 0
    assert c.cmd("PEXPIRE", "nosuch", "100") == 0
    assert c.cmd("EXISTS", "nosuch") == 0


def test_expireat_pexpireat(c):
    c.cmd("SET", "k", "v")
    t = int(time.time()) + 1000
    assert c.cmd("EXPIREAT", "k", str(t)) == 1
    assert c.cmd("EXPIRETIME", "k") == t
    assert c.cmd("PEXPIRETIME", "k") == t * 1000
    assert 998 <= c.cmd("TTL", "k") <= 1000
    assert c.cmd("PEXPIREAT", "k", str(t * 1000 + 123)) == 1
    assert c.cmd("PEXPIRETIME", "k") == t * 1000 + 123
    assert c.cmd("EXPIRETIME", "k") == t
    assert c.cmd("EXPIREAT", "nosuch", str(t)) == 0
    # EXPIRETIME rounds milliseconds to the nearest second (half up)
    assert c.cmd("PEXPIREAT", "k", "99999999999499") == 1
    assert c.cmd("EXPIRETIME", "k") == 99999999999
    assert c.cmd("PEXPIREAT", "k", "99999999999500") == 1
    assert c.cmd("EXPIRETIME", "k") == 100000000000
    assert c.cmd("PEXPIRETIME", "k") == 99999999999500
    assert c.cmd("PEXPIREAT", "nosuch", str(t * 1000)) == 0


@pytest.mark.parametrize("cmd,arg", [
    ("EXPIRE", "0"), ("EXPIRE", "-1"), ("PEXPIRE", "0"), ("PEXPIRE", "-100"),
    ("EXPIREAT", "0"), ("EXPIREAT", "1"), ("PEXPIREAT", "1"), ("EXPIREAT", "-5"),
])
def test_expire_in_the_past_deletes(c, cmd, arg):
    c.cmd("SET", "k", "v")
    assert c.cmd(cmd, "k", arg) == 1
    assert c.cmd("EXISTS", "k") == 0
    assert c.cmd("GET", "k") is None
    assert c.cmd("TTL", "k") == -2
    assert c.cmd("DBSIZE") == 0


def test_expire_errors(c):
    c.cmd("SET", "k", "v")
    check(c, [
        (("EXPIRE", "k", "abc"), NOT_INT),
        (("EXPIRE", "k", "1.5"), NOT_INT),
        (("EXPIRE", "k", ""), NOT_INT),
        (("PEXPIRE", "k", "10x"), NOT_INT),
        (("EXPIREAT", "k", "abc"), NOT_INT),
        (("PEXPIREAT", "k", "abc"), NOT_INT),
        (("EXPIRE", "k", "9223372036854775808"), NOT_INT),
        (("EXPIRE", "k", "9223372036854775807"), bad_expire("expire")),
        (("EXPIRE", "k", "9223372036854775"), bad_expire("expire")),
        (("EXPIRE", "k", "-9223372036854775808"), bad_expire("expire")),
        (("PEXPIRE", "k", "9223372036854775807"), bad_expire("pexpire")),
        (("PEXPIRE", "k", "9223372036854775000"), bad_expire("pexpire")),
        (("EXPIREAT", "k", "9223372036854775807"), bad_expire("expireat")),
        (("EXPIRE", "k"), wrong_args("expire")),
        (("PEXPIREAT", "k"), wrong_args("pexpireat")),
        (("EXPIRE", "k", "100", "FOO"), Err("ERR Unsupported option FOO")),
        (("EXPIRE", "k", "100", "NX", "XX"), NX_XX),
        (("EXPIRE", "k", "100", "NX", "GT"), NX_XX),
        (("EXPIRE", "k", "100", "LT", "NX"), NX_XX),
        (("PEXPIRE", "k", "100", "GT", "LT"), GT_LT),
        (("EXPIREAT", "k", "100", "LT", "GT"), GT_LT),
        (("TTL", "k"), -1),
        (("EXISTS", "k"), 1),
    ])


def test_pexpireat_max_is_accepted(c):
    """Redis 7.0 accepts PEXPIREAT LLONG_MAX (no overflow when no unit conversion happens)."""
    c.cmd("SET", "k", "v")
    assert c.cmd("PEXPIREAT", "k", "9223372036854775807") == 1
    assert c.cmd("PEXPIRETIME", "k") == 9223372036854775807
    assert c.cmd("TTL", "k") > 9223370000000000
    assert c.cmd("EXISTS", "k") == 1


def test_expire_nx_xx_gt_lt(c):
    c.cmd("SET", "k", "v")
    check(c, [
        # no TTL yet: XX/GT fail, LT succeeds (no TTL counts as infinite)
        (("EXPIRE", "k", "100", "XX"), 0),
        (("EXPIRE", "k", "100", "GT"), 0),
        (("EXPIRE", "k", "100", "XX", "GT"), 0),
        (("TTL", "k"), -1),
        (("EXPIRE", "k", "100", "NX"), 1),
        (("TTL", "k"), 100),
        (("EXPIRE", "k", "200", "NX"), 0),
        (("EXPIRE", "k", "200", "nx"), 0),
        (("TTL", "k"), 100),
        (("EXPIRE", "k", "200", "XX"), 1),
        (("TTL", "k"), 200),
        (("EXPIRE", "k", "100", "GT"), 0),
        (("EXPIRE", "k", "300", "GT"), 1),
        (("TTL", "k"), 300),
        (("EXPIRE", "k", "400", "LT"), 0),
        (("EXPIRE", "k", "50", "LT"), 1),
        (("TTL", "k"), 50),
        (("EXPIRE", "k", "60", "XX", "GT"), 1),
        (("TTL", "k"), 60),
        (("EXPIRE", "k", "10", "lt", "xx"), 1),
        (("TTL", "k"), 10),
        (("PEXPIRE", "k", "5000", "LT"), 1),
        (("PEXPIRE", "k", "9000", "LT"), 0),
        (("EXPIRE", "k", "100", "NX", "NX"), 0),
        (("PERSIST", "k"), 1),
        (("EXPIRE", "k", "100", "LT"), 1),
        (("PERSIST", "k"), 1),
        (("EXPIRE", "k", "-5", "GT"), 0),  # GT against "infinite": nothing happens
        (("EXISTS", "k"), 1),
        (("EXPIRE", "k", "-5", "LT"), 1),  # LT with a past time deletes
        (("EXISTS", "k"), 0),
        (("EXPIRE", "k", "100", "NX"), 0),
    ])
    t = int(time.time()) + 1000
    c.cmd("SET", "k", "v")
    check(c, [
        (("EXPIREAT", "k", str(t), "NX"), 1),
        (("EXPIREAT", "k", str(t + 10), "GT"), 1),
        (("EXPIRETIME", "k"), t + 10),
        (("PEXPIREAT", "k", str(t * 1000), "LT"), 1),
        (("EXPIRETIME", "k"), t),
        (("PEXPIREAT", "k", str(t * 1000 + 5), "LT"), 0),
    ])


def test_persist(c):
    check(c, [
        (("PERSIST", "nosuch"), 0),
        (("SET", "k", "v"), "OK"),
        (("PERSIST", "k"), 0),
        (("EXPIRE", "k", "100"), 1),
        (("PERSIST", "k"), 1),
        (("TTL", "k"), -1),
        (("PERSIST", "k"), 0),
        (("PERSIST",), wrong_args("persist")),
    ])


def test_write_commands_and_ttl(c):
    check(c, [
        (("SET", "k", "v", "EX", "100"), "OK"),
        (("SET", "k", "w"), "OK"),              # overwrite clears TTL
        (("TTL", "k"), -1),
        (("SET", "k", "v", "EX", "100"), "OK"),
        (("SET", "k", "w", "KEEPTTL"), "OK"),
        (("TTL", "k"), 100),
        (("APPEND", "k", "x"), 2),              # modifications keep TTL
        (("INCR", "n"), 1),
        (("EXPIRE", "n", "100"), 1),
        (("INCRBY", "n", "5"), 6),
        (("INCRBYFLOAT", "n", "1.5"), b"7.5"),
        (("TTL", "n"), 100),
        (("SETRANGE", "k", "0", "z"), 2),
        (("TTL", "k"), 100),
        (("GETSET", "k", "q"), b"zx"),          # GETSET clears TTL
        (("TTL", "k"), -1),
        (("SET", "k", "v", "EX", "100"), "OK"),
        (("MSET", "k", "m"), "OK"),             # MSET clears TTL
        (("TTL", "k"), -1),
        (("SET", "k", "v", "EX", "100"), "OK"),
        (("SETEX", "k", "200", "x"), "OK"),
        (("TTL", "k"), 200),
        (("DEL", "k"), 1),
        (("SET", "k", "v"), "OK"),
        (("TTL", "k"), -1),                      # recreated key has no TTL
    ])


# ---------------------------------------------------------------------------------------------
# Lazy and active expiry
# ---------------------------------------------------------------------------------------------

def test_key_invisible_after_expiry(c):
    c.cmd("SET", "short", "v", "PX", "400")
    c.cmd("SET", "keep", "v")
    assert c.cmd("GET", "short") == b"v"
    time.sleep(0.6)
    assert c.cmd("GET", "short") is None
    assert c.cmd("EXISTS", "short") == 0
    assert c.cmd("TTL", "short") == -2
    assert c.cmd("PTTL", "short") == -2
    assert c.cmd("KEYS", "*") == [b"keep"]
    assert c.cmd("DBSIZE") == 1


@pytest.mark.parametrize("probe", [
    ("GET", "k"), ("EXISTS", "k"), ("TTL", "k"), ("STRLEN", "k"), ("TYPE", "k"), ("GETRANGE", "k", "0", "-1"),
    ("MGET", "k"), ("APPEND", "k", "x"), ("INCR", "k"), ("SETNX", "k", "v"),
])
def test_lazy_expiry_without_active_cycle(sardine, c, probe):
    """With active expiry off, an expired key still counts in DBSIZE until something touches it;
    every command sees it as absent."""
    assert c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
    c.cmd("SET", "k", "old", "PX", "50")
    c.cmd("SET", "other", "v")
    time.sleep(0.2)
    assert c.cmd("DBSIZE") == 2  # not yet reclaimed
    reply = c.cmd(*probe)
    absent = {
        "GET": None, "EXISTS": 0, "TTL": -2, "STRLEN": 0, "TYPE": "none", "GETRANGE": b"",
        "MGET": [None], "APPEND": 1, "INCR": 1, "SETNX": 1,
    }[probe[0]]
    assert reply == absent
    if probe[0] in ("APPEND", "INCR", "SETNX"):
        assert c.cmd("TTL", "k") == -1  # the new key does not inherit the old TTL
        assert c.cmd("DBSIZE") == 2
        assert sorted(c.cmd("KEYS", "*")) == [b"k", b"other"]
    else:
        assert c.cmd("DBSIZE") == 1  # the access reclaimed it
        assert c.cmd("KEYS", "*") == [b"other"]


def test_keys_and_scan_skip_expired_keys(c):
    assert c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
    for i in range(50):
        c.cmd("SET", f"gone:{i}", "v", "PX", "30")
        c.cmd("SET", f"live:{i}", "v")
    time.sleep(0.15)
    assert sorted(c.cmd("KEYS", "*")) == sorted(f"live:{i}".encode() for i in range(50))
    cursor, seen = b"0", []
    while True:
        cursor, keys = c.cmd("SCAN", cursor, "COUNT", "7")
        seen += keys
        if cursor == b"0":
            break
    assert sorted(set(seen)) == sorted(f"live:{i}".encode() for i in range(50))
    assert c.cmd("RANDOMKEY").startswith(b"live:")


def test_active_expiry_reclaims_without_access(c):
    n = 2000
    c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    data = b"".join(
        b"*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n$2\r\nPX\r\n$3\r\n100\r\n" % (len(k), k)
        for k in (f"tmp:{i}".encode() for i in range(n)))
    c.send(data)
    for _ in range(n):
        assert c.reply() == "OK"
    c.cmd("MSET", "keep1", "a", "keep2", "b")
    wait_until(lambda: c.cmd("DBSIZE") == 2, timeout=15, interval=0.1, msg="active expiry to reclaim keys")
    stats = info(c, "stats")
    assert int(stats["expired_keys"]) == n
    assert c.cmd("MGET", "keep1", "keep2") == [b"a", b"b"]


def test_debug_set_active_expire_off_keeps_keys_until_accessed(c):
    assert c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
    for i in range(200):
        c.cmd("SET", f"tmp:{i}", "v", "PX", "20")
    time.sleep(0.6)  # several server cron cycles
    assert c.cmd("DBSIZE") == 200
    assert int(info(c, "stats")["expired_keys"]) == 0
    assert c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", "1") == "OK"
    wait_until(lambda: c.cmd("DBSIZE") == 0, timeout=15, interval=0.1, msg="active expiry after re-enabling")
    assert int(info(c, "stats")["expired_keys"]) == 200


def test_expired_keys_stat_counts_lazy_expiry(c):
    c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    c.cmd("CONFIG", "RESETSTAT")
    for i in range(10):
        c.cmd("SET", f"k{i}", "v", "PX", "20")
    time.sleep(0.1)
    for i in range(10):
        assert c.cmd("GET", f"k{i}") is None
    assert int(info(c, "stats")["expired_keys"]) == 10
    assert c.cmd("DBSIZE") == 0


def test_info_keyspace_expires(c):
    assert "db0" not in info(c, "keyspace")
    c.cmd("MSET", "a", "1", "b", "2", "c", "3")
    c.cmd("EXPIRE", "a", "100")
    c.cmd("PEXPIRE", "b", "200000")
    ks = info(c, "keyspace")
    assert ks["db0"]["keys"] == "3"
    assert ks["db0"]["expires"] == "2"
    assert "avg_ttl" in ks["db0"] and int(ks["db0"]["avg_ttl"]) >= 0
    c.cmd("PERSIST", "a")
    assert info(c, "keyspace")["db0"]["expires"] == "1"
    c.cmd("SET", "b", "x")  # overwrite clears TTL
    assert info(c, "keyspace")["db0"]["expires"] == "0"
    c.cmd("SELECT", "2")
    c.cmd("SET", "z", "1", "EX", "100")
    ks = info(c, "keyspace")
    assert ks["db2"] == {"keys": "1", "expires": "1", "avg_ttl": ks["db2"]["avg_ttl"]}
    assert ks["db0"]["keys"] == "3"
    c.cmd("FLUSHALL")
    assert info(c, "keyspace") == {}


def test_ttl_moves_with_rename_and_copy(c):
    check(c, [
        (("SET", "a", "v", "EX", "100"), "OK"),
        (("RENAME", "a", "b"), "OK"),
        (("TTL", "b"), 100),
        (("COPY", "b", "c"), 1),
        (("TTL", "c"), 100),
        (("MOVE", "c", "1"), 1),
        (("SELECT", "1"), "OK"),
        (("TTL", "c"), 100),
    ])


def test_expired_key_can_be_recreated(c):
    c.cmd("SET", "k", "old", "PX", "30")
    time.sleep(0.1)
    assert c.cmd("SET", "k", "new", "NX") == "OK"
    assert c.cmd("GET", "k") == b"new"
    assert c.cmd("TTL", "k") == -1
    c.cmd("SET", "j", "old", "PX", "30")
    time.sleep(0.1)
    assert c.cmd("SET", "j", "new", "XX") is None
    assert c.cmd("EXISTS", "j") == 0
    c.cmd("SET", "m", "old", "PX", "30")
    time.sleep(0.1)
    assert c.cmd("RENAME", "m", "n") == Err("ERR no such key")


def test_expiry_across_databases(sardine, c):
    c.cmd("SELECT", "3")
    c.cmd("SET", "k", "v", "PX", "100")
    c.cmd("SELECT", "0")
    c.cmd("SET", "k", "v")
    c.cmd("SELECT", "3")
    wait_until(lambda: c.cmd("DBSIZE") == 0, timeout=15, interval=0.05, msg="db3 key to expire")
    c.cmd("SELECT", "0")
    assert c.cmd("GET", "k") == b"v"
