"""Local fixtures for the server-core integration suite.

When SARDINE_SERVER points at a real redis-server (how this suite is validated), the
server is started with the flags the Debian build needs for the tests to be meaningful:
no RDB snapshots and the DEBUG command enabled (Redis 7 blocks DEBUG by default).
Sardine itself is started exactly as tests/conftest.py does.
"""
import os
import sys

import pytest

from harness import REDIS_SERVER, ROOT, SARDINE_CLI, SARDINE_SERVER, Server, free_port  # noqa: F401  (re-exported)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sardine_resp import Raw  # noqa: E402

SERVER_BIN = os.environ.get("SARDINE_SERVER", "")
IS_REAL_REDIS = os.path.basename(SERVER_BIN).startswith("redis-server")
REDIS_ONLY_ARGS = ("--save", "", "--appendonly", "no", "--enable-debug-command", "yes")


@pytest.fixture
def make_sardine(make_sardine):
    def make(*args):
        if IS_REAL_REDIS:
            args = REDIS_ONLY_ARGS + tuple(args)
        return make_sardine(*args)
    return make


@pytest.fixture
def raw(sardine):
    """Factory: raw(server=None) -> a Raw RESP connection (closed at teardown)."""
    conns = []

    def make(server=None, **kw):
        c = Raw((server or sardine).port, **kw)
        conns.append(c)
        return c

    yield make
    for c in conns:
        c.close()


@pytest.fixture
def c(sardine):
    """A raw RESP2 connection to a fresh sardine: replies keep their exact types (see sardine_resp)."""
    conn = Raw(sardine.port)
    yield conn
    conn.close()
