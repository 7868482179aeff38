"""Keyspace notifications against redis-server 7.0: both servers get notify-keyspace-events, a RESP2
subscriber on __key*@*__:* and the same generated commands of every type (the generators of
tests/integration/test_propagation.py); after each command the messages each subscriber received are
read (up to the reply of a PING sent on the subscriber, which comes after everything the command
published) and compared, in order.

Left out of the generated commands: expiries a few milliseconds ahead (PX, PSETEX, PEXPIRE, PXAT,
PEXPIREAT, EXPIREAT around now), whose "expired" events come from the active cycle at moments that
differ between two servers; expiry is compared in test_lazy_expiry_events, deterministically."""
import os
import random
import time

import pytest

from sardine_resp import Raw, encode
from test_propagation import any_cmd

SEEDS = int(os.environ.get("SARDINE_NOTIFY_SEEDS", "4"))
STEPS = 150


def timing_dependent(cmd):
    up = [a.upper() if isinstance(a, str) else a for a in cmd]
    return up[0] in ("PSETEX", "PEXPIRE", "PEXPIREAT", "EXPIREAT") or "PX" in up or "PXAT" in up


class Side:
    def __init__(self, server, classes, resp=2):
        self.main = Raw(server.port)
        assert self.main.cmd("CONFIG", "SET", "notify-keyspace-events", classes) == "OK"
        self.sub = Raw(server.port)
        if resp == 3:
            self.sub.cmd("HELLO", "3")
        self.sub.send(encode("PSUBSCRIBE", "__key*@*__:*"))
        self.sub.reply()

    def run(self, *args):
        reply = self.main.cmd(*args)
        self.sub.send(encode("PING"))
        msgs = []
        while True:
            m = self.sub.reply()
            if m in ("PONG", [b"pong", b""]):
                return reply, msgs
            msgs.append(list(m))


def compare(sides, cmds):
    for i, cmd in enumerate(cmds):
        a = sides[0].run(*cmd)
        b = sides[1].run(*cmd)
        assert a[1] == b[1], f"step {i} {cmd}: sardine {a[1]!r}, redis {b[1]!r} (replies {a[0]!r} / {b[0]!r})"


@pytest.mark.parametrize("seed", range(SEEDS))
def test_generated_commands_publish_the_same_events(sardine, oracle, seed):
    rnd = random.Random(seed)
    now = int(time.time() * 1000)
    cmds = []
    while len(cmds) < STEPS:
        c = any_cmd(rnd, now)
        if not timing_dependent(c):
            cmds.append(c)
    cmds += [["FLUSHDB"], ["SET", "a", "1"], ["SWAPDB", "0", "1"], ["FLUSHALL"]]
    compare([Side(sardine, "KEA"), Side(oracle, "KEA")], cmds)


@pytest.mark.parametrize("classes", ["KEA", "Kg", "E$l", "KEAnm", "Kx", "Eh", "KEzt", "KEs"])
def test_classes_filter_the_same(sardine, oracle, classes):
    rnd = random.Random(classes)
    now = int(time.time() * 1000)
    cmds = [["GET", "nokey"], ["SET", "n", "1"], ["HGET", "nokey", "f"]]
    while len(cmds) < 80:
        c = any_cmd(rnd, now)
        if not timing_dependent(c):
            cmds.append(c)
    compare([Side(sardine, classes), Side(oracle, classes)], cmds)


def test_resp3_subscriber(sardine, oracle):
    cmds = [["SET", "k", "v"], ["LPUSH", "l", "a", "b"], ["DEL", "k", "l"], ["INCR", "k"]]
    compare([Side(sardine, "KEA", resp=3), Side(oracle, "KEA", resp=3)], cmds)


