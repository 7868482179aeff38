"""MONITOR: the line format, which commands are shown (and in which order) and the redactions, against
redis-server 7.0.

The differential test sends the same commands to Sardine and to the oracle while a monitor listens, and
compares the lines with the timestamp cut off and the client's ip:port shown as `tcp` (`lua` and the
database number are compared as they are).  Sardine alone: unix sockets, CLIENT LIST's O flag, RESET
and QUIT, a monitor's own commands."""
import os
import re
import tempfile

from sardine_resp import Err, Raw, encode, wait_until

LINE = re.compile(r"^(\d+)\.(\d{6}) \[(\d+) ([^\]]+)\] (.*)$")


def read_until_marker(m, marker):
    lines = []
    while True:
        r = m.reply()
        assert isinstance(r, str), r
        lines.append(r)
        if f'"{marker}"' in r:
            return lines


def shown(lines, tcp_addrs):
    out = []
    for ln in lines:
        g = LINE.match(ln)
        assert g, f"not a monitor line: {ln!r}"
        addr = g.group(4)
        out.append((g.group(3), "tcp" if addr in tcp_addrs else addr, g.group(5)))
    return out


STEPS = [
    ("c", ("SET", "k", "v")),
    ("c", ("SET", "bin", b"a\x00b\"c\\d\n\r\t\x07\x08\xff\x7f \x01")),
    ("c", ("GET", "k")),
    ("c", ("SELECT", "2")),
    ("c", ("INCR", "n")),
    ("c", ("NOSUCHCOMMAND", "x")),          # rejected before running: not shown
    ("c", ("GET",)),                        # wrong arity: not shown
    ("c", ("CONFIG", "GET", "maxmemory")),  # admin: not shown
    ("c", ("DEBUG", "SLEEP", "0")),
    ("c", ("MULTI",)),
    ("c", ("SET", "a", "1")),               # queued: shown when EXEC runs it
    ("c", ("INCR", "a")),
    ("c", ("EXEC",)),
    ("c", ("MULTI",)),
    ("c", ("SET", "a")),                    # arity error: EXEC aborts and is shown
    ("c", ("EXEC",)),
    ("c", ("EVAL", "redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[1])", "1", "sk", "sv")),
    ("c", ("EVAL", "return 1", "0")),
    ("c", ("EVAL", "return redis.call('nosuch')", "0")),
    ("c", ("EVALSHA", "0" * 40, "0")),
    ("c", ("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function(k) "
                               "return redis.call('get', k[1]) end)")),
    ("c", ("FCALL", "f", "1", "k")),
    ("c", ("FCALL", "nosuch", "0")),
    ("c", ("AUTH", "secret")),
    ("c", ("AUTH", "user", "secret")),
    ("c", ("AUTH", "a", "b", "c")),         # syntax error before redaction: shown as sent
    ("c", ("HELLO", "2", "AUTH", "default", "secret")),
    ("c", ("HELLO", "2", "SETNAME", "x", "AUTH", "default", "secret", "BOGUS")),
    ("c", ("HELLO", "4", "AUTH", "default", "secret")),
    ("c", ("MIGRATE", "127.0.0.1", "1", "nokey", "0", "100", "AUTH", "secret")),
    ("c", ("MIGRATE", "127.0.0.1", "1", "", "0", "100", "COPY", "AUTH2", "u", "p", "KEYS", "x", "y")),
    ("c", ("MIGRATE", "127.0.0.1", "1", "", "0", "100", "AUTH2", "u")),
    ("c", ("CLIENT", "ID")),
    ("c", ("PING",)),
    ("c", ("SUBSCRIBE", "ch")),
    ("c", ("UNSUBSCRIBE",)),
    ("c", ("SET", "t", "v", "EX", "100")),  # commands propagated in another form are shown as sent
    ("c", ("INCRBYFLOAT", "f", "1.5")),
    ("c", ("EXPIRE", "t", "200")),
    ("c", ("GETEX", "t", "PERSIST")),
    ("c", ("SADD", "s", "m")),
    ("c", ("SPOP", "s")),
    ("c", ("XADD", "st", "*", "f", "v")),
    ("c", ("GETDEL", "t")),
    ("c", ("RPUSH", "q", "x")),
    ("c", ("BLPOP", "q", "0")),             # served at once
]


