"""CLIENT LIST/INFO fields, CLIENT KILL/LIST/PAUSE errors and CLIENT PAUSE semantics, against the oracle.

Each scenario runs the same steps on Sardine and on Redis 7.0 and compares what they return; field
values that depend on the implementation (buffer sizes, addresses, ids) are compared by name only."""
import time

import pytest

from sardine_resp import Raw, encode


def fields(line):
    return [kv.split("=", 1) for kv in line.strip().split(" ")]


def info_of(conn, via=None):
    """conn's CLIENT INFO line as a dict, asked on `via` (CLIENT LIST ID) when conn is inside MULTI."""
    if via is None:
        return dict(fields(conn.cmd("CLIENT", "INFO").decode()))
    cid = conn.id
    return dict(fields(via.cmd("CLIENT", "LIST", "ID", str(cid)).decode()))


@pytest.fixture
def both(sardine, oracle):
    conns = []

    def make():
        pair = (Raw(sardine.port), Raw(oracle.port))
        conns.extend(pair)
        return pair

    yield make
    for c in conns:
        c.close()


DETERMINISTIC = ["name", "age", "idle", "flags", "db", "sub", "psub", "ssub", "multi", "argv-mem", "multi-mem",
                 "obl", "oll", "omem", "events", "cmd", "user", "redir", "resp"]


def test_client_info_fields_match_redis(both):
    s, o = both()
    ks = [k for k, _ in fields(s.cmd("CLIENT", "INFO").decode())]
    ko = [k for k, _ in fields(o.cmd("CLIENT", "INFO").decode())]
    assert ks == ko
    for conn in (s, o):
        conn.cmd("CLIENT", "SETNAME", "worker-1")
        conn.cmd("SELECT", "3")
    assert {k: info_of(s)[k] for k in DETERMINISTIC} == {k: info_of(o)[k] for k in DETERMINISTIC}


def test_client_info_in_multi_and_pubsub(both):
    s, o = both()
    s2, o2 = both()
    for conn in (s, o):
        conn.id = conn.cmd("CLIENT", "ID")
        assert conn.cmd("MULTI") == "OK"
        assert conn.cmd("SET", "key", "value") == "QUEUED"
        assert conn.cmd("GET", "key") == "QUEUED"
    si, oi = info_of(s, s2), info_of(o, o2)
    # multi-mem: the queued arguments' bytes plus a pointer per argument, as Redis counts them
    for k in ("flags", "multi", "multi-mem", "argv-mem"):
        assert si[k] == oi[k], k
    assert si["flags"] == "x" and si["multi"] == "2"
    for conn in (s, o):
        conn.cmd("DISCARD")
    for conn, other in ((s, s2), (o, o2)):
        other.cmd("SUBSCRIBE", "ch1")
        other.cmd("PSUBSCRIBE", "p*")
    ls = {f[0][1]: dict(f) for f in map(fields, s.cmd("CLIENT", "LIST", "TYPE", "pubsub").decode().splitlines())}
    lo = {f[0][1]: dict(f) for f in map(fields, o.cmd("CLIENT", "LIST", "TYPE", "pubsub").decode().splitlines())}
    assert len(ls) == len(lo) == 1
    (a,), (b,) = ls.values(), lo.values()
    for k in ("flags", "sub", "psub", "ssub", "cmd"):
        assert a[k] == b[k], k
    assert s.cmd("CLIENT", "LIST", "TYPE", "master") == o.cmd("CLIENT", "LIST", "TYPE", "master") == b""


