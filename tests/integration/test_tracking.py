"""Client-side caching (CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO) against redis-server 7.0.

Most tests are transcripts run on Sardine and on the oracle: each step is sent on a named raw connection,
then every connection is PINGed and read up to the PING's reply, so every invalidation a step caused
(RESP3 pushes, `__redis__:invalidate` messages, BCAST arrays sent before the loop sleeps) is in the
transcript, which must be the same on both servers.  Client IDs differ between the servers: `@name` in a
step's arguments is replaced by that connection's ID, and IDs in replies are shown as `@name`.  A step
marked nodrain is followed by no PINGs (a PING would end CLIENT CACHING's one-command scope).

Sardine alone: tracking-table-max-keys (which key goes is random), INFO's counters, CLIENT LIST's flags."""
import pytest

from sardine_resp import Err, Push, Raw, encode, parse_info, wait_until  # noqa: F401
from tracking_transcript import assert_same, drain


def test_resp3_invalidations(sardine, oracle):
    assert_same(sardine, oracle, [
        ("t", ("HELLO", "3")),
        ("t", ("CLIENT", "TRACKING", "on")),
        ("w", ("SET", "a", "1")),
        ("t", ("GET", "a")),
        ("t", ("MGET", "b", "c", "a")),
        ("w", ("SET", "a", "2")),          # one invalidation, then a is forgotten
        ("w", ("SET", "a", "3")),
        ("t", ("GET", "a")),
        ("t", ("SET", "a", "4")),          # its own write: after its reply
        ("t", ("HGETALL", "h")),
        ("w", ("HSET", "h", "f", "v")),
        ("t", ("STRLEN", "b")),
        ("w", ("MSET", "b", "1", "c", "2")),
        ("t", ("EXISTS", "x", "y")),
        ("w", ("SELECT", "3")),
        ("w", ("SET", "x", "1")),          # keys are tracked by name, whatever the database
        ("t", ("GET", "y")),
        ("w", ("RENAME", "x", "y")),
        ("t", ("GET", "m")),
        ("w", ("SET", "m", "1")),
        ("t", ("GET", "m")),
        ("w", ("MOVE", "m", "0")),
        ("t", ("LRANGE", "l", "0", "-1")),
        ("w", ("LPUSH", "l", "1")),
        ("t", ("SUBSCRIBE", "ch")),        # pub/sub commands are never tracked
        ("w", ("PUBLISH", "ch", "x")),
        ("t", ("GET", "s1")),
        ("w", ("SWAPDB", "0", "1")),       # no invalidation in Redis 7.0
        ("t", ("CLIENT", "TRACKING", "off")),
        ("w", ("SET", "s1", "v")),
    ])


def test_flush_sends_null(sardine, oracle):
    assert_same(sardine, oracle, [
        ("t3", ("HELLO", "3")),
        ("t3", ("CLIENT", "TRACKING", "on")),
        ("r", ("SUBSCRIBE", "__redis__:invalidate")),
        ("t2", ("CLIENT", "TRACKING", "on", "REDIRECT", "@r")),
        ("t3", ("GET", "a")),
        ("t2", ("GET", "a")),
        ("w", ("FLUSHALL",)),              # one null each, however many databases
        ("w", ("SET", "a", "1")),          # the table was emptied
        ("t3", ("GET", "a")),
        ("w", ("FLUSHDB",)),
        ("t3", ("MULTI",)),
        ("t3", ("FLUSHDB",)),
        ("t3", ("GET", "a")),
        ("t3", ("FLUSHALL",)),
        ("t3", ("EXEC",)),                 # its nulls after EXEC's reply
        ("t3", ("FLUSHDB", "ASYNC")),
    ])


