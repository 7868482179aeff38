#!/usr/bin/env python3
"""Many idle connections and one busy client: does the server keep answering it quickly?

Starts a server (a Sardine build or redis-server) on a free loopback port with maxclients above N, opens N
connections (each proves itself with a PING every 1000), then measures the PING round trip of one
other client, idle server first and with the N connections held, and prints p50/p99/max in
microseconds.  Run as root or with a high enough `ulimit -n` (it raises its own soft limit to N+100).

    bench/connections.py --server build/sardine-server --connections 10000
    bench/connections.py --server redis-server --connections 10000
"""
import argparse
import resource
import socket
import subprocess
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def latency(sock, rounds):
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        sock.sendall(b"PING\r\n")
        assert sock.recv(100) == b"+PONG\r\n"
        times.append((time.perf_counter() - t) * 1e6)
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.99)], times[-1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", default="build/sardine-server")
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=2000, help="PINGs per latency measurement")
    args = ap.parse_args()
    n = args.connections
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 100
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(want, hard)) if hard != resource.RLIM_INFINITY
                                                else max(soft, want), hard))
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="connections-")
    argv = [args.server, "--port", str(port), "--bind", "127.0.0.1", "--dir", workdir, "--maxclients", str(n + 32)]
    if "redis-server" in args.server:
        argv += ["--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 10
        while True:
            try:
                probe = socket.create_connection(("127.0.0.1", port), timeout=1)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        print("%s, idle: PING p50/p99/max = %.0f/%.0f/%.0f us" % ((args.server,) + latency(probe, args.rounds)))
        held, t = [], time.time()
        for i in range(n):
            s = socket.create_connection(("127.0.0.1", port))
            held.append(s)
            if i % 1000 == 999:
                s.sendall(b"PING\r\n")
                assert s.recv(100) == b"+PONG\r\n", f"connection {i + 1} was not served"
        print("opened %d connections in %.1f s" % (n, time.time() - t))
        probe.sendall(b"INFO clients\r\n")
        time.sleep(0.2)
        info = probe.recv(65536).decode()
        print([line for line in info.split("\r\n") if line.startswith("connected_clients")][0])
        print("with %d connections held: PING p50/p99/max = %.0f/%.0f/%.0f us" % ((n,) + latency(probe, args.rounds)))
        for s in held:
            s.close()
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
