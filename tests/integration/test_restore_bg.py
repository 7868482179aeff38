"""RESTORE of big payloads built on the worker thread (persist/bgbuild.c, commands/restore_cmds.c).

`DEBUG RESTORE-BG-MIN 0` sends every payload of a type the worker builds through it, so the existing
RESTORE tests (every type and encoding against the oracle, the errors, corrupt payloads, propagation)
run again on that path; `DEBUG RESTORE-BG-HOLD 1` keeps the worker from starting, so a test can show
deterministically what other clients see while a RESTORE waits: they are served, and the RESTORE
takes effect when its value is ready, deciding BUSYKEY and REPLACE at that moment."""
import socket

import pytest

from conftest import IS_REAL_REDIS
from harness import assert_keyspace_ok
import test_restore as base

pytestmark = pytest.mark.skipif(IS_REAL_REDIS, reason="DEBUG RESTORE-BG-* are Sardine's own")


def bg_all(server):
    r = server.client()
    assert r.execute_command("DEBUG", "RESTORE-BG-MIN", 0) == b"OK"
    return r


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += [b"$%d\r\n" % len(a), a, b"\r\n"]
    return b"".join(out)


class Conn:
    """A raw connection whose replies can be awaited one line at a time."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.settimeout(10)
        self.buf = b""

    def send(self, *cmds):
        self.s.sendall(b"".join(resp(*c) for c in cmds))

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def pending(self, wait=0.2):
        """True when no reply arrives within `wait` seconds."""
        self.s.settimeout(wait)
        try:
            chunk = self.s.recv(65536)
        except socket.timeout:
            return not self.buf
        finally:
            self.s.settimeout(10)
        self.buf += chunk
        return False

    def close(self):
        self.s.close()


def test_bg_every_type_from_redis_dump(oracle, sardine):
    bg_all(sardine)
    base.test_restore_every_type_from_redis_dump(oracle, sardine)


def test_bg_errors_as_redis(oracle, sardine):
    bg_all(sardine)
    base.test_restore_errors_as_redis(oracle, sardine)


def test_bg_corrupt_payloads_give_errors(oracle, sardine):
    bg_all(sardine)
    base.test_corrupt_payloads_give_errors(oracle, sardine)


def test_bg_big_collections_and_duplicates(oracle, sardine):
    bg_all(sardine)
    base.test_big_collections_and_duplicates(oracle, sardine)


def test_bg_propagation(oracle, sardine):
    bg_all(sardine)
    base.test_restore_propagation(oracle, sardine)


def big_zset_payload(oracle, n=50000):
    o = oracle.client()
    o.zadd("z", {f"member:{i}": i * 0.25 for i in range(n)})
    return o.dump("z"), o.execute_command("DEBUG", "DIGEST-VALUE", "z")


def test_others_are_served_while_a_restore_waits(oracle, sardine):
    payload, digest = big_zset_payload(oracle)
    r = bg_all(sardine)
    r.execute_command("DEBUG", "RESTORE-BG-HOLD", 1)
    a = Conn(sardine.port)
    try:
        # the RESTORE and a command pipelined behind it: neither is answered while the build waits
        a.send(("RESTORE", "z", 0, payload), ("ZCARD", "z"))
        assert a.pending()
        assert r.ping() and r.set("other", 1) and r.get("other") == b"1"
        assert r.exists("z") == 0  # not there until built
        r.execute_command("DEBUG", "RESTORE-BG-HOLD", 0)
        assert a.line() == b"+OK"
        assert a.line() == b":50000"  # the pipelined command ran after it, in order
        assert r.execute_command("DEBUG", "DIGEST-VALUE", "z") == digest
        assert_keyspace_ok(r)
    finally:
        r.execute_command("DEBUG", "RESTORE-BG-HOLD", 0)
        a.close()


def test_busykey_is_decided_when_the_value_is_ready(oracle, sardine):
    payload, digest = big_zset_payload(oracle)
    r = bg_all(sardine)
    r.execute_command("DEBUG", "RESTORE-BG-HOLD", 1)
    a, b = Conn(sardine.port), Conn(sardine.port)
    try:
        a.send(("RESTORE", "z", 0, payload))
        b.send(("RESTORE", "z", 0, payload, "REPLACE"))
        assert a.pending() and b.pending()
        r.set("z", "meanwhile")
        r.execute_command("DEBUG", "RESTORE-BG-HOLD", 0)
        # jobs finish in order: the first finds the key taken, the second replaces it
        assert a.line() == b"-BUSYKEY Target key name already exists."
        assert b.line() == b"+OK"
        assert r.execute_command("DEBUG", "DIGEST-VALUE", "z") == digest
        assert_keyspace_ok(r)
    finally:
        r.execute_command("DEBUG", "RESTORE-BG-HOLD", 0)
        a.close()
        b.close()


def test_client_leaving_while_its_restore_waits(oracle, sardine):
    """A client that closes, or is killed, while its RESTORE waits: the value built for it is dropped
    (ASan checks nothing leaks), and the server goes on."""
    payload, digest = big_zset_payload(oracle)
    r = bg_all(sardine)
    r.execute_command("DEBUG", "RESTORE-BG-HOLD", 1)
    try:
        a = Conn(sardine.port)
        a.send(("RESTORE", "z", 0, payload))
        assert a.pending()
        a.close()
        killed = Conn(sardine.port)
        killed.send(("CLIENT", "SETNAME", "victim"), ("RESTORE", "z2", 0, payload))
        assert killed.line() == b"+OK" and killed.pending()
        victim = [c for c in r.client_list() if c["name"] == "victim"]
        assert len(victim) == 1
        assert r.execute_command("CLIENT", "KILL", "ID", victim[0]["id"]) == 1
        r.execute_command("DEBUG", "RESTORE-BG-HOLD", 0)
        # jobs run in order: once this one is answered, the two before it are done
        assert r.restore("probe", 0, payload) == b"OK"
        assert r.exists("z", "z2") == 0
        assert r.execute_command("DEBUG", "DIGEST-VALUE", "probe") == digest
        assert_keyspace_ok(r)
        killed.close()
    finally:
        r.execute_command("DEBUG", "RESTORE-BG-HOLD", 0)


def test_restore_in_multi_and_scripts_is_inline(oracle, sardine):
    """Inside MULTI/EXEC and scripts nothing may wait: the value is built on the spot."""
    payload, digest = big_zset_payload(oracle, 2000)
    r = bg_all(sardine)
    r.execute_command("DEBUG", "RESTORE-BG-HOLD", 1)  # a wait would never end: the test would hang
    try:
        p = r.pipeline(transaction=True)
        p.restore("m", 0, payload)
        p.zcard("m")
        assert p.execute() == [b"OK", 2000]
        assert r.eval("return redis.call('RESTORE', KEYS[1], 0, ARGV[1])", 1, "e", payload) == b"OK"
        assert r.execute_command("DEBUG", "DIGEST-VALUE", "e") == digest
    finally:
        r.execute_command("DEBUG", "RESTORE-BG-HOLD", 0)


def test_threshold_keeps_small_payloads_inline(oracle, sardine):
    """Above the threshold a held worker keeps the RESTORE waiting; below it, it is answered at once."""
    payload, _ = big_zset_payload(oracle, 2000)
    r = sardine.client()
    r.execute_command("DEBUG", "RESTORE-BG-MIN", len(payload) + 1)
    r.execute_command("DEBUG", "RESTORE-BG-HOLD", 1)
    a = Conn(sardine.port)
    try:
        a.send(("RESTORE", "small", 0, payload))
        assert a.line() == b"+OK"
        r.execute_command("DEBUG", "RESTORE-BG-MIN", len(payload))
        a.send(("RESTORE", "big", 0, payload))
        assert a.pending()
        r.execute_command("DEBUG", "RESTORE-BG-HOLD", 0)
        assert a.line() == b"+OK"
    finally:
        r.execute_command("DEBUG", "RESTORE-BG-HOLD", 0)
        a.close()
