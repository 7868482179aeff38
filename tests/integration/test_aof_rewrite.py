"""AOF rewrites in command form (aof-use-rdb-preamble no: persist/cmd_form.c through the forkless snapshot)
and function libraries in the AOF.

What is checked:
- a rewrite with aof-use-rdb-preamble no writes `<name>.<n>.base.aof` holding FUNCTION LOAD, SELECT, SET,
  RPUSH/SADD/ZADD/HMSET (64 elements per command), XADD/XSETID/XGROUP/XCLAIM and PEXPIREAT, as Redis 7.0's
  rewriteAppendOnlyFileRio: the same dataset rewritten by redis-server 7.0 and by Sardine (copied over with
  DUMP/RESTORE) gives the same commands, key by key; redis-check-aof accepts the directory; Sardine and
  redis-server 7.0 restarted on it hold the same dataset (DEBUG DIGEST, TTLs, streams' groups and pending
  entries through XINFO STREAM FULL, FUNCTION LIST WITHCODE) for every type and encoding, in several
  databases;
- the base is the dataset of the moment the rewrite started while writes race it (a throttled snapshot,
  as tests/integration/test_snapshot.py's point-in-time test), in both base formats;
- FUNCTION LOAD/DELETE/FLUSH/RESTORE are logged as sent, a rewrite's base starts with the libraries (RDB
  preamble and command form), restarts and DEBUG LOADAOF keep FUNCTION LIST, and directories with
  functions move between Sardine and redis-server 7.0 both ways;
- CONFIG SET appendonly yes and automatic rewrites with aof-use-rdb-preamble no on a non-empty dataset.
"""
import os
import random
import re
import shutil
import time

import pytest

from conftest import IS_REAL_REDIS, REDIS_SERVER, SARDINE_SERVER, Server
from harness import check_oracle, digest, parse_commands
from sardine_resp import Raw, encode, wait_until
from test_aof import check_aof, files, incr_commands, manifest, stop, workdir  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(IS_REAL_REDIS, reason="Sardine's AOF tests (they start redis-server themselves)")

LIB1 = "#!lua name=lib1\nredis.register_function('f1', function(keys, args) return 1 end)"
LIB1B = "#!lua name=lib1\nredis.register_function('f1', function(keys, args) return 2 end)"
LIB2 = ("#!lua name=lib2\nredis.register_function{function_name='f2', callback=function(keys, args) "
        "return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads a key'}")
LIB3 = "#!lua name=lib3\nredis.register_function('f3', function(keys, args) return 'three' end)"


def start_in(wd, sub, *args, kind="sardine"):
    """A server whose dir is `sub` inside the test's directory."""
    d, servers = wd
    path = os.path.join(d, sub)
    os.makedirs(path, exist_ok=True)
    s = Server(SARDINE_SERVER if kind == "sardine" else REDIS_SERVER, ("--dir", path) + tuple(args), kind)
    servers.append(s)
    if kind == "redis":
        check_oracle(s)
    return s


def wait_rewrite(r, count=None):
    def done():
        info = r.info("persistence")
        return info["aof_rewrite_in_progress"] == 0 and info["aof_rewrite_scheduled"] == 0 and (
            count is None or info["aof_rewrites"] >= count)
    wait_until(done, timeout=60, msg="the rewrite")
    assert r.info("persistence")["aof_last_bgrewrite_status"] == "ok"


def read_base(d):
    """The base file's name and its commands (annotations dropped)."""
    base = [m for m in manifest(d) if m[5] == "b"][0][1]
    with open(os.path.join(d, "appendonlydir", base), "rb") as f:
        data = f.read()
    while data.startswith(b"#"):
        data = data[data.index(b"\n") + 1:]
    return base, parse_commands(data)


# ---- the datasets ----

