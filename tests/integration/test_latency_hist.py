"""LATENCY HISTOGRAM and INFO latencystats (latency-tracking, latency-tracking-info-percentiles) against
the oracle.  Latencies themselves differ between servers and runs, so what is compared is everything
else: which commands have histograms, their call counts, the reply's shape and types (RESP2 and RESP3),
the labels (Redis's HDR reporting levels, the exact values are unit-tested in tests/unit/test_hdrhist.c)
and the INFO lines' format."""
import re
import time

import pytest

from sardine_resp import Map, Raw

# The micros labels LATENCY HISTOGRAM can print: hdr_iter_log(1024, 2) levels' highest equivalent values.
LABELS = {1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816, 67633, 135266, 270532,
          541065, 1073741}

WORKLOAD = [("SET", "a", "1"), ("SET", "b", "2"), ("GET", "a"), ("INCR", "n"), ("CONFIG", "GET", "maxmemory"),
            ("CONFIG", "GET", "hz"), ("CLIENT", "ID"), ("LPUSH", "l", "x"), ("GET", "nosuch")]


def run(server, proto=2, args=("set", "get", "incr", "config", "client|id", "nosuchcommand", "lpush")):
    c = Raw(server.port)
    if proto == 3:
        c.cmd("HELLO", "3")
    c.cmd("CONFIG", "RESETSTAT")
    for w in WORKLOAD:
        c.cmd(*w)
    reply = c.cmd("LATENCY", "HISTOGRAM", *args)
    c.close()
    return reply


def as_dict(reply):
    items = list(reply) if isinstance(reply, Map) else list(zip(*[iter(reply)] * 2))
    return {k: v for k, v in items}


def shape(reply):
    """{command: (calls, [labels])}, checking each entry's form on the way."""
    out = {}
    for name, body in as_dict(reply).items():
        body = as_dict(body)
        assert set(body) == {b"calls", b"histogram_usec"}
        hist = as_dict(body[b"histogram_usec"])
        labels, counts = list(hist), list(hist.values())
        assert all(isinstance(x, int) for x in labels + counts)
        assert set(labels) <= LABELS, labels
        assert labels == sorted(labels) and counts == sorted(counts) and len(set(counts)) == len(counts)
        assert counts[-1] == body[b"calls"]
        out[name] = body[b"calls"]
    return out


@pytest.mark.parametrize("proto", [2, 3])
def test_latency_histogram_matches_redis(sardine, oracle, proto):
    rs, ro = run(sardine, proto), run(oracle, proto)
    assert type(rs) is type(ro)
    got, want = shape(rs), shape(ro)
    assert got == want
    # the container names its subcommands, a full name one, and unknown names are skipped
    assert got == {b"set": 2, b"get": 2, b"incr": 1, b"config|get": 2, b"config|resetstat": 1, b"client|id": 1,
                   b"lpush": 1}


def test_latency_histogram_all_and_reset(sardine, oracle):
    for server in (sardine, oracle):
        c = Raw(server.port)
        c.cmd("CONFIG", "RESETSTAT")
        c.cmd("PING")
        c.cmd("ECHO", "x")
        everything = shape(c.cmd("LATENCY", "HISTOGRAM"))
        assert everything == {b"ping": 1, b"echo": 1, b"config|resetstat": 1}
        assert c.cmd("CONFIG", "SET", "latency-tracking", "no") == "OK"
        c.cmd("PING")
        c.cmd("DBSIZE")
        assert shape(c.cmd("LATENCY", "HISTOGRAM", "ping", "dbsize")) == {b"ping": 1}
        assert c.cmd("CONFIG", "SET", "latency-tracking", "yes") == "OK"
        c.close()


INFO_LINE = re.compile(r"^latency_percentiles_usec_([a-z|_\-]+):(.*)$")


def info_latencystats(server, *config):
    c = Raw(server.port)
    c.cmd("CONFIG", "RESETSTAT")
    if config:
        assert c.cmd("CONFIG", "SET", *config) == "OK"
    for w in WORKLOAD:
        c.cmd(*w)
    text = c.cmd("INFO", "latencystats").decode()
    everything = c.cmd("INFO", "everything").decode()
    default = c.cmd("INFO").decode()
    c.close()
    assert "# Latencystats" in everything and "# Latencystats" not in default
    assert everything.index("# Errorstats") < everything.index("# Latencystats")
    lines = [l for l in text.split("\r\n") if l and not l.startswith("#")]
    out = {}
    for line in lines:
        m = INFO_LINE.match(line)
        assert m, line
        out[m.group(1)] = [kv.split("=")[0] for kv in m.group(2).split(",")] if m.group(2) else []
        for kv in m.group(2).split(",") if m.group(2) else []:
            assert re.fullmatch(r"p[0-9.]+=\d+\.\d{3}", kv), kv
    return out


@pytest.mark.parametrize("config", [(), ("latency-tracking-info-percentiles", "0 12.5 99.990 100"),
                                    ("latency-tracking-info-percentiles", "")])
def test_info_latencystats_matches_redis(sardine, oracle, config):
    got, want = info_latencystats(sardine, *config), info_latencystats(oracle, *config)
    assert got == want
    assert "set" in got and "config|get" in got


def test_percentile_values_are_slot_bounds(c):
    """A percentile is the highest value of an HDR slot: with one call, p0 is its lowest and p100 its highest."""
    c.cmd("CONFIG", "RESETSTAT")
    c.cmd("CONFIG", "SET", "latency-tracking-info-percentiles", "0 100")
    c.cmd("DEBUG", "SLEEP", "0.01")
    line = [l for l in c.cmd("INFO", "latencystats").decode().split("\r\n") if "usec_debug:" in l][0]
    p0, p100 = (float(kv.split("=")[1]) for kv in line.split(":")[1].split(","))
    assert 10000 <= p0 < p100
    # 2 significant digits: the slot is 1/128th to 1/256th of its value wide
    assert round((p100 - p0) * 1000) + 1 in {1 << k for k in range(0, 31)}


def expire_cycle_events(server):
    c = Raw(server.port, timeout=30)
    assert c.cmd("CONFIG", "SET", "latency-monitor-threshold", "1") == "OK"
    c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    for part in range(2):
        c.cmd("EVAL", "for i=1,50000 do redis.call('set', 'k'..ARGV[1]..'_'..i, 'v', 'PX', 1) end", "0", str(part))
    c.cmd("DEBUG", "SET-ACTIVE-EXPIRE", "1")  # 100k keys past their TTL: the expiry cycles run to their limit
    deadline = time.time() + 30
    while c.cmd("DBSIZE") and time.time() < deadline:
        time.sleep(0.05)
    events = {e[0] for e in c.cmd("LATENCY", "LATEST")}
    c.close()
    return events


def test_latency_monitor_records_expire_cycles(sardine, oracle):
    assert b"expire-cycle" in expire_cycle_events(sardine)
    assert b"expire-cycle" in expire_cycle_events(oracle)
