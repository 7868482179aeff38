"""Running as a service, as operators run Redis: the systemd unit's ExecStart line under a NOTIFY_SOCKET
of the test's own (READY=1 once listening, STOPPING=1 at SIGTERM), `supervised auto|systemd|upstart|no`,
daemonize and pidfile, logfile, syslog directives, and the signals (SIGTERM/SIGINT graceful shutdown,
a second SIGINT exits at once, SIGHUP ignored as in Redis 7.0).

Each test starts sardine-server itself (not through the harness) because it controls the environment,
the process's lifetime and its signals.
"""
import os
import re
import shlex
import signal
import socket
import subprocess
import time

import pytest
import redis

from conftest import ROOT, SARDINE_SERVER, free_port

UNIT = os.path.join(ROOT, "dist", "sardine.service.in")
CONF = os.path.join(ROOT, "sardine.conf")


def exec_start(sysconfdir):
    """The unit's ExecStart, with its placeholders pointing at the binary under test and a copy of sardine.conf."""
    line = next(l for l in open(UNIT) if l.startswith("ExecStart="))[len("ExecStart="):].strip()
    line = line.replace("@BINDIR@", os.path.dirname(SARDINE_SERVER)).replace("@SYSCONFDIR@", str(sysconfdir))
    return shlex.split(line)


class Notify:
    """A unix datagram socket standing in for systemd's notification socket."""

    def __init__(self, path, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addr = "@" + os.path.basename(str(path)) + str(os.getpid()) if abstract else str(path)
        self.sock.bind("\0" + self.addr[1:] if abstract else self.addr)
        self.sock.settimeout(30)
        self.seen = []

    def wait_for(self, text):
        while text not in self.seen:
            self.seen += [m for m in self.sock.recv(4096).decode().split("\n") if m]
        return self.seen

    def close(self):
        self.sock.close()


def start(args, tmp_path, env=None, logname="server.log"):
    port = free_port()
    log = open(tmp_path / logname, "ab")
    argv = list(args) + ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path)]
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env or dict(os.environ))
    return proc, port


def ping(port, timeout=10):
    deadline = time.time() + timeout
    while True:
        try:
            return redis.Redis(host="127.0.0.1", port=port, socket_timeout=10).ping()
        except redis.ConnectionError:
            if time.time() > deadline:
                raise
            time.sleep(0.02)


def stop(proc, sig=signal.SIGTERM):
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


def conf_dir(tmp_path):
    d = tmp_path / "etc"
    (d / "sardine").mkdir(parents=True)
    (d / "sardine" / "sardine.conf").write_bytes(open(CONF, "rb").read())
    return d


def test_unit_execstart_notifies_ready_then_stopping(tmp_path):
    note = Notify(tmp_path / "notify")
    env = dict(os.environ, NOTIFY_SOCKET=note.addr)
    proc, port = start(exec_start(conf_dir(tmp_path)), tmp_path, env)
    try:
        seen = note.wait_for("READY=1")
        # READY=1 means the listener is open: the first connection succeeds without retrying
        assert redis.Redis(host="127.0.0.1", port=port, socket_timeout=10).ping()
        assert seen == ["STATUS=Sardine is loading...", "STATUS=Ready to accept connections", "READY=1"]
        assert proc.poll() is None, "Type=notify: the server must stay in the foreground"
        proc.send_signal(signal.SIGTERM)
        note.wait_for("STOPPING=1")
        assert proc.wait(30) == 0
        assert note.seen.count("READY=1") == 1
        log = (tmp_path / "server.log").read_text()
        assert "Supervised by systemd" in log
        assert "Received SIGTERM scheduling shutdown..." in log
    finally:
        stop(proc)
        note.close()


