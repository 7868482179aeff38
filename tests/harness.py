"""Shared test harness: paths of the binaries under test and a Server that runs one on a free port.

Imported by tests/conftest.py and re-exported by every conftest.py below it, so `from conftest import X`
works whichever conftest module pytest loaded last.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SARDINE_SERVER = os.environ.get("SARDINE_SERVER", os.path.join(ROOT, "build", "sardine-server"))
SARDINE_CLI = os.environ.get("SARDINE_CLI", os.path.join(ROOT, "build", "sardine-cli"))
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, argv0, args, kind):
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix=f"{kind}-")
        self.port = free_port()
        self.logfile = os.path.join(self.dir, "server.log")
        argv = [argv0, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir]
        # DEBUG is off by default in Redis 7 and in Sardine alike; the tests use it.
        argv += ["--enable-debug-command", "yes"]
        if kind == "redis":
            argv += ["--save", "", "--appendonly", "no"]
        argv += [str(a) for a in args]
        self.argv = argv
        self.log = open(self.logfile, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}: {self.read_log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith((b"+PONG", b"-NOAUTH")):
                        return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"{self.kind} did not start: {self.read_log()}")

    def read_log(self):
        self.log.flush()
        with open(self.logfile, "rb") as f:
            return f.read().decode(errors="replace")

    def client(self, **kw):
        kw.setdefault("socket_timeout", 10)
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


