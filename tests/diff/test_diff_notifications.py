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
    compare(sides, [["SET", "e", "1", "PX", "1"], ["LPUSH", "el", "x"], ["PEXPIRE", "el", "1"]])
    time.sleep(0.02)
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