def test_redirect_resp2_and_broken(sardine, oracle):
    assert_same(sardine, oracle, [
        ("r", ("SUBSCRIBE", "__redis__:invalidate")),
        ("t", ("CLIENT", "TRACKING", "on", "REDIRECT", "@r")),
        ("t", ("CLIENT", "GETREDIR"), "ids"),
        ("t", ("GET", "k")),
        ("w", ("SET", "k", "1")),
        ("n", ("PING",)),
        ("t2", ("CLIENT", "TRACKING", "on", "REDIRECT", "@n")),   # not subscribed, RESP2: nothing arrives
        ("t2", ("GET", "k")),
        ("w", ("SET", "k", "2")),
        ("r3", ("HELLO", "3")),
        ("t3", ("HELLO", "3")),
        ("t3", ("CLIENT", "TRACKING", "on", "REDIRECT", "@r3")),
        ("t3", ("GET", "k")),
        ("t", ("GET", "k")),
        ("r3", ("QUIT",)),
        ("w", ("CLIENT", "KILL", "ID", "@r")),
        ("w", ("SET", "k", "3")),          # t3 (RESP3) is told its redirect broke; t (RESP2) is not
        ("t3", ("CLIENT", "TRACKINGINFO")),
        ("t", ("CLIENT", "TRACKINGINFO")),
        ("t3", ("GET", "k")),
        ("w", ("SET", "k", "4")),
        ("t3", ("CLIENT", "TRACKING", "on")),   # re-enabled without a redirect: mended
        ("t3", ("GET", "k")),
        ("w", ("SET", "k", "5")),
        ("t3", ("CLIENT", "TRACKINGINFO")),
    ])


def test_bcast_prefixes_and_noloop(sardine, oracle):
    assert_same(sardine, oracle, [
        ("b", ("HELLO", "3")),
        ("b", ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:", "PREFIX", "obj:")),
        ("w", ("SET", "user:1", "x")),
        ("w", ("MSET", "user:3", "1", "obj:9", "2", "other", "3", "user:2", "4", "user:3", "5")),
        ("w", ("DEL", "other")),
        ("a", ("HELLO", "3")),
        ("a", ("CLIENT", "TRACKING", "on", "BCAST", "NOLOOP")),
        ("a", ("SET", "mine", "1")),       # NOLOOP: its own change is not sent to it
        ("w", ("SET", "theirs", "1")),
        ("a", ("MSET", "x", "1", "user:1", "2")),
        ("a", ("CLIENT", "TRACKINGINFO")),
        ("b", ("CLIENT", "TRACKINGINFO")),
        ("b", ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user")),
        ("b", ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "zz", "PREFIX", "z")),
        ("b", ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "new:")),
        ("w", ("SET", "new:1", "1")),
        ("b", ("CLIENT", "TRACKINGINFO")),
        ("b", ("CLIENT", "TRACKING", "on")),
        ("b", ("CLIENT", "TRACKING", "off")),
        ("w", ("SET", "user:1", "y")),
        ("a", ("FLUSHALL",)),
    ])


def test_optin_optout(sardine, oracle):
    assert_same(sardine, oracle, [
        ("i", ("HELLO", "3")),
        ("i", ("CLIENT", "TRACKING", "on", "OPTIN")),
        ("i", ("GET", "a")),               # not cached: no CACHING YES
        ("i", ("CLIENT", "CACHING", "yes"), "nodrain"),
        ("i", ("GET", "b"), "nodrain"),    # cached
        ("i", ("GET", "c")),               # the flag lasted one command
        ("w", ("MSET", "a", "1", "b", "1", "c", "1")),
        ("i", ("CLIENT", "CACHING", "yes"), "nodrain"),
        ("i", ("CLIENT", "TRACKINGINFO"), "nodrain"),
        ("i", ("MULTI",), "nodrain"),
        ("i", ("GET", "a"), "nodrain"),
        ("i", ("GET", "b"), "nodrain"),
        ("i", ("EXEC",)),                  # the whole transaction counts
        ("w", ("MSET", "a", "2", "b", "2")),
        ("o", ("HELLO", "3")),
        ("o", ("CLIENT", "TRACKING", "on", "OPTOUT")),
        ("o", ("GET", "a")),
        ("o", ("CLIENT", "CACHING", "no"), "nodrain"),
        ("o", ("GET", "b"), "nodrain"),
        ("w", ("MSET", "a", "3", "b", "3")),
        ("o", ("CLIENT", "CACHING", "yes")),
        ("i", ("CLIENT", "CACHING", "no")),
        ("n", ("CLIENT", "CACHING", "yes")),
        ("o", ("CLIENT", "TRACKING", "on", "OPTIN")),
        ("o", ("CLIENT", "TRACKING", "on", "OPTOUT", "NOLOOP")),
        ("o", ("GET", "a")),
        ("o", ("SET", "a", "x")),          # NOLOOP: not told about its own write
        ("o", ("CLIENT", "TRACKINGINFO")),
    ])


