"""Local fixtures for the differential suite (sardine vs. the Debian redis-server oracle).

Reuses the raw RESP client from tests/integration/sardine_resp.py; the comparison machinery itself is
diffharness.py. When SARDINE_SERVER points at a real redis-server (validation mode), it gets the same
flags the oracle gets. SARDINE_DIFF_BREAK=reply|observe|state loads selfcheck.py, which makes the
sardine side lie so that the comparisons are seen to fail (see there).
"""
import os
import sys

import pytest

from harness import REDIS_SERVER, ROOT, SARDINE_CLI, SARDINE_SERVER, Server, free_port  # noqa: F401  (re-exported)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

SERVER_BIN = os.environ.get("SARDINE_SERVER", "")
IS_REAL_REDIS = os.path.basename(SERVER_BIN).startswith("redis-server")
REDIS_ONLY_ARGS = ("--save", "", "--appendonly", "no", "--enable-debug-command", "yes")

if os.environ.get("SARDINE_DIFF_BREAK"):
    import selfcheck  # noqa: E402

    selfcheck.install(os.environ["SARDINE_DIFF_BREAK"])


def pytest_report_header(config):
    if os.environ.get("SARDINE_DIFF_BREAK"):
        return [f"SARDINE_DIFF_BREAK={os.environ['SARDINE_DIFF_BREAK']}: the sardine side lies; tests SHOULD fail"]
    return []


@pytest.fixture
def make_sardine(make_sardine):
    def make(*args):
        if IS_REAL_REDIS:
            args = REDIS_ONLY_ARGS + tuple(args)
        return make_sardine(*args)
    return make
