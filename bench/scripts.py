#!/usr/bin/python3
"""Scripting figures, Sardine against Debian's redis-server, each started here on a free loopback port:

  * redis-benchmark -n N -P 1 and -P 32 of EVALSHA of a small read-modify-write script (GET, INCR, EXPIRE):
    requests per second, and the server's CPU time per request (user + system, from /proc);
  * a script that touches 10k keys (SET and INCR of each): the best of R rounds of 5 EVALSHA, ms per call;
  * memory per cached script (SCRIPT LOAD of 10k distinct scripts) and per function library of one function
    (FUNCTION LOAD of 2k libraries): used_memory plus the Lua interpreters' memory, per item.

    make -j2 all && bench/scripts.py [--server build/sardine-server] [--requests 200000] [--rounds 3] [--repeat 3]

The machine's load moves the throughput figures, so both servers run side by side and each EVALSHA figure
is taken in pairs, one server right after the other (which goes first alternates with every repeat): the
ratio column is the median of the pairs' ratios, the other columns the medians of each server's values.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import redis  # noqa: E402

from harness import free_port  # noqa: E402

SMALL = "local v = redis.call('get', KEYS[1]) redis.call('incr', KEYS[1]) redis.call('expire', KEYS[1], 100) return v"
TENK = "for i = 1, 10000 do redis.call('set', KEYS[1] .. i, i) redis.call('incr', KEYS[1] .. i) end return 1"


def start(argv0, extra):
    d = tempfile.mkdtemp(prefix="bench-scripts-")
    port = free_port()
    proc = subprocess.Popen([argv0, "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--save", ""] + extra,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    r = redis.Redis(port=port)
    for _ in range(200):
        try:
            r.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    return proc, port, d


def rps(port, sha, n, pipeline):
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-n", str(n), "-P", str(pipeline), "--csv",
                          "evalsha", sha, "1", "counter"], capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1].split(",")[1].strip('"'))


def cpu_seconds(pid):
    """The process's user + system CPU time (from /proc), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(port, pid, sha, pipeline, args):
    """EVALSHA of SMALL: requests per second, and the server's CPU microseconds per request."""
    cpu = cpu_seconds(pid)
    out = {f"evalsha -P {pipeline} rps": rps(port, sha, args.requests, pipeline)}
    # the server's own CPU per request: steadier than rps on a machine shared with other work
    out[f"evalsha -P {pipeline} cpu us/req"] = (cpu_seconds(pid) - cpu) * 1e6 / args.requests
    return out


def figures(port, kind, args):
    r = redis.Redis(port=port)
    out = {}
    tenk = r.script_load(TENK)
    best = 1e9
    for _ in range(args.rounds):
        t = time.perf_counter()
        for j in range(5):
            r.evalsha(tenk, 1, f"k{j}:")
        best = min(best, (time.perf_counter() - t) / 5)
    out["10k-key script ms"] = best * 1000
    r.flushall()

    def mem():
        i = r.info("memory")
        return i["used_memory"] + i["used_memory_lua"] + (i.get("used_memory_vm_functions", 0) if kind == "redis" else 0)

    r.script_flush()
    a = mem()
    p = r.pipeline(transaction=False)
    for i in range(10000):
        p.script_load(SMALL + f" -- {i}")
    p.execute()
    out["bytes per cached script"] = (mem() - a) / 10000
    r.script_flush()  # the cached scripts (and the garbage their loading left) out of the measure
    r.function_flush()
    a = mem()
    p = r.pipeline(transaction=False)
    for i in range(2000):
        p.function_load(f"#!lua name=lib{i}\nredis.register_function('f{i}', function(keys) "
                        "return redis.call('incr', keys[1]) end)")
    p.execute()
    out["bytes per function library"] = (mem() - a) / 2000
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", default="build/sardine-server")
    ap.add_argument("--redis", default=shutil.which("redis-server") or "/usr/bin/redis-server")
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=1, help="pairs of measures, alternating which server goes first")
    args = ap.parse_args()
    kinds = ("sardine", "redis")
    results = {k: [] for k in kinds}
    ratios = {}
    for rep in range(args.repeat):
        # fresh servers for every repeat (the memory figures want them), started side by side
        servers = {"sardine": start(args.server, []), "redis": start(args.redis, ["--appendonly", "no"])}
        try:
            shas = {k: redis.Redis(port=servers[k][1]).script_load(SMALL) for k in kinds}
            got = {k: {} for k in kinds}
            for p in (1, 32):
                for k in kinds if rep % 2 == 0 else kinds[::-1]:
                    got[k].update(throughput(servers[k][1], servers[k][0].pid, shas[k], p, args))
            for k in kinds:
                got[k].update(figures(servers[k][1], k, args))
                results[k].append(got[k])
            for f in got["sardine"]:
                ratios.setdefault(f, []).append(got["sardine"][f] / got["redis"][f])
        finally:
            for proc, _, d in servers.values():
                proc.terminate()
                proc.wait()
                shutil.rmtree(d, ignore_errors=True)

    def median(v):
        v = sorted(v)
        return v[len(v) // 2]

    print(f"{'figure (median of %d)' % args.repeat:28} {'sardine':>12} {'redis':>12} {'ratio':>7}  ratios of the pairs")
    for f in results["sardine"][0]:
        s, r = (median(x[f] for x in results[k]) for k in kinds)
        print(f"{f:28} {s:12.1f} {r:12.1f} {median(ratios[f]):7.2f}  {' '.join('%.2f' % x for x in ratios[f])}")


if __name__ == "__main__":
    main()