def test_errors(sardine, oracle):
    assert_same(sardine, oracle, [
        ("c", ("CLIENT", "TRACKING", "maybe")),
        ("c", ("CLIENT", "TRACKING", "on", "bogus")),
        ("c", ("CLIENT", "TRACKING", "on", "PREFIX")),
        ("c", ("CLIENT", "TRACKING", "on", "PREFIX", "a")),
        ("c", ("CLIENT", "TRACKING", "on", "REDIRECT", "x")),
        ("c", ("CLIENT", "TRACKING", "on", "REDIRECT", "0")),
        ("c", ("CLIENT", "TRACKING", "on", "REDIRECT", "99999")),
        ("c", ("CLIENT", "TRACKING", "on", "REDIRECT", "@d", "REDIRECT", "@d")),
        ("c", ("CLIENT", "TRACKING", "on", "BCAST", "OPTIN")),
        ("c", ("CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT")),
        ("c", ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab", "PREFIX", "a")),
        ("c", ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "b", "PREFIX", "a")),
        ("c", ("CLIENT", "TRACKING", "off", "bogus")),
        ("c", ("CLIENT", "TRACKING")),
        ("c", ("CLIENT", "CACHING", "yes")),
        ("c", ("CLIENT", "CACHING")),
        ("c", ("CLIENT", "GETREDIR")),
        ("c", ("CLIENT", "GETREDIR", "x")),
        ("c", ("CLIENT", "TRACKINGINFO")),
        ("c", ("CLIENT", "TRACKINGINFO", "x")),
        ("c", ("CLIENT", "TRACKING", "on", "OPTIN")),
        ("c", ("CLIENT", "CACHING", "maybe")),
        ("c", ("CLIENT", "TRACKING", "on", "BCAST")),
        ("c", ("CLIENT", "TRACKING", "on", "OPTOUT")),
        ("c", ("CLIENT", "TRACKING", "on", "OPTIN", "NOLOOP")),
        ("c", ("CLIENT", "TRACKINGINFO")),
        ("c", ("CLIENT", "TRACKING", "OFF")),
        ("c", ("CLIENT", "TRACKINGINFO")),
        ("c", ("CLIENT", "GETREDIR")),
    ])


def test_scripts_and_transactions(sardine, oracle):
    assert_same(sardine, oracle, [
        ("t", ("HELLO", "3")),
        ("t", ("CLIENT", "TRACKING", "on")),
        ("t", ("EVAL", "return redis.call('get', KEYS[1])", "1", "k1")),   # a read inside: KEYS remembered
        ("t", ("EVAL", "return redis.call('get', 'k2')", "1", "k3")),      # the declared key, not the one read
        ("t", ("EVAL_RO", "return 1", "1", "k4")),                         # no read inside: nothing
        ("t", ("EVAL", "return redis.call('set', KEYS[1], 'x')", "1", "k5")),
        ("w", ("MSET", "k1", "1", "k2", "1", "k3", "1", "k4", "1", "k5", "1")),
        ("t", ("GET", "k1")),
        ("t", ("MULTI",)),
        ("t", ("SET", "k1", "2")),
        ("t", ("GET", "k1")),
        ("t", ("SET", "k1", "3")),
        ("t", ("EXEC",)),                    # its own invalidations follow EXEC's reply
        ("t", ("EVAL", "redis.call('get', KEYS[1]); return redis.call('set', KEYS[1], 'y')", "1", "k6")),
        ("w", ("SET", "k6", "z")),
        ("t", ("GET", "k7")),
        ("w", ("EVAL", "return redis.call('set', 'k7', 'x')", "0")),
    ])


