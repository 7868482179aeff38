#!/usr/bin/env python3
"""compress: value-compression's memory saving and its GET/SET cost, on JSON-like ~1 KB documents.

  bench/compress.py [--server build/sardine-server] [--keys 1000000] [--repeat 3]
                    [--modes off,zstd,zstd-nodict] [--gets 2000000] [--json out.json]

The documents (issue 15): orders of 4-7 items with repeated field names, numbers, prices, SKUs, a
random 128-bit hex id, a customer with an address and e-mail, tags and a free-text note drawn from a
small vocabulary: 870 bytes on average (680-1060).  They are generated once (fixed seed) into a file
of SET commands (`key:%012d` -> document) that every run streams, so every server gets the same bytes.

Each mode starts the same Sardine (under `nice -n -15` when allowed) with:
  off          value-compression no (the default)
  zstd         value-compression zstd (level 3, min-size 256, a trained dictionary)
  zstd-nodict  value-compression zstd, value-compression-dict no
  zstd-l1      value-compression zstd, value-compression-level 1 (with a dictionary)

and measures, in this order:
  load       SETs of the --keys documents into an empty server, pipelined on one connection (a writer
             thread streams the file, the main thread counts the +OK replies): SETs per second
  get        redis-benchmark -t get on the loaded keys (-r --keys, so key:%012d picked at random; 50
             clients, -P 16, --gets requests): GETs per second; the reply bytes are the documents
  memory     INFO used_memory and VmRSS after the GETs (RSS/key in the table), and the compression ratio
             (original / compressed bytes of the compressed values, INFO compression_ratio)
  overwrite  SETs of a second pass of the file over the full keyspace (each key gets another key's
             document): SETs per second on a server whose old values are freed as it goes
  reload     DEBUG RELOAD (an RDB file written with the plain values, then loaded, compressing them
             again): seconds, and used_memory after it

Runs alternate the modes --repeat times; the table gives the medians, then each mode's ratios to the
`off` run of the same round (memory and reload time: smaller is better; throughput: higher is better),
their median and range: on a shared machine the load changes between rounds more than between the modes
of one round.  Progress goes to stderr.

Needs Python 3's standard library and redis-benchmark (Debian's redis-tools).
"""
import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from benchlib import Conn, enc, free_port, log, rss_of

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa "
         "quebec romeo sierra tango uniform victor whiskey xray yankee zulu red green blue fast slow small "
         "large new used").split()
CITIES = ["Berlin", "Paris", "Lisbon", "Madrid", "Oslo", "Vienna", "Prague", "Dublin", "Warsaw", "Rome"]
MODES = {
    "off": [],
    "zstd": ["--value-compression", "zstd"],
    "zstd-nodict": ["--value-compression", "zstd", "--value-compression-dict", "no"],
    "zstd-l1": ["--value-compression", "zstd", "--value-compression-level", "1"],
}


