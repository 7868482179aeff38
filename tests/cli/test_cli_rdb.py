"""--rdb: a snapshot fetched over the replication protocol loads back."""
import os

import pytest

from clihelp import cli, ref


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_rdb_roundtrip(make_oracle, tmp_path, diskless):
    src = make_oracle("--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0")
    r = src.client()
    r.mset({"a": "1", b"bin\x00\xff": b"\x00" * 1000})
    r.rpush("l", *range(100))
    r.hset("h", mapping={"f": "v"})
    path = tmp_path / "fetched.rdb"
    rc, out, err = cli(src, "--rdb", path)
    assert rc == 0, err
    assert b"Transfer finished with success" in err
    ref_path = tmp_path / "ref.rdb"
    assert ref(src, "--rdb", ref_path)[0] == 0
    data = path.read_bytes()
    assert data.startswith(b"REDIS") and len(data) == len(ref_path.read_bytes())
    copy = make_oracle("--dir", str(tmp_path), "--dbfilename", "fetched.rdb")
    c = copy.client()
    assert c.dbsize() == 4 and c.get(b"bin\x00\xff") == b"\x00" * 1000 and c.llen("l") == 100


def test_rdb_to_stdout(make_oracle):
    oracle = make_oracle("--repl-diskless-sync-delay", "0")
    oracle.client().set("k", "v")
    rc, out, err = cli(oracle, "--rdb", "-")
    assert rc == 0 and out.startswith(b"REDIS") and b"k" in out


def test_rdb_bad_path(oracle, tmp_path):
    rc, out, err = cli(oracle, "--rdb", tmp_path / "no" / "such" / "dir.rdb")
    assert rc == 1 and b"Error opening" in err


@pytest.mark.parametrize("which", ["sardine-cli", "redis-cli"])
def test_rdb_from_sardine_server(make_sardine, make_oracle, tmp_path, which):
    """Both CLIs fetch an image from sardine-server (REPLCONF rdb-only + SYNC) that redis-server loads to
    the same dataset; the temporary file the server wrote is gone afterwards."""
    src = make_sardine()
    r = src.client()
    r.mset({"a": "1", b"bin\x00\xff": b"\x00" * 1000})
    r.rpush("l", *range(100))
    r.zadd("z", {f"m{i}": i for i in range(300)})
    r.select(5)
    r.set("in5", "x")
    path = tmp_path / "fetched.rdb"
    rc, out, err = (cli if which == "sardine-cli" else ref)(src, "--rdb", path)
    assert rc == 0, err
    assert b"Transfer finished with success" in err
    assert path.read_bytes().startswith(b"REDIS0010")
    copy = make_oracle("--dir", str(tmp_path), "--dbfilename", "fetched.rdb")
    c = copy.client()
    assert c.dbsize() == 4 and c.get(b"bin\x00\xff") == b"\x00" * 1000 and c.zcard("z") == 300
    c.select(5)
    assert c.get("in5") == b"x"
    assert not [f for f in os.listdir(src.dir) if f.endswith(".rdb")]


def test_functions_rdb_from_sardine_server(make_sardine, make_oracle, tmp_path):
    """redis-cli --functions-rdb (REPLCONF rdb-filter-only functions): the libraries, no keys."""
    src = make_sardine()
    r = src.client()
    r.set("k", "v")
    r.function_load("#!lua name=lib1\nredis.register_function('f1', function() return 1 end)")
    path = tmp_path / "funcs.rdb"
    rc, out, err = ref(src, "--functions-rdb", path)
    assert rc == 0, err
    copy = make_oracle("--dir", str(tmp_path), "--dbfilename", "funcs.rdb")
    c = copy.client()
    assert c.dbsize() == 0
    assert c.fcall("f1", 0) == 1
