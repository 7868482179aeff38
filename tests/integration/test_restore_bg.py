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


def settled_memory(r):
    """used_memory once lazy freeing is done and the probe connection's buffers are small."""
    for _ in range(200):
        if r.info("memory")["lazyfree_pending_objects"] == 0:
            break
        r.ping()
    return r.info("memory")["used_memory"]


def assert_no_growth(r, before, what):
    # a value dropped without being freed would keep megabytes (a 50k-member set is ~2 MB here)
    after = settled_memory(r)
    assert after - before < 512 * 1024, f"{what}: used_memory grew by {after - before} bytes"


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
    assert r.restore("probe", 0, payload) == b"OK"  # the worker and its first arena pages exist
    r.delete("probe")
    before = settled_memory(r)
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
        r.delete("probe")
        assert_no_growth(r, before, "values of clients that left")
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


# ---- payloads built as they arrive (restore_arriving: 1 MiB and more, sent in parts) ----

_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ (0x95AC9329AC4BC9B5 if _c & 1 else 0)
    _CRC_TABLE.append(_c)


def crc64(data, crc=0):
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def with_footer(body, version=10):
    """A DUMP payload for an RDB value `body`: version and CRC64 appended."""
    data = body + version.to_bytes(2, "little")
    return data + crc64(data).to_bytes(8, "little")


@pytest.fixture
def big(oracle):
    """A sorted set of 60k members: a payload well over the 1 MiB from which it is built as it arrives."""
    o = oracle.client()
    o.zadd("z", {f"member:{i:08d}:" + "x" * 8: i * 0.5 for i in range(60000)})
    payload = o.dump("z")
    assert len(payload) > (1 << 20) + 100000
    return payload, o.execute_command("DEBUG", "DIGEST-VALUE", "z")


def send_in_parts(conn, parts, pause=0.3):
    for i, part in enumerate(parts):
        conn.s.sendall(part)
        if i + 1 < len(parts):
            assert conn.pending(pause)  # nothing answered while the payload is still arriving


def restore_parts(key, payload, *options, cut=None):
    whole = resp("RESTORE", key, 0, payload, *options)
    cut = cut if cut is not None else len(whole) // 2
    return [whole[:cut], whole[cut:]]


def test_arriving_payload_restored(sardine, big):
    payload, digest = big
    r = sardine.client()
    a = Conn(sardine.port)
    parts = restore_parts("z", payload)
    send_in_parts(a, parts[:1] + [parts[1] + resp("ZCARD", "z")])
    assert a.line() == b"+OK"
    assert a.line() == b":60000"
    assert r.execute_command("DEBUG", "DIGEST-VALUE", "z") == digest
    assert_keyspace_ok(r)
    a.close()


def test_arriving_payload_in_many_parts_with_options(sardine, big):
    payload, digest = big
    r = sardine.client()
    a = Conn(sardine.port)
    whole = resp("RESTORE", "z", 5000, payload, "REPLACE", "IDLETIME", 7)
    step = len(whole) // 7
    send_in_parts(a, [whole[i:i + step] for i in range(0, len(whole), step)], pause=0.05)
    assert a.line() == b"+OK"
    assert 0 < r.pttl("z") <= 5000 and r.object("idletime", "z") >= 7
    r.persist("z")  # DIGEST-VALUE counts a TTL, as Redis's does
    assert r.execute_command("DEBUG", "DIGEST-VALUE", "z") == digest
    a.close()


def test_arriving_then_busykey(sardine, big):
    payload, _ = big
    r = sardine.client()
    a = Conn(sardine.port)
    parts = restore_parts("z", payload)
    send_in_parts(a, parts[:1])
    r.set("z", "taken meanwhile")
    a.s.sendall(parts[1] + resp("PING"))
    assert a.line() == b"-BUSYKEY Target key name already exists."
    assert a.line() == b"+PONG"
    assert r.get("z") == b"taken meanwhile"
    a.close()


def test_arriving_then_bad_options_or_checksum(sardine, big):
    payload, digest = big
    r = sardine.client()
    a = Conn(sardine.port)
    parts = restore_parts("z", payload, "NOSUCHOPTION")
    send_in_parts(a, parts[:1] + [parts[1] + resp("PING")])
    assert a.line() == b"-ERR syntax error"
    assert a.line() == b"+PONG"
    bad = payload[:-1] + bytes([payload[-1] ^ 1])
    parts = restore_parts("z", bad)
    send_in_parts(a, parts[:1] + [parts[1] + resp("PING")])
    assert a.line() == b"-ERR DUMP payload version or checksum are wrong"
    assert a.line() == b"+PONG"
    newer = payload[:-10] + (12).to_bytes(2, "little") + payload[-8:]
    send_in_parts(a, restore_parts("z", newer))
    assert a.line() == b"-ERR DUMP payload version or checksum are wrong"
    truncated = with_footer(payload[:-10][:-50])  # the last member cut short, its CRC right
    send_in_parts(a, restore_parts("z", truncated))
    assert a.line() == b"-ERR Bad data format"
    assert r.exists("z") == 0
    # and the connection goes on
    send_in_parts(a, restore_parts("z", payload))
    assert a.line() == b"+OK"
    assert r.execute_command("DEBUG", "DIGEST-VALUE", "z") == digest
    assert_keyspace_ok(r)
    a.close()