def fill_every_type(r, seed=1, dbs=(0, 3, 9)):
    """Every type and encoding (lists with compressed nodes, intsets and hashtable sets, listpack and skiplist
    sorted sets with infinite and tiny scores, listpack and hashtable hashes, streams with groups, consumers,
    pending entries, deleted entries and empty streams), keys with TTLs, in several databases."""
    rnd = random.Random(seed)
    r.config_set("list-compress-depth", 1)
    r.config_set("list-max-listpack-size", 16)
    p = r.pipeline(transaction=False)
    for db in dbs:
        p.select(db)
        p.set("int", 12345)
        p.set("negint", -9876543210123)
        p.set("bigint", "123456789012345678901")
        p.set("lead0", "007")
        p.set("empty", "")
        p.set("emb", "x" * 40)
        p.set("raw", "y" * 300)
        p.set("bin", bytes(range(256)))
        p.set("resp", "a\r\nb*3\r\n$1\r\n")
        p.set("float", "1.5")
        for i in range(200):
            p.set(f"s:{i}", rnd.choice([str(i), "v" * rnd.randint(1, 60)]))
            if i % 5 == 0:
                p.pexpire(f"s:{i}", 3_600_000 + i)
        p.rpush("list:small", *range(10))
        p.rpush("list:big", *[f"e{i}" for i in range(1000)])
        p.rpush("list:ints", *[rnd.randrange(-2 ** 63, 2 ** 63) for _ in range(200)])
        p.rpush("list:64", *range(64))
        p.rpush("list:65", *range(65))
        p.rpush("list:bin", b"", b"\x00\xff", b"\r\n")
        p.sadd("set:int", *range(100))
        p.sadd("set:bigint", *range(-300, 300))
        p.sadd("set:str", *[f"m{i}" for i in range(300)])
        p.sadd("set:one", "only")
        p.zadd("zset:small", {f"m{i}": i / 3 for i in range(20)})
        p.zadd("zset:big", {f"m{i}": rnd.random() * 1e6 - 5e5 for i in range(500)})
        p.zadd("zset:odd", {"lo": float("-inf"), "hi": float("inf"), "zero": 0, "negzero": -0.0,
                            "tiny": 5e-324, "third": 1 / 3, "big": 1.7976931348623157e308, "12": 12})
        p.hset("hash:small", mapping={f"f{i}": i for i in range(10)})
        p.hset("hash:big", mapping={f"f{i}": "v" * (i % 90) for i in range(300)})
        p.hset("hash:long", mapping={"f": "z" * 100, "n": 1})
        p.pfadd("hll", *range(50))
        p.xadd("stream", {"a": 1, "b": "two"}, id="1-1")
        for i in range(300):
            p.xadd("stream", {"f": i, "g": "x" * (i % 7)})
        p.xadd("stream", {"other": "fields", "n": -5}, id="99999999999999-0")
        p.xgroup_create("stream", "g1", id="0")
        p.xreadgroup("g1", "alice", {"stream": ">"}, count=5)
        p.xreadgroup("g1", "bob", {"stream": ">"}, count=3)
        p.execute_command("XGROUP", "CREATECONSUMER", "stream", "g1", "carol")
        p.xgroup_create("stream", "g0", id="$")
        p.xdel("stream", "99999999999999-0")  # not pending: max-deleted-entry-id moves
        p.xgroup_create("stream:empty", "g", id="$", mkstream=True)
        p.xadd("stream:trimmed", {"a": 1}, id="5-5")
        p.xadd("stream:trimmed", {"a": 2}, id="6-0")
        p.xtrim("stream:trimmed", maxlen=0)
        p.xadd("stream:big", {"k": "v"}, id="1-0")
        for i in range(2, 200):
            p.xadd("stream:big", {"k": i}, id=f"{i}-0")
        p.xgroup_create("stream:big", "many", id="0")
        p.xreadgroup("many", "c1", {"stream:big": ">"}, count=150)
        p.set("ttl", "v", px=50_000_000)
        p.pexpire("list:big", 40_000_000)
        p.pexpire("zset:big", 30_000_000)
        p.pexpire("hash:big", 20_000_000)
        p.pexpire("stream", 10_000_000)
        p.pexpire("set:one", 9_000_000)
    p.select(0)
    p.execute()
    r.config_set("list-compress-depth", 0)
    r.config_set("list-max-listpack-size", -2)


