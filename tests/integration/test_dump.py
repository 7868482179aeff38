"""DUMP: Sardine's payloads against redis-server 7.0's, for every type and encoding.

Each value is built with the same commands on Sardine and on the oracle; then Sardine's DUMP payload is
RESTOREd on the oracle and compared there:

- DEBUG DIGEST-VALUE of the restored value equals Sardine's (the digests are Redis's, bit for bit), and
  OBJECT ENCODING is the same on Sardine, on the restored copy and on the oracle's own value;
- the restored copy DUMPs to Sardine's bytes again (Redis re-serializes what it loaded), except for
  hashtable sets and hashes, whose members come out in each server's hash-table order;
- Sardine's payload equals the oracle's own DUMP of the same value byte for byte where Redis holds the
  same bytes (BYTE_SAME).  Where it may not: hashtable sets and hashes (hash-table order, which is
  unspecified and differs between the two servers' tables) and streams with consumer groups (the PEL's
  delivery times and the consumers' seen times are clock readings of each server); these are checked
  through the digest, the round trip and XINFO STREAM FULL instead.

A DUMP payload carries no TTL: a key with one DUMPs the same bytes as without.  Finally the payloads are
assembled into an RDB file (header, SELECTDB, records, EOF, CRC64) that redis-check-rdb accepts and
redis-server loads to the same DEBUG DIGEST.
"""
import os
import random
import subprocess

import pytest

from harness import REDIS_SERVER, Server

R = random.Random(11)


def rnd_bytes(n):
    return bytes(R.randrange(256) for _ in range(n))


# name -> (commands building it, expected OBJECT ENCODING)
def values():
    v = {}
    # strings: int, embstr, raw; integer texts that Redis keeps as text; LZF-compressible ones
    v["s:int"] = ([("SET", "s:int", "123")], "int")
    v["s:neg"] = ([("SET", "s:neg", "-40000")], "int")
    v["s:int64"] = ([("SET", "s:int64", str(2 ** 62))], "int")
    v["s:notcanon"] = ([("SET", "s:notcanon", "0123")], "embstr")
    v["s:embstr"] = ([("SET", "s:embstr", "hello")], "embstr")
    v["s:embstr_lzf"] = ([("SET", "s:embstr_lzf", "a" * 40)], "embstr")
    v["s:raw"] = ([("SET", "s:raw", rnd_bytes(200))], "raw")
    v["s:raw_lzf"] = ([("SET", "s:raw_lzf", b"abcdefgh" * 5000)], "raw")
    v["s:append"] = ([("SET", "s:append", "12"), ("APPEND", "s:append", "34")], "raw")
    v["s:empty"] = ([("SET", "s:empty", "")], "embstr")
    # hashes
    v["h:lp"] = ([("HSET", "h:lp", "f1", "v1", "n", "12345", "big", "x" * 60)], "listpack")
    v["h:ht"] = ([("HSET", "h:ht", *[x for i in range(600) for x in (f"field:{i}", f"value:{i}" * (i % 4))])],
                 "hashtable")
    v["h:ht_long"] = ([("HSET", "h:ht_long", "a", "1", "long", "y" * 100)], "hashtable")
    # sets
    v["set:intset"] = ([("SADD", "set:intset", *range(-5, 50, 3))], "intset")
    v["set:intset64"] = ([("SADD", "set:intset64", 1, 2 ** 40, -(2 ** 60))], "intset")
    v["set:ht"] = ([("SADD", "set:ht", *[f"m{i}" for i in range(200)])], "hashtable")
    v["set:ht_ints"] = ([("SADD", "set:ht_ints", *range(600))], "hashtable")
    # sorted sets
    v["z:lp"] = ([("ZADD", "z:lp", "1", "a", "2.5", "b", "-inf", "c", "+inf", "d", "-3", "e", "1e300", "f")],
                 "listpack")
    v["z:skip"] = ([("ZADD", "z:skip", *[x for i in range(300) for x in (str(i / 7 - 20), f"member:{i}")]),
                    ("ZADD", "z:skip", "inf", "top", "-inf", "bottom", "5", "same1", "5", "same2")],
                   "skiplist")
    v["z:skip_long"] = ([("ZADD", "z:skip_long", "1", "a", "2", "m" * 100)], "skiplist")
    # lists: one node, several nodes, elements of every listpack encoding
    v["l:small"] = ([("RPUSH", "l:small", "a", "1", "-700", "x" * 70, str(2 ** 40))], "quicklist")
    v["l:big"] = ([("RPUSH", "l:big", *[f"element-{i}" if i % 3 else str(i * 1001) for i in range(5000)])],
                  "quicklist")
    v["l:bigelems"] = ([("RPUSH", "l:bigelems", *[rnd_bytes(3000) for _ in range(10)])], "quicklist")
    return v


