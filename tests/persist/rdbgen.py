#!/usr/bin/env python3
"""rdbgen: writes RDB files in the encodings redis-server 7.0 reads but no longer writes, from the
format's description (our own code, not Redis's): the golden files of tests/assets/rdb/.

    /usr/bin/python3 tests/persist/rdbgen.py [outdir]     # default tests/assets/rdb

Each file holds a few keys of old encodings; GOLDEN below says which.  The files are committed;
tests/persist/test_golden_rdb.py loads each in redis-server 7.0 (versions <= 10: the proof that the
file is right) and in Sardine, and compares DEBUG DIGEST.  Version 11 files (Redis 7.2 / Valkey 8
encodings) are compared with the same data built by commands on redis-server 7.0 (`reference`).
"""
import os
import struct
import sys

# ---- primitives ----


def crc64(data, crc=0):
    """CRC-64/Jones, reflected, as RDB trailers and DUMP footers use."""
    table = crc64.table
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def _crc_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (0x95AC9329AC4BC9B5 if c & 1 else 0)
        t.append(c)
    return t


crc64.table = _crc_table()


def length(n):
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    if n <= 0xFFFFFFFF:
        return b"\x80" + n.to_bytes(4, "big")
    return b"\x81" + n.to_bytes(8, "big")


def string(s):
    """A plain string, or an integer-encoded one when s is an int."""
    if isinstance(s, int):
        if -128 <= s <= 127:
            return b"\xc0" + s.to_bytes(1, "little", signed=True)
        if -32768 <= s <= 32767:
            return b"\xc1" + s.to_bytes(2, "little", signed=True)
        return b"\xc2" + s.to_bytes(4, "little", signed=True)
    if isinstance(s, str):
        s = s.encode()
    return length(len(s)) + s


def lzf_string(s):
    """An LZF-encoded string made of literal runs only (valid LZF, as any decoder reads it)."""
    if isinstance(s, str):
        s = s.encode()
    out = bytearray()
    for i in range(0, len(s), 32):
        run = s[i:i + 32]
        out.append(len(run) - 1)
        out += run
    return b"\xc3" + length(len(out)) + length(len(s)) + bytes(out)


def old_double(x):
    if x != x:
        return b"\xfd"
    if x == float("inf"):
        return b"\xfe"
    if x == float("-inf"):
        return b"\xff"
    t = repr(x).encode()
    return bytes([len(t)]) + t


def bin_double(x):
    return struct.pack("<d", x)


# ---- compact encodings ----


def ziplist(items):
    body = bytearray()
    prevlen = 0
    last = 10
    for it in items:
        entry = bytearray(bytes([prevlen]) if prevlen < 254 else b"\xfe" + prevlen.to_bytes(4, "little"))
        if isinstance(it, int):
            if 0 <= it <= 12:
                entry.append(0xF1 + it)
            elif -128 <= it <= 127:
                entry += b"\xfe" + it.to_bytes(1, "little", signed=True)
            elif -32768 <= it <= 32767:
                entry += b"\xc0" + it.to_bytes(2, "little", signed=True)
            elif -(1 << 23) <= it < (1 << 23):
                entry += b"\xf0" + it.to_bytes(3, "little", signed=True)
            elif -(1 << 31) <= it < (1 << 31):
                entry += b"\xd0" + it.to_bytes(4, "little", signed=True)
            else:
                entry += b"\xe0" + it.to_bytes(8, "little", signed=True)
        else:
            s = it.encode() if isinstance(it, str) else it
            if len(s) < 64:
                entry += bytes([len(s)]) + s
            elif len(s) < 16384:
                entry += bytes([0x40 | (len(s) >> 8), len(s) & 0xFF]) + s
            else:
                entry += b"\x80" + len(s).to_bytes(4, "big") + s
        last = 10 + len(body)
        body += entry
        prevlen = len(entry)
    total = 10 + len(body) + 1
    n = len(items) if len(items) < 65535 else 65535
    return total.to_bytes(4, "little") + last.to_bytes(4, "little") + n.to_bytes(2, "little") + bytes(body) + b"\xff"


def zipmap(pairs):
    def zlen(n):
        return bytes([n]) if n < 254 else b"\xfe" + n.to_bytes(4, "little")
    out = bytearray([len(pairs) if len(pairs) < 254 else 254])
    for k, v in pairs:
        k = k.encode() if isinstance(k, str) else k
        v = v.encode() if isinstance(v, str) else v
        out += zlen(len(k)) + k + zlen(len(v)) + b"\x00" + v
    return bytes(out) + b"\xff"


