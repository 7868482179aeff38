#!/usr/bin/python3
"""bigkey_snapshot: the pause a write to a big key causes right after BGSAVE starts, Sardine against Redis.

For each server binary given, --runs fresh servers each get: one big collection (--kind, --members; built on
a redis-server and DUMPed once, then RESTOREd) and --keys small string keys; then BGSAVE, and at once one
write to the big key (ZADD, HSET, SADD or RPUSH of one new element) on a second connection, while a third
one sends PINGs until that write is answered.  Printed per run: that write's round trip, the longest of
those PINGs, and (Sardine) the loop's longest iteration over the save in wall and CPU time; Redis's
latest_fork_usec, since its pause is the fork.

Sardine's snapshot (docs/ARCHITECTURE.md) saves a key before its first write while the save runs.  A big
value is written in parts over many loop iterations, and a write to one the image still owes waits for
it (the writer waits, not the loop): the write's round trip is long, the PINGs beside it are not.

    bench/bigkey_snapshot.py build/sardine-server redis-server --kind zset --members 2000000 --runs 2
"""
import argparse
import os
import sys
import threading
import time

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import restore_big  # noqa: E402  (start, stop, build: the same servers and payloads as that benchmark)

WRITE = {"zset": ("ZADD", "k", 1.5, "new-member"), "hash": ("HSET", "k", "new-field", "v"),
         "set": ("SADD", "k", "new-member"), "list": ("RPUSH", "k", "new-element")}


def one(binary, payload, a):
    p, port, r = restore_big.start(binary)
    try:
        r.restore("k", 0, payload)
        pipe = r.pipeline(transaction=False)
        for i in range(a.keys):
            pipe.set(b"key:%012d" % i, b"v")
            if i % 50000 == 49999:
                pipe.execute()
        pipe.execute()
        w = redis.Redis(port=port)
        w.ping()
        pinger = redis.Redis(port=port)
        pinger.ping()
        r.config_resetstat()
        r.bgsave()
        done = []

        def write():
            t = time.perf_counter()
            w.execute_command(*WRITE[a.kind])
            done.append((time.perf_counter() - t) * 1000)

        th = threading.Thread(target=write)
        th.start()
        ping_ms = 0.0
        while not done:
            t = time.perf_counter()
            pinger.ping()
            ping_ms = max(ping_ms, (time.perf_counter() - t) * 1000)
        th.join()
        write_ms = done[0]
        while r.info("persistence")["rdb_bgsave_in_progress"]:
            time.sleep(0.05)
        st = r.info("stats")
        loop = st.get("eventloop_duration_max_usec")
        cpu = st.get("eventloop_duration_cpu_max_usec")
        return (f"write {write_ms:.1f} ms, longest PING meanwhile {ping_ms:.1f} ms, "
                + (f"longest loop iteration {loop / 1000:.1f} ms ({cpu / 1000:.1f} ms CPU)" if loop is not None
                   else f"fork {st.get('latest_fork_usec', 0) / 1000:.1f} ms"))
    finally:
        restore_big.stop(p)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("servers", nargs="+")
    ap.add_argument("--kind", choices=sorted(WRITE), default="zset")
    ap.add_argument("--members", type=int, default=2000000)
    ap.add_argument("--keys", type=int, default=2000000, help="small keys beside it (the save's length)")
    ap.add_argument("--runs", type=int, default=2)
    a = ap.parse_args()
    p, _, r = restore_big.start("redis-server")
    try:
        payload = restore_big.build(r, a.kind, a.members)
    finally:
        restore_big.stop(p)
    for i in range(a.runs):
        for b in a.servers:
            print(f"{b} ({a.kind} of {a.members:,}, {a.keys:,} keys): {one(b, payload, a)}", flush=True)


if __name__ == "__main__":
    main()