def stream_values():
    v = {}
    cmds = [("XADD", "x:plain", f"1-{i}", "f", f"v{i}", "n", str(i)) for i in range(1, 351)]
    cmds += [("XDEL", "x:plain", "1-5", "1-150", "1-350")]
    cmds += [("XADD", "x:plain", "2-1", "other", "fields", "here", "too")]
    v["x:plain"] = cmds
    v["x:empty"] = [("XADD", "x:empty", "5-5", "a", "b"), ("XDEL", "x:empty", "5-5")]
    cmds = [("XADD", "x:groups", f"{i}-1", "f", "v" * (i % 5), "g", str(i)) for i in range(1, 301)]
    cmds += [("XDEL", "x:groups", "7-1", "8-1"),
             ("XGROUP", "CREATE", "x:groups", "g1", "0"),
             ("XGROUP", "CREATE", "x:groups", "g2", "$"),
             ("XGROUP", "CREATE", "x:groups", "g0", "100-1"),  # entries_read unknown
             ("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "20", "STREAMS", "x:groups", ">"),
             ("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "5", "STREAMS", "x:groups", ">"),
             ("XACK", "x:groups", "g1", "3-1", "4-1"),
             ("XCLAIM", "x:groups", "g1", "bob", "0", "10-1", "11-1"),
             ("XREADGROUP", "GROUP", "g0", "carol", "COUNT", "3", "STREAMS", "x:groups", ">"),
             ("XGROUP", "CREATECONSUMER", "x:groups", "g2", "idle")]
    v["x:groups"] = cmds
    return v


def build(c, cmds):
    for cmd in cmds:
        c.execute_command(*cmd)


def dv(c, key):
    return c.execute_command("DEBUG", "DIGEST-VALUE", key)[0]


def enc(c, key):
    return c.object("encoding", key)


BYTE_DIFFERS = {"h:ht", "h:ht_long", "set:ht", "set:ht_ints", "x:groups"}
RESTORED_ENCODING = {"s:append": b"int"}
ORDER_DIFFERS = {"h:ht", "h:ht_long", "set:ht", "set:ht_ints"}


def check_key(s, o, key, expect_enc=None):
    payload = s.dump(key)
    assert payload is not None
    assert payload[-10:-8] == b"\x0a\x00"  # RDB version 10, little endian
    # DIGEST-VALUE counts whether the key has a TTL: restore with one where the original has one
    o.restore("restored:" + key, 1000000 if s.pttl(key) > 0 else 0, payload)
    assert dv(o, "restored:" + key) == dv(s, key), key
    assert enc(s, key) == enc(o, key), key
    # RESTORE rebuilds a string as SET would: "1234" made by APPEND (raw) comes back as an int
    assert enc(o, "restored:" + key) == RESTORED_ENCODING.get(key, enc(s, key)), key
    if expect_enc:
        assert enc(s, key).decode() == expect_enc, key
    if key not in ORDER_DIFFERS:
        assert o.dump("restored:" + key) == payload, f"{key}: the restored copy re-serializes differently"
    if key not in BYTE_DIFFERS:
        assert payload == o.dump(key), f"{key}: payload differs from redis-server's"
    return payload


@pytest.fixture
def pair(sardine, oracle):
    s, o = sardine.client(), oracle.client()
    yield s, o
    s.close()
    o.close()


def test_every_type_and_encoding(pair):
    s, o = pair
    for key, (cmds, expect) in values().items():
        build(s, cmds)
        build(o, cmds)
        check_key(s, o, key, expect)


def test_streams(pair):
    s, o = pair
    for key, cmds in stream_values().items():
        build(s, cmds)
        build(o, cmds)
        check_key(s, o, key, "stream")
        # groups, PELs, consumers and their times: the restored copy holds Sardine's, field for field
        assert s.execute_command("XINFO", "STREAM", key, "FULL") == \
            o.execute_command("XINFO", "STREAM", "restored:" + key, "FULL"), key


def test_list_compress_depth(pair):
    s, o = pair
    for c in (s, o):
        c.config_set("list-compress-depth", 1)
        c.config_set("list-max-listpack-size", 64)
    cmds = [("RPUSH", "l:compressed", *[f"compressible-element-{i % 50}" for i in range(3000)]),
            ("LPUSH", "l:compressed", *[str(i) for i in range(500)]),
            ("LSET", "l:compressed", 1000, "changed"),
            ("RPUSH", "l:mixed", *[rnd_bytes(40) if i % 2 else "z" * 40 for i in range(2000)])]
    build(s, cmds)
    build(o, cmds)
    for key in ("l:compressed", "l:mixed"):
        payload = check_key(s, o, key, "quicklist")
        assert b"\x02\xc3" in payload  # a PACKED node written as LZF bytes


def test_rdbcompression_no(pair):
    s, o = pair
    for c in (s, o):
        c.config_set("rdbcompression", "no")
        c.set("long", "a" * 1000)
        c.hset("h", mapping={f"f{i}": "v" * 10 for i in range(20)})
    for key in ("long", "h"):
        payload = check_key(s, o, key)
        assert b"\xc3" not in payload[:2]
    assert s.config_get("rdbcompression") == {"rdbcompression": "no"}


def test_ttl_is_not_in_the_payload(pair):
    s, o = pair
    for c in (s, o):
        c.set("plain", "value")
        c.set("volatile", "value", px=100000)
        c.zadd("zv", {"a": 1})
        c.pexpire("zv", 100000)
    assert s.dump("plain") == s.dump("volatile") == o.dump("volatile")
    check_key(s, o, "zv", "listpack")
    o.restore("withttl", 5000, s.dump("volatile"))
    assert 0 < o.pttl("withttl") <= 5000


def test_missing_key_and_arity(pair):
    s, o = pair
    assert s.dump("nosuchkey") is None
    for c in (s, o):
        with pytest.raises(Exception) as e:
            c.execute_command("DUMP")
        assert "wrong number of arguments for 'dump' command" in str(e.value)


def crc64(data, _table=[]):
    if not _table:
        for i in range(256):
            crc = i
            for _ in range(8):
                crc = (crc >> 1) ^ 0x95AC9329AC4BC9B5 if crc & 1 else crc >> 1
            _table.append(crc)
    crc = 0
    for b in data:
        crc = _table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def rdb_string(b):
    assert len(b) < 64
    return bytes([len(b)]) + b


def test_payloads_make_a_loadable_rdb_file(pair, tmp_path):
    """The payloads (type + value) as the records of an RDB file: redis-check-rdb passes it and
    redis-server loads it to Sardine's DEBUG DIGEST."""
    s, o = pair
    keys = []
    for key, (cmds, _) in values().items():
        build(s, cmds)
        keys.append(key)
    for key, cmds in stream_values().items():
        build(s, cmds)
        keys.append(key)
    body = b"REDIS0010" + b"\xfe\x00\xfb" + bytes([len(keys), 0])
    for key in keys:
        p = s.dump(key)
        body += p[:1] + rdb_string(key.encode()) + p[1:-10]
    body += b"\xff"
    body += crc64(body).to_bytes(8, "little")
    path = tmp_path / "dump.rdb"
    path.write_bytes(body)
    check = subprocess.run(["redis-check-rdb", str(path)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and "RDB looks OK" in check.stdout, check.stdout + check.stderr
    loaded = Server(REDIS_SERVER, ["--dir", str(tmp_path), "--dbfilename", "dump.rdb"], "redis")
    try:
        c = loaded.client()
        assert c.dbsize() == len(keys)
        assert c.execute_command("DEBUG", "DIGEST") == s.execute_command("DEBUG", "DIGEST")
    finally:
        loaded.stop()