def run(server):
    m, c, b = Raw(server.port), Raw(server.port), Raw(server.port)
    tcp = set()
    for conn in (c, b):
        info = conn.cmd("CLIENT", "INFO").decode()
        tcp.add(re.search(r"addr=(\S+)", info).group(1))
    assert m.cmd("MONITOR") == "OK"
    replies = []
    for _, args in STEPS:
        replies.append(c.cmd(*args))
    c.cmd("SELECT", "0")
    b.send(encode("BLPOP", "q2", "0"))      # blocks: shown once, when it blocked
    wait_until(lambda: "flags=b " in c.cmd("CLIENT", "LIST").decode())   # admin: not shown
    c.cmd("PING", "b-blocked")
    lines = read_until_marker(m, "b-blocked")
    c.cmd("LPUSH", "q2", "y")
    assert b.reply() == [b"q2", b"y"]
    c.cmd("PING", "end")
    lines += read_until_marker(m, "end")
    m.close(), c.close(), b.close()
    return replies, shown(lines, tcp)


def test_lines_match_redis(sardine, oracle):
    got_replies, got = run(sardine)
    want_replies, want = run(oracle)
    for i, (x, y) in enumerate(zip(got, want)):
        assert x == y, f"line {i}: sardine {x!r}, redis {y!r}"
    assert len(got) == len(want)


def test_format_and_escaping(sardine):
    m, c = Raw(sardine.port), Raw(sardine.port)
    m.cmd("MONITOR")
    c.cmd("SET", "k", b"\x00\"\\\xfe ok")
    c.cmd("SELECT", "5")
    c.cmd("EVAL", "return redis.call('ping')", "0")
    line = m.reply()
    g = LINE.match(line)
    assert g and g.group(3) == "0" and re.match(r"127\.0\.0\.1:\d+$", g.group(4))
    assert g.group(5) == r'"SET" "k" "\x00\"\\\xfe ok"'
    assert m.reply().endswith('[5 127.0.0.1:%s] "SELECT" "5"' % g.group(4).split(":")[1])  # the db after the command
    assert m.reply().endswith('"EVAL" "return redis.call(\'ping\')" "0"')
    assert LINE.match(m.reply()).group(3, 4, 5) == ("5", "lua", '"ping"')
    m.close(), c.close()


def test_client_list_reset_quit_and_own_commands(sardine):
    m, c = Raw(sardine.port), Raw(sardine.port)
    assert m.cmd("MONITOR") == "OK"
    assert " flags=O " in c.cmd("CLIENT", "LIST").decode()
    m.send(encode("MONITOR"))                  # already monitoring: no reply at all
    assert m.cmd("PING") == "PONG"             # its own commands are shown to it, after their replies
    assert m.reply().endswith('"PING"')
    c.cmd("SET", "a", "1")
    assert m.reply().endswith('"SET" "a" "1"')
    assert m.cmd("RESET") == "RESET"
    c.cmd("SET", "a", "2")
    assert m.cmd("PING") == "PONG"             # nothing was queued for it
    assert " flags=O " not in c.cmd("CLIENT", "LIST").decode()
    m.cmd("MONITOR")
    assert m.cmd("QUIT") == "OK"
    wait_until(lambda: " flags=O " not in c.cmd("CLIENT", "LIST").decode())
    c.cmd("MULTI")
    c.cmd("MONITOR")
    assert c.cmd("EXEC") == [Err("ERR MONITOR isn't allowed for DENY BLOCKING client")]
    m.close(), c.close()


