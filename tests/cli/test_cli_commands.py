"""One-shot commands: sardine-cli's output must match redis-cli's byte for byte
for every reply type and output mode, against a real redis-server."""
import pytest

from clihelp import cli, ref

MODES = [[], ["--no-raw"], ["--csv"], ["--raw"]]


def same(server, *args, between=None, **kw):
    a = cli(server, *args, **kw)
    if between:
        between()
    b = ref(server, *args, **kw)
    assert a[0] == b[0], (a, b)
    assert a[1] == b[1], (a, b)
    return a


@pytest.fixture
def data(oracle):
    c = oracle.client()
    c.set("s", "hello world")
    c.set("bin", b"\x00\x01\xff\n\t\"'\\ end")
    c.set("empty", "")
    c.rpush("l", "a", "b c", 'q"x', b"\x01\xff\n")
    c.hset("h", mapping={"f1": "v1", "f2": "2"})
    c.sadd("set", "m1")
    c.zadd("z", {"one": 1, "two": 2.5})
    for i in range(12):
        c.rpush("long", str(i))
    return oracle


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cmd", [
    ["get", "s"], ["get", "bin"], ["get", "empty"], ["get", "missing"],
    ["lrange", "l", "0", "-1"], ["lrange", "missing", "0", "-1"], ["lrange", "long", "0", "-1"],
    ["hgetall", "h"], ["smembers", "set"], ["zrange", "z", "0", "-1", "withscores"],
    ["incr", "s"], ["nosuchcommand", "x"], ["ping"], ["echo", "a\nb"], ["dbsize"],
    ["eval", "return {1,{2,{3,'x'}},{},'y',{err='bad'}}", "0"],
    ["info", "keyspace"], ["client", "list", "id", "1"],
])
def test_resp2_output(data, mode, cmd):
    same(data, *mode, *cmd)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ptype", ["string", "integer", "double", "null", "array", "set", "map",
                                   "verbatim", "true", "false", "push"])
def test_resp3_types(oracle, mode, ptype):
    same(oracle, "-3", *mode, "debug", "protocol", ptype)


@pytest.mark.parametrize("mode", MODES)
def test_resp3_nested_and_empty(data, mode):
    same(data, "-3", *mode, "hgetall", "h")
    same(data, "-3", *mode, "hgetall", "missing")
    same(data, "-3", *mode, "smembers", "missing")
    same(data, "-3", *mode, "zrange", "z", "0", "-1", "withscores")
    same(data, "-3", *mode, "config", "get", "maxmemory-polic*")


def test_show_pushes(oracle):
    same(oracle, "-3", "--show-pushes", "yes", "debug", "protocol", "push")
    same(oracle, "-3", "--show-pushes", "yes", "--no-raw", "debug", "protocol", "push")


@pytest.mark.parametrize("mode", [[], ["--no-raw"], ["--csv"]])
def test_error_exit_code(data, mode):
    rc, out, err = same(data, "-e", *mode, "incr", "s")
    assert rc == 1 and err == b"ERR value is not an integer or out of range\n"
    rc, out, err = same(data, *mode, "incr", "s")
    assert rc == 0


def test_repeat_interval_db_stdin(data):
    c = data.client()
    rc, out, _ = same(data, "-r", "3", "incr", "counter", between=lambda: c.delete("counter"))
    assert out == b"1\n2\n3\n"
    same(data, "-r", "2", "-i", "0.01", "--no-raw", "incr", "counter2", between=lambda: c.delete("counter2"))
    same(data, "-n", "2", "--no-raw", "set", "k", "v")
    assert data.client(db=2).get("k") == b"v"
    same(data, "-n", "2", "get", "k")
    same(data, "-x", "set", "fromstdin", input=b"line1\nline2\x00\xff")
    assert data.client().get("fromstdin") == b"line1\nline2\x00\xff"
    same(data, "-u", f"redis://127.0.0.1:{data.port}/2", "get", "k")


