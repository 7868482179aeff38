"""Beyond Redis: with no maxmemory, Sardine refuses writes with Redis's OOM error (and keeps serving reads)
once its memory reaches the safety limit, instead of growing until the kernel kills it (the seed article's
failure at 31M keys).  The limit is 90% of the physical or cgroup memory by default; maxmemory-safety-limit
sets it explicitly, which is how this test reaches it quickly."""
import os

import pytest
import redis

from harness import SARDINE_SERVER

pytestmark = pytest.mark.skipif(os.path.basename(SARDINE_SERVER).startswith("redis-server"),
                                reason="a Sardine feature: Redis has no safety limit")

OOM = "OOM command not allowed when used memory > 'maxmemory'."


def test_default_limit_follows_physical_memory(r):
    mem = r.info("memory")
    total = mem["total_system_memory"]
    assert r.config_get("maxmemory-safety-limit")["maxmemory-safety-limit"] == "auto"
    assert 0 < mem["maxmemory_safety_limit"] <= total
    assert mem["oom_safety_limit_reached"] == 0
    r.config_set("maxmemory", "100mb")  # an explicit maxmemory takes over
    assert r.info("memory")["maxmemory_safety_limit"] == 0


def test_writes_refused_reads_served_at_the_limit(make_sardine):
    s = make_sardine("--maxmemory-safety-limit", "24mb")
    r = s.client()
    assert r.info("memory")["maxmemory_safety_limit"] == 24 * 1024 * 1024
    value = "v" * 1000
    refused = None
    for i in range(200000):
        try:
            r.set(f"key:{i}", value)
        except redis.ResponseError as e:
            refused = (i, str(e))
            break
    assert refused is not None, "writes were never refused"
    n, msg = refused
    assert msg == OOM
    assert n > 1000  # it took real data to get there
    # reads and deletes still work; the data written so far is intact
    assert r.get("key:0") == value.encode() and r.get(f"key:{n - 1}") == value.encode()
    assert r.dbsize() == n
    with pytest.raises(redis.ResponseError, match="OOM"):
        r.incr("counter")
    mem, stats = r.info("memory"), r.info("stats")
    assert mem["oom_safety_limit_reached"] == 1 and stats["oom_rejections"] >= 2
    assert "safety limit" in s.read_log()
    # freeing data (DEL is not refused) makes room again
    r.delete(*[f"key:{i}" for i in range(0, n, 2)])
    assert r.set("after", "delete")
    # and the limit can be lifted at runtime
    r.config_set("maxmemory-safety-limit", "0")
    assert r.info("memory")["maxmemory_safety_limit"] == 0
    for i in range(n, n + 5000):
        r.set(f"key:{i}", value)


def test_bad_values(r):
    with pytest.raises(redis.ResponseError, match="must be 'auto' or a memory value"):
        r.config_set("maxmemory-safety-limit", "lots")
