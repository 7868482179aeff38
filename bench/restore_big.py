#!/usr/bin/python3
"""RESTORE of big keys, Sardine against redis-server, side by side.

For each type (sorted set, hash, set, list) a key of --members elements is built on a redis-server and
DUMPed once; the payload is then RESTOREd on a fresh redis-server and a fresh Sardine, alternately, --repeat
times.  Figures per run: the RESTORE's wall time as the client sees it (sending the payload included) and
the longest PING round trip of a concurrent client in another process (pinging every millisecond) while
the RESTORE runs; Sardine's own longest event-loop iteration (INFO eventloop_duration_max_usec and its
CPU part) is printed too.  Prints medians and Sardine/Redis ratios.

    bench/restore_big.py --members 2000000 --types zset,hash,set,list --repeat 3
    bench/restore_big.py --members 5000000 --types zset
    bench/restore_big.py --members 2000000 --types zset --migrate   (MIGRATE between two servers of each kind)
"""
import argparse
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(argv0):
    port = free_port()
    d = tempfile.mkdtemp(prefix="restore-big-")
    p = subprocess.Popen([argv0, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                          "--dir", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    r = redis.Redis(port=port, socket_timeout=600)
    for _ in range(500):
        try:
            r.ping()
            return p, port, r
        except redis.ConnectionError:
            time.sleep(0.02)
    raise RuntimeError(f"{argv0} did not start")


def stop(p):
    p.terminate()
    p.wait()


def build(r, kind, n):
    pipe = r.pipeline(transaction=False)
    batch = 1000
    for s in range(0, n, batch):
        rng = range(s, min(n, s + batch))
        if kind == "zset":
            pipe.zadd("k", {f"member:{i}": (i * 7919 % n) * 0.5 for i in rng})
        elif kind == "hash":
            pipe.hset("k", mapping={f"field:{i}": f"value:{i}" for i in rng})
        elif kind == "set":
            pipe.sadd("k", *[f"member:{i}" for i in rng])
        else:
            pipe.rpush("k", *[f"element:{i}" for i in rng])
        if s % 100000 == 0:
            pipe.execute()
    pipe.execute()
    return r.dump("k")


def pinger(port, stop_evt, out):
    r = redis.Redis(port=port, socket_timeout=600)
    worst = 0.0
    while not stop_evt.is_set():
        t = time.monotonic()
        r.ping()
        worst = max(worst, time.monotonic() - t)
        time.sleep(0.001)
    out.put(worst)


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += [b"$%d\r\n" % len(a), a, b"\r\n"]
    return b"".join(out)


def one_run(argv0, payload, is_sardine):
    p, port, r = start(argv0)
    try:
        stop_evt, out = multiprocessing.Event(), multiprocessing.Queue()
        pp = multiprocessing.Process(target=pinger, args=(port, stop_evt, out))
        pp.start()
        time.sleep(0.3)
        if is_sardine:
            r.config_resetstat()
        msg = resp("RESTORE", "k", 0, payload)
        s = socket.create_connection(("127.0.0.1", port))
        t0 = time.monotonic()
        s.sendall(msg)
        reply = s.recv(64)
        wall = time.monotonic() - t0
        s.close()
        stop_evt.set()
        worst = out.get()
        pp.join()
        if reply != b"+OK\r\n":
            raise RuntimeError(f"RESTORE replied {reply!r}")
        loop = None
        if is_sardine:
            info = r.info("stats")
            loop = (info.get("eventloop_duration_max_usec"), info.get("eventloop_duration_cpu_max_usec"))
        return wall, worst, loop
    finally:
        stop(p)


def migrate_run(argv0, payload):
    """MIGRATE of the key from one fresh server to another of the same kind: wall time of the command."""
    p1, port1, r1 = start(argv0)
    p2, port2, r2 = start(argv0)
    try:
        r1.restore("k", 0, payload)
        t0 = time.monotonic()
        reply = r1.execute_command("MIGRATE", "127.0.0.1", port2, "k", 0, 600000)
        wall = time.monotonic() - t0
        if reply not in (b"OK", "OK") or r2.exists("k") != 1 or r1.exists("k") != 0:
            raise RuntimeError(f"MIGRATE replied {reply!r}")
        return wall
    finally:
        stop(p1)
        stop(p2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=2000000)
    ap.add_argument("--types", default="zset,hash,set,list")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sardine", default=os.path.join(ROOT, "build", "sardine-server"))
    ap.add_argument("--redis", default="redis-server")
    ap.add_argument("--migrate", action="store_true", help="also time MIGRATE of the key between two servers")
    a = ap.parse_args()
    for kind in a.types.split(","):
        p, port, r = start(a.redis)
        try:
            payload = build(r, kind, a.members)
        finally:
            stop(p)
        res = {"redis": [], "sardine": []}
        loops = []
        for _ in range(a.repeat):
            for name, argv0 in (("redis", a.redis), ("sardine", a.sardine)):
                wall, worst, loop = one_run(argv0, payload, name == "sardine")
                res[name].append((wall, worst))
                if loop:
                    loops.append(loop)
        mig = {"redis": [], "sardine": []}
        if a.migrate:
            for _ in range(a.repeat):
                for name, argv0 in (("redis", a.redis), ("sardine", a.sardine)):
                    mig[name].append(migrate_run(argv0, payload))
        med = {k: (statistics.median(w for w, _ in v), statistics.median(x for _, x in v)) for k, v in res.items()}
        print(f"{kind} {a.members} elements, payload {len(payload):,} bytes:")
        print(f"  RESTORE wall   redis {med['redis'][0]:.3f} s  sardine {med['sardine'][0]:.3f} s  "
              f"ratio {med['sardine'][0] / med['redis'][0]:.3f}")
        print(f"  worst PING     redis {med['redis'][1] * 1000:.1f} ms  sardine {med['sardine'][1] * 1000:.1f} ms")
        print(f"  sardine longest loop iteration (wall, cpu usec): {loops}")
        if a.migrate:
            mr, ms = statistics.median(mig["redis"]), statistics.median(mig["sardine"])
            print(f"  MIGRATE wall   redis {mr:.3f} s  sardine {ms:.3f} s  ratio {ms / mr:.3f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
