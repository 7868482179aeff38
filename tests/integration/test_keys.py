"""Keyspace commands on string keys (non-string types live in test_wrongtype.py)."""
import pytest

from sardine_resp import Err, Raw, wait_until

SYNTAX = Err("ERR syntax error")
NOT_INT = Err("ERR value is not an integer or out of range")
DB_RANGE = Err("ERR DB index is out of range")
SAME = Err("ERR source and destination objects are the same")


def wrong_args(cmd):
    return Err(f"ERR wrong number of arguments for '{cmd}' command")


def check(c, steps):
    for args, expected in steps:
        got = c.cmd(*args)
        assert got == expected and type(got) is type(expected), f"{args}: got {got!r}, want {expected!r}"


def scan_all(c, *opts, count=None):
    cursor, seen, calls = b"0", [], 0
    extra = list(opts) + (["COUNT", str(count)] if count else [])
    while True:
        cursor, keys = c.cmd("SCAN", cursor, *extra)
        assert isinstance(cursor, bytes) and cursor.isdigit()
        seen.extend(keys)
        calls += 1
        assert calls < 100000
        if cursor == b"0":
            return seen


def test_del_unlink_exists(c):
    check(c, [
        (("MSET", "a", "1", "b", "2", "c", "3"), "OK"),
        (("EXISTS", "a"), 1),
        (("EXISTS", "a", "b", "nosuch", "a"), 3),
        (("DEL", "a", "b", "nosuch"), 2),
        (("DEL", "a"), 0),
        (("EXISTS", "a", "b"), 0),
        (("UNLINK", "c", "c"), 1),
        (("UNLINK", "x", "y"), 0),
        (("DBSIZE",), 0),
        (("DEL",), wrong_args("del")),
        (("UNLINK",), wrong_args("unlink")),
        (("EXISTS",), wrong_args("exists")),
    ])


def test_type(c):
    check(c, [
        (("SET", "s", "v"), "OK"),
        (("TYPE", "s"), "string"),
        (("INCR", "n"), 1),
        (("TYPE", "n"), "string"),
        (("TYPE", "nosuch"), "none"),
        (("TYPE",), wrong_args("type")),
    ])


def test_rename(c):
    check(c, [
        (("RENAME", "nosuch", "x"), Err("ERR no such key")),
        (("RENAME", "nosuch", "nosuch"), Err("ERR no such key")),
        (("SET", "a", "1"), "OK"),
        (("RENAME", "a", "a"), "OK"),
        (("GET", "a"), b"1"),
        (("RENAME", "a", "b"), "OK"),
        (("EXISTS", "a"), 0),
        (("GET", "b"), b"1"),
        (("SET", "c", "3"), "OK"),
        (("RENAME", "b", "c"), "OK"),  # overwrites
        (("GET", "c"), b"1"),
        (("DBSIZE",), 1),
        (("EXPIRE", "c", "100"), 1),
        (("RENAME", "c", "d"), "OK"),
        (("TTL", "d"), 100),  # TTL moves with the key
        (("SET", "e", "x", "EX", "500"), "OK"),
        (("SET", "f", "y"), "OK"),
        (("RENAME", "f", "e"), "OK"),
        (("TTL", "e"), -1),  # destination's old TTL is gone
        (("RENAME", "a"), wrong_args("rename")),
    ])


def test_renamenx(c):
    check(c, [
        (("RENAMENX", "nosuch", "x"), Err("ERR no such key")),
        (("SET", "b", "2"), "OK"),
        (("RENAMENX", "b", "b"), 0),
        (("SET", "c", "3"), "OK"),
        (("RENAMENX", "b", "c"), 0),
        (("GET", "c"), b"3"),
        (("GET", "b"), b"2"),
        (("EXPIRE", "b", "100"), 1),
        (("RENAMENX", "b", "d"), 1),
        (("TTL", "d"), 100),
        (("EXISTS", "b"), 0),
    ])


