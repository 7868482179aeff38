"""RESTORE and the RDB reader against the oracle: payloads made by redis-server 7.0's DUMP for every type
and encoding are RESTOREd in Sardine and compared with DEBUG DIGEST-VALUE; an RDB file made by
redis-server 7.0's SAVE is loaded with DEBUG LOAD-RDB (Sardine's own test hook) and compared with DEBUG
DIGEST; RESTORE's options and errors are Redis 7.0's; corrupt payloads (truncations at every byte, flipped
bytes, huge lengths) give an error and leave the server serving."""
import os
import random
import shutil
import struct
import time

import pytest

from conftest import IS_REAL_REDIS
from harness import assert_key_ok, assert_keyspace_ok

SARDINE_ONLY = pytest.mark.skipif(IS_REAL_REDIS, reason="DEBUG LOAD-RDB / PROPAGATION-LOG are Sardine's own")


def fill_every_type(r, big=2000):
    """One key per type and encoding Redis 7.0 has, on a redis-server (or Sardine)."""
    r.set("s:int", 12345)
    r.set("s:neg", -9000000000)
    r.set("s:emb", "hello world")
    r.set("s:raw", "x" * 100)                                # long and repetitive: LZF in DUMP/RDB
    r.set("s:rnd", bytes(random.Random(1).randrange(256) for _ in range(300)))
    r.set("s:empty", "")
    r.rpush("l:small", "a", "b", 1, 2, -3, "c" * 70)
    r.rpush("l:big", *[f"elem:{i}" for i in range(big)])
    r.rpush("l:ints", *range(big))
    r.sadd("set:int", 1, 2, 3, -5, 100000, 2 ** 40)
    r.sadd("set:str", "a", "b", "c")
    r.sadd("set:bigint", *range(big))
    r.sadd("set:big", *[f"m{i}" for i in range(big)])
    r.zadd("z:small", {"a": 1, "b": 2.5, "c": -3, "d": float("inf"), "e": 1e300})
    r.zadd("z:big", {f"member:{i}": i * 0.5 for i in range(big)})
    r.zadd("z:same", {f"m{i}": 7 for i in range(300)})
    r.hset("h:small", mapping={"f1": "v1", "f2": 2, "f3": "x" * 30})
    r.hset("h:big", mapping={f"field:{i}": f"value:{i}" for i in range(big)})
    r.hset("h:long", mapping={"f": "y" * 100})
    for i in range(50):
        r.xadd("x:s", {"a": i, "b": "text"}, id=f"{1000 + i}-0")
    for i in range(20):
        r.xadd("x:s", {"other": i}, id=f"{2000 + i}-1")
    r.xdel("x:s", "1003-0", "2005-1")
    r.xgroup_create("x:s", "g1", id="0")
    r.xgroup_create("x:s", "g2", id="1010-0")
    r.xreadgroup("g1", "alice", {"x:s": ">"}, count=5)
    r.xreadgroup("g1", "bob", {"x:s": ">"}, count=3)
    r.xack("x:s", "g1", "1001-0")
    r.xgroup_createconsumer("x:s", "g2", "idle")
    r.xadd("x:empty", {"a": 1}, id="5-5")
    r.xdel("x:empty", "5-5")
    r.set("ttl:key", "v", px=3600_000)
    r.hset("ttl:h", "a", "b")
    r.expire("ttl:h", 1000)


def crc64(data, crc=0):
    """The CRC-64 of RDB files and DUMP payloads (Jones polynomial, reflected)."""
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x95AC9329AC4BC9B5 if crc & 1 else 0)
    return crc


def digest_value(r, key):
    return r.execute_command("DEBUG", "DIGEST-VALUE", key)


