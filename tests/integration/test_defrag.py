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


# ---- collections (their elements, listpacks, intsets, quicklist and stream nodes) ----

BIG = 2500  # elements of a big collection (past active-defrag-max-scan-fields below: its own stage)


def fill_collections(r, rnd):
    """Collections only, so that nothing but their parts can be on the arena pages being emptied: big
    ones (hashtable hashes and sets, skiplist sorted sets, lists of many small and compressed nodes,
    streams of many nodes, members and fields past the arena's largest class on the heap) and small
    ones (listpacks and intsets in the arena), plus the keys a writer changes during the passes."""
    p = r.pipeline(transaction=False)
    for i in range(16):
        p.hset(b"bh:%d" % i, mapping={b"f%05d" % j: b"v%05d" % j for j in range(BIG)})
        p.sadd(b"bs:%d" % i, *[b"m%05d" % j for j in range(BIG)])
        p.zadd(b"bz:%d" % i, {b"z%05d" % j: rnd.choice([j, j / 7, 1.5]) for j in range(BIG)})
        p.execute()
    for i in range(20):  # hashtables that churn leaves small enough for the walk, with sparse segments
        p.hset(b"mh:%d" % i, mapping={b"f%05d" % j: b"v%05d" % j for j in range(600)})
        p.sadd(b"ms:%d" % i, *[b"m%05d" % j for j in range(600)])
        p.zadd(b"mz:%d" % i, {b"z%05d" % j: j for j in range(600)})
    p.execute()
    for i in range(4):
        p.hset(b"bh:%d" % i, b"long" * 1200, b"x")                  # a field kept on the heap
        p.zadd(b"bz:%d" % i, {b"long" * 1200 + b"%d" % i: 2})        # a member kept on the heap
        p.hset(b"bh:%d" % i, b"lv", b"y" * 5000)                     # a value kept on the heap
        p.rpush(b"bl:%d" % i, *[b"e%d" % j for j in range(BIG)])
        for j in range(300):
            p.xadd(b"bx:%d" % i, {b"a": b"%d" % j, b"b": b"x" * rnd.choice([1, 30])}, id=b"%d-1" % (j + 1))
        p.execute()
    for i in range(1500):
        p.hset(b"sh:%d" % i, mapping={b"f%d" % j: b"v%d" % j for j in range(10)})
        p.sadd(b"si:%d" % i, *range(10))
        p.zadd(b"sz:%d" % i, {b"z%d" % j: j for j in range(10)})
        if i % 5 == 0:
            p.rpush(b"sl:%d" % i, *[b"e%d" % j for j in range(10)])
            p.sadd(b"ss:%d" % i, *[b"m%d" % j for j in range(10)])
        if i % 10 == 0:
            for j in range(5):
                p.xadd(b"sx:%d" % i, {b"f": b"%d" % j}, id=b"%d-1" % (j + 1))
        if i % 100 == 99:
            p.execute()
    p.execute()