def test_unix_socket_address(make_sardine):
    d = tempfile.mkdtemp()
    path = os.path.join(d, "s.sock")
    s = make_sardine("--unixsocket", path)
    m = Raw(s.port)
    m.cmd("MONITOR")
    import socket
    u = socket.socket(socket.AF_UNIX)
    u.connect(path)
    u.sendall(encode("SET", "viaunix", "1"))
    assert u.recv(100) == b"+OK\r\n"
    g = LINE.match(m.reply())
    assert g.group(4) == f"unix:{path}" and g.group(5) == '"SET" "viaunix" "1"'
    u.close(), m.close()


def test_debug_loadaof_replays_are_not_shown(make_sardine, make_oracle):
    for server in (make_sardine("--appendonly", "yes"), make_oracle("--appendonly", "yes")):
        m, c = Raw(server.port), Raw(server.port)
        c.cmd("SET", "a", "1")
        c.cmd("RPUSH", "l", "x")
        m.cmd("MONITOR")
        assert c.cmd("DEBUG", "LOADAOF") == "OK"
        assert c.cmd("GET", "a") == b"1"
        c.cmd("PING", "end")
        lines = read_until_marker(m, "end")
        assert [LINE.match(x).group(5) for x in lines] == ['"GET" "a"', '"PING" "end"'], (server.kind, lines)
        m.close(), c.close()


# ---- generated commands (hypothesis): the same lines on both servers ----

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

word = st.sampled_from(["k", "x y", "", "3", "2", "auth", "default"])
raw = st.binary(max_size=6)
arg = st.one_of(word, raw)
hello_opt = st.one_of(st.tuples(st.just("AUTH"), word, word), st.tuples(st.just("SETNAME"), word),
                      st.tuples(st.sampled_from(["AUTH", "setname", "bogus"])))
migrate_opt = st.one_of(st.tuples(st.sampled_from(["COPY", "replace"])), st.tuples(st.just("AUTH"), arg),
                        st.tuples(st.just("auth2"), arg, arg), st.tuples(st.just("AUTH2"), arg),
                        st.tuples(st.just("KEYS"), arg), st.tuples(st.just("AUTH")), st.tuples(word))
GEN = st.one_of(
    st.tuples(st.just("SET"), arg, arg),
    st.tuples(st.just("GET"), arg),
    st.tuples(st.just("ECHO"), arg),
    st.lists(arg, min_size=1, max_size=3).map(lambda a: ("AUTH",) + tuple(a)),
    st.tuples(st.sampled_from(["2", "3", "4", "x"]), st.lists(hello_opt, max_size=3)).map(   # errors quote
        lambda t: ("HELLO", t[0]) + sum(t[1], ())),                                          # words only
    st.lists(migrate_opt, max_size=4).map(lambda o: ("MIGRATE", "127.0.0.1", "1", "", "0", "10") + sum(o, ())),
    st.tuples(st.just("EVAL"), st.just("return redis.call('echo', ARGV[1])"), st.just("0"), arg),
    st.lists(st.tuples(st.just("SET"), arg, arg), min_size=1, max_size=2).map(
        lambda cmds: [("MULTI",)] + cmds + [("EXEC",)]),
    st.tuples(st.just("NOSUCH"), word),
)


@settings(max_examples=int(os.environ.get("SARDINE_DIFF_EXAMPLES", "25")), deadline=None, derandomize=True,
          database=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seq=st.lists(GEN, min_size=1, max_size=8))
def test_generated_lines_match_redis(sardine, oracle, seq):
    cmds = []
    for x in seq:
        cmds += x if isinstance(x, list) else [x]

    def lines(server):
        m, c = Raw(server.port), Raw(server.port)
        tcp = {re.search(r"addr=(\S+)", c.cmd("CLIENT", "INFO").decode()).group(1)}
        m.cmd("MONITOR")
        for args in cmds:
            c.cmd(*args)
        c.cmd("PING", "end")
        got = shown(read_until_marker(m, "end"), tcp)
        m.close(), c.close()
        return got

    assert lines(sardine) == lines(oracle)
