"""Differential: the request framing, byte for byte, against the Debian redis-server 7.0 over raw
sockets. Each case sends some bytes followed by nothing, then collects what the server answers and
whether it closed the connection; both must match exactly. Covers multibulk counts <= 0 (ignored),
$-1 and bad lengths inside a multibulk, empty inline lines, \\n without \\r, quoting in inline
commands, oversized headers, the "Protocol error" texts, and the unauthenticated limits.
"""
import socket
import time

import pytest

CASES = [
    b"*0\r\nPING\r\n",
    b"*-1\r\nPING\r\n",
    b"*-2\r\nPING\r\n",
    b"*-100\r\nPING\r\n",
    b"*-9223372036854775808\r\nPING\r\n",
    b"*-9223372036854775809\r\nPING\r\n",
    b"*0\r\n*-2\r\n*1\r\n$4\r\nPING\r\n",
    b"*1\r\n$-1\r\nPING\r\n",
    b"*2\r\n$4\r\nECHO\r\n$-1\r\n",
    b"*1\r\n$-5\r\n",
    b"*1\r\n$0\r\n\r\n",
    b"*1\r\n$abc\r\n",
    b"*1\r\n$\r\n",
    b"*\r\nPING\r\n",
    b"*abc\r\nPING\r\n",
    b"*1x\r\n",
    b"* 1\r\n$4\r\nPING\r\n",
    b"*+1\r\n$4\r\nPING\r\n",
    b"*01\r\n$4\r\nPING\r\n",
    b"*1\r\n$ 4\r\nPING\r\n",
    b"*1\r\n$+4\r\nPING\r\n",
    b"*1\r\n$04\r\nPING\r\n",
    b"*1\r\nPING\r\n",
    b"*2\r\n$4\r\nECHO\r\n:5\r\n",
    b"*2147483647\r\n",
    b"*2147483648\r\nPING\r\n",
    b"*1\r\n$536870912\r\n",
    b"*1\r\n$536870913\r\n",
    b"*1\n$4\nPING\n",
    b"*2\r\n$4\r\nECHO\r\n$3\r\nabcXYPING\r\n",
    b"*1\r\n$4\r\nPING\r\n*1\r\n",
    b"*1\r\n$4\r\nPI",
    b"\r\n\r\nPING\r\n",
    b"\n\nPING\n",
    b"PING\n",
    b"   \r\n\t\r\nPING\r\n",
    b"\r\r\nPING\r\n",
    b"PING\rPING\r\n",
    b"ECHO a\rb\r\n",
    b"ECHO a\x00b\r\n",
    b"\x00\r\n",
    b"SET k \"b c\"\r\nGET k\r\n",
    b"ECHO \"unbalanced\r\nPING\r\n",
    b"ECHO 'unbalanced\r\n",
    b"ECHO \"a\"b\r\n",
    b"ECHO 'a'b\r\n",
    b"ECHO \"a\" b\r\n",
    b"ECHO 'x\\'y'\r\n",
    b"ECHO 'x\\ny'\r\n",
    b"ECHO \"\\x41\\x4g\\n\\t\\\\\\\"\"\r\n",
    b"ECHO \"\"\r\n",
    b"ECHO ''\r\n",
    b"ECHO \"a b\"  'c d'\r\n",
    b"echo lower\r\n",
    b"A" * 70000,
    b"*" + b"1" * 70000,
    b"*1\r\n$" + b"1" * 70000,
    b"*1\r\n$4\r\n" + b"A" * 70000,
]


def exchange(ports, data, wait=0.25):
    socks = []
    for p in ports:
        s = socket.create_connection(("127.0.0.1", p))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(data)
        socks.append(s)
    time.sleep(wait)
    out = []
    for s in socks:
        s.settimeout(0.05)
        got, closed = b"", False
        deadline = time.time() + 2
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            got += chunk
        s.close()
        out.append((got, closed))
    return out


@pytest.fixture
def pair(make_sardine, make_oracle):
    return make_sardine(), make_oracle()


def test_framing_matches_redis(pair):
    sard, orac = pair
    diffs = []
    for case in CASES:
        s, o = exchange([sard.port, orac.port], case)
        if s != o:
            diffs.append((case[:80], s, o))
    assert not diffs, "\n".join(repr(d) for d in diffs)


UNAUTH_CASES = [
    b"*10\r\n",
    b"*11\r\n",
    b"*1\r\n$16384\r\n",
    b"*1\r\n$16385\r\n",
    b"*2\r\n$4\r\nAUTH\r\n$16385\r\n",
    b"PING\r\n",
    b"*-2\r\nPING\r\n",
    b"AUTH wrong\r\nPING\r\n",
    b"AUTH secret\r\n*11\r\n",
    b"A" * 70000,
]


def test_unauthenticated_framing_matches_redis(make_sardine, make_oracle):
    sard, orac = make_sardine("--requirepass", "secret"), make_oracle("--requirepass", "secret")
    diffs = []
    for case in UNAUTH_CASES:
        s, o = exchange([sard.port, orac.port], case)
        if s != o:
            diffs.append((case[:80], s, o))
    assert not diffs, "\n".join(repr(d) for d in diffs)
