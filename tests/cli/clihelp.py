"""Helpers shared by the sardine-cli tests: run sardine-cli or the reference
redis-cli with the same arguments and capture (returncode, stdout, stderr)."""
import os
import subprocess

from harness import ROOT, SARDINE_CLI  # noqa: F401  (one default build for every suite: tests/harness.py)
REDIS_CLI = "/usr/bin/redis-cli"


def run(binary, server, *args, input=None, timeout=30, env=None):
    argv = [binary]
    if server is not None:
        argv += ["-p", str(server.port)]
    argv += [str(a) for a in args]
    e = dict(os.environ)
    e.pop("REDISCLI_AUTH", None)
    if env:
        e.update(env)
    p = subprocess.run(argv, input=input, capture_output=True, timeout=timeout, env=e)
    return p.returncode, p.stdout, p.stderr


def cli(server, *args, **kw):
    return run(SARDINE_CLI, server, *args, **kw)


def ref(server, *args, **kw):
    return run(REDIS_CLI, server, *args, **kw)