def intset(values):
    values = sorted(values)
    enc = 2
    for v in values:
        if not -32768 <= v <= 32767:
            enc = max(enc, 4)
        if not -(1 << 31) <= v < (1 << 31):
            enc = 8
    return struct.pack("<II", enc, len(values)) + b"".join(v.to_bytes(enc, "little", signed=True) for v in values)


def _backlen(n):
    if n <= 127:
        return bytes([n])
    if n < 16383:
        return bytes([n >> 7, (n & 127) | 128])
    if n < 2097151:
        return bytes([n >> 14, ((n >> 7) & 127) | 128, (n & 127) | 128])
    return bytes([n >> 21, ((n >> 14) & 127) | 128, ((n >> 7) & 127) | 128, (n & 127) | 128])


def _lp_int_of(s):
    try:
        v = int(s)
    except (ValueError, TypeError):
        return None
    return v if str(v).encode() == s and -(1 << 63) <= v < (1 << 63) else None


def listpack(items):
    body = bytearray()
    for it in items:
        if isinstance(it, str):
            it = it.encode()
        if isinstance(it, bytes) and len(it) <= 20 and _lp_int_of(it) is not None:
            it = _lp_int_of(it)
        if isinstance(it, int):
            if 0 <= it <= 127:
                e = bytes([it])
            elif -4096 <= it <= 4095:
                u = it & 0x1FFF
                e = bytes([0xC0 | (u >> 8), u & 0xFF])
            elif -32768 <= it <= 32767:
                e = b"\xf1" + it.to_bytes(2, "little", signed=True)
            elif -(1 << 23) <= it < (1 << 23):
                e = b"\xf2" + it.to_bytes(3, "little", signed=True)
            elif -(1 << 31) <= it < (1 << 31):
                e = b"\xf3" + it.to_bytes(4, "little", signed=True)
            else:
                e = b"\xf4" + it.to_bytes(8, "little", signed=True)
        else:
            if len(it) < 64:
                e = bytes([0x80 | len(it)]) + it
            elif len(it) < 4096:
                e = bytes([0xE0 | (len(it) >> 8), len(it) & 0xFF]) + it
            else:
                e = b"\xf0" + len(it).to_bytes(4, "little") + it
        body += e + _backlen(len(e))
    total = 6 + len(body) + 1
    n = len(items) if len(items) < 65535 else 65535
    return total.to_bytes(4, "little") + n.to_bytes(2, "little") + bytes(body) + b"\xff"


def stream_node(master, entries, fields):
    """One stream node: entries are (ms, seq, {field: value}, deleted); fields: the master fields."""
    live = sum(1 for e in entries if not e[3])
    items = [live, len(entries) - live, len(fields), *fields, 0]
    for ms, seq, fv, deleted in entries:
        flags = (1 if deleted else 0)
        same = list(fv.keys()) == list(fields)
        if same:
            flags |= 2
            items += [flags, ms - master[0], seq - master[1], *fv.values(), 3 + len(fv)]
        else:
            kv = [x for pair in fv.items() for x in pair]
            items += [flags, ms - master[0], seq - master[1], len(fv), *kv, 4 + len(kv)]
    return listpack([str(x) if isinstance(x, int) else x for x in items])


def stream_value(nodes, length_, last, version, first=(0, 0), maxdel=(0, 0), added=None, groups=()):
    """nodes: [(master, entries, fields)]; groups: [(name, last_id, entries_read, pel, consumers)] with
    pel [(id, delivery_ms, count)], consumers [(name, seen_ms, active_ms, [ids])]."""
    out = bytearray(length(len(nodes)))
    for master, entries, fields in nodes:
        out += string(struct.pack(">QQ", *master)) + string(stream_node(master, entries, fields))
    out += length(length_) + length(last[0]) + length(last[1])
    if version >= 2:
        out += length(first[0]) + length(first[1]) + length(maxdel[0]) + length(maxdel[1])
        out += length(length_ if added is None else added)
    out += length(len(groups))
    for name, glast, entries_read, pel, consumers in groups:
        out += string(name) + length(glast[0]) + length(glast[1])
        if version >= 2:
            out += length(entries_read)
        out += length(len(pel))
        for pid, dt, cnt in pel:
            out += struct.pack(">QQ", *pid) + struct.pack("<q", dt) + length(cnt)
        out += length(len(consumers))
        for cname, seen, active, ids in consumers:
            out += string(cname) + struct.pack("<q", seen)
            if version >= 3:
                out += struct.pack("<q", active)
            out += length(len(ids)) + b"".join(struct.pack(">QQ", *i) for i in ids)
    return bytes(out)


