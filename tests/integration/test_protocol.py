"""RESP protocol handling, checked on raw sockets (exact bytes, exact error texts)."""
import socket
import time

import pytest

from conftest import IS_REAL_REDIS
from sardine_resp import Err, Map, Raw, encode, wait_until


# ---------------------------------------------------------------------------------------------
# Well-formed requests
# ---------------------------------------------------------------------------------------------

def test_multibulk_exact_reply_bytes(sardine):
    with Raw(sardine.port) as c:
        c.send(encode("SET", "foo", "bar"))
        assert c.read_raw(5) == b"+OK\r\n"
        c.send(encode("GET", "foo"))
        assert c.read_raw(9) == b"$3\r\nbar\r\n"
        c.send(encode("GET", "nosuch"))
        assert c.read_raw(5) == b"$-1\r\n"
        c.send(encode("EXISTS", "foo", "foo", "nosuch"))
        assert c.read_raw(4) == b":2\r\n"
        c.send(encode("MGET", "foo", "nosuch"))
        assert c.read_raw(18) == b"*2\r\n$3\r\nbar\r\n$-1\r\n"
        c.send(encode("PING"))
        assert c.read_raw(7) == b"+PONG\r\n"
        assert c.nothing_pending()


def test_inline_commands(sardine):
    with Raw(sardine.port) as c:
        assert c.inline("PING") == "PONG"
        assert c.inline("ping hello") == b"hello"
        assert c.inline("SET k v") == "OK"
        assert c.inline("  GET    k  ") == b"v"
        # double quotes support escapes, single quotes keep text literally
        assert c.inline('SET "a key" "x\\x41\\n\\t"') == "OK"
        assert c.cmd("GET", "a key") == b"xA\n\t"
        assert c.inline("SET b 'x y'") == "OK"
        assert c.cmd("GET", "b") == b"x y"
        # inline lines may end with a bare \n
        c.send(b"GET k\n")
        assert c.reply() == b"v"
        # empty lines are ignored
        c.send(b"\r\n\r\nPING\r\n")
        assert c.reply() == "PONG"
        assert c.nothing_pending()


def test_command_names_are_case_insensitive(sardine):
    with Raw(sardine.port) as c:
        assert c.cmd("sEt", "k", "v") == "OK"
        assert c.cmd("get", "k") == b"v"
        assert c.cmd("GET", "K") is None  # keys are case sensitive


def test_pipeline_many_commands_in_one_write(sardine):
    n = 2000
    with Raw(sardine.port) as c:
        data = b"".join(encode("SET", f"k{i}", f"v{i}") for i in range(n))
        data += b"".join(encode("INCR", "counter") for _ in range(n))
        data += b"".join(encode("GET", f"k{i}") for i in range(n))
        c.send(data)
        for _ in range(n):
            assert c.reply() == "OK"
        for i in range(n):
            assert c.reply() == i + 1
        for i in range(n):
            assert c.reply() == f"v{i}".encode()
        assert c.nothing_pending()


def test_pipeline_mixed_inline_and_multibulk(sardine):
    with Raw(sardine.port) as c:
        c.send(b"SET a 1\r\n" + encode("INCR", "a") + b"GET a\r\n" + encode("PING"))
        assert [c.reply() for _ in range(4)] == ["OK", 2, b"2", "PONG"]


@pytest.mark.parametrize("split", [1, 3, 7])
def test_half_sent_command_completed_later(sardine, split):
    cmd = encode("SET", "key", "a value") + encode("GET", "key")
    with Raw(sardine.port) as c:
        for i in range(0, len(cmd), split):
            c.send(cmd[i:i + split])
            if i % 10 == 0:
                time.sleep(0.001)
        assert c.reply() == "OK"
        assert c.reply() == b"a value"


def test_partial_command_waits_for_rest(sardine):
    with Raw(sardine.port) as c:
        c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhel")
        assert c.nothing_pending(0.3)
        c.send(b"lo\r")
        assert c.nothing_pending(0.1)
        c.send(b"\n")
        assert c.reply() == "OK"
        c.send(b"GET k")  # inline without terminator yet
        assert c.nothing_pending(0.2)
        c.send(b"\r\n")
        assert c.reply() == b"hello"


