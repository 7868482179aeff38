"""--import: CSV/TSV/JSON lines through a command template, pipelined."""
import json

import pytest

from clihelp import cli

DONE = b"All data transferred. Waiting for the last reply...\nLast reply received from server.\n"


def test_csv_positional_quoting_utf8(oracle, tmp_path):
    f = tmp_path / "data.csv"
    f.write_bytes(b'k1,plain\r\n"k 2","a, b"\r\nk3,"multi\nline ""quoted"""\n\xef\xbb\xbfk4,\xc3\xa9t\xc3\xa9 \xe2\x82\xac\n'
                  b'k5,"tab\there",\n"",empty-key\nk7,"\x00\x01\xff binary"\n')
    rc, out, err = cli(oracle, "--import", f, "--cmd", "SET {1} {2} EX 3600")
    assert rc == 0, err
    assert out == DONE + b"errors: 0, replies: 7\n"
    r = oracle.client()
    assert r.get("k1") == b"plain"
    assert r.get("k 2") == b"a, b"
    assert r.get("k3") == b'multi\nline "quoted"'
    assert r.get("\ufeffk4".encode()) == "été €".encode()  # a BOM not at the file start is data
    assert r.get("k5") == b"tab\there"
    assert r.get("") == b"empty-key"
    assert r.get("k7") == b"\x00\x01\xff binary"
    assert 3590 < r.ttl("k1") <= 3600


def test_csv_header_names_and_literals(oracle, tmp_path):
    f = tmp_path / "users.csv"
    f.write_text("\ufeffid,name,city\n1,Ann,Paris\n2,\"Bob \"\"B\"\"\",\"São Paulo\"\n", encoding="utf-8")
    rc, out, err = cli(oracle, "--import", f, "--header", "--cmd",
                       "HSET user:{id} name {name} city {city} tag '{{x}} {id}-{1}'")
    assert rc == 0, err
    r = oracle.client()
    assert r.hgetall("user:1") == {b"name": b"Ann", b"city": b"Paris", b"tag": b"{x} 1-1"}
    assert r.hgetall("user:2") == {b"name": b'Bob "B"', b"city": "São Paulo".encode(), b"tag": b"{x} 2-2"}
    assert b"done: 2 rows, 2 replies, 0 errors" in err


def test_tsv(oracle, tmp_path):
    f = tmp_path / "data.tsv"
    f.write_bytes(b'a\tva lue "q"\n'
                  b'b\tx\\ty\\nz\\\\w\n')
    rc, out, err = cli(oracle, "--import", f, "--cmd", "RPUSH {1} {2}")
    assert rc == 0, err
    r = oracle.client()
    assert r.lrange("a", 0, -1) == [b'va lue "q"']
    assert r.lrange("b", 0, -1) == [b"x\ty\nz\\w"]


def test_jsonl_keys_and_stdin(oracle):
    rows = [{"id": "u1", "name": "Zoë 😀", "n": 5, "ok": True, "tags": ["a", "b"], "none": None},
            {"id": "u2", "name": "line\nbreak\t\"q\"", "n": -1.5e3, "ok": False, "tags": [], "none": None}]
    data = "\n".join(json.dumps(r) for r in rows) + "\n\n"
    rc, out, err = cli(oracle, "--import", "-", "--format", "jsonl", "--cmd",
                       "HSET {id} name {name} n {n} ok {ok} tags {tags} none {none}", input=data.encode())
    assert rc == 0, err
    r = oracle.client()
    assert r.hgetall("u1") == {b"name": "Zoë 😀".encode(), b"n": b"5", b"ok": b"true", b"tags": b'["a", "b"]',
                               b"none": b""}
    assert r.hgetall("u2")[b"name"] == b'line\nbreak\t"q"'
    assert r.hgetall("u2")[b"n"] == b"-1500.0"


def test_error_replies_name_lines(oracle, tmp_path):
    r = oracle.client()
    r.set("s", "x")
    f = tmp_path / "incr.csv"
    f.write_text("a\ns\nb\n\"multi\nline\"\ns\n")
    rc, out, err = cli(oracle, "--import", f, "--cmd", "INCR {1}")
    assert rc == 1
    assert out == DONE + b"errors: 2, replies: 5\n"
    assert b"line 2: ERR value is not an integer or out of range\n" in err
    assert b"line 6: ERR value is not an integer or out of range\n" in err


