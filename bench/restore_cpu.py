#!/usr/bin/python3
"""restore_cpu: the server's CPU time and wall time for one RESTORE of a big sorted set, build against build.

A sorted set of --members members is built on a redis-server and DUMPed once (or --payload FILE is read);
then, for each server binary given, --runs fresh servers each get one RESTORE of it on a raw connection,
alternating the binaries.  Per binary it prints the medians and minimums of the wall time from the first
byte sent to the reply, and of the server process's CPU time (user + system from /proc) over the RESTORE.
CPU time is the steadier figure on a shared machine: it does not count the time the process waits.

    bench/restore_cpu.py build/sardine-server /path/to/other/sardine-server --members 2000000 --runs 5
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import restore_big  # noqa: E402  (start, stop, build: the same servers and payloads as that benchmark)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one(binary, command):
    p, port, r = restore_big.start(binary)
    try:
        s = socket.create_connection(("127.0.0.1", port))
        c0 = cpu_seconds(p.pid)
        t0 = time.monotonic()
        s.sendall(command)
        reply = s.recv(100)
        wall = time.monotonic() - t0
        time.sleep(0.05)  # the worker threads' last moments
        cpu = cpu_seconds(p.pid) - c0
        if reply != b"+OK\r\n":
            raise SystemExit(f"{binary}: RESTORE replied {reply!r}")
        s.close()
        return wall, cpu
    finally:
        restore_big.stop(p)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("servers", nargs="+")
    ap.add_argument("--members", type=int, default=2000000)
    ap.add_argument("--payload", help="a DUMP payload file to use instead of building one")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    if a.payload:
        with open(a.payload, "rb") as f:
            payload = f.read()
    else:
        p, _, r = restore_big.start("redis-server")
        try:
            payload = restore_big.build(r, "zset", a.members)
        finally:
            restore_big.stop(p)
    command = restore_big.resp("RESTORE", "k", 0, payload)
    got = {b: [] for b in a.servers}
    for i in range(a.runs):
        for b in (a.servers if i % 2 == 0 else a.servers[::-1]):
            got[b].append(one(b, command))
    print(f"RESTORE of a {len(payload):,}-byte payload, {a.runs} fresh servers each:")
    for b, runs in got.items():
        walls, cpus = [x[0] for x in runs], [x[1] for x in runs]
        print(f"  {b}: wall median {statistics.median(walls):.3f} s (min {min(walls):.3f}), "
              f"CPU median {statistics.median(cpus):.2f} s (min {min(cpus):.2f})")


if __name__ == "__main__":
    main()
