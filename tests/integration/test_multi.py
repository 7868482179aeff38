"""MULTI / EXEC / DISCARD / WATCH / UNWATCH."""
import time

import pytest

from sardine_resp import Err, Raw, encode

EXECABORT = Err("EXECABORT Transaction discarded because of previous errors.")


def check(c, steps):
    for args, expected in steps:
        got = c.cmd(*args)
        assert got == expected and type(got) is type(expected), f"{args}: got {got!r}, want {expected!r}"


def test_basic_transaction(c):
    check(c, [
        (("MULTI",), "OK"),
        (("SET", "a", "1"), "QUEUED"),
        (("INCR", "a"), "QUEUED"),
        (("GET", "a"), "QUEUED"),
        (("GET", "nosuch"), "QUEUED"),
        (("MGET", "a", "nosuch"), "QUEUED"),
        (("PING",), "QUEUED"),
        (("EXEC",), ["OK", 2, b"2", None, [b"2", None], "PONG"]),
        (("GET", "a"), b"2"),
    ])


def test_exec_reply_bytes(sardine):
    with Raw(sardine.port) as c:
        c.send(encode("MULTI") + encode("SET", "a", "1") + encode("INCR", "a") + encode("EXEC"))
        expected = b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n:2\r\n"
        assert c.read_raw(len(expected)) == expected
        c.send(encode("MULTI") + encode("EXEC"))
        assert c.read_raw(9) == b"+OK\r\n*0\r\n"


def test_empty_transaction(c):
    check(c, [(("MULTI",), "OK"), (("EXEC",), [])])


def test_discard(c):
    check(c, [
        (("SET", "a", "orig"), "OK"),
        (("MULTI",), "OK"),
        (("SET", "a", "changed"), "QUEUED"),
        (("DISCARD",), "OK"),
        (("GET", "a"), b"orig"),
        (("EXEC",), Err("ERR EXEC without MULTI")),
        (("DISCARD",), Err("ERR DISCARD without MULTI")),
    ])


def test_exec_without_multi(c):
    assert c.cmd("EXEC") == Err("ERR EXEC without MULTI")
    assert c.cmd("DISCARD") == Err("ERR DISCARD without MULTI")


def test_nested_multi_is_an_error_but_does_not_abort(c):
    check(c, [
        (("MULTI",), "OK"),
        (("SET", "a", "1"), "QUEUED"),
        (("MULTI",), Err("ERR MULTI calls can not be nested")),
        (("INCR", "a"), "QUEUED"),
        (("EXEC",), ["OK", 2]),
    ])


def test_watch_inside_multi_is_an_error_but_does_not_abort(c):
    check(c, [
        (("MULTI",), "OK"),
        (("SET", "a", "2"), "QUEUED"),
        (("WATCH", "x"), Err("ERR WATCH inside MULTI is not allowed")),
        (("EXEC",), ["OK"]),
    ])


@pytest.mark.parametrize("bad", [
    ("GET",),
    ("SET", "k"),
    ("NOSUCHCOMMAND", "x"),
    ("CONFIG", "GET"),
])
def test_queuing_error_aborts_exec(c, bad):
    c.cmd("SET", "a", "orig")
    check(c, [
        (("MULTI",), "OK"),
        (("SET", "a", "1"), "QUEUED"),
    ])
    assert isinstance(c.cmd(*bad), Err)
    check(c, [
        (("SET", "b", "2"), "QUEUED"),
        (("EXEC",), EXECABORT),
        (("GET", "a"), b"orig"),
        (("EXISTS", "b"), 0),
        (("EXEC",), Err("ERR EXEC without MULTI")),  # the transaction is gone
    ])


def test_queuing_error_then_discard(c):
    check(c, [
        (("MULTI",), "OK"),
        (("GET",), Err("ERR wrong number of arguments for 'get' command")),
        (("DISCARD",), "OK"),
        (("PING",), "PONG"),
    ])


