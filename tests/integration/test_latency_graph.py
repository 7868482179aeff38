"""LATENCY GRAPH and LATENCY DOCTOR against the oracle, byte for byte.

Both texts depend on the samples' values and times (GRAPH labels each column with the sample's age,
DOCTOR divides the time since the oldest sample by their count), so the oracle records a real history
(DEBUG SLEEP under latency-monitor-threshold 1, one sample per second, merged to the maximum within a
second) and Sardine is given the same one with its own DEBUG LATENCY-SAMPLE <event> <unix-time> <ms>.
Both are then asked within one wall-clock second, so that "now" is the same for both."""
import re
import time

import pytest

from sardine_resp import Raw


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def same_second(fn, attempts=20):
    """fn() called so that it starts and ends within one second (both servers read the same clock)."""
    for _ in range(attempts):
        t0 = int(time.time())
        out = fn()
        if int(time.time()) == t0:
            return out
    pytest.fail("could not ask both servers within one second")


def record_history(conn, sleeps):
    """A "command" history on the oracle: each DEBUG SLEEP in its own second, two in the same one last."""
    for i, secs in enumerate(sleeps):
        if i < len(sleeps) - 1:
            # Start each sample in a fresh second (the last one shares its second with the previous one).
            time.sleep(1.0 - time.time() % 1.0 + 0.01)
        assert conn.cmd("DEBUG", "SLEEP", str(secs)) == "OK"
    return [(int(t), int(ms)) for t, ms in conn.cmd("LATENCY", "HISTORY", "command")]


def replay(conn, event, history):
    for t, ms in history:
        assert conn.cmd("DEBUG", "LATENCY-SAMPLE", event, str(t), str(ms)) == "OK"


@pytest.fixture
def pair(sardine, oracle):
    s, o = Raw(sardine.port), Raw(oracle.port)
    yield s, o
    s.close()
    o.close()


def test_graph_and_doctor_same_history(pair):
    s, o = pair
    o.cmd("CONFIG", "SET", "latency-monitor-threshold", "1")
    history = record_history(o, [0.004, 0.030, 0.012, 0.050, 0.020, 0.001, 0.025])
    assert len(history) >= 5
    # No more samples on either side from here on (Sardine's threshold stays 0: only the replayed samples).
    o.cmd("CONFIG", "SET", "latency-monitor-threshold", "100000")
    s.cmd("CONFIG", "SET", "latency-monitor-threshold", "100000")
    replay(s, "command", history)
    assert s.cmd("LATENCY", "HISTORY", "command") == o.cmd("LATENCY", "HISTORY", "command")

    g_s, g_o = same_second(lambda: (text(s.cmd("LATENCY", "GRAPH", "command")),
                                    text(o.cmd("LATENCY", "GRAPH", "command"))))
    assert g_s == g_o
    lines = g_o.split("\n")
    assert lines[0].startswith("command - high ") and lines[1] == "-" * 80
    assert len(lines[2]) == len(history)

    # DOCTOR for a "command" history: the statistics line, then the slow log advice for each setting.
    for slower in ("10000", "-1", "1000000000"):
        o.cmd("CONFIG", "SET", "slowlog-log-slower-than", slower)
        s.cmd("CONFIG", "SET", "slowlog-log-slower-than", slower)
        d_s, d_o = same_second(lambda: (text(s.cmd("LATENCY", "DOCTOR")), text(o.cmd("LATENCY", "DOCTOR"))))
        assert d_s == d_o, slower
        assert "1. command: %d latency spikes" % len(history) in d_o


def doctor_parts(report):
    """DOCTOR's report as (header, per-event paragraphs without their numbers, numbers, the rest)."""
    lines = report.split("\n")
    events = [i for i, line in enumerate(lines) if re.match(r"^\d+\. ", line)]
    assert events, report
    first, last = events[0], events[-1]
    assert events == list(range(first, last + 1)), report
    numbers = [int(lines[i].split(".", 1)[0]) for i in events]
    paragraphs = sorted(lines[i].split(". ", 1)[1] for i in events)
    return lines[:first], paragraphs, numbers, lines[last + 1:]


def big_set(conn, key, n=200000):
    for i in range(0, n, 5000):
        conn.cmd("SADD", key, *["member:%d" % j for j in range(i, i + 5000)])


