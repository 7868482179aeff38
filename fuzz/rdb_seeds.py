#!/usr/bin/env python3
"""Seeds fuzz/corpus/rdb/ with real payloads and files made by redis-server 7.0 (the oracle): the DUMP
of one key of every type and encoding (small sizes, so mutations stay fast), each as a plain and a deep
input, and a small RDB file of all of them (checksum on and off).  Inputs are byte 0 (the mode, see
fuzz/fuzz_rdb.c) followed by the value without its footer, or by the whole file.

    /usr/bin/python3 fuzz/rdb_seeds.py            # writes fuzz/corpus/rdb/seed-*
"""
import hashlib
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import redis  # noqa: E402
from harness import free_port  # noqa: E402
from test_restore import fill_every_type  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "corpus", "rdb")


def main():
    os.makedirs(OUT, exist_ok=True)
    d = tempfile.mkdtemp()
    port = free_port()
    p = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", d], stdout=subprocess.DEVNULL)
    try:
        r = redis.Redis(port=port)
        for _ in range(100):
            try:
                r.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        fill_every_type(r, big=200)
        seeds = []
        for k in sorted(r.keys("*")):
            body = r.dump(k)[:-10]
            seeds += [b"\x00" + body, b"\x02" + body]
        r.save()
        data = open(os.path.join(d, "dump.rdb"), "rb").read()
        seeds += [b"\x01" + data, b"\x07" + data]
    finally:
        p.terminate()
        p.wait()
    for s in seeds:
        with open(os.path.join(OUT, "seed-" + hashlib.sha1(s).hexdigest()[:16]), "wb") as f:
            f.write(s)
    print(f"{len(seeds)} seeds in {OUT}")


if __name__ == "__main__":
    main()