def test_copy(c):
    check(c, [
        (("SET", "e", "1", "EX", "100"), "OK"),
        (("COPY", "e", "f"), 1),
        (("GET", "f"), b"1"),
        (("TTL", "f"), 100),
        (("COPY", "e", "f"), 0),
        (("SET", "e", "2"), "OK"),
        (("COPY", "e", "f", "REPLACE"), 1),
        (("GET", "f"), b"2"),
        (("TTL", "f"), -1),
        (("COPY", "e", "e"), SAME),
        (("COPY", "nosuch", "g"), 0),
        (("EXISTS", "g"), 0),
        (("COPY", "e", "g", "DB", "1"), 1),
        (("EXISTS", "g"), 0),
        (("COPY", "e", "g", "DB", "1"), 0),
        (("COPY", "e", "g", "DB", "1", "REPLACE"), 1),
        (("COPY", "e", "e", "DB", "0"), SAME),
        (("COPY", "e", "e", "DB", "1", "REPLACE"), 1),
        (("COPY", "e", "g", "DB", "16"), DB_RANGE),
        (("COPY", "e", "g", "DB", "-1"), DB_RANGE),
        (("COPY", "e", "g", "DB", "abc"), NOT_INT),
        (("COPY", "e", "g", "FOO"), SYNTAX),
        (("COPY", "e", "g", "DB"), SYNTAX),
        (("COPY", "e"), wrong_args("copy")),
        (("SELECT", "1"), "OK"),
        (("GET", "g"), b"2"),
        (("GET", "e"), b"2"),
        (("DBSIZE",), 2),
    ])


def test_copy_is_independent(c):
    check(c, [
        (("SET", "a", "hello"), "OK"),
        (("COPY", "a", "b"), 1),
        (("APPEND", "b", " world"), 11),
        (("GET", "a"), b"hello"),
        (("SET", "n", "10"), "OK"),
        (("COPY", "n", "m"), 1),
        (("INCR", "m"), 11),
        (("GET", "n"), b"10"),
    ])


def test_touch(c):
    check(c, [
        (("MSET", "a", "1", "b", "2"), "OK"),
        (("TOUCH", "a", "nosuch", "b", "a"), 3),
        (("TOUCH", "nosuch"), 0),
        (("TOUCH",), wrong_args("touch")),
    ])


def test_randomkey(c):
    check(c, [
        (("RANDOMKEY",), None),
        (("SET", "only", "1"), "OK"),
        (("RANDOMKEY",), b"only"),
        (("RANDOMKEY", "x"), wrong_args("randomkey")),
    ])
    c.cmd("MSET", "a", "1", "b", "2", "c", "3")
    got = {c.cmd("RANDOMKEY") for _ in range(200)}
    assert got <= {b"only", b"a", b"b", b"c"}
    assert len(got) >= 3


def test_dbsize(c):
    assert c.cmd("DBSIZE") == 0
    c.cmd("MSET", *[x for i in range(100) for x in (f"k{i}", "v")])
    assert c.cmd("DBSIZE") == 100
    c.cmd("SELECT", "3")
    assert c.cmd("DBSIZE") == 0
    assert c.cmd("DBSIZE", "x") == wrong_args("dbsize")


GLOB_KEYS = ["hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h?llo", "h[a]llo", "hbllo",
             "hcllo", "h-llo", "h^llo", "h\\llo", "foo", "foo.bar", "FOO", "a", "ab", "abc", "[", "]",
             "x\ny", ""]

