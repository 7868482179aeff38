"""Propagation: the stream of commands a write produces (commands/propagate.h) rebuilds the same keyspace.

This is the spec that AOF and replicas build on: a primary runs a random workload of every type with
DEBUG PROPAGATION-LOG writing its propagated stream to a file; the file is replayed into a second, empty
server; the two keyspaces must then be equal, value by value, TTL by TTL (and by DEBUG DIGEST where the
server has it).  The workloads lean on the commands whose effect is not their arguments: relative or
random ones (SET EX, EXPIRE, INCRBYFLOAT, SPOP, XADD *, approximate trimming, consumer groups),
blocking pops served later, MULTI/EXEC, expiry (lazy and active) and eviction.
"""
import os
import random
import socket
import time

import pytest
import redis

from conftest import IS_REAL_REDIS
from harness import parse_commands

pytestmark = pytest.mark.skipif(IS_REAL_REDIS, reason="DEBUG PROPAGATION-LOG is Sardine's own test sink")

KEYS = [f"k{i}" for i in range(12)]
SEEDS = int(os.environ.get("SARDINE_PROP_SEEDS", "6"))  # more for a longer hunt: SARDINE_PROP_SEEDS=200


def rk(rnd):
    return rnd.choice(KEYS)


def rm(rnd, n=20):
    return f"m{rnd.randrange(n)}"


def rint(rnd):
    return str(rnd.randrange(-50, 50))


def rscore(rnd):
    return rnd.choice(["1", "2.5", "-3", str(rnd.randrange(100)), "inf", "-inf", "0.1"])


