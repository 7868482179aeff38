"""Startup configuration, and the limits and sockets it controls: a redis.conf-style file, --name value
overrides, Redis's FATAL CONFIG FILE ERROR report naming the line, CONFIG REWRITE, unix sockets with
permissions, idle timeouts, output buffer limits and the log file."""
import os
import socket
import stat
import subprocess
import time

import pytest
import redis

from harness import SARDINE_SERVER, Server, free_port

IS_REAL_REDIS = os.path.basename(SARDINE_SERVER).startswith("redis-server")


def run_expect_exit(argv, timeout=10):
    p = subprocess.run(argv, capture_output=True, timeout=timeout)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


def start_with_file(tmp_path, text, *extra):
    conf = tmp_path / "test.conf"
    conf.write_text(text)
    port = free_port()
    proc = subprocess.Popen([SARDINE_SERVER, str(conf), "--port", str(port), "--bind", "127.0.0.1", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    r = redis.Redis(port=port, socket_timeout=10)
    deadline = time.time() + 10
    while True:
        try:
            r.ping()
            return proc, r, conf
        except redis.ConnectionError:
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)


def stop(proc):
    proc.terminate()
    assert proc.wait(10) == 0


def test_config_file_and_overrides(tmp_path):
    proc, r, _ = start_with_file(tmp_path, "# a comment\n\nmaxmemory 10mb\nmaxmemory-policy allkeys-lru\n"
                                           "hz 20\ntimeout 0\nloglevel warning\n", "--maxmemory", "20mb")
    try:
        cfg = r.config_get("*")
        assert cfg["maxmemory"] == str(20 * 1024 * 1024)  # the command line wins over the file
        assert cfg["maxmemory-policy"] == "allkeys-lru"
        assert cfg["hz"] == "20"
        assert cfg["loglevel"] == "warning"
    finally:
        stop(proc)


@pytest.mark.parametrize("line,why", [
    ("foo bar", "Bad directive or wrong number of arguments"),
    ("maxmemory lots", "argument must be a memory value"),
    ("maxmemory-policy sometimes", "argument(s) must be one of the following"),
    ("hz abc", "argument couldn't be parsed into an integer"),
    ("daemonize maybe", "argument must be 'yes' or 'no'"),
])
def test_bad_config_line_stops_startup(tmp_path, line, why):
    conf = tmp_path / "bad.conf"
    conf.write_text("port 0\n" + line + "\n")
    rc, out = run_expect_exit([SARDINE_SERVER, str(conf)])
    assert rc == 1
    assert "*** FATAL CONFIG FILE ERROR" in out
    assert "at line 2" in out
    assert f">>> '{line}'" in out
    assert why in out


def test_bad_command_line_option_stops_startup():
    rc, out = run_expect_exit([SARDINE_SERVER, "--port", "0", "--no-such-option", "1"])
    assert rc == 1 and "Bad directive or wrong number of arguments" in out and "no-such-option" in out


def test_missing_config_file(tmp_path):
    rc, out = run_expect_exit([SARDINE_SERVER, str(tmp_path / "nope.conf")])
    assert rc == 1 and "can't open config file" in out


def test_config_rewrite_persists(tmp_path):
    proc, r, conf = start_with_file(tmp_path, "maxmemory-samples 7\n# keep me\n")
    try:
        r.config_set("maxmemory-samples", "9")
        r.config_set("maxmemory-policy", "volatile-lru")
        assert r.config_rewrite()
        text = conf.read_text()
        assert "maxmemory-samples 9" in text and "# keep me" in text and "volatile-lru" in text
    finally:
        stop(proc)
    proc, r, _ = start_with_file(tmp_path, conf.read_text())
    try:
        assert r.config_get("maxmemory-samples")["maxmemory-samples"] == "9"
        assert r.config_get("maxmemory-policy")["maxmemory-policy"] == "volatile-lru"
    finally:
        stop(proc)


def test_config_rewrite_without_file(r):
    with pytest.raises(redis.ResponseError, match="The server is running without a config file"):
        r.config_rewrite()


def test_unix_socket_with_permissions(make_sardine, tmp_path):
    path = str(tmp_path / "s.sock")
    s = make_sardine("--unixsocket", path, "--unixsocketperm", "700")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    u = redis.Redis(unix_socket_path=path)
    assert u.ping()
    u.set("via", "unix")
    assert s.client().get("via") == b"via".replace(b"via", b"unix")
    assert "/s.sock" in u.client_info()["addr"] or u.client_info()["addr"].endswith(":0")


def test_idle_clients_time_out(make_sardine):
    s = make_sardine("--timeout", "1")
    sock = socket.create_connection(("127.0.0.1", s.port))
    sock.settimeout(10)
    sock.sendall(b"PING\r\n")
    assert sock.recv(100) == b"+PONG\r\n"
    start = time.time()
    assert sock.recv(100) == b""  # closed by the server
    assert 0.5 < time.time() - start < 8
    sock.close()


def test_output_buffer_hard_limit_disconnects(make_sardine):
    s = make_sardine("--client-output-buffer-limit", "normal 1mb 0 0")
    r = s.client()
    r.set("big", "x" * 200000)
    sock = socket.create_connection(("127.0.0.1", s.port))
    sock.settimeout(10)
    # 40 GETs of 200 KB each, never read: the reply outgrows 1 MB and the client is dropped.
    sock.sendall(b"GET big\r\n" * 40)
    time.sleep(0.5)
    got = 0
    try:
        while True:
            data = sock.recv(1 << 20)
            if not data:
                break
            got += len(data)
    except (ConnectionResetError, socket.timeout):
        pass
    assert got < 40 * 200000
    assert r.ping()
    if not IS_REAL_REDIS:
        assert "for overcoming of output buffer limits" in s.read_log()
    info = r.info("stats")
    assert info.get("client_output_buffer_limit_disconnections", 1) >= 1


def test_logfile_gets_the_banner(make_sardine, tmp_path):
    log = tmp_path / "server.log"
    s = make_sardine("--logfile", str(log), "--loglevel", "notice")
    assert s.client().ping()
    text = log.read_text()
    assert "Ready to accept connections" in text
    assert f"port={s.port}" in text


def test_sigterm_logs_and_exits_zero(make_sardine):
    s = make_sardine()
    s.proc.terminate()
    assert s.proc.wait(10) == 0
    assert "bye bye" in s.read_log()


# ---- hardening (issue 10): immutable and protected directives, numeric bounds, idle timeout ----------

IMMUTABLE = ["pidfile", "logfile", "daemonize", "unixsocket", "unixsocketperm", "databases", "tcp-backlog",
             "syslog-enabled", "syslog-ident", "syslog-facility", "supervised", "appendfilename", "io-threads",
             "always-show-logo", "set-proc-title", "rdbchecksum", "cluster-enabled", "aclfile",
             "enable-debug-command", "enable-protected-configs", "replicaof"]


@pytest.mark.parametrize("name", IMMUTABLE)
def test_immutable_directives_refused_at_runtime(r, name):
    with pytest.raises(redis.ResponseError) as e:
        r.config_set(name, "1")
    assert str(e.value) == f"CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config"


def test_config_set_pidfile_cannot_delete_a_file(make_sardine, tmp_path):
    victim = tmp_path / "precious"
    victim.write_text("keep me")
    s = make_sardine()
    r = s.client()
    with pytest.raises(redis.ResponseError, match="can't set immutable config"):
        r.config_set("pidfile", str(victim))
    s.stop()
    assert victim.read_text() == "keep me"


@pytest.mark.parametrize("name,value", [("dir", "/tmp"), ("dbfilename", "other.rdb")])
def test_protected_directives_follow_enable_protected_configs(make_sardine, name, value):
    r = make_sardine().client()
    with pytest.raises(redis.ResponseError) as e:
        r.config_set(name, value)
    assert str(e.value) == f"CONFIG SET failed (possibly related to argument '{name}') - can't set protected config"
    for mode in ("yes", "local"):  # the test connects over loopback, which "local" allows
        r2 = make_sardine("--enable-protected-configs", mode).client()
        assert r2.config_set(name, value) is True
        assert r2.config_get(name)[name] == value
        assert r2.config_get("enable-protected-configs")["enable-protected-configs"] == mode


@pytest.mark.skipif(IS_REAL_REDIS, reason="sardine's UBSan build is the subject")
def test_config_set_maxclients_huge_does_not_overflow(r):
    with pytest.raises(redis.ResponseError, match="not able to handle the specified number of clients"):
        r.config_set("maxclients", "2147483647")
    with pytest.raises(redis.ResponseError, match="argument must be between 1 and 4294967295 inclusive"):
        r.config_set("maxclients", "-1")
    assert r.config_get("maxclients")["maxclients"] == "10000"
    assert r.ping()


@pytest.mark.parametrize("name,value,err", [
    ("timeout", "1k", "argument couldn't be parsed into an integer"),
    ("hz", "2147483648", "argument must be between 0 and 2147483647 inclusive"),
    ("maxmemory", "-1", "argument must be a memory value"),
    ("proto-max-bulk-len", "18446744073709551615", "argument must be between 1048576 and 9223372036854775807 inclusive"),
    ("slowlog-max-len", "-1", "argument must be between 0 and 9223372036854775807 inclusive"),
    ("maxmemory-clients", "101%", "percentage argument must be less or equal to 100"),
    ("maxmemory-clients", "x", "argument must be a memory or percent value"),
    ("active-expire-effort", "11", "argument must be between 1 and 10 inclusive"),
])
def test_numeric_bounds_and_errors(r, name, value, err):
    with pytest.raises(redis.ResponseError) as e:
        r.config_set(name, value)
    assert str(e.value) == f"CONFIG SET failed (possibly related to argument '{name}') - {err}"


def test_idle_timeout_spares_blocked_clients(make_sardine):
    s = make_sardine("--timeout", "1")
    r = s.client()
    blocked = socket.create_connection(("127.0.0.1", s.port))
    blocked.settimeout(10)
    blocked.sendall(b"BLPOP q 0\r\n")
    idle = socket.create_connection(("127.0.0.1", s.port))
    idle.settimeout(10)
    idle.sendall(b"PING\r\n")
    assert idle.recv(100) == b"+PONG\r\n"
    assert idle.recv(100) == b""  # the idle one is closed after ~1-2 s
    time.sleep(1.5)  # the blocked one has been idle as long, and longer
    assert r.lpush("q", "x") == 1
    assert blocked.recv(100) == b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n"
    blocked.close()
    idle.close()


WORKLOAD = [
    ["SET", "s", "12345"], ["INCRBY", "s", "9"], ["APPEND", "s", "x" * 100], ["GETRANGE", "s", "0", "-1"],
    ["RPUSH", "l"] + [str(i) * 30 for i in range(300)], ["LPUSH", "l", "a", "b"], ["LINSERT", "l", "BEFORE", "a", "z"],
    ["LRANGE", "l", "0", "-1"], ["LPOP", "l", "5"], ["LTRIM", "l", "10", "-10"], ["LINDEX", "l", "50"],
    ["HSET", "h"] + [f"f{i}" if j == 0 else "v" * 70 for i in range(200) for j in range(2)], ["HGETALL", "h"],
    ["SADD", "st"] + [str(i) for i in range(600)], ["SADD", "sw"] + ["m" * 70 + str(i) for i in range(150)],
    ["SINTER", "st", "sw"], ["ZADD", "z"] + [x for i in range(200) for x in (str(i), "m" * 70 + str(i))],
    ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    ["XADD", "x", "*", "f", "v" * 100], ["XADD", "x", "*", "f", "w"], ["XRANGE", "x", "-", "+"], ["XTRIM", "x", "MAXLEN", "1"],
    ["PFADD", "hll"] + [str(i) for i in range(3000)], ["PFCOUNT", "hll"],
    ["SETBIT", "b", "100000", "1"], ["BITCOUNT", "b"], ["DEBUG", "SLEEP", "0"],
    ["SLOWLOG", "GET"], ["SLOWLOG", "LEN"], ["LATENCY", "LATEST"], ["INFO"], ["CLIENT", "LIST"],
    ["DEL", "s", "l", "h", "st", "sw", "z", "x", "hll", "b"],
]
BOUNDS = __import__("re").compile(r"between (-?\d+) and (-?\d+) inclusive")
# Where no value is out of range (maxmemory takes up to 2^64-1) or the low end would cut the test's
# own connection (timeout 0 is the default, its top is safe).
EXTREMES = {"maxmemory": ("18446744073709551615", "1"), "timeout": ("2147483647",)}


@pytest.mark.skipif(IS_REAL_REDIS, reason="sardine's UBSan build is the subject")
def test_every_numeric_config_at_its_bounds_runs_a_workload(r):
    """Each numeric directive set to its lowest and highest accepted value in turn, with a workload of
    every data type in between: the arithmetic on them must not overflow (UBSan aborts the server)."""
    cfg = r.config_get("*")
    skip = {"maxclients", "port", "databases", "tcp-backlog", "io-threads", "unixsocketperm",  # fd limit, immutables
            "tls-port"}  # opens a listener: needs a certificate (tests/integration/test_tls.py)
    names = [n for n, v in cfg.items() if v.lstrip("-").isdigit() and n not in skip]
    assert len(names) > 20
    tried = 0
    for name in names:
        bounds = None
        for probe in ("-9223372036854775809", "99999999999999999999", "-1"):
            try:
                r.config_set(name, probe)
                r.config_set(name, cfg[name])
            except redis.ResponseError as e:
                m = BOUNDS.search(str(e))
                if m:
                    bounds = m.groups()
                    break
        bounds = EXTREMES.get(name, bounds)
        if not bounds:
            continue
        for value in bounds:
            try:
                r.config_set(name, value)
            except redis.ResponseError as e:
                assert "immutable" in str(e) or "protected" in str(e), (name, value, e)
                break
            tried += 1
            for cmd in WORKLOAD:
                try:
                    r.execute_command(*cmd)
                except redis.ResponseError:
                    pass
            assert r.ping(), (name, value)
        r.config_set(name, cfg[name])
    assert tried > 30, tried
