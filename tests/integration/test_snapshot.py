"""RDB snapshots: SAVE, BGSAVE (forkless), LASTSAVE, save points, SHUTDOWN/SIGTERM saves, loading at
startup, DEBUG RELOAD, MISCONF and FLUSHALL's dirty counter.

The files Sardine writes are checked by the real thing: redis-check-rdb accepts them and redis-server
7.0 loads them to the same DEBUG DIGEST.  The point-in-time test runs a BGSAVE slowed down to a few keys
per loop iteration (DEBUG SNAPSHOT-THROTTLE) while a client overwrites, deletes, creates, expires,
flushes and swaps databases, and checks that the file holds exactly the dataset of the moment the save
started (its digest was taken in the same MULTI as the BGSAVE)."""
import os
import random
import re
import shutil
import signal
import subprocess
import time

import pytest
import redis

from harness import digest

CHECK_RDB = shutil.which("redis-check-rdb") or "/usr/bin/redis-check-rdb"


def info_field(c, name, section="persistence"):
    return str(c.info(section)[name])


def wait_bgsave(c, timeout=60):
    deadline = time.time() + timeout
    while info_field(c, "rdb_bgsave_in_progress") != "0":
        assert time.time() < deadline, "BGSAVE did not finish"
        time.sleep(0.01)


def fill(c, n=2000, seed=1):
    """Every type and encoding, in three databases, some keys with TTLs."""
    rnd = random.Random(seed)
    p = c.pipeline(transaction=False)
    for db in (0, 3, 9):
        p.select(db)
        for i in range(n):
            p.set(f"s:{i}", rnd.choice([str(i), "x" * rnd.randint(1, 60), "y" * 300]))
            if i % 7 == 0:
                p.pexpire(f"s:{i}", 3_600_000 + i)
        p.rpush("list:small", *range(10))
        p.rpush("list:big", *[f"e{i}" for i in range(3000)])
        p.sadd("set:int", *range(100))
        p.sadd("set:str", *[f"m{i}" for i in range(600)])
        p.zadd("zset:small", {f"m{i}": i / 3 for i in range(20)})
        p.zadd("zset:big", {f"m{i}": rnd.random() for i in range(1000)})
        p.hset("hash:small", mapping={f"f{i}": i for i in range(10)})
        p.hset("hash:big", mapping={f"f{i}": "v" * (i % 90) for i in range(1000)})
        p.xadd("stream", {"a": 1, "b": "two"}, id="1-1")
        for i in range(300):
            p.xadd("stream", {"f": i})
        p.xgroup_create("stream", "g1", id="0")
        p.xreadgroup("g1", "alice", {"stream": ">"}, count=5)
        p.xdel("stream", "1-1")
        p.pfadd("hll", *range(50))
    p.select(0)
    p.execute()


def copy_rdb(src_dir, tmp_path, name="dump.rdb"):
    d = tmp_path / f"copy{random.randrange(1 << 30)}"
    d.mkdir()
    shutil.copy(os.path.join(src_dir, name), d / "dump.rdb")
    return str(d)


