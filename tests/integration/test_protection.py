"""Exposure controls, as Redis 7.0: protected mode, enable-debug-command / enable-module-command /
enable-protected-configs (no / yes / local) and rename-command in the config file.

A "remote" client is one connecting from 127.0.0.2: Redis 7.0 counts only 127.0.0.1, ::1 and unix sockets
as local, so that address exercises the refusals on one machine.  Every text is compared with the oracle."""
import os
import socket
import subprocess
import tempfile

import pytest
import redis

from harness import REDIS_SERVER, SARDINE_SERVER, Server, free_port
from sardine_resp import Err, Raw

IS_REAL_REDIS = os.path.basename(SARDINE_SERVER).startswith("redis-server")

DENIED = (
    b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the "
    b"default user. In this mode connections are only accepted from the loopback interface. If you want to connect "
    b"from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode "
    b"sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the "
    b"same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. "
    b"Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by "
    b"editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the "
    b"server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' "
    b"option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above "
    b"things in order for the server to start accepting connections from the outside.\r\n")


def remote_socket(port):
    sock = socket.socket()
    sock.settimeout(10)
    sock.bind(("127.0.0.2", 0))
    sock.connect(("127.0.0.1", port))
    return sock


def remote_raw(port):
    r = Raw.__new__(Raw)
    r.sock = remote_socket(port)
    r.buf = b""
    r.timeout = 10
    return r


def read_all(sock):
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def not_allowed(cmd, option):
    return Err(f"ERR {cmd} command not allowed. If the {option} option is set to \"local\", you can run it from a "
               f"local connection, otherwise you need to set this option in the configuration file, and then restart "
               f"the server.")


# ---- protected mode ----------------------------------------------------------------------------------

def test_protected_mode_refuses_remote_clients(make_sardine, make_oracle):
    for s in (make_sardine(), make_oracle()):
        sock = remote_socket(s.port)
        sock.sendall(b"PING\r\n")
        assert read_all(sock) == DENIED, s.kind
        sock.close()
        info = s.client().info("stats")
        assert info["rejected_connections"] == 1, s.kind
        assert s.client().ping()  # local clients are served


@pytest.mark.parametrize("args", [("--protected-mode", "no"), ("--requirepass", "pw")])
def test_protected_mode_lets_remote_clients_in(make_sardine, make_oracle, args):
    for s in (make_sardine(*args), make_oracle(*args)):
        r = remote_raw(s.port)
        want = "PONG" if args[0] == "--protected-mode" else Err("NOAUTH Authentication required.")
        assert r.cmd("PING") == want, s.kind


def test_protected_mode_follows_config_set(make_sardine):
    s = make_sardine()
    s.client().config_set("protected-mode", "no")
    assert remote_raw(s.port).cmd("PING") == "PONG"
    s.client().config_set("protected-mode", "yes")
    sock = remote_socket(s.port)
    assert read_all(sock) == DENIED
    sock.close()
    s.client().config_set("requirepass", "pw")
    assert remote_raw(s.port).cmd("PING") == Err("NOAUTH Authentication required.")


def test_protected_mode_unix_socket_is_local(make_sardine, tmp_path):
    path = str(tmp_path / "s.sock")
    s = make_sardine("--unixsocket", path)
    r = redis.Redis(unix_socket_path=path, socket_timeout=10)
    assert r.ping()


# ---- DEBUG and MODULE ----------------------------------------------------------------------------------

def test_enable_debug_command(make_sardine, make_oracle):
    for make in (make_sardine, make_oracle):
        no = make("--enable-debug-command", "no", "--protected-mode", "no")
        c = Raw(no.port)
        assert c.cmd("DEBUG", "SLEEP", "0") == not_allowed("DEBUG", "enable-debug-command")
        assert c.cmd("DEBUG") == Err("ERR wrong number of arguments for 'debug' command")  # arity first
        # refused while queueing: the transaction is discarded
        assert c.cmd("MULTI") == "OK"
        assert c.cmd("DEBUG", "SLEEP", "0") == not_allowed("DEBUG", "enable-debug-command")
        assert c.cmd("EXEC") == Err("EXECABORT Transaction discarded because of previous errors.")
        local = make("--enable-debug-command", "local", "--protected-mode", "no")
        assert Raw(local.port).cmd("DEBUG", "SLEEP", "0") == "OK"
        assert remote_raw(local.port).cmd("DEBUG", "SLEEP", "0") == not_allowed("DEBUG", "enable-debug-command")
        yes = make("--enable-debug-command", "yes", "--protected-mode", "no")
        assert remote_raw(yes.port).cmd("DEBUG", "SLEEP", "0") == "OK"
        with pytest.raises(redis.ResponseError, match="immutable"):
            yes.client().config_set("enable-debug-command", "no")