def test_expiry_and_eviction(sardine, oracle):
    steps = [
        ("t", ("HELLO", "3")),
        ("t", ("CLIENT", "TRACKING", "on")),
        ("w", ("DEBUG", "SET-ACTIVE-EXPIRE", "0")),
        ("w", ("SET", "e", "1", "PX", "500")),
        ("t", ("GET", "e")),
        ("w", ("DEBUG", "SLEEP", "0.6")),
        ("w", ("GET", "e")),                # lazily expired by another client: t is told
        ("t", ("GET", "e")),
        ("w", ("SET", "e", "1", "PX", "500")),
        ("t", ("GET", "e")),
        ("w", ("DEBUG", "SLEEP", "0.6")),
        ("t", ("GET", "e")),                # expired under its own read: after the reply, then tracked again
        ("w", ("SET", "e", "2")),
        ("w", ("DEBUG", "SET-ACTIVE-EXPIRE", "1")),
    ]
    assert_same(sardine, oracle, steps)


def test_eviction_invalidates(make_sardine, make_oracle):
    for server in (make_sardine(), make_oracle()):
        t, w = Raw(server.port), Raw(server.port)
        t.cmd("HELLO", "3")
        assert t.cmd("CLIENT", "TRACKING", "on") == "OK"
        w.cmd("SET", "victim", "x" * 100)
        t.cmd("GET", "victim")
        w.cmd("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
        w.cmd("CONFIG", "SET", "maxmemory", "1")   # the next command evicts everything
        w.cmd("PING")
        w.cmd("CONFIG", "SET", "maxmemory", "0")
        got = drain(t)
        assert got == [Push([b"invalidate", [b"victim"]])], got
        t.close(), w.close()


def test_table_max_keys(sardine):
    t, w = Raw(sardine.port), Raw(sardine.port)
    t.cmd("HELLO", "3")
    t.cmd("CLIENT", "TRACKING", "on")
    w.cmd("CONFIG", "SET", "tracking-table-max-keys", "3")
    t.send(b"".join(encode("GET", f"k{i}") for i in range(10)))
    got = drain(t)   # each command first trims the table to 3 keys, with invalidations before its reply
    assert [m for m in got if not isinstance(m, Push)] == [None] * 10
    keys = [k for m in got if isinstance(m, Push) for k in m[1]]
    assert all(m[0] == b"invalidate" for m in got if isinstance(m, Push))
    info = parse_info(w.cmd("INFO", "stats"))
    left = int(info["tracking_total_keys"])
    assert left in (3, 4)   # the last GET added one after the trim (the cron may have trimmed since)
    assert int(info["tracking_total_items"]) == left
    assert len(keys) == 10 - left and len(set(keys)) == 10 - left
    w.cmd("PING")
    assert int(parse_info(w.cmd("INFO", "stats"))["tracking_total_keys"]) == 3
    w.cmd("CONFIG", "SET", "tracking-table-max-keys", "0")
    for i in range(20):
        t.cmd("GET", f"x{i}")
    assert int(parse_info(w.cmd("INFO", "stats"))["tracking_total_keys"]) == 23
    t.close(), w.close()


def test_info_and_client_list(sardine):
    a, b, c = Raw(sardine.port), Raw(sardine.port), Raw(sardine.port)
    bid = b.cmd("CLIENT", "ID")
    a.cmd("CLIENT", "TRACKING", "on", "REDIRECT", str(bid))
    b.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p:", "PREFIX", "q:")
    c.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p:")
    for k in ("x", "y"):
        a.cmd("GET", k)
    c.cmd("CLIENT", "TRACKING", "off")
    info = parse_info(a.cmd("INFO"))
    assert info["tracking_clients"] == "2"
    assert info["tracking_total_keys"] == "2" and info["tracking_total_items"] == "2"
    assert info["tracking_total_prefixes"] == "2"
    line = a.cmd("CLIENT", "INFO").decode()
    assert " flags=t " in line and f" redir={bid} " in line
    assert " flags=tB " in b.cmd("CLIENT", "INFO").decode()
    assert " redir=-1 " in c.cmd("CLIENT", "INFO").decode()
    b.close()
    wait_until(lambda: parse_info(c.cmd("INFO", "clients"))["connected_clients"] == "2")
    c.cmd("SET", "x", "1")
    assert " flags=tR " in a.cmd("CLIENT", "INFO").decode()
    assert a.cmd("RESET") == "RESET"
    assert a.cmd("CLIENT", "TRACKINGINFO") == [b"flags", [b"off"], b"redirect", -1, b"prefixes", []]
    info = parse_info(a.cmd("INFO"))
    assert info["tracking_clients"] == "0" and info["tracking_total_prefixes"] == "0"
    assert info["tracking_total_keys"] == "1"   # y: forgotten lazily, when it changes
    c.cmd("SET", "y", "1")
    assert parse_info(a.cmd("INFO"))["tracking_total_keys"] == "0"
    a.close(), c.close()


def test_many_keys_and_clients(sardine):
    """The table through growth, shrinking and a flush, with keys read by several clients."""
    ts = [Raw(sardine.port) for _ in range(3)]
    w = Raw(sardine.port)
    for t in ts:
        t.cmd("HELLO", "3")
        t.cmd("CLIENT", "TRACKING", "on")
    n = 3000
    for j, t in enumerate(ts):
        t.send(b"".join(encode("GET", f"key:{i}") for i in range(0, n, j + 1)))
        for _ in range(0, n, j + 1):
            assert t.reply() is None
    info = parse_info(w.cmd("INFO", "stats"))
    assert int(info["tracking_total_keys"]) == n
    assert int(info["tracking_total_items"]) == n + n // 2 + n // 3
    w.send(b"".join(encode("SET", f"key:{i}", "v") for i in range(0, n, 2)))
    for _ in range(0, n, 2):
        assert w.reply() == "OK"
    got0 = drain(ts[0])
    assert sorted(m[1][0] for m in got0) == sorted(f"key:{i}".encode() for i in range(0, n, 2))
    got1 = drain(ts[1])
    assert len(got1) == n // 2
    assert int(parse_info(w.cmd("INFO", "stats"))["tracking_total_keys"]) == n // 2
    assert len(drain(ts[2])) == len(set(range(0, n, 2)) & set(range(0, n, 3)))
    w.cmd("FLUSHALL")
    for t in ts:
        assert drain(t) == [Push([b"invalidate", None])]
    assert int(parse_info(w.cmd("INFO", "stats"))["tracking_total_keys"]) == 0
    for t in ts:
        t.close()
    w.close()


def test_disconnect_of_tracking_client(sardine):
    a = Raw(sardine.port)
    w = Raw(sardine.port)
    a.cmd("CLIENT", "TRACKING", "on")
    a.cmd("GET", "k")
    a.close()
    wait_until(lambda: parse_info(w.cmd("INFO", "clients"))["tracking_clients"] == "0")
    assert w.cmd("SET", "k", "1") == "OK"
    assert parse_info(w.cmd("INFO", "stats"))["tracking_total_keys"] == "0"
    w.close()


@pytest.mark.parametrize("resp", [2, 3])
def test_trackinginfo_types(sardine, resp):
    c = Raw(sardine.port)
    c.cmd("HELLO", str(resp))
    c.cmd("CLIENT", "TRACKING", "on", "OPTIN")
    r = c.cmd("CLIENT", "TRACKINGINFO")
    flags = r[1] if resp == 2 else r[0][1]
    assert list(flags) == [b"on", b"optin"]
    assert c.cmd("CLIENT", "GETREDIR") == 0
    assert c.cmd("CLIENT", "TRACKING", "on", "BCAST") == Err(
        "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then "
        "re-enabling it with a different mode.")
    c.close()


def test_overlapping_given_prefixes_reply_once(sardine):
    """Deliberate difference (README.md): Redis 7.0 replies the error and then +OK when the overlapping
    pair does not involve the first prefix; Sardine replies the error alone and does not enable tracking."""
    from conftest import IS_REAL_REDIS
    if IS_REAL_REDIS:
        pytest.skip("Sardine's deliberate difference")
    c = Raw(sardine.port)
    assert c.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "b", "PREFIX", "bc") == Err(
        "ERR Prefix 'b' overlaps with another provided prefix 'bc'. Prefixes for a single client must not overlap.")
    assert c.cmd("PING") == "PONG"
    assert c.cmd("CLIENT", "TRACKINGINFO")[1] == [b"off"]
    c.close()