def test_supervised_auto_detects_systemd_abstract_socket(tmp_path):
    note = Notify(tmp_path / "n", abstract=True)
    env = dict(os.environ, NOTIFY_SOCKET=note.addr)
    env.pop("UPSTART_JOB", None)
    proc, port = start([SARDINE_SERVER, "--supervised", "auto"], tmp_path, env)
    try:
        note.wait_for("READY=1")
        assert ping(port)
        assert redis.Redis(host="127.0.0.1", port=port, decode_responses=True).config_get("supervised") == {"supervised": "auto"}
        proc.send_signal(signal.SIGTERM)
        note.wait_for("STOPPING=1")
        assert proc.wait(30) == 0
    finally:
        stop(proc)
        note.close()


@pytest.mark.parametrize("mode", ["no", "auto"])
def test_not_supervised_sends_nothing(tmp_path, mode):
    note = Notify(tmp_path / "notify")
    note.sock.settimeout(0.5)
    env = dict(os.environ)
    env.pop("UPSTART_JOB", None)
    if mode == "no":
        env["NOTIFY_SOCKET"] = note.addr  # present, but supervision is off
    proc, port = start([SARDINE_SERVER, "--supervised", mode], tmp_path, env)
    try:
        assert ping(port)
        with pytest.raises(socket.timeout):
            note.sock.recv(4096)
        assert stop(proc) == 0
    finally:
        note.close()


def test_supervised_systemd_without_socket_warns_and_runs(tmp_path):
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    pidfile = tmp_path / "d.pid"
    proc, port = start([SARDINE_SERVER, "--supervised", "systemd", "--daemonize", "yes", "--pidfile", str(pidfile),
                        "--logfile", str(tmp_path / "d.log")], tmp_path, env)
    # not supervised after all, so daemonize applies: the launched process exits 0
    assert proc.wait(30) == 0
    assert ping(port)
    try:
        assert "systemd supervision error: NOTIFY_SOCKET not found!" in (tmp_path / "d.log").read_text()
    finally:
        redis.Redis(host="127.0.0.1", port=port).shutdown(nosave=True)
    with pytest.raises(redis.ConnectionError):
        redis.Redis(host="127.0.0.1", port=port).ping()


def test_supervised_daemonize_stays_in_foreground(tmp_path):
    note = Notify(tmp_path / "notify")
    env = dict(os.environ, NOTIFY_SOCKET=note.addr)
    proc, port = start([SARDINE_SERVER, "--supervised", "systemd", "--daemonize", "yes"], tmp_path, env)
    try:
        note.wait_for("READY=1")
        assert proc.poll() is None
        assert ping(port)
        proc.send_signal(signal.SIGTERM)
        note.wait_for("STOPPING=1")
        assert proc.wait(30) == 0
    finally:
        stop(proc)
        note.close()


def test_supervised_upstart_stops_itself_when_ready(tmp_path):
    env = dict(os.environ, UPSTART_JOB="sardine")
    env.pop("NOTIFY_SOCKET", None)
    proc, port = start([SARDINE_SERVER, "--supervised", "upstart"], tmp_path, env)
    try:
        deadline = time.time() + 30
        while open(f"/proc/{proc.pid}/stat").read().split(")")[1].split()[0] != "T":
            assert time.time() < deadline, "the server never stopped itself"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGCONT)
        assert ping(port)
        assert stop(proc) == 0
    finally:
        stop(proc)


def test_daemonize_writes_and_removes_pidfile(tmp_path):
    pidfile = tmp_path / "sardine.pid"
    logfile = tmp_path / "daemon.log"
    proc, port = start([SARDINE_SERVER, "--daemonize", "yes", "--pidfile", str(pidfile), "--logfile", str(logfile)],
                       tmp_path)
    assert proc.wait(30) == 0  # the parent returns at once
    assert ping(port)
    pid = int(pidfile.read_text())
    assert pid != proc.pid and os.path.exists(f"/proc/{pid}")
    assert os.getsid(pid) == pid, "the daemon leads a session of its own"
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + 30
    while os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] != "Z":
        assert time.time() < deadline
        time.sleep(0.05)
    assert not pidfile.exists()
    log = logfile.read_text()
    assert "Ready to accept connections" in log and "Removing the pid file." in log and "bye bye" in log


