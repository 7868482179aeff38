"""--scan, --bigkeys, --memkeys, --hotkeys (and --top-keys): same output as
redis-cli on the same server state."""
import pytest

from clihelp import cli, ref


@pytest.fixture
def keyspace(oracle):
    r = oracle.client()
    p = r.pipeline(transaction=False)
    for i in range(1500):
        p.set(f"str:{i}", "x" * (i % 97))
    for i in range(40):
        p.rpush(f"list:{i}", *range(i + 1))
        p.hset(f"hash:{i}", mapping={f"f{j}": j for j in range(i % 7 + 1)})
        p.sadd(f"set:{i}", *range(i % 5 + 1))
        p.zadd(f"zset:{i}", {f"m{j}": j for j in range(i % 9 + 1)})
        p.xadd(f"stream:{i % 3}", {"f": i})
    p.execute()
    return oracle


def same(server, *args):
    a, b = cli(server, *args), ref(server, *args)
    assert a == b
    return a


@pytest.mark.parametrize("args", [["--scan"], ["--scan", "--pattern", "list:*"], ["--no-raw", "--scan"],
                                  ["--bigkeys"], ["--memkeys"], ["--memkeys-samples", "2"],
                                  ["--bigkeys", "--pattern", "*:1*"]])
def test_same_as_redis_cli(keyspace, args):
    rc, out, err = same(keyspace, *args)
    assert rc == 0 and out


def test_scan_type_and_count(keyspace):
    rc, out, err = cli(keyspace, "--scan", "--type", "zset", "--count", "1000")
    assert rc == 0
    assert sorted(out.split()) == sorted(f"zset:{i}".encode() for i in range(40))


def test_hotkeys(keyspace):
    rc, out, err = same(keyspace, "--hotkeys")
    assert rc == 1 and b"An LFU maxmemory policy is not selected" in err
    r = keyspace.client()
    r.config_set("maxmemory-policy", "allkeys-lfu")
    for _ in range(50):
        r.get("str:7")
    rc, out, err = same(keyspace, "--hotkeys")
    assert rc == 0 and b"keyname: \"str:7\"" in out


def test_top_keys(keyspace):
    rc, out, err = cli(keyspace, "--bigkeys", "--top-keys", "3")
    assert rc == 0
    top = out.split(b"-------- top 3 keys per type -------\n")[1]
    assert b"list:\n  1) '\"list:39\"' has 40 items\n  2) '\"list:38\"' has 39 items\n  3) '\"list:37\"' has 38 items\n" in top
    assert b"stream:\n  1) '\"stream:0\"' has 14 entries\n  2) '\"stream:" in top
    assert top.count(b"\"' has 13 entries\n") == 2
    # the part redis-cli also prints is unchanged
    assert out.split(b"\n-------- top")[0] == ref(keyspace, "--bigkeys")[1]
    rc, out, err = cli(keyspace, "--memkeys", "--top-keys", "2")
    assert rc == 0 and b"-------- top 2 keys per type -------" in out


def test_scan_binary_keys(oracle):
    # redis-cli prints raw keys with printf("%s"), cutting them at a NUL; we print every byte
    oracle.client().set(b"bin\x00\xffkey", "v")
    assert cli(oracle, "--scan") == (0, b"bin\x00\xffkey\n", b"")
    assert cli(oracle, "--no-raw", "--scan") == (0, b'"bin\\x00\\xffkey"\n', b"")