def test_exec_with_args_aborts(c):
    check(c, [
        (("MULTI",), "OK"),
        (("SET", "a", "1"), "QUEUED"),
        (("EXEC", "x"), Err("EXECABORT Transaction discarded because of: wrong number of arguments for "
                            "'exec' command")),
        (("EXISTS", "a"), 0),
        (("DISCARD",), Err("ERR DISCARD without MULTI")),
        (("DISCARD", "x"), Err("ERR wrong number of arguments for 'discard' command")),
    ])


def test_runtime_errors_inside_exec(c):
    check(c, [
        (("MULTI",), "OK"),
        (("SET", "a", "x"), "QUEUED"),
        (("INCR", "a"), "QUEUED"),
        (("SET", "b", "2"), "QUEUED"),
        (("SET", "c", "v", "EX", "0"), "QUEUED"),
        (("SET", "d", "v", "NX", "XX"), "QUEUED"),
        (("INCRBYFLOAT", "a", "1"), "QUEUED"),
        (("SELECT", "99"), "QUEUED"),
        (("EXEC",), ["OK", Err("ERR value is not an integer or out of range"), "OK",
                     Err("ERR invalid expire time in 'set' command"), Err("ERR syntax error"),
                     Err("ERR value is not a valid float"), Err("ERR DB index is out of range")]),
        (("GET", "b"), b"2"),
        (("EXISTS", "c", "d"), 0),
    ])


def test_select_inside_transaction(c):
    check(c, [
        (("MULTI",), "OK"),
        (("SET", "a", "db0"), "QUEUED"),
        (("SELECT", "1"), "QUEUED"),
        (("GET", "a"), "QUEUED"),
        (("SET", "a", "db1"), "QUEUED"),
        (("EXEC",), ["OK", "OK", None, "OK"]),
        (("GET", "a"), b"db1"),  # the SELECT persists after EXEC
        (("SELECT", "0"), "OK"),
        (("GET", "a"), b"db0"),
    ])


def test_transaction_is_atomic_for_other_clients(sardine, c):
    other = sardine.client()
    c.cmd("MULTI")
    c.cmd("SET", "a", "1")
    c.cmd("SET", "b", "1")
    assert other.get("a") is None  # queued, not executed
    assert c.cmd("EXEC") == ["OK", "OK"]
    assert other.mget("a", "b") == [b"1", b"1"]


def test_pipelined_transaction(sardine):
    with Raw(sardine.port) as c:
        data = encode("MULTI") + b"".join(encode("INCR", "n") for _ in range(500)) + encode("EXEC")
        c.send(data)
        assert c.reply() == "OK"
        for _ in range(500):
            assert c.reply() == "QUEUED"
        assert c.reply() == list(range(1, 501))


def test_quit_inside_multi(sardine):
    with Raw(sardine.port) as c:
        c.send(encode("MULTI") + encode("SET", "a", "1") + encode("QUIT"))
        assert c.read_until_closed() == b"+OK\r\n+QUEUED\r\n+OK\r\n"
    assert sardine.client().exists("a") == 0


def test_disconnect_discards_transaction(sardine):
    c = Raw(sardine.port)
    c.cmd("MULTI")
    c.cmd("SET", "a", "1")
    c.close()
    r = sardine.client()
    time.sleep(0.05)
    assert r.exists("a") == 0


# ---------------------------------------------------------------------------------------------
# WATCH
# ---------------------------------------------------------------------------------------------

def run_watched(sardine, setup, between, key="k"):
    """WATCH key on connection A, run `between` on connection B, then MULTI/PING/EXEC on A."""
    with Raw(sardine.port) as a, Raw(sardine.port) as b:
        for cmd in setup:
            a.cmd(*cmd)
        assert a.cmd("WATCH", key) == "OK"
        for cmd in between:
            if cmd[0] == "sleep":
                time.sleep(cmd[1])
            else:
                b.cmd(*cmd)
        assert a.cmd("MULTI") == "OK"
        assert a.cmd("PING") == "QUEUED"
        return a.cmd("EXEC")


ABORTED = None
OK = ["PONG"]

