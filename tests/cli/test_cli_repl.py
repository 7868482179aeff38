"""Interactive mode, driven through a pseudo-terminal: prompt, line editing,
history file, tab completion, help, connect, reconnect, SUBSCRIBE until Ctrl-C."""
import os
import pty
import select
import subprocess
import time

import pytest

from clihelp import SARDINE_CLI, cli


def _ctty():
    # make the pty our controlling terminal, so that ^C becomes SIGINT
    import fcntl
    import termios
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Term:
    def __init__(self, args, env):
        self.master, slave = pty.openpty()
        self.p = subprocess.Popen([SARDINE_CLI] + [str(a) for a in args], stdin=slave, stdout=slave,
                                  stderr=slave, env=env, close_fds=True, preexec_fn=_ctty)
        os.close(slave)
        self.buf = b""

    def expect(self, what, timeout=10):
        what = what if isinstance(what, bytes) else what.encode()
        deadline = time.time() + timeout
        while what not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"timeout waiting for {what!r}; got {self.buf[-600:]!r}")
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    data = b""
                if not data:
                    raise AssertionError(f"EOF waiting for {what!r}; got {self.buf[-600:]!r}")
                self.buf += data
        i = self.buf.index(what) + len(what)
        seen, self.buf = self.buf[:i], self.buf[i:]
        return seen

    def send(self, s):
        os.write(self.master, s if isinstance(s, bytes) else s.encode())

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait(10)
        os.close(self.master)


@pytest.fixture
def term(tmp_path):
    terms = []
    hist = tmp_path / "history"

    def make(*args):
        env = dict(os.environ, SARDINECLI_HISTFILE=str(hist), TERM="xterm")
        t = Term(args, env)
        terms.append(t)
        return t

    make.hist = hist
    yield make
    for t in terms:
        t.close()


def test_prompt_commands_history(oracle, term):
    t = term("-p", oracle.port)
    prompt = f"127.0.0.1:{oracle.port}> "
    t.expect(prompt)
    t.send("set greeting 'hello world'\r")
    t.expect("OK")
    t.expect(prompt)
    t.send("get greeting\r")
    t.expect('"hello world"')
    t.send("select 3\r")
    t.expect(f"127.0.0.1:{oracle.port}[3]> ")
    t.send("lpush l a b\r")
    t.expect("(integer) 2")
    t.send("lrange l 0 -1\r")
    t.expect('1) "b"\r\n2) "a"')
    t.send("3 incr n\r")
    t.expect("(integer) 3")
    t.send("auth secretpass\r")
    t.expect("(error)")
    t.send("quit\r")
    assert t.p.wait(10) == 0
    hist = term.hist.read_bytes()
    assert b"get\\040greeting" in hist and b"secretpass" not in hist
    # history is loaded back: Ctrl-P recalls the previous line
    t2 = term("-p", oracle.port)
    t2.expect(prompt)
    t2.send("\x10\x10\r")  # ^P^P = the entry before "quit": "3 incr n"
    t2.expect("3 incr n")
    t2.expect("(integer) 3")


def test_tab_completion_and_help(oracle, term):
    t = term("-p", oracle.port)
    t.expect(f"{oracle.port}> ")
    t.send("PIN\t")
    t.expect("G")
    t.send("\r")
    t.expect("PONG")
    t.send("get\t")  # ambiguous: lists the candidates
    out = t.expect("GETRANGE")
    assert b"GETDEL" in out
    t.send("\x15")  # ^U: kill the line
    t.send("set ")  # the syntax hint is shown at the right of the line
    t.expect("key value [NX|XX]")
    t.send("k ")
    t.expect("value [NX|XX]")
    t.send("\x15")
    t.send("help set\r")
    out = t.expect("group:")
    assert b"SET" in out and b"key value [NX|XX]" in out and b"summary:" in out
    t.send("help @hyperloglog\r")
    t.expect("PFADD")
    t.send("quit\r")
    assert t.p.wait(10) == 0


def test_not_connected_connect_and_reconnect(make_oracle, term):
    from conftest import REDIS_SERVER, free_port
    port = free_port()
    t = term("-p", port)
    t.expect("Could not connect to Redis")
    t.expect("not connected> ")
    srv = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
                           stdout=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if cli(None, "-p", port, "ping")[1] == b"PONG\n":
                break
            time.sleep(0.02)
        t.send("set a 1\r")
        t.expect("OK")
        t.expect(f"127.0.0.1:{port}> ")
        # the server restarts: the next command reconnects on its own
        srv.terminate()
        srv.wait(10)
        srv = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
                               stdout=subprocess.DEVNULL)
        for _ in range(200):
            if cli(None, "-p", port, "ping")[1] == b"PONG\n":
                break
            time.sleep(0.02)
        t.send("ping\r")
        t.expect("PONG")
        other = make_oracle()
        t.send(f"connect 127.0.0.1 {other.port}\r")
        t.expect(f"127.0.0.1:{other.port}> ")
        t.send("quit\r")
        assert t.p.wait(10) == 0
    finally:
        srv.terminate()
        srv.wait(10)


def test_subscribe_until_ctrl_c(oracle, term):
    t = term("-p", oracle.port)
    t.expect(f"{oracle.port}> ")
    t.send("subscribe news\r")
    t.expect("Reading messages... (press Ctrl-C to quit)")
    t.expect("(integer) 1")
    oracle.client().publish("news", "extra")
    t.expect('3) "extra"')
    t.send("\x03")
    t.expect(f"{oracle.port}> ")
    t.send("ping\r")
    t.expect("PONG")
    t.send("monitor\r")
    t.expect("OK")
    oracle.client().set("watched", "1")
    t.expect('"SET" "watched" "1"')
    t.send("\x03")
    t.expect(f"{oracle.port}> ")
    t.send("get watched\r")
    t.expect('"1"')
    t.send("quit\r")
    assert t.p.wait(10) == 0
