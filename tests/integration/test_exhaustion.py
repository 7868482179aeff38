"""Resource exhaustion: descriptors, maxclients, memory limits with and without maxmemory, query and
output buffer limits, slow readers, stalled writers, many connections opening and closing, clients
killed mid-request and mid-reply, CLIENT PAUSE with every request form.

Every test runs a Witness beside the hostile or unlucky clients: a well-behaved client writing
numbered keys the whole time. At the end it must have kept being served (its writes acknowledged
while the trouble went on) and every write it saw acknowledged must be there with its exact bytes.
Each test is bounded: a few seconds and at most a few hundred MB.
"""
import os
import resource
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import IS_REAL_REDIS
from sardine_resp import Err, Raw, encode


class Witness:
    """A well-behaved client writing w:<n> = <n>-<payload> in the background."""

    def __init__(self, server, payload=b"x" * 20):
        self.server, self.payload = server, payload
        self.acked, self.errors, self.stop_flag = [], [], False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def value(self, i):
        return b"%d-%s" % (i, self.payload)

    def _run(self):
        c = Raw(self.server.port, timeout=10)
        i = 0
        while not self.stop_flag:
            try:
                r = c.cmd("SET", "w:%d" % i, self.value(i))
            except Exception as e:  # the witness must never be disconnected
                self.errors.append(repr(e))
                return
            if r == "OK":
                self.acked.append((i, time.time()))
            else:
                self.errors.append(r)
            i += 1
            time.sleep(0.005)
        c.close()

    def acked_since(self, t):
        return sum(1 for _, at in self.acked if at >= t)

    def finish(self, more=3):
        """Checks the witness is still served now (`more` further writes acknowledged), then that
        every acknowledged write is there, unaltered."""
        n = len(self.acked)
        deadline = time.time() + 10
        while len(self.acked) < n + more and time.time() < deadline and not self.errors:
            time.sleep(0.01)
        self.stop_flag = True
        self.thread.join(15)
        assert not self.thread.is_alive()
        assert not self.errors, self.errors[:5]
        assert len(self.acked) >= n + more, (n, len(self.acked))
        c = Raw(self.server.port)
        for i, _ in self.acked:
            assert c.cmd("GET", "w:%d" % i) == self.value(i), i
        c.close()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client_list(c):
    out = {}
    for line in c.cmd("CLIENT", "LIST").decode().splitlines():
        kv = dict(f.split("=", 1) for f in line.split(" ") if "=" in f)
        out[kv["id"]] = kv
    return out


def info(c, section):
    text = c.cmd("INFO", section).decode()
    return dict(l.split(":", 1) for l in text.splitlines() if ":" in l)


@pytest.fixture
def limited_sardine(make_sardine, monkeypatch):
    """make(nofile, *args): a sardine started with RLIMIT_NOFILE = nofile (soft and hard)."""
    def make(nofile, *args):
        real = subprocess.Popen

        def popen(*a, **kw):
            kw["preexec_fn"] = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
            return real(*a, **kw)

        monkeypatch.setattr(subprocess, "Popen", popen)
        try:
            return make_sardine(*args)
        finally:
            monkeypatch.setattr(subprocess, "Popen", real)
    return make


