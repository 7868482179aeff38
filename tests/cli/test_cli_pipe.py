"""--pipe mass insertion: redis-cli compatible stdout, errors reported with
input line numbers, malformed input rejected with the line named."""
from clihelp import cli, ref


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def test_pipe_matches_redis_cli(oracle):
    stream = b"".join(resp("SET", "k%d" % i, "v%d" % i) for i in range(2000))
    stream += resp("INCR", "k1") + b"SET inline yes\r\n\r\n" + resp("SET", "bin", b"a\r\nb\x00\xff")
    a = cli(oracle, "--pipe", input=stream)
    r = oracle.client()
    assert r.dbsize() == 2002 and r.get("bin") == b"a\r\nb\x00\xff" and r.get("inline") == b"yes"
    r.flushall()
    b = ref(oracle, "--pipe", input=stream)
    assert a[1] == b[1]
    assert a[1] == (b"All data transferred. Waiting for the last reply...\n"
                    b"Last reply received from server.\nerrors: 1, replies: 2003\n")
    assert a[0] == b[0] == 1
    # each error reply is printed on stderr, like redis-cli, then we name its input line
    assert a[2].startswith(b"ERR value is not an integer or out of range\n")
    assert b"first errors (input line: reply):\n  14001: ERR value is not an integer" in a[2]


def test_pipe_no_errors_exit_zero(oracle):
    stream = b"".join(resp("RPUSH", "list", i) for i in range(500))
    rc, out, err = cli(oracle, "--pipe", input=stream)
    assert rc == 0 and out.endswith(b"errors: 0, replies: 500\n")
    assert oracle.client().llen("list") == 500


def test_pipe_large_values_and_window(oracle):
    big = b"x" * (3 << 20)
    stream = resp("SET", "big", big) + b"".join(resp("SET", "s%d" % i, "v" * 100) for i in range(20000))
    rc, out, err = cli(oracle, "--window", "100000", "--pipe", input=stream)
    assert rc == 0, err
    assert out.endswith(b"errors: 0, replies: 20001\n")
    r = oracle.client()
    assert r.strlen("big") == len(big) and r.dbsize() == 20001


def test_pipe_aggregate_and_error_replies(oracle):
    stream = resp("RPUSH", "l", "a", "b") + resp("LRANGE", "l", 0, -1) + resp("MULTI") + \
        resp("INCR", "l") + resp("EXEC") + resp("NOSUCH")
    a = cli(oracle, "--pipe", input=stream)
    oracle.client().flushall()
    b = ref(oracle, "--pipe", input=stream)
    assert a[1] == b[1] and a[0] == b[0] == 1
    assert a[1].endswith(b"errors: 1, replies: 6\n")


def test_pipe_malformed_names_line(oracle):
    stream = resp("SET", "a", 1) + b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\nxx\r\n" + resp("SET", "c", 3)
    rc, out, err = cli(oracle, "--pipe", input=stream)
    assert rc == 1
    assert b"malformed RESP on input line 13: expected '$' for argument 3 of 3, got 'x'" in err
    assert out.endswith(b"errors: 0, replies: 1\n")  # what came before was sent and acknowledged
    assert oracle.client().get("a") == b"1" and oracle.client().get("c") is None


def test_pipe_bad_bulk_length_and_truncation(oracle):
    rc, out, err = cli(oracle, "--pipe", input=resp("SET", "a", 1) + b"*2\r\n$3\r\nGET\r\n$10\r\nab\r\n")
    assert rc == 1 and b"input line 8: incomplete command at end of input" in err
    rc, out, err = cli(oracle, "--pipe", input=b"*2\r\n$3\r\nGET\r\n$2\r\nabc\r\n")
    assert rc == 1 and b"input line 5: bulk of argument 2 is not 2 bytes followed by \\r\\n" in err
    rc, out, err = cli(oracle, "--pipe", input=b"*x\r\n")
    assert rc == 1 and b"input line 1: invalid length 'x'" in err


def test_pipe_timeout(oracle):
    stream = resp("DEBUG", "SLEEP", "2") + resp("SET", "a", 1)
    rc, out, err = cli(oracle, "--pipe-timeout", "1", "--pipe", input=stream)
    assert rc == 1
    assert b"No replies for 1 seconds: exiting.\n" in err
    assert out == b"All data transferred. Waiting for the last reply...\nerrors: 1, replies: 0\n"


def test_pipe_connection_lost_reports_acknowledged(oracle):
    import re
    import subprocess
    import time
    from clihelp import SARDINE_CLI
    stream = b"".join(resp("SET", "k%d" % i, "v" * 50) for i in range(300000))
    p = subprocess.Popen([SARDINE_CLI, "-p", str(oracle.port), "--window", "65536", "--pipe"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    r = oracle.client()
    p.stdin.write(stream[:len(stream) // 2])
    p.stdin.flush()
    deadline = time.time() + 20
    while r.dbsize() < 1000 and time.time() < deadline:
        time.sleep(0.01)
    r.client_kill_filter(_type="normal", skipme=True)
    try:
        p.stdin.write(stream[len(stream) // 2:])
        p.stdin.close()
    except BrokenPipeError:
        pass
    out, err = p.communicate(timeout=30)
    assert p.returncode == 1
    m = re.search(rb"Connection lost: (\d+) of (\d+) commands sent were acknowledged", err)
    assert m, err
    acked, sent = int(m.group(1)), int(m.group(2))
    # the server may reset the connection and drop replies already in flight, so
    # only what the window guarantees is checked: at most 64 KiB (~900 SETs of
    # ~70 bytes) were unacknowledged, and every acknowledged SET is stored
    assert 0 < acked <= sent < 300000
    assert sent - acked <= 65536 // 60
    assert acked <= r.dbsize()


def test_pipe_resp3_replies(oracle):
    stream = resp("HSET", "h", "a", 1, "b", 2) + resp("HGETALL", "h") + resp("SMEMBERS", "h") + \
        resp("DEBUG", "PROTOCOL", "attrib") + resp("DEBUG", "PROTOCOL", "double") + resp("GET", "nope")
    rc, out, err = cli(oracle, "-3", "--pipe", input=stream)
    assert out.endswith(b"errors: 1, replies: 6\n"), (out, err)
    assert b"WRONGTYPE" in err


def test_pipe_ctrl_c_reports_acknowledged(oracle):
    import re
    import signal
    import subprocess
    import time
    from clihelp import SARDINE_CLI
    p = subprocess.Popen([SARDINE_CLI, "-p", str(oracle.port), "--pipe"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdin.write(b"".join(resp("SET", "k%d" % i, i) for i in range(1000)))
    p.stdin.flush()  # stdin stays open: the client waits for more input
    r = oracle.client()
    deadline = time.time() + 10
    while r.dbsize() < 1000 and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)  # the replies reach the client
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    assert p.returncode == 1
    assert re.search(rb"Interrupted: 1000 of 1000 commands sent were acknowledged \(last acknowledged input line 6994\)",
                     err), err
    assert out == b"errors: 0, replies: 1000\n"
