"""Reply parsing from a scripted fake server: replies split into tiny writes,
deep nesting, attributes, and a protocol error, for both the one-command path
and the --pipe engine."""
import socket
import threading
import time

from clihelp import cli


class FakeServer:
    """Answers every command read with the next scripted reply, written in
    chunks of `step` bytes with a pause between them."""

    def __init__(self, replies, step=1, pause=0.0005):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.replies, self.step, self.pause = list(replies), step, pause
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self):
        conn, _ = self.sock.accept()
        with conn:
            data = b""
            for rep in self.replies:
                while b"\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                data = b""
                for i in range(0, len(rep), self.step):
                    conn.sendall(rep[i:i + self.step])
                    if self.pause:
                        time.sleep(self.pause)

    def close(self):
        self.sock.close()


def test_reply_in_one_byte_writes():
    nested = b"*3\r\n:1\r\n*2\r\n$5\r\nhe\r\nl\r\n%1\r\n+k\r\n~1\r\n,1.5\r\n|1\r\n+meta\r\n:0\r\n$-1\r\n"
    srv = FakeServer([nested])
    rc, out, err = cli(srv, "--no-raw", "anything")
    srv.close()
    assert rc == 0, err
    assert out == b'1) (integer) 1\n2) 1) "he\\r\\nl"\n   2) 1# k => 1~ (double) 1.5\n3) (nil)\n'


def test_deep_nesting_and_large_bulk():
    deep = b"*1\r\n" * 200 + b":7\r\n"
    big = b"$300000\r\n" + b"z" * 300000 + b"\r\n"
    srv = FakeServer([deep, big], step=7, pause=0)
    out = cli(srv, "--raw", "x", input=None)
    srv.close()
    assert out[0] == 0 and out[1] == b"7\n"
    srv = FakeServer([big], step=1000, pause=0)
    rc, out, err = cli(srv, "get", "k")
    srv.close()
    assert rc == 0 and out == b"z" * 300000 + b"\n"


def test_protocol_error_is_reported():
    srv = FakeServer([b"?what\r\n"])
    rc, out, err = cli(srv, "ping")
    srv.close()
    assert rc == 1 and b'Protocol error, got "?" as reply type byte' in err
