#!/usr/bin/env python3
"""values: memory per key for string values of one size, Debian's redis-server against Sardine (issue 15).

  bench/values.py [--server build/sardine-server] [--baseline OTHER-SARDINE] [--keys 1000000]
                  [--sizes 40,60,100,200,300,500] [--repeat 1] [--only redis|sardine] [--no-nice] [--json out]

For each size S: a fresh server per run, its RSS (VmRSS) and INFO used_memory once it answers PING (the
empty server), then N keys 'key:%012d' loaded pipelined with SET, each value exactly S bytes of random
printable characters (slices of a random pool at varying offsets: no runs a compressor could use), then
RSS and used_memory again.  Figures per size and server: the growth of RSS and of used_memory over the empty
server's, in MB and in bytes per key, and the ratios Sardine/Redis.  --baseline names a second Sardine binary
(an older build) measured the same way, shown as "before".  --repeat N runs everything N times, alternating
the servers, and prints medians.  Both servers run under nice -n -15 when allowed (root), unless --no-nice.

Needs Python 3's standard library and redis-server (Debian's).  Progress goes to stderr, the table to stdout.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from benchlib import Conn, enc, free_port, log, rss_of

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHUNK = 10000
PRINTABLE = bytes(range(33, 127))  # 94 characters, no space


def pool_bytes(n, seed):
    """n random printable bytes."""
    rnd = random.Random(seed)
    table = bytes(PRINTABLE[i % len(PRINTABLE)] for i in range(256))
    return rnd.randbytes(n).translate(table)


class Server:
    def __init__(self, kind, binary, nice):
        self.kind, self.port, self.dir = kind, free_port(), tempfile.mkdtemp(prefix="values-")
        argv = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir, "--save", "",
                "--appendonly", "no"]
        if nice and os.geteuid() == 0:
            argv = ["nice", "-n", "-15"] + argv
        self.p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(500):
            try:
                self.c = Conn(self.port)
                if self.c.cmd("PING") == b"PONG":
                    break
            except OSError:
                time.sleep(0.02)
        else:
            raise RuntimeError("%s did not start" % kind)

    def mem(self):
        return rss_of(self.p.pid), self.c.used_memory()

    def stop(self):
        self.p.kill()
        self.p.wait()


def run(kind, binary, size, a, pool):
    srv = Server(kind, binary, not a.no_nice)
    try:
        time.sleep(0.2)
        rss0, used0 = srv.mem()
        span = len(pool) - size
        for i in range(0, a.keys, CHUNK):
            n = min(CHUNK, a.keys - i)
            srv.c.s.sendall(b"".join(
                b"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$%d\r\n%s\r\n" % (j, size, pool[(j * 7919) % span:(j * 7919) % span + size])
                for j in range(i, i + n)))
            srv.c.expect_ok(n)
        n = int(srv.c.cmd("DBSIZE"))
        if n != a.keys:
            raise RuntimeError("%s holds %d keys, not %d" % (kind, n, a.keys))
        time.sleep(0.2)
        rss, used = srv.mem()
        return {"rss": rss - rss0, "used": used - used0, "rss0": rss0}
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", default=os.path.join(ROOT, "build", "sardine-server"))
    ap.add_argument("--baseline", help="another Sardine binary, measured too as 'before'")
    ap.add_argument("--redis", default="/usr/bin/redis-server")
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--sizes", default="40,60,100,200,300,500")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--only", choices=["redis", "sardine"])
    ap.add_argument("--no-nice", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",")]
    pool = pool_bytes(1 << 22, a.seed)
    servers = [("redis", a.redis), ("sardine", a.server)]
    if a.baseline:
        servers.insert(1, ("before", a.baseline))
    servers = [s for s in servers if not a.only or s[0] == a.only or (a.only == "sardine" and s[0] == "before")]
    res = {}  # (kind, size) -> list of runs
    for r in range(a.repeat):
        for size in sizes:
            order = servers if r % 2 == 0 else servers[::-1]
            for kind, binary in order:
                log("run %d: %s, %d keys of %d B" % (r + 1, kind, a.keys, size))
                res.setdefault((kind, size), []).append(run(kind, binary, size, a, pool))
    med = {k: {f: statistics.median(x[f] for x in v) for f in ("rss", "used", "rss0")} for k, v in res.items()}
    kinds = [k for k, _ in servers]
    print("%d keys 'key:%%012d', random printable values, medians of %d run(s); MB = 10^6 bytes; RSS and used "
          "are growth over the empty server" % (a.keys, a.repeat))
    hdr = "%5s" % "size"
    for k in kinds:
        hdr += " | %-7s %8s %8s %6s %6s" % (k, "RSS MB", "used MB", "RSS/k", "used/k")
    for k in kinds:
        if k != "redis" and "redis" in kinds:
            hdr += " | %s/redis RSS used" % k
    print(hdr)
    for size in sizes:
        line = "%5d" % size
        for k in kinds:
            m = med[(k, size)]
            line += " | %-7s %8.1f %8.1f %6.1f %6.1f" % ("", m["rss"] / 1e6, m["used"] / 1e6, m["rss"] / a.keys,
                                                          m["used"] / a.keys)
        for k in kinds:
            if k != "redis" and "redis" in kinds:
                m, r = med[(k, size)], med[("redis", size)]
                line += " | %*s %4.2f %4.2f" % (len(k) + 6, "", m["rss"] / r["rss"], m["used"] / r["used"])
        print(line)
    print("empty servers' RSS (MB): " + ", ".join(
        "%s %.1f" % (k, statistics.median(med[(k, s)]["rss0"] for s in sizes) / 1e6) for k in kinds))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"%s:%d" % k: v for k, v in res.items()}, f, indent=1)


if __name__ == "__main__":
    main()