def test_binary_safe_keys_and_values(sardine):
    key = b"a\x00b\r\nc\xff"
    value = bytes(range(256)) * 4 + b"\r\n$3\r\n*1\r\n"
    with Raw(sardine.port) as c:
        assert c.cmd("SET", key, value) == "OK"
        assert c.cmd("GET", key) == value
        assert c.cmd("STRLEN", key) == len(value)
        assert c.cmd("GET", b"a") is None
        assert c.cmd("GET", b"a\x00b") is None
        assert c.cmd("KEYS", "*") == [key]
        assert c.cmd("EXISTS", key) == 1
        assert c.cmd("APPEND", key, b"\x00") == len(value) + 1
        assert c.cmd("GETRANGE", key, 0, 2) == b"\x00\x01\x02"
    r = sardine.client()
    assert r.get(key) == value + b"\x00"


def test_empty_bulk_and_zero_length_value(sardine):
    with Raw(sardine.port) as c:
        assert c.cmd("SET", "", "") == "OK"
        assert c.cmd("GET", "") == b""
        assert c.cmd("EXISTS", "") == 1
        c.send(encode("GET", ""))
        assert c.read_raw(6) == b"$0\r\n\r\n"


def test_empty_and_negative_multibulk_are_ignored(sardine):
    with Raw(sardine.port) as c:
        c.send(b"*0\r\n*-1\r\n")
        assert c.nothing_pending(0.2)
        assert c.cmd("PING") == "PONG"


def test_large_value_round_trip(sardine):
    value = (b"0123456789abcdef" * 65536) * 2  # 2 MB
    with Raw(sardine.port) as c:
        assert c.cmd("SET", "big", value) == "OK"
        assert c.cmd("STRLEN", "big") == len(value)
        assert c.cmd("GET", "big") == value


# ---------------------------------------------------------------------------------------------
# Malformed requests: exact error text, then the connection is closed
# ---------------------------------------------------------------------------------------------

PROTOCOL_ERRORS = [
    (b"*abc\r\n", "invalid multibulk length"),
    (b"*2147483648\r\n", "invalid multibulk length"),
    (b"*1x\r\n", "invalid multibulk length"),
    (b"*3\r\n$abc\r\n", "invalid bulk length"),
    (b"*3\r\n$-5\r\n", "invalid bulk length"),
    (b"*1\r\n$-1\r\n", "invalid bulk length"),
    (b"*1\r\n$600000000\r\n", "invalid bulk length"),
    (b"*1\r\n$536870913\r\n", "invalid bulk length"),
    (b"*3\r\nfoo\r\n", "expected '$', got 'f'"),
    (b"*2\r\n$3\r\nGET\r\n:1\r\n", "expected '$', got ':'"),
    (b"set a \"b\r\n", "unbalanced quotes in request"),
    (b"set a \"b\"c\r\n", "unbalanced quotes in request"),
    (b"set a 'b\r\n", "unbalanced quotes in request"),
]


@pytest.mark.parametrize("data,msg", PROTOCOL_ERRORS, ids=[repr(d[:16]) for d, _ in PROTOCOL_ERRORS])
def test_protocol_error_closes_connection(sardine, data, msg):
    with Raw(sardine.port) as c:
        c.send(data)
        assert c.read_until_closed() == b"-ERR Protocol error: " + msg.encode() + b"\r\n"
    # the server itself is fine
    assert sardine.client().ping() is True


def test_protocol_error_after_valid_pipelined_command(sardine):
    with Raw(sardine.port) as c:
        c.send(encode("SET", "k", "v") + b"*abc\r\n" + encode("SET", "k", "never"))
        assert c.read_until_closed() == b"+OK\r\n-ERR Protocol error: invalid multibulk length\r\n"
    assert sardine.client().get("k") == b"v"


