"""Shared pytest fixtures: each test starts real server binaries on free loopback ports.

- `sardine`  : a fresh sardine-server (binary from $SARDINE_SERVER, default build/sardine-server).
- `oracle`   : a fresh Debian redis-server, the reference for differential tests.
- `make_sardine(*args)` / `make_oracle(*args)`: factories for servers with extra config arguments.
Each yields a `Server` (tests/harness.py) with .port, .dir, .client(**kw) and .stop().
"""
import pytest

from harness import REDIS_SERVER, ROOT, SARDINE_CLI, SARDINE_SERVER, Server, free_port  # noqa: F401


@pytest.fixture
def make_sardine():
    servers = []

    def make(*args):
        s = Server(SARDINE_SERVER, args, "sardine")
        servers.append(s)
        return s

    yield make
    for s in servers:
        rc = s.proc.poll()
        s.stop()
        # A sardine that died on its own during the test is a failure (crash, sanitizer report).
        assert rc is None or rc == 0, f"sardine-server exited with {rc}"


@pytest.fixture
def make_oracle():
    servers = []

    def make(*args):
        s = Server(REDIS_SERVER, args, "redis")
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.stop()


@pytest.fixture
def sardine(make_sardine):
    return make_sardine()


@pytest.fixture
def oracle(make_oracle):
    return make_oracle()


@pytest.fixture
def r(sardine):
    """A redis-py client (bytes replies) connected to a fresh sardine-server."""
    c = sardine.client()
    yield c
    c.close()


# Tests for features that have not landed yet live in tests/pending/ (see its README).
collect_ignore = ["pending"]
