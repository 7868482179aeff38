"""Active defragmentation (keyspace/defrag.c, mem/arena.c's mover): the directives and their errors as
Redis 7.0 gives them, and a churned dataset of every type defragmented while a client keeps reading it:
DEBUG DIGEST and DEBUG CHECK-KEYSPACE are the same before and after, every reply the client gets while
entries move is the one it got before, and the arena's pages shrink; entries holding strings of hundreds
of bytes to 4 KiB move as well.  (The ASan build uses libc malloc, so there only arena entries move; heap
strings, those grown in place or past 4000 bytes, move in release builds: bench/churn.py.)"""
import random

import pytest
import redis

from harness import assert_keyspace_ok, digest
from sardine_resp import wait_until

DIRECTIVES = {
    "active-defrag-cycle-min": ["0", "100", "-1", "abc"],
    "active-defrag-cycle-max": ["0", "100"],
    "active-defrag-threshold-lower": ["-1", "1001"],
    "active-defrag-threshold-upper": ["-1", "1001"],
    "active-defrag-ignore-bytes": ["0", "-1", "1xb"],
    "active-defrag-max-scan-fields": ["0", "-1"],
}


def config_error(r, name, value):
    try:
        r.config_set(name, value)
    except redis.ResponseError as e:
        return str(e)
    return None


def test_directives_out_of_range_as_redis(make_sardine, make_oracle):
    s, o = make_sardine().client(), make_oracle().client()
    for name, bad in DIRECTIVES.items():
        assert s.config_get(name) == o.config_get(name), name  # same defaults
        for v in bad:
            want = config_error(o, name, v)
            assert want is not None, (name, v)
            assert config_error(s, name, v) == want, (name, v)
    for name, v in [("active-defrag-cycle-min", "5"), ("active-defrag-cycle-max", "75"),
                    ("active-defrag-threshold-lower", "0"), ("active-defrag-threshold-upper", "1000"),
                    ("active-defrag-ignore-bytes", "10mb"), ("active-defrag-max-scan-fields", "5000")]:
        assert s.config_set(name, v)
    assert s.config_get("active-defrag-ignore-bytes") == {"active-defrag-ignore-bytes": "10485760"}
    assert s.config_set("activedefrag", "yes")
    assert s.config_get("activedefrag") == {"activedefrag": "yes"}


def info(r, section):
    return r.info(section)


def fill(r, rnd, nstrings=40000, ncoll=150):
    """Many same-sized string keys (so pages of one arena class empty out) and every type around them."""
    p = r.pipeline(transaction=False)
    for i in range(nstrings):
        p.set(b"s:%08d" % i, b"v" * 20)
        if i % 1000 == 999:
            p.execute()
    for i in range(ncoll * 10):
        p.set(b"int:%d" % i, i * 7)
        p.set(b"raw:%d" % i, b"x" * rnd.choice([50, 120, 400]))
        if i % 3 == 0:
            p.expire(b"raw:%d" % i, 100000)
    for i in range(ncoll):
        p.rpush(b"list:%d" % i, *[b"e%d" % j for j in range(rnd.choice([3, 300]))])
        p.sadd(b"set:%d" % i, *[b"m%d" % j for j in range(rnd.choice([3, 200]))])
        p.sadd(b"iset:%d" % i, *range(rnd.choice([3, 600])))
        p.hset(b"hash:%d" % i, mapping={b"f%d" % j: b"v%d" % j for j in range(rnd.choice([3, 200]))})
        p.zadd(b"zset:%d" % i, {b"z%d" % j: j / 3 for j in range(rnd.choice([3, 200]))})
        p.xadd(b"stream:%d" % i, {b"a": b"1"})
        p.execute()


