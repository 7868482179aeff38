"""CONFIG GET with several patterns, CONFIG SET of several directives at once (atomic, rolled back on
failure), and every Redis 7.0 directive: Redis 7.0.15's own redis.conf (tests/assets/redis-7.0.15.conf)
loads in Sardine and every directive then reads back as redis-server's does; directives whose feature
Sardine lacks are accepted and said in the log ("not supported, ignored"), never silently."""
import os
import subprocess
import tempfile
import time

import pytest

from harness import REDIS_SERVER, ROOT, SARDINE_SERVER, Server, check_oracle, free_port
from sardine_resp import Err, Raw

REDIS_CONF = os.path.join(ROOT, "tests", "assets", "redis-7.0.15.conf")

# Directives only one of the two has (Sardine's own, or Redis 7.2's that Sardine already knows).
SARDINE_ONLY = {"bgsave-fork", "maxmemory-safety-limit", "set-max-listpack-entries", "set-max-listpack-value",
                "locale-collate", "tls-handshake-timeout", "value-compression", "value-compression-min-size",
                "value-compression-level", "value-compression-dict"}
# Where the two differ on purpose or by the test's setup, with the reason.
DIFFERENT = {
    "port": "each server has its own",
    "pidfile": "each server has its own",
    "dir": "each server has its own",
    "syslog-ident": "Sardine's default names itself",
}
# Built-in defaults (no config file) that differ from redis-server's: a stock redis.conf sets them alike.
DEFAULTS_DIFFER = {
    "hash-max-listpack-entries": "Sardine keeps redis.conf's 128 where the binary's default is 512",
    "hash-max-ziplist-entries": "alias of the above",
    "lazyfree-lazy-expire": "Sardine frees in the background by default",
    "lazyfree-lazy-server-del": "Sardine frees in the background by default",
    "lazyfree-lazy-user-del": "Sardine frees in the background by default",
}


