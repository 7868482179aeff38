"""String values kept inside the key's entry (keyspace/entry.h): embstr up to 44 bytes, raw up to
STR_INLINE_MAX (4000) bytes, an rstr on the heap beyond that or once modified in place.

Against the oracle (redis-server 7.0): at the boundaries (44/45 bytes, the length byte's 127/128, the
biggest inline size and one byte past it) GET/STRLEN/GETRANGE/OBJECT ENCODING agree; APPEND, SETRANGE,
SETBIT and INCRBYFLOAT leave the encodings Redis shows; DUMP payloads are Redis's bytes and RESTORE of
Redis's payloads (LZF-compressed ones included, which are decoded outside the payload) gives the same
values; DEBUG DIGEST is Redis's before and after DEBUG RELOAD; an HLL restored small enough to be inline
is read and updated as Redis does; the AOF (commands, rewrites with and without an RDB preamble) and a
BGSAVE loaded at restart give the same digest.  Sardine alone: MEMORY USAGE shows where the value lives (an inline
value costs exactly its entry's arena slot), and DEBUG CHECK-KEYSPACE accepts every such key.
"""
import os
import random

import pytest
import redis

from harness import SARDINE_SERVER, assert_keyspace_ok
from sardine_resp import wait_until

INLINE_MAX = 4000
R = random.Random(44)
SIZES = [0, 1, 44, 45, 46, 100, 127, 128, 129, 300, 500, 513, 1025, 2049, INLINE_MAX - 1, INLINE_MAX,
         INLINE_MAX + 1, 5000]
SARDINE_ONLY = pytest.mark.skipif(os.path.basename(SARDINE_SERVER).startswith("redis-server"),
                                  reason="Sardine's storage (MEMORY USAGE figures)")


def text(n):
    """n random printable bytes that are not an integer's text."""
    return bytes(R.randrange(33, 127) for _ in range(n)).replace(b"0", b"x") if n else b""


def run(cl, *args):
    try:
        return cl.execute_command(*args)
    except redis.ResponseError as e:
        return "ERR: " + str(e)


def same(s, o, *args):
    a, b = run(s, *args), run(o, *args)
    assert a == b, f"{args[:2]}: sardine {a!r:.200} redis {b!r:.200}"
    return a


@pytest.fixture
def so(sardine, oracle):
    s, o = sardine.client(), oracle.client()
    s.response_callbacks.clear()  # replies as the servers send them
    o.response_callbacks.clear()
    yield s, o
    s.close()
    o.close()


def varint_len(n):
    k = 1
    while n >= 0x80:
        n >>= 7
        k += 1
    return k


def arena_class(n):
    """The arena's slot size for n bytes (mem/arena.h's class table)."""
    n = max(n, 8)
    if n <= 128:
        return n
    for limit, step in ((512, 8), (1024, 16), (2048, 64), (4096, 128)):
        if n <= limit:
            return (n + step - 1) // step * step
    raise ValueError(n)


def inline_usage(key, n):
    """MEMORY USAGE of a string key whose n-byte value is inline, without TTL: its entry's slot (header,
    key, value length, value) plus the 6 bytes of table share."""
    return arena_class(4 + varint_len(len(key)) + len(key) + varint_len(n) + n) + 6