def fill_deleted_pending(r):
    """A pending entry whose message was deleted: Redis 7.0's rewrite claims it with XCLAIM, which drops it
    from the PEL when the message is gone; the reloaded servers agree with each other, not with the original."""
    r.xadd("stream:delpending", {"a": 1}, id="1-1")
    r.xadd("stream:delpending", {"a": 2}, id="2-1")
    r.xgroup_create("stream:delpending", "g", id="0")
    r.xreadgroup("g", "dave", {"stream:delpending": ">"})
    r.xdel("stream:delpending", "1-1")


def load_functions(r):
    r.execute_command("FUNCTION", "LOAD", LIB1)
    r.execute_command("FUNCTION", "LOAD", LIB2)


def functions(r):
    libs = r.execute_command("FUNCTION", "LIST", "WITHCODE")
    return sorted(repr(lib) for lib in libs)


def xinfo(r, key):
    """XINFO STREAM FULL without what a reload may change: consumers' seen-time (XCLAIM sets it) and the radix
    tree's shape (a stream rebuilt by XADD has no deleted entries left in its nodes)."""
    info = r.execute_command("XINFO", "STREAM", key, "FULL")
    d = dict(zip(info[::2], info[1::2]))
    for k in (b"radix-tree-keys", b"radix-tree-nodes"):
        d.pop(k, None)
    groups = []
    for g in d.pop(b"groups") or []:
        gd = dict(zip(g[::2], g[1::2]))
        cons = []
        for c in gd.pop(b"consumers") or []:
            cd = dict(zip(c[::2], c[1::2]))
            cd.pop(b"seen-time", None)
            cons.append(sorted(cd.items()))
        gd[b"consumers"] = cons
        groups.append(sorted(gd.items()))
    d[b"groups"] = groups
    return sorted(d.items())


def state(r, dbs=(0, 3, 9), skip=()):
    """Everything a reload must keep: the digest, the libraries, each key's type and absolute TTL, and each
    stream's XINFO STREAM FULL (skip: streams compared by digest only)."""
    out = {"digest": digest(r), "functions": functions(r)}
    for db in dbs:
        r.execute_command("SELECT", db)
        for key in sorted(r.scan_iter(count=1000)):
            t = r.type(key)
            entry = [t, r.pexpiretime(key)]
            if t == b"stream" and key not in skip:
                entry.append(xinfo(r, key))
            out[(db, key)] = entry
    r.execute_command("SELECT", 0)
    return out


def expire_due_keys(r, keys, dbs=(0, 3, 9)):
    """Looks these keys up in every database, so those whose TTL has passed are deleted (and the deletion
    logged): until then they count in DEBUG DIGEST, and a restarted server may expire them first."""
    for db in dbs:
        r.execute_command("SELECT", db)
        for key in keys:
            r.exists(key)
    r.execute_command("SELECT", 0)


# ---- the command form ----