def string_cmds(rnd, now_ms):
    k = rk(rnd)
    return rnd.choice([
        ["SET", k, rint(rnd)],
        ["SET", k, "v" * rnd.randrange(1, 60), "EX", str(rnd.randrange(50, 500))],
        ["SET", k, "x", "PX", str(rnd.randrange(1, 30))],
        ["SET", k, "y", "EXAT", str(now_ms // 1000 + rnd.randrange(100, 1000))],
        ["SET", k, "z", "PXAT", str(now_ms + rnd.randrange(-1000, 100000))],
        ["SET", k, "w", "KEEPTTL", "GET"],
        ["SETEX", k, str(rnd.randrange(1, 500)), "s"],
        ["PSETEX", k, str(rnd.randrange(1, 50)), "p"],
        ["GETEX", k, "EX", str(rnd.randrange(10, 500))],
        ["GETEX", k, "PX", str(rnd.randrange(1, 30))],
        ["GETEX", k, "PERSIST"],
        ["GETEX", k, "EXAT", str(now_ms // 1000 + 100)],
        ["GETDEL", k],
        ["GETSET", k, "g"],
        ["INCR", k], ["DECRBY", k, rint(rnd)],
        ["INCRBYFLOAT", k, rnd.choice(["0.1", "1.5e3", "-2.25", "3"])],
        ["APPEND", k, "ab"], ["SETRANGE", k, str(rnd.randrange(10)), "xyz"],
        ["SETNX", k, "n"], ["MSET", k, "1", rk(rnd), "2"], ["MSETNX", k, "1", rk(rnd), "2"],
        ["SETBIT", k, str(rnd.randrange(100)), str(rnd.randrange(2))],
        ["BITFIELD", k, "INCRBY", "i5", "3", "7", "SET", "u8", "0", "200"],
        ["BITOP", "OR", k, rk(rnd), rk(rnd)],
        ["PFADD", k, rm(rnd), rm(rnd)], ["PFMERGE", k, rk(rnd)],
    ])


def key_cmds(rnd, now_ms):
    k = rk(rnd)
    return rnd.choice([
        ["DEL", k, rk(rnd)], ["UNLINK", k],
        ["EXPIRE", k, str(rnd.randrange(10, 500))],
        ["PEXPIRE", k, str(rnd.randrange(1, 40))],
        ["EXPIRE", k, "100", rnd.choice(["NX", "XX", "GT", "LT"])],
        ["EXPIREAT", k, str(now_ms // 1000 + rnd.randrange(-10, 1000))],
        ["PEXPIREAT", k, str(now_ms + rnd.randrange(-100, 100000))],
        ["EXPIRE", k, "-1"],
        ["PERSIST", k],
        ["RENAME", k, rk(rnd)], ["RENAMENX", k, rk(rnd)],
        ["COPY", k, rk(rnd)], ["COPY", k, rk(rnd), "REPLACE"],
        ["MOVE", k, "1"], ["COPY", k, rk(rnd), "DB", "2"],
    ])


def list_cmds(rnd, now_ms):
    k = rk(rnd)
    return rnd.choice([
        ["LPUSH", k, rm(rnd), rm(rnd)], ["RPUSH", k, rm(rnd)], ["LPUSHX", k, "a"], ["RPUSHX", k, "b"],
        ["LPOP", k], ["RPOP", k, "2"], ["LSET", k, "0", "s"], ["LREM", k, "0", rm(rnd)],
        ["LTRIM", k, "1", "-2"], ["LINSERT", k, "BEFORE", rm(rnd), "ins"],
        ["LMOVE", k, rk(rnd), "LEFT", "RIGHT"], ["RPOPLPUSH", k, rk(rnd)],
        ["LMPOP", "2", k, rk(rnd), "LEFT", "COUNT", "2"],
        ["BLPOP", k, rk(rnd), "0.01"], ["BRPOP", k, "0.01"], ["BLMOVE", k, rk(rnd), "RIGHT", "LEFT", "0.01"],
        ["BRPOPLPUSH", k, rk(rnd), "0.01"], ["BLMPOP", "0.01", "1", k, "RIGHT"],
    ])


def set_cmds(rnd, now_ms):
    k = rk(rnd)
    return rnd.choice([
        ["SADD", k, rm(rnd), rm(rnd), str(rnd.randrange(30))], ["SREM", k, rm(rnd)],
        ["SPOP", k], ["SPOP", k, str(rnd.randrange(1, 6))], ["SMOVE", k, rk(rnd), rm(rnd)],
        ["SINTERSTORE", k, rk(rnd), rk(rnd)], ["SUNIONSTORE", k, rk(rnd), rk(rnd)],
        ["SDIFFSTORE", k, rk(rnd), rk(rnd)],
    ])


def zset_cmds(rnd, now_ms):
    k = rk(rnd)
    return rnd.choice([
        ["ZADD", k, rscore(rnd), rm(rnd), rscore(rnd), rm(rnd)], ["ZADD", k, "INCR", "1.5", rm(rnd)],
        ["ZADD", k, "GT", "CH", rscore(rnd), rm(rnd)], ["ZINCRBY", k, "0.25", rm(rnd)], ["ZREM", k, rm(rnd)],
        ["ZPOPMIN", k], ["ZPOPMAX", k, "2"], ["BZPOPMIN", k, "0.01"], ["BZPOPMAX", k, rk(rnd), "0.01"],
        ["ZMPOP", "1", k, "MIN", "COUNT", "2"], ["BZMPOP", "0.01", "2", k, rk(rnd), "MAX"],
        ["ZREMRANGEBYSCORE", k, "0", "10"], ["ZREMRANGEBYRANK", k, "0", "0"],
        ["ZUNIONSTORE", k, "2", rk(rnd), rk(rnd), "WEIGHTS", "1", "2"], ["ZINTERSTORE", k, "1", rk(rnd)],
        ["ZDIFFSTORE", k, "2", rk(rnd), rk(rnd)], ["ZRANGESTORE", k, rk(rnd), "0", "-1"],
        ["GEOADD", k, "13.36", "38.11", rm(rnd)],
        ["GEOSEARCHSTORE", k, rk(rnd), "FROMLONLAT", "13", "38", "BYRADIUS", "500", "km"],
    ])


def hash_cmds(rnd, now_ms):
    k = rk(rnd)
    return rnd.choice([
        ["HSET", k, rm(rnd), rint(rnd), rm(rnd), "v" * rnd.randrange(1, 80)], ["HSETNX", k, rm(rnd), "n"],
        ["HDEL", k, rm(rnd)], ["HINCRBY", k, rm(rnd), "3"],
        ["HINCRBYFLOAT", k, rm(rnd), rnd.choice(["0.1", "2.5", "-1e2"])],
        ["HMSET", k, rm(rnd), "a", rm(rnd), "b"],
    ])


def stream_cmds(rnd, now_ms):
    k = rk(rnd)
    return rnd.choice([
        ["XADD", k, "*", "f", rm(rnd)], ["XADD", k, "*", "f", rm(rnd)],
        ["XADD", k, "MAXLEN", "~", "5", "*", "a", "b"], ["XADD", k, "MAXLEN", "3", "*", "a", "b"],
        ["XADD", k, "NOMKSTREAM", "*", "a", "b"], ["XADD", k, "MINID", "~", "0", "*", "c", "d"],
        ["XTRIM", k, "MAXLEN", "~", "2"], ["XTRIM", k, "MAXLEN", "4"],
        ["XDEL", k, "0-1"], ["XGROUP", "CREATE", k, "g1", "$", "MKSTREAM"],
        ["XGROUP", "CREATE", k, "g2", "0"], ["XGROUP", "SETID", k, "g2", "$"],
        ["XGROUP", "CREATECONSUMER", k, "g1", "c9"], ["XGROUP", "DELCONSUMER", k, "g1", "c1"],
        ["XREADGROUP", "GROUP", "g1", "c1", "COUNT", "2", "STREAMS", k, ">"],
        ["XREADGROUP", "GROUP", "g2", "c2", "STREAMS", k, ">"],
        ["XREADGROUP", "GROUP", "g2", "c3", "NOACK", "COUNT", "1", "STREAMS", k, ">"],
        ["XAUTOCLAIM", k, "g1", "c2", "0", "0"], ["XCLAIM", k, "g2", "c4", "0", "0-1"],
        ["XSETID", k, "99999999999999-0"],
    ])


def any_cmd(rnd, now_ms):
    gens = [string_cmds, key_cmds, list_cmds, set_cmds, zset_cmds, hash_cmds, stream_cmds]
    return rnd.choice(gens)(rnd, now_ms)


def apply_stream(server, data):
    """Applies a propagated stream to a server over one connection; returns [(command, error)]."""
    c = server.client()
    c.response_callbacks.clear()
    c.execute_command("DEBUG", "APPLY-STREAM", "1")
    errors = []
    for cmd in parse_commands(data):
        try:
            c.execute_command(*cmd)
        except redis.ResponseError as e:
            errors.append((cmd, str(e)))
    c.close()
    return errors


def pairs(flat):
    return list(zip(flat[::2], flat[1::2]))


def dump(server):
    """Every key of every db used, by logical content: type, value, absolute expiry."""
    c = server.client()
    c.response_callbacks.clear()
    x = c.execute_command
    state = {}
    for dbid in (0, 1, 2):
        x("SELECT", dbid)
        keys, cursor = [], b"0"
        while True:
            cursor, batch = x("SCAN", cursor, "COUNT", 1000)
            keys += batch
            if cursor == b"0":
                break
        for key in sorted(set(keys)):
            t = x("TYPE", key)
            t = t.decode() if isinstance(t, bytes) else t
            if t == "string":
                v = x("GET", key)
            elif t == "list":
                v = x("LRANGE", key, 0, -1)
            elif t == "set":
                v = sorted(x("SMEMBERS", key))
            elif t == "zset":
                v = pairs(x("ZRANGE", key, 0, -1, "WITHSCORES"))
            elif t == "hash":
                v = sorted(pairs(x("HGETALL", key)))
            elif t == "stream":
                info = dict(pairs(x("XINFO", "STREAM", key)))
                groups = []
                for g in x("XINFO", "GROUPS", key):
                    g = dict(pairs(g))
                    name = g[b"name"]
                    cons = sorted((d[b"name"], d[b"pending"]) for d in (dict(pairs(y)) for y in
                                                                         x("XINFO", "CONSUMERS", key, name)))
                    pend = [(p[0], p[1], p[3]) for p in x("XPENDING", key, name, "-", "+", 10000)]
                    groups.append((name, g[b"last-delivered-id"], g[b"entries-read"], g[b"pending"], cons, pend))
                v = (x("XRANGE", key, "-", "+"), info[b"length"], info[b"last-generated-id"],
                     info[b"max-deleted-entry-id"], info[b"entries-added"], sorted(groups))
            else:
                v = None
            state[(dbid, key)] = (t, v, x("PEXPIRETIME", key))
    c.close()
    return state


def digests(r):
    try:
        return r.execute_command("DEBUG", "DIGEST")
    except redis.ResponseError:
        return None  # a server without DEBUG DIGEST: the content dump above decides


def replay_and_compare(primary, replica, logfile):
    # From here on the primary deletes nothing by itself, so every deletion it made is in the log and both
    # physical keyspaces must end up equal: DEBUG DIGEST (which sees expired keys not yet deleted) first,
    # then the logical dump (whose reads expire keys lazily, on both sides alike).
    primary.client().execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    with open(logfile, "rb") as f:
        data = f.read()
    assert data, "nothing was propagated"
    # The replica applies the stream as a replica's link or the AOF loader would: nothing expires under it
    # (the primary's DELs decide), and no active expiry runs while it is applied.
    replica.client().execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    errors = apply_stream(replica, data)
    assert errors == []
    assert digests(primary.client()) == digests(replica.client())
    da, db = dump(primary), dump(replica)
    assert da == db
    return da


def start_logging(server):
    log = f"{server.dir}/propagated.resp"
    assert server.client().execute_command("DEBUG", "PROPAGATION-LOG", log) == b"OK"
    return log


@pytest.mark.parametrize("seed", range(SEEDS))
def test_random_workload_replays_to_same_keyspace(make_sardine, seed):
    rnd = random.Random(seed)
    primary = make_sardine("--list-max-listpack-size", "4", "--hash-max-listpack-entries", "4",
                           "--set-max-intset-entries", "4", "--zset-max-listpack-entries", "4",
                           "--stream-node-max-entries", "3")
    replica = make_sardine("--list-max-listpack-size", "4", "--hash-max-listpack-entries", "4",
                           "--set-max-intset-entries", "4", "--zset-max-listpack-entries", "4",
                           "--stream-node-max-entries", "3")
    log = start_logging(primary)
    c = primary.client()
    c.response_callbacks.clear()  # raw replies: the workload only needs them to arrive
    for i in range(1500):
        now_ms = int(time.time() * 1000)
        cmd = any_cmd(rnd, now_ms)
        if rnd.random() < 0.05:
            # a transaction of a few commands, some of which may fail
            p = c.pipeline(transaction=True)
            for _ in range(rnd.randrange(1, 5)):
                p.execute_command(*any_cmd(rnd, now_ms))
            p.execute(raise_on_error=False)
        try:
            c.execute_command(*cmd)
        except redis.ResponseError:
            pass
        if i % 300 == 299:
            c.execute_command("SELECT", rnd.choice([0, 1]))
            c.execute_command("SWAPDB", "0", "1")
            c.execute_command("SELECT", 0)
            time.sleep(0.02)  # lets short TTLs pass: lazy and active expiry both get their turn
    state = replay_and_compare(primary, replica, log)
    assert len(state) > 5


def test_blocked_pops_propagate_as_what_they_did(make_sardine):
    primary, replica = make_sardine(), make_sardine()
    log = start_logging(primary)
    c = primary.client()
    waiters = []
    cmds = [["BLPOP", "q1", "q2", "0"], ["BRPOP", "q2", "0"], ["BLMOVE", "q1", "dst", "LEFT", "RIGHT", "0"],
            ["BRPOPLPUSH", "q1", "dst2", "0"], ["BZPOPMIN", "z", "0"], ["BZMPOP", "0", "1", "z", "MAX", "COUNT", "2"],
            ["BLMPOP", "0", "2", "q3", "q1", "RIGHT", "COUNT", "3"]]
    for cmd in cmds:
        s = socket.create_connection(("127.0.0.1", primary.port))
        s.sendall(("*%d\r\n" % len(cmd) + "".join("$%d\r\n%s\r\n" % (len(a), a) for a in cmd)).encode())
        waiters.append(s)
        time.sleep(0.02)
    c.rpush("q2", "a", "b", "c")
    c.rpush("q1", *[f"e{i}" for i in range(8)])
    c.zadd("z", {"x": 1, "y": 2, "w": 3, "v": 4})
    for s in waiters:
        s.settimeout(5)
        assert s.recv(1000)
        s.close()
    replay_and_compare(primary, replica, log)


def test_expiry_and_eviction_propagate_as_deletions(make_sardine):
    primary = make_sardine("--maxmemory-policy", "allkeys-random")
    replica = make_sardine()
    log = start_logging(primary)
    c = primary.client()
    for i in range(200):
        c.set(f"short{i}", "v", px=rnd_ttl(i))
    c.set("long", "v", ex=1000)
    time.sleep(0.3)
    for i in range(0, 200, 3):
        c.get(f"short{i}")  # lazy expiry of some, the active cycle takes the rest
    time.sleep(0.3)
    used = int(c.info("memory")["used_memory"])
    c.config_set("maxmemory", str(used + 200 * 1024))
    for i in range(5000):
        c.set(f"big{i}", "x" * 300)  # forces eviction
    assert int(c.info("stats")["evicted_keys"]) > 0
    c.config_set("maxmemory", "0")
    with open(log, "rb") as f:
        body = f.read()
    assert b"DEL" in body or b"UNLINK" in body
    replay_and_compare(primary, replica, log)


def rnd_ttl(i):
    return 1 + i % 50


def test_no_sink_records_nothing_and_reads_are_not_propagated(make_sardine):
    primary = make_sardine()
    log = start_logging(primary)
    c = primary.client()
    c.set("a", "1")
    c.get("a")
    c.execute_command("DEL", "missing")  # changes nothing: not propagated
    c.execute_command("DEBUG", "PROPAGATION-LOG", "OFF")
    c.set("b", "2")
    with open(log, "rb") as f:
        body = f.read()
    assert body == b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"


def test_flushall_of_an_empty_dataset_is_propagated(make_sardine):
    """FLUSHALL and FLUSHDB of nothing still go out, as Redis 7.0's forceCommandPropagation: a replica
    or an AOF may hold keys the primary does not."""
    from harness import parse_commands
    s = make_sardine()
    log = start_logging(s)
    r = s.client()
    r.flushall()
    r.flushdb()
    r.set("a", 1)
    r.flushall()
    r.execute_command("DEBUG", "PROPAGATION-LOG", "OFF")
    cmds = [c for c in parse_commands(open(log, "rb").read()) if c[0].upper() != b"SELECT"]
    assert cmds == [[b"FLUSHALL"], [b"FLUSHDB"], [b"SET", b"a", b"1"], [b"FLUSHALL"]]


def test_publish_goes_to_replicas_only(make_sardine):
    """PUBLISH and SPUBLISH reach replicas (their subscribers get the message too), as Redis 7.0's
    forceCommandPropagation(PROPAGATE_REPL), but never the AOF: the test sink stands for a replica, and an
    AOF written meanwhile has no trace of them, also inside MULTI and from a script."""
    from harness import parse_commands
    s = make_sardine("--appendonly", "yes", "--appendfsync", "always")
    log = start_logging(s)
    r = s.client()
    r.publish("ch", "m1")
    r.execute_command("SPUBLISH", "sch", "m2")
    p = r.pipeline(transaction=True)
    p.set("k", "v")
    p.publish("ch", "m3")
    p.execute()
    r.eval("redis.call('publish', 'ch', 'm4'); return 1", 0)
    r.execute_command("DEBUG", "PROPAGATION-LOG", "OFF")
    cmds = [[c[0].upper()] + c[1:] for c in parse_commands(open(log, "rb").read()) if c[0].upper() != b"SELECT"]
    assert cmds == [[b"PUBLISH", b"ch", b"m1"], [b"SPUBLISH", b"sch", b"m2"],
                    [b"MULTI"], [b"SET", b"k", b"v"], [b"PUBLISH", b"ch", b"m3"], [b"EXEC"],
                    [b"PUBLISH", b"ch", b"m4"]], cmds
    import glob
    aof = b"".join(open(f, "rb").read() for f in sorted(glob.glob(f"{s.dir}/appendonlydir/*.incr.aof")))
    assert b"PUBLISH" not in aof.upper() and b"SET" in aof