def try_connect_and_ping(port, timeout=3.0):
    """One connection that sends PING; returns (socket, first reply bytes) or (socket, b'') on timeout."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(b"PING\r\n")
        return s, s.recv(100)
    except (socket.timeout, ConnectionResetError, BrokenPipeError):
        return s, b""


# ---- descriptors and maxclients --------------------------------------------------------------------

@pytest.mark.skipif(IS_REAL_REDIS, reason="log texts and CPU bound are sardine's")
def test_small_ulimit_lowers_maxclients_and_refuses_the_rest(limited_sardine):
    s = limited_sardine(256)
    log = s.read_log()
    assert "You requested maxclients of 10000 requiring at least 10032 max file descriptors." in log
    assert "maxclients has been reduced to 224 to compensate for low ulimit." in log
    ctl = Raw(s.port)
    assert ctl.cmd("CONFIG", "GET", "maxclients") == [b"maxclients", b"224"]
    w = Witness(s)
    socks, replies = [], []
    for _ in range(300):
        sock, rep = try_connect_and_ping(s.port)
        socks.append(sock)
        replies.append(rep)
    # Everyone got an answer: PONG while there was room, then Redis's refusal.
    assert all(r in (b"+PONG\r\n", b"-ERR max number of clients reached\r\n") for r in replies), set(replies)
    assert replies.count(b"+PONG\r\n") >= 200
    assert replies[-1] == b"-ERR max number of clients reached\r\n"
    # Idle with every slot taken and refused connections closed: the loop does not spin.
    cpu0 = cpu_seconds(s.proc.pid)
    time.sleep(2)
    assert cpu_seconds(s.proc.pid) - cpu0 < 0.6
    assert ctl.cmd("SET", "still", "served") == "OK"
    for sock in socks:
        sock.close()
    w.finish()
    # Slots come back once the clients leave.
    time.sleep(0.3)
    sock, rep = try_connect_and_ping(s.port)
    assert rep == b"+PONG\r\n"
    sock.close()


@pytest.mark.skipif(IS_REAL_REDIS, reason="sardine's EMFILE handling")
def test_descriptor_exhaustion_on_accept_does_not_spin(make_sardine):
    s = make_sardine()
    ctl = Raw(s.port)
    w = Witness(s)
    time.sleep(0.2)
    # Take descriptors away from the running server: accept now fails with EMFILE.
    resource.prlimit(s.proc.pid, resource.RLIMIT_NOFILE, (48, 48))
    socks, replies = [], []
    for _ in range(80):
        sock, rep = try_connect_and_ping(s.port)
        socks.append(sock)
        replies.append(rep)
    assert b"-ERR max number of clients reached\r\n" in replies
    assert all(r in (b"+PONG\r\n", b"-ERR max number of clients reached\r\n") for r in replies), set(replies)
    cpu0 = cpu_seconds(s.proc.pid)
    time.sleep(2)
    assert cpu_seconds(s.proc.pid) - cpu0 < 0.6
    assert ctl.cmd("GET", "nothing") is None
    log = s.read_log()
    assert "Accepting client connection: Too many open files" in log
    assert log.count("Accepting client connection") <= 5  # rate-limited
    for sock in socks:
        sock.close()
    w.finish()


def test_maxclients_reached_others_served(make_sardine):
    s = make_sardine("--maxclients", "20")
    w = Witness(s)
    ctl = Raw(s.port)
    socks = []
    refused = 0
    for _ in range(40):
        sock, rep = try_connect_and_ping(s.port)
        socks.append(sock)
        refused += rep == b"-ERR max number of clients reached\r\n"
    assert refused >= 20
    assert ctl.cmd("INCR", "n") == 1
    for sock in socks:
        sock.close()
    w.finish()


@pytest.mark.skipif(IS_REAL_REDIS, reason="a UBSan build of sardine is the subject")
def test_config_set_maxclients_huge_is_refused_not_overflowed(sardine):
    c = Raw(sardine.port)
    r = c.cmd("CONFIG", "SET", "maxclients", "2147483647")
    assert isinstance(r, Err)
    assert "The operating system is not able to handle the specified number of clients, try with" in r.msg
    assert c.cmd("CONFIG", "GET", "maxclients") == [b"maxclients", b"10000"]
    assert c.cmd("CONFIG", "SET", "maxclients", "4294967295").msg.startswith("ERR CONFIG SET failed")
    assert c.cmd("CONFIG", "SET", "maxclients", "4294967296") == Err(
        "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and "
        "4294967295 inclusive")
    assert c.cmd("PING") == "PONG"


def test_many_connections_opening_and_closing(sardine):
    w = Witness(sardine)
    ctl = Raw(sardine.port)
    start = time.time()
    for i in range(600):
        sock = socket.create_connection(("127.0.0.1", sardine.port))
        if i % 3 == 0:
            sock.sendall(b"*3\r\n$3\r\nSET\r\n$2\r\nzz\r\n$10\r\nabc")  # half a command, then gone
        elif i % 3 == 1:
            sock.sendall(b"INCR opened\r\n")
            assert sock.recv(100).startswith(b":")
        if i % 5 == 0:  # reset instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    assert int(ctl.cmd("GET", "opened")) == 200
    assert ctl.cmd("EXISTS", "zz") == 0
    assert w.acked_since(start) > 0
    time.sleep(0.3)
    assert int(info(ctl, "clients")["connected_clients"]) <= 3
    w.finish()


# ---- CLIENT PAUSE with every request form ----------------------------------------------------------

def test_client_pause_holds_every_request_form_and_runs_it_unaltered(sardine):
    ctl = Raw(sardine.port)
    w = Witness(sardine)
    big = bytes(range(256)) * 400  # 100 KB, every byte value
    forms = {
        "resp": encode("SET", "k:resp", "v a l\r\n"),
        "inline": b'SET k:inline "hello world"\r\n',
        "inline-escapes": b'SET k:esc "a\\x41\\n\\"q\\"" \r\n',
        "inline-single": b"SET k:single 'it\\'s'\r\n",
        "inline-lf": b"SET k:lf plain\n",
        "pipelined": (b'SET k:p1 "one two"\r\n' + encode("SET", "k:p2", "two") + b"SET k:p3 three\r\n"
                      + encode("APPEND", "k:p2", "+more")),
        "big": encode("SET", "k:big", big),
    }
    expected = {
        "k:resp": b"v a l\r\n", "k:inline": b"hello world", "k:esc": b'aA\n"q"', "k:single": b"it's",
        "k:lf": b"plain", "k:p1": b"one two", "k:p2": b"two+more", "k:p3": b"three", "k:big": big,
    }
    replies_expected = {"resp": 1, "inline": 1, "inline-escapes": 1, "inline-single": 1, "inline-lf": 1,
                        "pipelined": 4, "big": 1}
    split = {"inline", "big", "pipelined"}  # these are also sent in pieces across reads
    assert ctl.cmd("CLIENT", "PAUSE", "1500", "WRITE") == "OK"
    conns = {}
    for name, data in forms.items():
        c = Raw(sardine.port)
        conns[name] = c
        if name in split:
            for k in range(0, len(data), max(1, len(data) // 4)):
                c.send(data[k:k + max(1, len(data) // 4)])
                time.sleep(0.02)
        else:
            c.send(data)
    time.sleep(0.3)
    for name, c in conns.items():
        assert c.nothing_pending(0.05), name  # held
    assert ctl.cmd("EXISTS", *expected.keys()) == 0
    for name, c in conns.items():
        for _ in range(replies_expected[name]):
            r = c.reply()
            assert r == "OK" or isinstance(r, int), (name, r)
    for key, value in expected.items():
        assert ctl.cmd("GET", key) == value, key
    for c in conns.values():
        assert c.cmd("PING") == "PONG"
        c.close()
    w.finish()


# ---- memory ----------------------------------------------------------------------------------------

@pytest.mark.skipif(IS_REAL_REDIS, reason="the safety limit is sardine's")
def test_stalled_huge_declared_bulks_do_not_deny_service(make_sardine):
    s = make_sardine("--maxmemory-safety-limit", "300mb")
    w = Witness(s)
    ctl = Raw(s.port)
    stalled = []
    for i in range(24):
        sock = socket.create_connection(("127.0.0.1", s.port))
        head = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n"
        sock.sendall(head + (b"y" * 100000 if i % 4 == 0 else b""))  # some send a little, then stall
        stalled.append(sock)
    time.sleep(0.5)
    assert ctl.cmd("SET", "other", "write") == "OK"
    assert ctl.cmd("LPUSH", "l", "a", "b") == 2
    used = int(info(ctl, "memory")["used_memory"])
    assert used < 100 * 1024 * 1024, used
    for sock in stalled:
        sock.close()
    w.finish()


def test_maxmemory_noeviction_refuses_writes_serves_reads(make_sardine):
    s = make_sardine("--maxmemory", "30mb", "--maxmemory-policy", "noeviction")
    ctl = Raw(s.port)
    w = Witness(s, payload=b"")
    time.sleep(0.2)
    acked = []
    val = b"v" * 10000
    for i in range(6000):
        r = ctl.cmd("SET", "fill:%d" % i, val)
        if isinstance(r, Err):
            assert r.msg.startswith("OOM command not allowed")
            break
        acked.append(i)
    else:
        pytest.fail("never reached maxmemory")
    assert ctl.cmd("GET", "fill:0") == val
    assert ctl.cmd("DEL", "fill:%d" % acked[-1]) == 1
    acked.pop()
    for i in acked[::50]:
        assert ctl.cmd("GET", "fill:%d" % i) == val
    w.stop_flag = True
    w.thread.join(10)
    # the witness's writes may be refused (OOM) once memory is full, but never lost
    for i, _ in w.acked:
        assert ctl.cmd("GET", "w:%d" % i) == w.value(i)
    assert all(isinstance(e, Err) and e.msg.startswith("OOM") for e in w.errors), w.errors[:3]


def test_maxmemory_eviction_keeps_serving(make_sardine):
    s = make_sardine("--maxmemory", "20mb", "--maxmemory-policy", "allkeys-lru")
    ctl = Raw(s.port)
    val = b"e" * 10000
    for i in range(4000):
        assert ctl.cmd("SET", "ev:%d" % i, val) == "OK"
    assert int(info(ctl, "stats")["evicted_keys"]) > 0
    assert int(info(ctl, "memory")["used_memory"]) < 40 * 1024 * 1024
    assert ctl.cmd("SET", "last", "x") == "OK" and ctl.cmd("GET", "last") == b"x"


# ---- query and output buffers ---------------------------------------------------------------------

def test_query_buffer_limit_closes_only_the_offender(make_sardine):
    s = make_sardine("--client-query-buffer-limit", "1mb")
    w = Witness(s)
    bad = socket.create_connection(("127.0.0.1", s.port))
    bad.sendall(b"SET " + b"x" * (900 * 1024))  # an endless inline line: too big inline request
    bad2 = socket.create_connection(("127.0.0.1", s.port))
    try:
        bad2.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n" + b"z" * (2 * 1024 * 1024))
    except (BrokenPipeError, ConnectionResetError):
        pass
    bad2.settimeout(5)
    got = b""
    try:
        while True:
            chunk = bad2.recv(4096)
            if not chunk:
                break
            got += chunk
    except ConnectionResetError:
        pass
    assert got == b""  # closed without a reply, as Redis
    bad.close()
    bad2.close()
    c = Raw(s.port)
    assert c.cmd("EXISTS", "k") == 0
    w.finish()


def small_rcvbuf_socket(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    return s


def wait_gone(ctl, name, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not any(kv.get("name") == name for kv in client_list(ctl).values()):
            return True
        time.sleep(0.1)
    return False


def test_output_soft_limit_closes_a_client_that_stays_above_without_growing(make_sardine):
    s = make_sardine("--client-output-buffer-limit", "normal 0 256kb 1")
    ctl = Raw(s.port)
    w = Witness(s)
    big = b"b" * (4 * 1024 * 1024)
    assert ctl.cmd("SET", "big", big) == "OK"
    slow = small_rcvbuf_socket(s.port)
    slow.sendall(encode("CLIENT", "SETNAME", "slow") + encode("GET", "big"))  # one reply, then never reads
    time.sleep(0.2)
    assert not wait_gone(ctl, "slow", 0.5)  # still within soft-seconds
    assert wait_gone(ctl, "slow", 4)  # over the soft limit for more than 1 s: closed, though it never grew
    slow.close()
    assert int(info(ctl, "stats").get("client_output_buffer_limit_disconnections", 1)) == 1  # (not in 7.0)
    w.finish()


def test_output_soft_limit_spares_a_client_that_drains_in_time(make_sardine):
    s = make_sardine("--client-output-buffer-limit", "normal 0 256kb 2")
    ctl = Raw(s.port)
    big = b"b" * (1024 * 1024)
    ctl.cmd("SET", "big", big)
    reader = Raw(s.port)
    reader.cmd("CLIENT", "SETNAME", "reader")
    for _ in range(5):
        reader.send(encode("GET", "big"))
        time.sleep(0.3)
        assert reader.reply() == big
    assert not wait_gone(ctl, "reader", 0.2)
    assert int(info(ctl, "stats").get("client_output_buffer_limit_disconnections", 0)) == 0  # (not in 7.0)


def test_output_hard_limit_slow_reader_others_served(make_sardine):
    s = make_sardine("--client-output-buffer-limit", "normal 1mb 0 0")
    ctl = Raw(s.port)
    w = Witness(s)
    ctl.cmd("SET", "big", b"h" * 300000)
    slow = small_rcvbuf_socket(s.port)
    slow.sendall(encode("CLIENT", "SETNAME", "slowhard") + encode("GET", "big") * 20)
    assert wait_gone(ctl, "slowhard", 3)
    slow.close()
    w.finish()


def test_clients_killed_mid_request_and_mid_reply(sardine):
    ctl = Raw(sardine.port)
    w = Witness(sardine)
    big = b"m" * (2 * 1024 * 1024)
    ctl.cmd("SET", "big", big)
    for i in range(30):
        sock = socket.create_connection(("127.0.0.1", sardine.port))
        if i % 2:
            sock.sendall(b"*3\r\n$3\r\nSET\r\n$3\r\nkil\r\n$100000\r\n" + b"p" * 50000)  # mid-request
        else:
            sock.sendall(encode("GET", "big"))  # mid-reply: read a little, then reset
            sock.recv(1000)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    assert ctl.cmd("EXISTS", "kil") == 0
    assert ctl.cmd("GET", "big") == big
    time.sleep(0.3)
    assert int(info(ctl, "clients")["connected_clients"]) <= 3
    w.finish()


@pytest.mark.skipif(IS_REAL_REDIS, reason="Redis 7.0 reserves a declared big bulk whole")
def test_stalled_writers_hold_little(sardine):
    """Clients that send part of a command and stop: each holds about what it sent."""
    ctl = Raw(sardine.port)
    w = Witness(sardine)
    socks = []
    for i in range(50):
        sock = socket.create_connection(("127.0.0.1", sardine.port))
        sock.sendall(b"*3\r\n$3\r\nSET\r\n$2\r\nsw\r\n$100000000\r\n" + b"q" * 1000)
        socks.append(sock)
    time.sleep(0.3)
    total = sum(int(kv["qbuf"]) + int(kv["qbuf-free"]) for kv in client_list(ctl).values())
    assert total < 50 * 64 * 1024, total
    assert ctl.cmd("SET", "fine", "yes") == "OK"
    for sock in socks:
        sock.close()
    w.finish()


@pytest.mark.skipif(IS_REAL_REDIS, reason="Redis runs a whole read's commands before serving anyone else")
def test_a_long_pipeline_yields_to_other_clients(sardine):
    """One write of 100 commands of 2 ms each: another client's PING is answered between two slices of that
    pipeline (each about a millisecond), not after the whole of it (200 ms)."""
    slow, other = Raw(sardine.port), Raw(sardine.port)
    slow.send(encode("DEBUG", "SLEEP", "0.002") * 100 + encode("PING"))
    time.sleep(0.01)  # the pipeline has started
    assert other.cmd("PING") == "PONG"
    time.sleep(0.005)  # replies written with the PONG's iteration have arrived
    try:
        done_when_answered = slow.sock.recv(1 << 20, socket.MSG_PEEK | socket.MSG_DONTWAIT).count(b"+OK\r\n")
    except BlockingIOError:
        done_when_answered = 0
    assert done_when_answered < 90, "the other client waited for (almost) the whole pipeline"
    assert [slow.reply() for _ in range(101)] == ["OK"] * 100 + ["PONG"]


def test_pipelines_that_yield_keep_their_order_and_lose_nothing(sardine):
    """Pipelines long enough to be cut into many slices, from three clients at once, with a transaction and a
    blocking pop inside: every reply in order, every increment counted."""
    n = 30000
    clients = [Raw(sardine.port) for _ in range(3)]
    batches = []
    for i, c in enumerate(clients):
        cmds = [encode("INCR", f"n{i}") for _ in range(n)]
        cmds[n // 2:n // 2] = [encode("MULTI"), encode("INCR", f"n{i}"), encode("RPUSH", f"l{i}", "x"), encode("EXEC"),
                               encode("BLPOP", f"l{i}", "0")]
        batches.append(b"".join(cmds))
    threads = [threading.Thread(target=c.send, args=(b,)) for c, b in zip(clients, batches)]
    for t in threads:
        t.start()
    for i, c in enumerate(clients):
        got = [c.reply() for _ in range(n + 5)]
        first, multi, second = got[:n // 2], got[n // 2:n // 2 + 5], got[n // 2 + 5:]
        assert first == list(range(1, n // 2 + 1))
        assert multi == ["OK", "QUEUED", "QUEUED", [n // 2 + 1, 1], [f"l{i}".encode(), b"x"]]
        assert second == list(range(n // 2 + 2, n + 2))
    for t in threads:
        t.join()
    assert Raw(sardine.port).cmd("MGET", "n0", "n1", "n2") == [str(n + 1).encode()] * 3