GLOB_CASES = [
    ("*", GLOB_KEYS),
    ("h?llo", ["h*llo", "h-llo", "h?llo", "h\\llo", "h^llo", "hallo", "hbllo", "hcllo", "hello", "hxllo"]),
    ("h*llo", ["h*llo", "h-llo", "h?llo", "h[a]llo", "h\\llo", "h^llo", "hallo", "hbllo", "hcllo",
               "heeeello", "hello", "hllo", "hxllo"]),
    ("h[ae]llo", ["hallo", "hello"]),
    ("h[^e]llo", ["h*llo", "h-llo", "h?llo", "h\\llo", "h^llo", "hallo", "hbllo", "hcllo", "hxllo"]),
    ("h[!e]llo", ["hello"]),  # '!' is NOT negation in Redis globs
    ("h[a-b]llo", ["hallo", "hbllo"]),
    ("h[b-a]llo", ["hallo", "hbllo"]),  # reversed ranges work
    ("h[^a-z]llo", ["h*llo", "h-llo", "h?llo", "h\\llo", "h^llo"]),
    ("h[-]llo", ["h-llo"]),
    ("h[*]llo", ["h*llo"]),
    ("h\\*llo", ["h*llo"]),
    ("h\\?llo", ["h?llo"]),
    ("h\\llo", ["hllo"]),
    ("h\\\\llo", ["h\\llo"]),
    ("\\[", ["["]),
    ("[[]", ["["]),
    ("h[", []),
    ("h[a", []),
    ("*[", []),
    ("foo*", ["foo", "foo.bar"]),
    ("*o*", ["foo", "foo.bar", "h*llo", "h-llo", "h?llo", "h[a]llo", "h\\llo", "h^llo", "hallo", "hbllo",
             "hcllo", "heeeello", "hello", "hllo", "hxllo"]),
    ("?", ["[", "]", "a"]),
    ("??", ["ab"]),
    ("???", ["FOO", "abc", "foo", "x\ny"]),
    ("[a-b]*", ["a", "ab", "abc"]),
    ("*\n*", ["x\ny"]),
    ("FOO", ["FOO"]),
    ("foo", ["foo"]),
    ("nomatch", []),
]


@pytest.mark.parametrize("pattern,expected", GLOB_CASES, ids=[repr(p) for p, _ in GLOB_CASES])
def test_keys_glob(c, pattern, expected):
    c.cmd("MSET", *[x for k in GLOB_KEYS for x in (k, "v")])
    assert sorted(c.cmd("KEYS", pattern)) == sorted(k.encode() for k in expected)
    # SCAN MATCH uses the same matcher
    assert sorted(scan_all(c, "MATCH", pattern, count=1000)) == sorted(k.encode() for k in expected)


def test_keys_errors_and_empty(c):
    assert c.cmd("KEYS", "*") == []
    assert c.cmd("KEYS") == wrong_args("keys")


def test_scan_basic(c):
    n = 1000
    c.cmd("MSET", *[x for i in range(n) for x in (f"key:{i}", str(i))])
    for count in (None, 1, 10, 1000, 100000):
        keys = scan_all(c, count=count)
        assert len(set(keys)) == n
        assert set(keys) == {f"key:{i}".encode() for i in range(n)}
    # MATCH filters
    keys = scan_all(c, "MATCH", "key:1?", count=50)
    assert sorted(keys) == sorted(f"key:1{i}".encode() for i in range(10))
    # TYPE filters
    assert len(set(scan_all(c, "TYPE", "string", count=100))) == n
    assert scan_all(c, "TYPE", "list", count=100) == []
    assert scan_all(c, "TYPE", "nosuchtype", count=100) == []
    # repeated options: last one wins
    assert c.cmd("SCAN", "0", "COUNT", "1", "COUNT", "100000")[0] == b"0"
    assert sorted(scan_all(c, "MATCH", "zzz*", "MATCH", "key:99?")) == sorted(
        f"key:99{i}".encode() for i in range(10))


