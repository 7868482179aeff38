"""The same client checks against sardine-server.  Opt-in while the server is
being written: SARDINE_CLI_VS_SARDINE=1 (and a built $SARDINE_SERVER)."""
import os

import pytest

from clihelp import cli, ref
from conftest import SARDINE_SERVER

pytestmark = pytest.mark.skipif(
    os.environ.get("SARDINE_CLI_VS_SARDINE") != "1" or not os.path.exists(SARDINE_SERVER),
    reason="set SARDINE_CLI_VS_SARDINE=1 to run sardine-cli against sardine-server")


@pytest.mark.parametrize("mode", [[], ["--no-raw"], ["--csv"]])
def test_commands_same_as_redis_cli(sardine, mode):
    r = sardine.client()
    r.set("s", "hello")
    r.rpush("l", "a", "b c")
    for cmd in (["get", "s"], ["get", "nope"], ["lrange", "l", "0", "-1"], ["incr", "s"], ["ping"]):
        assert cli(sardine, *mode, *cmd)[:2] == ref(sardine, *mode, *cmd)[:2]


def test_pipe_and_import(sardine, tmp_path):
    stream = b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\nk%d\r\n$1\r\nv\r\n" % (len(b"k%d" % i), i) for i in range(5000))
    rc, out, err = cli(sardine, "--pipe", input=stream)
    assert rc == 0 and out.endswith(b"errors: 0, replies: 5000\n"), err
    f = tmp_path / "d.csv"
    f.write_text("a,1\nb,\"x, y\"\n")
    rc, out, err = cli(sardine, "--import", f, "--cmd", "SET {1} {2}")
    assert rc == 0 and sardine.client().get("b") == b"x, y"