def test_many_prefixes(sardine, oracle):
    """50,000 prefixes on Sardine (2,000 on the oracle, which compares every pair): without overlaps a sort;
    the overlap texts as Redis's, naming the first overlapping prefix in byte order."""
    def pairs(ps):
        return [x for p in ps for x in ("PREFIX", p)]

    for server, n in ((sardine, 50000), (oracle, 2000)):
        c = Raw(server.port, timeout=120)
        many = [f"p{i}:" for i in range(n)]
        assert c.cmd("CLIENT", "TRACKING", "on", "BCAST", *pairs(many)) == "OK"
        assert parse_info(c.cmd("INFO", "stats"))["tracking_total_prefixes"] == str(n)
        assert c.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "q", "PREFIX", "p123:x") == Err(
            "ERR Prefix 'p123:x' overlaps with an existing prefix 'p123:'. Prefixes for a single client must "
            "not overlap.")
        first = min(p for p in many if p.startswith("p7"))   # ASCII: Python's order is the bytes'
        assert c.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p7") == Err(
            f"ERR Prefix 'p7' overlaps with an existing prefix '{first}'. Prefixes for a single client must not "
            "overlap.")
        w = Raw(server.port)
        w.cmd("SET", "p12:x", "1")
        w.cmd("SET", "zz", "1")
        assert drain(c) == []   # RESP2 without a redirect: nowhere to send it, but it was matched
        assert c.cmd("CLIENT", "TRACKING", "off") == "OK"
        assert parse_info(c.cmd("INFO", "stats"))["tracking_total_prefixes"] == "0"
        few = [f"r{i}:" for i in range(900)] + ["r5", "r12:"]
        assert c.cmd("CLIENT", "TRACKING", "on", "BCAST", *pairs(few)) == Err(
            "ERR Prefix 'r5:' overlaps with another provided prefix 'r5'. Prefixes for a single client must "
            "not overlap.")
        c.close(), w.close()