def test_scan_reply_shape_and_errors(c):
    check(c, [
        (("SCAN", "0"), [b"0", []]),
        (("SET", "a", "1"), "OK"),
        (("SCAN", "0"), [b"0", [b"a"]]),
        (("SCAN", "0", "COUNT", "0"), SYNTAX),
        (("SCAN", "0", "COUNT", "-1"), SYNTAX),
        (("SCAN", "0", "COUNT", "abc"), NOT_INT),
        (("SCAN", "abc"), Err("ERR invalid cursor")),
        (("SCAN", "18446744073709551616"), Err("ERR invalid cursor")),
        (("SCAN", "0", "FOO"), SYNTAX),
        (("SCAN", "0", "MATCH"), SYNTAX),
        (("SCAN", "0", "TYPE"), SYNTAX),
        (("SCAN", "0", "TYPE", "string"), [b"0", [b"a"]]),
        (("SCAN",), wrong_args("scan")),
    ])


def test_scan_guarantee_while_keys_are_added(sardine, c):
    """Every key present for the whole scan is returned, even while 50k keys are added
    (forcing the table to grow / rehash) between SCAN calls."""
    base = 5000
    c.cmd("MSET", *[x for i in range(base) for x in (f"orig:{i}", "v")])
    r = sardine.client()
    added, batch, total_new = 0, 1000, 50000
    cursor, seen, calls = b"0", set(), 0
    while True:
        cursor, keys = c.cmd("SCAN", cursor, "COUNT", "20")
        seen.update(keys)
        calls += 1
        if added < total_new:
            p = r.pipeline(transaction=False)
            p.mset({f"new:{added + j}": "v" for j in range(batch)})
            p.execute()
            added += batch
        if cursor == b"0":
            break
        assert calls < 200000
    assert added == total_new, "scan finished before all keys were added; use a smaller COUNT"
    missing = [i for i in range(base) if f"orig:{i}".encode() not in seen]
    assert missing == []
    assert c.cmd("DBSIZE") == base + total_new


def test_scan_guarantee_while_keys_are_deleted(c):
    base = 4000
    c.cmd("MSET", *[x for i in range(base) for x in (f"k:{i}", "v")])
    keep = {f"k:{i}".encode() for i in range(0, base, 2)}
    doomed = [f"k:{i}" for i in range(1, base, 2)]
    cursor, seen = b"0", set()
    while True:
        cursor, keys = c.cmd("SCAN", cursor, "COUNT", "50")
        seen.update(keys)
        if doomed:
            c.cmd("DEL", *doomed[:200])
            del doomed[:200]
        if cursor == b"0":
            break
    assert keep <= seen


def test_select(c):
    check(c, [
        (("SET", "k", "db0"), "OK"),
        (("SELECT", "1"), "OK"),
        (("GET", "k"), None),
        (("SET", "k", "db1"), "OK"),
        (("SELECT", "15"), "OK"),
        (("SELECT", "16"), DB_RANGE),
        (("SELECT", "-1"), DB_RANGE),
        (("SELECT", "abc"), NOT_INT),
        (("SELECT", "0"), "OK"),
        (("GET", "k"), b"db0"),
        (("SELECT", "1"), "OK"),
        (("GET", "k"), b"db1"),
        (("SELECT",), wrong_args("select")),
    ])


def test_select_databases_config(make_sardine):
    s = make_sardine("--databases", "4")
    with Raw(s.port) as c:
        assert c.cmd("CONFIG", "GET", "databases") == [b"databases", b"4"]
        assert c.cmd("SELECT", "3") == "OK"
        assert c.cmd("SELECT", "4") == DB_RANGE
        assert c.cmd("SWAPDB", "0", "4") == DB_RANGE


def test_move(c):
    check(c, [
        (("SET", "e", "1", "EX", "100"), "OK"),
        (("MOVE", "e", "1"), 1),
        (("EXISTS", "e"), 0),
        (("MOVE", "nosuch", "1"), 0),
        (("SET", "g", "x"), "OK"),
        (("MOVE", "g", "0"), SAME),
        (("MOVE", "g", "16"), DB_RANGE),
        (("MOVE", "g", "-1"), DB_RANGE),
        (("MOVE", "g", "abc"), NOT_INT),
        (("SELECT", "1"), "OK"),
        (("TTL", "e"), 100),
        (("SET", "g", "in1"), "OK"),
        (("SELECT", "0"), "OK"),
        (("MOVE", "g", "1"), 0),  # target exists
        (("GET", "g"), b"x"),
        (("MOVE", "g"), wrong_args("move")),
    ])


