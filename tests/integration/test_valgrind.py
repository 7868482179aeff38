"""The server runs clean under valgrind: no invalid reads or writes, no leaks, for a session that touches
the protocol, every string encoding, expiry, eviction, transactions, big values freed in the background
and FLUSHALL ASYNC.  Uses the release build (jemalloc), as valgrind cannot run the ASan build.
The entry arena's reservation is cut to 256 MiB (SARDINE_ARENA_MB): valgrind tracks every mapped byte,
and the default 1 TiB reservation would make it grow to many GiB."""
import os
import shutil
import subprocess
import time

import pytest

from harness import ROOT, Server, free_port

RELEASE = os.path.join(ROOT, "build", "sardine-server")


@pytest.mark.skipif(not shutil.which("valgrind") or not os.path.exists(RELEASE), reason="needs valgrind and build/sardine-server")
def test_session_is_valgrind_clean(tmp_path):
    log = tmp_path / "vg.log"
    port = free_port()
    proc = subprocess.Popen(["valgrind", "--error-exitcode=9", "--leak-check=full", "--errors-for-leak-kinds=definite,possible",
                             "--soname-synonyms=somalloc=*jemalloc*", f"--log-file={log}", RELEASE, "--port", str(port),
                             "--bind", "127.0.0.1", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, SARDINE_ARENA_MB="256"))
    import redis
    r = redis.Redis(port=port, socket_timeout=120)
    deadline = time.time() + 60
    while True:
        try:
            r.ping()
            break
        except redis.ConnectionError:
            assert time.time() < deadline, "server under valgrind did not start"
            time.sleep(0.2)
    p = r.pipeline(transaction=False)
    for i in range(100):
        p.set(f"k{i}", i)
        p.set(f"s{i}", "x" * (i % 100), ex=100)
        p.append(f"s{i}", "y")
    p.execute()
    r.set("big", "z" * 300000)
    r.delete("big")
    r.incrbyfloat("f", 1.5)
    r.set("gone", "v", px=1)
    with r.pipeline() as t:
        t.watch("k1")
        t.multi()
        t.incr("k1")
        t.execute()
    r.scan(0, count=100)
    r.keys("k1*")
    r.config_set("maxmemory", "1mb")
    r.config_set("maxmemory-policy", "allkeys-lru")
    for i in range(100):
        r.set(f"e{i}", "v" * 2000)
    r.config_set("maxmemory", "0")
    r.flushall(asynchronous=True)
    r.set("left", "behind")
    # valgrind runs in the server's process: its peak memory stays small
    with open(f"/proc/{proc.pid}/status") as f:
        hwm_kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    assert hwm_kb < 2 * 1024 * 1024, f"valgrind peaked at {hwm_kb // 1024} MiB"
    # The socket stays open until valgrind's exit-time leak check is over: don't wait for it on the socket.
    quick = redis.Redis(port=port, socket_timeout=5)
    try:
        quick.shutdown(nosave=True)
    except (redis.ConnectionError, redis.TimeoutError):
        pass
    rc = proc.wait(600)
    assert rc == 0, log.read_text()[-3000:]