def test_command_form_every_type_reloads_in_sardine_and_redis(workdir):
    d, _ = workdir
    args = ("--appendonly", "yes", "--aof-use-rdb-preamble", "no")
    s = start_in(workdir, ".", *args)
    r = s.client()
    fill_every_type(r)
    fill_deleted_pending(r)
    load_functions(r)
    before = state(r, skip=(b"stream:delpending",))
    c = Raw(s.port)
    assert c.cmd("BGREWRITEAOF") == "Background append only file rewriting started"
    c.close()
    wait_rewrite(r, 1)
    assert [m[1] for m in manifest(d)] == ["appendonly.aof.2.base.aof", "appendonly.aof.2.incr.aof"]
    wait_until(lambda: files(d) == ["appendonly.aof.2.base.aof", "appendonly.aof.2.incr.aof",
                                    "appendonly.aof.manifest"], msg="the history files deleted")
    base, cmds = read_base(d)
    assert [cmd[:2] for cmd in cmds[:2]] == [[b"FUNCTION", b"LOAD"]] * 2
    assert sorted(cmd[2].decode() for cmd in cmds[:2]) == [LIB1, LIB2]
    assert cmds[2] == [b"SELECT", b"0"]
    assert [cmd for cmd in cmds if cmd[0] == b"SELECT"] == [[b"SELECT", b"0"], [b"SELECT", b"3"], [b"SELECT", b"9"]]
    names = {cmd[0] for cmd in cmds}
    assert names == {b"FUNCTION", b"SELECT", b"SET", b"RPUSH", b"SADD", b"ZADD", b"HMSET", b"XADD", b"XSETID",
                     b"XGROUP", b"XCLAIM", b"PEXPIREAT"}
    assert max(len(cmd) for cmd in cmds if cmd[0] in (b"RPUSH", b"SADD")) == 2 + 64
    assert max(len(cmd) for cmd in cmds if cmd[0] in (b"ZADD", b"HMSET")) == 2 + 128
    check_aof(d)
    stop(s)

    s = start_in(workdir, ".", *args)
    r = s.client()
    assert "DB loaded from base file appendonly.aof.2.base.aof" in s.read_log()
    after = state(r, skip=(b"stream:delpending",))
    assert after == before
    assert r.execute_command("DEBUG", "CHECK-KEYSPACE") == b"OK"
    assert r.execute_command("FCALL", "f2", 1, "int") == b"12345"
    sardine_reloaded = state(r)
    stop(s)

    o = start_in(workdir, ".", *args, kind="redis")
    assert state(o.client()) == sardine_reloaded


def normalized(cmds):
    """A base's commands as (functions, {(db, key): commands}); a variadic command is its name and element
    count, with the key's elements (or pairs) collected and sorted at the end (their order is the encoding's)."""
    libs, keys, db = [], {}, None
    for cmd in cmds:
        name = cmd[0].upper()
        if name == b"FUNCTION":
            libs.append(cmd[2])
            continue
        if name == b"SELECT":
            db = int(cmd[1])
            continue
        key = cmd[2] if name == b"XGROUP" else cmd[1]
        entry = keys.setdefault((db, key), [[], []])
        if name in (b"SADD", b"ZADD", b"HMSET"):
            step = 1 if name == b"SADD" else 2
            items = [tuple(cmd[i:i + step]) for i in range(2, len(cmd), step)]
            entry[0].append((name, len(items)))
            entry[1].extend(items)
        else:
            entry[0].append(tuple(cmd))
    return sorted(libs), {k: (v[0], sorted(v[1])) for k, v in keys.items()}


def test_command_form_matches_redis_rewrite(workdir):
    """The same dataset (built in redis-server, moved to Sardine with DUMP/RESTORE ABSTTL and FUNCTION
    DUMP/RESTORE) rewritten by both: the same commands for every key."""
    args = ("--appendonly", "yes", "--aof-use-rdb-preamble", "no")
    o = start_in(workdir, "redis", *args, kind="redis")
    ro = o.client()
    fill_every_type(ro, seed=5)
    fill_deleted_pending(ro)
    load_functions(ro)
    s = start_in(workdir, "sardine", *args)
    rs = s.client()
    for db in (0, 3, 9):
        ro.execute_command("SELECT", db)
        rs.execute_command("SELECT", db)
        for key in ro.scan_iter(count=1000):
            ttl = ro.pexpiretime(key)
            rs.restore(key, ttl if ttl > 0 else 0, ro.dump(key), absttl=ttl > 0)
    rs.execute_command("FUNCTION", "RESTORE", ro.execute_command("FUNCTION", "DUMP"))
    assert digest(rs) == digest(ro)
    for r in (ro, rs):
        r.bgrewriteaof()
    for r in (ro, rs):
        wait_rewrite(r, 1)
    d, _ = workdir
    redis_base, redis_cmds = read_base(os.path.join(d, "redis"))
    sardine_base, sardine_cmds = read_base(os.path.join(d, "sardine"))
    assert redis_base.endswith(".base.aof") and sardine_base.endswith(".base.aof")
    want_libs, want = normalized(redis_cmds)
    got_libs, got = normalized(sardine_cmds)
    assert got_libs == want_libs
    assert sorted(got) == sorted(want)
    for k in want:
        assert got[k] == want[k], k
    stop(s)