WATCH_CASES = [
    ("read", [("SET", "k", "v")], [("GET", "k"), ("EXISTS", "k"), ("STRLEN", "k")], OK),
    ("touch", [("SET", "k", "v")], [("TOUCH", "k"), ("OBJECT", "ENCODING", "k")], OK),
    ("write-same-value", [("SET", "k", "v")], [("SET", "k", "v")], ABORTED),
    ("write", [("SET", "k", "1")], [("INCR", "k")], ABORTED),
    ("append-empty", [("SET", "k", "v")], [("APPEND", "k", "")], ABORTED),
    ("failed-setnx", [("SET", "k", "v")], [("SET", "k", "x", "NX")], OK),
    ("create", [], [("SET", "k", "1")], ABORTED),
    ("del-missing", [], [("DEL", "k")], OK),
    ("del", [("SET", "k", "v")], [("DEL", "k")], ABORTED),
    ("expire", [("SET", "k", "v")], [("EXPIRE", "k", "100")], ABORTED),
    ("persist-noop", [("SET", "k", "v")], [("PERSIST", "k")], OK),
    ("getex-noop", [("SET", "k", "v")], [("GETEX", "k")], OK),
    ("getex-ex", [("SET", "k", "v")], [("GETEX", "k", "EX", "100")], ABORTED),
    ("other-key", [("SET", "k", "v")], [("SET", "j", "v")], OK),
    ("other-db", [("SET", "k", "v")], [("SELECT", "1"), ("SET", "k", "x")], OK),
    ("rename-away", [("SET", "k", "v")], [("RENAME", "k", "z")], ABORTED),
    ("rename-onto", [("SET", "z", "v")], [("RENAME", "z", "k")], ABORTED),
    ("copy-from", [("SET", "k", "v")], [("COPY", "k", "k2")], OK),
    ("move", [("SET", "k", "v")], [("MOVE", "k", "1")], ABORTED),
    ("flushall", [("SET", "k", "v")], [("FLUSHALL",)], ABORTED),
    ("flushall-missing-key", [], [("FLUSHALL",)], OK),
    ("flushdb", [("SET", "k", "v")], [("FLUSHDB",)], ABORTED),
    ("flushdb-other-db", [("SET", "k", "v")], [("SELECT", "1"), ("FLUSHDB",)], OK),
    ("swapdb", [("SET", "k", "v")], [("SWAPDB", "0", "1")], ABORTED),
    ("swapdb-brings-key", [], [("SELECT", "1"), ("SET", "k", "x"), ("SWAPDB", "0", "1")], ABORTED),
    ("swapdb-no-key", [], [("SELECT", "1"), ("SET", "j", "x"), ("SWAPDB", "0", "1")], OK),
    ("expired", [("SET", "k", "v", "PX", "400")], [("sleep", 0.7)], ABORTED),
    ("expired-no-active-expire", [("DEBUG", "SET-ACTIVE-EXPIRE", "0"), ("SET", "k", "v", "PX", "400")],
     [("sleep", 0.7)], ABORTED),
]


@pytest.mark.parametrize("setup,between,expected", [c[1:] for c in WATCH_CASES], ids=[c[0] for c in WATCH_CASES])
def test_watch(sardine, setup, between, expected):
    assert run_watched(sardine, setup, between) == expected


def test_watch_abort_leaves_data_untouched(sardine, c):
    other = sardine.client()
    c.cmd("SET", "k", "1")
    assert c.cmd("WATCH", "k") == "OK"
    other.set("k", "2")
    check(c, [
        (("MULTI",), "OK"),
        (("SET", "k", "3"), "QUEUED"),
        (("SET", "j", "x"), "QUEUED"),
        (("EXEC",), None),
        (("GET", "k"), b"2"),
        (("EXISTS", "j"), 0),
    ])


def test_watch_own_write_breaks_transaction(c):
    check(c, [
        (("WATCH", "k"), "OK"),
        (("SET", "k", "mine"), "OK"),
        (("MULTI",), "OK"),
        (("GET", "k"), "QUEUED"),
        (("EXEC",), None),
    ])


