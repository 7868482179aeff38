"""sardine-cli over TLS (--tls --cacert --cacertdir --cert --key --sni --insecure): the same output and exit
status as redis-cli with the same options, against a redis-server listening with TLS."""
import shutil
import tempfile

import pytest

from clihelp import cli, ref
from harness import free_port
from tlscerts import make_certs, server_args

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")


@pytest.fixture(scope="module")
def certs():
    d = tempfile.mkdtemp(prefix="sardine-cli-tls-")
    yield make_certs(d)
    shutil.rmtree(d, ignore_errors=True)


class TlsPort:
    def __init__(self, port):
        self.port = port


@pytest.fixture
def tls_oracle(make_oracle, certs):
    port = free_port()
    s = make_oracle(*server_args(certs, port, "--tls-auth-clients", "optional"))
    s.client().set("k", "hello")
    return TlsPort(port)


def same(server, *args, **kw):
    a = cli(server, *args, **kw)
    b = ref(server, *args, **kw)
    assert a[0] == b[0], (a, b)
    assert a[1] == b[1], (a, b)
    return a


def test_one_shot_commands_over_tls(tls_oracle, certs):
    opts = ["--tls", "--cacert", certs.ca, "--cert", certs.client_cert, "--key", certs.client_key]
    for cmd in (["ping"], ["get", "k"], ["strlen", "k"], ["nosuch"], ["lrange", "k", "0", "1"], ["echo", "a\nb"]):
        same(tls_oracle, *opts, *cmd)
    assert cli(tls_oracle, *opts, "get", "k")[1] == b"hello\n"


def test_tls_options(tls_oracle, certs):
    variants = [
        ["--tls", "--cacert", certs.ca],                                     # no client certificate (optional)
        ["--tls", "--cacertdir", certs.cadir, "--cert", certs.client_cert, "--key", certs.client_key],
        ["--tls", "--insecure"],                                             # no CA at all, not verified
        ["--tls", "--cacert", certs.ca, "--sni", "localhost"],
    ]
    for v in variants:
        rc, out, _ = same(tls_oracle, *v, "get", "k")
        assert (rc, out) == (0, b"hello\n"), v


def test_interactive_lines_over_tls(tls_oracle, certs):
    opts = ["--tls", "--cacert", certs.ca]
    same(tls_oracle, *opts, input=b"ping\nset a 1\nget a\nget k\n")


def test_big_reply_over_tls(make_oracle, certs):
    port = free_port()
    s = make_oracle(*server_args(certs, port, "--tls-auth-clients", "no"))
    s.client().set("big", "x" * 3_000_000)
    rc, out, _ = same(TlsPort(port), "--tls", "--cacert", certs.ca, "strlen", "big")
    assert out == b"3000000\n"
    rc, out, _ = cli(TlsPort(port), "--tls", "--cacert", certs.ca, "get", "big")
    assert out == b"x" * 3_000_000 + b"\n"


def test_tls_failures(tls_oracle, make_oracle, certs):
    # an unknown CA: the server's certificate is not verified
    a = cli(tls_oracle, "--tls", "--cacert", certs.other_client_cert, "ping")
    b = ref(tls_oracle, "--tls", "--cacert", certs.other_client_cert, "ping")
    assert a[0] == b[0] != 0 and a[1] == b[1] == b""
    assert b"certificate verify failed" in a[2]
    # a server that requires a client certificate
    port = free_port()
    make_oracle(*server_args(certs, port))
    a = cli(TlsPort(port), "--tls", "--cacert", certs.ca, "ping")
    b = ref(TlsPort(port), "--tls", "--cacert", certs.ca, "ping")
    assert a[0] == b[0] != 0 and b"PONG" not in a[1]
    # a missing client key file
    rc, out, err = cli(tls_oracle, "--tls", "--cacert", certs.ca, "--cert", certs.client_cert, "--key", "/nonexistent",
                       "ping")
    assert rc != 0 and b"Could not negotiate a TLS connection: Invalid private key" in err
