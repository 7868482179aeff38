"""The latency monitor's events outside commands, where Redis 7.0 records them (aof.c, evict.c, db.c,
defrag.c, rdb.c, server.c's fork): each test makes the operation happen and checks that LATENCY LATEST and
LATENCY HISTORY show its event.

Those operations take well under the smallest threshold (1 ms) on an idle machine, so Sardine's own
`DEBUG SLOW-OPS <us>` stretches each of them by a fixed sleep inside the timed region: the test then
checks that the right operation is timed under the right name (aof-write-pending-fsync against
-active-child against -alone, for instance), not how long the disk took.  Where the oracle can be driven
to the same event for real (evicting and expiring a big set: its delete takes milliseconds on both
servers), both servers are compared without the knob.  "snapshot-slice" is Sardine's own (a background snapshot's
slice on the loop).  The events Sardine cannot have are left out:
eviction-lazyfree (Sardine's eviction does not wait for background frees), while-blocked-cron (no cron
work runs while a script or a load blocks the loop), and `fork` outside bgsave-fork yes (the forkless
snapshot does not fork)."""
import glob
import os
import time

import pytest

from sardine_resp import Raw, wait_until

SLOW_US = "3000"  # each timed operation lasts at least 3 ms, above latency-monitor-threshold 1


def latest(c):
    return {name.decode(): (t, last, high) for name, t, last, high in c.cmd("LATENCY", "LATEST")}


def history(c, event):
    return c.cmd("LATENCY", "HISTORY", event)


def info_field(c, field):
    text = c.cmd("INFO", "all").decode()
    return next(line.split(":", 1)[1] for line in text.split("\r\n") if line.startswith(field + ":"))


def wait_events(c, *events, timeout=20):
    wait_until(lambda: set(events) <= set(latest(c)), timeout=timeout, msg="latency events %s" % (events,))
    ev = latest(c)
    for e in events:
        t, last, high = ev[e]
        assert abs(t - time.time()) < 60 and last >= 1 and high >= last, (e, ev[e])
        h = history(c, e)
        assert h and h[-1] == [t, last], (e, h)
    return ev


@pytest.fixture
def mk(make_sardine):
    conns = []

    def make(*args):
        s = make_sardine(*args)
        c = Raw(s.port)
        conns.append(c)
        assert c.cmd("CONFIG", "SET", "latency-monitor-threshold", "1") == "OK"
        return s, c

    yield make
    for c in conns:
        c.close()


def next_second():
    time.sleep(1.0 - time.time() % 1.0 + 0.05)


def test_aof_write_alone_and_fsync_always(mk):
    s, c = mk("--appendonly", "yes", "--appendfsync", "always")
    assert c.cmd("DEBUG", "SLOW-OPS", SLOW_US) == "OK"
    assert c.cmd("SET", "k", "v") == "OK"
    assert c.cmd("DEBUG", "SLOW-OPS", "0") == "OK"
    ev = wait_events(c, "aof-write", "aof-write-alone", "aof-fsync-always")
    assert "aof-write-active-child" not in ev and "aof-write-pending-fsync" not in ev
    # DOCTOR's advice for these events, as Redis's table gives it (always: relax the fsync policy).
    doctor = c.cmd("LATENCY", "DOCTOR").decode()
    assert "Your fsync policy is set to 'always'" in doctor and "use local disks" in doctor


def test_aof_write_while_a_save_runs_is_active_child(mk):
    s, c = mk("--appendonly", "yes", "--appendfsync", "no")
    for i in range(0, 3000, 500):
        c.cmd("MSET", *[x for j in range(i, i + 500) for x in ("key:%d" % j, "v")])
    assert c.cmd("DEBUG", "SNAPSHOT-THROTTLE", "1") == "OK"  # the save stays running
    assert c.cmd("BGSAVE") == "Background saving started"
    assert info_field(c, "rdb_bgsave_in_progress") == "1"
    c.cmd("LATENCY", "RESET")
    assert c.cmd("DEBUG", "SLOW-OPS", SLOW_US) == "OK"
    assert c.cmd("SET", "k", "v") == "OK"
    assert c.cmd("DEBUG", "SLOW-OPS", "0") == "OK"
    ev = wait_events(c, "aof-write", "aof-write-active-child")
    assert "aof-write-alone" not in ev
    c.cmd("DEBUG", "SNAPSHOT-THROTTLE", "0")
    wait_until(lambda: info_field(c, "rdb_bgsave_in_progress") == "0", timeout=60)