ERRORS = [
    ("CLIENT", "KILL", "1.2.3.4:5"),
    ("CLIENT", "KILL", "ID", "abc"),
    ("CLIENT", "KILL", "ID", "0"),
    ("CLIENT", "KILL", "ID", "999999"),
    ("CLIENT", "KILL", "TYPE", "bogus"),
    ("CLIENT", "KILL", "TYPE", "master"),
    ("CLIENT", "KILL", "TYPE", "replica"),
    ("CLIENT", "KILL", "USER", "nosuchuser"),
    ("CLIENT", "KILL", "ADDR", "1.2.3.4:5"),
    ("CLIENT", "KILL", "LADDR", "1.2.3.4:5"),
    ("CLIENT", "KILL", "SKIPME", "maybe"),
    ("CLIENT", "KILL", "MAXAGE", "100"),  # Redis 7.2's filter: a syntax error in 7.0
    ("CLIENT", "KILL", "ID"),
    ("CLIENT", "KILL", "BOGUS", "x"),
    ("CLIENT", "LIST", "TYPE", "bogus"),
    ("CLIENT", "LIST", "ID", "1", "abc"),
    ("CLIENT", "LIST", "ID", "0"),
    ("CLIENT", "LIST", "ID", "-5"),
    ("CLIENT", "LIST", "BOGUS"),
    ("CLIENT", "PAUSE", "abc"),
    ("CLIENT", "PAUSE", "-1"),
    ("CLIENT", "PAUSE", "10", "bogus"),
    ("CLIENT", "PAUSE", "10", "WRITE", "extra"),
    ("CLIENT", "NO-EVICT", "maybe"),
    ("CLIENT", "NO-EVICT", "on"),
    ("CLIENT", "NO-EVICT", "off"),
    ("CLIENT", "SETNAME", "has space"),
    ("CLIENT", "UNPAUSE"),
]


def test_client_errors_match_redis(both):
    s, o = both()
    for args in ERRORS:
        assert s.cmd(*args) == o.cmd(*args), args


def test_client_kill_filters(both):
    s, o = both()
    for main in (s, o):
        victim = Raw(main.sock.getpeername()[1])
        victim.cmd("CLIENT", "SETNAME", "victim")
        vid = victim.cmd("CLIENT", "ID")
        addr = info_of(victim)["addr"]
        laddr = info_of(victim)["laddr"]
        assert main.cmd("CLIENT", "KILL", "ID", str(vid), "TYPE", "pubsub") == 0
        assert main.cmd("CLIENT", "KILL", "ADDR", addr, "LADDR", laddr, "USER", "default") == 1
        assert victim.read_until_closed() == b""
        v2 = Raw(main.sock.getpeername()[1])
        v2.cmd("PING")
        assert main.cmd("CLIENT", "KILL", info_of(v2)["addr"]) == "OK"  # the old form
        v2.read_until_closed()
        # SKIPME no: this connection kills itself too, after the reply
        assert main.cmd("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no") == 1
        main.read_until_closed()


