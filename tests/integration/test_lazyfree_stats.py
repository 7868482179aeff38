"""UNLINK and FLUSHDB/FLUSHALL ASYNC: INFO's lazyfree_pending_objects and lazyfreed_objects move as Redis
7.0's do (a big value counts once freed, an ASYNC flush counts its keys), on both servers, and
used_memory comes back once the background free is done."""
import time

from sardine_resp import Raw


def info(c):
    text = c.cmd("INFO", "everything").decode()
    d = dict(l.split(":", 1) for l in text.split("\r\n") if ":" in l and not l.startswith("#"))
    return int(d["used_memory"]), int(d["lazyfree_pending_objects"]), int(d["lazyfreed_objects"])


def settle(c, want_freed, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        mem, pending, freed = info(c)
        if pending == 0 and freed == want_freed:
            return mem
        time.sleep(0.02)
    raise AssertionError(f"lazy free did not finish: {info(c)}")


def scenario(server):
    c = Raw(server.port)
    c.cmd("CONFIG", "RESETSTAT")
    seen = []
    base = info(c)[0]
    for i in range(10):
        c.cmd("HSET", "big", *[x for j in range(2000) for x in (f"f{i}_{j}", "v" * 16)])
    filled = info(c)[0]
    assert c.cmd("UNLINK", "big") == 1
    _, pending, freed = info(c)
    seen.append(("unlink", pending + freed))  # in flight or done, counted once
    settle(c, 1)
    # the value's memory comes back (Sardine returns emptied arena pages from its cron: within a second)
    deadline = time.time() + 10
    while info(c)[0] - base >= (filled - base) / 4 and time.time() < deadline:
        time.sleep(0.05)
    assert info(c)[0] - base < (filled - base) / 4, (base, filled, info(c))
    c.cmd("SET", "small", "x")
    assert c.cmd("UNLINK", "small") == 1
    seen.append(("small unlink", info(c)[1:]))  # small values are freed at once and not counted (the 1 is the big one)
    for i in range(4):
        c.cmd("SADD", f"set{i}", *[f"m{j}" for j in range(3000)])
    for i in range(10):
        c.cmd("SET", f"k{i}", "v")
    assert c.cmd("FLUSHDB", "ASYNC") == "OK"
    settle(c, 1 + 14)  # each key of the flushed database, once
    for i in range(0, 3000, 500):
        c.cmd("MSET", *[x for j in range(i, i + 500) for x in (f"key:{j}", "v")])
    assert c.cmd("FLUSHALL", "ASYNC") == "OK"
    settle(c, 1 + 14 + 3000)
    c.cmd("CONFIG", "RESETSTAT")
    seen.append(("reset", info(c)[2]))
    c.close()
    return seen


def test_lazyfree_counters_match_redis(sardine, oracle):
    got, want = scenario(sardine), scenario(oracle)
    assert got == want == [("unlink", 1), ("small unlink", (0, 1)), ("reset", 0)]
