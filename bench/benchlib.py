"""benchlib: what the side-by-side benchmarks share: a minimal RESP client over one socket (no redis-py, so
the client's cost stays small and the same for both servers), free loopback ports, a process's RSS, logging
to stderr.  Standard library only."""
import socket
import sys
import time


def log(msg):
    print(time.strftime("%H:%M:%S ") + msg, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def enc(*args):
    """One command in RESP (bytes, str or numbers as arguments)."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += [b"$%d\r\n" % len(a), a, b"\r\n"]
    return b"".join(out)


def rss_of(pid):
    """VmRSS of a process, bytes (0 if the kernel does not say)."""
    with open("/proc/%d/status" % pid) as f:
        for l in f:
            if l.startswith("VmRSS:"):
                return int(l.split()[1]) * 1024
    return 0


class Conn:
    """A connection that reads replies made of one line or one bulk string (enough for SET/GET/INFO/PING)."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(1 << 16)
            if not d:
                raise ConnectionError("server closed the connection")
            self.buf += d
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def reply(self):
        ln = self.line()
        if ln[:1] == b"$":
            n = int(ln[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                d = self.s.recv(1 << 16)
                if not d:
                    raise ConnectionError("server closed the connection")
                self.buf += d
            v, self.buf = self.buf[:n], self.buf[n + 2:]
            return v
        if ln[:1] == b"-":
            raise RuntimeError(ln.decode())
        return ln[1:]

    def cmd(self, *args):
        self.s.sendall(enc(*args))
        return self.reply()

    def pipeline(self, cmds, chunk=20000):
        """Sends encoded commands in chunks; replies must be single lines (+OK, :n)."""
        for i in range(0, len(cmds), chunk):
            part = cmds[i:i + chunk]
            self.s.sendall(b"".join(part))
            for _ in part:
                ln = self.line()
                if ln[:1] == b"-":
                    raise RuntimeError(ln.decode())

    def expect_ok(self, n):
        """Reads n '+OK' replies."""
        want = 5 * n
        while len(self.buf) < want:
            d = self.s.recv(1 << 20)
            if not d:
                raise ConnectionError("server closed the connection")
            self.buf += d
        got, self.buf = self.buf[:want], self.buf[want:]
        if got != b"+OK\r\n" * n:
            raise RuntimeError("unexpected reply: %r" % got[:200])

    def info(self, section="memory"):
        txt = self.cmd("INFO", section).decode()
        return dict(l.split(":", 1) for l in txt.split("\r\n") if ":" in l)

    def used_memory(self):
        return int(self.info("memory")["used_memory"])
