"""A real client library: node-redis v4 (the npm `redis` package, vendored in tests/node/node_modules so
that CI needs no npm registry) runs tests/node/pubsub_client.js against the server: channel and
pattern subscriptions, PUBLISH and PUBSUB NUMSUB/NUMPAT, then CLIENT KILL of the subscriber, which the
library reconnects and subscribes again, UNSUBSCRIBE/PUNSUBSCRIBE and PING after subscriber mode.
Needs `node` (Debian's nodejs, scripts/install-deps.sh)."""
import os
import shutil
import subprocess

import pytest

from harness import ROOT

NODE = shutil.which("node") or shutil.which("nodejs")


@pytest.mark.skipif(not NODE, reason="node is not installed (apt-get install nodejs)")
def test_node_redis_pubsub_and_reconnect(sardine):
    script = os.path.join(ROOT, "tests", "node", "pubsub_client.js")
    out = subprocess.run([NODE, script, str(sardine.port)], capture_output=True, timeout=60,
                         cwd=os.path.dirname(script))
    text = (out.stdout + out.stderr).decode(errors="replace")
    assert out.returncode == 0 and text.strip().endswith("ok"), text