def test_arriving_then_long_tail_or_other_command(sardine, big):
    """Arguments after the payload longer than the room kept for them, and a payload that is not a
    RESTORE's after all (an argument of SET): each goes on as an ordinary command."""
    payload, _ = big
    r = sardine.client()
    a = Conn(sardine.port)
    send_in_parts(a, restore_parts("z", payload, "REPLACE", "x" * 20000))
    assert a.line() == b"-ERR syntax error"
    send_in_parts(a, [resp("SET", "plain", payload)[:600000], resp("SET", "plain", payload)[600000:]])
    assert a.line() == b"+OK"
    assert r.get("plain") == payload
    a.close()


def test_client_leaving_while_its_payload_arrives(sardine, big):
    payload, digest = big
    r = sardine.client()
    assert r.restore("probe", 0, payload) == b"OK"
    r.delete("probe")
    before = settled_memory(r)
    for cut in (200000, 1000000):
        a = Conn(sardine.port)
        send_in_parts(a, restore_parts("z", payload, cut=cut)[:1])
        a.close()
    r.ping()
    assert r.exists("z") == 0
    assert r.restore("z", 0, payload) == b"OK"
    assert r.execute_command("DEBUG", "DIGEST-VALUE", "z") == digest
    assert_keyspace_ok(r)
    r.delete("z")
    assert_no_growth(r, before, "payloads of clients that left")


def test_arriving_in_multi_is_queued_not_built(sardine, big):
    payload, digest = big
    r = sardine.client()
    a = Conn(sardine.port)
    a.send(("MULTI",))
    assert a.line() == b"+OK"
    send_in_parts(a, restore_parts("z", payload))
    assert a.line() == b"+QUEUED"
    a.send(("EXEC",))
    assert a.line() == b"*1" and a.line() == b"+OK"
    assert r.execute_command("DEBUG", "DIGEST-VALUE", "z") == digest
    a.close()


# ---- big sorted sets in every order (tzset.c: straight into the index's leaves, or the pending array) ----

def zset2_payload(pairs):
    """A DUMP payload of a sorted set in RDB's ZSET_2 form (binary scores), members in the given order."""
    import struct
    body = bytearray([5, 0x80]) + len(pairs).to_bytes(4, "big")
    for m, s in pairs:
        m = m.encode()
        assert len(m) < 64
        body += bytes([len(m)]) + m + struct.pack("<d", s)
    return with_footer(bytes(body))


def test_big_sorted_sets_in_any_order_as_redis(oracle, sardine):
    """70,000 members (over the 65,536 from which a load's members go straight into the index's leaves)
    in descending order (as DUMP writes them), ascending, tied scores, shuffled, in order but for one member
    (late: the leaves so far go back to the pending array while the table is being filled beside), and one
    member given twice at the end: each restored by Sardine and redis-server, compared by DIGEST-VALUE, a
    few ranks and the error."""
    import random
    n = 70000
    desc = [("m%06d" % i, float(i)) for i in reversed(range(n))]
    tied = [("m%06d" % i, 1.5) for i in reversed(range(n))]
    shuffled = desc[:]
    random.Random(5).shuffle(shuffled)
    late = desc[:60000] + [("m%06d" % n, 1e9)] + desc[60000:-1]
    cases = {"desc": desc, "asc": desc[::-1], "tied": tied, "shuffled": shuffled, "late": late,
             "dup": desc[:-1] + [desc[0]], "dup-in-order": desc[:-1] + [(desc[0][0], -1.0)]}
    r, o = sardine.client(), oracle.client()
    for name, pairs in cases.items():
        payload = zset2_payload(pairs)
        replies = []
        for c in (r, o):
            try:
                replies.append(c.restore(name, 0, payload))
            except Exception as e:  # noqa: BLE001 - the error text is compared
                replies.append(str(e))
        assert replies[0] == replies[1], name
        if name.startswith("dup"):
            assert "Bad data format" in replies[0]
            continue
        assert r.zcard(name) == len(pairs)
        assert r.execute_command("DEBUG", "DIGEST-VALUE", name) == \
            o.execute_command("DEBUG", "DIGEST-VALUE", name), name
        for rank in (0, 1, 111, 112, 4000, n // 2, len(pairs) - 1):
            assert r.zrange(name, rank, rank, withscores=True) == o.zrange(name, rank, rank, withscores=True)
        assert r.zrank(name, "m000500") == o.zrank(name, "m000500")
    assert_keyspace_ok(r)
