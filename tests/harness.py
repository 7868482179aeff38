"""Shared test harness: paths of the binaries under test and a Server that runs one on a free port.

Imported by tests/conftest.py and re-exported by every conftest.py below it, so `from conftest import X`
works whichever conftest module pytest loaded last.

Which build is tested: $SARDINE_SERVER / $SARDINE_CLI when set (a path relative to the repository root
is taken from there), else the ASan build (build-asan/), the same default as `make pytest`
(SARDINE_BUILD=build-asan).  `missing_binaries()` names what is absent so that conftest.py can stop the
session with one clear message instead of a failure per test.

The oracle is Debian's redis-server (first redis-server on $PATH, else /usr/bin/redis-server, or
$SARDINE_ORACLE).  `check_oracle(server)` asks a running one for INFO server redis_version and fails the
test unless it is ORACLE_SERIES (7.0.x): every expected reply and error text in the suite is 7.0's.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_BUILD = "build-asan"   # keep in step with SARDINE_BUILD in the Makefile
ORACLE_SERIES = "7.0."


def _binary(env, name):
    path = os.environ.get(env) or os.path.join(ROOT, DEFAULT_BUILD, name)
    return path if os.path.isabs(path) else os.path.join(ROOT, path)


SARDINE_SERVER = _binary("SARDINE_SERVER", "sardine-server")
SARDINE_CLI = _binary("SARDINE_CLI", "sardine-cli")
REDIS_SERVER = os.environ.get("SARDINE_ORACLE") or shutil.which("redis-server") or "/usr/bin/redis-server"


def missing_binaries(need_cli=True):
    """[(variable, path)] of the binaries under test that do not exist or cannot be run."""
    wanted = [("SARDINE_SERVER", SARDINE_SERVER)] + ([("SARDINE_CLI", SARDINE_CLI)] if need_cli else [])
    return [(var, path) for var, path in wanted if not os.access(path, os.X_OK)]


def binary_version(path):
    """First line of `path --version`, or why there is none."""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as e:
        return f"cannot run: {e}"
    text = (out.stdout or out.stderr).decode(errors="replace").strip()
    return text.splitlines()[0] if text else f"exit {out.returncode}, no output"


_oracle_version = None


def check_oracle(server):
    """Fails (loudly, without a traceback) unless the running oracle reports redis_version 7.0.x."""
    global _oracle_version
    if _oracle_version is None:
        c = server.client()
        try:
            _oracle_version = str(c.info("server").get("redis_version", "unknown"))
        finally:
            c.close()
    if not _oracle_version.startswith(ORACLE_SERIES):
        pytest.fail(f"ORACLE IS NOT REDIS {ORACLE_SERIES}x: {server.argv[0]} reports redis_version "
                    f"{_oracle_version}. The differential and cli tests compare against Redis 7.0's replies and "
                    f"error texts; install Debian's redis-server 7.0 or point SARDINE_ORACLE at one.",
                    pytrace=False)
    return _oracle_version


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
        else:
            # No save points unless a test asks for them (a later --save replaces this one, as in a config
            # file, where the first `save` line replaces the defaults and the next ones add to it).
            argv += ["--save", ""]
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




def _call(r, *args):
    """One command on a raw client (tests/integration/sardine_resp.py, `.cmd`) or a redis-py client;
    returns (ok, reply) with errors as their message text."""
    if hasattr(r, "cmd"):
        reply = r.cmd(*args)
        if type(reply).__name__ == "Err":
            return False, reply.msg
        return True, reply
    try:
        return True, r.execute_command(*args)
    except redis.ResponseError as e:
        return False, str(e)


def _text(v):
    return v.decode() if isinstance(v, bytes) else v


def _is_sardine(r):
    ok, info = _call(r, "INFO", "server")
    if isinstance(info, dict):
        return "sardine_version" in info
    return ok and b"sardine_version:" in (info if isinstance(info, bytes) else str(info).encode())


def assert_keyspace_ok(r):
    """Structure check of every key of every database: DEBUG CHECK-KEYSPACE must reply OK, else the
    error names the key and the broken invariant.  A no-op on a real redis-server (the oracle or the
    validation mode), which has no such subcommand."""
    ok, reply = _call(r, "DEBUG", "CHECK-KEYSPACE")
    if not ok and "unknown subcommand" in reply and not _is_sardine(r):
        return
    assert ok and _text(reply) == "OK", f"DEBUG CHECK-KEYSPACE: {reply}"


def assert_key_ok(r, key):
    """DEBUG CHECK-KEY on one key of the client's current database (see assert_keyspace_ok)."""
    ok, reply = _call(r, "DEBUG", "CHECK-KEY", key)
    if not ok and "unknown subcommand" in reply and not _is_sardine(r):
        return
    assert ok and _text(reply) == "OK", f"DEBUG CHECK-KEY {key!r}: {reply}"


def digest(r):
    """DEBUG DIGEST of the whole dataset, as text (40 hex digits; 40 zeros when empty)."""
    ok, reply = _call(r, "DEBUG", "DIGEST")
    assert ok, f"DEBUG DIGEST: {reply}"
    return _text(reply)


def assert_same_digest(a, b):
    """Two servers (Sardine and Redis, a master and its replica, before and after a reload) hold the
    same dataset: equal DEBUG DIGEST, which covers every key, value, database and TTL flag."""
    da, db = digest(a), digest(b)
    assert da == db, f"DEBUG DIGEST differs: {da} != {db}"


def parse_commands(data):
    """The commands of a RESP stream of multibulks, as lists of bytes (what DEBUG PROPAGATION-LOG writes,
    an AOF's body, a replication stream's commands)."""
    cmds, i = [], 0
    while i < len(data):
        assert data[i:i + 1] == b"*", data[i:i + 40]
        j = data.index(b"\r\n", i)
        n, i, args = int(data[i + 1:j]), j + 2, []
        for _ in range(n):
            j = data.index(b"\r\n", i)
            ln = int(data[i + 1:j])
            args.append(data[j + 2:j + 2 + ln])
            i = j + 4 + ln
        cmds.append(args)
    return cmds