def doc(rng):
    items = [{"sku": "SKU-%06d" % rng.randrange(10**6), "qty": rng.randint(1, 9),
              "price": round(rng.uniform(1, 500), 2), "name": " ".join(rng.choice(WORDS) for _ in range(3))}
             for _ in range(rng.randint(4, 7))]
    d = {"id": "%032x" % rng.getrandbits(128), "type": "order", "version": 3,
         "created_at": 1700000000 + rng.randrange(10**7),
         "customer": {"id": rng.randrange(10**7), "name": rng.choice(WORDS).title() + " " + rng.choice(WORDS).title(),
                      "email": "%s.%d@example.com" % (rng.choice(WORDS), rng.randrange(10**4)),
                      "address": {"street": "%d %s street" % (rng.randrange(999), rng.choice(WORDS)),
                                  "city": rng.choice(CITIES), "zip": "%05d" % rng.randrange(10**5), "country": "EU"}},
         "items": items, "total": round(sum(x["price"] * x["qty"] for x in items), 2), "currency": "EUR",
         "status": rng.choice(["new", "paid", "shipped", "delivered", "cancelled"]),
         "tags": [rng.choice(WORDS) for _ in range(rng.randint(1, 4))],
         "notes": " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 30)))}
    return json.dumps(d, separators=(",", ":")).encode()


def make_files(n, d):
    """Two files of SET commands: pass 1 (key i -> document i) and pass 2 (key i -> document (i+1) % n)."""
    p1, p2 = os.path.join(d, f"set1-{n}.resp"), os.path.join(d, f"set2-{n}.resp")
    if os.path.exists(p1) and os.path.exists(p2):
        return p1, p2
    log(f"generating {n} documents into {d}")
    rng = random.Random(15)
    docs_bytes = 0
    with open(p1 + ".tmp", "wb") as f1, open(p2 + ".tmp", "wb") as f2:
        first = prev = None
        for i in range(n):
            v = doc(rng)
            docs_bytes += len(v)
            f1.write(enc(b"SET", b"key:%012d" % i, v))
            if prev is not None:
                f2.write(enc(b"SET", b"key:%012d" % (i - 1), v))
            else:
                first = v
            prev = v
        f2.write(enc(b"SET", b"key:%012d" % (n - 1), first))
    os.rename(p1 + ".tmp", p1)
    os.rename(p2 + ".tmp", p2)
    log(f"documents: {docs_bytes / n:.0f} bytes on average")
    return p1, p2


def stream_sets(port, path, n):
    """Streams the file's n SETs on one connection; returns SETs per second."""
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    err = []

    def writer():
        try:
            with open(path, "rb") as f:
                while True:
                    chunk = f.read(1 << 20)
                    if not chunk:
                        break
                    s.sendall(chunk)
        except OSError as e:
            err.append(e)

    want = 5 * n  # "+OK\r\n" each
    got = 0
    t0 = time.perf_counter()
    th = threading.Thread(target=writer)
    th.start()
    while got < want:
        d = s.recv(1 << 20)
        if not d:
            raise ConnectionError("closed during the load")
        if b"-" in d:  # every reply is +OK: anything else is an error
            raise RuntimeError(d[:200])
        got += len(d)
    dt = time.perf_counter() - t0
    th.join()
    s.close()
    if err:
        raise err[0]
    return n / dt


def start(server, mode):
    port = free_port()
    d = tempfile.mkdtemp(prefix="compress-")
    argv = [server, "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--save", "", "--appendonly", "no",
            "--enable-debug-command", "yes"]
    argv += MODES[mode]
    nice = ["nice", "-n", "-15"] if os.geteuid() == 0 else []
    p = subprocess.Popen(nice + argv, stdout=open(os.path.join(d, "log"), "wb"), stderr=subprocess.STDOUT)
    for _ in range(500):
        try:
            c = Conn(port)
            c.cmd("PING")
            return p, port, c, d
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("server did not start")


def redis_benchmark_get(port, n, gets):
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-t", "get", "-r", str(n), "-n", str(gets),
                          "-c", "50", "-P", "16", "-q", "--csv"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        f = [x.strip('"') for x in line.split(",")]
        if f[0] == "GET":
            return float(f[1])
    raise RuntimeError(out)


def one_run(server, mode, files, n, gets):
    p, port, c, d = start(server, mode)
    try:
        r = {"mode": mode}
        r["load_sets_per_s"] = stream_sets(port, files[0], n)
        assert int(c.info("keyspace")["db0"].split(",")[0].split("=")[1]) == n
        r["get_per_s"] = redis_benchmark_get(port, n, gets)
        # memory after the GETs: what the load's transient blocks (the dictionary's training) left has had
        # the allocator's decay time (10 s) to go back
        mem = c.info("memory")
        r["used_memory"] = int(mem["used_memory"])
        r["rss"] = rss_of(p.pid)
        r["compressed_values"] = int(mem.get("compressed_values", 0))
        r["compression_ratio"] = float(mem.get("compression_ratio", 0))
        r["dict"] = mem.get("compression_dict", "-")
        r["overwrite_sets_per_s"] = stream_sets(port, files[1], n)
        mem = c.info("memory")
        r["used_memory_after_overwrite"] = int(mem["used_memory"])
        t0 = time.perf_counter()
        c.cmd("DEBUG", "RELOAD")
        r["reload_s"] = time.perf_counter() - t0
        r["used_memory_after_reload"] = int(c.info("memory")["used_memory"])
        c.cmd("FLUSHALL")
        return r
    finally:
        p.terminate()
        p.wait(30)
        subprocess.run(["rm", "-rf", d])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", default=os.path.join(ROOT, "build", "sardine-server"))
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--gets", type=int, default=2000000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--modes", default="off,zstd,zstd-nodict")
    ap.add_argument("--datadir", default=tempfile.gettempdir(), help="where the generated files are kept")
    ap.add_argument("--json")
    a = ap.parse_args()
    modes = a.modes.split(",")
    files = make_files(a.keys, a.datadir)
    runs = {m: [] for m in modes}
    for rep in range(a.repeat):
        for m in modes:
            log(f"run {rep + 1}/{a.repeat} {m}")
            r = one_run(a.server, m, files, a.keys, a.gets)
            log("  " + json.dumps(r))
            runs[m].append(r)
    med = {m: {k: statistics.median(x[k] for x in rs) for k in rs[0] if isinstance(rs[0][k], (int, float))}
           for m, rs in runs.items()}
    print(f"{a.keys} documents, medians of {a.repeat} runs")
    print(f"{'mode':12} {'used MB':>8} {'RSS MB':>8} {'B/key RSS':>9} {'ratio':>6} {'load SET/s':>11} "
          f"{'GET/s':>9} {'overwr SET/s':>12} {'reload s':>8}")
    for m in modes:
        x = med[m]
        print(f"{m:12} {x['used_memory'] / 1e6:8.1f} {x['rss'] / 1e6:8.1f} {x['rss'] / a.keys:9.0f} "
              f"{x['compression_ratio']:6.2f} {x['load_sets_per_s']:11.0f} {x['get_per_s']:9.0f} "
              f"{x['overwrite_sets_per_s']:12.0f} {x['reload_s']:8.2f}")
    if "off" in runs:
        # each run against the `off` run of the same round (they ran minutes apart, under the same load)
        print("against off, run by run: median (min-max) of the ratios")
        cols = [("used", "used_memory"), ("RSS", "rss"), ("load", "load_sets_per_s"), ("GET", "get_per_s"),
                ("overwrite", "overwrite_sets_per_s"), ("reload", "reload_s")]
        for m in modes:
            if m == "off":
                continue
            parts = []
            for name, k in cols:
                rs = [x[k] / b[k] for x, b in zip(runs[m], runs["off"])]
                parts.append(f"{name} {statistics.median(rs):.2f} ({min(rs):.2f}-{max(rs):.2f})")
            print(f"  {m:12} " + "  ".join(parts))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(runs, f, indent=1)


if __name__ == "__main__":
    main()