@pytest.mark.parametrize("preamble", ["no", "yes"])
def test_rewrite_base_is_point_in_time(workdir, preamble):
    """A rewrite slowed down to a few keys per loop iteration while a client overwrites, deletes, creates,
    expires, swaps and flushes databases and loads functions: the base alone holds exactly the dataset (and
    the libraries) of the moment the rewrite started, and base + incr file the final one."""
    d, _ = workdir
    args = ("--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
    s = start_in(workdir, ".", *args)
    r = s.client()
    fill_every_type(r, seed=3)
    load_functions(r)
    # 5 keys or elements per loop iteration; values of more than 20 elements are written in parts (RDB base)
    r.execute_command("DEBUG", "SNAPSHOT-THROTTLE", 5, 20)
    # no other client writes yet, so nothing changes between these (not in MULTI: there BGREWRITEAOF is only
    # scheduled, as in Redis)
    at_start, libs_at_start = digest(r), functions(r)
    c = Raw(s.port)
    assert c.cmd("BGREWRITEAOF") == "Background append only file rewriting started"
    c.close()
    rnd = random.Random(4)
    w = s.client()
    rounds, lib2, expiring = 0, True, set()
    while r.info("persistence")["aof_rewrite_in_progress"] or rounds < 50:
        rounds += 1
        db = rnd.choice([0, 3, 9])
        w.execute_command("SELECT", db)
        k = rnd.randrange(200)
        op = rnd.randrange(12)
        if op == 0:
            w.delete(f"s:{k}")
        elif op == 1:
            w.set(f"new:{rounds}", "fresh")
        elif op == 2:
            w.rpush("list:big", "more")
        elif op == 3:
            w.zadd("zset:big", {f"m{k}": -1})
        elif op == 4:
            w.hset("hash:big", "f1", "changed")
        elif op == 5:
            w.xadd("stream", {"late": 1})
        elif op == 6:
            w.pexpire(f"s:{k}", 1)
            expiring.add(f"s:{k}")
        elif op == 7 and rounds % 40 == 0:
            w.execute_command("SWAPDB", 3, 9)
        elif op == 8 and rounds % 60 == 0:
            w.flushdb()
        elif op == 9 and rounds % 30 == 0:
            w.execute_command("FUNCTION", "LOAD", "REPLACE", LIB1B if rounds % 60 else LIB1)
        elif op == 10 and rounds % 50 == 0:
            w.execute_command("FUNCTION", "LOAD", LIB2) if not lib2 else w.execute_command("FUNCTION", "DELETE", "lib2")
            lib2 = not lib2
        else:
            w.set(f"s:{k}", f"overwritten{rounds}")
        if rounds > 20000:
            break
    wait_rewrite(r, 1)
    r.execute_command("DEBUG", "SNAPSHOT-THROTTLE", 0)
    time.sleep(0.01)
    expire_due_keys(r, expiring)
    final, final_libs = digest(r), functions(r)
    early = re.search(r"Snapshot done: \d+ keys \((\d+) saved before a write", s.read_log())
    assert early and int(early.group(1)) > 0, "the writes did not race the rewrite"
    base = [m for m in manifest(d) if m[5] == "b"][0][1]
    assert base.endswith(".base.rdb" if preamble == "yes" else ".base.aof")
    stop(s)
    check_aof(d)

    # the base alone: a directory whose manifest names only it
    alone = os.path.join(d, "alone", "appendonlydir")
    os.makedirs(alone)
    shutil.copy(os.path.join(d, "appendonlydir", base), alone)
    with open(os.path.join(alone, "appendonly.aof.manifest"), "w") as f:
        f.write(f"file {base} seq 1 type b\n")
    a = start_in(workdir, "alone", *args)
    ra = a.client()
    assert digest(ra) == at_start
    assert functions(ra) == libs_at_start
    stop(a)

    s = start_in(workdir, ".", *args)
    assert digest(s.client()) == final and functions(s.client()) == final_libs
    stop(s)


def test_config_set_appendonly_yes_in_command_form(workdir):
    """Turned on at runtime with aof-use-rdb-preamble no and data: the first base is written as commands,
    writes made meanwhile are kept; an automatic rewrite on growth writes commands too."""
    d, _ = workdir
    s = start_in(workdir, ".", "--appendonly", "no", "--aof-use-rdb-preamble", "no",
                 "--auto-aof-rewrite-min-size", "64kb", "--auto-aof-rewrite-percentage", "100")
    r = s.client()
    fill_every_type(r, dbs=(0,))
    load_functions(r)
    c = Raw(s.port)
    c.send(encode("CONFIG", "SET", "appendonly", "yes") + encode("SET", "during", "1"))  # one read: "during"
    assert [c.reply(), c.reply()] == ["OK", "OK"]  # is written while the first base is
    wait_rewrite(r, 1)
    assert [m[1] for m in manifest(d)] == ["appendonly.aof.1.base.aof", "appendonly.aof.1.incr.aof"]
    assert ["SET", "during", "1"] in incr_commands(d)
    before = state(r, dbs=(0,))
    p = r.pipeline(transaction=False)
    for i in range(3000):
        p.set(f"grow{i % 10}", "x" * 100)
    p.execute()
    wait_until(lambda: r.info("persistence")["aof_rewrites"] >= 2, msg="an automatic rewrite")
    wait_rewrite(r, 2)
    assert [m[1] for m in manifest(d)][0] == "appendonly.aof.2.base.aof"
    after_growth = state(r, dbs=(0,))
    stop(s)
    check_aof(d)
    s = start_in(workdir, ".", "--appendonly", "yes", "--aof-use-rdb-preamble", "no")
    assert state(s.client(), dbs=(0,)) == after_growth
    assert before["functions"] == after_growth["functions"]
    stop(s)


def test_timestamp_annotation_first_in_command_form_base(workdir):
    d, _ = workdir
    args = ("--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--aof-timestamp-enabled", "yes")
    s = start_in(workdir, ".", *args)
    r = s.client()
    r.set("a", "1")
    r.bgrewriteaof()
    wait_rewrite(r, 1)
    base = [m for m in manifest(d) if m[5] == "b"][0][1]
    with open(os.path.join(d, "appendonlydir", base), "rb") as f:
        data = f.read()
    assert data.startswith(b"#TS:")
    assert parse_commands(data[data.index(b"\n") + 1:]) == [[b"SELECT", b"0"], [b"SET", b"a", b"1"]]
    before = digest(r)
    stop(s)
    check_aof(d)
    s = start_in(workdir, ".", *args)
    assert digest(s.client()) == before
    stop(s)


# ---- functions in the AOF ----

@pytest.mark.parametrize("preamble", ["no", "yes"])
def test_functions_logged_and_kept(workdir, preamble):
    d, _ = workdir
    args = ("--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
    s = start_in(workdir, ".", *args)
    r = s.client()
    r.execute_command("FUNCTION", "LOAD", LIB1)
    r.execute_command("FUNCTION", "LOAD", LIB2)
    r.execute_command("FUNCTION", "LOAD", "REPLACE", LIB1B)
    r.execute_command("FUNCTION", "DELETE", "lib2")
    payload = r.execute_command("FUNCTION", "DUMP")
    r.execute_command("FUNCTION", "FLUSH")
    r.execute_command("FUNCTION", "RESTORE", payload)
    r.execute_command("FUNCTION", "LOAD", LIB3)
    r.execute_command("FUNCTION", "FLUSH", "ASYNC")
    r.execute_command("FUNCTION", "RESTORE", payload, "APPEND")
    r.execute_command("FUNCTION", "LOAD", LIB2)
    with pytest.raises(Exception):
        r.execute_command("FUNCTION", "LOAD", LIB2)  # an error changes nothing and is not logged
    r.set("k", "v")
    incr = [m for m in manifest(d) if m[5] == "i"][-1][1]
    with open(os.path.join(d, "appendonlydir", incr), "rb") as f:
        cmds = [cmd for cmd in parse_commands(f.read()) if cmd[0] != b"SELECT"]
    lib = [x.encode() for x in (LIB1, LIB1B, LIB2, LIB3)]
    assert cmds == [[b"FUNCTION", b"LOAD", lib[0]], [b"FUNCTION", b"LOAD", lib[2]],
                    [b"FUNCTION", b"LOAD", b"REPLACE", lib[1]], [b"FUNCTION", b"DELETE", b"lib2"],
                    [b"FUNCTION", b"FLUSH"], [b"FUNCTION", b"RESTORE", payload], [b"FUNCTION", b"LOAD", lib[3]],
                    [b"FUNCTION", b"FLUSH", b"ASYNC"], [b"FUNCTION", b"RESTORE", payload, b"APPEND"],
                    [b"FUNCTION", b"LOAD", lib[2]], [b"SET", b"k", b"v"]]
    want = functions(r)
    assert len(want) == 2 and r.execute_command("FCALL", "f1", 0) == 2
    assert r.execute_command("DEBUG", "LOADAOF") == b"OK"
    assert functions(r) == want
    stop(s)

    s = start_in(workdir, ".", *args)
    r = s.client()
    assert functions(r) == want and r.get("k") == b"v"
    r.bgrewriteaof()
    wait_rewrite(r, 1)
    base = [m for m in manifest(d) if m[5] == "b"][0][1]
    path = os.path.join(d, "appendonlydir", base)
    with open(path, "rb") as f:
        data = f.read()
    if preamble == "no":
        cmds = parse_commands(data)
        assert sorted(c[2].decode() for c in cmds[:2]) == [LIB1B, LIB2] and cmds[0][:2] == [b"FUNCTION", b"LOAD"]
    else:  # FUNCTION2 records (LZF-compressed): the libraries are checked by the reloads below, the base being
        assert data.startswith(b"REDIS0010")  # the only file left that holds them
    r.execute_command("FUNCTION", "DELETE", "lib1")
    want = functions(r)
    assert r.execute_command("DEBUG", "LOADAOF") == b"OK"
    assert functions(r) == want
    stop(s)
    check_aof(d)

    s = start_in(workdir, ".", *args)
    assert functions(s.client()) == want
    stop(s)
    o = start_in(workdir, ".", *args, kind="redis")
    assert functions(o.client()) == want and o.client().get("k") == b"v"


@pytest.mark.parametrize("preamble", ["no", "yes"])
def test_redis_aof_with_functions_loads_in_sardine(workdir, preamble):
    args = ("--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
    o = start_in(workdir, ".", *args, kind="redis")
    r = o.client()
    r.execute_command("FUNCTION", "LOAD", LIB1)
    r.execute_command("FUNCTION", "LOAD", LIB2)
    r.set("k", "v")
    r.bgrewriteaof()
    wait_rewrite(r, 1)
    r.execute_command("FUNCTION", "LOAD", LIB3)
    r.execute_command("FUNCTION", "DELETE", "lib1")
    want, before = functions(r), digest(r)
    o.proc.terminate()
    assert o.proc.wait(20) == 0
    s = start_in(workdir, ".", *args)
    assert functions(s.client()) == want and digest(s.client()) == before
    assert s.client().execute_command("FCALL", "f3", 0) == b"three"
    stop(s)
