"""DEBUG PROTOCOL and the DEBUG subcommands client test suites use, byte for byte against the oracle.

Each reply is read raw up to a following PING's +PONG, so the exact bytes (types, lengths, the
attribute or push frame before the real reply) are compared, over RESP2 and RESP3."""
import socket
import time

import pytest

from sardine_resp import Err, Raw, encode

TYPES = ["string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "push",
         "verbatim", "true", "false", "nosuchtype"]


def exchange(conn, *args):
    """The raw bytes of the replies to args, delimited by a PING's +PONG."""
    conn.send(encode(*args) + encode("PING"))
    deadline = time.time() + 10
    while not conn.buf.endswith(b"+PONG\r\n"):
        conn._fill(deadline)
    data, conn.buf = conn.buf[:-7], b""
    return data


def session(server, proto):
    conn = Raw(server.port)
    if proto == 3:
        conn.cmd("HELLO", "3")
    return conn


@pytest.mark.parametrize("proto", [2, 3])
def test_debug_protocol_matches_redis(sardine, oracle, proto):
    s, o = session(sardine, proto), session(oracle, proto)
    try:
        for t in TYPES:
            got, want = exchange(s, "DEBUG", "PROTOCOL", t), exchange(o, "DEBUG", "PROTOCOL", t)
            assert got == want, (t, proto)
    finally:
        s.close()
        o.close()


def test_debug_protocol_shapes(c):
    """What a RESP2 client sees (independent of the oracle: a test that must fail if both drift)."""
    assert exchange(c, "DEBUG", "PROTOCOL", "double") == b"$5\r\n3.141\r\n"
    assert exchange(c, "DEBUG", "PROTOCOL", "map") == b"*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n"
    assert exchange(c, "DEBUG", "PROTOCOL", "null") == b"$-1\r\n"
    assert exchange(c, "DEBUG", "PROTOCOL", "push") == b"-ERR RESP2 is not supported by this command\r\n"


MISC = [
    ("DEBUG", "ERROR", "MYCODE some text\nwith a newline"),
    ("DEBUG", "ERROR", "plain"),
    ("DEBUG", "LOG", "hello from the test"),
    ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100"),
    ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1kb"),
    ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"),
    ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "5gb"),
    ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "abc"),
    ("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "-1"),
    ("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "never"),
    ("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "reset"),
    ("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "100"),
    ("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "x"),
    ("DEBUG", "REPLYBUFFER", "RESIZING", "0"),
    ("DEBUG", "REPLYBUFFER", "RESIZING", "1"),
    ("DEBUG", "REPLYBUFFER", "BOGUS", "1"),
    ("DEBUG", "CHANGE-REPL-ID"),
    ("DEBUG", "PAUSE-CRON", "0"),
    ("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0"),
    ("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "0"),
    ("DEBUG", "PROTOCOL"),
    ("DEBUG", "PROTOCOL", "a", "b"),
]


def test_debug_misc_matches_redis(sardine, oracle):
    s, o = session(sardine, 2), session(oracle, 2)
    try:
        for args in MISC:
            assert exchange(s, *args) == exchange(o, *args), args
    finally:
        s.close()
        o.close()


def test_stringmatch_test(c):
    # Redis's reply text (its own fuzz run takes seconds, too long to run on the oracle here)
    assert c.cmd("DEBUG", "STRINGMATCH-TEST") == "Apparently Redis did not crash: test passed"


def test_debug_log_reaches_the_log(sardine, c):
    assert c.cmd("DEBUG", "LOG", "a-line-to-find-4242") == "OK"
    deadline = time.time() + 5
    while "DEBUG LOG: a-line-to-find-4242" not in sardine.read_log() and time.time() < deadline:
        time.sleep(0.05)
    assert "DEBUG LOG: a-line-to-find-4242" in sardine.read_log()


def test_pause_cron_holds_active_expiry(c):
    """With the cron paused, keys with a TTL are not expired in the background (only on access)."""
    c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    assert c.cmd("DEBUG", "PAUSE-CRON", "1") == "OK"
    for i in range(50):
        c.cmd("SET", f"k{i}", "v", "PX", "1")
    time.sleep(0.3)
    assert c.cmd("DBSIZE") == 50
    assert c.cmd("DEBUG", "PAUSE-CRON", "0") == "OK"
    deadline = time.time() + 5
    while c.cmd("DBSIZE") and time.time() < deadline:
        time.sleep(0.05)
    assert c.cmd("DBSIZE") == 0


def encoded_keys(conn):
    """One key of each type and encoding Redis 7.0 has, the same on both servers."""
    conn.cmd("SET", "str", "abc")
    conn.cmd("SET", "int", "12")
    conn.cmd("HSET", "hash-lp", "f", "v", "n", "7")
    conn.cmd("HSET", "hash-ht", *[x for i in range(600) for x in ("f%d" % i, "v")])
    conn.cmd("ZADD", "zset-lp", "1", "a", "2.5", "b")
    conn.cmd("ZADD", "zset-sl", *[x for i in range(200) for x in (str(i), "m%d" % i)])
    conn.cmd("RPUSH", "list", "a", "b", "3")
    conn.cmd("SADD", "set-int", "1", "2")
    conn.cmd("SADD", "set-ht", "a", "b")
    conn.cmd("XADD", "stream", "1-1", "f", "v")
    return ["str", "int", "hash-lp", "hash-ht", "zset-lp", "zset-sl", "list", "set-int", "set-ht", "stream",
            "nosuch"]


def test_debug_listpack_and_quicklist_replies_as_redis(sardine, oracle):
    """DEBUG LISTPACK / QUICKLIST reply and fail as Redis 7.0 does for every type and encoding (its 7.0
    lists are quicklists, its listpacks hashes and sorted sets); what they print on stdout is each
    server's own dump, checked on Sardine's side only."""
    s, o = session(sardine, 2), session(oracle, 2)
    try:
        keys = encoded_keys(s)
        assert encoded_keys(o) == keys
        for key in keys:
            for args in (("LISTPACK", key), ("QUICKLIST", key), ("QUICKLIST", key, "1"), ("LISTPACK", key, "x"),
                         ("QUICKLIST", key, "1", "x")):
                assert exchange(s, "DEBUG", *args) == exchange(o, "DEBUG", *args), args
        assert s.cmd("DEBUG", "LISTPACK", "hash-lp") == "Listpack structure printed on stdout"
        assert s.cmd("DEBUG", "LISTPACK", "list") == Err("ERR Not a listpack encoded object.")
        assert s.cmd("DEBUG", "QUICKLIST", "zset-lp") == Err("ERR Not a quicklist encoded object.")
        help_s = [line for line in s.cmd("DEBUG", "HELP") if "LISTPACK" in line or "QUICKLIST <" in line]
        help_o = [line for line in o.cmd("DEBUG", "HELP") if "LISTPACK" in line or "QUICKLIST <" in line]
        assert help_s == help_o and len(help_s) == 2
    finally:
        s.close()
        o.close()
    # Sardine's dump: the listpack's size and count, each element's bytes and value.
    log = sardine.read_log()
    assert "{total bytes 18} {num entries 4}" in log and "[str]f" in log and "[int]7" in log
    assert "{count : 3}" in log and "{quicklist node(0)" in log and "[str]b" in log and "[int]3" in log
