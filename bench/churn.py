#!/usr/bin/env python3
"""churn: memory after a changing dataset, Debian's redis-server against Sardine with activedefrag yes.

  bench/churn.py [--server build/sardine-server] [--keys 1000000] [--sizes 8,40,100,300]
                 [--rounds 3] [--wait 30] [--only redis|sardine] [--json out.json]
                 [--type string|hash|set|zset|list] [--big 5000] [--small 8] [--no-defrag]
                 [--sardine-args "--value-compression zstd ..."]

Workload (issue 15): N keys 'key:%012d' with values of a size drawn at random from --sizes; then
--rounds rounds of deleting a random half of the N names (DEL) and writing a random half (SET, a new
random size each); then --wait seconds of waiting.  Both servers get the same sequence (one seed).

With --type hash|set|zset|list the N names are elements inside collections instead: the first half in big
collections of --big elements ('big:%06d': hashtable hashes and sets, skiplist sorted sets, lists of many
nodes), the second half in small ones of --small elements ('small:%08d': listpacks, intsets of integer
members, one-node lists).  Hash values and list elements take their sizes from --sizes, set and sorted
set members are 'm%012d' (small sets: integers), scores random.  A round deletes a random half of the
element names (HDEL, SREM, ZREM) and writes a random half (HSET with a new size, SADD, ZADD with a new
score); a list instead loses a random half of its elements from its ends (LTRIM) and gets as many new
ones of new sizes pushed at either end.  --no-defrag keeps Sardine's activedefrag off (the baseline).

Sardine runs with active-defrag-ignore-bytes 10mb (--ignore-bytes), active-defrag-threshold-lower 5 (the tuning the issue
gave Redis 7.0.15 built from source) and activedefrag turned on when the wait starts (--defrag wait, the
default, so that the wait shows the defragmentation's work and pauses) or from the start (--defrag all: it
then runs during the churn and the wait starts defragmented).  Debian's redis-server has no active
defragmentation (its jemalloc lacks the hint), so it runs with defaults.

Figures per server: RSS (VmRSS) and INFO used_memory when full, after the churn, and after the wait;
RSS/used; the first second of the wait at which RSS <= 1.1 x used_memory; the longest PING round trip a
concurrent client (a process of its own sending PING after PING on its own connection) and its 99.9th percentile saw during the wait, which is
when defragmentation runs; for Sardine, its longest loop iteration during the wait in wall-clock and in CPU
time (INFO eventloop_duration_max_usec / _cpu_max_usec: on a loaded machine the wall-clock figures, the
PING's included, also count the time the process was not scheduled) and the allocations moved.  Progress goes to stderr, the table to stdout.

Needs Python 3's standard library and redis-server (Debian's).
"""
import argparse
import json
import os
import random
import shlex
import subprocess
import sys
import tempfile
import time
from benchlib import Conn, enc, free_port, log, rss_of

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Server:
    def __init__(self, kind, binary, defrag=True, ignore_bytes="10mb", extra=()):
        self.kind, self.port, self.dir = kind, free_port(), tempfile.mkdtemp(prefix="churn-")
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir, "--save", "",
                "--appendonly", "no"]
        if kind == "sardine" and defrag:
            args += ["--activedefrag", "yes" if defrag == "all" else "no", "--active-defrag-ignore-bytes", ignore_bytes,
                     "--active-defrag-threshold-lower", "5"]
        if kind == "sardine":
            args += list(extra)
        self.p = subprocess.Popen(args + (["--logfile", os.environ["CHURN_LOG"]] if os.environ.get("CHURN_LOG") else []), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                self.c = Conn(self.port)
                if self.c.cmd("PING") == b"PONG":
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("%s did not start" % kind)

    def mem(self):
        return rss_of(self.p.pid), int(self.c.info()["used_memory"])

    def stop(self):
        self.p.kill()
        self.p.wait()


def pinger(port, seconds):
    """The concurrent client, run as a process of its own (--pinger): a thread of this process would share
    the interpreter's lock with the sampling loop and see its waits (up to 5 ms) as round trips."""
    c = Conn(port)
    rts, end = [], time.time() + seconds
    while time.time() < end:
        t = time.perf_counter()
        c.cmd("PING")
        rts.append(time.perf_counter() - t)
        time.sleep(0.0005)
    rts.sort()
    print(json.dumps({"max_ping_ms": rts[-1] * 1000, "p999_ping_ms": rts[int(len(rts) * 0.999)] * 1000,
                      "pings": len(rts)}))


def coll_of(i, a):
    """The collection holding element i and whether it is a big one."""
    half = a.keys // 2
    if i < half:
        return b"big:%06d" % (i // a.big), True
    return b"small:%08d" % ((i - half) // a.small), False


def add_cmd(a, i, rnd, vals, sizes):
    key, big = coll_of(i, a)
    if a.type == "hash":
        return enc(b"HSET", key, b"f%012d" % i, vals[rnd.choice(sizes)])
    if a.type == "set":
        return enc(b"SADD", key, b"m%012d" % i if big else b"%d" % i)
    return enc(b"ZADD", key, b"%.6f" % rnd.random(), b"m%012d" % i)


def del_cmd(a, i):
    key, big = coll_of(i, a)
    if a.type == "hash":
        return enc(b"HDEL", key, b"f%012d" % i)
    if a.type == "set":
        return enc(b"SREM", key, b"m%012d" % i if big else b"%d" % i)
    return enc(b"ZREM", key, b"m%012d" % i)


def churn_collections(srv, rnd, a, vals, sizes):
    """Loads and churns the elements of collections (see the module's docstring); returns the memory
    when full."""
    log("%s: loading %d %s elements" % (srv.kind, a.keys, a.type))
    if a.type == "list":
        lens = {}
        cmds = []
        for i in range(a.keys):
            key, _ = coll_of(i, a)
            lens[key] = lens.get(key, 0) + 1
            cmds.append(enc(b"RPUSH", key, vals[rnd.choice(sizes)]))
        srv.c.pipeline(cmds)
        full = srv.mem()
        for r in range(a.rounds):
            log("%s: churn round %d" % (srv.kind, r + 1))
            trim, push = [], []
            for key, n in lens.items():
                gone = n // 2
                head = rnd.randint(0, gone)
                trim.append(enc(b"LTRIM", key, head, n - 1 - (gone - head)))
                for _ in range(gone):
                    push.append(enc(rnd.choice([b"LPUSH", b"RPUSH"]), key, vals[rnd.choice(sizes)]))
            rnd.shuffle(push)
            srv.c.pipeline(trim)
            srv.c.pipeline(push)
        return full
    srv.c.pipeline([add_cmd(a, i, rnd, vals, sizes) for i in range(a.keys)])
    full = srv.mem()
    for r in range(a.rounds):
        log("%s: churn round %d" % (srv.kind, r + 1))
        names = list(range(a.keys))
        rnd.shuffle(names)
        srv.c.pipeline([del_cmd(a, i) for i in names[:a.keys // 2]])
        rnd.shuffle(names)
        srv.c.pipeline([add_cmd(a, i, rnd, vals, sizes) for i in names[:a.keys // 2]])
    return full


def run(kind, binary, a):
    rnd = random.Random(a.seed)
    sizes = [int(x) for x in a.sizes.split(",")]
    vals = {s: b"v" * s for s in sizes}
    srv = Server(kind, binary, False if a.no_defrag else a.defrag, a.ignore_bytes, shlex.split(a.sardine_args))
    try:
        if a.type == "string":
            log("%s: loading %d keys" % (kind, a.keys))
            srv.c.pipeline([enc(b"SET", b"key:%012d" % i, vals[rnd.choice(sizes)]) for i in range(a.keys)])
            full = srv.mem()
            for r in range(a.rounds):
                log("%s: churn round %d" % (kind, r + 1))
                names = list(range(a.keys))
                rnd.shuffle(names)
                srv.c.pipeline([enc(b"DEL", b"key:%012d" % i) for i in names[:a.keys // 2]])
                rnd.shuffle(names)
                srv.c.pipeline([enc(b"SET", b"key:%012d" % i, vals[rnd.choice(sizes)]) for i in names[:a.keys // 2]])
        else:
            full = churn_collections(srv, rnd, a, vals, sizes)
        churned = srv.mem()
        log("%s: waiting %d s" % (kind, a.wait))
        if kind == "sardine":
            srv.c.cmd("CONFIG", "RESETSTAT")  # eventloop_duration_max_usec and the defrag counters from here on
            if a.defrag == "wait" and not a.no_defrag:
                srv.c.cmd("CONFIG", "SET", "activedefrag", "yes")
        ping = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--pinger", str(srv.port), str(a.wait)],
                                stdout=subprocess.PIPE)
        first_ok = None
        t0 = time.time()
        samples = []
        while time.time() - t0 < a.wait:
            time.sleep(1)
            rss, used = srv.mem()
            samples.append((round(time.time() - t0, 1), rss, used))
            log("  +%4.1f s  RSS %.1f MB  used %.1f MB" % (samples[-1][0], rss / 1e6, used / 1e6))
            if first_ok is None and rss <= 1.1 * used:
                first_ok = round(time.time() - t0, 1)
        pout = json.loads(ping.communicate()[0])
        end = srv.mem()
        stats = srv.c.cmd("INFO", "stats").decode()
        hits = [l for l in stats.split("\r\n") if l.startswith("active_defrag_hits")]
        loop = [l for l in stats.split("\r\n") if l.startswith("eventloop_duration_max_usec")]
        cpu = [l for l in stats.split("\r\n") if l.startswith("eventloop_duration_cpu_max_usec")]
        return {"server": kind, "full": full, "churned": churned, "end": end, "first_ok_s": first_ok,
                "max_ping_ms": pout["max_ping_ms"], "p999_ping_ms": pout["p999_ping_ms"], "pings": pout["pings"],
                "defrag_hits": hits[0].split(":")[1] if hits else "",
                "loop_max_ms": int(loop[0].split(":")[1]) / 1000 if loop else None,
                "loop_cpu_max_ms": int(cpu[0].split(":")[1]) / 1000 if cpu else None, "samples": samples}
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", default=os.path.join(ROOT, "build", "sardine-server"))
    ap.add_argument("--redis", default="redis-server")
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--sizes", default="8,40,100,300")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--wait", type=int, default=30)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--only", choices=["redis", "sardine"])
    ap.add_argument("--defrag", choices=["wait", "all"], default="wait",
                    help="Sardine's activedefrag: turned on when the wait starts (default: the figures then show "
                         "the defragmentation's own work and pauses), or on from the start")
    ap.add_argument("--type", choices=["string", "hash", "set", "zset", "list"], default="string",
                    help="what the N names are: keys (string), or elements of collections")
    ap.add_argument("--big", type=int, default=5000, help="elements of a big collection")
    ap.add_argument("--small", type=int, default=8, help="elements of a small collection")
    ap.add_argument("--no-defrag", action="store_true", help="Sardine with activedefrag off (a baseline)")
    ap.add_argument("--ignore-bytes", default="10mb", help="Sardine's active-defrag-ignore-bytes")
    ap.add_argument("--sardine-args", default="", help="more arguments for Sardine (e.g. '--value-compression zstd')")
    ap.add_argument("--json")
    ap.add_argument("--pinger", nargs=2, metavar=("PORT", "SECONDS"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.pinger:
        return pinger(int(a.pinger[0]), float(a.pinger[1]))
    res = []
    for kind, binary in (("redis", a.redis), ("sardine", a.server)):
        if a.only and a.only != kind:
            continue
        res.append(run(kind, binary, a))
    mb = lambda b: "%.1f" % (b / 1e6)
    print("%s, values %s B, %d %s, %d rounds, wait %d s (MB = 10^6 bytes)" % (
        a.type, a.sizes, a.keys, "keys" if a.type == "string" else "elements", a.rounds, a.wait))
    print("%-8s %9s %9s %9s %9s %9s %11s %11s %11s %11s %11s %11s" % ("server", "full RSS", "churn RSS", "end RSS",
          "end used", "RSS/used", "<=1.1x at s", "max PING ms", "PING p99.9", "loop max ms", "loop cpu ms", "defrag hits"))
    for r in res:
        rss, used = r["end"]
        print("%-8s %9s %9s %9s %9s %9.2f %11s %11.2f %11.2f %11s %11s %11s" % (
            r["server"], mb(r["full"][0]), mb(r["churned"][0]), mb(rss), mb(used), rss / used,
            r["first_ok_s"] if r["first_ok_s"] is not None else "-", r["max_ping_ms"], r["p999_ping_ms"],
            "%.2f" % r["loop_max_ms"] if r["loop_max_ms"] is not None else "-",
            "%.2f" % r["loop_cpu_max_ms"] if r["loop_cpu_max_ms"] is not None else "-", r["defrag_hits"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
