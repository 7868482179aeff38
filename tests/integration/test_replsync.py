"""SYNC, PSYNC and REPLCONF as Sardine serves them (features/replsync.h): an RDB image for clients that
ask for only that (REPLCONF rdb-only 1), taken by the forkless snapshot and fed as the client reads.

REPLCONF's replies and errors are compared with redis-server 7.0.  Deliberate difference: SYNC or PSYNC
without rdb-only (a replica) gets an error, since Sardine does not stream commands to replicas; Redis
would start a full sync.  The CLI round trips (redis-cli and sardine-cli --rdb, --functions-rdb) are in
tests/cli/test_cli_rdb.py."""
import os
import socket
import time

import pytest

from harness import digest
from sardine_resp import Err, Raw


def sync_conn(port, *replconf, psync=False):
    """A socket that sent REPLCONF rdb-only 1 (and more), then SYNC or PSYNC."""
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    cmds = [("REPLCONF", "rdb-only", "1")] + list(replconf)
    for cmd in cmds:
        s.sendall(("*%d\r\n" % len(cmd) + "".join("$%d\r\n%s\r\n" % (len(a), a) for a in cmd)).encode())
        assert recv_line(s) == b"+OK"
    s.sendall(b"PSYNC ? -1\r\n" if psync else b"SYNC\r\n")
    return s


def recv_line(s):
    out = b""
    while not out.endswith(b"\r\n"):
        ch = s.recv(1)
        assert ch, "connection closed"
        out += ch
    return out[:-2]


def read_image(s, slow=False):
    """Skips the keepalive newlines, reads $<len>, then the image; returns (image, newlines seen)."""
    newlines = 0
    while True:
        ch = s.recv(1)
        assert ch
        if ch == b"\n":
            newlines += 1
            continue
        assert ch == b"$"
        break
    n = int(recv_line(s))
    data = bytearray()
    while len(data) < n:
        chunk = s.recv(min(65536, n - len(data)) if not slow else 4096)
        assert chunk
        data += chunk
        if slow:
            time.sleep(0.0005)
    assert s.recv(1) == b""  # rdb-only: closed after the image
    return bytes(data), newlines


def load_in_redis(make_oracle, tmp_path, image, name="img.rdb"):
    (tmp_path / name).write_bytes(image)
    return make_oracle("--dir", str(tmp_path), "--dbfilename", name).client()


def fill(r, n=3000):
    p = r.pipeline(transaction=False)
    for i in range(n):
        p.set(f"k{i}", "v" * (i % 50))
    p.hset("h", mapping={f"f{i}": i for i in range(500)})
    p.zadd("z", {f"m{i}": i for i in range(500)})
    p.execute()


def fill_random(r, n):
    """n keys of 1000 random bytes: an image of about n KB that does not compress."""
    p = r.pipeline(transaction=False)
    for i in range(n):
        p.set(f"big{i}", os.urandom(1000))
    p.execute()


def test_image_matches_dataset(make_sardine, make_oracle, tmp_path):
    s = make_sardine()
    r = s.client()
    fill(r)
    sock = sync_conn(s.port)
    image, _ = read_image(sock)
    assert image.startswith(b"REDIS0010")
    assert digest(load_in_redis(make_oracle, tmp_path, image)) == digest(r)
    assert not [f for f in os.listdir(s.dir) if f.startswith("temp-")]


def test_psync_rdb_only_says_fullresync_first(make_sardine):
    s = make_sardine()
    r = s.client()
    r.set("k", "v")
    runid = r.info("server")["run_id"]
    sock = sync_conn(s.port, psync=True)
    assert recv_line(sock) == b"+FULLRESYNC %s 0" % runid.encode()
    image, _ = read_image(sock)
    assert image.startswith(b"REDIS") and b"k" in image


def test_replica_sync_refused(sardine):
    """Deliberate difference (see the module doc): no command stream for replicas, so no SYNC for them."""
    c = Raw(sardine.port)
    for cmd in (["SYNC"], ["PSYNC", "?", "-1"]):
        err = c.cmd(*cmd)
        assert isinstance(err, Err) and "REPLCONF rdb-only 1" in err.msg, err
    assert c.cmd("PING") == "PONG"  # the connection stays usable


REPLCONF_CASES = [
    ["REPLCONF"],
    ["REPLCONF", "listening-port"],
    ["REPLCONF", "listening-port", "6380"],
    ["REPLCONF", "listening-port", "abc"],
    ["REPLCONF", "capa", "eof", "capa", "psync2"],
    ["REPLCONF", "capa", "whatever"],
    ["REPLCONF", "ip-address", "10.0.0.1"],
    ["REPLCONF", "ip-address", "x" * 255],
    ["REPLCONF", "ip-address", "x" * 256],
    ["REPLCONF", "rdb-only", "2"],
    ["REPLCONF", "rdb-only", "-1"],
    ["REPLCONF", "rdb-only", "x"],
    ["REPLCONF", "rdb-only", "0"],
    ["REPLCONF", "rdb-filter-only", "functions"],
    ["REPLCONF", "rdb-filter-only", ""],
    ["REPLCONF", "rdb-filter-only", "keys"],
    ["REPLCONF", "nosuch", "1"],
    ["REPLCONF", "capa", "eof", "nosuch", "1"],
]


def test_replconf_like_redis(sardine, oracle):
    a, b = Raw(sardine.port), Raw(oracle.port)
    for cmd in REPLCONF_CASES:
        x, y = a.cmd(*cmd), b.cmd(*cmd)
        assert x == y, (cmd, x, y)
    # ACK and GETACK from a client that is neither replica nor master: no reply at all
    for conn in (a, b):
        conn.send(b"REPLCONF ACK 10\r\nREPLCONF GETACK *\r\nPING\r\n")
        assert conn.reply() == "PONG"