class ConfServer(Server):
    """A server started with a config file as its first argument (what harness.Server cannot do)."""

    def __init__(self, argv0, conf, kind):
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix=f"{kind}-conf-")
        self.port = free_port()
        self.logfile = os.path.join(self.dir, "server.log")
        self.argv = [argv0, conf, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                     "--daemonize", "no", "--pidfile", os.path.join(self.dir, "pid"), "--logfile", "",
                     "--enable-debug-command", "yes", "--save", "", "--appendonly", "no"]
        self.log = open(self.logfile, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()


@pytest.fixture
def conf_servers():
    started = []

    def start(conf):
        s = ConfServer(SARDINE_SERVER, conf, "sardine")
        started.append(s)
        o = ConfServer(REDIS_SERVER, conf, "redis")
        started.append(o)
        check_oracle(o)
        return s, o

    yield start
    for s in started:
        s.stop()


def all_configs(server):
    c = Raw(server.port)
    try:
        return {k.decode(): v.decode() for k, v in zip(*[iter(c.cmd("CONFIG", "GET", "*"))] * 2)}
    finally:
        c.close()


def compare(s, o, also_differ=()):
    gs, go = all_configs(s), all_configs(o)
    missing = sorted(set(go) - set(gs))
    assert not missing, f"directives redis-server has and Sardine lacks: {missing}"
    assert set(gs) - set(go) == SARDINE_ONLY
    diffs = {k: (gs[k], go[k]) for k in go if gs[k] != go[k] and k not in DIFFERENT and k not in also_differ}
    assert not diffs
    return gs, go


def test_stock_redis_conf_loads_and_every_directive_matches(conf_servers):
    s, o = conf_servers(REDIS_CONF)
    gs, _ = compare(s, o)
    assert len(gs) >= 190
    # the file's values, not the defaults, are in force
    assert gs["hash-max-listpack-entries"] == "512" and gs["lazyfree-lazy-user-del"] == "no"
    log = s.read_log()
    # what Sardine does not do is said, once per directive, in the log
    for name in ("repl-diskless-sync", "replica-serve-stale-data", "repl-diskless-load"):
        assert f"'{name} " in log and "not supported, ignored" in log, name


def test_builtin_defaults_match_redis(make_sardine, make_oracle):
    compare(make_sardine(), make_oracle(), also_differ=DEFAULTS_DIFFER)


def test_unsupported_lines_are_accepted_and_logged(tmp_path):
    """Directives of features Sardine lacks are kept and warned about; rename-command and user lines,
    which Sardine has, take effect."""
    conf = tmp_path / "s.conf"
    conf.write_text('rename-command FLUSHALL ""\nuser alice on >pw ~* +@all\nrepl-timeout 30\n'
                    'cluster-enabled no\ntls-port 0\nloadmodule /nonexistent/module.so\n')
    s = ConfServer(SARDINE_SERVER, str(conf), "sardine")
    try:
        c = Raw(s.port)
        assert c.cmd("CONFIG", "GET", "repl-timeout") == [b"repl-timeout", b"30"]
        assert c.cmd("CONFIG", "SET", "repl-diskless-sync-delay", "7") == "OK"
        assert "unknown command" in c.cmd("FLUSHALL").msg
        assert c.cmd("ACL", "WHOAMI") == b"default" and b"alice" in c.cmd("ACL", "USERS")
        deadline = time.time() + 5
        while "repl-diskless-sync-delay 7" not in s.read_log() and time.time() < deadline:
            time.sleep(0.05)
        log = s.read_log()
        for needle in ("does not support 'loadmodule'", "'repl-timeout 30'", "'repl-diskless-sync-delay 7' (CONFIG SET)"):
            assert needle in log, needle
        for absent in ("'tls-port 0'", "'rename-command", "does not support 'user'"):
            assert absent not in log, absent
        c.close()
    finally:
        s.stop()


GETS = [
    ("maxmemory", "MAXMEMORY"),
    ("MAXMEMORY",),
    ("slaveof", "replicaof"),
    ("hash-max-*",),
    ("*ziplist*", "hash*"),
    ("nosuchdirective",),
    ("maxmemory", "maxmemory-*", "max*"),
    ("[m]axmemory", "?z",),
    ("latency-tracking*", "busy-reply-threshold", "lua-time-limit"),
    ("*slave*",),
    ("repl-*", "cluster-*", "tls-*", "active-defrag-*"),
]


def test_config_get_several_patterns_match_redis(sardine, oracle):
    s, o = Raw(sardine.port), Raw(oracle.port)
    for args in GETS:
        rs, ro = s.cmd("CONFIG", "GET", *args), o.cmd("CONFIG", "GET", *args)
        ds, do = dict(zip(*[iter(rs)] * 2)), dict(zip(*[iter(ro)] * 2))
        ds = {k: v for k, v in ds.items() if k.decode() not in SARDINE_ONLY}
        assert ds.keys() == do.keys(), args
        assert {k: v for k, v in ds.items() if k.decode() not in DEFAULTS_DIFFER} == \
            {k: v for k, v in do.items() if k.decode() not in DEFAULTS_DIFFER}, args


SETS = [
    ("maxmemory", "10mb", "hz", "abc"),                       # the second fails: the first is rolled back
    ("hz", "20", "maxmemory-policy", "bogus"),
    ("hz", "5", "hz", "6"),                                   # duplicate
    ("hz", "5", "HZ", "6"),
    ("hz", "5", "lua-time-limit", "100", "busy-reply-threshold", "200"),  # an alias and its name
    ("hz", "5", "nosuch", "1"),
    ("hz", "5", "daemonize", "yes"),                          # immutable
    ("hz",),
    ("hz", "5", "timeout"),
    ("latency-tracking-info-percentiles", "0 100 12.5", "hz", "bad"),
    ("latency-tracking-info-percentiles", "abc"),
    ("latency-tracking-info-percentiles", "101"),
    ("latency-tracking-info-percentiles", "1 2 3 4 5.5 99.99"),
    ("latency-tracking-info-percentiles", ""),
    ("oom-score-adj-values", "0 200"),
    ("oom-score-adj-values", "0 200 3000"),
    ("oom-score-adj-values", "-100 100 x"),
    ("oom-score-adj-values", "10 20 30"),
    ("repl-timeout", "0"), ("repl-timeout", "30"), ("tls-port", "70000"), ("tls-auth-clients", "optional"),
    ("repl-diskless-load", "swapdb"), ("repl-diskless-load", "nope"), ("acl-pubsub-default", "allchannels"),
    ("active-defrag-cycle-max", "100"), ("active-defrag-ignore-bytes", "0"), ("active-defrag-ignore-bytes", "1gb"),
    ("cluster-node-timeout", "-1"), ("socket-mark-id", "1"), ("disable-thp", "no"),
    ("maxmemory", "20mb", "maxmemory-policy", "allkeys-lru", "hz", "7", "timeout", "100"),
]


def test_config_set_several_atomic_match_redis(sardine, oracle):
    s, o = Raw(sardine.port), Raw(oracle.port)
    watched = ["maxmemory", "hz", "maxmemory-policy", "busy-reply-threshold", "latency-tracking-info-percentiles",
               "oom-score-adj-values", "repl-timeout", "tls-port", "tls-auth-clients", "repl-diskless-load",
               "acl-pubsub-default", "active-defrag-ignore-bytes", "timeout"]
    for args in SETS:
        assert s.cmd("CONFIG", "SET", *args) == o.cmd("CONFIG", "SET", *args), args
        gs = dict(zip(*[iter(s.cmd("CONFIG", "GET", *watched))] * 2))
        go = dict(zip(*[iter(o.cmd("CONFIG", "GET", *watched))] * 2))
        assert gs == go, args
    # and the rollback did happen (not both servers keeping a half-applied set)
    assert s.cmd("CONFIG", "SET", "maxmemory", "1mb", "hz", "x") != "OK"
    assert s.cmd("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"20971520"]


def reachable(port):
    try:
        c = Raw(port, timeout=2)
    except OSError:
        return False
    try:
        return c.cmd("PING") == "PONG"
    finally:
        c.close()


def rebind_scenario(server, busy_port):
    c = Raw(server.port)
    out = []
    new = free_port()
    out.append(c.cmd("CONFIG", "SET", "port", str(new)))
    out.append((reachable(new), reachable(server.port), c.cmd("CONFIG", "GET", "port") == [b"port", str(new).encode()]))
    out.append(c.cmd("CONFIG", "SET", "port", str(busy_port)))  # taken by another server: refused, old port kept
    out.append((reachable(new), c.cmd("CONFIG", "GET", "port") == [b"port", str(new).encode()]))
    out.append(c.cmd("CONFIG", "SET", "bind", "127.0.0.1 -::1"))
    out.append(c.cmd("CONFIG", "SET", "bind", "192.0.2.1"))  # not an address of this machine
    out.append((reachable(new), c.cmd("CONFIG", "GET", "bind")))
    out.append(c.cmd("CONFIG", "SET", "port", str(server.port), "bind", "127.0.0.1"))
    out.append(reachable(server.port))
    out.append(c.cmd("CONFIG", "SET", "port", "70000"))
    c.close()
    return out


def test_port_and_bind_change_at_runtime_as_redis(sardine, oracle, make_oracle):
    busy = make_oracle()
    got, want = rebind_scenario(sardine, busy.port), rebind_scenario(oracle, busy.port)
    assert got == want
    assert got[0] == "OK" and got[1] == (True, False, True)
    assert got[2] == Err("ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this "
                         "port. Check server logs.")
    assert got[5] == Err("ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified "
                         "addresses.")
    assert got[6] == (True, [b"bind", b"127.0.0.1 -::1"])
