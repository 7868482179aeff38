"""Differential: the commands a write propagates are the ones redis-server 7.0 propagates.

Redis's stream is read as a replica reads it (SYNC, skip the RDB payload, then the command stream);
Sardine's with DEBUG PROPAGATION-LOG.  The same deterministic sequence goes to both, and the two streams
must be the same commands, once absolute times (which depend on the clock) are replaced by a token.
Where Sardine deliberately propagates another, equivalent form, the case says so and why.
"""
import re
import socket
import time

import pytest

from harness import parse_commands
from propagation_cases import CASES

MS = re.compile(rb"^1\d{12}$")        # an absolute time in ms (PXAT, PEXPIREAT, TIME, stream IDs' ms part)
STREAM_ID = re.compile(rb"^1\d{12}-\d+$")


class ReplicaStream:
    """A replication link to redis-server: SYNC, then the commands it propagates."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self.s.sendall(b"SYNC\r\n")
        self._skip_rdb()

    def _fill(self):
        data = self.s.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _skip_rdb(self):
        line = self._line()
        while line == b"":  # keepalive newlines while the RDB is produced
            line = self._line()
        assert line.startswith(b"$"), line
        if line.startswith(b"$EOF:"):
            mark = line[5:]
            while mark not in self.buf:
                self._fill()
            self.buf = self.buf.split(mark, 1)[1]
        else:
            n = int(line[1:])
            while len(self.buf) < n:
                self._fill()
            self.buf = self.buf[n:]

    def commands(self, quiet=0.3):
        """Every command received until nothing arrives for `quiet` seconds."""
        out = []
        self.s.settimeout(quiet)
        while True:
            try:
                while self.buf.startswith(b"*"):
                    cmd = self._parse_one()
                    if cmd is None:
                        break
                    out.append(cmd)
                self._fill()
            except (socket.timeout, TimeoutError):
                return out

    def _parse_one(self):
        head, sep, rest = self.buf.partition(b"\r\n")
        if not sep:
            return None
        n, args, pos = int(head[1:]), [], len(head) + 2
        for _ in range(n):
            end = self.buf.find(b"\r\n", pos)
            if end < 0:
                return None
            ln = int(self.buf[pos + 1:end])
            if len(self.buf) < end + 2 + ln + 2:
                return None
            args.append(self.buf[end + 2:end + 2 + ln])
            pos = end + 2 + ln + 2
        self.buf = self.buf[pos:]
        return args

    def close(self):
        self.s.close()


def normalise(cmds):
    """(db, command) pairs: SELECT folded into the db, absolute times and stream IDs made tokens."""
    out, db = [], b"0"
    for c in cmds:
        name = c[0].upper()
        if name in (b"PING", b"REPLCONF"):
            continue
        if name == b"SELECT":
            db = c[1]
            continue
        out.append((db, [name] + [b"<ms>" if MS.match(a) else b"<id>" if STREAM_ID.match(a) else a for a in c[1:]]))
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_propagated_commands(make_sardine, make_oracle, name):
    setup, cmds, note, *extra = CASES[name]
    extra = extra[0] if extra else []
    sardine = make_sardine("--lazyfree-lazy-expire", "no", "--lazyfree-lazy-eviction", "no",
                           "--lazyfree-lazy-server-del", "no", "--lazyfree-lazy-user-del", "no")
    redis = make_oracle()
    rs, ss = redis.client(), sardine.client()
    for r in (rs, ss):
        r.response_callbacks.clear()
        for c in setup:
            r.execute_command(*c)
    link = ReplicaStream(redis.port)
    link.commands(quiet=0.2)  # what setup propagated is not compared
    log = f"{sardine.dir}/prop.resp"
    ss.execute_command("DEBUG", "PROPAGATION-LOG", log)
    for c in cmds:
        if c[0] == "SLEEP-MS":
            time.sleep(int(c[1]) / 1000)
            continue
        replies = []
        for r in (rs, ss):
            try:
                replies.append(r.execute_command(*c))
            except Exception as e:  # noqa: BLE001 - the error text is compared
                replies.append(("error", str(e)))
        if c[0].upper() == "SPOP":  # the same members, in each server's own set order
            replies = [sorted(x) if isinstance(x, list) else x for x in replies]
        assert replies[0] == replies[1], (c, replies)
    time.sleep(0.05)
    from_redis = normalise(link.commands())
    link.close()
    ss.execute_command("DEBUG", "PROPAGATION-LOG", "OFF")
    with open(log, "rb") as f:
        from_sardine = normalise(parse_commands(f.read()))
    # Commands Sardine propagates on purpose where Redis 7.0 does not (each case says why).
    from_sardine = [c for c in from_sardine if not any(c[1][:len(e)] == e for e in extra)]
    shown = "\n".join(["sardine:"] + [repr(c) for c in from_sardine] + ["redis:"] + [repr(c) for c in from_redis])
    assert from_sardine == from_redis, f"{note}\n{shown}"
