"""Running out of the entry arena is a clean -OOM, never a crash: with the arena reserved small
(SARDINE_ARENA_MB, read at startup), writes past its headroom are refused with Redis's OOM error and a
log line says why, reads go on, and deleting keys makes room again."""
import pytest
import redis

OOM = "OOM command not allowed when used memory > 'maxmemory'."
VALUE = "v" * 40  # inline in the entry (<= 44 bytes): one ~56-byte arena slot per key


def fill_until_oom(r, prefix, max_batches=200, batch=5000):
    """Sets keys until a write is refused; returns how many were stored and the first error."""
    stored = 0
    for b in range(max_batches):
        p = r.pipeline(transaction=False)
        for i in range(batch):
            p.set(f"{prefix}:{b * batch + i}", VALUE)
        for res in p.execute(raise_on_error=False):
            if isinstance(res, Exception):
                return stored, res
            stored += 1
    return stored, None


def test_exhausted_arena_refuses_writes_serves_reads_and_recovers(make_sardine, monkeypatch):
    monkeypatch.setenv("SARDINE_ARENA_MB", "16")
    s = make_sardine()
    r = s.client(decode_responses=True)
    stored, err = fill_until_oom(r, "k")
    assert err is not None, f"stored {stored} keys in a 16 MiB arena without an error"
    assert isinstance(err, redis.ResponseError) and str(err) == OOM
    # 16 MiB minus the headroom holds a couple of hundred thousand such keys, no more
    assert 100000 < stored < 16 * 2**20 // 56
    assert r.dbsize() == stored
    # reads go on
    assert r.get("k:0") == VALUE and r.get(f"k:{stored - 1}") == VALUE
    assert r.exists("k:12345") == 1
    # every kind of write that adds entries is refused, with the same error
    for cmd in (("SET", "x", "y"), ("SADD", "s", "m"), ("HSET", "h", "f", "v"), ("ZADD", "z", "1", "m")):
        with pytest.raises(redis.ResponseError, match="^OOM command not allowed"):
            r.execute_command(*cmd)
    assert "entry arena" in s.read_log() and "refusing writes" in s.read_log()
    # deletes are allowed and make room again
    p = r.pipeline(transaction=False)
    for i in range(stored // 2):
        p.delete(f"k:{i}")
    assert sum(p.execute()) == stored // 2
    assert r.set("after", "ok") is True
    more, err = fill_until_oom(r, "m", max_batches=2, batch=10000)
    assert err is None and more == 20000
    assert r.get("after") == "ok" and r.get(f"k:{stored - 1}") == VALUE
