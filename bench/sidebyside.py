#!/usr/bin/env python3
"""sidebyside: the same workloads on Debian's redis-server and on a Sardine build, side by side.

  bench/sidebyside.py [--server build/sardine-server] [--keys 1000000] [--repeat 3]
                      [--workloads memkeys,kv16,bench] [--json out.json]

Each workload run starts a FRESH server on a free loopback port (127.0.0.1, an empty temporary --dir),
waits for PING, runs, reads its figures and stops it.  With --repeat R every workload runs R rounds;
each round runs both servers one after the other, the order flipping every round (redis, sardine, then
sardine, redis, ...) so that neither always runs on a warmer or busier machine, and the table reports
the median of each figure and the ratio Sardine/Redis.  The machine is shared: compare the ratios, not
absolute figures taken at different times.

Workloads
  memkeys  N keys 'key:%012d' -> the integer i % 1000, each SET .. EX 3600, loaded through
           `redis-cli --pipe` from a RESP file generated once.  Figures: bytes/key by INFO used_memory and
           by VmRSS (/proc/PID/status), both minus the empty server's, after the server settled (Redis
           rehashes incrementally after a bulk load: DEBUG HTSTATS 0 is polled while it shows a
           'rehashing target', then used_memory and VmRSS must stay within 0.1% for --settle-window
           seconds); the same two right at the end of the load; the --pipe load rate in keys/s.
           Checks DBSIZE, a sample of values and that sampled TTLs are in (0, 3600].
  kv16     the same with 16-byte values 'val:%012d' and no TTL (sampled TTLs must be -1).
  bench    redis-benchmark -q --csv -t set,get,incr,lpush,sadd,hset,zadd -n --bench-requests -c 50
           -r 1000000 -P D for each D in --pipelines (default 1,32), a fresh server per depth; requests/s.

Adding a workload (persistence ones, when SAVE/loading and RESTORE land): write a function
`def my_workload(ctx, server) -> Figures` decorated with @workload("name", needs=("SAVE",)).  `server` is
running and empty; `server.restart()` stops it and starts it again on the same --dir (to time a load),
`server.client()` is a small RESP client, `ctx.stream(...)` caches a generated RESP file, and `needs`
lists commands the server must know (COMMAND INFO) or the workload is reported as skipped for it.
PLANNED below lists the ones kvbench-style comparisons will want.

Output: a table on stdout (progress on stderr); --json writes every run's figures and the summary.
Exit status 0 when every run passed its checks, 1 otherwise.
Needs Python 3's standard library, redis-server, and redis-cli + redis-benchmark (Debian's redis-tools).
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY_FMT = b"key:%012d"
VAL_FMT = b"val:%012d"
TTL = 3600
CHUNK = 100_000

PLANNED = {
    "save": "memkeys data set, time SAVE, RDB file size, restart on the same --dir, time to DBSIZE == N",
    "zrestore": "DUMP of a big sorted set taken once from Redis, time RESTORE of it, memory per member",
}


class BenchError(Exception):
    pass


def log(msg):
    print(time.strftime("%H:%M:%S ") + msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------- RESP

def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += [b"$%d\r\n" % len(a), a, b"\r\n"]
    return b"".join(out)


class Client:
    """A minimal blocking RESP2 client; error replies come back as BenchError instances."""

    def __init__(self, port, timeout=60):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.f = self.sock.makefile("rb")

    def close(self):
        self.f.close()
        self.sock.close()

    def pipeline(self, commands):
        self.sock.sendall(b"".join(encode(*c) for c in commands))
        return [self.reply() for _ in commands]

    def cmd(self, *args):
        r = self.pipeline([args])[0]
        if isinstance(r, BenchError):
            raise BenchError(f"{args[0]}: {r}")
        return r

    def reply(self):
        line = self.f.readline()
        if not line.endswith(b"\r\n"):
            raise BenchError("connection closed")
        kind, body = line[:1], line[1:-2]
        if kind == b"+":
            return body.decode()
        if kind == b"-":
            return BenchError(body.decode(errors="replace"))
        if kind == b":":
            return int(body)
        if kind == b"$":
            n = int(body)
            return None if n < 0 else self.f.read(n + 2)[:-2]
        if kind == b"*":
            n = int(body)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise BenchError(f"bad reply line {line[:60]!r}")

    def info(self, section):
        text = self.cmd("INFO", section).decode(errors="replace")
        return dict(l.split(":", 1) for l in text.splitlines() if ":" in l and not l.startswith("#"))


# ----------------------------------------------------------------------------------------- servers

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_bytes(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise BenchError(f"no {field} for pid {pid}")


class Server:
    """One server process on a free loopback port and its own empty --dir; a context manager."""

    def __init__(self, system, workdir):
        self.system = system
        self.dir = tempfile.mkdtemp(prefix=f"{system.name}-", dir=workdir)
        self.proc = None

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, timeout=120):
        self.port = free_port()
        argv = self.system.argv(self.port, self.dir)
        self.log = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.system.name} exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                c = Client(self.port, timeout=2)
                try:
                    if c.pipeline([("PING",)])[0] == "PONG":
                        return
                finally:
                    c.close()
            except (OSError, BenchError):
                pass
            time.sleep(0.05)
        raise BenchError(f"{self.system.name} did not answer PING within {timeout}s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()

    def restart(self):
        self.stop()
        self.start()

    def alive(self, when):
        if self.proc.poll() is not None:
            raise BenchError(f"{self.system.name} exited with {self.proc.returncode} {when}: {self.log_tail()}")

    def log_tail(self):
        self.log.flush()
        with open(os.path.join(self.dir, "server.log"), "rb") as f:
            return f.read()[-600:].decode(errors="replace")

    def client(self):
        return Client(self.port)

    def rss(self):
        return proc_bytes(self.proc.pid, "VmRSS")


class System:
    def __init__(self, name, binary, extra):
        self.name, self.binary, self.extra = name, binary, extra

    def argv(self, port, d):
        return [self.binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", d] + self.extra


# --------------------------------------------------------------------------------------- workloads

class Figures(dict):
    """name -> (value, unit, better)"""

    def add(self, name, value, unit, better):
        self[name] = (value, unit, better)


WORKLOADS = {}


def workload(name, needs=()):
    def register(fn):
        WORKLOADS[name] = (fn, needs)
        return fn
    return register


class Context:
    def __init__(self, args, workdir):
        self.args, self.workdir, self.streams = args, workdir, {}

    def stream(self, name, n, make):
        """Path of a RESP file of n commands, generated once: make(lo, hi) -> bytes of commands lo..hi-1."""
        if name not in self.streams:
            path = os.path.join(self.workdir, name + ".resp")
            t = time.monotonic()
            with open(path, "wb") as f:
                for lo in range(0, n, CHUNK):
                    f.write(make(lo, min(n, lo + CHUNK)))
            log(f"generated {name}: {n:,} commands, {os.path.getsize(path) / 2**20:,.0f} MiB "
                f"in {time.monotonic() - t:.1f}s")
            self.streams[name] = path
        return self.streams[name]


def pipe_load(ctx, server, path, n):
    argv = [ctx.args.redis_cli, "-h", "127.0.0.1", "-p", str(server.port), "--pipe", "--pipe-timeout", "0"]
    t = time.monotonic()
    with open(path, "rb") as f:
        out = subprocess.run(argv, stdin=f, capture_output=True)
    seconds = time.monotonic() - t
    text = (out.stdout + out.stderr).decode(errors="replace")
    m = re.search(r"errors: (\d+), replies: (\d+)", text)
    server.alive("during redis-cli --pipe")
    if not m or int(m.group(1)) != 0 or int(m.group(2)) != n:
        raise BenchError(f"redis-cli --pipe: expected 'errors: 0, replies: {n}', got {text[-300:]!r}")
    return seconds


def flat(values, tolerance=0.001, floor=256 * 1024):
    return max(values) - min(values) <= max(tolerance * max(values), floor)


def settle(ctx, server, c):
    """Waits for incremental rehashing (Redis: DEBUG HTSTATS 0) to end, then for used_memory and VmRSS to
    stay flat for --settle-window seconds; gives up at --settle-max.  Returns the seconds waited."""
    t0 = time.monotonic()
    deadline = t0 + ctx.args.settle_max
    while time.monotonic() < deadline:
        r = c.pipeline([("DEBUG", "HTSTATS", "0")])[0]
        if not isinstance(r, bytes) or b"rehashing target" not in r:
            break
        time.sleep(0.5)
    samples = []
    while True:
        now = time.monotonic()
        samples.append((now, int(c.info("memory")["used_memory"]), server.rss()))
        recent = [s for s in samples if s[0] >= now - ctx.args.settle_window]
        if now - samples[0][0] >= ctx.args.settle_window and flat([s[1] for s in recent]) \
                and flat([s[2] for s in recent]):
            break
        if now > deadline:
            log(f"WARNING: {server.system.name} memory still moving at --settle-max; measuring anyway")
            break
        time.sleep(0.5)
    return time.monotonic() - t0


def check_sample(ctx, c, n, value_of, ttl):
    rng = random.Random(1)
    idx = rng.sample(range(n), min(n, 1000))
    got = c.pipeline([("GET", KEY_FMT % i) for i in idx])
    bad = [(i, g) for i, g in zip(idx, got) if g != value_of(i)]
    if bad:
        raise BenchError(f"{len(bad)} sampled keys hold a wrong value, e.g. {KEY_FMT % bad[0][0]!r} -> {bad[0][1]!r}")
    for i, t in zip(idx[:100], c.pipeline([("TTL", KEY_FMT % i) for i in idx[:100]])):
        if not ((0 < t <= ttl) if ttl else t == -1):
            raise BenchError(f"TTL of {KEY_FMT % i!r} is {t!r}")


def memory_workload(ctx, server, name, make, value_of, ttl):
    n = ctx.args.keys
    path = ctx.stream(f"{name}-{n}", n, make)
    fig = Figures()
    c = server.client()
    try:
        empty_used, empty_rss = int(c.info("memory")["used_memory"]), server.rss()
        load_s = pipe_load(ctx, server, path, n)
        loaded_used, loaded_rss = int(c.info("memory")["used_memory"]), server.rss()
        settle_s = settle(ctx, server, c)
        used, rss = int(c.info("memory")["used_memory"]), server.rss()
        if c.cmd("DBSIZE") != n:
            raise BenchError(f"DBSIZE is not {n}")
        check_sample(ctx, c, n, value_of, ttl)
    finally:
        c.close()
    fig.add("used_memory_per_key", (used - empty_used) / n, "B/key", "lower")
    fig.add("rss_per_key", (rss - empty_rss) / n, "B/key", "lower")
    fig.add("used_memory_per_key_at_load_end", (loaded_used - empty_used) / n, "B/key", "lower")
    fig.add("rss_per_key_at_load_end", (loaded_rss - empty_rss) / n, "B/key", "lower")
    fig.add("pipe_load_keys_per_s", n / load_s, "keys/s", "higher")
    fig.add("settle_s", settle_s, "s", "lower")
    return fig


@workload("memkeys")
def memkeys(ctx, server):
    values = [encode(b"%d" % v)[4:] for v in range(1000)]            # '$N\r\nV\r\n' of each value
    template = (b"*5\r\n$3\r\nSET\r\n$16\r\n" + KEY_FMT + b"\r\n%b$2\r\nEX\r\n$4\r\n3600\r\n")
    return memory_workload(ctx, server, "memkeys",
                           lambda lo, hi: b"".join(template % (i, values[i % 1000]) for i in range(lo, hi)),
                           lambda i: b"%d" % (i % 1000), TTL)


@workload("kv16")
def kv16(ctx, server):
    template = b"*3\r\n$3\r\nSET\r\n$16\r\n" + KEY_FMT + b"\r\n$16\r\n" + VAL_FMT + b"\r\n"
    return memory_workload(ctx, server, "kv16",
                           lambda lo, hi: b"".join(template % (i, i) for i in range(lo, hi)),
                           lambda i: VAL_FMT % i, None)


@workload("bench")
def bench(ctx, server):
    """One depth per call: the driver runs it once per --pipelines value, each on a fresh server."""
    a = ctx.args
    fig = Figures()
    argv = [a.redis_benchmark, "-h", "127.0.0.1", "-p", str(server.port), "-q", "--csv", "-t", a.bench_tests,
            "-n", str(a.bench_requests), "-c", str(a.bench_clients), "-r", "1000000", "-P", str(ctx.depth)]
    out = subprocess.run(argv, capture_output=True, text=True)
    server.alive("after redis-benchmark")
    if out.returncode != 0:
        raise BenchError(f"redis-benchmark exit {out.returncode}: {out.stderr[-300:]}")
    for row in out.stdout.splitlines():
        cells = [x.strip('"') for x in row.split('","')]
        if len(cells) >= 2 and cells[0] not in ("test", ""):
            try:
                fig.add(f"{cells[0].split()[0]}_P{ctx.depth}", float(cells[1]), "req/s", "higher")
            except ValueError:
                pass
    wanted = [t.upper() for t in a.bench_tests.split(",")]
    missing = [t for t in wanted if f"{t}_P{ctx.depth}" not in fig]
    if missing:
        raise BenchError(f"redis-benchmark -P {ctx.depth} gave no figure for {missing}: {out.stdout[-300:]!r}")
    return fig


def knows(server, commands):
    c = server.client()
    try:
        return all(r and r[0] for r in c.cmd("COMMAND", "INFO", *commands))
    finally:
        c.close()


# ------------------------------------------------------------------------------------------ driver

def run_one(ctx, system, name):
    fn, needs = WORKLOADS[name]
    with Server(system, ctx.workdir) as server:
        if needs and not knows(server, needs):
            return None
        return fn(ctx, server)


def median_spread(values):
    m = statistics.median(values)
    return m, (100 * (max(values) - min(values)) / m if m else 0.0)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--server", default=os.path.join(ROOT, "build", "sardine-server"),
                   help="sardine-server to measure (default: the release build, build/sardine-server)")
    p.add_argument("--redis", default=shutil.which("redis-server") or "/usr/bin/redis-server")
    p.add_argument("--redis-cli", default=shutil.which("redis-cli") or "/usr/bin/redis-cli")
    p.add_argument("--redis-benchmark", default=shutil.which("redis-benchmark") or "/usr/bin/redis-benchmark")
    p.add_argument("--keys", type=int, default=1_000_000, help="keys in memkeys and kv16 (default 1000000)")
    p.add_argument("--workloads", default="memkeys,kv16,bench",
                   help=f"comma separated, of: {', '.join(WORKLOADS)} (default memkeys,kv16,bench)")
    p.add_argument("--repeat", type=int, default=1, help="rounds; the table shows medians (default 1)")
    p.add_argument("--json", metavar="PATH", help="write every run and the summary as JSON")
    p.add_argument("--pipelines", default="1,32", help="redis-benchmark -P depths (default 1,32)")
    p.add_argument("--bench-tests", default="set,get,incr,lpush,sadd,hset,zadd")
    p.add_argument("--bench-requests", type=int, default=1_000_000, help="redis-benchmark -n (default 1000000)")
    p.add_argument("--bench-clients", type=int, default=50, help="redis-benchmark -c (default 50)")
    p.add_argument("--settle-window", type=float, default=5.0, help="seconds memory must stay flat (default 5)")
    p.add_argument("--settle-max", type=float, default=600.0, help="longest settle wait in seconds (default 600)")
    p.add_argument("--workdir", default=None, help="where RESP files and server dirs go (default: a temp dir)")
    args = p.parse_args()

    names = [w for w in args.workloads.split(",") if w]
    unknown = [w for w in names if w not in WORKLOADS]
    if unknown:
        p.error(f"unknown workload(s) {unknown}; known: {', '.join(WORKLOADS)}; planned: {', '.join(PLANNED)}")
    for tool in (args.server, args.redis, args.redis_cli, args.redis_benchmark):
        if not os.access(tool, os.X_OK):
            p.error(f"not found or not executable: {tool}")

    systems = [System("redis", args.redis, ["--save", "", "--appendonly", "no", "--enable-debug-command", "local"]),
               System("sardine", args.server, [])]
    for s in systems:
        v = subprocess.run([s.binary, "--version"], capture_output=True, text=True).stdout.strip()
        log(f"{s.name}: {s.binary} ({v})")

    workdir = tempfile.mkdtemp(prefix="sidebyside-", dir=args.workdir)
    ctx = Context(args, workdir)
    runs, failures = [], []
    # every (workload, variant) is a row group; bench has one variant per pipeline depth
    plan = []
    for name in names:
        variants = [int(d) for d in args.pipelines.split(",")] if name == "bench" else [None]
        plan += [(name, v) for v in variants]
    try:
        for rnd in range(args.repeat):
            order = systems if rnd % 2 == 0 else systems[::-1]
            for name, depth in plan:
                for system in order:
                    label = name + (f" -P {depth}" if depth else "")
                    log(f"round {rnd + 1}/{args.repeat}: {label} on {system.name}")
                    ctx.depth = depth
                    run = {"workload": name, "depth": depth, "system": system.name, "round": rnd + 1}
                    try:
                        fig = run_one(ctx, system, name)
                        run["figures"] = None if fig is None else {k: v[0] for k, v in fig.items()}
                        run["units"] = None if fig is None else {k: [v[1], v[2]] for k, v in fig.items()}
                        if fig is None:
                            log(f"  skipped: {system.name} lacks a command {name} needs")
                    except BenchError as e:
                        run["error"] = str(e)
                        failures.append(f"FAIL {label} on {system.name} round {rnd + 1}: {e}")
                        log(failures[-1])
                    runs.append(run)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    summary = {}
    for run in runs:
        for fig, value in (run.get("figures") or {}).items():
            unit, better = run["units"][fig]
            row = summary.setdefault(f"{run['workload']}.{fig}", {"unit": unit, "better": better,
                                                                   "redis": [], "sardine": []})
            row[run["system"]].append(value)
    print(f"{'figure':<44} {'unit':>7} {'redis':>14} {'sardine':>14} {'sardine/redis':>14}")
    for key, row in summary.items():
        cells = {}
        for s in ("redis", "sardine"):
            if row[s]:
                m, spread = median_spread(row[s])
                row[s] = {"values": row[s], "median": m, "spread_pct": spread}
                cells[s] = f"{m:,.1f}" if m < 1000 else f"{m:,.0f}"
            else:
                row[s] = None
                cells[s] = "-"
        row["ratio_sardine_over_redis"] = (row["sardine"]["median"] / row["redis"]["median"]
                                           if row["redis"] and row["sardine"] and row["redis"]["median"] else None)
        ratio = row["ratio_sardine_over_redis"]
        print(f"{key:<44} {row['unit']:>7} {cells['redis']:>14} {cells['sardine']:>14} "
              f"{'-' if ratio is None else f'{ratio:.3f}':>14}")
    for f in failures:
        print(f)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"params": vars(args), "binaries": {s.name: s.binary for s in systems},
                       "summary": summary, "runs": runs, "failures": failures, "ok": not failures}, f, indent=1)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