def test_restore_every_type_from_redis_dump(oracle, sardine):
    o, s = oracle.client(), sardine.client()
    fill_every_type(o)
    keys = sorted(k.decode() for k in o.keys("*"))
    assert len(keys) > 20
    for k in keys:
        payload = o.dump(k)
        assert s.restore(k, max(o.pttl(k), 0), payload) == b"OK", k
        assert digest_value(s, k) == digest_value(o, k), k
        assert s.type(k) == o.type(k)
        assert s.object("encoding", k) == o.object("encoding", k), k
    assert s.execute_command("DEBUG", "DIGEST") != b"0" * 40
    assert_keyspace_ok(s)
    assert s.lrange("l:small", 0, -1) == o.lrange("l:small", 0, -1)
    assert s.zrange("z:big", 0, 5, withscores=True) == o.zrange("z:big", 0, 5, withscores=True)
    assert s.xinfo_stream("x:s")["length"] == o.xinfo_stream("x:s")["length"]
    assert s.xpending("x:s", "g1") == o.xpending("x:s", "g1")


def test_restore_with_small_limits_converts(oracle, make_sardine):
    """Payloads of compact encodings beyond the target's limits are converted on load, as Redis does."""
    o = oracle.client()
    s = make_sardine("--hash-max-listpack-entries", "4", "--zset-max-listpack-entries", "4",
                     "--set-max-intset-entries", "4", "--list-max-listpack-size", "2").client()
    o.hset("h", mapping={f"f{i}": i for i in range(10)})
    o.zadd("z", {f"m{i}": i for i in range(10)})
    o.sadd("s", *range(10))
    o.rpush("l", *range(10))
    for k, enc in (("h", b"hashtable"), ("z", b"skiplist"), ("s", b"hashtable"), ("l", b"quicklist")):
        s.restore(k, 0, o.dump(k))
        assert s.object("encoding", k) == enc
        assert digest_value(s, k) == digest_value(o, k)
    assert_keyspace_ok(s)


@SARDINE_ONLY
def test_load_rdb_file_from_redis(oracle, sardine):
    o, s = oracle.client(), sardine.client()
    fill_every_type(o)
    o3 = oracle.client(db=3)
    o3.set("in-db-3", "x")
    o3.zadd("z3", {"a": 1})
    o.save()
    path = os.path.join(oracle.dir, "dump.rdb")
    assert os.path.exists(path)
    copy = os.path.join(sardine.dir, "from-redis.rdb")
    shutil.copy(path, copy)
    assert s.execute_command("DEBUG", "LOAD-RDB", copy) == b"OK"
    assert s.execute_command("DEBUG", "DIGEST") == o.execute_command("DEBUG", "DIGEST")
    assert s.dbsize() == o.dbsize()
    assert sardine.client(db=3).get("in-db-3") == b"x"
    assert 3590_000 < s.pttl("ttl:key") <= 3600_000
    assert_keyspace_ok(s)


@SARDINE_ONLY
def test_load_rdb_skips_expired_and_checks_crc(oracle, sardine):
    o, s = oracle.client(), sardine.client()
    o.set("gone", "v", px=50)
    o.set("stays", "v")
    o.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    o.save()
    time.sleep(0.1)
    path = os.path.join(oracle.dir, "dump.rdb")
    data = open(path, "rb").read()
    good = os.path.join(sardine.dir, "a.rdb")
    open(good, "wb").write(data)
    assert s.execute_command("DEBUG", "LOAD-RDB", good) == b"OK"
    assert s.keys("*") == [b"stays"]
    bad = bytearray(data)
    bad[-1] ^= 1                                            # the CRC64 trailer
    open(good, "wb").write(bytes(bad))
    with pytest.raises(Exception, match="Wrong RDB checksum"):
        s.execute_command("DEBUG", "LOAD-RDB", good)
    assert s.dbsize() == 0                                  # nothing half-loaded stays
    assert s.ping()