def test_lazy_expiry_events(sardine, oracle):
    sides = [Side(sardine, "KEAm"), Side(oracle, "KEAm")]
    for s in sides:
        s.main.cmd("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    # 10 ms, not 1: redis-server 7.0 deletes a key at once ("del", not "expire") when its new expiry is
    # not after the clock read again at the check, which a millisecond boundary crossed in between makes so
    compare(sides, [["SET", "e", "1", "PX", "10"], ["LPUSH", "el", "x"], ["PEXPIRE", "el", "10"]])
    time.sleep(0.05)
    compare(sides, [["GET", "e"], ["LLEN", "el"], ["EXISTS", "e"]])


def test_evicted_and_expired_by_the_server(sardine):
    """Sardine alone (which keys go is the server's choice): eviction and the active expiry cycle publish
    "evicted" and "expired" as Redis does."""
    r = Raw(sardine.port)
    assert r.cmd("CONFIG", "SET", "notify-keyspace-events", "Eex") == "OK"
    sub = Raw(sardine.port)
    sub.send(encode("SUBSCRIBE", "__keyevent@0__:evicted", "__keyevent@0__:expired"))
    sub.reply(), sub.reply()
    r.cmd("SET", "short", "1", "PX", "1")
    used = int([l for l in r.cmd("INFO", "memory").decode().split("\r\n") if l.startswith("used_memory:")][0][12:])
    r.cmd("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
    r.cmd("CONFIG", "SET", "maxmemory", str(used + 400 * 1024))
    for i in range(2000):
        r.cmd("SET", "big%d" % i, "x" * 1024)
    r.cmd("CONFIG", "SET", "maxmemory", "0")
    seen = set()
    deadline = time.time() + 5
    while seen != {b"evicted", b"expired"} and time.time() < deadline:
        sub.send(encode("PING"))
        while True:
            m = sub.reply()
            if m == [b"pong", b""]:
                break
            seen.add(m[1].split(b":")[1])
        time.sleep(0.05)
    assert seen == {b"evicted", b"expired"}


# Commands the generators do not reach, one after another on a few keys: SORT/GEO stores, stream groups,
# emptied containers, TTL changes, COPY/RENAME, MOVE-like list moves.
EVENT_TOUR = [["RPUSH","l","3","1","2"],["SORT","l","STORE","dst"],["SORT","nol","STORE","dst"],["DUMP","l"],
 ["SET","s","v","GET"],["GETDEL","s"],["SET","e","1"],["EXPIRE","e","-5"],["MSET","a","1","b","2"],["DEL","a","b","zz"],
 ["HSET","h","f","1","g","2"],["HDEL","h","f","g"],["RPUSH","q","a","a"],["LREM","q","0","a"],
 ["ZADD","z","0","a","0","b"],["ZREMRANGEBYLEX","z","-","+"],["XADD","x","1-1","f","v"],["XGROUP","CREATE","x","g","0"],
 ["XREADGROUP","GROUP","g","c","STREAMS","x",">"],["XACK","x","g","1-1"],["XGROUP","DESTROY","x","g"],["XDEL","x","1-1"],
 ["SETRANGE","n","0",""],["SET","t","1","EX","100"],["PERSIST","t"],["EXPIRE","t","100"],["EXPIRE","t","50","LT"],
 ["LPUSH","m","a"],["LSET","m","0","b"],["LINSERT","m","BEFORE","b","c"],["RPOPLPUSH","m","m"],["LMOVE","m","m2","LEFT","RIGHT"],
 ["SADD","ss","1"],["SMOVE","ss","ss2","1"],["INCRBYFLOAT","f","1.5"],["HINCRBYFLOAT","h2","f","1.5"],
 ["GEOADD","geo","13.36","38.11","pa"],["GEOSEARCHSTORE","gd","geo","FROMLONLAT","13","38","BYRADIUS","500","km"],
 ["GEORADIUS","geo","13","38","500","km","STORE","gr"],["COPY","l","l2"],["COPY","l","l2","REPLACE"],["RENAME","l2","l3"],
 ["PFADD","hl"],["PFMERGE","hl2","hl"],["SETBIT","bb","7","1"],["BITFIELD","bb","SET","u8","0","1"],["APPEND","ap","x"],
 ["ZINCRBY","zz2","1","m"],["ZPOPMIN","zz2"],["XTRIM","x","MAXLEN","0"],["XSETID","x","5-5"],
 ["UNLINK","l3"],["FLUSHALL"]]


def test_event_tour(sardine, oracle):
    compare([Side(sardine, "KEAnm"), Side(oracle, "KEAnm")], EVENT_TOUR)