def test_doctor_with_several_events(pair):
    """DOCTOR over several events: the oracle records real ones (a slow command, a big set expired and
    another evicted: command, fast-command, expire-del, eviction-del, eviction-cycle), Sardine replays
    their histories.  Redis 7.0 walks its events in the order of a dict (latency.c's
    latencyTimeSeriesDictType hashes the name with dictGenHashFunction, i.e. SipHash keyed by the seed
    server.c's main() draws with getRandomBytes at every start), so the order of the paragraphs changes
    from one redis-server process to the next and no order can be "Redis's": the paragraphs are compared
    as a set, their numbering as 1..n, and the header and the advice (printed in a fixed order) exactly."""
    s, o = pair
    o.cmd("CONFIG", "SET", "latency-monitor-threshold", "1")
    o.cmd("CONFIG", "SET", "lazyfree-lazy-eviction", "no")
    o.cmd("CONFIG", "SET", "lazyfree-lazy-expire", "no")
    o.cmd("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
    assert o.cmd("DEBUG", "SLEEP", "0.005") == "OK"
    big_set(o, "expiring")
    o.cmd("PEXPIRE", "expiring", "1")
    time.sleep(0.01)
    o.cmd("EXISTS", "expiring")
    big_set(o, "evicted")
    used = int(next(line for line in o.cmd("INFO", "memory").decode().split("\r\n")
                    if line.startswith("used_memory:")).split(":")[1])
    o.cmd("CONFIG", "SET", "maxmemory", str(used // 2))
    o.cmd("SET", "x", "y")
    o.cmd("CONFIG", "SET", "maxmemory", "0")
    o.cmd("CONFIG", "SET", "latency-monitor-threshold", "100000")
    s.cmd("CONFIG", "SET", "latency-monitor-threshold", "100000")
    names = sorted(e[0].decode() for e in o.cmd("LATENCY", "LATEST"))
    assert {"command", "expire-del", "eviction-del", "eviction-cycle"} <= set(names), names
    for name in reversed(names):
        replay(s, name, [(int(t), int(ms)) for t, ms in o.cmd("LATENCY", "HISTORY", name)])
    d_s, d_o = same_second(lambda: (text(s.cmd("LATENCY", "DOCTOR")), text(o.cmd("LATENCY", "DOCTOR"))))
    head_s, par_s, num_s, rest_s = doctor_parts(d_s)
    head_o, par_o, num_o, rest_o = doctor_parts(d_o)
    assert head_s == head_o
    assert par_s == par_o
    assert num_s == num_o == list(range(1, len(names) + 1))
    assert rest_s == rest_o
    assert any("Deleting, expiring or evicting" in line for line in rest_o)
    assert any("Sudden changes to the 'maxmemory'" in line for line in rest_o)


def test_graph_flat_and_single_sample(pair):
    """One sample, then equal samples (a range of 0 is drawn as 1), replayed from the oracle."""
    s, o = pair
    o.cmd("CONFIG", "SET", "latency-monitor-threshold", "1")
    history = record_history(o, [0.003])
    o.cmd("CONFIG", "SET", "latency-monitor-threshold", "100000")
    replay(s, "command", history)
    g_s, g_o = same_second(lambda: (s.cmd("LATENCY", "GRAPH", "command"), o.cmd("LATENCY", "GRAPH", "command")))
    assert text(g_s) == text(g_o)


def test_doctor_without_samples(pair):
    s, o = pair
    assert text(s.cmd("LATENCY", "DOCTOR")) == text(o.cmd("LATENCY", "DOCTOR"))  # monitoring disabled
    assert text(o.cmd("LATENCY", "DOCTOR")).startswith("I'm sorry, Dave")
    for conn in (s, o):
        conn.cmd("CONFIG", "SET", "latency-monitor-threshold", "100000")
    assert text(s.cmd("LATENCY", "DOCTOR")) == text(o.cmd("LATENCY", "DOCTOR"))  # enabled, nothing seen
    assert text(o.cmd("LATENCY", "DOCTOR")).startswith("Dave, no latency spike")


def test_errors_and_help(pair):
    s, o = pair
    for args in (("GRAPH", "nosuch"), ("GRAPH",), ("GRAPH", "a", "b"), ("graph", "Command")):
        a, b = s.cmd("LATENCY", *args), o.cmd("LATENCY", *args)
        assert type(a) is type(b) and str(a) == str(b), args
    assert "No samples available for event 'nosuch'" in str(s.cmd("LATENCY", "GRAPH", "nosuch"))
    assert s.cmd("LATENCY", "HELP") == o.cmd("LATENCY", "HELP")
    # The event name is case-sensitive for GRAPH, as in Redis; RESET takes any case.
    s.cmd("DEBUG", "LATENCY-SAMPLE", "command", str(int(time.time())), "7")
    assert "No samples" in str(s.cmd("LATENCY", "GRAPH", "COMMAND"))
    assert s.cmd("LATENCY", "RESET", "COMMAND") == 1
    assert "No samples" in str(s.cmd("LATENCY", "GRAPH", "command"))


def test_long_history_wraps_and_labels_ages(sardine):
    """More samples than the 80 columns: two graphs scaled together, labels in s, m, h and d (Redis's
    rendering, which the oracle cannot be driven to in a test: these shapes follow its sparkline.c)."""
    c = Raw(sardine.port)
    now = int(time.time())
    ages = [3 * 86400 + i for i in range(30, 0, -1)] + [7200 + i for i in range(30, 0, -1)] + \
           [600 + 60 * i for i in range(30, 0, -1)] + [40 + i for i in range(10, 0, -1)]
    values = [(i * 37) % 101 for i in range(len(ages))]
    for age, v in zip(ages, values):
        assert c.cmd("DEBUG", "LATENCY-SAMPLE", "eventloop", str(now - age), str(v)) == "OK"
    g = same_second(lambda: (text(c.cmd("LATENCY", "GRAPH", "eventloop")), int(time.time())))
    graph, t = g
    lines = graph.split("\n")
    assert lines[0] == "eventloop - high %d ms, low %d ms (all time high %d ms)" % (max(values), min(values),
                                                                                  max(values))
    assert lines[1] == "-" * 80
    body = lines[2:]
    sep = body.index("")  # the empty line between the two graphs
    first, second = body[:sep], body[sep + 1:]
    assert all(len(line) == 80 for line in first) and all(len(line) == 20 for line in second[:-1])
    assert second[-1] == ""  # the text ends with a newline
    second = second[:-1]

    def labels(block, base):
        cols = ["".join(line[j] for line in block[5:]).rstrip() for j in range(len(block[0]))]
        ages_here = [t - (now - a) for a in ages[base:base + len(cols)]]
        want = ["%ds" % e if e < 60 else "%dm" % (e // 60) if e < 3600 else "%dh" % (e // 3600) if e < 86400
                else "%dd" % (e // 86400) for e in ages_here]
        return cols, want

    for block, base in ((first, 0), (second, 80)):
        assert block[4] == " " * len(block[0])  # the margin line
        cols, want = labels(block, base)
        assert cols == want
        # Rows: the highest value reaches the top row, the lowest shows only '_' in the bottom row.
        for j in range(len(block[0])):
            v = values[base + j]
            step = min(int(int((v - min(values)) * 12) / (max(values) - min(values))), 11)
            col = "".join(block[r][j] for r in range(4))
            want_col = "".join("|" if step - (3 - r) * 3 >= 3 else "_o#"[step - (3 - r) * 3]
                               if step - (3 - r) * 3 >= 0 else " " for r in range(4))
            assert col == want_col, (base + j, v)
    c.close()


def test_debug_latency_sample_bad_input(sardine):
    c = Raw(sardine.port)
    now = str(int(time.time()))
    for args in (("ev", "x", "1"), ("ev", now, "-1"), ("ev", now, "4294967296"), ("ev", "0", "1"),
                 ("e" * 32, now, "1"), ("", now, "1"), ("ev", now)):
        assert "ERR" in str(c.cmd("DEBUG", "LATENCY-SAMPLE", *args)), args
    assert c.cmd("LATENCY", "LATEST") == []
    # Two samples in one second keep the larger, as the monitor does.
    c.cmd("DEBUG", "LATENCY-SAMPLE", "ev", now, "5")
    c.cmd("DEBUG", "LATENCY-SAMPLE", "ev", now, "9")
    c.cmd("DEBUG", "LATENCY-SAMPLE", "ev", now, "2")
    assert c.cmd("LATENCY", "HISTORY", "ev") == [[int(now), 9]]
    c.close()
