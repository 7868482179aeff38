#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from the test suites' inputs.

Every command the integration tests send with all-literal arguments
(c.cmd("ZADD", "z", "1", "a"), r.execute_command(...), and the (args, expected)
tuples of their check tables) is collected per test function.  From those:
  commands/  one script per test function (allow-listed commands, quoted lines)
  request/   the same commands as RESP, inline, and pipelined byte streams
  net/       whole sessions (RESP) for the network fuzzer
  config/    sardine.conf, one file per directive line of it, and the test configs
Run it again after adding tests; files are named by content hash, so it only adds.
"""
import ast
import hashlib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
FAMILIES = ("SET", "GET", "ZADD", "ZRANGE", "ZUNION", "ZINTER", "XADD", "XRANGE", "XTRIM", "XGROUP", "XINFO",
            "XCLAIM", "XAUTOCLAIM", "XPENDING", "XREADGROUP", "GEO", "SORT", "BIT", "CLIENT", "CONFIG", "LPUSH",
            "RPUSH", "SADD", "HSET", "MULTI", "EXEC")


def lit(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes, int, float)):
        v = node.value
        return v if isinstance(v, bytes) else str(v).encode()
    return None


def commands_in(fn):
    out = []
    for node in ast.walk(fn):
        args = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in ("cmd", "execute_command"):
            args = node.args
        elif isinstance(node, ast.Tuple) and node.elts and isinstance(node.elts[0], ast.Tuple):
            args = node.elts[0].elts
        if not args or any(isinstance(a, ast.Starred) for a in args):
            continue
        vals = [lit(a) for a in args]
        if None in vals or not vals[0].isalpha() and b"_" not in vals[0]:
            continue
        out.append((getattr(node, "lineno", 0), vals))
    out.sort(key=lambda x: x[0])
    return [v for _, v in out]


def quote(b):
    if b and re.fullmatch(rb"[A-Za-z0-9_.:+\-*#$|/@,]+", b):
        return b
    return b'"' + b"".join(bytes([c]) if 32 <= c < 127 and c not in b'"\\' else b"\\x%02x" % c for c in b) + b'"'


def resp(argv):
    return b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)


def put(target, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    tests = os.path.join(ROOT, "tests", "integration")
    scripts = []
    for fn in sorted(os.listdir(tests)):
        if not fn.startswith("test_") or not fn.endswith(".py"):
            continue
        tree = ast.parse(open(os.path.join(tests, fn)).read())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                cmds = [c for c in commands_in(node) if len(c) <= 64 and sum(map(len, c)) < 2048]
                if cmds:
                    scripts.append(cmds)
    for cmds in scripts:
        rich = [c for c in cmds if c[0].upper().startswith(tuple(f.encode() for f in FAMILIES))]
        if rich:
            put("commands", b"\n".join(b" ".join(quote(a) for a in c) for c in rich[:64]) + b"\n")
        put("net", b"".join(resp(c) for c in cmds[:64]))
        head = cmds[:8]
        put("request", b"\x01" + b"".join(resp(c) for c in head))            # authenticated, one read
        put("request", b"\x2b" + b"".join(resp(c) for c in head))            # authenticated, split reads
        put("request", b"\x01" + b"".join(b" ".join(quote(a) for a in c) + b"\r\n" for c in head))
    conf = open(os.path.join(ROOT, "sardine.conf"), "rb").read() if os.path.exists(
        os.path.join(ROOT, "sardine.conf")) else b""
    if conf:
        put("config", conf)
        for line in conf.splitlines():
            s = line.lstrip(b"# ")
            if s and re.match(rb"[a-z][a-z0-9-]+ \S", s) and not line.startswith(b"# ") or line.startswith(b"# ") \
                    and re.match(rb"[a-z][a-z0-9-]+ [^ ]+$", s):
                put("config", s + b"\n")
    for extra in (b"port 0\nbind 127.0.0.1 -::1\n", b"save \"\"\nsave 900 1 300 10\n",
                  b"client-output-buffer-limit normal 0 0 0 replica 256mb 64mb 60\n", b"maxmemory 1gb\n",
                  b"include /nonexistent\nrename-command FLUSHALL \"\"\n", b"\"unbalanced\n", b"bogus 1\n"):
        put("config", extra)
    print("seeded:", {t: len(os.listdir(os.path.join(CORPUS, t))) for t in os.listdir(CORPUS)})


if __name__ == "__main__":
    sys.exit(main())
