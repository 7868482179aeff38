"""maxmemory and the eight eviction policies.

Limits are relative to the server's own baseline (used_memory at start + a few MB), so a
server that uses less memory than Redis is judged the same way. Statistical checks
(LRU/LFU/TTL preference) use generous margins.
"""
import random
import time

import pytest

from sardine_resp import Err, Raw, encode, parse_info, wait_until

OOM = Err("OOM command not allowed when used memory > 'maxmemory'.")
MB = 1024 * 1024
VALUE = b"x" * 1000


def info(c, section):
    return parse_info(c.cmd("INFO", section))


def used_memory(c):
    return int(info(c, "memory")["used_memory"])


def evicted(c):
    return int(info(c, "stats")["evicted_keys"])


def set_limit(c, policy, headroom):
    assert c.cmd("CONFIG", "SET", "maxmemory-policy", policy) == "OK"
    limit = used_memory(c) + headroom
    assert c.cmd("CONFIG", "SET", "maxmemory", str(limit)) == "OK"
    return limit


def write(c, keys, ttl=None, value=VALUE, batch=100):
    """Pipelined SETs; returns the replies."""
    out = []
    for i in range(0, len(keys), batch):
        chunk = keys[i:i + batch]
        if ttl is None:
            c.send(b"".join(encode("SET", k, value) for k in chunk))
        else:
            c.send(b"".join(encode("SET", k, value, "EX", str(ttl(k) if callable(ttl) else ttl))
                            for k in chunk))
        out.extend(c.reply() for _ in chunk)
    return out


def existing(c, keys):
    found = set()
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        for k, v in zip(chunk, c.cmd("MGET", *chunk)):
            if v is not None:
                found.add(k)
    return found


def test_maxmemory_config_and_info(c):
    assert c.cmd("CONFIG", "SET", "maxmemory", "100mb") == "OK"
    m = info(c, "memory")
    assert m["maxmemory"] == str(100 * MB)
    assert m["maxmemory_human"] == "100.00M"
    assert m["maxmemory_policy"] == "noeviction"
    for policy in ("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru",
                   "allkeys-lfu", "allkeys-random", "noeviction"):
        assert c.cmd("CONFIG", "SET", "maxmemory-policy", policy) == "OK"
        assert info(c, "memory")["maxmemory_policy"] == policy
        assert c.cmd("CONFIG", "GET", "maxmemory-policy") == [b"maxmemory-policy", policy.encode()]


def test_noeviction_rejects_writes_but_serves_reads(c):
    set_limit(c, "noeviction", 2 * MB)
    keys = [f"k:{i}" for i in range(6000)]
    replies = write(c, keys)
    oks = [k for k, r in zip(keys, replies) if r == "OK"]
    errs = [r for r in replies if r != "OK"]
    assert oks and errs, "expected the limit to be hit part-way"
    assert set(errs) == {OOM}
    assert evicted(c) == 0
    # every accepted key is still there
    assert existing(c, oks) == set(oks)
    # reads and deletes still work, other writes are refused
    assert c.cmd("GET", oks[0]) == VALUE
    assert c.cmd("STRLEN", oks[0]) == len(VALUE)
    assert c.cmd("SET", "another", "v") == OOM
    assert c.cmd("INCR", "counter") == OOM
    assert c.cmd("APPEND", oks[0], "x") == OOM
    assert c.cmd("EXPIRE", oks[0], "100") == 1  # EXPIRE is not a denyoom command
    # Redis 7.0: while over the limit, *every* command queued inside MULTI is refused with OOM
    # (even reads), and EXEC then aborts
    assert c.cmd("MULTI") == "OK"
    assert c.cmd("GET", oks[0]) == OOM
    assert c.cmd("SET", "x", "1") == OOM
    assert c.cmd("EXEC") == Err("EXECABORT Transaction discarded because of previous errors.")
    assert c.cmd("DEL", *oks[:3000]) > 0
    assert c.cmd("SET", "another", "v") == "OK"
    # below the limit, transactions work again
    assert c.cmd("MULTI") == "OK"
    assert c.cmd("SET", "x", "1") == "QUEUED"
    assert c.cmd("EXEC") == ["OK"]
    c.cmd("DEL", "x")
    assert c.cmd("GET", "x") is None
    assert c.cmd("CONFIG", "SET", "maxmemory", "0") == "OK"
    assert c.cmd("SET", "x", "1") == "OK"


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu", "allkeys-random"])
def test_allkeys_policies_keep_memory_near_limit(c, policy):
    limit = set_limit(c, policy, 2 * MB)
    keys = [f"k:{i}" for i in range(6000)]
    replies = write(c, keys)
    assert set(replies) == {"OK"}
    assert evicted(c) > 0
    assert used_memory(c) <= limit + 256 * 1024
    n = c.cmd("DBSIZE")
    assert 0 < n < len(keys)
    assert evicted(c) >= len(keys) - n
    # the newest keys are always present right after being written
    assert c.cmd("GET", keys[-1]) == VALUE