# ---- files ----

T = dict(STRING=0, LIST=1, SET=2, ZSET=3, HASH=4, ZSET_2=5, HASH_ZIPMAP=9, LIST_ZIPLIST=10, SET_INTSET=11,
         ZSET_ZIPLIST=12, HASH_ZIPLIST=13, LIST_QUICKLIST=14, STREAM_LISTPACKS=15, HASH_LISTPACK=16,
         ZSET_LISTPACK=17, LIST_QUICKLIST_2=18, STREAM_LISTPACKS_2=19, SET_LISTPACK=20, STREAM_LISTPACKS_3=21)


def rdb_file(version, records, aux=True, dbs=None, function=None):
    """records: [(type, key, value_bytes, expire_ms_or_None)] for db 0; dbs: {n: records} for others."""
    out = bytearray(b"REDIS%04d" % version)
    if aux and version >= 7:
        out += b"\xfa" + string("redis-ver") + string("0.0.0-rdbgen")
        out += b"\xfa" + string("ctime") + string(1700000000)
    if function:
        out += b"\xf5" + string(function)
    for db, recs in sorted(({0: records} | (dbs or {})).items()):
        out += b"\xfe" + length(db)
        if version >= 7:
            out += b"\xfb" + length(len(recs)) + length(sum(1 for r in recs if r[3]))
        for t, key, val, exp in recs:
            if exp is not None:
                out += (b"\xfc" + struct.pack("<q", exp)) if version >= 3 else (b"\xfd" + struct.pack("<i", exp // 1000))
            out += bytes([t]) + string(key) + val
    out += b"\xff"
    if version >= 5:
        out += struct.pack("<Q", crc64(bytes(out)))
    return bytes(out)


FAR = 1893456000000  # 2030-01-01, ms (fits the 32-bit seconds of EXPIRETIME)


def golden():
    files = {}
    # v1: the original types, strings int-encoded and LZF, EXPIRETIME in seconds, old string scores
    files["v1-basic-types.rdb"] = rdb_file(1, [
        (T["STRING"], "str", string("hello"), None),
        (T["STRING"], "int8", string(-100), None),
        (T["STRING"], "int16", string(30000), None),
        (T["STRING"], "int32", string(-2000000000), None),
        (T["STRING"], "lzf", lzf_string("abcdefghij" * 8), FAR),
        (T["LIST"], "list", length(4) + string("a") + string(7) + string("") + lzf_string("x" * 50), None),
        (T["SET"], "set", length(3) + string("m1") + string(42) + string("m3"), None),
        (T["SET"], "set:ints", length(3) + string(1) + string(2) + string(-3), None),
        (T["ZSET"], "zset", length(5) + string("a") + old_double(1.5) + string("b") + old_double(float("inf"))
         + string("c") + old_double(float("-inf")) + string("d") + old_double(-2.25) + string(5) + old_double(1e300),
         None),
        (T["HASH"], "hash", length(2) + string("f1") + string("v1") + string("f2") + string(99), None),
    ])
    # v4: a zipmap hash (Redis 2.4), one with a long value (converted to a hashtable)
    files["v4-zipmap.rdb"] = rdb_file(4, [
        (T["HASH_ZIPMAP"], "zm", string(zipmap([("a", "1"), ("bb", "two"), ("ccc", "x" * 300)])), None),
        (T["HASH_ZIPMAP"], "zm:small", string(zipmap([("f", "v"), ("g", "12345")])), FAR),
    ])
    # v6: ziplist lists/zsets/hashes and intsets (Redis 2.6 - 3.0)
    zl_items = ["s", 0, 12, 13, -1, 127, -129, 30000, -(1 << 20), 1 << 30, -(1 << 40), "y" * 70, b"bin\x00ary"]
    files["v6-ziplist-intset.rdb"] = rdb_file(6, [
        (T["LIST_ZIPLIST"], "zl:list", string(ziplist(zl_items)), None),
        (T["SET_INTSET"], "is:16", string(intset([1, 2, 3, -7])), None),
        (T["SET_INTSET"], "is:32", string(intset([1, 70000, -70000])), None),
        (T["SET_INTSET"], "is:64", string(intset([1, 1 << 40])), None),
        (T["ZSET_ZIPLIST"], "zl:zset", string(ziplist(["a", 1, "b", "2.5", "c", 10, "d", "1e+20"])), None),
        (T["HASH_ZIPLIST"], "zl:hash", string(ziplist(["f1", "v1", "f2", 2, "f3", "x" * 100])), None),
        (T["HASH_ZIPLIST"], "zl:hash:big", string(ziplist([x for i in range(200) for x in (f"f{i}", i)])), None),
    ])
    # v9: quicklist of ziplists, ZSET_2, a Redis 5 stream (STREAM_LISTPACKS) with a group and PEL
    ql = length(3) + string(ziplist(["a", "b", 1])) + string(ziplist([])) + string(ziplist(["c", "d" * 40, -5]))
    nodes = [((1000, 0), [(1000, 0, {"f": "1", "g": "a"}, False), (1000, 1, {"f": "2", "g": "b"}, True),
                          (1001, 0, {"h": "3"}, False)], ["f", "g"]),
             ((2000, 5), [(2000, 5, {"f": "9"}, False), (2500, 0, {"f": "10"}, False)], ["f"])]
    groups = [("grp", (2000, 5), 0, [((1000, 0), 1700000000000, 2), ((2000, 5), 1700000000001, 1)],
               [("alice", 1700000000002, 0, [(1000, 0)]), ("bob", 1700000000003, 0, [(2000, 5)])]),
              ("idle", (0, 0), 0, [], [])]
    files["v9-quicklist-zset2-stream.rdb"] = rdb_file(9, [
        (T["LIST_QUICKLIST"], "ql", ql, None),
        (T["ZSET_2"], "z2", length(3) + string("x") + bin_double(0.1) + string("y") + bin_double(-0.0)
         + string("z") + bin_double(float("inf")), None),
        (T["ZSET_2"], "z2:big", length(300) + b"".join(string(f"m{i}") + bin_double(300 - i) for i in range(300)),
         None),
        (T["STREAM_LISTPACKS"], "stream", stream_value(nodes, 4, (2500, 0), 1, groups=groups), None),
    ], dbs={2: [(T["STRING"], "in-db-2", string("x"), None)]})
    # v10: what 7.0 reads but does not write: a PLAIN quicklist node, a function library (skipped)
    ql2 = (length(3) + length(2) + string(listpack(["a", "b"])) + length(1) + string("a plain node")
           + length(2) + string(listpack(["c", 5])))
    files["v10-plain-node-function.rdb"] = rdb_file(10, [
        (T["LIST_QUICKLIST_2"], "ql2", ql2, None),
        (T["HASH_LISTPACK"], "hlp", string(listpack(["f", "v", "n", 5])), None),
        (T["ZSET_LISTPACK"], "zlp", string(listpack(["a", 1, "b", "2.5"])), None),
    ], function="#!lua name=rdbgenlib\nredis.register_function('rdbgen_fn', function() return 1 end)")
    # v11 (Redis 7.2 / Valkey 8): listpack sets, STREAM_LISTPACKS_3 (consumers' active time)
    nodes3 = [((5, 1), [(5, 1, {"a": "1"}, False), (6, 0, {"a": "2"}, False)], ["a"])]
    groups3 = [("g", (5, 1), 1, [((5, 1), 1700000000000, 1)], [("c", 1700000000000, 1700000000001, [(5, 1)])])]
    files["v11-set-listpack-stream3.rdb"] = rdb_file(11, [
        (T["SET_LISTPACK"], "slp", string(listpack(["a", "b", "c"])), None),
        (T["SET_LISTPACK"], "slp:ints", string(listpack(["1", "2", "3"])), None),
        (T["STREAM_LISTPACKS_3"], "s3", stream_value(nodes3, 2, (6, 0), 3, first=(5, 1), added=2, groups=groups3),
         None),
    ])
    return files


def reference(r):
    """The data of the v11 file, built with commands (for the oracle's digest)."""
    r.sadd("slp", "a", "b", "c")
    r.sadd("slp:ints", 1, 2, 3)
    r.xadd("s3", {"a": 1}, id="5-1")
    r.xadd("s3", {"a": 2}, id="6-0")
    r.xgroup_create("s3", "g", id="0")
    r.xreadgroup("g", "c", {"s3": ">"}, count=1)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "assets", "rdb")
    os.makedirs(out, exist_ok=True)
    for name, data in golden().items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