@pytest.mark.parametrize("data,msg", [
    (b"x" * 70000, "too big inline request"),
    (b"*" + b"1" * 70000, "too big mbulk count string"),
    (b"*1\r\n$" + b"1" * 70000, "too big bulk count string"),
], ids=["inline", "mbulk-count", "bulk-count"])
def test_overlong_unterminated_lines(sardine, data, msg):
    with Raw(sardine.port) as c:
        try:
            c.send(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            out = c.read_until_closed()
        except ConnectionResetError:
            out = None
        if out is not None:
            assert out == b"-ERR Protocol error: " + msg.encode() + b"\r\n"
    assert sardine.client().ping() is True


def test_huge_declared_multibulk_length_does_not_preallocate(sardine):
    """*2000000000 is a legal (< INT_MAX) count: Redis waits for the arguments
    without allocating for all of them; the server must stay healthy."""
    r = sardine.client()
    before = r.info("memory")["used_memory"]
    with Raw(sardine.port) as c:
        c.send(b"*2000000000\r\n$4\r\nPING\r\n")
        assert c.nothing_pending(0.3)
        assert r.ping() is True
        after = r.info("memory")["used_memory"]
        assert after - before < 64 * 1024 * 1024
    assert r.ping() is True


def test_huge_declared_bulk_length_within_limit_waits(sardine):
    r = sardine.client()
    with Raw(sardine.port) as c:
        c.send(b"*2\r\n$3\r\nGET\r\n$536870912\r\n")  # exactly proto-max-bulk-len: accepted
        assert c.nothing_pending(0.3)
        assert r.ping() is True
        # (Redis preallocates the whole declared bulk here: used_memory jumps by 512MB.
        #  That is not asserted; a leaner server need not copy it.)


def test_big_bulk_arriving_in_pieces_then_pipelined(sardine):
    """A bulk of several MiB (past the size where the query buffer is mapped and grown by moving its
    pages) arrives in pieces: while it is incomplete the server holds about what was sent, not what was
    declared; once complete the value is exact and the command pipelined behind it in the same
    buffer runs too."""
    r = sardine.client()
    value = bytes(range(256)) * (5 * 4096 + 7)  # ~5 MiB, not a multiple of a page
    head = b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n" % len(value)
    tail = b"\r\n*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n"
    before = r.info("memory")["used_memory"]
    with Raw(sardine.port) as c:
        c.send(head + value[:1500000])
        assert c.nothing_pending(0.2)
        held = r.info("memory")["used_memory"] - before
        if not IS_REAL_REDIS:  # Redis reserves the declared length at once
            assert held < 4 * 1500000 + (1 << 20)  # at most doubling what arrived, never the declared 5 MiB
        for i in range(1500000, len(value), 700001):
            c.send(value[i:i + 700001])
        c.send(tail)
        expect = b"+OK\r\n$%d\r\n" % len(value) + value + b"\r\n"
        got = b""
        while len(got) < len(expect):
            got += c.read_raw(len(expect) - len(got))
        assert got == expect
        assert c.cmd("PING") == "PONG"
    assert r.strlen("big") == len(value)


# ---------------------------------------------------------------------------------------------
# Command-level errors (the connection stays open)
# ---------------------------------------------------------------------------------------------

def test_unknown_command_error_text(sardine):
    with Raw(sardine.port) as c:
        c.send(b"foo a b\r\n")
        assert c.read_raw(64) == b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"
        assert c.cmd("foo") == Err("ERR unknown command 'foo', with args beginning with: ")
        assert c.cmd("FooBar", "x") == Err("ERR unknown command 'FooBar', with args beginning with: 'x' ")
        assert c.cmd("") == Err("ERR unknown command '', with args beginning with: ")
        assert c.cmd("PING") == "PONG"


def test_unknown_command_error_truncates_long_args(sardine):
    with Raw(sardine.port) as c:
        assert c.cmd("foo", "a" * 200, "b") == Err(
            "ERR unknown command 'foo', with args beginning with: '" + "a" * 128 + "' ")
        words = "a b c d e f g h i j k l m n o p q r s t u v w x y z aa bb cc dd ee ff gg hh".split()
        expected = "".join(f"'{w}' " for w in words[:words.index("ee") + 1])
        assert c.cmd("foo", *words) == Err("ERR unknown command 'foo', with args beginning with: " + expected)
        assert c.cmd("f" * 200) == Err(
            "ERR unknown command '" + "f" * 128 + "', with args beginning with: ")


def test_wrong_number_of_arguments(sardine):
    with Raw(sardine.port) as c:
        assert c.cmd("GET") == Err("ERR wrong number of arguments for 'get' command")
        assert c.cmd("get", "a", "b") == Err("ERR wrong number of arguments for 'get' command")
        assert c.cmd("SET", "k") == Err("ERR wrong number of arguments for 'set' command")
        assert c.cmd("MSET", "a", "1", "b") == Err("ERR wrong number of arguments for 'mset' command")
        assert c.cmd("CONFIG", "GET") == Err("ERR wrong number of arguments for 'config|get' command")
        assert c.cmd("CONFIG") == Err("ERR wrong number of arguments for 'config' command")
        assert c.cmd("CONFIG", "FOO") == Err("ERR unknown subcommand 'FOO'. Try CONFIG HELP.")
        assert c.cmd("CLIENT", "foo") == Err("ERR unknown subcommand 'foo'. Try CLIENT HELP.")
        assert c.cmd("PING") == "PONG"


# ---------------------------------------------------------------------------------------------
# HELLO and RESP3
# ---------------------------------------------------------------------------------------------

HELLO_KEYS = [b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"]


def _check_hello_fields(fields, proto):
    keys = [k for k, _ in fields]
    assert keys == HELLO_KEYS
    d = dict(fields)
    assert isinstance(d[b"server"], bytes) and d[b"server"]
    assert isinstance(d[b"version"], bytes) and d[b"version"][:1].isdigit()
    assert d[b"proto"] == proto
    assert isinstance(d[b"id"], int) and d[b"id"] > 0
    assert d[b"mode"] == b"standalone"
    assert d[b"role"] == b"master"
    assert d[b"modules"] == []


def test_hello_3_returns_map(sardine):
    with Raw(sardine.port) as c:
        c.send(b"HELLO 3\r\n")
        first = c.read_raw(4)
        assert first == b"%7\r\n"
        c.buf = first + c.buf
        m = c.reply()
        assert isinstance(m, Map)
        _check_hello_fields(list(m), 3)
        assert m.dict()[b"id"] == c.cmd("CLIENT", "ID")


def test_hello_2_and_no_args_return_flat_array(sardine):
    with Raw(sardine.port) as c:
        for args in (("HELLO",), ("HELLO", "2")):
            c.send(encode(*args))
            assert c.read_raw(5) == b"*14\r\n"
            c.buf = b"*14\r\n" + c.buf
            arr = c.reply()
            assert type(arr) is list and len(arr) == 14
            _check_hello_fields(list(zip(arr[0::2], arr[1::2])), 2)


def test_hello_errors(sardine):
    with Raw(sardine.port) as c:
        assert c.cmd("HELLO", "4") == Err("NOPROTO unsupported protocol version")
        assert c.cmd("HELLO", "1") == Err("NOPROTO unsupported protocol version")
        assert c.cmd("HELLO", "abc") == Err("ERR Protocol version is not an integer or out of range")
        assert c.cmd("HELLO", "3", "AUTH") == Err("ERR Syntax error in HELLO option 'AUTH'")
        assert c.cmd("HELLO", "3", "AUTH", "a") == Err("ERR Syntax error in HELLO option 'AUTH'")
        assert c.cmd("HELLO", "3", "SETNAME") == Err("ERR Syntax error in HELLO option 'SETNAME'")
        assert c.cmd("HELLO", "3", "FOO") == Err("ERR Syntax error in HELLO option 'FOO'")
        assert c.cmd("HELLO", "3", "SETNAME", "a b") == Err(
            "ERR Client names cannot contain spaces, newlines or special characters.")
        # failed HELLO does not switch protocol
        c.send(encode("GET", "nosuch"))
        assert c.read_raw(5) == b"$-1\r\n"


def test_hello_setname(sardine):
    with Raw(sardine.port) as c:
        m = c.cmd("HELLO", "3", "SETNAME", "myconn")
        assert m.dict()[b"proto"] == 3
        assert c.cmd("CLIENT", "GETNAME") == b"myconn"


def test_hello_auth(make_sardine):
    s = make_sardine("--requirepass", "s3cret")
    with Raw(s.port) as c:
        assert c.cmd("GET", "k") == Err("NOAUTH Authentication required.")
        assert c.cmd("HELLO", "3") == Err(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
            "AUTH <user> <pass> option can be used to authenticate the client and select "
            "the RESP protocol version at the same time")
        assert c.cmd("HELLO", "3", "AUTH", "default", "wrong") == Err(
            "WRONGPASS invalid username-password pair or user is disabled.")
        assert c.cmd("GET", "k") == Err("NOAUTH Authentication required.")
        m = c.cmd("HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "n1")
        assert isinstance(m, Map) and m.dict()[b"proto"] == 3
        c.send(encode("GET", "k"))
        assert c.read_raw(3) == b"_\r\n"
        assert c.cmd("CLIENT", "GETNAME") == b"n1"


def test_resp3_reply_types(sardine):
    with Raw(sardine.port) as c:
        c.cmd("HELLO", "3")
        checks = [
            (("GET", "nosuch"), b"_\r\n"),
            (("SET", "k", "1.5"), b"+OK\r\n"),
            (("INCRBYFLOAT", "k", "1"), b"$3\r\n2.5\r\n"),
            (("EXISTS", "k"), b":1\r\n"),
            (("MGET", "k", "nosuch"), b"*2\r\n$3\r\n2.5\r\n_\r\n"),
            (("CONFIG", "GET", "maxmemory"), b"%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"),
            (("GET", "k", "x"), b"-ERR wrong number of arguments for 'get' command\r\n"),
            (("SET", "k", "v", "NX", "GET"), b"$3\r\n2.5\r\n"),
            (("SET", "k2", "v", "XX", "GET"), b"_\r\n"),
            (("SET", "k2", "v", "XX"), b"_\r\n"),
            (("PING",), b"+PONG\r\n"),
        ]
        for args, expected in checks:
            c.send(encode(*args))
            assert c.read_raw(len(expected)) == expected, args
        assert c.nothing_pending()
        # back to RESP2
        c.cmd("HELLO", "2")
        for args, expected in [(("GET", "nosuch"), b"$-1\r\n"),
                               (("CONFIG", "GET", "maxmemory"), b"*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n")]:
            c.send(encode(*args))
            assert c.read_raw(len(expected)) == expected, args


def test_resp3_null_array_and_exec(sardine):
    r = sardine.client()
    with Raw(sardine.port) as c:
        c.cmd("HELLO", "3")
        assert c.cmd("WATCH", "w") == "OK"
        r.set("w", "changed")
        assert c.cmd("MULTI") == "OK"
        assert c.cmd("GET", "w") == "QUEUED"
        c.send(encode("EXEC"))
        assert c.read_raw(3) == b"_\r\n"
    with Raw(sardine.port) as c:
        assert c.cmd("WATCH", "w") == "OK"
        r.set("w", "changed2")
        assert c.cmd("MULTI") == "OK"
        assert c.cmd("GET", "w") == "QUEUED"
        c.send(encode("EXEC"))
        assert c.read_raw(5) == b"*-1\r\n"


# ---------------------------------------------------------------------------------------------
# QUIT, many connections, limits
# ---------------------------------------------------------------------------------------------

def test_quit_replies_ok_and_closes(sardine):
    with Raw(sardine.port) as c:
        c.send(b"SET k before\r\nQUIT\r\nSET k after\r\n")
        assert c.read_until_closed() == b"+OK\r\n+OK\r\n"
    assert sardine.client().get("k") == b"before"


def test_quit_with_extra_args(sardine):
    with Raw(sardine.port) as c:
        c.send(encode("QUIT", "extra"))
        assert c.read_until_closed() == b"+OK\r\n"


def test_many_concurrent_connections(sardine):
    n = 1000
    conns = []
    try:
        for _ in range(n):
            conns.append(socket.create_connection(("127.0.0.1", sardine.port), timeout=10))
        for i, s in enumerate(conns):
            s.sendall(encode("INCR", "c"))
        got = set()
        for s in conns:
            buf = b""
            while not buf.endswith(b"\r\n"):
                data = s.recv(64)
                assert data, "connection closed"
                buf += data
            assert buf.startswith(b":")
            got.add(int(buf[1:-2]))
        assert got == set(range(1, n + 1))
        r = sardine.client()
        assert r.ping() is True
        assert r.info("clients")["connected_clients"] >= n + 1
    finally:
        for s in conns:
            s.close()
    r = sardine.client()
    wait_until(lambda: r.info("clients")["connected_clients"] < 10, msg="connections to be released")
    assert r.get("c") == str(n).encode()


def test_client_query_buffer_limit(sardine):
    r = sardine.client()
    assert r.config_set("client-query-buffer-limit", "1mb") is True
    assert r.config_get("client-query-buffer-limit") == {"client-query-buffer-limit": "1048576"}
    # a command below the limit is fine
    with Raw(sardine.port) as c:
        assert c.cmd("SET", "k", b"x" * 600000) == "OK"
        assert c.cmd("SET", "k", b"y" * 600000) == "OK"
    # an argument bigger than the limit gets the client disconnected
    with Raw(sardine.port) as c:
        try:
            c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n" + b"x" * 3000000 + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            assert c.read_until_closed() == b""
        except ConnectionResetError:
            pass
    assert r.ping() is True
    assert r.strlen("k") == 600000


def test_client_query_buffer_limit_minimum(sardine):
    with Raw(sardine.port) as c:
        reply = c.cmd("CONFIG", "SET", "client-query-buffer-limit", "1000")
        assert isinstance(reply, Err)
        assert reply.msg.startswith("ERR CONFIG SET failed (possibly related to argument "
                                    "'client-query-buffer-limit')")


def test_proto_max_bulk_len_config(sardine):
    r = sardine.client()
    assert r.config_get("proto-max-bulk-len") == {"proto-max-bulk-len": "536870912"}
    assert r.config_set("proto-max-bulk-len", "1mb") is True
    assert r.config_get("proto-max-bulk-len") == {"proto-max-bulk-len": "1048576"}
    with Raw(sardine.port) as c:
        assert c.cmd("SET", "k", b"x" * 1000000) == "OK"
    with Raw(sardine.port) as c:
        c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n")
        assert c.read_until_closed() == b"-ERR Protocol error: invalid bulk length\r\n"
    with Raw(sardine.port) as c:
        c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n")
        assert c.read_until_closed() == b"-ERR Protocol error: invalid bulk length\r\n"
    # string growth commands respect the limit too
    with Raw(sardine.port) as c:
        assert c.cmd("SETRANGE", "k", 1048576, "x") == Err(
            "ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        assert c.cmd("SETRANGE", "k", 1048575, "x") == 1048576
        assert c.cmd("APPEND", "k", "y") == Err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        assert c.cmd("STRLEN", "k") == 1048576
    with Raw(sardine.port) as c:
        reply = c.cmd("CONFIG", "SET", "proto-max-bulk-len", "abc")
        assert reply.msg == ("ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') "
                             "- argument must be a memory value")


def test_maxclients(make_sardine):
    s = make_sardine("--maxclients", "3")
    conns = [Raw(s.port) for _ in range(3)]
    try:
        for c in conns:
            assert c.cmd("PING") == "PONG"
        extra = Raw(s.port)
        try:
            extra.send(encode("PING"))
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert extra.read_until_closed() == b"-ERR max number of clients reached\r\n"
        extra.close()
        # existing clients unaffected
        assert conns[0].cmd("CONFIG", "GET", "maxclients") == [b"maxclients", b"3"]
        conns.pop().close()

        def can_connect():
            c = Raw(s.port)
            try:
                return c.cmd("PING") == "PONG"
            except Exception:
                return False
            finally:
                c.close()
        wait_until(can_connect, msg="a slot to free up")
    finally:
        for c in conns:
            c.close()


def test_maxclients_config_set(sardine):
    r = sardine.client()
    assert r.config_set("maxclients", "2") is True
    c1 = Raw(sardine.port)  # r + c1 = 2 clients
    try:
        assert c1.cmd("PING") == "PONG"
        c2 = Raw(sardine.port)
        try:
            c2.send(encode("PING"))
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert c2.read_until_closed() == b"-ERR max number of clients reached\r\n"
        c2.close()
    finally:
        c1.close()


# ---------------------------------------------------------------------------------------------
# Hardening (issue 10): framing edges and unauthenticated clients
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("count", [b"0", b"-1", b"-2", b"-100", b"-9223372036854775808"])
def test_multibulk_count_zero_or_negative_is_ignored(sardine, count):
    """Redis ignores a multibulk count <= 0: no reply, the connection stays, what follows runs."""
    with Raw(sardine.port) as c:
        c.send(b"*" + count + b"\r\n" + encode("SET", "after", count))
        assert c.reply() == "OK"
        assert c.cmd("GET", "after") == count


def test_bulk_length_minus_one_inside_multibulk_is_an_error(sardine):
    with Raw(sardine.port) as c:
        c.send(b"*2\r\n$4\r\nECHO\r\n$-1\r\n")
        assert c.read_until_closed() == b"-ERR Protocol error: invalid bulk length\r\n"


def test_nul_before_line_end_waits_as_redis(sardine):
    """Redis finds line ends with strchr: a NUL byte hides a later \\n (the line waits)."""
    with Raw(sardine.port) as c:
        c.send(b"ECHO a\x00b\r\n")
        assert c.nothing_pending(0.3)


@pytest.fixture
def authsrv(make_sardine):
    return make_sardine("--requirepass", "secret")


@pytest.mark.parametrize("data,msg", [
    (b"*11\r\n", "unauthenticated multibulk length"),
    (b"*1\r\n$16385\r\n", "unauthenticated bulk length"),
    (b"*2\r\n$4\r\nAUTH\r\n$16385\r\n", "unauthenticated bulk length"),
])
def test_unauthenticated_limits(authsrv, data, msg):
    with Raw(authsrv.port) as c:
        c.send(data)
        assert c.read_until_closed() == b"-ERR Protocol error: " + msg.encode() + b"\r\n"
    with Raw(authsrv.port) as c:  # within the limits: a normal NOAUTH
        c.send(encode(*(["DEL"] + ["a" * 16384] * 9)))
        assert c.reply().msg.startswith("NOAUTH")
        assert c.cmd("AUTH", "secret") == "OK"
        assert c.cmd("ECHO", "x" * 20000) == b"x" * 20000  # authenticated: no such limits


@pytest.mark.skipif(IS_REAL_REDIS, reason="Redis 7.0 keeps queueing -NOAUTH replies without bound")
def test_unauthenticated_client_cannot_make_the_server_hold_much(authsrv):
    """A client that cannot run commands pipelines thousands of them and never reads the -NOAUTH
    replies: the server stops reading it once a few KB of replies wait, so it holds little."""
    ctl = Raw(authsrv.port)
    assert ctl.cmd("AUTH", "secret") == "OK"
    hostile = socket.socket()
    hostile.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    hostile.connect(("127.0.0.1", authsrv.port))
    hostile.setblocking(False)
    sent = 0
    chunk = b"PING\r\n" * 2000 + b"SET k " + b"v" * 60000 + b"\r\n"
    deadline = time.time() + 3
    while time.time() < deadline and sent < 20 * 1024 * 1024:
        try:
            sent += hostile.send(chunk)
        except BlockingIOError:
            time.sleep(0.05)
    time.sleep(0.3)
    addr = "127.0.0.1:%d" % hostile.getsockname()[1]
    lines = ctl.cmd("CLIENT", "LIST").decode().splitlines()
    fields = [dict(f.split("=", 1) for f in l.split(" ") if "=" in f) for l in lines]
    fields = [f for f in fields if f["addr"] == addr]
    assert len(fields) == 1, lines
    for f in fields:
        held = int(f["qbuf"]) + int(f["qbuf-free"]) + int(f["obl"]) + int(f["omem"])
        assert held < 100 * 1024, f
        assert int(f["obl"]) < 16 * 1024, f
    assert sent < 20 * 1024 * 1024  # backpressure reached the sender
    assert ctl.cmd("PING") == "PONG"
    hostile.close()