@pytest.mark.parametrize("policy", ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"])
def test_volatile_policies_only_evict_keys_with_ttl(c, policy):
    set_limit(c, policy, 3 * MB)
    persistent = [f"p:{i}" for i in range(800)]
    volatile = [f"v:{i}" for i in range(4000)]
    assert set(write(c, persistent)) == {"OK"}
    replies = write(c, volatile, ttl=lambda k: 1000 + int(k[2:]))
    assert evicted(c) > 0
    # Counting reads would evict a few more keys while memory sits at the limit: lift it while counting.
    limit = c.cmd("CONFIG", "GET", "maxmemory")[1]
    assert c.cmd("CONFIG", "SET", "maxmemory", "0") == "OK"
    assert existing(c, persistent) == set(persistent)  # all survive
    survivors = existing(c, volatile)
    assert len(survivors) < len(volatile)
    assert c.cmd("DBSIZE") == len(persistent) + len(survivors)
    assert set(replies) <= {"OK", OOM}
    assert c.cmd("CONFIG", "SET", "maxmemory", limit) == "OK"
    # once no volatile keys are left to evict, writes fail with OOM
    c.cmd("DEL", *volatile)
    more = write(c, [f"q:{i}" for i in range(4000)])
    assert OOM in more
    assert existing(c, persistent) == set(persistent)


def test_volatile_ttl_evicts_shortest_ttl_first(c):
    set_limit(c, "volatile-ttl", 3 * MB)
    rnd = random.Random(1234)
    ttls = {}
    keys = [f"v:{i}" for i in range(5000)]
    for k in keys:
        ttls[k] = rnd.randint(1000, 1000000)
    assert set(write(c, keys, ttl=lambda k: ttls[k])) == {"OK"}
    assert evicted(c) > 0
    alive = existing(c, keys)
    dead = set(keys) - alive
    assert alive and dead
    mean_alive = sum(ttls[k] for k in alive) / len(alive)
    mean_dead = sum(ttls[k] for k in dead) / len(dead)
    assert mean_alive > mean_dead * 1.5, (mean_alive, mean_dead)
    # keys with the longest TTLs almost all survive
    longest = sorted(keys, key=ttls.get)[-200:]
    assert len(alive & set(longest)) >= 180


def test_allkeys_lru_keeps_recently_used_keys(c):
    set_limit(c, "allkeys-lru", 4 * MB)
    old = [f"old:{i}" for i in range(2000)]
    assert set(write(c, old)) == {"OK"}
    assert evicted(c) == 0
    # LRU clocks have 1s resolution: let the old keys age, then touch half of them
    wait_until(lambda: c.cmd("OBJECT", "IDLETIME", old[0]) >= 2, timeout=10, interval=0.1,
               msg="keys to become idle")
    hot, cold = old[0::2], old[1::2]
    for i in range(0, len(hot), 200):
        c.cmd("MGET", *hot[i:i + 200])
    # now add new keys until a good number of evictions happened (but fewer than the cold set)
    i = 0
    while evicted(c) < 600:
        assert set(write(c, [f"new:{j}" for j in range(i, i + 100)])) == {"OK"}
        i += 100
        assert i < 20000, "no eviction happened"
    hot_alive = len(existing(c, hot)) / len(hot)
    cold_alive = len(existing(c, cold)) / len(cold)
    assert hot_alive >= 0.9, (hot_alive, cold_alive)
    assert cold_alive <= 0.6, (hot_alive, cold_alive)


def test_allkeys_lfu_keeps_frequently_used_keys(c):
    set_limit(c, "allkeys-lfu", 4 * MB)
    keys = [f"k:{i}" for i in range(2000)]
    assert set(write(c, keys)) == {"OK"}
    hot, cold = keys[0::2], keys[1::2]
    for _ in range(30):
        for i in range(0, len(hot), 250):
            c.cmd("MGET", *hot[i:i + 250])
    i = 0
    while evicted(c) < 1000:
        assert set(write(c, [f"new:{j}" for j in range(i, i + 100)])) == {"OK"}
        i += 100
        assert i < 20000, "no eviction happened"
    hot_alive = len(existing(c, hot)) / len(hot)
    cold_alive = len(existing(c, cold)) / len(cold)
    assert hot_alive >= 0.9, (hot_alive, cold_alive)
    assert cold_alive <= 0.85, (hot_alive, cold_alive)


def test_eviction_breaks_watch(sardine, c):
    set_limit(c, "volatile-ttl", 2 * MB)
    assert c.cmd("SET", "watched", "v", "EX", "10000") == "OK"  # the only evictable key
    with Raw(sardine.port) as w:
        assert w.cmd("WATCH", "watched") == "OK"
        i = 0
        while c.cmd("EXISTS", "watched") == 1:
            write(c, [f"fill:{j}" for j in range(i, i + 100)])
            i += 100
            assert i < 20000, "watched key never evicted"
        assert evicted(c) == 1
        # lift the limit: queuing inside MULTI is refused while over maxmemory
        assert c.cmd("CONFIG", "SET", "maxmemory", "0") == "OK"
        assert w.cmd("MULTI") == "OK"
        assert w.cmd("PING") == "QUEUED"
        assert w.cmd("EXEC") is None


def test_raising_maxmemory_allows_writes_again(c):
    set_limit(c, "noeviction", 1 * MB)
    replies = write(c, [f"k:{i}" for i in range(3000)])
    assert OOM in replies
    assert c.cmd("CONFIG", "SET", "maxmemory", "0") == "OK"
    assert c.cmd("SET", "after", "v") == "OK"


def test_lowering_maxmemory_evicts_immediately(c):
    assert set(write(c, [f"k:{i}" for i in range(4000)])) == {"OK"}
    base = used_memory(c)
    c.cmd("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
    target = base - 2 * MB
    assert c.cmd("CONFIG", "SET", "maxmemory", str(target)) == "OK"
    wait_until(lambda: used_memory(c) <= target + 256 * 1024, timeout=10, msg="eviction down to new limit")
    assert evicted(c) > 0
    assert c.cmd("DBSIZE") < 4000
