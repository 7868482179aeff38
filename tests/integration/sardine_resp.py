"""Raw-socket RESP2/RESP3 client used where redis-py hides details.

Replies are parsed to Python values that keep the RESP type visible:
  +simple      -> str
  -error       -> Err (compare with Err("ERR ...") or .msg)
  :int         -> int
  $bulk        -> bytes (None for $-1)
  *array       -> list (None for *-1)
RESP3:
  _            -> None          #t/#f -> bool      ,double -> Double(float)
  (bignum      -> BigNum(int)   =verbatim -> Verbatim(bytes, .fmt)
  %map         -> Map (a list of (key, value) pairs, .dict() for lookups)
  ~set         -> RSet(list)    >push -> Push(list)    |attr -> skipped (attached to next)
"""
import socket
import time


class Err:
    def __init__(self, msg):
        self.msg = msg if isinstance(msg, str) else msg.decode()

    @property
    def code(self):
        return self.msg.split(" ", 1)[0]

    def __eq__(self, other):
        return isinstance(other, Err) and other.msg == self.msg

    def __hash__(self):
        return hash(("Err", self.msg))

    def __repr__(self):
        return f"Err({self.msg!r})"


class Double(float):
    pass


class BigNum(int):
    pass


class Verbatim(bytes):
    fmt = b""


class Map(list):
    def dict(self):
        return {k: v for k, v in self}

    def __repr__(self):
        return "Map(" + list.__repr__(self) + ")"


class RSet(list):
    def __repr__(self):
        return "RSet(" + list.__repr__(self) + ")"


class Push(list):
    def __repr__(self):
        return "Push(" + list.__repr__(self) + ")"


class Closed(Exception):
    pass


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        elif isinstance(a, float):
            a = repr(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Raw:
    def __init__(self, port, timeout=10.0, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.timeout = timeout

    # -- sending -------------------------------------------------------------
    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, *args):
        """Send one multibulk command and return its parsed reply."""
        self.send(encode(*args))
        return self.reply()

    def inline(self, line):
        if isinstance(line, str):
            line = line.encode()
        self.send(line + b"\r\n")
        return self.reply()

    # -- receiving -----------------------------------------------------------
    def _fill(self, deadline=None):
        if deadline is not None:
            left = deadline - time.time()
            if left <= 0:
                raise socket.timeout("deadline")
            self.sock.settimeout(left)
        try:
            data = self.sock.recv(1 << 16)
        finally:
            self.sock.settimeout(self.timeout)
        if not data:
            raise Closed("connection closed by server")
        self.buf += data

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, crlf, self.buf = self.buf[:n], self.buf[n:n + 2], self.buf[n + 2:]
        assert crlf == b"\r\n", f"bulk not terminated by CRLF: {crlf!r}"
        return data

    def reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return Err(rest)
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t in (b"*", b"~", b">"):
            n = int(rest)
            if n < 0:
                return None
            items = [self.reply() for _ in range(n)]
            return {b"*": list, b"~": RSet, b">": Push}[t](items)
        if t == b"%":
            n = int(rest)
            return Map((self.reply(), self.reply()) for _ in range(n))
        if t == b"_":
            return None
        if t == b"#":
            return rest == b"t"
        if t == b",":
            return Double(float(rest))
        if t == b"(":
            return BigNum(int(rest))
        if t == b"=":
            data = self._exact(int(rest))
            v = Verbatim(data[4:])
            v.fmt = data[:3]
            return v
        if t == b"|":
            n = int(rest)
            for _ in range(2 * n):
                self.reply()
            return self.reply()
        raise AssertionError(f"bad RESP type byte in line {line!r}")

    def read_raw(self, n, timeout=5.0):
        """Read exactly n raw bytes."""
        deadline = time.time() + timeout
        while len(self.buf) < n:
            self._fill(deadline)
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_until_closed(self, timeout=5.0):
        """Everything the server sends until it closes the connection (raises on timeout)."""
        deadline = time.time() + timeout
        try:
            while True:
                self._fill(deadline)
        except (Closed, ConnectionResetError):
            data, self.buf = self.buf, b""
            return data

    def nothing_pending(self, wait=0.2):
        """True if the server sent nothing within `wait` seconds and kept the connection open."""
        try:
            self._fill(time.time() + wait)
        except socket.timeout:
            return self.buf == b""
        except Closed:
            return False
        return False

    def is_closed(self, timeout=5.0):
        try:
            self.read_until_closed(timeout)
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def wait_until(pred, timeout=10.0, interval=0.02, msg="condition"):
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {msg}")
        time.sleep(interval)


def parse_info(text):
    """INFO text -> {field: str}; keyspace lines are returned as dicts."""
    if isinstance(text, bytes):
        text = text.decode()
    out = {}
    for line in text.split("\r\n"):
        if not line or line.startswith("#"):
            continue
        k, _, v = line.partition(":")
        if k.startswith("db") and "=" in v:
            out[k] = dict(kv.split("=", 1) for kv in v.split(","))
        else:
            out[k] = v
    return out
