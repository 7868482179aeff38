"""value-compression (Sardine's own, types/zstr.h): string values kept compressed with zstd must be
invisible to every command.

Each test starts Sardine with compression on and checks that values really are compressed (INFO
compressed_values, MEMORY USAGE) before comparing what the commands see with what redis-server 7.0
sees for the same commands: replies, DEBUG DIGEST, DUMP payloads (restored on the oracle), RDB files and
AOF directories Sardine writes (loaded by redis-server), DEBUG RELOAD and restarts, CONFIG SET on and off
with both kinds of values present, the trained dictionary, and the directives' errors.  The differential
run of generated command sequences is tests/diff/test_diff_zcomp.py.  Skipped in validation mode: Redis
has no such directive.
"""
import json
import os
import random
import shutil
import subprocess

import pytest

from conftest import IS_REAL_REDIS, REDIS_SERVER, SARDINE_SERVER, Server
from harness import assert_keyspace_ok, assert_same_digest, check_oracle, digest
from sardine_resp import Err, Raw, wait_until

pytestmark = pytest.mark.skipif(IS_REAL_REDIS, reason="value-compression is Sardine's own")

ON = ("--value-compression", "zstd")
WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike red green blue".split()


def doc(rng):
    """A JSON-like document of about 1 KB: repeated field names, numbers, random ids."""
    items = [{"sku": "SKU-%06d" % rng.randrange(10**6), "qty": rng.randint(1, 9),
              "price": round(rng.uniform(1, 500), 2), "name": " ".join(rng.choice(WORDS) for _ in range(3))}
             for _ in range(rng.randint(4, 7))]
    d = {"id": "%032x" % rng.getrandbits(128), "type": "order", "created_at": 1700000000 + rng.randrange(10**7),
         "customer": {"id": rng.randrange(10**7), "email": "%s.%d@example.com" % (rng.choice(WORDS), rng.randrange(9999)),
                      "city": rng.choice(["Berlin", "Paris", "Lisbon", "Oslo"])},
         "items": items, "status": rng.choice(["new", "paid", "shipped"]),
         "notes": " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 30)))}
    return json.dumps(d, separators=(",", ":")).encode()


def info(r):
    return r.info("memory")


def compressed(r):
    return info(r)["compressed_values"]


def fill(r, n, seed=1, prefix="doc:"):
    rng = random.Random(seed)
    docs = {f"{prefix}{i}": doc(rng) for i in range(n)}
    p = r.pipeline(transaction=False)
    for k, v in docs.items():
        p.set(k, v)
    p.execute()
    return docs


def oracle_like(make_oracle, docs):
    o = make_oracle()
    ro = o.client()
    p = ro.pipeline(transaction=False)
    for k, v in docs.items():
        p.set(k, v)
    p.execute()
    return o, ro


def test_values_are_compressed_and_read_back(make_sardine):
    s = make_sardine(*ON, "--value-compression-dict", "no")
    r = s.client()
    docs = fill(r, 200)
    assert compressed(r) == 200
    inf = info(r)
    assert inf["value_compression"] == "zstd"
    assert inf["compressed_values_original_bytes"] == sum(len(v) for v in docs.values())
    assert inf["compression_ratio"] > 1.4
    for k, v in docs.items():
        assert r.get(k) == v
        assert r.strlen(k) == len(v)
        assert r.object("encoding", k) == b"raw"
        assert r.memory_usage(k) < len(v) * 0.8
    assert r.mget(list(docs)[:50]) == list(docs.values())[:50]
    assert_keyspace_ok(r)
    # below the minimum size, or not worth it: kept as they are
    r.set("small", "x" * 200)
    r.set("random", os.urandom(600))
    assert compressed(r) == 200
    assert info(r)["compression_rejected"] >= 1
    # OFF by default
    s2 = make_sardine()
    r2 = s2.client()
    fill(r2, 10)
    assert info(r2)["value_compression"] == "no" and compressed(r2) == 0


def test_every_string_command_sees_the_plain_bytes(make_sardine, make_oracle):
    s = make_sardine(*ON, "--value-compression-min-size", "64")
    r = s.client()
    docs = fill(r, 20)
    o, ro = oracle_like(make_oracle, docs)
    assert compressed(r) == 20
    num = b"0" * 80 + b"1.5"
    for c in (r, ro):
        c.set("num", num)
        c.set("pad", b"ab" * 40)
        c.rpush("l", "doc:1", "doc:2", "num", "pad")
    assert compressed(r) == 22
    # a dense HyperLogLog copied with GET/SET is a string like any other (12 KB, mostly zero registers)
    r.pfadd("hll-src", *[f"e{i}" for i in range(3000)])
    ro.pfadd("hll-src", *[f"e{i}" for i in range(3000)])
    dense = r.get("hll-src")
    assert dense == ro.get("hll-src") and len(dense) > 12000
    for cl in (r, ro):
        cl.set("hll", dense)
        cl.set("hll2", dense)
    assert compressed(r) == 24
    cmds = [
        ("PFCOUNT", "hll"), ("PFADD", "hll", "new1", "new2"), ("PFCOUNT", "hll"), ("GET", "hll"),
        ("PFMERGE", "hll3", "hll2", "hll-src"), ("PFCOUNT", "hll3"), ("PFCOUNT", "hll2", "doc:1"),
        ("GET", "doc:1"), ("STRLEN", "doc:2"), ("GETRANGE", "doc:3", 0, 40), ("GETRANGE", "doc:3", -30, -1),
        ("SUBSTR", "doc:4", 5, 9), ("LCS", "doc:5", "doc:6", "LEN"), ("LCS", "doc:5", "pad"),
        ("LCS", "doc:7", "doc:8", "IDX", "MINMATCHLEN", "12", "WITHMATCHLEN"),
        ("GETBIT", "doc:9", 100), ("BITCOUNT", "doc:9"), ("BITCOUNT", "doc:9", 3, 60, "BIT"),
        ("BITPOS", "doc:9", 0), ("BITPOS", "pad", 1, 2), ("BITFIELD_RO", "doc:10", "GET", "u8", 16),
        ("BITFIELD", "doc:10", "GET", "i16", 3), ("BITOP", "AND", "dst", "doc:11", "doc:12", "pad"),
        ("GET", "dst"), ("BITOP", "NOT", "dst2", "doc:13"), ("GET", "dst2"),
        ("PFCOUNT", "doc:14"), ("PFADD", "doc:14", "x"),
        ("INCRBYFLOAT", "num", "1"), ("GET", "num"), ("INCR", "pad"),
        ("APPEND", "doc:15", "tail"), ("GET", "doc:15"), ("STRLEN", "doc:15"),
        ("SETRANGE", "doc:16", 10, "XYZ"), ("GET", "doc:16"), ("SETRANGE", "doc:17", 2000, "far"),
        ("GET", "doc:17"), ("SETBIT", "doc:18", 7, 1), ("GET", "doc:18"),
        ("BITFIELD", "doc:19", "INCRBY", "u8", 0, 1), ("GET", "doc:19"),
        ("GETSET", "doc:0", "short"), ("GETDEL", "doc:2"), ("GETEX", "doc:3", "PX", "100000"), ("GET", "doc:3"),
        ("SET", "doc:4", "v", "GET"), ("COPY", "doc:5", "copy"), ("DEL", "doc:5"), ("GET", "copy"),
        ("RENAME", "doc:6", "renamed"), ("GET", "renamed"), ("MOVE", "doc:7", 1), ("SELECT", 1), ("GET", "doc:7"),
        ("SELECT", 0), ("SORT", "l", "BY", "nosort", "GET", "*"), ("SORT", "l", "ALPHA", "GET", "#", "GET", "*"),
        ("OBJECT", "ENCODING", "doc:8"), ("DUMP", "doc:8"), ("DUMP", "pad"), ("DUMP", "num"),
        ("RESTORE", "restored", 0, "__DUMP__"), ("GET", "restored"),
    ]
    rc, oc = Raw(s.port), Raw(o.port)
    dumped = {}
    for args in cmds:
        args = tuple(dumped.get("doc:8", a) if a == "__DUMP__" else a for a in args)
        got, want = rc.cmd(*args), oc.cmd(*args)
        assert got == want, f"{args}: sardine {got!r}, redis {want!r}"
        if args[:2] == ("DUMP", "doc:8"):
            dumped["doc:8"] = got
    # writes in place left raw values; compressed ones that remain are still compressed
    assert rc.cmd("OBJECT", "ENCODING", "doc:15") == b"raw"
    assert compressed(r) >= 10
    assert_keyspace_ok(r)
    assert_same_digest(r, ro)


def test_dump_payload_restores_on_redis(make_sardine, make_oracle):
    s = make_sardine(*ON)
    r = s.client()
    docs = fill(r, 30)
    assert compressed(r) == 30
    o = make_oracle()
    ro = o.client()
    for k in docs:
        ro.restore(k, 0, r.dump(k))
        assert ro.get(k) == docs[k]
        assert r.execute_command("DEBUG", "DIGEST-VALUE", k) == ro.execute_command("DEBUG", "DIGEST-VALUE", k)
    assert_same_digest(r, ro)


def test_dictionary_is_trained_and_pays(make_sardine):
    s = make_sardine(*ON)
    r = s.client()
    docs = fill(r, 1100)
    wait_until(lambda: info(r)["compression_dict"] != "sampling" and (r.set("poke", doc(random.Random(9))) or True)
               and info(r)["compression_dict"] in ("ready", "unprofitable"), timeout=60, msg="the dictionary")
    assert info(r)["compression_dict"] == "ready"
    assert info(r)["compression_dicts"] == 1
    before = {k: r.memory_usage(k) for k in list(docs)[:100]}
    more = fill(r, 300, seed=2, prefix="new:")
    after = [r.memory_usage(k) for k in list(more)[:100]]
    assert sum(after) < 0.75 * sum(before.values())  # the dictionary pays on these documents
    for k, v in list(docs.items()) + list(more.items()):
        assert r.get(k) == v
    assert_keyspace_ok(r)
    # a reload frees every value and loads them again with the same dictionary
    d0, n0 = digest(r), compressed(r)
    assert r.execute_command("DEBUG", "RELOAD") == b"OK"
    assert digest(r) == d0 and compressed(r) == n0 and info(r)["compression_dicts"] == 1
    assert r.get("new:7") == more["new:7"]
    # the dictionary stays while values use it, and after they are gone (it is the current one)
    r.flushall()
    assert info(r)["compression_dicts"] == 1
    more = fill(r, 50, seed=3)
    assert all(r.get(k) == v for k, v in more.items())


def test_dictionary_trained_while_a_file_loads(make_sardine):
    """A restart trains the dictionary from the file's first values at once (the load blocks anyway),
    so the rest of the file is compressed with it."""
    s = make_sardine(*ON)
    r = s.client()
    docs = fill(r, 3000)
    assert r.save()
    s2 = make_sardine(*ON, "--dir", s.dir)
    r2 = s2.client()
    inf = info(r2)
    assert inf["compression_dict"] == "ready" and inf["compressed_values"] == 3000
    assert "dictionary of" in s2.read_log()
    assert inf["compression_ratio"] > 2.5  # 1000 values without it (x1.7), 2000 with it (x3.5 or more)
    assert all(r2.get(k) == v for k, v in list(docs.items())[::10])
    r2.flushall()


def test_debug_reload_and_restart_keep_values_compressed(make_sardine):
    s = make_sardine(*ON, "--value-compression-dict", "no")
    r = s.client()
    docs = fill(r, 300)
    r.set("ttl", docs["doc:1"], ex=1000)
    d0 = digest(r)
    assert r.execute_command("DEBUG", "RELOAD") == b"OK"
    assert digest(r) == d0
    assert compressed(r) == 301
    assert r.get("doc:7") == docs["doc:7"] and 0 < r.ttl("ttl") <= 1000
    assert r.save()
    rdb = os.path.join(s.dir, "dump.rdb")
    # the file is plain Redis: redis-server loads it to the same digest
    odir = os.path.join(s.dir, "o")
    os.makedirs(odir)
    shutil.copy(rdb, os.path.join(odir, "dump.rdb"))
    o = Server(REDIS_SERVER, ("--dir", odir), "redis")
    try:
        check_oracle(o)
        ro = o.client()
        assert ro.dbsize() == 301
        assert digest(ro) == d0
    finally:
        o.stop()
    # a restart of Sardine loads it compressed again
    s2 = make_sardine(*ON, "--value-compression-dict", "no", "--dir", os.path.dirname(rdb))
    r2 = s2.client()
    assert digest(r2) == d0 and compressed(r2) == 301
    r2.flushall()


def test_aof_rewrite_writes_plain_values(make_sardine):
    for preamble in ("yes", "no"):
        s = make_sardine(*ON, "--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
        r = s.client()
        docs = fill(r, 100)
        assert compressed(r) == 100
        r.bgrewriteaof()
        wait_until(lambda: r.info("persistence")["aof_rewrite_in_progress"] == 0
                   and r.info("persistence")["aof_rewrite_scheduled"] == 0
                   and r.info("persistence")["aof_rewrites"] >= 1, timeout=60, msg="the rewrite")
        d0 = digest(r)
        aofdir = os.path.join(s.dir, "appendonlydir")
        base = [f for f in os.listdir(aofdir) if ".base." in f][0]
        data = open(os.path.join(aofdir, base), "rb").read()
        if preamble == "no":
            assert docs["doc:3"] in data  # the plain bytes, in a SET
        # redis-server replays the directory to the same dataset
        odir = os.path.join(s.dir, "o")
        shutil.copytree(aofdir, os.path.join(odir, "appendonlydir"))
        o = Server(REDIS_SERVER, ("--dir", odir, "--appendonly", "yes"), "redis")
        try:
            check_oracle(o)
            assert digest(o.client()) == d0
        finally:
            o.stop()
        r.config_set("appendonly", "no")
        r.flushall()


def test_config_set_on_and_off_with_both_kinds(make_sardine):
    s = make_sardine("--value-compression-dict", "no")
    r = s.client()
    assert r.config_get("value-compression*") == {
        "value-compression": "no", "value-compression-min-size": "256", "value-compression-level": "3",
        "value-compression-dict": "no"}
    plain = fill(r, 20, prefix="plain:")
    assert compressed(r) == 0
    assert r.config_set("value-compression", "zstd")
    packed = fill(r, 20, seed=2, prefix="packed:")
    assert compressed(r) == 20
    assert r.config_set("value-compression", "no")
    later = fill(r, 5, seed=3, prefix="later:")
    assert compressed(r) == 20
    for k, v in {**plain, **packed, **later}.items():
        assert r.get(k) == v and r.strlen(k) == len(v)
    # a compressed value written in place becomes raw; a new SET of it is not compressed while off
    r.append("packed:0", "!")
    assert compressed(r) == 19
    assert r.get("packed:0") == packed["packed:0"] + b"!"
    r.config_set("value-compression", "zstd")
    r.config_set("value-compression-min-size", "2000")
    r.set("big-enough?", plain["plain:1"])
    assert compressed(r) == 19
    r.config_set("value-compression-min-size", "64")
    r.config_set("value-compression-level", "9")
    r.set("now", plain["plain:1"])
    assert compressed(r) == 20 and r.get("now") == plain["plain:1"]
    assert_keyspace_ok(r)


@pytest.mark.parametrize("name,value,err", [
    ("value-compression", "lz5", "argument(s) must be one of the following: no, zstd"),
    ("value-compression", "", "argument(s) must be one of the following: no, zstd"),
    ("value-compression-min-size", "10", "argument must be between 64 and 1048576 inclusive"),
    ("value-compression-min-size", "2mb", "argument must be between 64 and 1048576 inclusive"),
    ("value-compression-min-size", "abc", "argument must be a memory value"),
    ("value-compression-level", "0", "argument must be between 1 and 19 inclusive"),
    ("value-compression-level", "20", "argument must be between 1 and 19 inclusive"),
    ("value-compression-dict", "maybe", "argument must be 'yes' or 'no'"),
])
def test_bad_values_are_refused(sardine, name, value, err):
    c = Raw(sardine.port)
    assert c.cmd("CONFIG", "SET", name, value) == Err(
        f"ERR CONFIG SET failed (possibly related to argument '{name}') - {err}")


def test_bad_value_in_the_config_file(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("port 0\nvalue-compression gzip\n")
    p = subprocess.run([SARDINE_SERVER, str(conf)], capture_output=True, timeout=10)
    out = (p.stdout + p.stderr).decode(errors="replace")
    assert p.returncode == 1 and "*** FATAL CONFIG FILE ERROR" in out and ">>> 'value-compression gzip'" in out
    assert "argument(s) must be one of the following: no, zstd" in out
