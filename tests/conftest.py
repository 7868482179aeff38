"""Shared pytest fixtures: each test starts real server binaries on free loopback ports.

- `sardine`  : a fresh sardine-server (binary from $SARDINE_SERVER, default build-asan/sardine-server).
- `oracle`   : a fresh Debian redis-server, the reference for differential tests; the first one started
               is checked to be Redis 7.0.x (INFO server), otherwise every test using it fails loudly.
- `make_sardine(*args)` / `make_oracle(*args)`: factories for servers with extra config arguments.
Each yields a `Server` (tests/harness.py) with .port, .dir, .client(**kw) and .stop().

The session header names the binaries in use and their versions; when one of them is missing the session
stops before running anything, with one message saying how to build it or which variable to set.
"""
import os

import pytest

from harness import (DEFAULT_BUILD, REDIS_SERVER, ROOT, SARDINE_CLI, SARDINE_SERVER, Server,  # noqa: F401
                     binary_version, check_oracle, free_port, missing_binaries)


def binaries_in_use():
    lines = []
    for what, path in (("sardine-server", SARDINE_SERVER), ("sardine-cli", SARDINE_CLI),
                       ("oracle", REDIS_SERVER)):
        state = binary_version(path) if os.access(path, os.X_OK) else "MISSING"
        lines.append(f"{what}: {path} ({state})")
    return lines


def pytest_report_header(config):
    return binaries_in_use()


def pytest_sessionstart(session):
    # -q hides the report header; the binaries under test are worth a line even then.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and session.config.option.verbose < 0:
        for line in binaries_in_use():
            reporter.write_line(line)


def pytest_collection_finish(session):
    if session.config.option.collectonly or not session.items:
        return
    cli_dir = os.path.join(ROOT, "tests", "cli") + os.sep
    need_cli = any(str(item.fspath).startswith(cli_dir) for item in session.items)
    missing = missing_binaries(need_cli)
    if missing:
        what = ", ".join(f"{var}={path}" for var, path in missing)
        pytest.exit(f"binary under test not found: {what}. Build it (`make SAN=1 -j2 all` for the default "
                    f"{DEFAULT_BUILD}/, `make -j2 all` for build/), or set SARDINE_SERVER/SARDINE_CLI, or "
                    f"run `make pytest SARDINE_BUILD=build`.", returncode=4)


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
        log = s.read_log() if rc not in (None, 0) else ""
        s.stop()
        # A sardine that died on its own during the test is a failure (crash, sanitizer report).
        assert rc is None or rc == 0, f"sardine-server exited with {rc}; the end of its log:\n{log[-3000:]}"


@pytest.fixture
def make_oracle():
    servers = []

    def make(*args):
        s = Server(REDIS_SERVER, args, "redis")
        servers.append(s)
        check_oracle(s)
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