def test_boundaries_read_like_redis(so):
    s, o = so
    for n in SIZES:
        v = text(n)
        key = f"k{n}"
        same(s, o, "SET", key, v)
        assert same(s, o, "GET", key) == v
        same(s, o, "STRLEN", key)
        same(s, o, "OBJECT", "ENCODING", key)
        for a, b in ((0, -1), (1, 44), (-45, -1), (n // 2, n + 10), (n - 1, n - 1)):
            same(s, o, "GETRANGE", key, a, b)
        same(s, o, "SUBSTR", key, 3, 200)
    # replaced by a value of another storage, with and without TTL, copied, renamed, moved
    for n in (45, 300, INLINE_MAX):
        key = f"k{n}"
        same(s, o, "SET", key, text(n + 1), "EX", 1000)
        same(s, o, "OBJECT", "ENCODING", key)
        same(s, o, "PERSIST", key)
        same(s, o, "EXPIRE", key, 500)
        same(s, o, "COPY", key, key + ":copy")
        same(s, o, "RENAME", key + ":copy", key + ":renamed")
        same(s, o, "MOVE", key + ":renamed", 1)
        same(s, o, "GETSET", key, text(44))
        same(s, o, "OBJECT", "ENCODING", key)
        same(s, o, "SET", key, text(n), "GET")
        same(s, o, "GETDEL", key)
        same(s, o, "SET", key, text(n))
        same(s, o, "GETEX", key, "PX", 100000)
        same(s, o, "TTL", key)
    same(s, o, "SELECT", 1)
    for n in (45, 300, INLINE_MAX):
        same(s, o, "GET", f"k{n}:renamed")
        same(s, o, "OBJECT", "ENCODING", f"k{n}:renamed")
    # a key too long to share the slot with the biggest inline value, with a TTL
    long_key = "K" * 300
    same(s, o, "SET", long_key, text(INLINE_MAX), "PX", 1000000)
    same(s, o, "GET", long_key)
    same(s, o, "OBJECT", "ENCODING", long_key)
    same(s, o, "SELECT", 0)
    assert same(s, o, "DEBUG", "DIGEST") != b"0" * 40
    assert_keyspace_ok(s)


def test_modified_in_place_turn_raw(so):
    s, o = so
    for n in (10, 44, 45, 100, INLINE_MAX - 1, INLINE_MAX):
        base = text(n)
        for cmd in (("APPEND", "{k}", "ab"), ("APPEND", "{k}", ""), ("SETRANGE", "{k}", 3, "XYZ"),
                    ("SETRANGE", "{k}", n + 5, "tail"), ("SETBIT", "{k}", 7, 1), ("SETBIT", "{k}", 8 * n + 20, 1)):
            key = f"{cmd[0]}:{n}:{cmd[2]}"
            same(s, o, "SET", key, base)
            same(s, o, *[a.format(k=key) if isinstance(a, str) else a for a in cmd])
            assert same(s, o, "OBJECT", "ENCODING", key) == b"raw"
            same(s, o, "GET", key)
            same(s, o, "APPEND", key, "more")  # and grows again in place
            same(s, o, "GET", key)
    # INCRBYFLOAT results of every length: embstr up to 44 bytes, raw beyond
    for by in ("1.5", "1e40", "1e60", "1e300", "1e4000"):
        same(s, o, "SET", "f", "0")
        same(s, o, "INCRBYFLOAT", "f", by)
        same(s, o, "OBJECT", "ENCODING", "f")
        same(s, o, "GET", "f")
        same(s, o, "STRLEN", "f")
    same(s, o, "DEBUG", "DIGEST")
    assert_keyspace_ok(s)


def fill(s, o):
    for n in SIZES:
        same(s, o, "SET", f"rnd:{n}", text(n))
        same(s, o, "SET", f"lzf:{n}", (b"abcdefgh" * (n // 8 + 1))[:n])  # compressible: LZF in RDB/DUMP
    same(s, o, "SET", "ttl:300", text(300), "PXAT", 4102444800000)
    same(s, o, "SET", "app", text(100))
    same(s, o, "APPEND", "app", text(50))


def test_dump_restore_round_trips(so):
    s, o = so
    fill(s, o)
    keys = sorted(k.decode() for k in s.keys("*"))
    for k in keys:
        ps, po = s.dump(k), o.dump(k)
        assert ps == po, k
        # each server restores the other's payload to the same value and encoding
        same(s, o, "RESTORE", "r:" + k, 0, po)
        assert s.get("r:" + k) == s.get(k) and o.get("r:" + k) == o.get(k), k
        same(s, o, "OBJECT", "ENCODING", "r:" + k)
        assert s.dump("r:" + k) == ps
    assert same(s, o, "DEBUG", "DIGEST")
    assert_keyspace_ok(s)


def test_debug_reload_keeps_values_and_digest(so):
    s, o = so
    fill(s, o)
    before = same(s, o, "DEBUG", "DIGEST")
    encodings = {k: same(s, o, "OBJECT", "ENCODING", k) for k in sorted(s.keys("*"))}
    assert s.execute_command("DEBUG", "RELOAD") == b"OK" and o.execute_command("DEBUG", "RELOAD") == b"OK"
    assert same(s, o, "DEBUG", "DIGEST") == before
    for k, e in encodings.items():
        # a value appended to comes back from the file as a plain raw string on both servers
        assert same(s, o, "OBJECT", "ENCODING", k) == e
    for n in SIZES:
        same(s, o, "GET", f"rnd:{n}")
        same(s, o, "GET", f"lzf:{n}")
    assert_keyspace_ok(s)


def test_inline_hll_read_and_updated(so):
    s, o = so
    # sparse HLLs small enough to be inline once restored (DUMP/RESTORE rebuild them as plain strings)
    for n in (3, 200, 1500):
        same(s, o, "PFADD", "src", *[f"e{n}:{i}" for i in range(n)])
        payload = o.dump("src")
        same(s, o, "DEL", "src")
        same(s, o, "RESTORE", f"h{n}", 0, payload)
        same(s, o, "STRLEN", f"h{n}")
        same(s, o, "OBJECT", "ENCODING", f"h{n}")
        assert_keyspace_ok(s)
        same(s, o, "PFCOUNT", f"h{n}")
        same(s, o, "RESTORE", f"m{n}", 0, payload)
        same(s, o, "PFMERGE", "dst", f"m{n}", f"h{n}")
        same(s, o, "RESTORE", f"a{n}", 0, payload)
        same(s, o, "PFADD", f"a{n}", "x", "y", "z")
        same(s, o, "PFCOUNT", f"a{n}", f"h{n}", "dst")
        same(s, o, "GET", f"a{n}")
    same(s, o, "DEBUG", "DIGEST")
    assert_keyspace_ok(s)


def test_aof_and_bgsave_round_trips(so, sardine, make_sardine):
    s, o = so
    fill(s, o)
    want = same(s, o, "DEBUG", "DIGEST")
    keys = sorted(s.keys("*"))
    encodings = [s.execute_command("OBJECT", "ENCODING", k) for k in keys]
    a = make_sardine("--appendonly", "yes")
    r, ri = a.client(), a.client()
    r.response_callbacks.clear()
    for k in keys:
        r.execute_command("RESTORE", k, 0, s.dump(k))
    r.execute_command("APPEND", "app", "")  # raw in place again, as on the others
    r.execute_command("PEXPIREAT", "ttl:300", 4102444800000)
    assert r.execute_command("DEBUG", "DIGEST") == want

    def rewritten():
        i = ri.info("persistence")
        return i["aof_rewrite_in_progress"] == 0 and i["aof_rewrite_scheduled"] == 0

    for preamble in ("no", "yes", None):
        if preamble:  # the incr file's commands first, then a base in each form
            r.execute_command("CONFIG", "SET", "aof-use-rdb-preamble", preamble)
            wait_until(rewritten, timeout=60, msg="the previous rewrite")
            r.execute_command("BGREWRITEAOF")
            wait_until(rewritten, timeout=60, msg="the rewrite")
        assert r.execute_command("DEBUG", "LOADAOF") == b"OK"
        assert r.execute_command("DEBUG", "DIGEST") == want, preamble
        assert [r.execute_command("OBJECT", "ENCODING", k) for k in keys] == encodings, preamble
    assert_keyspace_ok(r)
    # a forkless BGSAVE, loaded by a new server
    si = sardine.client()
    si.bgsave()
    wait_until(lambda: si.info("persistence")["rdb_bgsave_in_progress"] == 0, timeout=60, msg="the BGSAVE")
    assert si.info("persistence")["rdb_last_bgsave_status"] == "ok"
    b = make_sardine("--dir", sardine.dir)
    rb = b.client()
    assert rb.execute_command("DEBUG", "DIGEST").decode() == want.decode()
    assert_keyspace_ok(rb)


@SARDINE_ONLY
def test_storage_by_memory_usage(r):
    for n in (45, 46, 100, 127, 128, 300, 500, 513, 1025, 2049, INLINE_MAX):
        v = text(n)
        r.set("k", v)
        assert r.memory_usage("k") == inline_usage("k", n), n
    # one byte past the biggest inline size: an rstr (16-byte header, NUL) behind an 8-byte pointer
    r.set("k", text(INLINE_MAX + 1))
    entry = arena_class(4 + 1 + 1 + 8)
    usage = r.memory_usage("k")
    assert usage >= entry + 6 + 16 + INLINE_MAX + 2 and usage != inline_usage("k", INLINE_MAX + 1)
    # APPEND makes an inline value an rstr with room to grow
    r.set("k", text(100))
    assert r.memory_usage("k") == inline_usage("k", 100)
    r.append("k", "x")
    assert r.memory_usage("k") >= entry + 6 + 16 + 101 + 1
    assert r.object("encoding", "k") == b"raw"
    # an embstr is inline too, a short APPENDed value an rstr
    r.set("k", text(44))
    assert r.memory_usage("k") == inline_usage("k", 44)
    r.append("k", "")
    assert r.memory_usage("k") >= entry + 6 + 16 + 44 + 1
    assert_keyspace_ok(r)