def test_filtered_image_needs_capa_eof(sardine, oracle):
    for srv in (sardine, oracle):
        c = Raw(srv.port)
        assert c.cmd("REPLCONF", "rdb-only", "1") == "OK"
        assert c.cmd("REPLCONF", "rdb-filter-only", "functions") == "OK"
        assert c.cmd("SYNC") == Err("ERR Filtered replica requires EOF capability"), srv.kind


def test_slow_reader_is_fed_in_chunks(make_sardine, make_oracle, tmp_path):
    """A 10 MB image read slowly: the server holds about a chunk of output for it (CLIENT LIST omem), other
    clients are served meanwhile, and the image is whole."""
    s = make_sardine()
    r = s.client()
    fill_random(r, 10000)
    sock = sync_conn(s.port)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    # let the server fill the socket, then look at what it holds for this client
    time.sleep(0.5)
    other = s.client()
    assert other.ping()
    lines = [l for l in other.client_list() if l["cmd"] == "sync"]
    assert len(lines) == 1
    assert int(lines[0]["omem"]) <= 2 * 256 * 1024, lines[0]
    assert "sync" in lines[0]["cmd"]
    image, _ = read_image(sock, slow=False)
    assert len(image) > 10_000_000
    assert digest(load_in_redis(make_oracle, tmp_path, image)) == digest(r)


def test_waits_for_a_running_bgsave_with_keepalives(make_sardine, make_oracle, tmp_path):
    """A SYNC while a BGSAVE runs waits for it (newlines every second meanwhile), then gets its own image,
    which holds a write made after the BGSAVE began."""
    s = make_sardine()
    r = s.client()
    fill(r, 2000)
    r.execute_command("DEBUG", "SNAPSHOT-THROTTLE", "1")  # one key per slice: the BGSAVE lasts
    assert r.bgsave()
    r.set("late", "1")
    sock = sync_conn(s.port)
    time.sleep(3.2)
    r.execute_command("DEBUG", "SNAPSHOT-THROTTLE", "0")
    image, newlines = read_image(sock)
    assert newlines >= 2
    copy = load_in_redis(make_oracle, tmp_path, image)
    assert copy.get("late") == b"1"
    assert digest(copy) == digest(r)


def test_two_clients_share_one_snapshot(make_sardine):
    s = make_sardine()
    r = s.client()
    fill(r, 2000)
    r.execute_command("DEBUG", "SNAPSHOT-THROTTLE", "5")
    a = sync_conn(s.port)
    time.sleep(0.3)
    b = sync_conn(s.port)
    time.sleep(0.3)
    r.execute_command("DEBUG", "SNAPSHOT-THROTTLE", "0")
    ia, _ = read_image(a)
    ib, _ = read_image(b)
    assert ia == ib
    assert s.read_log().count("Starting a snapshot for SYNC") == 1


def test_commands_of_a_syncing_client_do_not_run(make_sardine):
    s = make_sardine()
    r = s.client()
    fill(r, 500)
    r.execute_command("DEBUG", "SNAPSHOT-THROTTLE", "5")
    sock = sync_conn(s.port)
    sock.sendall(b"SET injected 1\r\n")
    time.sleep(0.3)
    r.execute_command("DEBUG", "SNAPSHOT-THROTTLE", "0")
    image, _ = read_image(sock)
    assert r.exists("injected") == 0
    assert b"+OK" not in image[-20:]


def test_client_leaving_mid_transfer(make_sardine):
    """A reader that goes away while waiting or mid-image: the server frees it, keeps no descriptor of the
    image, and serves the next SYNC."""
    s = make_sardine()
    r = s.client()
    fill_random(r, 5000)
    fds = lambda: len(os.listdir(f"/proc/{s.proc.pid}/fd"))
    base = fds()
    accepted = lambda: r.info("stats")["total_connections_received"]
    conns = accepted()
    sock = sync_conn(s.port)
    assert sock.recv(1000)  # the transfer has begun
    sock.close()
    r.execute_command("DEBUG", "SNAPSHOT-THROTTLE", "5")
    waiting = sync_conn(s.port)
    time.sleep(0.2)
    waiting.close()
    r.execute_command("DEBUG", "SNAPSHOT-THROTTLE", "0")
    deadline = time.time() + 10
    # (a loaded server may accept the second reader, already gone, only after the first one's image ended)
    while (accepted() < conns + 2 or fds() > base or r.info("persistence")["rdb_bgsave_in_progress"]) and \
            time.time() < deadline:
        time.sleep(0.05)
    assert fds() == base
    image, _ = read_image(sync_conn(s.port))
    assert len(image) > 5_000_000
    assert r.ping()


def test_no_sync_for_clients_that_get_pushes(sardine):
    """Pub/sub messages, invalidations or MONITOR lines would land in the middle of the image: refused
    (Sardine's own rule; Redis sends nothing to a replica client)."""
    for setup in (["SUBSCRIBE", "ch"], ["CLIENT", "TRACKING", "ON"], ["MONITOR"]):
        c = Raw(sardine.port)
        assert c.cmd("HELLO", "3")
        c.cmd(*setup)
        assert c.cmd("REPLCONF", "rdb-only", "1") == "OK"
        err = c.cmd("SYNC")
        assert isinstance(err, Err) and "not allowed" in err.msg, (setup, err)