def run_pause_scenario(server):
    """What a WRITE pause holds, as observed by another client; returns the observations."""
    obs = []
    ctl, w = Raw(server.port), Raw(server.port)
    ctl.cmd("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    ctl.cmd("SET", "gone", "x", "PX", "50")
    ctl.cmd("SET", "k", "v")
    obs.append(ctl.cmd("CLIENT", "PAUSE", "60000", "WRITE"))
    time.sleep(0.2)  # "gone" is past its TTL: held by the pause
    probes = [
        ("GET", "k"), ("GET", "gone"), ("DBSIZE",), ("EXISTS", "gone"), ("PING",),
        ("EVAL_RO", "return redis.call('get', KEYS[1])", "1", "k"),
        ("EVAL", "#!lua flags=no-writes\nreturn 1", "0"), ("CONFIG", "GET", "maxmemory"),
        ("SET", "k", "v2"), ("PUBLISH", "ch", "m"), ("EVAL", "return 1", "0"), ("INCR", "n"),
        ("FCALL", "nosuchfunction", "0"), ("DEL", "gone"),
    ]
    held = []
    for args in probes:  # each on its own connection: a held one would hold what follows it
        p = Raw(server.port)
        p.send(encode(*args))
        if p.nothing_pending(0.3):
            obs.append((args[0], "held"))
            held.append((args[0], p))
        else:
            obs.append((args[0], p.reply()))
            p.close()
    obs.append(("dbsize-while-held", ctl.cmd("DBSIZE")))
    obs.append(ctl.cmd("CLIENT", "UNPAUSE"))
    for name, p in held:
        obs.append(("released", name, p.reply()))
        p.close()
    # MULTI: the queued write is held; EXEC of a write transaction too
    obs.append(ctl.cmd("CLIENT", "PAUSE", "60000", "WRITE"))
    w.send(encode("MULTI"))
    obs.append(("multi", w.reply()))
    w.send(encode("GET", "k"))
    obs.append(("queued-read", w.reply()))
    w.send(encode("SET", "k", "v3"))
    obs.append(("queued-write-held", w.nothing_pending(0.3)))
    obs.append(ctl.cmd("CLIENT", "UNPAUSE"))
    obs.append(("queued", w.reply()))
    obs.append(ctl.cmd("CLIENT", "PAUSE", "60000", "WRITE"))
    w.send(encode("EXEC"))
    obs.append(("exec-held", w.nothing_pending(0.3)))
    obs.append(ctl.cmd("CLIENT", "UNPAUSE"))
    obs.append(("exec", w.reply()))
    # ALL: even PING and the pausing client's own commands wait, until the timeout
    obs.append(ctl.cmd("CLIENT", "PAUSE", "700", "ALL"))
    w.send(encode("PING"))
    obs.append(("ping-held", w.nothing_pending(0.2)))
    ctl.send(encode("CLIENT", "UNPAUSE"))
    obs.append(("unpause-held", ctl.nothing_pending(0.2)))
    obs.append(("after-timeout", w.reply(), ctl.reply()))
    # a WRITE pause after an ALL one keeps ALL until the later end
    obs.append(ctl.cmd("CLIENT", "PAUSE", "500", "ALL"))
    ctl.send(encode("CLIENT", "PAUSE", "100", "WRITE"))
    obs.append(("second-pause-held", ctl.nothing_pending(0.2)))
    obs.append(("second-pause", ctl.reply()))
    w.send(encode("GET", "k"))
    obs.append(("read-after", w.reply()))
    ctl.cmd("CLIENT", "UNPAUSE")
    deadline = time.time() + 5
    while ctl.cmd("EXISTS", "gone") and time.time() < deadline:
        time.sleep(0.05)
    obs.append(("expired-after", ctl.cmd("DBSIZE")))
    ctl.close()
    w.close()
    return obs


def test_client_pause_semantics_match_redis(sardine, oracle):
    got, want = run_pause_scenario(sardine), run_pause_scenario(oracle)
    assert got == want
    # and the scenario says what it should (so it cannot pass by both servers drifting together)
    assert ("GET", b"v") in got and ("GET", None) in got and ("DBSIZE", 2) in got
    assert ("SET", "held") in got and ("dbsize-while-held", 2) in got
    assert ("PUBLISH", "held") in got and ("released", "INCR", 1) in got and ("EVAL", 1) in got
    assert ("expired-after", 2) in got  # k and n


def test_eviction_waits_for_the_pause(make_sardine):
    s = make_sardine("--maxmemory-policy", "allkeys-random")
    c = Raw(s.port)
    for i in range(200):
        c.cmd("SET", f"key:{i}", "x" * 100)
    assert c.cmd("CLIENT", "PAUSE", "60000", "WRITE") == "OK"
    assert c.cmd("CONFIG", "SET", "maxmemory", "1") == "OK"  # CONFIG SET is not a write: it runs
    assert c.cmd("DBSIZE") == 200
    assert c.cmd("CLIENT", "UNPAUSE") == "OK"
    c.cmd("GET", "key:0")  # the next command evicts
    assert c.cmd("DBSIZE") < 200
    c.cmd("CONFIG", "SET", "maxmemory", "0")
    c.close()