def test_swapdb(sardine, c):
    other = sardine.client(db=1)
    check(c, [
        (("SET", "a", "db0"), "OK"),
        (("SET", "t", "x", "EX", "100"), "OK"),
        (("SELECT", "1"), "OK"),
        (("MSET", "b", "db1", "c", "db1"), "OK"),
        (("SELECT", "0"), "OK"),
        (("SWAPDB", "0", "1"), "OK"),
        (("DBSIZE",), 2),
        (("GET", "b"), b"db1"),
        (("GET", "a"), None),
        (("SWAPDB", "0", "0"), "OK"),
        (("SWAPDB", "0", "16"), DB_RANGE),
        (("SWAPDB", "0", "-1"), DB_RANGE),
        (("SWAPDB", "a", "1"), Err("ERR invalid first DB index")),
        (("SWAPDB", "0", "b"), Err("ERR invalid second DB index")),
        (("SWAPDB", "0"), wrong_args("swapdb")),
    ])
    # a client already SELECTed into db1 sees the swapped contents
    assert other.get("a") == b"db0"
    assert other.ttl("t") == 100
    assert other.dbsize() == 2


def test_flushdb_flushall(c):
    check(c, [
        (("SET", "a", "1"), "OK"),
        (("SELECT", "1"), "OK"),
        (("SET", "b", "1"), "OK"),
        (("FLUSHDB",), "OK"),
        (("DBSIZE",), 0),
        (("SELECT", "0"), "OK"),
        (("DBSIZE",), 1),
        (("FLUSHDB", "ASYNC"), "OK"),
        (("DBSIZE",), 0),
        (("SET", "a", "1"), "OK"),
        (("FLUSHDB", "sync"), "OK"),
        (("DBSIZE",), 0),
        (("MSET", "a", "1", "b", "2"), "OK"),
        (("SELECT", "5"), "OK"),
        (("SET", "c", "3"), "OK"),
        (("FLUSHALL",), "OK"),
        (("DBSIZE",), 0),
        (("SELECT", "0"), "OK"),
        (("DBSIZE",), 0),
        (("SET", "a", "1"), "OK"),
        (("FLUSHALL", "ASYNC"), "OK"),
        (("DBSIZE",), 0),
        (("SET", "a", "1"), "OK"),
        (("FLUSHALL", "SYNC"), "OK"),
        (("DBSIZE",), 0),
        (("FLUSHALL", "FOO"), SYNTAX),
        (("FLUSHALL", "ASYNC", "SYNC"), SYNTAX),
        (("FLUSHDB", "SYNC", "x"), SYNTAX),
        (("FLUSHDB", "FOO"), SYNTAX),
    ])


def test_flushall_async_large(c):
    c.cmd("MSET", *[x for i in range(20000) for x in (f"k{i}", "v" * 50)])
    assert c.cmd("FLUSHALL", "ASYNC") == "OK"
    assert c.cmd("DBSIZE") == 0
    assert c.cmd("GET", "k1") is None
    assert c.cmd("SET", "k1", "new") == "OK"
    assert c.cmd("GET", "k1") == b"new"