def test_delimiters(data):
    same(data, "-d", ",", "lrange", "l", "0", "-1")
    same(data, "-D", "|", "-r", "2", "get", "s")


def test_commands_from_stdin_lines(data):
    rc, out, _ = same(data, input=b"set a 1\nget a\nincr a\nlrange l 0 -1\n")
    assert out == b"OK\n1\n2\na\nb c\nq\"x\n\x01\xff\n\n"
    same(data, "--no-raw", input=b'set "quoted key" "a b"\nget "quoted key"\n')


def test_connection_refused():
    from conftest import free_port
    port = free_port()
    a = cli(None, "-p", port, "ping")
    b = ref(None, "-p", port, "ping")
    assert a == b and a[0] == 1 and b"Could not connect" in a[2]


def test_auth(make_oracle):
    srv = make_oracle("--requirepass", "sekret")
    for args in (["-a", "sekret"], ["--pass", "sekret"], ["--user", "default", "-a", "sekret"],
                 ["-u", f"redis://default:sekret@127.0.0.1:{srv.port}"]):
        a = cli(srv, *args, "ping")
        b = ref(srv, *args, "ping")
        assert a == b and a[1] == b"PONG\n" and b"Warning: Using a password" in a[2]
    # redis-cli 7.0 sends AUTH "" sekret for this URI form; we treat it as a password alone
    a = cli(srv, "--no-auth-warning", "-u", f"redis://:sekret@127.0.0.1:{srv.port}", "ping")
    assert a == (0, b"PONG\n", b"")
    a = cli(srv, "-a", "sekret", "--no-auth-warning", "ping")
    assert a == (0, b"PONG\n", b"")
    a = cli(srv, "ping", env={"REDISCLI_AUTH": "sekret"})
    assert a == (0, b"PONG\n", b"")
    a, b = cli(srv, "-a", "wrong", "ping"), ref(srv, "-a", "wrong", "ping")
    assert a[1] == b[1] and b"AUTH failed" in a[2]


def test_unknown_option():
    a = cli(None, "--bogus")
    b = ref(None, "--bogus")
    assert a[0] == b[0] == 1 and a[2] == b[2]


def test_unix_socket(make_oracle, tmp_path):
    sock = str(tmp_path / "r.sock")
    srv = make_oracle("--unixsocket", sock)
    assert cli(None, "-s", sock, "ping") == (0, b"PONG\n", b"")


def test_shutdown_is_success(make_oracle):
    for binary in (cli, ref):
        srv = make_oracle()
        assert binary(srv, "shutdown", "nosave") == (0, b"", b"")
        srv.proc.wait(10)


def test_eval_file(oracle, tmp_path):
    f = tmp_path / "s.lua"
    f.write_text("return {KEYS[1], KEYS[2], ARGV[1], #ARGV}")
    for mode in ([], ["--no-raw"]):
        a = cli(oracle, *mode, "--eval", f, "k1", "k2", ",", "a1", "a2")
        assert a == ref(oracle, *mode, "--eval", f, "k1", "k2", ",", "a1", "a2")
        assert b"k1" in a[1] and b"a1" in a[1]
    assert cli(oracle, "--eval", f, "k1")[:2] == ref(oracle, "--eval", f, "k1")[:2]


@pytest.mark.parametrize("mode", [["--json"], ["--quoted-json"], ["-2", "--json"]])
def test_json_output(data, mode):
    for cmd in (["hgetall", "h"], ["lrange", "l", "0", "-1"], ["get", "bin"], ["get", "missing"], ["incr", "s"],
                ["zrange", "z", "0", "-1", "withscores"], ["eval", "return {1,{2,'x'},{}}", "0"]):
        same(data, *mode, *cmd)
    for ptype in ("double", "true", "map", "set", "verbatim", "null"):
        same(data, *mode, "debug", "protocol", ptype)