def test_pidfile_without_daemonize(tmp_path):
    pidfile = tmp_path / "fg.pid"
    proc, port = start([SARDINE_SERVER, "--pidfile", str(pidfile)], tmp_path)
    try:
        assert ping(port)
        assert int(pidfile.read_text()) == proc.pid
        assert stop(proc, signal.SIGINT) == 0
        assert not pidfile.exists()
        log = (tmp_path / "server.log").read_text()
        assert "Received SIGINT scheduling shutdown..." in log
    finally:
        stop(proc)


def test_sighup_is_ignored(tmp_path):
    proc, port = start([SARDINE_SERVER], tmp_path)
    try:
        assert ping(port)
        proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        assert proc.poll() is None
        assert ping(port)
    finally:
        assert stop(proc) == 0


def test_unwritable_logfile_is_a_config_error(tmp_path):
    proc = subprocess.run([SARDINE_SERVER, "--port", str(free_port()), "--logfile", str(tmp_path / "no" / "such.log")],
                          capture_output=True, timeout=30)
    assert proc.returncode == 1
    assert b"Can't open the log file: No such file or directory" in proc.stderr


def test_logfile_and_loglevel(tmp_path):
    logfile = tmp_path / "s.log"
    proc, port = start([SARDINE_SERVER, "--logfile", str(logfile), "--loglevel", "warning"], tmp_path)
    try:
        assert ping(port)
        log = logfile.read_text()
        assert "Server initialized" in log          # a warning-level line
        assert "Ready to accept connections" not in log  # a notice-level line
        assert re.search(r"^\d+:M \d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3} # ", log, re.M)
        # stdout gets only the line logged before the config is read (as Redis's "Redis is starting")
        assert (tmp_path / "server.log").read_text().count("\n") == 1
    finally:
        assert stop(proc) == 0


def test_syslog_directives(tmp_path):
    proc, port = start([SARDINE_SERVER, "--syslog-enabled", "yes", "--syslog-ident", "sardine-test",
                        "--syslog-facility", "local3"], tmp_path)
    try:
        assert ping(port)
        r = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
        assert r.config_get("syslog-*") == {"syslog-enabled": "yes", "syslog-ident": "sardine-test",
                                            "syslog-facility": "local3"}
        for name, value in (("syslog-ident", "x"), ("syslog-facility", "user"), ("supervised", "no"),
                            ("syslog-enabled", "no")):
            with pytest.raises(redis.ResponseError) as e:
                r.config_set(name, value)
            assert str(e.value) == f"CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config"
    finally:
        assert stop(proc) == 0


@pytest.mark.parametrize("args,error", [
    (["--syslog-facility", "local8"],
     "argument(s) must be one of the following: user, local0, local1, local2, local3, local4, local5, local6, local7"),
    (["--supervised", "launchd"], "argument(s) must be one of the following: upstart, systemd, auto, no"),
])
def test_bad_service_directives(args, error):
    proc = subprocess.run([SARDINE_SERVER, "--port", str(free_port())] + args, capture_output=True, timeout=30)
    assert proc.returncode == 1
    assert b"*** FATAL CONFIG FILE ERROR" in proc.stderr and error.encode() in proc.stderr


def test_shutdown_on_signal_flags_match_redis(make_sardine, make_oracle):
    rs = [make_sardine().client(decode_responses=True), make_oracle().client(decode_responses=True)]
    for name in ("shutdown-on-sigterm", "shutdown-on-sigint"):
        for value in ("nosave now", "save nosave", "bogus", "default now", "", "NOW force", "default", "save force"):
            got = []
            for r in rs:
                try:
                    got.append(("ok", r.config_set(name, value), r.config_get(name)))
                except redis.ResponseError as e:
                    got.append(("err", str(e), r.config_get(name)))
            assert got[0] == got[1], (name, value)