def test_restore_errors_as_redis(oracle, sardine):
    """Every error text and option rule, compared reply by reply with the oracle."""
    o = oracle.client()
    o.set("src", "value")
    o.zadd("zsrc", {"a": 1})
    good = o.dump("src")
    cases = [
        ["RESTORE", "k", "0", good],
        ["RESTORE", "k", "0", good],                            # BUSYKEY
        ["RESTORE", "k", "0", good, "REPLACE"],
        ["RESTORE", "k2", "-1", good],
        ["RESTORE", "k2", "abc", good],
        ["RESTORE", "k2", "0", b"garbage"],
        ["RESTORE", "k2", "0", good[:-1] + bytes([good[-1] ^ 1])],
        ["RESTORE", "k2", "0", b""],
        ["RESTORE", "k2", "0", good, "IDLETIME", "-1"],
        ["RESTORE", "k2", "0", good, "IDLETIME", "x"],
        ["RESTORE", "k2", "0", good, "FREQ", "256"],
        ["RESTORE", "k2", "0", good, "FREQ", "-1"],
        ["RESTORE", "k2", "0", good, "FREQ", "1", "IDLETIME", "1"],
        ["RESTORE", "k2", "0", good, "IDLETIME", "1", "FREQ", "1"],
        ["RESTORE", "k2", "0", good, "IDLETIME"],
        ["RESTORE", "k2", "0", good, "BOGUS"],
        ["RESTORE", "k3", "0", good, "IDLETIME", "100"],
        ["OBJECT", "IDLETIME", "k3"],
        ["RESTORE", "k4", "5000", good],
        ["RESTORE", "k5", "1", good, "ABSTTL"],                 # a deadline in the past: not created
        ["EXISTS", "k5"],
        ["RESTORE", "k", "1", good, "ABSTTL", "REPLACE"],       # replaces with an expired key: deleted
        ["EXISTS", "k"],
        ["RESTORE-ASKING", "k6", "0", good],
        ["GET", "k6"],
        ["RESTORE", "k7", "0", o.dump("zsrc")],
        ["ZSCORE", "k7", "a"],
        ["RESTORE", "k7"],
    ]
    outs = []
    for side in (oracle, sardine):
        r = side.client()
        got = []
        for cmd in cases:
            try:
                got.append(r.execute_command(*cmd))
            except Exception as e:  # noqa: BLE001
                got.append(("ERR", str(e)))
        outs.append(got)
    for cmd, a, b in zip(cases, outs[0], outs[1]):
        assert a == b, (cmd[:2], a, b)
    assert 4000 < sardine.client().pttl("k4") <= 5000