def churn(r, rnd):
    keys = [k for k in r.scan_iter(count=1000)]
    rnd.shuffle(keys)
    p = r.pipeline(transaction=False)
    for k in keys[: len(keys) * 3 // 5]:
        p.delete(k)
    p.execute()


READS = {
    b"string": lambda r, k: r.get(k),
    b"list": lambda r, k: r.lrange(k, 0, -1),
    b"set": lambda r, k: sorted(r.smembers(k)),
    b"hash": lambda r, k: sorted(r.hgetall(k).items()),
    b"zset": lambda r, k: r.zrange(k, 0, -1, withscores=True),
    b"stream": lambda r, k: r.xrange(k),
}


def snapshot_of(r, keys):
    return {k: (r.type(k), READS[r.type(k)](r, k), r.pttl(k) > 0) for k in keys}


def test_churned_dataset_defragmented_under_reads(make_sardine):
    s = make_sardine("--hz", "100")
    r = s.client()
    rnd = random.Random(15)
    fill(r, rnd)
    churn(r, rnd)
    assert_keyspace_ok(r)
    before = digest(r)
    pages_before = info(r, "memory")["arena_pages_bytes"]
    sample = rnd.sample([k for k in r.scan_iter(count=1000)], 400)
    expect = snapshot_of(r, sample)

    r.config_set("active-defrag-ignore-bytes", "1")
    r.config_set("active-defrag-threshold-lower", "0")
    r.config_set("active-defrag-cycle-min", "50")
    r.config_set("active-defrag-cycle-max", "99")
    r.config_set("activedefrag", "yes")
    # Read the sampled keys over and over while the passes move entries: every reply stays the same.
    rounds = 0

    def moved_enough():
        nonlocal rounds
        rounds += 1
        for k in rnd.sample(sample, 40):
            assert (r.type(k), READS[r.type(k)](r, k), r.pttl(k) > 0) == expect[k], k
        st = info(r, "stats")
        return st["active_defrag_hits"] > 0 and info(r, "memory")["active_defrag_running"] == 0

    wait_until(moved_enough, timeout=60, interval=0, msg="a defragmentation pass that moved entries")
    st = info(r, "stats")
    assert st["active_defrag_key_hits"] > 0 and st["active_defrag_misses"] > 0
    r.config_set("activedefrag", "no")
    assert snapshot_of(r, sample) == expect
    assert digest(r) == before
    assert_keyspace_ok(r)
    pages_after = info(r, "memory")["arena_pages_bytes"]
    # 40000 entries of 36 bytes, 60% deleted: about 6 of their 11 pages (128 KiB) empty out.
    assert pages_after <= pages_before - 5 * 131072, (pages_before, pages_after)
    # The server goes on working on the moved entries.
    r.set(b"s:%08d" % 1, b"new")
    assert r.get(b"s:%08d" % 1) == b"new"
    assert r.delete(*sample[:100]) >= 0
    assert_keyspace_ok(r)


def test_no_moves_while_a_snapshot_runs(make_sardine):
    """BGSAVE's scan and its saved-before-write sets hold entries across loop iterations: a pass stops
    while one runs (the file it writes loads back to the same digest)."""
    s = make_sardine("--hz", "100")
    r = s.client()
    rnd = random.Random(3)
    fill(r, rnd, 20000, 50)
    churn(r, rnd)
    before = digest(r)
    r.config_set("active-defrag-ignore-bytes", "1")
    r.config_set("active-defrag-threshold-lower", "0")
    r.config_set("active-defrag-cycle-max", "99")
    r.config_set("activedefrag", "yes")
    r.bgsave()
    wait_until(lambda: info(r, "persistence")["rdb_bgsave_in_progress"] == 0, timeout=30)
    assert info(r, "persistence")["rdb_last_bgsave_status"] == "ok"
    r.execute_command("DEBUG", "RELOAD")
    assert digest(r) == before
    assert_keyspace_ok(r)


def test_inline_strings_of_hundreds_of_bytes_move(make_sardine):
    """Strings of 45-4000 bytes live inside their entries: whole entries of a few hundred bytes to 4 KiB
    move out of sparse pages with their values intact."""
    s = make_sardine("--hz", "100")
    r = s.client()
    rnd = random.Random(7)
    sizes = [300, 700, 1500, 4000]
    p = r.pipeline(transaction=False)
    for i in range(6000):
        n = sizes[i % len(sizes)]
        p.set(b"big:%05d" % i, bytes(rnd.randrange(33, 127) for _ in range(n)))
        if i % 500 == 499:
            p.execute()
    p.execute()
    assert r.object("encoding", b"big:00000") == b"raw"
    churn(r, rnd)
    before = digest(r)
    keys = sorted(r.scan_iter(count=1000))
    values = {k: r.get(k) for k in keys}
    pages_before = info(r, "memory")["arena_pages_bytes"]
    r.config_set("active-defrag-ignore-bytes", "1")
    r.config_set("active-defrag-threshold-lower", "0")
    r.config_set("active-defrag-cycle-max", "99")
    r.config_set("activedefrag", "yes")
    wait_until(lambda: info(r, "stats")["active_defrag_hits"] > 0 and info(r, "memory")["active_defrag_running"] == 0,
               timeout=60, interval=0.05, msg="a defragmentation pass that moved entries")
    r.config_set("activedefrag", "no")
    assert {k: r.get(k) for k in keys} == values
    assert digest(r) == before
    assert_keyspace_ok(r)
    # 1500 entries of each size, 60% deleted: each class's sparse pages empty out (a 4000-byte value's
    # entry is a 4096-byte slot, 32 to a page: 47 pages of which about 28 can go).
    pages_after = info(r, "memory")["arena_pages_bytes"]
    assert pages_after <= pages_before - 30 * 131072, (pages_before, pages_after)