def test_aof_write_with_an_fsync_pending(mk):
    """everysec: the first write hands an fsync to the background thread (slowed down as well); the next
    write waits for it, and BGREWRITEAOF writes anyway (a forced flush, as Redis's): that write happens
    while the fsync still runs."""
    s, c = mk("--appendonly", "yes", "--appendfsync", "everysec")
    next_second()  # the first fsync is due once a second has passed since the file was opened
    slow = 1500000
    assert c.cmd("DEBUG", "SLOW-OPS", str(slow)) == "OK"
    assert c.cmd("SET", "a", "1") == "OK"  # written (1.5 s), then its fsync queued (1.5 s more)
    c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n*1\r\n$12\r\nBGREWRITEAOF\r\n")
    assert c.reply() == "OK"
    assert "rewriting" in str(c.reply())
    assert c.cmd("DEBUG", "SLOW-OPS", "0") == "OK"
    ev = wait_events(c, "aof-write", "aof-write-alone", "aof-write-pending-fsync")
    assert ev["aof-write-pending-fsync"][1] >= slow // 1000
    doctor = c.cmd("LATENCY", "DOCTOR").decode()
    assert "Try to lower the disk contention" in doctor


def test_aof_rename_and_fstat_after_a_runtime_rewrite(mk):
    """CONFIG SET appendonly yes: the first base is written, then the temporary incr file is renamed
    (aof-rename) and the files' sizes are taken (aof-fstat)."""
    s, c = mk()
    c.cmd("SET", "k", "v")
    assert c.cmd("DEBUG", "SLOW-OPS", SLOW_US) == "OK"
    assert c.cmd("CONFIG", "SET", "appendonly", "yes") == "OK"
    wait_until(lambda: info_field(c, "aof_rewrite_in_progress") == "0" and info_field(c, "aof_enabled") == "1",
               timeout=30)
    assert c.cmd("DEBUG", "SLOW-OPS", "0") == "OK"
    wait_events(c, "aof-rename", "aof-fstat")
    doctor = c.cmd("LATENCY", "DOCTOR").decode()
    assert "Latency during the AOF atomic rename operation" in doctor


def test_eviction_del(mk):
    s, c = mk("--maxmemory-policy", "allkeys-random")
    for i in range(0, 4000, 100):
        c.cmd("MSET", *[x for j in range(i, i + 100) for x in ("key:%d" % j, "v" * 1000)])
    used = int(info_field(c, "used_memory"))
    assert c.cmd("DEBUG", "SLOW-OPS", SLOW_US) == "OK"
    assert c.cmd("CONFIG", "SET", "maxmemory", str(used - 1000000)) == "OK"
    c.cmd("SET", "x", "y")
    assert c.cmd("DEBUG", "SLOW-OPS", "0") == "OK"
    assert int(info_field(c, "evicted_keys")) > 0
    wait_events(c, "eviction-del", "eviction-cycle")
    doctor = c.cmd("LATENCY", "DOCTOR").decode()
    assert "Deleting, expiring or evicting" in doctor and "Sudden changes to the 'maxmemory'" in doctor


def test_expire_del(mk):
    s, c = mk()
    assert c.cmd("SET", "k", "v", "PX", "1") == "OK"
    time.sleep(0.01)
    assert c.cmd("DEBUG", "SLOW-OPS", SLOW_US) == "OK"
    assert c.cmd("EXISTS", "k") == 0
    assert c.cmd("DEBUG", "SLOW-OPS", "0") == "OK"
    wait_events(c, "expire-del")


def big_set(c, key, n=200000):
    for i in range(0, n, 5000):
        c.cmd("SADD", key, *["member:%d" % j for j in range(i, i + 5000)])


