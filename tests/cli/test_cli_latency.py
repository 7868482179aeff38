"""--latency family, --stat and --intrinsic-latency: formats as redis-cli's."""
import re
import subprocess

from clihelp import SARDINE_CLI, cli, ref


def test_latency_raw_and_csv(oracle):
    rc, out, err = cli(oracle, "--latency", "-i", "0.2")
    assert rc == 0 and re.fullmatch(rb"\d+ \d+ \d+\.\d\d \d+\n", out), out
    assert int(out.split()[3]) >= 2
    rc, out, err = cli(oracle, "--latency", "--csv", "-i", "0.2")
    assert rc == 0 and re.fullmatch(rb"\d+,\d+,\d+\.\d\d,\d+\n", out), out
    ref_out = ref(oracle, "--latency", "-i", "0.2")[1]
    assert re.sub(rb"\d", b"0", ref_out).count(b" ") == re.sub(rb"\d", b"0", out).count(b",")


def run_for(server, seconds, *args):
    p = subprocess.Popen([SARDINE_CLI, "-p", str(server.port), *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        p.terminate()
        out, err = p.communicate()
    return out, err


def test_latency_history(oracle):
    out, err = run_for(oracle, 1.5, "--latency-history", "-i", "0.3")
    lines = out.decode().splitlines()
    # in raw mode every sample prints a line, and each range ends with its own line
    assert any(re.fullmatch(r" -- [0-9]\.\d\d seconds range", l) for l in lines), lines
    assert all(re.fullmatch(r"\d+ \d+ \d+\.\d\d \d+| -- \d\.\d\d seconds range", l) for l in lines), lines


def test_latency_dist(oracle):
    out, err = run_for(oracle, 1.5, "--latency-dist", "-i", "0.3")
    lines = out.decode().splitlines()
    assert lines[1].split() == ["samples", "min", "p50", "p90", "p99", "p99.9", "max"]
    row = [int(x) for x in lines[2].split()]
    assert row[0] >= 2 and row[1] <= row[2] <= row[3] <= row[4] <= row[5] <= row[6]


def test_stat(oracle):
    oracle.client().mset({"a": 1, "b": 2})
    out, err = run_for(oracle, 0.8, "--stat", "-i", "0.2")
    lines = out.decode().splitlines()
    assert lines[0] == "------- data ------ --------------------- load -------------------- - child -"
    assert lines[1] == "keys       mem      clients blocked requests            connections          "
    assert re.match(r"2          [\d.]+[BKM] +1       0       \d+ \(\+0\) +\d+", lines[2]), lines
    assert re.match(r"2          [\d.]+[BKM] +1       0       \d+ \(\+1\) +\d+", lines[3]), lines


def test_intrinsic_latency():
    rc, out, err = cli(None, "--intrinsic-latency", "0.3")
    assert rc == 0
    assert re.match(rb"Max latency so far: \d+ microseconds.\n", out)
    assert re.search(rb"\n\n\d+ total runs \(avg latency: \d+\.\d{4} microseconds / \d+\.\d\d nanoseconds per run\)"
                     rb"\.\nWorst run took \d+x longer than the average latency\.\n$", out)


def test_latency_connection_refused():
    from conftest import free_port
    rc, out, err = cli(None, "-p", free_port(), "--latency")
    assert rc == 1 and b"Could not connect" in err