def churn_collections(r, rnd):
    """Deletes 60% of every big collection's elements at random and shrinks every small one (a smaller
    listpack or intset is a slot of another class): the pages of their classes are left sparse."""
    p = r.pipeline(transaction=False)
    for i in range(16):
        gone = rnd.sample(range(BIG), BIG * 3 // 5)
        p.hdel(b"bh:%d" % i, *[b"f%05d" % j for j in gone])
        p.srem(b"bs:%d" % i, *[b"m%05d" % j for j in gone])
        p.zrem(b"bz:%d" % i, *[b"z%05d" % j for j in gone])
        p.execute()
    for i in range(20):
        gone = rnd.sample(range(600), 450)
        p.hdel(b"mh:%d" % i, *[b"f%05d" % j for j in gone])
        p.srem(b"ms:%d" % i, *[b"m%05d" % j for j in gone])
        p.zrem(b"mz:%d" % i, *[b"z%05d" % j for j in gone])
    p.execute()
    for i in range(4):
        for j in rnd.sample(range(BIG), BIG // 2):
            p.lrem(b"bl:%d" % i, 1, b"e%d" % j)
        p.xdel(b"bx:%d" % i, *[b"%d-1" % (j + 1) for j in rnd.sample(range(300), 150)])
        p.execute()
    for i in range(1500):
        k = rnd.sample(range(10), rnd.choice([2, 6]))
        p.hdel(b"sh:%d" % i, *[b"f%d" % j for j in k])
        p.srem(b"si:%d" % i, *k)
        p.zrem(b"sz:%d" % i, *[b"z%d" % j for j in k])
        if i % 5 == 0:
            p.lpop(b"sl:%d" % i, len(k))
            p.srem(b"ss:%d" % i, *[b"m%d" % j for j in k])
        if i % 100 == 99:
            p.execute()
    p.execute()


class Writer:
    """Changes a few big collections between the steps of a pass (the incremental stage looks them up by
    name each time: they grow, shrink, are deleted and come back, or become strings) and keeps a model
    of what they must hold."""

    def __init__(self, r, rnd):
        self.r, self.rnd = r, rnd
        self.h = {b"f%05d" % j: b"v%05d" % j for j in range(BIG)}
        self.z = {b"z%d" % j: float(j % 13) for j in range(BIG)}
        self.s = {b"m%05d" % j for j in range(BIG)}
        self.l = [b"e%d" % j for j in range(BIG)]
        self.x_is_string = False
        p = r.pipeline(transaction=False)
        p.hset(b"w:h", mapping=self.h)
        p.zadd(b"w:z", self.z)
        p.sadd(b"w:s", *self.s)
        p.rpush(b"w:l", *self.l)
        p.zadd(b"w:x", self.z)
        p.execute()

    def step(self):
        r, rnd = self.r, self.rnd
        for _ in range(20):
            j = rnd.randrange(2 * BIG)
            if rnd.random() < 0.5:
                r.hset(b"w:h", b"f%d" % j, b"n%d" % j)
                self.h[b"f%d" % j] = b"n%d" % j
                r.zadd(b"w:z", {b"z%d" % j: j / 3})
                self.z[b"z%d" % j] = j / 3
                r.sadd(b"w:s", b"m%d" % j)
                self.s.add(b"m%d" % j)
                r.rpush(b"w:l", b"e%d" % j)
                self.l.append(b"e%d" % j)
            else:
                r.hdel(b"w:h", b"f%d" % j)
                self.h.pop(b"f%d" % j, None)
                r.zrem(b"w:z", b"z%d" % j)
                self.z.pop(b"z%d" % j, None)
                r.srem(b"w:s", b"m%d" % j)
                self.s.discard(b"m%d" % j)
                if self.l:
                    r.lpop(b"w:l")
                    self.l.pop(0)
        # A key the stage may be working on goes away and comes back, or changes type.
        r.delete(b"w:x")
        if rnd.random() < 0.5:
            r.set(b"w:x", b"now a string")
            self.x_is_string = True
        else:
            r.zadd(b"w:x", self.z)
            self.x_is_string = False

    def check(self):
        r = self.r
        assert r.hgetall(b"w:h") == self.h
        assert dict(r.zrange(b"w:z", 0, -1, withscores=True)) == self.z
        assert r.smembers(b"w:s") == self.s
        assert r.lrange(b"w:l", 0, -1) == self.l
        if self.x_is_string:
            assert r.get(b"w:x") == b"now a string"
        else:
            assert dict(r.zrange(b"w:x", 0, -1, withscores=True)) == self.z


def value_digests(r, keys):
    return r.execute_command("DEBUG", "DIGEST-VALUE", *keys)


def test_collections_defragmented_under_reads_and_writes(make_sardine):
    """Every type in every encoding has its parts moved (arena slots out of pages being emptied; heap
    blocks too: DEBUG DEFRAG-ALWAYS makes every heap block looked at move, also under ASan, so every
    reference a mover rewrites is exercised): the structure checks and the values' digests hold, a
    client reading meanwhile always gets the replies it got before, a writer's changes to collections
    the incremental stage is walking all land, and the element pages are given up."""
    s = make_sardine("--hz", "100", "--list-max-listpack-size", "8", "--list-compress-depth", "1",
                     "--stream-node-max-entries", "10")
    r = s.client()
    rnd = random.Random(1515)
    fill_collections(r, rnd)
    writer = Writer(r, rnd)
    churn_collections(r, rnd)
    assert_keyspace_ok(r)
    keys = sorted(k for k in r.scan_iter(count=1000) if not k.startswith(b"w:"))
    before = value_digests(r, keys)
    pages_before = info(r, "memory")["arena_pages_bytes"]
    sample = rnd.sample(keys, 300) + [b"bh:%d" % i for i in range(4)] + [b"bz:%d" % i for i in range(4)]
    expect = {k: (r.type(k), READS[r.type(k)](r, k)) for k in sample}
    st0 = info(r, "stats")
    assert st0["active_defrag_hits"] == 0

    assert r.execute_command("DEBUG", "DEFRAG-ALWAYS", "1")
    r.config_set("active-defrag-max-scan-fields", "200")
    r.config_set("active-defrag-ignore-bytes", "1")
    r.config_set("active-defrag-threshold-lower", "0")
    r.config_set("active-defrag-cycle-min", "50")
    r.config_set("active-defrag-cycle-max", "99")
    r.config_set("activedefrag", "yes")

    def moved_enough():
        for k in rnd.sample(sample, 30):
            assert (r.type(k), READS[r.type(k)](r, k)) == expect[k], k
        writer.step()
        # ~43 pages before; the sparse ones go down to ~33 (8192 slots a page since the slot index has 13 bits)
        return info(r, "memory")["arena_pages_bytes"] <= pages_before - 8 * 131072

    wait_until(moved_enough, timeout=120, interval=0, msg="the collections' sparse arena pages given up")
    r.config_set("activedefrag", "no")
    assert r.execute_command("DEBUG", "DEFRAG-ALWAYS", "0")
    st = info(r, "stats")
    assert st["active_defrag_hits"] > 0 and st["active_defrag_key_hits"] > 0
    assert {k: (r.type(k), READS[r.type(k)](r, k)) for k in sample} == expect
    assert value_digests(r, keys) == before
    writer.check()
    assert_keyspace_ok(r)
    # The moved values go on working.
    p = r.pipeline(transaction=False)
    for i in range(16):
        p.hset(b"bh:%d" % i, b"new", b"1")
        p.zadd(b"bz:%d" % i, {b"new": -1})
        p.sadd(b"bs:%d" % i, b"new")
    for i in range(0, 1500, 7):
        p.hset(b"sh:%d" % i, b"new", b"1")
        p.zadd(b"sz:%d" % i, {b"new": -1})
        p.sadd(b"si:%d" % i, 12345)
    for i in range(4):
        p.rpush(b"bl:%d" % i, b"new")
        p.xadd(b"bx:%d" % i, {b"new": b"1"})
    p.execute()
    assert r.zrange(b"bz:0", 0, 0) == [b"new"] and r.zscore(b"bz:0", b"long" * 1200 + b"0") == 2
    assert_keyspace_ok(r)
    for i in range(16):
        r.delete(b"bh:%d" % i, b"bz:%d" % i, b"bs:%d" % i)
    assert_keyspace_ok(r)