def test_bad_input_names_line(oracle, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("a,1\nb,2\nc\nd,4\n")
    rc, out, err = cli(oracle, "--import", f, "--cmd", "SET {1} {2}")
    assert rc == 1
    assert b"Error: input line 3: the template needs field {2} but the record has 1 field" in err
    assert oracle.client().mget("a", "b", "d") == [b"1", b"2", None]
    f.write_text('a,"unterminated\n')
    rc, out, err = cli(oracle, "--import", f, "--cmd", "SET {1} {2}")
    assert rc == 1 and b"CSV input line 1: unterminated quoted field" in err
    f.write_text('a,"x"y\n')
    rc, out, err = cli(oracle, "--import", f, "--cmd", "SET {1} {2}")
    assert rc == 1 and b"CSV input line 1: unexpected character 'y' after a closing quote" in err
    j = tmp_path / "bad.jsonl"
    j.write_text('{"k": "a"}\n{"k": "b", oops}\n')
    rc, out, err = cli(oracle, "--import", j, "--cmd", "SET {k} 1")
    assert rc == 1 and b"JSON input line 2: expected a key string" in err
    j.write_text('{"k": "a"}\n{"other": "b"}\n')
    rc, out, err = cli(oracle, "--import", j, "--cmd", "SET {k} 1")
    assert rc == 1 and b"input line 2: the record has no field {k}" in err


@pytest.mark.parametrize("args,msg", [
    (["--cmd", "SET {name} 1"], b"add --header"),
    (["--header", "--cmd", "SET {nope} 1"], b"template field {nope} is not a column of the header (columns: id, v)"),
    (["--cmd", "SET {1 1"], b"unterminated '{'"),
    ([], b"--import needs --cmd"),
])
def test_template_errors(oracle, tmp_path, args, msg):
    f = tmp_path / "t.csv"
    f.write_text("id,v\n1,2\n")
    rc, out, err = cli(oracle, "--import", f, *args)
    assert rc == 1 and msg in err, err


def test_format_from_extension(oracle, tmp_path):
    f = tmp_path / "noext"
    f.write_text("a,b\n")
    rc, out, err = cli(oracle, "--import", f, "--cmd", "SET {1} {2}")
    assert rc == 1 and b"--format" in err
    rc, out, err = cli(oracle, "--import", f, "--format", "csv", "--cmd", "SET {1} {2}")
    assert rc == 0 and oracle.client().get("a") == b"b"


def test_many_rows_small_window(oracle, tmp_path):
    f = tmp_path / "big.csv"
    with open(f, "w") as fh:
        for i in range(100000):
            fh.write(f"key:{i},\"value {i}, with comma\"\n")
    rc, out, err = cli(oracle, "--window", "65536", "--import", f, "--cmd", "SET {1} {2}")
    assert rc == 0, err
    assert out.endswith(b"errors: 0, replies: 100000\n")
    r = oracle.client()
    assert r.dbsize() == 100000 and r.get("key:99999") == b"value 99999, with comma"


def test_oom_errors_reported_with_lines(make_oracle, tmp_path):
    srv = make_oracle("--maxmemory", "3mb", "--maxmemory-policy", "noeviction")
    f = tmp_path / "big.csv"
    with open(f, "w") as fh:
        for i in range(30000):
            fh.write(f"k{i},{'v' * 200}\n")
    rc, out, err = cli(srv, "--import", f, "--cmd", "SET {1} {2}")
    assert rc == 1
    lines = err.decode().splitlines()
    shown = [l for l in lines if l.startswith("line ")]
    assert len(shown) == 10 and all("OOM command not allowed" in l for l in shown), lines
    first = int(shown[0].split()[1].rstrip(":"))
    stored = srv.client().dbsize()
    # Every row up to the first refused one was stored; after it, a row may still fit now and then (the
    # server's memory moves as it frees buffers), so later rows may be stored too.
    assert first <= stored + 1
    m = [l for l in lines if l.endswith("more errors not shown)")]
    assert m and int(m[0].split()[0].lstrip("(")) == 30000 - stored - 10
    assert out.endswith(b"errors: %d, replies: 30000\n" % (30000 - stored))


def test_progress_on_terminal(oracle, tmp_path):
    """With stderr on a terminal, a load shows a progress line (with an ETA when the
    input size is known) and still ends with the summary line."""
    import os
    import pty
    import subprocess
    from clihelp import SARDINE_CLI
    f = tmp_path / "slow.csv"
    f.write_text("DEBUG,SLEEP,0.8\n" + "".join(f"SET,k{i},v\n" for i in range(1000)))
    master, slave = pty.openpty()
    p = subprocess.Popen([SARDINE_CLI, "-p", str(oracle.port), "--import", str(f), "--cmd", "{1} {2} {3}"],
                         stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    out = p.stdout.read()
    p.wait(20)
    err = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        err += chunk
    os.close(master)
    assert p.returncode == 0 and out.endswith(b"errors: 0, replies: 1001\n")
    assert b"1001 rows sent, 0 replies, 0 errors" in err and b"s elapsed" in err
    assert b"done: 1001 rows, 1001 replies, 0 errors in" in err
