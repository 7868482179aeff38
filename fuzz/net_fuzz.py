#!/usr/bin/env python3
"""net_fuzz: the network path, fuzzed with whole sessions against a running (ASan) server.

Each session is a byte stream a client might send: a file of fuzz/corpus/net/ (RESP sessions from the
test suites), mutated (bytes flipped, ranges dropped, duplicated or spliced from another session, framing
tokens such as *-1, $-1, *0, huge lengths, bare \\n and inline lines inserted), then sent over a fresh
connection cut into random writes, while the replies are drained; some connections are dropped mid-way.
After every few sessions a control connection must get a reply to PING within 10 s (after CLIENT UNPAUSE,
since a session may pause the server), and at the end the server must still be running with no sanitizer
report in its output.  A session that breaks this is saved to fuzz/crashes/net/ with the sessions before it.

  net_fuzz.py --server build-asan/sardine-server --seconds 60     fuzz for a minute
  net_fuzz.py --server build-asan/sardine-server --replay         send every corpus and crash file once, unmutated

The server gets its own port and directory; DEBUG stays disabled and SHUTDOWN is defused in the mutated
bytes (a session that stops the server on purpose is not a finding).
"""
import argparse
import hashlib
import os
import random
import re
import select
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKENS = [b"*-1\r\n", b"*0\r\n", b"*-2\r\n", b"$-1\r\n", b"$0\r\n\r\n", b"*1048577\r\n", b"$536870912\r\n",
          b"*2147483648\r\n", b"$-2\r\n", b"\r\n", b"\n", b"\r", b"PING\r\n", b"SET k v\n", b"\"unbalanced\r\n",
          b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n", b"MULTI\r\n", b"EXEC\r\n", b"CLIENT PAUSE 50\r\n", b"\x00", b"\xff" * 8,
          b"*1\r\n$4\r\nPING\r\n", b"$99999999999999999999\r\n", b"*+1\r\n", b"$ 3\r\n"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def defuse(data):
    return re.sub(rb"(?i)shutdown", b"SHUTDOWX", data)


def mutate(rng, data, pool):
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(7)
        pos = rng.randint(0, len(data))
        if op == 0 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op == 1:
            del data[pos:pos + rng.randint(1, 64)]
        elif op == 2:
            data[pos:pos] = rng.choice(TOKENS)
        elif op == 3 and data:
            a = rng.randrange(len(data))
            data[pos:pos] = data[a:a + rng.randint(1, 256)]
        elif op == 4:
            other = rng.choice(pool)
            a = rng.randrange(len(other) + 1)
            data[pos:] = other[a:a + rng.randint(1, 4096)]
        elif op == 5:  # a length field rewritten
            m = list(re.finditer(rb"[*$](\d+)\r\n", bytes(data)))
            if m:
                g = rng.choice(m)
                data[g.start(1):g.end(1)] = str(rng.choice([0, 1, -1, 2 ** 31, 2 ** 63, 1024 * 1024 + 1,
                                                            rng.randint(0, 100)])).encode()
        else:
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return defuse(bytes(data[:65536]))


class Target:
    def __init__(self, server):
        self.dir = tempfile.mkdtemp(prefix="netfuzz-")
        self.port = free_port()
        self.log = open(os.path.join(self.dir, "server.log"), "wb")
        self.proc = subprocess.Popen([server, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                                      "--save", ""], stdout=self.log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, SARDINE_FREE_ON_EXIT="1"))
        deadline = time.time() + 15
        while True:
            try:
                self.ctl = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise SystemExit("net_fuzz: the server did not start:\n" + self.read_log())
                time.sleep(0.05)

    def read_log(self):
        self.log.flush()
        with open(os.path.join(self.dir, "server.log"), "rb") as f:
            return f.read().decode(errors="replace")

    def alive(self):
        """A reply to PING on the control connection (reopened if a session killed it)."""
        for attempt in range(2):
            try:
                self.ctl.sendall(b"CLIENT UNPAUSE\r\nPING\r\n")
                got = b""
                while got.count(b"\r\n") < 2:
                    chunk = self.ctl.recv(4096)
                    if not chunk:
                        raise OSError("closed")
                    got += chunk
                return True
            except OSError:
                if self.proc.poll() is not None:
                    return False
                try:
                    self.ctl.close()
                    self.ctl = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                except OSError:
                    return False
        return False

    def send(self, rng, data):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        except OSError:
            return
        s.setblocking(False)
        pos, drop = 0, rng.random() < 0.1 and rng.randint(0, len(data))
        deadline = time.time() + 2
        try:
            while pos < len(data) and time.time() < deadline:
                if drop is not False and pos >= drop:
                    break
                n = rng.choice([1, 2, 7, 64, 1500, 65536])
                _, w, _ = select.select([], [s], [], 0.2)
                if w:
                    pos += s.send(data[pos:pos + n])
                r, _, _ = select.select([s], [], [], 0)
                if r and not s.recv(1 << 16):
                    break
            end = time.time() + 0.05
            while time.time() < end:
                r, _, _ = select.select([s], [], [], 0.02)
                if r and not s.recv(1 << 16):
                    break
        except OSError:
            pass
        s.close()

    def stop(self):
        ok = self.proc.poll() is None
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            ok = False
        log = self.read_log()
        report = re.search(r"(ERROR: AddressSanitizer|runtime error|LeakSanitizer|SUMMARY: )", log)
        return ok and not report, log


def save_crash(history, crashes):
    """The last sessions, one file each, named so that --replay sends them in order on one server."""
    os.makedirs(crashes, exist_ok=True)
    tag = hashlib.sha1(b"".join(history)).hexdigest()[:12]
    for i, data in enumerate(history):
        with open(os.path.join(crashes, f"crash-{tag}-{i}"), "wb") as f:
            f.write(data)
    return os.path.join(crashes, f"crash-{tag}-*")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--replay", action="store_true")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--corpus", default=os.path.join(ROOT, "fuzz", "corpus", "net"))
    ap.add_argument("--crashes", default=os.path.join(ROOT, "fuzz", "crashes", "net"))
    args = ap.parse_args()
    files = []
    for d in (args.corpus, args.crashes):
        if os.path.isdir(d):
            files += [os.path.join(d, f) for f in sorted(os.listdir(d)) if not f.startswith(".")]
    pool = [open(f, "rb").read() for f in files]
    if not pool:
        raise SystemExit("net_fuzz: empty corpus")
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    target = Target(args.server)
    history, sessions, failed = [], 0, None
    start = time.time()
    todo = iter(pool) if args.replay else None
    while True:
        if args.replay:
            data = next(todo, None)
            if data is None:
                break
            data = defuse(data)
        else:
            if time.time() - start >= args.seconds:
                break
            data = mutate(rng, rng.choice(pool), pool)
        history = (history + [data])[-8:]
        target.send(rng, data)
        sessions += 1
        if sessions % 8 == 0 or args.replay and sessions == len(pool):
            if not target.alive():
                failed = "the server stopped answering PING"
                break
    if not failed and not target.alive():
        failed = "the server stopped answering PING"
    ok, log = target.stop()
    if not ok and not failed:
        failed = "sanitizer report or unclean exit"
    mode = "replay" if args.replay else f"seed {seed}"
    print(f"net_fuzz: {sessions} sessions in {time.time() - start:.0f}s ({mode})")
    if failed:
        path = save_crash(history, args.crashes) if not args.replay else "(replayed input)"
        print(f"net_fuzz: FAILED: {failed}; last sessions saved to {path}\n{log[-6000:]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
