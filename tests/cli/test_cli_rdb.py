"""--rdb: a snapshot fetched over the replication protocol loads back."""
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