def test_debug_refused_before_auth(make_sardine, make_oracle):
    """Redis checks protected commands right after the arity, before authentication."""
    for s in (make_sardine("--enable-debug-command", "no", "--requirepass", "pw"),
              make_oracle("--enable-debug-command", "no", "--requirepass", "pw")):
        assert Raw(s.port).cmd("DEBUG", "SLEEP", "0") == not_allowed("DEBUG", "enable-debug-command")


def test_module_command(make_sardine, make_oracle):
    results = []
    for make in (make_sardine, make_oracle):
        out = []
        no = Raw(make("--protected-mode", "no").port)
        out += [no.cmd("MODULE", "LOAD", "/nonexistent/mod.so"), no.cmd("MODULE", "LOADEX", "/nonexistent/mod.so"),
                no.cmd("MODULE", "UNLOAD", "nomod"), no.cmd("MODULE", "LIST"), no.cmd("MODULE", "HELP"),
                no.cmd("MODULE", "LOAD"), no.cmd("MODULE", "NOPE")]
        local = make("--enable-module-command", "local", "--protected-mode", "no")
        out += [Raw(local.port).cmd("MODULE", "UNLOAD", "nomod"),
                remote_raw(local.port).cmd("MODULE", "UNLOAD", "nomod"),
                remote_raw(local.port).cmd("MODULE", "LIST")]
        yes = Raw(make("--enable-module-command", "yes").port)
        out += [yes.cmd("MODULE", "LOAD", "/nonexistent/mod.so"), yes.cmd("MODULE", "UNLOAD", "nomod"),
                yes.cmd("CONFIG", "GET", "enable-module-command"),
                yes.cmd("CONFIG", "SET", "enable-module-command", "no")]
        results.append(out)
    assert results[0] == results[1]
    assert results[0][0] == not_allowed("MODULE", "enable-module-command")
    assert results[0][3] == []


def test_enable_protected_configs(make_sardine, make_oracle, tmp_path):
    for make in (make_sardine, make_oracle):
        local = make("--enable-protected-configs", "local", "--protected-mode", "no")
        d = local.client().config_get("dir")["dir"]
        assert remote_raw(local.port).cmd("CONFIG", "SET", "dir", d) == Err(
            "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config")
        assert Raw(local.port).cmd("CONFIG", "SET", "dir", d) == "OK"


# ---- rename-command -------------------------------------------------------------------------------------

def write_conf(tmp_path, text):
    p = tmp_path / "s.conf"
    p.write_text(text)
    return str(p)


class ConfServer(Server):
    """A harness Server whose first argument is a config file (Server puts its options first)."""

    def __init__(self, argv0, kind, conf):
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix=f"{kind}-")
        self.port = free_port()
        self.logfile = os.path.join(self.dir, "server.log")
        self.argv = [argv0, conf, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir, "--save", ""]
        self.log = open(self.logfile, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()


def test_rename_command(tmp_path):
    conf = write_conf(tmp_path, 'rename-command CONFIG XCONF\nrename-command FLUSHALL ""\nrename-command cluster ""\n'
                                'rename-command xconf yconf\n')
    outs = []
    for argv0, kind in ((SARDINE_SERVER, "sardine"), (REDIS_SERVER, "redis")):
        s = ConfServer(argv0, kind, conf)
        try:
            c = Raw(s.port)
            outs.append([c.cmd("CONFIG", "GET", "maxmemory"), c.cmd("XCONF", "GET", "maxmemory"),
                         c.cmd("YCONF", "GET", "maxmemory"), c.cmd("FLUSHALL"), c.cmd("SET", "k", "v"),
                         c.cmd("GET", "k"), c.cmd("COMMAND", "INFO", "flushall")])
        finally:
            s.stop()
    assert outs[0] == outs[1]
    assert outs[0][2] == [b"maxmemory", b"0"]
    assert outs[0][3] == Err("ERR unknown command 'FLUSHALL', with args beginning with: ")


@pytest.mark.parametrize("line,msg", [
    ("rename-command NOSUCHCMD x", "No such command in rename-command"),
    ("rename-command GET SET", "Target command name already exists"),
    ("rename-command GET", "Bad directive or wrong number of arguments"),
])
def test_rename_command_errors(tmp_path, line, msg):
    conf = write_conf(tmp_path, line + "\n")
    for argv0 in (SARDINE_SERVER, REDIS_SERVER):
        p = subprocess.run([argv0, conf, "--port", str(free_port()), "--dir", str(tmp_path), "--save", ""],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode != 0
        out = p.stdout + p.stderr
        assert "FATAL CONFIG FILE ERROR" in out and msg in out and line in out, (argv0, out)