def corrupt_inputs(payload, seed):
    rnd = random.Random(seed)
    out = [payload[:i] for i in range(len(payload))]          # every truncation
    for _ in range(200):
        b = bytearray(payload)
        for _ in range(rnd.randrange(1, 4)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        out.append(bytes(b))
    return out


@SARDINE_ONLY  # redis-server itself may crash on them (sanitize-dump-payload no)
def test_corrupt_payloads_give_errors(oracle, sardine):
    """Truncations at every byte, random byte changes (with the CRC fixed up so the value is parsed),
    huge lengths: an error or a consistent key, never a crash; the server keeps serving."""
    o, s = oracle.client(), sardine.client()
    o.rpush("l", *range(20))
    o.hset("h", mapping={f"f{i}": i for i in range(10)})
    o.zadd("z", {f"m{i}": i for i in range(10)})
    o.sadd("si", *range(10))
    o.sadd("ss", *[f"m{i}" for i in range(200)])
    o.set("str", "x" * 200)
    for i in range(20):
        o.xadd("x", {"a": i}, id=f"{i + 1}-0")
    o.xgroup_create("x", "g", id="0")
    o.xreadgroup("g", "c", {"x": ">"}, count=3)
    payloads = [o.dump(k) for k in ("l", "h", "z", "si", "ss", "str", "x")]
    for mode in ("no", "yes"):
        s.config_set("sanitize-dump-payload", mode)
        for n, p in enumerate(payloads):
            for bad in corrupt_inputs(p, n):
                body = bad[:-8] if len(bad) >= 10 else bad
                fixed = body + crc64(body).to_bytes(8, "little") if len(bad) >= 10 else bad
                for cand in (bad, fixed):
                    try:
                        s.restore("victim", 0, cand, replace=True)
                    except Exception as e:  # noqa: BLE001
                        assert "Bad data format" in str(e) or "checksum are wrong" in str(e), str(e)
                        continue
                    if mode == "yes":
                        assert_key_ok(s, "victim")
                    s.delete("victim")
    # huge declared lengths: a string claiming 2^62 bytes, a list of 2^60 elements
    for body in (b"\x00\x81" + (1 << 62).to_bytes(8, "big") + b"abc",
                 b"\x12\x81" + (1 << 60).to_bytes(8, "big") + b"\x02\x03abc",
                 b"\x00\xc3\x81" + (1 << 40).to_bytes(8, "big") + b"\x10" + b"abc"):
        body += (10).to_bytes(2, "little")
        with pytest.raises(Exception, match="Bad data format"):
            s.restore("huge", 0, body + crc64(body).to_bytes(8, "little"))
    assert s.ping()
    assert_keyspace_ok(s)


@SARDINE_ONLY
def test_corrupt_rdb_files_give_errors(oracle, sardine):
    o, s = oracle.client(), sardine.client()
    fill_every_type(o, big=300)
    o.save()
    data = open(os.path.join(oracle.dir, "dump.rdb"), "rb").read()
    path = os.path.join(sardine.dir, "c.rdb")
    rnd = random.Random(5)
    cuts = sorted(set(rnd.randrange(len(data)) for _ in range(150)))
    for cut in cuts:
        open(path, "wb").write(data[:cut])
        with pytest.raises(Exception):
            s.execute_command("DEBUG", "LOAD-RDB", path)
        assert s.dbsize() == 0
    s.config_set("sanitize-dump-payload", "yes")
    for i in range(150):
        b = bytearray(data)
        b[rnd.randrange(9, len(b) - 9)] ^= 1 << rnd.randrange(8)
        b[-8:] = b"\0" * 8                                      # checksum off: the flip reaches the parser
        open(path, "wb").write(bytes(b))
        try:
            s.execute_command("DEBUG", "LOAD-RDB", path)
        except Exception:  # noqa: BLE001
            assert s.dbsize() == 0
            continue
        assert_keyspace_ok(s)
    assert s.ping()


def fix_crc(payload):
    body = payload[:-8]
    return body + crc64(body).to_bytes(8, "little")


def test_big_collections_and_duplicates(oracle, sardine):
    """Big sets, hashes and sorted sets (tables sized at once, the index built in bulk from DUMP's
    descending order or sorted when the order is broken) match the oracle; a payload that names one
    member twice is refused."""
    o, s = oracle.client(), sardine.client()
    n = 20000
    o.zadd("z", {f"member:{i:05d}": (i * 7919) % 1000 / 10 for i in range(n)})    # many ties
    o.hset("h", mapping={f"field:{i:05d}": i for i in range(n)})
    o.sadd("s", *[f"member:{i:05d}" for i in range(n)])
    for k in ("z", "h", "s"):
        p = o.dump(k)
        assert s.restore(k, 0, p) == b"OK"
        assert digest_value(s, k) == digest_value(o, k)
        assert_key_ok(s, k)
        dup = fix_crc(p.replace(b"member:00001" if k != "h" else b"field:00001",
                                b"member:00002" if k != "h" else b"field:00002", 1))
        assert dup != p
        with pytest.raises(Exception, match="Bad data format"):
            s.restore(k + ":dup", 0, dup)
    # scores out of order (a hand-made payload, not DUMP's order): sorted, same set
    z = o.dump("z")
    swapped = bytearray(z)
    a, b = z.find(b"member:00010"), z.find(b"member:00011")
    swapped[a:a + 12], swapped[b:b + 12] = z[b:b + 12], z[a:a + 12]
    assert s.restore("z2", 0, fix_crc(bytes(swapped))) == b"OK"
    assert_key_ok(s, "z2")
    assert s.zscore("z2", "member:00010") == o.zscore("z", "member:00011")
    assert s.zrange("z2", 0, -1) == sorted(s.zrange("z2", 0, -1), key=lambda m: (s.zscore("z2", m), m))
    assert s.ping()


def test_big_zset_duplicates_met_while_arriving(oracle, sardine):
    """A sorted set big enough for its member table to be filled while the payload still arrives: a member
    named twice early, in the middle or last is refused however far the filling had got, and the set
    restored whole otherwise."""
    o, s = oracle.client(), sardine.client()
    n = 150000
    pipe = o.pipeline(transaction=False)
    for i in range(0, n, 10000):
        pipe.zadd("z", {f"member:{j:06d}": j * 0.5 for j in range(i, i + 10000)})
    pipe.execute()
    p = o.dump("z")
    assert s.restore("z", 0, p) == b"OK"
    assert digest_value(s, "z") == digest_value(o, "z")
    assert_key_ok(s, "z")
    # DUMP writes the highest score first: member:149999 comes first, member:000000 last
    for a, b in ((149998, 149999), (75000, 75001), (0, 1)):
        dup = fix_crc(p.replace(b"member:%06d" % a, b"member:%06d" % b, 1))
        assert dup != p
        with pytest.raises(Exception, match="Bad data format"):
            s.restore(f"z:{a}", 0, dup)
    assert s.dbsize() == 1
    assert s.ping()


def test_big_zset_members_of_every_form(oracle, sardine):
    """A big sorted set whose members take every form a payload gives them (short plain strings, read in
    place; integers; empty; 14-bit lengths; LZF) is restored as Redis restores it, and a NaN score among
    short members is refused with Redis's error."""
    o, s = oracle.client(), sardine.client()
    rnd = random.Random(11)
    members = {}
    for i in range(3000):
        form = i % 6
        m = (f"m{i}", str(i * 7), "", "".join(rnd.choice("abcdef0123456789") for _ in range(70 + i % 5)),
             "x" * 100 + str(i), f"member:{i:06d}" + "y" * (i % 60))[form]
        members[m] = rnd.choice((rnd.uniform(-1e6, 1e6), i // 10, float("inf"), float("-inf")))
    o.zadd("z", members)
    assert o.object("encoding", "z") == b"skiplist"
    p = o.dump("z")
    assert s.restore("z", 0, p) == b"OK"
    assert digest_value(s, "z") == digest_value(o, "z")
    assert s.zrange("z", 0, -1, withscores=True) == o.zrange("z", 0, -1, withscores=True)
    assert_key_ok(s, "z")
    # from a file (DEBUG RELOAD): 100,000 short members more, so that members straddle the 1 MiB windows
    pipe = o.pipeline(transaction=False)
    for i in range(0, 100000, 10000):
        pipe.zadd("zs", {f"s{j}": rnd.choice((j % 7, rnd.random())) for j in range(i, i + 10000)})
    pipe.execute()
    assert s.restore("zs", 0, o.dump("zs")) == b"OK"
    assert s.execute_command("DEBUG", "RELOAD") == b"OK"
    for k in ("z", "zs"):
        assert digest_value(s, k) == digest_value(o, k)
        assert_key_ok(s, k)
    # 200 short members, the 100th with a NaN score: both refuse it
    body = bytes([5, 0x40 | (200 >> 8), 200 & 0xFF])
    for i in range(200):
        m = b"n%03d" % i
        score = struct.pack("<d", float("nan") if i == 100 else float(200 - i))
        body += bytes([len(m)]) + m + score
    body += (10).to_bytes(2, "little")
    nan = body + crc64(body).to_bytes(8, "little")
    for c in (o, s):
        with pytest.raises(Exception, match="Bad data format"):
            c.restore("nan", 0, nan)
    assert s.exists("nan") == 0 and s.ping()


@SARDINE_ONLY
def test_big_hash_and_set_serialized_whole(oracle, sardine):
    """Hashes and sets of 100,000 elements grown by writes (tables of many segments of unequal depths,
    walked in storage order when serialized): Sardine's DUMP restored by redis-server, DEBUG RELOAD, and an
    AOF rewrite in command form loaded back (DEBUG LOADAOF) all give the same DIGEST-VALUE."""
    o, s = oracle.client(), sardine.client()
    pipe = s.pipeline(transaction=False)
    for i in range(0, 100000, 5000):
        pipe.hset("h", mapping={f"field:{j}": "v" * (j % 50) for j in range(i, i + 5000)})
        pipe.sadd("s", *[f"member:{j}" for j in range(i, i + 5000)])
    pipe.execute()
    s.hdel("h", *[f"field:{j}" for j in range(0, 100000, 7)])
    s.srem("s", *[f"member:{j}" for j in range(0, 100000, 11)])
    want = {k: digest_value(s, k) for k in ("h", "s")}
    for k in ("h", "s"):
        assert o.restore(k, 0, s.dump(k)) == b"OK"
        assert digest_value(o, k) == want[k], k
    assert s.execute_command("DEBUG", "RELOAD") == b"OK"
    assert {k: digest_value(s, k) for k in ("h", "s")} == want
    s.config_set("aof-use-rdb-preamble", "no")
    s.config_set("appendonly", "yes")  # rewrites first, as Redis does
    for _ in range(600):
        p = s.info("persistence")
        if p["aof_rewrite_in_progress"] == 0 and p["aof_rewrite_scheduled"] == 0 and p["aof_rewrites"] >= 1:
            break
        time.sleep(0.05)
    assert s.execute_command("DEBUG", "LOADAOF") == b"OK"
    assert {k: digest_value(s, k) for k in ("h", "s")} == want
    assert_keyspace_ok(s)


@SARDINE_ONLY
def test_restore_propagation(oracle, sardine):
    """A relative TTL goes out as an absolute one with ABSTTL; REPLACE of a key with an already expired
    TTL goes out as DEL; a RESTORE that creates nothing goes out as nothing (Redis 7.0's forms)."""
    from harness import parse_commands
    o, s = oracle.client(), sardine.client()
    o.set("src", "value")
    p = o.dump("src")
    log = os.path.join(sardine.dir, "prop.log")
    assert s.execute_command("DEBUG", "PROPAGATION-LOG", log) == b"OK"
    before = int(time.time() * 1000)
    s.restore("a", 10000, p)
    s.restore("b", 0, p, idletime=5)
    s.restore("a", 1, p, replace=True, absttl=True)          # expired: the old key is deleted
    s.restore("c", 1, p, absttl=True)                        # expired, nothing there: nothing happens
    s.execute_command("DEBUG", "PROPAGATION-LOG", "OFF")
    cmds = [c for c in parse_commands(open(log, "rb").read()) if c[0].upper() != b"SELECT"]
    assert [c[0].upper() for c in cmds] == [b"RESTORE", b"RESTORE", b"DEL"]
    a = cmds[0]
    assert a[1] == b"a" and a[3] == p and a[-1].upper() == b"ABSTTL"
    assert before + 10000 <= int(a[2]) <= int(time.time() * 1000) + 10000
    assert cmds[1] == [b"RESTORE", b"b", b"0", p, b"IDLETIME", b"5"]
    assert cmds[2] == [b"DEL", b"a"]
    assert s.exists("a", "c") == 0 and s.object("idletime", "b") >= 5


def test_store_commands_build_their_index_in_bulk(oracle, sardine):
    """ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE results go through the same bulk index build as RESTORE
    (zs_acc_finish): big results with ties, compared with the oracle and structure-checked."""
    o, s = oracle.client(), sardine.client()
    for r in (o, s):
        r.zadd("a", {f"m{i}": i % 50 for i in range(6000)})
        r.zadd("b", {f"m{i}": -(i % 7) for i in range(3000, 9000)})
        r.zunionstore("u", ["a", "b"])
        r.zinterstore("i", ["a", "b"], aggregate="MAX")
        r.zdiffstore("d", ["a", "b"])
    for k in ("u", "i", "d"):
        assert s.zrange(k, 0, -1, withscores=True) == o.zrange(k, 0, -1, withscores=True)
        assert_key_ok(s, k)