def test_object_encoding_refcount_errors(c):
    check(c, [
        (("SET", "o", "v"), "OK"),
        (("OBJECT", "ENCODING", "o"), b"embstr"),
        (("OBJECT", "ENCODING", "nosuch"), None),
        (("OBJECT", "REFCOUNT", "nosuch"), None),
        (("OBJECT", "IDLETIME", "nosuch"), None),
        (("OBJECT", "FREQ", "nosuch"), None),
        (("OBJECT", "ENCODING"), wrong_args("object|encoding")),
        (("OBJECT", "FOO", "o"), Err("ERR unknown subcommand 'FOO'. Try OBJECT HELP.")),
    ])
    refcount = c.cmd("OBJECT", "REFCOUNT", "o")
    assert isinstance(refcount, int) and refcount >= 1
    help_ = c.cmd("OBJECT", "HELP")
    assert isinstance(help_, list) and all(isinstance(x, str) for x in help_)
    assert help_[0].startswith("OBJECT <subcommand>")


def test_object_freq_needs_lfu_policy(c):
    c.cmd("SET", "o", "v")
    assert c.cmd("OBJECT", "FREQ", "o") == Err(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that "
        "when switching between policies at runtime LRU and LFU data will take some time to adjust.")
    assert c.cmd("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu") == "OK"
    c.cmd("SET", "p", "v")
    f0 = c.cmd("OBJECT", "FREQ", "p")
    assert isinstance(f0, int) and 0 <= f0 <= 255
    for _ in range(200):
        c.cmd("GET", "p")
    f1 = c.cmd("OBJECT", "FREQ", "p")
    assert f0 < f1 <= 255
    assert c.cmd("OBJECT", "IDLETIME", "p") == Err(
        "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
        "switching between policies at runtime LRU and LFU data will take some time to adjust.")
    assert c.cmd("CONFIG", "SET", "maxmemory-policy", "volatile-lfu") == "OK"
    assert isinstance(c.cmd("OBJECT", "FREQ", "p"), int)


def test_object_idletime(sardine, c):
    c.cmd("SET", "o", "v")
    assert c.cmd("OBJECT", "IDLETIME", "o") == 0
    wait_until(lambda: c.cmd("OBJECT", "IDLETIME", "o") >= 1, timeout=5, interval=0.1,
               msg="idle time to reach 1s")
    # OBJECT itself does not touch the key; GET does
    assert c.cmd("OBJECT", "IDLETIME", "o") >= 1
    c.cmd("GET", "o")
    assert c.cmd("OBJECT", "IDLETIME", "o") == 0


def test_scan_type_and_expired_keys_as_redis(make_sardine, make_oracle):
    """SCAN with TYPE looks each matching key up as Redis 7.0 does: a keyspace hit for a live key, a miss (and
    a keymiss event) for one found expired, which is deleted and whose type is then "none"; without TYPE an
    expired matching key is deleted without a miss; keys the pattern leaves out are left alone."""
    import time as _time

    outcomes = []
    for srv in (make_sardine(), make_oracle()):
        r = srv.client()
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
        r.config_set("notify-keyspace-events", "Kmx")
        for k in ("s1", "s2", "long:" + "n" * 200):
            r.set(k, "v")
        r.rpush("l1", "x")
        for k in ("e1", "e2", "e3", "long:" + "e" * 200, "f1"):
            r.set(k, "v", px=30)
        _time.sleep(0.1)
        p = r.pubsub()
        p.psubscribe("__keyspace@0__:*")
        p.get_message(timeout=1)
        got = []
        before = r.info("stats")
        for args in (("TYPE", "string"), ("MATCH", "e1", "TYPE", "none"), ("MATCH", "e2"), ("MATCH", "l*", "TYPE", "list"),
                     ("MATCH", "e3", "TYPE", "string")):
            cursor, keys = r.execute_command("SCAN", 0, "COUNT", 1000, *args)
            got.append((int(cursor), sorted(keys)))
        after = r.info("stats")
        got.append({f: after[f] - before[f] for f in ("keyspace_hits", "keyspace_misses", "expired_keys")})
        got.append(r.dbsize())
        events = []
        while (m := p.get_message(timeout=0.3)) is not None:
            events.append((m["channel"], m["data"]))
        got.append(sorted(events))
        p.close()
        outcomes.append(got)
    assert outcomes[0] == outcomes[1]
