"""Golden RDB files of the encodings redis-server 7.0 reads but no longer writes (tests/assets/rdb/,
made by tests/persist/rdbgen.py): versions 1 to 10 load in redis-server 7.0 (so the file is right) and
in Sardine (DEBUG LOAD-RDB) to the same DEBUG DIGEST, with the stream's groups and pending entries,
encodings and TTLs compared too; version 11 (Redis 7.2 / Valkey 8) is compared with the same data built
by commands on redis-server 7.0.  The committed files must be what rdbgen.py writes today."""
import os
import shutil

import pytest

from harness import assert_keyspace_ok

import rdbgen
from harness import SARDINE_SERVER

pytestmark = pytest.mark.skipif(os.path.basename(SARDINE_SERVER).startswith("redis-server"),
                                reason="DEBUG LOAD-RDB is Sardine's own")

ASSETS = os.path.join(os.path.dirname(__file__), "..", "assets", "rdb")
OLD = sorted(n for n in os.listdir(ASSETS) if not n.startswith("v11"))


def test_assets_are_what_rdbgen_writes():
    files = rdbgen.golden()
    assert sorted(files) == sorted(os.listdir(ASSETS))
    for name, data in files.items():
        with open(os.path.join(ASSETS, name), "rb") as f:
            assert f.read() == data, f"{name}: run tests/persist/rdbgen.py"


def load_in_redis(oracle, name):
    shutil.copy(os.path.join(ASSETS, name), os.path.join(oracle.dir, "dump.rdb"))
    o = oracle.client()
    assert o.execute_command("DEBUG", "RELOAD", "NOSAVE") == b"OK"
    return o


def load_in_sardine(sardine, name):
    s = sardine.client()
    assert s.execute_command("DEBUG", "LOAD-RDB", os.path.abspath(os.path.join(ASSETS, name))) == b"OK"
    return s


def all_keys(r, dbs=16):
    out = {}
    for db in range(dbs):
        r.execute_command("SELECT", db)
        for k in r.keys("*"):
            out[(db, k)] = (r.type(k), r.object("encoding", k), r.pttl(k) > 0)
    r.execute_command("SELECT", 0)
    return out


@pytest.mark.parametrize("name", OLD)
def test_old_encodings_load_as_in_redis(name, make_oracle, sardine):
    # redis-server 7.0's built-in hash-max-listpack-entries is 512 (its redis.conf says 128, as Sardine's
    # default does): the oracle gets Sardine's value so that encodings compare
    oracle = make_oracle("--hash-max-listpack-entries", sardine.client().config_get("hash-max-listpack-entries")
                         ["hash-max-listpack-entries"])
    o = load_in_redis(oracle, name)
    s = load_in_sardine(sardine, name)
    assert o.dbsize() > 0
    assert s.execute_command("DEBUG", "DIGEST") == o.execute_command("DEBUG", "DIGEST")
    assert all_keys(s) == all_keys(o)
    assert_keyspace_ok(s)
    for k in s.keys("*"):
        if s.type(k) == b"stream":
            assert s.xinfo_stream(k)["length"] == o.xinfo_stream(k)["length"]
            assert s.xinfo_stream(k)["last-generated-id"] == o.xinfo_stream(k)["last-generated-id"]
            assert s.xpending(k, "grp") == o.xpending(k, "grp")
            pick = ("name", "consumers", "pending", "last-delivered-id", "entries-read", "lag")
            assert ([{f: g[f] for f in pick} for g in s.xinfo_groups(k)]
                    == [{f: g[f] for f in pick} for g in o.xinfo_groups(k)])


def test_function_library_is_skipped_loudly(sardine):
    load_in_sardine(sardine, "v10-plain-node-function.rdb")
    log = sardine.read_log()
    assert "rdbgenlib" in log and "NOT loaded" in log


def test_version_11_matches_the_same_data_built_by_commands(oracle, sardine):
    o = oracle.client()
    rdbgen.reference(o)
    s = load_in_sardine(sardine, "v11-set-listpack-stream3.rdb")
    assert s.execute_command("DEBUG", "DIGEST") == o.execute_command("DEBUG", "DIGEST")
    assert s.object("encoding", "slp") == b"hashtable"    # 7.0's encodings: no listpack sets
    assert s.object("encoding", "slp:ints") == b"intset"
    assert s.xpending("s3", "g")["pending"] == 1
    assert s.xinfo_consumers("s3", "g")[0]["name"] == b"c"
    assert_keyspace_ok(s)


def test_version_12_is_refused(sardine, tmp_path):
    p = tmp_path / "v12.rdb"
    p.write_bytes(b"REDIS0012\xff" + b"\0" * 8)
    with pytest.raises(Exception, match="Can't handle RDB format version 12"):
        sardine.client().execute_command("DEBUG", "LOAD-RDB", str(p))


def test_duplicate_keys_and_wrong_size_hints(sardine, tmp_path):
    """A key twice in one database is an error (nothing stays loaded); RESIZEDB hints that are too
    small or absurdly big do not matter; the same key in two databases is fine."""
    s = sardine.client()
    recs = [(rdbgen.T["STRING"], f"k{i}", rdbgen.string(i), None) for i in range(5000)]
    ok = rdbgen.rdb_file(10, recs, dbs={1: recs[:10]})
    ok = ok.replace(b"\xfb" + rdbgen.length(5000), b"\xfb" + rdbgen.length(1), 1)   # hint: 1 key
    ok = ok[:-8] + rdbgen.crc64(ok[:-8]).to_bytes(8, "little")
    p = tmp_path / "ok.rdb"
    p.write_bytes(ok)
    assert s.execute_command("DEBUG", "LOAD-RDB", str(p)) == b"OK"
    assert s.dbsize() == 5000 and sardine.client(db=1).dbsize() == 10
    assert_keyspace_ok(s)
    huge = rdbgen.rdb_file(10, recs[:3])
    huge = huge.replace(b"\xfb" + rdbgen.length(3), b"\xfb" + rdbgen.length(1 << 40), 1)
    huge = huge[:-8] + rdbgen.crc64(huge[:-8]).to_bytes(8, "little")
    p.write_bytes(huge)
    assert s.execute_command("DEBUG", "LOAD-RDB", str(p)) == b"OK"
    assert s.dbsize() == 3
    for at in (3, 2000, 4999):                                   # the duplicate early, mid-batch, last
        p.write_bytes(rdbgen.rdb_file(10, recs + [recs[at]]))
        with pytest.raises(Exception, match=f"Duplicate key 'k{at}'"):
            s.execute_command("DEBUG", "LOAD-RDB", str(p))
        assert s.dbsize() == 0
    assert s.ping()