def test_exec_and_discard_unwatch(sardine, c):
    other = sardine.client()
    check(c, [
        (("WATCH", "k"), "OK"),
        (("MULTI",), "OK"),
        (("EXEC",), []),
    ])
    other.set("k", "x")  # no longer watched
    check(c, [(("MULTI",), "OK"), (("PING",), "QUEUED"), (("EXEC",), ["PONG"])])
    check(c, [(("WATCH", "k"), "OK"), (("MULTI",), "OK"), (("DISCARD",), "OK")])
    other.set("k", "y")
    check(c, [(("MULTI",), "OK"), (("PING",), "QUEUED"), (("EXEC",), ["PONG"])])


def test_unwatch(sardine, c):
    other = sardine.client()
    check(c, [
        (("UNWATCH",), "OK"),
        (("WATCH", "a", "b"), "OK"),
        (("UNWATCH",), "OK"),
    ])
    other.set("a", "x")
    check(c, [(("MULTI",), "OK"), (("PING",), "QUEUED"), (("EXEC",), ["PONG"])])
    # UNWATCH inside MULTI is just queued
    check(c, [(("MULTI",), "OK"), (("UNWATCH",), "QUEUED"), (("EXEC",), ["OK"])])


def test_watch_multiple_keys_and_calls(sardine, c):
    other = sardine.client()
    check(c, [
        (("WATCH", "a", "b"), "OK"),
        (("WATCH", "c"), "OK"),
    ])
    other.set("c", "1")
    check(c, [(("MULTI",), "OK"), (("PING",), "QUEUED"), (("EXEC",), None)])
    check(c, [(("WATCH", "a", "b", "c"), "OK")])
    other.set("b", "1")
    check(c, [(("MULTI",), "OK"), (("PING",), "QUEUED"), (("EXEC",), None)])


def test_watch_wrong_args(c):
    assert c.cmd("WATCH") == Err("ERR wrong number of arguments for 'watch' command")


def test_watch_is_per_database(sardine, c):
    other = sardine.client(db=2)
    check(c, [(("SELECT", "2"), "OK"), (("WATCH", "k"), "OK"), (("SELECT", "0"), "OK")])
    other.set("k", "v")  # db 2: breaks it even though c moved to db 0
    check(c, [(("MULTI",), "OK"), (("PING",), "QUEUED"), (("EXEC",), None)])


def test_watch_key_expiring_during_transaction_window(sardine, c):
    """A key that already had a TTL and expires between WATCH and EXEC aborts the transaction."""
    c.cmd("SET", "k", "v", "PX", "400")
    assert c.cmd("WATCH", "k") == "OK"
    time.sleep(0.7)
    check(c, [(("MULTI",), "OK"), (("GET", "k"), "QUEUED"), (("EXEC",), None)])


def test_watch_missing_key_stays_missing(sardine, c):
    check(c, [
        (("WATCH", "nosuch"), "OK"),
        (("MULTI",), "OK"),
        (("SET", "nosuch", "1"), "QUEUED"),
        (("EXEC",), ["OK"]),
    ])


def test_many_clients_cas_increment(sardine):
    """Optimistic-locking counter with WATCH: no lost updates."""
    conns = [Raw(sardine.port) for _ in range(5)]
    try:
        conns[0].cmd("SET", "ctr", "0")
        done = [0] * len(conns)
        target = 40
        retries = 0
        while min(done) < target:
            # interleave: everyone reads+watches, then everyone tries to commit
            vals = []
            for i, c in enumerate(conns):
                if done[i] < target:
                    c.cmd("WATCH", "ctr")
                    vals.append((i, int(c.cmd("GET", "ctr"))))
            for i, v in vals:
                c = conns[i]
                c.cmd("MULTI")
                c.cmd("SET", "ctr", str(v + 1))
                if c.cmd("EXEC") is None:
                    retries += 1
                else:
                    done[i] += 1
        assert int(conns[0].cmd("GET", "ctr")) == target * len(conns)
        assert retries > 0
    finally:
        for c in conns:
            c.close()
