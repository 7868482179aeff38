"""Differential: rdb_changes_since_last_save (the dirty counter) moves by what Redis 7.0 counts for each
command: one per element where Redis counts elements (HSET of 3 fields: 3, SADD: the members added,
RPUSH: the elements pushed, ZADD: added + updated, XTRIM: the entries trimmed, PFADD: the registers
changed ...), one for a change of two keys (RENAME, MOVE, LMOVE), nothing when nothing changed (SETBIT or
BITFIELD writing the bits already there).  Every command of each sequence is followed by INFO persistence
on both servers and the movements are compared one by one."""
import pytest

from sardine_resp import Raw

# Payloads written by redis-server 7.0.15: DUMP of the string "hello", FUNCTION DUMP of LIB.
DUMP_HELLO = b"\x00\x05hello\n\x00cr\xdfve4 \n"
LIB = "#!lua name=dlib\nredis.register_function('df', function() return 1 end)"
FUNCTION_DUMP = (b"\xf5@F#!lua name=dlib\nredis.register_function('df', function() return 1 end)\n\x00d*h\x88\x08Y"
                 b"\x12\xe9")

SEQUENCES = {
    "strings": [
        ("SET", "s", "v"), ("SET", "s", "v"), ("APPEND", "s", "x"), ("SETRANGE", "s", "0", "v"),
        ("SETRANGE", "s", "0", "w"), ("SETRANGE", "s", "0", ""), ("INCR", "i"), ("INCRBYFLOAT", "i", "1.5"),
        ("MSET", "m1", "1", "m2", "2", "m3", "3"), ("MSETNX", "m1", "1", "m4", "4"), ("MSETNX", "m5", "1", "m6", "4"),
        ("GETDEL", "m2"), ("GETDEL", "m2"), ("GETEX", "m1", "EX", "100"), ("GETEX", "m1", "PERSIST"),
        ("GETEX", "m1"), ("GETSET", "m3", "x"), ("SETNX", "m3", "y"), ("SET", "m3", "z", "XX", "GET"),
        ("DEL", "m1", "m3", "nosuch"), ("UNLINK", "m4", "m5"),
    ],
    "bits": [
        ("SETBIT", "b", "3", "1"), ("SETBIT", "b", "3", "1"), ("SETBIT", "b", "3", "0"), ("SETBIT", "b", "100", "0"),
        ("BITFIELD", "bf", "SET", "u8", "0", "5"), ("BITFIELD", "bf", "SET", "u8", "0", "5"),
        ("BITFIELD", "bf", "SET", "u8", "0", "6", "SET", "u8", "8", "1", "INCRBY", "u8", "0", "0"),
        ("BITFIELD", "bf", "GET", "u8", "0"), ("BITFIELD", "bf2", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9"),
        ("BITOP", "AND", "dest", "b", "bf"), ("BITOP", "OR", "dest", "nosuch"),
        ("PFADD", "hll", "a", "b", "c"), ("PFADD", "hll", "a"), ("PFADD", "hll", "a", "d"), ("PFADD", "hll2"),
        ("PFADD", "hll2"), ("PFMERGE", "hll3", "hll", "hll2"),
    ],
    "hashes": [
        ("HSET", "h", "a", "1", "b", "2", "c", "3"), ("HSET", "h", "a", "1"), ("HMSET", "h", "a", "2", "z", "9"),
        ("HDEL", "h", "a", "zz"), ("HDEL", "h", "nope"), ("HSETNX", "h", "b", "9"), ("HSETNX", "h", "q", "9"),
        ("HINCRBY", "h", "n", "1"), ("HINCRBYFLOAT", "h", "f", "1.5"), ("HDEL", "h", "b", "c", "z", "n", "f", "q"),
        ("HSET", "big", *[x for i in range(200) for x in (f"f{i}", "v")]), ("HDEL", "big", "f1", "f2", "f3"),
    ],
    "sets": [
        ("SADD", "st", "a", "b", "c"), ("SADD", "st", "a", "d"), ("SADD", "st", "a"), ("SREM", "st", "a", "x"),
        ("SMOVE", "st", "st2", "b"), ("SMOVE", "st", "st2", "nosuch"), ("SPOP", "st", "0"), ("SADD", "st", "1", "2", "3"),
        ("SPOP", "st", "2"), ("SPOP", "st", "100"), ("SADD", "s1", "a", "b"), ("SADD", "s2", "b", "c"),
        ("SINTERSTORE", "dst", "s1", "s2"), ("SUNIONSTORE", "dst", "s1", "s2"), ("SDIFFSTORE", "dst", "s1", "s1"),
        ("SINTERSTORE", "dst", "nosuch"),
    ],
    "lists": [
        ("RPUSH", "l", "a", "b", "c", "d", "e"), ("LPUSH", "l", "z"), ("LPUSHX", "nol", "a"), ("RPUSHX", "l", "q", "r"),
        ("LPOP", "l", "2"), ("RPOP", "l"), ("LPOP", "l", "0"), ("LSET", "l", "0", "z"), ("LREM", "l", "0", "z"),
        ("RPUSH", "l", "x", "x", "x"), ("LREM", "l", "2", "x"), ("LINSERT", "l", "BEFORE", "q", "r"),
        ("LINSERT", "l", "BEFORE", "nosuch", "r"), ("LTRIM", "l", "0", "-1"), ("LTRIM", "l", "1", "2"),
        ("LMOVE", "l", "l2", "LEFT", "RIGHT"), ("RPOPLPUSH", "l2", "l3"), ("LMPOP", "2", "nol", "l", "LEFT", "COUNT", "5"),
        ("RPUSH", "s5", "3", "1", "2"), ("SORT", "s5", "STORE", "sorted"), ("SORT", "nosuch", "STORE", "sorted"),
    ],
    "zsets": [
        ("ZADD", "z", "1", "a", "2", "b"), ("ZADD", "z", "1", "a"), ("ZADD", "z", "3", "a"), ("ZADD", "z", "CH", "4", "a", "5", "c"),
        ("ZADD", "z", "NX", "9", "a"), ("ZINCRBY", "z", "1", "a"), ("ZREM", "z", "a", "x"), ("ZADD", "z", "1", "x", "nan", "y"),
        ("ZADD", "z2", "1", "a", "2", "b", "3", "c", "4", "d"), ("ZPOPMIN", "z2", "2"), ("ZPOPMAX", "z2"),
        ("ZREMRANGEBYSCORE", "z", "-inf", "+inf"), ("ZADD", "z3", "1", "a", "2", "b", "3", "c"),
        ("ZREMRANGEBYRANK", "z3", "0", "1"), ("ZREMRANGEBYLEX", "z3", "-", "+"), ("ZADD", "z4", "1", "a", "2", "b"),
        ("ZRANGESTORE", "dz", "z4", "0", "-1"), ("ZUNIONSTORE", "dz", "2", "z4", "z4"), ("ZMPOP", "1", "z4", "MIN", "COUNT", "2"),
        ("GEOADD", "g", "13.3", "38.1", "p1", "15.0", "37.5", "p2"), ("GEOADD", "g", "13.3", "38.1", "p1"),
        ("GEOSEARCHSTORE", "gd", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC"),
        ("GEOSEARCHSTORE", "gd", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "ASC"),
    ],
    "streams": [
        ("XADD", "x", "1-1", "f", "v"), ("XADD", "x", "2-1", "f", "v", "g", "w"), ("XADD", "x", "MAXLEN", "1", "3-1", "f", "v"),
        ("XADD", "x", "4-1", "f", "v"), ("XADD", "x", "5-1", "f", "v"), ("XTRIM", "x", "MAXLEN", "1"), ("XTRIM", "x", "MAXLEN", "5"),
        ("XDEL", "x", "5-1", "9-9"), ("XADD", "x", "6-1", "a", "b"), ("XGROUP", "CREATE", "x", "g", "0"),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "x", ">"), ("XACK", "x", "g", "6-1"), ("XSETID", "x", "10-1"),
    ],
    "stream-groups": [
        ("XADD", "s", "1-1", "f", "v"), ("XADD", "s", "2-1", "f", "v"), ("XADD", "s", "3-1", "f", "v"),
        ("XGROUP", "CREATE", "s", "g", "0"), ("XGROUP", "CREATE", "s", "g", "0"), ("XGROUP", "CREATE", "nos", "g", "$"),
        ("XGROUP", "CREATE", "s2", "g", "$", "MKSTREAM"), ("XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "3"),
        ("XGROUP", "CREATECONSUMER", "s", "g", "c1"), ("XGROUP", "CREATECONSUMER", "s", "g", "c1"),
        ("XGROUP", "CREATECONSUMER", "s", "nog", "c1"), ("XGROUP", "CREATECONSUMER", "nos", "g", "c1"),
        ("XREADGROUP", "GROUP", "g", "c2", "COUNT", "2", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", "0"), ("XREADGROUP", "GROUP", "g", "c3", "STREAMS", "s", "0"),
        ("XREADGROUP", "GROUP", "g", "c3", "STREAMS", "s", "0"), ("XREADGROUP", "GROUP", "g", "c2", "NOACK", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"), ("XREADGROUP", "GROUP", "g", "c9", "STREAMS", "s", ">"),
        ("XADD", "s", "4-1", "f", "v"), ("XADD", "s", "5-1", "f", "v"),
        ("XREADGROUP", "GROUP", "g", "c4", "STREAMS", "s", "s2", ">", ">"),
        ("XREADGROUP", "GROUP", "nog", "c4", "STREAMS", "s", ">"),
        ("XACK", "s", "g", "1-1", "9-9"), ("XACK", "s", "g", "1-1"), ("XACK", "s", "nog", "2-1"), ("XACK", "nos", "g", "2-1"),
        ("XCLAIM", "s", "g", "c1", "0", "2-1"), ("XCLAIM", "s", "g", "c1", "0", "2-1", "JUSTID"),
        ("XCLAIM", "s", "g", "c5", "0", "9-9"), ("XCLAIM", "s", "g", "c1", "100000000", "2-1"),
        ("XCLAIM", "s", "g", "c1", "100000000", "2-1", "JUSTID"), ("XCLAIM", "s", "g", "c1", "0", "3-1", "FORCE"),
        ("XCLAIM", "s", "g", "c6", "0", "1-1", "FORCE", "JUSTID"), ("XCLAIM", "s", "g", "c1", "0", "2-1", "LASTID", "5-0"),
        ("XCLAIM", "s", "g", "c1", "0", "2-1", "IDLE", "500", "RETRYCOUNT", "3"), ("XCLAIM", "s", "nog", "c1", "0", "2-1"),
        ("XCLAIM", "s", "g", "c10", "0", "1-1", "2-1", "3-1", "7-7"), ("XCLAIM", "s", "g", "c10", "0", "8-8", "LASTID", "9-0"),
        ("XCLAIM", "s", "g", "c11", "0", "8-8", "LASTID", "9-0"), ("XCLAIM", "s", "g", "c11", "0", "1-1", "LASTID", "9-5"),
        ("XAUTOCLAIM", "s", "g", "c7", "0", "0-0", "COUNT", "1"), ("XAUTOCLAIM", "s", "g", "c7", "0", "0-0"),
        ("XAUTOCLAIM", "s", "g", "c8", "100000000", "0-0"), ("XAUTOCLAIM", "s", "g", "c7", "0", "0-0", "JUSTID"),
        ("XDEL", "s", "4-1"), ("XAUTOCLAIM", "s", "g", "c7", "0", "0-0"), ("XAUTOCLAIM", "s", "nog", "c7", "0", "0-0"),
        ("XGROUP", "SETID", "s", "g", "0"), ("XGROUP", "SETID", "s", "g", "0"), ("XGROUP", "SETID", "s", "g", "$", "ENTRIESREAD", "3"),
        ("XGROUP", "SETID", "s", "nog", "0"), ("XGROUP", "DELCONSUMER", "s", "g", "c7"),
        ("XGROUP", "DELCONSUMER", "s", "g", "nosuch"), ("XGROUP", "DELCONSUMER", "s", "nog", "c7"),
        ("XGROUP", "DESTROY", "s", "g"), ("XGROUP", "DESTROY", "s", "g"), ("XGROUP", "DESTROY", "nos", "g"),
    ],
    "stream-trims": [
        ("XADD", "s", "1-1", "a", "1"), ("XADD", "s", "MAXLEN", "2", "2-1", "a", "1"), ("XADD", "s", "MAXLEN", "2", "3-1", "a", "1"),
        ("XADD", "s", "MAXLEN", "2", "4-1", "a", "1"), ("XADD", "s", "MINID", "4", "5-1", "a", "1"),
        ("XADD", "s", "MAXLEN", "~", "1", "6-1", "a", "1"), ("XADD", "s", "MAXLEN", "~", "1", "LIMIT", "10", "7-1", "a", "1"),
        ("XADD", "s", "MAXLEN", "0", "8-1", "a", "1"), ("XADD", "nos", "NOMKSTREAM", "1-1", "a", "1"),
        ("XADD", "s", "1-1", "a", "1"), ("XADD", "s", "NOMKSTREAM", "MAXLEN", "5", "9-1", "a", "1"),
        ("XADD", "s", "10-1", "a", "1"), ("XADD", "s", "11-1", "a", "1"),
        ("XTRIM", "s", "MINID", "0"), ("XTRIM", "s", "MINID", "11"), ("XTRIM", "s", "MAXLEN", "~", "0"),
        ("XTRIM", "s", "MAXLEN", "0"), ("XTRIM", "s", "MAXLEN", "0"), ("XTRIM", "nos", "MAXLEN", "0"),
        ("XADD", "s", "12-1", "a", "1"), ("XADD", "s", "13-1", "a", "1"), ("XDEL", "s", "12-1", "12-1", "13-1"),
        ("XDEL", "s", "12-1"), ("XDEL", "nos", "1-1"),
        ("XSETID", "s", "100-1"), ("XSETID", "s", "100-1"), ("XSETID", "s", "200-1", "ENTRIESADDED", "10", "MAXDELETEDID", "50-0"),
        ("XSETID", "s", "1-1"), ("XSETID", "nos", "1-1"),
    ],
    "counters-and-ttls": [
        ("SET", "n", "5"), ("DECR", "n"), ("DECRBY", "n", "2"), ("INCRBY", "n", "0"), ("INCRBY", "n", "3"),
        ("DECRBY", "n", "x"), ("SETEX", "se", "100", "v"), ("PSETEX", "pse", "100000", "v"), ("SETEX", "se", "0", "v"),
        ("EXPIREAT", "se", "99999999999"), ("EXPIREAT", "nosuch", "99999999999"), ("EXPIREAT", "se", "99999999999", "NX"),
        ("PEXPIRE", "pse", "100000"), ("PEXPIRE", "pse", "200000", "GT"), ("PEXPIRE", "pse", "1000", "GT"),
        ("PEXPIRE", "pse", "0"), ("PEXPIRE", "nosuch", "10"),
        ("RESTORE", "rk", "0", DUMP_HELLO), ("RESTORE", "rk", "0", DUMP_HELLO), ("RESTORE", "rk", "0", DUMP_HELLO, "REPLACE"),
        ("RESTORE", "rk2", "0", b"garbage"), ("RESTORE-ASKING", "rk3", "0", DUMP_HELLO),
        ("RESTORE", "rk3", "1", DUMP_HELLO, "REPLACE", "ABSTTL"), ("RESTORE", "rk4", "1", DUMP_HELLO, "ABSTTL"),
        ("MIGRATE", "127.0.0.1", "1", "nosuchkey", "0", "1000"), ("MIGRATE", "127.0.0.1", "1", "", "0", "1000", "KEYS", "nosuch"),
        ("PFADD", "hl", "a"), ("PFDEBUG", "ENCODING", "hl"), ("PFDEBUG", "GETREG", "hl"), ("PFDEBUG", "GETREG", "hl"),
        ("PFADD", "hl2", "a"), ("PFDEBUG", "TODENSE", "hl2"), ("PFDEBUG", "TODENSE", "hl2"), ("PFDEBUG", "DECODE", "hl"),
    ],
    "blocking-pops": [
        ("RPUSH", "bl", "a", "b", "c", "d"), ("BLPOP", "bl", "0"), ("BRPOP", "bl", "0"), ("BLMOVE", "bl", "bl2", "LEFT", "RIGHT", "0"),
        ("BRPOPLPUSH", "bl2", "bl3", "0"), ("BLMPOP", "0", "1", "bl3", "LEFT"), ("BLPOP", "empty", "0.01"),
        ("BLMPOP", "0.01", "1", "empty", "LEFT"), ("BLMOVE", "empty", "bl", "LEFT", "LEFT", "0.01"),
        ("ZADD", "bz", "1", "a", "2", "b", "3", "c", "4", "d"), ("BZPOPMIN", "bz", "0"), ("BZPOPMAX", "bz", "0"),
        ("BZMPOP", "0", "1", "bz", "MIN", "COUNT", "5"), ("BZPOPMIN", "bz", "0.01"), ("BZMPOP", "0.01", "1", "bz", "MAX"),
    ],
    "zset-stores": [
        ("ZADD", "z1", "1", "a", "2", "b", "3", "c"), ("ZADD", "z2", "1", "b"), ("ZDIFFSTORE", "d", "2", "z1", "z2"),
        ("ZDIFFSTORE", "d", "2", "z1", "z1"), ("ZINTERSTORE", "d", "2", "z1", "z2"), ("ZINTERSTORE", "d", "1", "nosuch"),
        ("ZINTERSTORE", "d", "2", "z1", "z2", "WEIGHTS", "1", "2", "AGGREGATE", "MAX"),
        ("GEOADD", "g", "13.3", "38.1", "p1", "15.0", "37.5", "p2"),
        ("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "gd"), ("GEORADIUS", "g", "0", "0", "1", "km", "STORE", "gd"),
        ("GEORADIUS", "g", "15", "37", "200", "km", "STOREDIST", "gd2"),
        ("GEORADIUSBYMEMBER", "g", "p1", "300", "km", "STORE", "gd3"), ("GEORADIUSBYMEMBER", "g", "nosuch", "1", "km", "STORE", "gd3"),
        ("GEORADIUS", "g", "15", "37", "200", "km"),
    ],
    "functions": [
        ("FUNCTION", "LOAD", LIB), ("FUNCTION", "LOAD", LIB), ("FUNCTION", "LOAD", "REPLACE", LIB), ("FUNCTION", "LOAD", "bad"),
        ("FUNCTION", "DELETE", "dlib"), ("FUNCTION", "DELETE", "dlib"), ("FUNCTION", "RESTORE", FUNCTION_DUMP),
        ("FUNCTION", "RESTORE", FUNCTION_DUMP), ("FUNCTION", "RESTORE", FUNCTION_DUMP, "REPLACE"),
        ("FUNCTION", "RESTORE", FUNCTION_DUMP, "FLUSH"), ("FUNCTION", "RESTORE", b"junk"), ("FUNCTION", "FLUSH"),
        ("FUNCTION", "FLUSH", "ASYNC"), ("FUNCTION", "LOAD", LIB), ("FUNCTION", "FLUSH", "SYNC"),
    ],
    "keys": [
        ("SET", "a", "1"), ("RENAME", "a", "b"), ("SET", "c", "1"), ("RENAME", "b", "c"), ("RENAMENX", "c", "c2"),
        ("SET", "d", "1"), ("RENAMENX", "c2", "d"), ("COPY", "d", "e"), ("COPY", "d", "e", "REPLACE"), ("MOVE", "e", "1"),
        ("MOVE", "nosuch", "1"), ("EXPIRE", "d", "100"), ("EXPIRE", "d", "100", "NX"), ("PERSIST", "d"), ("PERSIST", "d"),
        ("PEXPIREAT", "d", "1"), ("SET", "f", "1"), ("SWAPDB", "0", "1"), ("FLUSHDB",), ("SET", "g", "1"), ("FLUSHALL",),
    ],
}


def changes(c):
    info = c.cmd("INFO", "persistence").decode()
    return int(next(l for l in info.split("\r\n") if l.startswith("rdb_changes_since_last_save")).split(":")[1])


def moves(server, seq):
    c = Raw(server.port)
    c.cmd("FLUSHALL")
    out, base = [], changes(c)
    for cmd in seq:
        c.cmd(*cmd)
        now = changes(c)
        out.append((cmd, now - base))
        base = now
    c.close()
    return out


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_dirty_counter_matches_redis(sardine, oracle, name):
    got, want = moves(sardine, SEQUENCES[name]), moves(oracle, SEQUENCES[name])
    diffs = [(cmd, g, w) for (cmd, g), (_, w) in zip(got, want) if g != w]
    assert not diffs, "\n".join(f"{cmd}: sardine {g}, redis {w}" for cmd, g, w in diffs)


def test_counts_are_per_element(sardine):
    """Independent of the oracle: the movements the brief names."""
    got = dict((cmd[0] + " " + cmd[1], n) for cmd, n in moves(sardine, [
        ("HSET", "h", "a", "1", "b", "2", "c", "3"), ("SADD", "s", "a", "b"), ("RPUSH", "l", "1", "2", "3", "4"),
        ("SETBIT", "bb", "1", "1"), ("SETBIT", "bb", "1", "1")]))
    assert got == {"HSET h": 3, "SADD s": 2, "RPUSH l": 4, "SETBIT bb": 0}
