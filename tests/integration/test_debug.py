"""DEBUG DIGEST, DIGEST-VALUE, CHECK-KEY and CHECK-KEYSPACE on one server, and DEBUG POPULATE against Redis.

The digests' agreement with Redis is tests/diff/test_diff_digest.py; here: reply shapes and errors,
that logically expired keys are digested (as Redis does), that CHECK-KEY passes every type in every
encoding after mixed workloads, and that it reports a value that breaks its format (an HLL-looking
string with bad sparse data, written by the client) instead of replying OK.
"""
import os
import time

import pytest
import redis
from sardine_resp import Err

from harness import SARDINE_SERVER, assert_keyspace_ok

ZERO = "0" * 40
# The digests are Redis's and these tests pass against redis-server too; CHECK-KEY/CHECK-KEYSPACE are Sardine's.
sardine_only = pytest.mark.skipif(os.path.basename(SARDINE_SERVER).startswith("redis-server"),
                                  reason="DEBUG CHECK-KEY/CHECK-KEYSPACE are Sardine's")


def build_every_encoding(c):
    cmds = [
        ("CONFIG", "SET", "list-max-listpack-size", "4"), ("CONFIG", "SET", "list-compress-depth", "1"),
        ("SET", "s:int", "12345"), ("SET", "s:emb", "hello"), ("SET", "s:raw", "x" * 100),
        ("SET", "s:app", "1"), ("APPEND", "s:app", "abc"),
        ("PFADD", "hll:sparse", "a", "b", "c"), ("PFCOUNT", "hll:sparse"),
        ("PFADD", "hll:dense", *[f"e{i}" for i in range(5000)]),
        ("RPUSH", "list", *[str(i) for i in range(200)]), ("LINSERT", "list", "BEFORE", "100", "mid"),
        ("LREM", "list", "0", "50"), ("LPOP", "list"), ("RPUSH", "list1", "only"),
        ("SADD", "set:int", "1", "2", "3"), ("SADD", "set:ht", "a", "b", "1"),
        ("SADD", "set:big", *[str(i) for i in range(1000)]), ("SREM", "set:big", "7"),
        ("ZADD", "z:lp", "1", "a", "2.5", "b", "-inf", "c"),
        ("ZADD", "z:sl", *[x for i in range(300) for x in (str(i % 7), f"m{i}")]), ("ZREM", "z:sl", "m3"),
        ("ZINCRBY", "z:sl", "0.5", "m9"),
        ("HSET", "h:lp", "f", "1", "g", "v"),
        ("HSET", "h:ht", *[x for i in range(300) for x in (f"f{i}", str(i))]), ("HDEL", "h:ht", "f5"),
        ("XADD", "st", "1-1", "a", "1"), ("XADD", "st", "1-2", "a", "2"), ("XADD", "st", "2-0", "b", "x"),
        ("XDEL", "st", "1-1"), ("XGROUP", "CREATE", "st", "g", "0"),
        ("XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "st", ">"),
        ("XADD", "st:empty", "5-5", "f", "v"), ("XDEL", "st:empty", "5-5"),
        ("EXPIRE", "s:emb", "1000"),
        ("SELECT", "3"), ("SET", "in3", "v"), ("SELECT", "0"),
    ]
    for cmd in cmds:
        r = c.cmd(*cmd)
        assert not isinstance(r, Err), (cmd, r)
    keys = [k.decode() for k in c.cmd("KEYS", "*")]
    return keys


def test_digest_reply_shapes(c):
    assert c.cmd("DEBUG", "DIGEST") == ZERO
    assert c.cmd("DEBUG", "DIGEST-VALUE") == []
    assert c.cmd("DEBUG", "DIGEST-VALUE", "nokey") == [ZERO]
    c.cmd("SET", "k", "v")
    d = c.cmd("DEBUG", "DIGEST")
    assert len(d) == 40 and d != ZERO and int(d, 16) >= 0
    v = c.cmd("DEBUG", "DIGEST-VALUE", "k", "nokey", "k")
    assert v[0] == v[2] != ZERO and v[1] == ZERO
    assert c.cmd("DEBUG", "DIGEST", "extra") == Err(
        "ERR unknown subcommand or wrong number of arguments for 'DIGEST'. Try DEBUG HELP.")
    c.cmd("FLUSHALL")
    assert c.cmd("DEBUG", "DIGEST") == ZERO


def test_digest_includes_logically_expired_keys(c):
    assert c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
    c.cmd("SET", "k", "v")
    c.cmd("PEXPIRE", "k", "1")
    time.sleep(0.05)
    # not yet deleted: both digests still see it, with its TTL flag, as in Redis
    assert c.cmd("DEBUG", "DIGEST") != ZERO
    assert c.cmd("DEBUG", "DIGEST-VALUE", "k") != [ZERO]
    assert_keyspace_ok(c)
    assert c.cmd("GET", "k") is None  # an access expires it
    assert c.cmd("DEBUG", "DIGEST") == ZERO


def test_help_lists_the_subcommands(c):
    text = "\n".join(x if isinstance(x, str) else x.decode() for x in c.cmd("DEBUG", "HELP"))
    for sub in ("DIGEST", "DIGEST-VALUE"):
        assert sub in text


@sardine_only
def test_help_lists_the_checks(c):
    text = "\n".join(x if isinstance(x, str) else x.decode() for x in c.cmd("DEBUG", "HELP"))
    for sub in ("CHECK-KEY", "CHECK-KEYSPACE"):
        assert sub in text


@sardine_only
def test_check_every_type_and_encoding(c):
    keys = build_every_encoding(c)
    encodings = {c.cmd("OBJECT", "ENCODING", k) for k in keys}
    assert {b"int", b"embstr", b"raw", b"quicklist", b"intset", b"hashtable", b"listpack", b"skiplist",
            b"stream"} <= encodings
    for k in keys:
        assert c.cmd("DEBUG", "CHECK-KEY", k) == "OK", k
    assert c.cmd("DEBUG", "CHECK-KEYSPACE") == "OK"
    assert_keyspace_ok(c)
    # CHECK-KEY looks in the current database only, like every key command
    assert c.cmd("DEBUG", "CHECK-KEY", "in3") == Err("ERR no such key")
    c.cmd("SELECT", "3")
    assert c.cmd("DEBUG", "CHECK-KEY", "in3") == "OK"


@sardine_only
def test_check_errors(c):
    assert c.cmd("DEBUG", "CHECK-KEY", "nokey") == Err("ERR no such key")
    assert c.cmd("DEBUG", "CHECK-KEY") == Err(
        "ERR unknown subcommand or wrong number of arguments for 'CHECK-KEY'. Try DEBUG HELP.")
    assert c.cmd("DEBUG", "CHECK-KEYSPACE", "x") == Err(
        "ERR unknown subcommand or wrong number of arguments for 'CHECK-KEYSPACE'. Try DEBUG HELP.")


@sardine_only
def test_check_reports_a_broken_hll(c):
    c.cmd("PFADD", "h", "a", "b")
    assert c.cmd("DEBUG", "CHECK-KEY", "h") == "OK"
    good = c.cmd("GET", "h")
    # a sparse HLL whose opcodes cover fewer than 16384 registers (one ZERO opcode: 1 register)
    c.cmd("SET", "h", good[:16] + b"\x00")
    r = c.cmd("DEBUG", "CHECK-KEY", "h")
    assert isinstance(r, Err) and "'h'" in r.msg and "hll: sparse opcodes do not cover 16384 registers" in r.msg
    r = c.cmd("DEBUG", "CHECK-KEYSPACE")
    assert isinstance(r, Err) and r.msg.startswith("ERR db 0 key 'h' is corrupt: hll:")
    with pytest.raises(AssertionError, match="is corrupt"):
        assert_keyspace_ok(c)  # the harness helper fails the test
    # what PFCOUNT says of the same bytes (Redis's error)
    assert c.cmd("PFCOUNT", "h") == Err("INVALIDOBJ Corrupted HLL object detected")
    c.cmd("DEL", "h")
    assert c.cmd("DEBUG", "CHECK-KEYSPACE") == "OK"


def test_digest_follows_the_data_not_the_history(c):
    """Two keys reaching the same content by different paths (conversions, deletes) digest alike."""
    c.cmd("CONFIG", "SET", "hash-max-listpack-entries", "4")
    c.cmd("HSET", "a", "f1", "1", "f2", "2")
    c.cmd("HSET", "b", *[x for i in range(10) for x in (f"x{i}", "v")])
    c.cmd("HDEL", "b", *[f"x{i}" for i in range(10)][:9])  # b: hashtable, one field left
    c.cmd("HDEL", "b", "x9")  # b emptied: deleted
    c.cmd("HSET", "b", "f1", "1", "f2", "2")  # b recreated small
    c.cmd("HSET", "c", *[x for i in range(10) for x in (f"x{i}", "v")], "f1", "1", "f2", "2")
    c.cmd("HDEL", "c", *[f"x{i}" for i in range(10)])  # c: hashtable holding a's content
    assert c.cmd("OBJECT", "ENCODING", "c") == b"hashtable"
    da, db, dc = c.cmd("DEBUG", "DIGEST-VALUE", "a", "b", "c")
    assert da == db == dc
    assert_keyspace_ok(c)


def test_populate_as_redis(make_sardine, make_oracle):
    """DEBUG POPULATE makes the keys and values Redis makes (DIGEST), leaves existing keys alone, answers
    Redis's errors, is not counted as changes, and notifies "new" for each key it makes."""
    outcomes = []
    for srv in (make_sardine(), make_oracle()):
        r = srv.client()
        r.config_set("notify-keyspace-events", "KEn")
        p = r.pubsub()
        p.psubscribe("__keyspace@0__:*")
        p.get_message(timeout=1)
        r.set("key:1", "mine")
        changes = r.info("persistence")["rdb_changes_since_last_save"]
        got = [r.execute_command("DEBUG", "POPULATE", 1000),
               r.execute_command("DEBUG", "POPULATE", 10, "padded", 20),
               r.execute_command("DEBUG", "POPULATE", 10, "cut", 3),
               r.execute_command("DEBUG", "POPULATE", 0),
               r.get("key:1"), r.get("key:999"), r.get("padded:7"), r.get("cut:7"), r.dbsize(),
               r.execute_command("DEBUG", "DIGEST"),
               r.info("persistence")["rdb_changes_since_last_save"] - changes]
        for bad in (["-1"], ["abc"], ["5", "p", "-3"], ["5", "p", "x"], ["1", "2", "3", "4"]):
            try:
                got.append(r.execute_command("DEBUG", "POPULATE", *bad))
            except redis.ResponseError as e:
                got.append(str(e).split(".")[0])
        events = []
        while (m := p.get_message(timeout=0.5)) is not None:
            events.append(m["data"])
        got.append((len(events), set(events)))
        p.close()
        outcomes.append(got)
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][4] == b"mine" and outcomes[0][6] == b"value:7" + b"\0" * 13 and outcomes[0][7] == b"val"
    assert outcomes[0][-1] == (1 + 999 + 10 + 10, {b"new"})  # SET key:1 first, then the keys POPULATE made
