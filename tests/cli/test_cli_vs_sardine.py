"""sardine-cli against sardine-server: the same checks as against redis-server,
limited to what the server implements so far (strings, keys, SCAN, MEMORY
USAGE, INFO, COMMAND DOCS).  Both clients run against the same sardine-server,
so the comparison is about the client.  Skipped when the server binary is not
built; SARDINE_CLI_VS_SARDINE=0 turns the module off."""
import os

import pytest

from clihelp import cli, ref
from conftest import SARDINE_SERVER

pytestmark = pytest.mark.skipif(
    os.environ.get("SARDINE_CLI_VS_SARDINE") == "0" or not os.path.exists(SARDINE_SERVER),
    reason="sardine-server not built (or SARDINE_CLI_VS_SARDINE=0)")


def same(server, *args, **kw):
    a, b = cli(server, *args, **kw), ref(server, *args, **kw)
    assert a[:2] == b[:2], (a, b)
    return a


@pytest.mark.parametrize("mode", [[], ["--no-raw"], ["--csv"], ["-3", "--no-raw"]])
def test_commands_same_as_redis_cli(sardine, mode):
    r = sardine.client()
    r.set("s", "hello world")
    r.set("n", "41")
    r.set("bin", b"\x00\xff\n\"")
    for cmd in (["get", "s"], ["get", "bin"], ["get", "nope"], ["mget", "s", "nope", "n"], ["incr", "s"],
                ["strlen", "s"], ["exists", "s", "n"], ["ping"], ["echo", "a b"], ["dbsize"], ["nosuch"]):
        same(sardine, *mode, *cmd)


def test_pipe_and_import(sardine, tmp_path):
    stream = b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\nk%d\r\n$1\r\nv\r\n" % (len(b"k%d" % i), i) for i in range(5000))
    stream += b"*2\r\n$4\r\nINCR\r\n$2\r\nk1\r\n"
    rc, out, err = cli(sardine, "--pipe", input=stream)
    assert rc == 1 and out.endswith(b"errors: 1, replies: 5001\n"), err
    assert b"  35001: ERR value is not an integer or out of range" in err
    assert sardine.client().dbsize() == 5000
    f = tmp_path / "d.csv"
    f.write_text('id,v\na,1\nb,"x, ""y"""\n')
    rc, out, err = cli(sardine, "--import", f, "--header", "--cmd", "SET key:{id} {v}")
    assert rc == 0 and sardine.client().get("key:b") == b'x, "y"'


def test_diagnostics_same_as_redis_cli(sardine):
    r = sardine.client()
    for i in range(300):
        r.set(f"key:{i}", "x" * i)
    for args in (["--scan"], ["--scan", "--pattern", "key:1*"], ["--bigkeys"], ["--memkeys"]):
        rc, out, err = same(sardine, *args)
        assert rc == 0 and out


def test_latency_and_help(sardine):
    rc, out, err = cli(sardine, "--latency", "-i", "0.1")
    assert rc == 0 and len(out.split()) == 4
    rc, out, err = same(sardine, input=b"help get\n")
    assert b"summary:" in out


def test_interactive(sardine, tmp_path):
    from test_cli_repl import Term
    t = Term(["-p", sardine.port], dict(os.environ, SARDINECLI_HISTFILE=str(tmp_path / "h"), TERM="xterm"))
    try:
        prompt = f"127.0.0.1:{sardine.port}> "
        t.expect(prompt)
        t.send("set k 'a b'\r")
        t.expect("OK")
        t.send("ECH\t")  # completed from sardine's COMMAND DOCS
        t.expect("O")
        t.send("hello\r")
        t.expect('"hello"')
        t.send("get k\r")
        t.expect('"a b"')
        t.send("help incr\r")
        t.expect("summary:")
        t.send("quit\r")
        assert t.p.wait(10) == 0
    finally:
        t.close()