def test_save_is_redis_compatible(make_sardine, make_oracle, tmp_path):
    s = make_sardine()
    c = s.client()
    fill(c)
    assert c.save()
    path = os.path.join(s.dir, "dump.rdb")
    out = subprocess.run([CHECK_RDB, path], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    o = make_oracle("--dir", copy_rdb(s.dir, tmp_path), "--dbfilename", "dump.rdb")
    assert digest(o.client()) == digest(c)
    # and back: Sardine restarted on the file has the same dataset
    s2 = make_sardine("--dir", copy_rdb(s.dir, tmp_path))
    assert digest(s2.client()) == digest(c)
    assert s2.client().pttl("s:0") > 3_000_000


def test_load_file_written_by_redis(make_sardine, make_oracle, tmp_path):
    o = make_oracle()
    c = o.client()
    fill(c, n=500, seed=2)
    assert c.save()
    s = make_sardine("--dir", copy_rdb(o.dir, tmp_path))
    assert digest(s.client()) == digest(c)
    assert s.client().execute_command("DEBUG", "CHECK-KEYSPACE") == b"OK"


def test_bgsave_is_point_in_time(make_sardine, make_oracle, tmp_path):
    s = make_sardine()
    c = s.client()
    fill(c, n=1500, seed=3)
    # 20 keys (or elements of a big value) per loop iteration: the save takes a while; values of more than
    # 100 elements are written in parts, so writes to them wait, and the other changes land between parts
    c.execute_command("DEBUG", "SNAPSHOT-THROTTLE", 20, 100)
    p = c.pipeline(transaction=True)
    p.execute_command("DEBUG", "DIGEST")
    p.execute_command("BGSAVE")
    before, started = p.execute()
    before = before.decode() if isinstance(before, bytes) else before
    assert started in (True, b"Background saving started")
    rnd = random.Random(4)
    w = s.client()
    rounds = 0
    while info_field(c, "rdb_bgsave_in_progress") == "1" or rounds < 50:
        rounds += 1
        db = rnd.choice([0, 3, 9])
        w.select(db)
        k = rnd.randrange(1500)
        op = rnd.randrange(10)
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
        elif op == 7 and rounds % 40 == 0:
            w.execute_command("SWAPDB", 3, 9)
        elif op == 8 and rounds % 60 == 0:
            w.flushdb()
        else:
            w.set(f"s:{k}", f"overwritten{rounds}")
        if rounds > 20000:
            break
    wait_bgsave(c)
    assert info_field(c, "rdb_last_bgsave_status") == "ok"
    assert rounds > 50
    # the file holds the dataset of the moment BGSAVE started
    o = make_oracle("--dir", copy_rdb(s.dir, tmp_path), "--dbfilename", "dump.rdb")
    assert digest(o.client()) == before
    s2 = make_sardine("--dir", copy_rdb(s.dir, tmp_path))
    assert digest(s2.client()) == before


def test_lastsave_dirty_and_info(sardine):
    c = sardine.client()
    assert info_field(c, "rdb_changes_since_last_save") == "0"
    c.set("a", 1)
    c.set("b", 2)
    assert info_field(c, "rdb_changes_since_last_save") == "2"
    t0 = c.lastsave()
    time.sleep(1.1)
    c.save()
    assert c.lastsave() > t0
    assert info_field(c, "rdb_changes_since_last_save") == "0"
    assert info_field(c, "rdb_saves") == "1"
    c.bgsave()
    wait_bgsave(c)
    assert info_field(c, "rdb_saves") == "2"
    assert info_field(c, "rdb_last_bgsave_status") == "ok"


def test_flushall_dirty_counter_as_redis(make_sardine, make_oracle):
    got = []
    for srv in (make_sardine("--save", "3600 1"), make_oracle("--save", "3600 1")):
        c = srv.client()
        c.mset({"a": 1, "b": 2, "c": 3})
        before = info_field(c, "rdb_changes_since_last_save")
        c.flushall()
        got.append((before, info_field(c, "rdb_changes_since_last_save"), os.path.exists(os.path.join(srv.dir, "dump.rdb"))))
    assert got[0] == got[1]


def test_save_points_trigger_bgsave(make_sardine):
    s = make_sardine("--save", "1 2")
    c = s.client()
    c.set("a", 1)
    c.set("b", 2)
    deadline = time.time() + 10
    while info_field(c, "rdb_saves") == "0":
        assert time.time() < deadline, "the save point never fired"
        time.sleep(0.1)
    assert os.path.exists(os.path.join(s.dir, "dump.rdb"))
    assert "changes in 1 seconds. Saving..." in s.read_log()


def test_shutdown_save_and_nosave(make_sardine, tmp_path):
    s = make_sardine()
    c = s.client()
    c.set("k", "v")
    with pytest.raises(Exception):
        c.execute_command("SHUTDOWN", "NOSAVE")
    s.proc.wait(10)
    assert not os.path.exists(os.path.join(s.dir, "dump.rdb"))
    s = make_sardine()
    c = s.client()
    c.set("k", "v")
    with pytest.raises(Exception):
        c.execute_command("SHUTDOWN", "SAVE")
    s.proc.wait(10)
    assert os.path.exists(os.path.join(s.dir, "dump.rdb"))


def test_sigterm_saves_when_save_points_exist(make_sardine, tmp_path):
    s = make_sardine("--save", "3600 1")
    s.client().set("k", "v")
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(20) == 0
    assert os.path.exists(os.path.join(s.dir, "dump.rdb"))
    s2 = make_sardine("--dir", copy_rdb(s.dir, tmp_path))
    assert s2.client().get("k") == b"v"


def test_debug_reload_keeps_the_dataset(sardine):
    c = sardine.client()
    fill(c, n=300, seed=5)
    d = digest(c)
    assert c.execute_command("DEBUG", "RELOAD") == b"OK"
    assert digest(c) == d
    assert c.execute_command("DEBUG", "CHECK-KEYSPACE") == b"OK"


def test_misconf_when_bgsave_fails(make_sardine, tmp_path):
    d = tmp_path / "gone"
    d.mkdir()
    s = make_sardine("--save", "3600 1", "--enable-protected-configs", "yes")
    c = s.client()
    c.config_set("dir", str(d))
    d.rmdir()  # the temporary file cannot be created any more
    c.set("a", 1)
    with pytest.raises(redis.exceptions.ResponseError):  # the temporary file cannot be created: at once
        c.execute_command("BGSAVE")
    wait_bgsave(c)
    assert info_field(c, "rdb_last_bgsave_status") == "err"
    with pytest.raises(Exception) as e:
        c.set("b", 2)
    assert str(e.value).startswith("MISCONF Redis is configured to save RDB snapshots")
    assert c.get("a") == b"1"  # reads still served
    c.config_set("stop-writes-on-bgsave-error", "no")
    assert c.set("b", 2)


def test_corrupt_rdb_at_startup_is_refused(make_sardine, tmp_path):
    d = tmp_path / "bad"
    d.mkdir()
    (d / "dump.rdb").write_bytes(b"REDIS0010\xfa\x09redis-ver\x067.0.15\xff" + b"\x01" * 8)  # wrong checksum
    with pytest.raises(RuntimeError):
        make_sardine("--dir", str(d))


@pytest.mark.parametrize("seed", range(3))
def test_bgsave_point_in_time_under_random_workload(make_sardine, tmp_path, seed):
    """Every command family of the propagation workload (tests/integration/test_propagation.py) runs while
    a slowed-down BGSAVE is in progress: the file must hold the dataset of the moment it started.  A
    command that changes a key without announcing it first fails here (and trips the debug build's
    check in the snapshot)."""
    from test_propagation import any_cmd
    rnd = random.Random(100 + seed)
    small = ("--list-max-listpack-size", "4", "--hash-max-listpack-entries", "4", "--set-max-intset-entries", "4",
             "--zset-max-listpack-entries", "4", "--stream-node-max-entries", "3")
    s = make_sardine(*small)
    c = s.client()
    w = s.client()
    w.response_callbacks.clear()  # raw replies: the workload only needs them to arrive

    def workload(n):
        for _ in range(n):
            try:
                w.execute_command(*any_cmd(rnd, int(time.time() * 1000)))
            except redis.ResponseError:
                pass

    for db in (0, 1):
        w.execute_command("SELECT", db)
        workload(800)
    w.execute_command("SELECT", 0)
    # No TTLs at the start: a key whose TTL passes before the file is loaded back is skipped by the load
    # (and one already past but not yet reclaimed is in the start digest), which would make the digests
    # differ for reasons that are not the snapshot's.  So: every TTL removed, every expired key reclaimed.
    for db in range(16):
        cd = s.client(db=db)
        for k in cd.keys("*"):
            cd.persist(k)
        deadline = time.time() + 10
        while cd.dbsize() != len(cd.keys("*")):
            assert time.time() < deadline, "expired keys were not reclaimed"
            time.sleep(0.05)
    c.execute_command("DEBUG", "SNAPSHOT-THROTTLE", 1, 6)  # values of more than 6 elements in parts
    p = c.pipeline(transaction=True)
    p.execute_command("DEBUG", "DIGEST")
    p.execute_command("BGSAVE")
    before = p.execute()[0]
    before = before.decode() if isinstance(before, bytes) else before
    n = 0
    while info_field(c, "rdb_bgsave_in_progress") == "1":
        workload(2)
        n += 2
        if n % 20 == 0:
            w.execute_command("SELECT", n // 20 % 2)
    assert n >= 10, "the save ended before the workload could race it"
    wait_bgsave(c)
    assert info_field(c, "rdb_last_bgsave_status") == "ok"
    s2 = make_sardine("--dir", copy_rdb(s.dir, tmp_path), *small)
    assert digest(s2.client()) == before


def test_bgsave_fork_mode_for_comparison(make_sardine, tmp_path):
    """bgsave-fork yes: BGSAVE forks a child as Redis does (kept to compare the two designs); the child
    writes the same file."""
    s = make_sardine("--bgsave-fork", "yes")
    c = s.client()
    fill(c, n=300, seed=7)
    d = digest(c)
    assert c.bgsave()
    wait_bgsave(c)
    assert info_field(c, "rdb_last_bgsave_status") == "ok"
    assert info_field(c, "total_forks", "stats") == "1"
    assert int(info_field(c, "latest_fork_usec", "stats")) > 0
    s2 = make_sardine("--dir", copy_rdb(s.dir, tmp_path))
    assert digest(s2.client()) == d


def test_info_shows_a_running_save(sardine):
    c = sardine.client()
    fill(c, n=1000, seed=8)
    c.execute_command("DEBUG", "SNAPSHOT-THROTTLE", 10)
    c.bgsave()
    i = c.info("persistence")
    assert i["rdb_bgsave_in_progress"] == 1
    assert i["current_save_keys_total"] == sum(sardine.client(db=db).dbsize() for db in (0, 3, 9))
    assert 0 <= i["current_save_keys_processed"] <= i["current_save_keys_total"]
    for k in range(200):  # writes to keys not saved yet are copied first: the counterpart of copy-on-write
        c.set(f"s:{k}", "changed")
    assert c.info("persistence")["current_cow_size"] > 0
    c.execute_command("DEBUG", "SNAPSHOT-THROTTLE", 0)
    wait_bgsave(c)
    assert c.info("persistence")["rdb_last_cow_size"] > 0


def test_keys_debug_populate_makes_during_a_save_are_not_in_it(make_sardine, tmp_path):
    s = make_sardine()
    c = s.client()
    fill(c, n=1500, seed=5)
    c.execute_command("DEBUG", "SNAPSHOT-THROTTLE", 5)
    p = c.pipeline(transaction=True)
    p.execute_command("DEBUG", "DIGEST")
    p.execute_command("BGSAVE")
    before, _ = p.execute()
    assert info_field(c, "rdb_bgsave_in_progress") == "1"
    assert c.execute_command("DEBUG", "POPULATE", 3000, "s") in (True, b"OK")  # s:1500 ... are new keys
    assert c.execute_command("DEBUG", "POPULATE", 3000, "late") in (True, b"OK")
    c.execute_command("DEBUG", "SNAPSHOT-THROTTLE", 0)
    wait_bgsave(c)
    s2 = make_sardine("--dir", copy_rdb(s.dir, tmp_path))
    assert digest(s2.client()) == (before.decode() if isinstance(before, bytes) else before)


def test_big_values_written_in_parts(make_sardine, make_oracle, tmp_path):
    """Values over the part threshold are written a part per loop iteration (throttled: per event).  A write
    to one the save still owes waits (dispatch holds it back) while reads go on; a later database's value
    a write waits for is written under its own SELECTDB; a change that cannot be held back (a script's
    undeclared key) completes the value's record at once; a flush writes first what its database still
    owes.  The file must hold the dataset of the moment the save started, for Sardine, redis-server and
    redis-check-rdb."""
    s = make_sardine()
    c = s.client()
    p = c.pipeline(transaction=False)
    for db in (0, 5):
        p.select(db)
        p.hset("h", mapping={f"f{i}": i for i in range(3000)})
        p.sadd("s", *[f"m{i}" for i in range(3000)])
        p.zadd("z", {f"m{i}": i / 7 for i in range(3000)})
        p.rpush("l", *[f"e{i}" for i in range(3000)])
        p.hset("h2", mapping={f"f{i}": i for i in range(3000)})
        for i in range(20 if db == 0 else 300):
            p.set(f"k{i}", i)
    p.select(0)
    p.execute()
    # 50 keys or elements per event: db 0's 25 keys are scanned at once, its five big values then wait
    # to be written 50 elements an event; values of more than 500 elements are written in parts
    c.execute_command("DEBUG", "SNAPSHOT-THROTTLE", 50, 500)
    t = c.pipeline(transaction=True)
    t.execute_command("DEBUG", "DIGEST")
    t.execute_command("BGSAVE")
    before = t.execute()[0]
    before = before.decode() if isinstance(before, bytes) else before
    w0, w5 = s.client(), s.client(db=5)
    assert w0.hlen("h") == 3000  # reads go on
    # db 0 is scanned, its big values are not written yet: its small keys are in the image already
    assert info_field(c, "rdb_bgsave_in_progress") == "1"
    w0.set("k3", "changed")
    w0.delete("k4")
    assert w5.hset("h", "new", "x") == 1  # db 5's value while the scan is in db 0: held, own SELECTDB
    assert w0.get("k1") == b"1"
    # db 5's values are owed until a write waits for them (the scan is in db 0), so each of these waits
    assert w5.sunionstore("dst", ["s"]) == 3000  # a key a write command only reads
    t = w0.pipeline(transaction=True)  # EXEC: in the database its SELECT leaves
    t.execute_command("SELECT", 5)
    t.rpush("l", "new")
    t.execute_command("SELECT", 0)
    assert t.execute()[1] == 3001
    assert w5.eval("return redis.call('zadd', KEYS[1], 9, 'x')", 1, "z") == 1  # a script's declared key
    # a script's undeclared keys cannot be held back: a value's record is completed at once
    assert w0.eval("redis.call('hdel', 'h2', 'f1') redis.call('zadd', 'z', 5, 'new') "
                   "redis.call('sadd', 's', 'new') return redis.call('rpush', 'l', 'new')", 0) == 3001
    m = w0.pipeline(transaction=True)  # EXEC waits for the values its commands write
    m.hset("h", "new", "y")
    m.hdel("h2", "f2")
    assert m.execute() == [1, 1]
    w5.flushdb()  # what db 5 still owes is written first
    for i in range(20):
        w0.set(f"k{i}", "changed")
    wait_bgsave(c)
    assert info_field(c, "rdb_last_bgsave_status") == "ok"
    done = [ln for ln in s.read_log().splitlines() if "Snapshot done" in ln][-1]
    parts, held = map(int, re.search(r"(\d+) big values in parts, (\d+) of them before a write", done).groups())
    # held: at least db 5's h, s, l and z
    assert parts >= 5 and held >= 4, done
    d = copy_rdb(s.dir, tmp_path)
    subprocess.run([CHECK_RDB, os.path.join(d, "dump.rdb")], check=True, capture_output=True)
    o = make_oracle("--dir", d, "--dbfilename", "dump.rdb")
    assert digest(o.client()) == before
    s2 = make_sardine("--dir", copy_rdb(s.dir, tmp_path))
    assert digest(s2.client()) == before