def test_big_deletes_against_the_oracle(make_sardine, make_oracle):
    """Evicting and expiring a set of 200k members takes milliseconds on both servers: eviction-del,
    eviction-cycle and expire-del are recorded by both, without any knob."""
    for make in (make_sardine, make_oracle):
        srv = make("--lazyfree-lazy-eviction", "no", "--lazyfree-lazy-expire", "no", "--maxmemory-policy",
                   "allkeys-lru")
        c = Raw(srv.port)
        c.cmd("CONFIG", "SET", "latency-monitor-threshold", "1")
        big_set(c, "gone-by-expiry")
        assert c.cmd("PEXPIRE", "gone-by-expiry", "1") == 1
        time.sleep(0.01)
        c.cmd("EXISTS", "gone-by-expiry")
        big_set(c, "evicted")
        used = int(info_field(c, "used_memory"))
        c.cmd("CONFIG", "SET", "maxmemory", str(used // 2))
        c.cmd("SET", "x", "y")
        assert c.cmd("EXISTS", "evicted") == 0
        ev = wait_events(c, "eviction-del", "eviction-cycle", "expire-del")
        assert ev["eviction-cycle"][1] >= ev["eviction-del"][1], (srv.kind, ev)
        c.close()


def test_active_defrag_cycle(mk):
    s, c = mk("--hz", "100")
    for i in range(0, 40000, 1000):
        c.cmd("MSET", *[x for j in range(i, i + 1000) for x in ("s:%08d" % j, "v" * 20)])
    for i in range(0, 40000, 1000):
        c.cmd("DEL", *["s:%08d" % j for j in range(i, i + 1000) if j % 5 < 3])
    for name, v in (("active-defrag-ignore-bytes", "1"), ("active-defrag-threshold-lower", "0"),
                    ("active-defrag-cycle-min", "50"), ("active-defrag-cycle-max", "99")):
        assert c.cmd("CONFIG", "SET", name, v) == "OK"
    assert c.cmd("DEBUG", "SLOW-OPS", SLOW_US) == "OK"
    assert c.cmd("CONFIG", "SET", "activedefrag", "yes") == "OK"
    wait_events(c, "active-defrag-cycle", timeout=60)
    assert c.cmd("CONFIG", "SET", "activedefrag", "no") == "OK"
    assert c.cmd("DEBUG", "SLOW-OPS", "0") == "OK"
    # An event without advice of its own in Redis's table: DOCTOR lists it all the same.
    doctor = c.cmd("LATENCY", "DOCTOR").decode()
    assert "active-defrag-cycle:" in doctor


def temp_files(s):
    return glob.glob(os.path.join(s.dir, "temp-*.rdb"))


def test_rdb_unlink_temp_file_when_a_save_is_stopped(mk):
    """FLUSHALL stops a running BGSAVE: the loop removes its temporary file (rdb-unlink-temp-file)."""
    s, c = mk()
    c.cmd("MSET", *[x for j in range(2000) for x in ("key:%d" % j, "v")])
    assert c.cmd("DEBUG", "SNAPSHOT-THROTTLE", "1") == "OK"
    assert c.cmd("BGSAVE") == "Background saving started"
    assert temp_files(s)
    assert c.cmd("DEBUG", "SLOW-OPS", SLOW_US) == "OK"
    assert c.cmd("FLUSHALL") == "OK"
    assert c.cmd("DEBUG", "SLOW-OPS", "0") == "OK"
    wait_events(c, "rdb-unlink-temp-file")
    assert temp_files(s) == []
    assert "Try to lower the disk contention" in c.cmd("LATENCY", "DOCTOR").decode()


def test_fork_and_killed_child_temp_file(mk):
    """bgsave-fork yes (Sardine's mode that forks as Redis does): the fork is a latency event, DOCTOR grades
    its rate as Redis does; a child stopped by FLUSHALL leaves no temporary file (the parent removes it:
    rdb-unlink-temp-file)."""
    s, c = mk("--bgsave-fork", "yes")
    for i in range(0, 300000, 5000):
        c.cmd("MSET", *[x for j in range(i, i + 5000) for x in ("key:%d" % j, "v" * 10)])
    assert c.cmd("DEBUG", "SLOW-OPS", SLOW_US) == "OK"
    # BGSAVE and FLUSHALL in one write: the child has 300k keys to write when FLUSHALL kills it.
    c.send(b"*1\r\n$6\r\nBGSAVE\r\n*1\r\n$8\r\nFLUSHALL\r\n")
    assert c.reply() == "Background saving started"
    assert c.reply() == "OK"
    assert c.cmd("DEBUG", "SLOW-OPS", "0") == "OK"
    ev = wait_events(c, "fork", "rdb-unlink-temp-file")
    assert ev["fork"][1] >= 3
    assert temp_files(s) == []
    assert int(info_field(c, "total_forks")) == 1
    doctor = c.cmd("LATENCY", "DOCTOR").decode()
    line = next(x for x in doctor.split("\n") if ". fork: " in x)
    assert " Fork rate is " in line and line.endswith(" GB/sec (terrible).")  # a 3 ms fork of a few MB
    assert "- If you are using a virtual machine, consider upgrading it" in doctor


def test_snapshot_slice_is_sardines_own_event(mk):
    """Sardine's own event: a background snapshot's slice on the loop (Redis's child has none).  DOCTOR
    lists it like any event its advice table does not know, as Redis does."""
    s, c = mk()
    c.cmd("MSET", *[x for j in range(2000) for x in ("key:%d" % j, "v")])
    assert c.cmd("DEBUG", "SNAPSHOT-THROTTLE", "1") == "OK"
    assert c.cmd("DEBUG", "SLOW-OPS", SLOW_US) == "OK"
    assert c.cmd("BGSAVE") == "Background saving started"
    wait_events(c, "snapshot-slice")
    assert c.cmd("DEBUG", "SLOW-OPS", "0") == "OK"
    c.cmd("DEBUG", "SNAPSHOT-THROTTLE", "0")
    wait_until(lambda: info_field(c, "rdb_bgsave_in_progress") == "0", timeout=60)
    only = [e for e in latest(c) if e not in ("snapshot-slice", "eventloop", "command", "fast-command")]
    assert only == [], only
    c.cmd("LATENCY", "RESET", "eventloop", "command", "fast-command")
    doctor = c.cmd("LATENCY", "DOCTOR").decode()
    assert "1. snapshot-slice: " in doctor
    assert "Check your Slow Log" not in doctor and "disk contention" not in doctor