def test_many_prefixes_bcast_messages(sardine):
    c = Raw(sardine.port)
    c.cmd("HELLO", "3")
    ps = [f"k{i}:" for i in range(3000)] + [""]
    assert c.cmd("CLIENT", "TRACKING", "on", "BCAST", *[x for p in ps[:-1] for x in ("PREFIX", p)]) == "OK"
    w = Raw(sardine.port)
    w.cmd("MSET", "k5:a", "1", "k5:b", "1", "k17:", "1", "k1:", "1", "nomatch", "1")
    got = drain(c)
    # one message per prefix, prefixes in byte order: k17: < k1: < k5:
    assert got == [Push([b"invalidate", [b"k17:"]]), Push([b"invalidate", [b"k1:"]]),
                   Push([b"invalidate", [b"k5:a", b"k5:b"]])]
    c.close(), w.close()


def test_overlapping_given_prefixes_reply_once(sardine):
    """Deliberate difference (README.md): Redis 7.0 replies the error and then +OK when the overlapping
    pair does not involve the first prefix; Sardine replies the error alone and does not enable tracking."""
    from conftest import IS_REAL_REDIS
    if IS_REAL_REDIS:
        pytest.skip("Sardine's deliberate difference")
    c = Raw(sardine.port)
    assert c.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "b", "PREFIX", "bc") == Err(
        "ERR Prefix 'b' overlaps with another provided prefix 'bc'. Prefixes for a single client must not overlap.")
    assert c.cmd("PING") == "PONG"
    assert c.cmd("CLIENT", "TRACKINGINFO")[1] == [b"off"]
    c.close()

