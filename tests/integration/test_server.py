"""Server/connection commands: PING ECHO TIME CLIENT CONFIG COMMAND INFO MEMORY AUTH SHUTDOWN."""
import os
import re
import socket
import threading
import time

import pytest

from sardine_resp import Err, Raw, encode, parse_info, wait_until

SYNTAX = Err("ERR syntax error")
NOAUTH = Err("NOAUTH Authentication required.")
WRONGPASS = Err("WRONGPASS invalid username-password pair or user is disabled.")


def wrong_args(cmd):
    return Err(f"ERR wrong number of arguments for '{cmd}' command")


def check(c, steps):
    for args, expected in steps:
        got = c.cmd(*args)
        assert got == expected and type(got) is type(expected), f"{args}: got {got!r}, want {expected!r}"


def info(c, *section):
    return parse_info(c.cmd("INFO", *section))


# ---------------------------------------------------------------------------------------------
# PING ECHO TIME DBSIZE
# ---------------------------------------------------------------------------------------------

def test_ping_echo(c):
    check(c, [
        (("PING",), "PONG"),
        (("PING", "hello"), b"hello"),
        (("PING", ""), b""),
        (("PING", "a", "b"), wrong_args("ping")),
        (("ECHO", "hi"), b"hi"),
        (("ECHO", "a\x00b"), b"a\x00b"),
        (("ECHO",), wrong_args("echo")),
        (("ECHO", "a", "b"), wrong_args("echo")),
    ])


def test_time(c):
    t = c.cmd("TIME")
    assert isinstance(t, list) and len(t) == 2 and all(isinstance(x, bytes) for x in t)
    secs, usecs = int(t[0]), int(t[1])
    assert abs(secs - time.time()) < 5
    assert 0 <= usecs < 1000000
    t2 = c.cmd("TIME")
    assert (int(t2[0]), int(t2[1])) >= (secs, usecs)
    assert c.cmd("TIME", "x") == wrong_args("time")


def test_dbsize(c):
    assert c.cmd("DBSIZE") == 0
    c.cmd("MSET", "a", "1", "b", "2")
    assert c.cmd("DBSIZE") == 2


# ---------------------------------------------------------------------------------------------
# CLIENT
# ---------------------------------------------------------------------------------------------

def parse_client_line(line):
    return dict(kv.split("=", 1) for kv in line.split(" "))


def test_client_id_unique_and_increasing(sardine):
    with Raw(sardine.port) as a, Raw(sardine.port) as b:
        ia, ib = a.cmd("CLIENT", "ID"), b.cmd("CLIENT", "ID")
        assert isinstance(ia, int) and isinstance(ib, int)
        assert ib > ia > 0
        assert a.cmd("CLIENT", "ID") == ia


def test_client_setname_getname(c):
    check(c, [
        (("CLIENT", "GETNAME"), None),
        (("CLIENT", "SETNAME", "myname"), "OK"),
        (("CLIENT", "GETNAME"), b"myname"),
        (("CLIENT", "SETNAME", "a b"), Err("ERR Client names cannot contain spaces, newlines or special characters.")),
        (("CLIENT", "SETNAME", "a\nb"), Err("ERR Client names cannot contain spaces, newlines or special characters.")),
        (("CLIENT", "GETNAME"), b"myname"),
        (("CLIENT", "SETNAME", ""), "OK"),  # empty name clears it
        (("CLIENT", "GETNAME"), None),
        (("CLIENT", "SETNAME"), wrong_args("client|setname")),
        (("CLIENT", "GETNAME", "x"), wrong_args("client|getname")),
        (("CLIENT", "FOO"), Err("ERR unknown subcommand 'FOO'. Try CLIENT HELP.")),
    ])


def test_client_info_and_list(sardine, c):
    c.cmd("CLIENT", "SETNAME", "me")
    c.cmd("SELECT", "3")
    my_id = c.cmd("CLIENT", "ID")
    line = c.cmd("CLIENT", "INFO")
    assert isinstance(line, bytes) and line.endswith(b"\n") and line.count(b"\n") == 1
    f = parse_client_line(line.decode().rstrip("\n"))
    for field in ("id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub",
                  "multi", "qbuf", "obl", "oll", "omem", "tot-mem", "events", "cmd", "user", "resp"):
        assert field in f, field
    assert f["id"] == str(my_id)
    assert f["name"] == "me"
    assert f["db"] == "3"
    assert f["cmd"] == "client|info"
    assert f["user"] == "default"
    assert f["resp"] == "2"
    assert f["multi"] == "-1"
    assert f["flags"] == "N"
    assert re.fullmatch(r"127\.0\.0\.1:\d+", f["addr"])
    assert f["laddr"] == f"127.0.0.1:{sardine.port}"

    with Raw(sardine.port) as other:
        other_id = other.cmd("CLIENT", "ID")
        other.cmd("MULTI")
        other.cmd("PING")
        listing = c.cmd("CLIENT", "LIST")
        lines = listing.decode().rstrip("\n").split("\n")
        clients = {p["id"]: p for p in map(parse_client_line, lines)}
        assert set(clients) >= {str(my_id), str(other_id)}
        assert clients[str(my_id)]["cmd"] == "client|list"
        assert clients[str(other_id)]["flags"] == "x"
        assert clients[str(other_id)]["multi"] == "1"
        one = c.cmd("CLIENT", "LIST", "ID", str(other_id)).decode()
        assert parse_client_line(one.rstrip("\n"))["id"] == str(other_id)
        both = c.cmd("CLIENT", "LIST", "ID", str(other_id), str(my_id), "999999").decode()
        assert len(both.rstrip("\n").split("\n")) == 2
    check(c, [
        (("CLIENT", "LIST", "ID", "999999"), b""),
        (("CLIENT", "LIST", "ID", "abc"), Err("ERR Invalid client ID")),
        (("CLIENT", "LIST", "TYPE", "foo"), Err("ERR Unknown client type 'foo'")),
        (("CLIENT", "LIST", "FOO"), SYNTAX),
    ])
    normal = c.cmd("CLIENT", "LIST", "TYPE", "normal")
    assert str(my_id).encode() in normal
    assert c.cmd("CLIENT", "LIST", "TYPE", "pubsub") == b""


def test_client_kill_by_id(sardine, c):
    victim = Raw(sardine.port)
    vid = victim.cmd("CLIENT", "ID")
    check(c, [
        (("CLIENT", "KILL", "ID", str(vid)), 1),
        (("CLIENT", "KILL", "ID", str(vid)), 0),
        (("CLIENT", "KILL", "ID", "999999"), 0),
        (("CLIENT", "KILL", "ID", "abc"), Err("ERR client-id should be greater than 0")),
        (("CLIENT", "KILL", "FOO", "bar"), SYNTAX),
        (("CLIENT", "KILL", "SKIPME", "maybe"), SYNTAX),
    ])
    assert victim.is_closed()
    victim.close()


def test_client_kill_by_addr(sardine, c):
    victim = Raw(sardine.port)
    addr = "127.0.0.1:%d" % victim.sock.getsockname()[1]
    check(c, [
        (("CLIENT", "KILL", "1.2.3.4:5"), Err("ERR No such client")),
        (("CLIENT", "KILL", "ADDR", "1.2.3.4:5"), 0),
        (("CLIENT", "KILL", addr), "OK"),  # old form replies +OK
        (("CLIENT", "KILL", addr), Err("ERR No such client")),
    ])
    assert victim.is_closed()
    victim.close()
    victim = Raw(sardine.port)
    addr = "127.0.0.1:%d" % victim.sock.getsockname()[1]
    assert c.cmd("CLIENT", "KILL", "ADDR", addr) == 1
    assert victim.is_closed()
    victim.close()


def test_client_kill_skipme(sardine, c):
    my_addr = "127.0.0.1:%d" % c.sock.getsockname()[1]
    assert c.cmd("CLIENT", "KILL", "ADDR", my_addr) == 0  # SKIPME yes by default
    assert c.cmd("PING") == "PONG"
    assert c.cmd("CLIENT", "KILL", "ADDR", my_addr, "SKIPME", "no") == 1
    assert c.is_closed()


def test_client_pause_write_and_unpause(sardine, c):
    check(c, [
        (("CLIENT", "PAUSE", "abc"), Err("ERR timeout is not an integer or out of range")),
        (("CLIENT", "PAUSE", "-1"), Err("ERR timeout is negative")),
        (("CLIENT", "PAUSE", "100", "FOO"), Err("ERR CLIENT PAUSE mode must be WRITE or ALL")),
        (("CLIENT", "UNPAUSE"), "OK"),
        (("SET", "k", "v"), "OK"),
        (("CLIENT", "PAUSE", "10000", "WRITE"), "OK"),
    ])
    with Raw(sardine.port) as other:
        assert other.cmd("GET", "k") == b"v"  # reads are served during a WRITE pause
        other.send(encode("SET", "k", "w"))
        assert other.nothing_pending(0.3)  # the write is held
        assert c.cmd("CLIENT", "UNPAUSE") == "OK"
        assert other.reply() == "OK"
        assert other.cmd("GET", "k") == b"w"


def test_client_pause_all_expires(sardine, c):
    t0 = time.time()
    assert c.cmd("CLIENT", "PAUSE", "400") == "OK"
    with Raw(sardine.port) as other:
        other.send(encode("PING"))
        assert other.reply() == "PONG"
        assert time.time() - t0 >= 0.3


def test_client_reply_off_skip_on(sardine):
    with Raw(sardine.port) as c:
        c.send(encode("CLIENT", "REPLY", "OFF") + encode("SET", "a", "1") + encode("GET", "a")
               + encode("CLIENT", "REPLY", "ON"))
        assert c.reply() == "OK"  # only the REPLY ON gets an answer
        assert c.cmd("GET", "a") == b"1"
        c.send(encode("CLIENT", "REPLY", "SKIP") + encode("SET", "b", "2") + encode("GET", "b"))
        assert c.reply() == b"2"
        assert c.cmd("CLIENT", "REPLY", "foo") == SYNTAX
        assert c.nothing_pending()


def test_client_no_evict(c):
    check(c, [
        (("CLIENT", "NO-EVICT", "on"), "OK"),
        (("CLIENT", "NO-EVICT", "OFF"), "OK"),
        (("CLIENT", "NO-EVICT", "maybe"), SYNTAX),
    ])


def test_client_help(c):
    h = c.cmd("CLIENT", "HELP")
    assert isinstance(h, list) and all(isinstance(x, str) for x in h)
    assert h[0].startswith("CLIENT <subcommand>")


# ---------------------------------------------------------------------------------------------
# CONFIG
# ---------------------------------------------------------------------------------------------

def test_config_get_patterns(sardine, c):
    assert c.cmd("CONFIG", "GET", "port") == [b"port", str(sardine.port).encode()]
    assert c.cmd("CONFIG", "GET", "nosuch") == []
    mm = c.cmd("CONFIG", "GET", "maxmemory*")
    d = dict(zip(mm[0::2], mm[1::2]))
    assert {b"maxmemory", b"maxmemory-policy", b"maxmemory-samples"} <= set(d)
    assert d[b"maxmemory"] == b"0"
    assert d[b"maxmemory-policy"] == b"noeviction"
    assert d[b"maxmemory-samples"] == b"5"
    both = c.cmd("CONFIG", "GET", "port", "maxmemory")
    assert dict(zip(both[0::2], both[1::2])) == {b"port": str(sardine.port).encode(), b"maxmemory": b"0"}
    d = c.cmd("CONFIG", "GET", "dir")
    assert d[0] == b"dir" and os.path.realpath(d[1].decode()) == os.path.realpath(sardine.dir)
    assert c.cmd("CONFIG", "GET", "databases") == [b"databases", b"16"]
    allcfg = c.cmd("CONFIG", "GET", "*")
    assert len(allcfg) % 2 == 0 and len(allcfg) > 20
    assert c.cmd("CONFIG", "GET") == wrong_args("config|get")


def test_config_set_and_get_back(c):
    check(c, [
        (("CONFIG", "SET", "maxmemory", "100mb", "maxmemory-policy", "allkeys-lru"), "OK"),
        (("CONFIG", "GET", "maxmemory"), [b"maxmemory", b"104857600"]),
        (("CONFIG", "GET", "maxmemory-policy"), [b"maxmemory-policy", b"allkeys-lru"]),
        (("CONFIG", "SET", "maxmemory", "1gb"), "OK"),
        (("CONFIG", "GET", "maxmemory"), [b"maxmemory", b"1073741824"]),
        (("CONFIG", "SET", "maxmemory", "1kb"), "OK"),
        (("CONFIG", "GET", "maxmemory"), [b"maxmemory", b"1024"]),
        (("CONFIG", "SET", "maxmemory", "1k"), "OK"),
        (("CONFIG", "GET", "maxmemory"), [b"maxmemory", b"1000"]),
        (("CONFIG", "SET", "MaxMemory", "0"), "OK"),
        (("CONFIG", "SET", "maxmemory-policy", "VOLATILE-TTL"), "OK"),
        (("CONFIG", "GET", "maxmemory-policy"), [b"maxmemory-policy", b"volatile-ttl"]),
        (("CONFIG", "SET", "hz", "20"), "OK"),
        (("CONFIG", "GET", "hz"), [b"hz", b"20"]),
        (("CONFIG", "SET", "timeout", "300"), "OK"),
        (("CONFIG", "GET", "timeout"), [b"timeout", b"300"]),
        (("CONFIG", "SET", "maxmemory-samples", "10"), "OK"),
        (("CONFIG", "GET", "maxmemory-samples"), [b"maxmemory-samples", b"10"]),
    ])


def test_config_set_errors(c):
    def failed(param, why):
        return Err(f"ERR CONFIG SET failed (possibly related to argument '{param}') - {why}")
    policies = ("volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, "
                "allkeys-random, noeviction")
    check(c, [
        (("CONFIG", "SET", "maxmemory", "abc"), failed("maxmemory", "argument must be a memory value")),
        (("CONFIG", "SET", "maxmemory", "-1"), failed("maxmemory", "argument must be a memory value")),
        (("CONFIG", "SET", "maxmemory-policy", "foo"),
         failed("maxmemory-policy", "argument(s) must be one of the following: " + policies)),
        (("CONFIG", "SET", "nosuch", "1"), Err("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'")),
        (("CONFIG", "SET", "maxmemory", "1mb", "maxmemory", "2mb"), failed("maxmemory", "duplicate parameter")),
        (("CONFIG", "SET", "databases", "5"), failed("databases", "can't set immutable config")),
        (("CONFIG", "SET", "maxmemory-samples", "0"),
         failed("maxmemory-samples", "argument must be between 1 and 2147483647 inclusive")),
        (("CONFIG", "SET", "timeout", "-1"), failed("timeout", "argument must be between 0 and 2147483647 inclusive")),
        (("CONFIG", "SET", "maxclients", "abc"), failed("maxclients", "argument couldn't be parsed into an integer")),
        (("CONFIG", "SET", "maxmemory"), wrong_args("config|set")),
        (("CONFIG", "SET", "maxmemory", "1", "maxmemory-policy"), SYNTAX),  # odd number of args
        (("CONFIG", "FOO"), Err("ERR unknown subcommand 'FOO'. Try CONFIG HELP.")),
    ])
    # a failed multi-parameter SET is atomic: nothing changed
    c.cmd("CONFIG", "SET", "maxmemory", "100mb")
    assert c.cmd("CONFIG", "SET", "maxmemory", "1mb", "maxmemory-policy", "bad").msg.startswith(
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy')")
    assert c.cmd("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"104857600"]
    assert c.cmd("CONFIG", "GET", "maxmemory-policy") == [b"maxmemory-policy", b"noeviction"]


def test_config_hz_is_clamped(c):
    check(c, [
        (("CONFIG", "SET", "hz", "0"), "OK"),
        (("CONFIG", "GET", "hz"), [b"hz", b"1"]),
        (("CONFIG", "SET", "hz", "1000"), "OK"),
        (("CONFIG", "GET", "hz"), [b"hz", b"500"]),
    ])


def test_config_resetstat(c):
    for _ in range(5):
        c.cmd("GET", "nosuch")
    c.cmd("SET", "k", "v")
    c.cmd("GET", "k")
    c.cmd("FOO")
    s = info(c, "stats")
    assert int(s["keyspace_misses"]) == 5 and int(s["keyspace_hits"]) == 1
    assert c.cmd("CONFIG", "RESETSTAT") == "OK"
    s = info(c, "stats")
    assert s["keyspace_misses"] == "0" and s["keyspace_hits"] == "0"
    assert s["expired_keys"] == "0" and s["evicted_keys"] == "0"
    assert int(s["total_commands_processed"]) <= 2
    assert "cmdstat_get" not in info(c, "commandstats")
    assert info(c, "errorstats") == {}
    assert c.cmd("CONFIG", "RESETSTAT", "x") == wrong_args("config|resetstat")


# ---------------------------------------------------------------------------------------------
# COMMAND
# ---------------------------------------------------------------------------------------------

def test_command_count_info_docs(c):
    n = c.cmd("COMMAND", "COUNT")
    assert isinstance(n, int) and n > 50
    allcmds = c.cmd("COMMAND")
    assert isinstance(allcmds, list) and len(allcmds) == n
    names = {entry[0] for entry in allcmds}
    for name in (b"get", b"set", b"incr", b"expire", b"multi", b"exec", b"watch", b"client", b"config",
                 b"info", b"ping", b"scan", b"lcs", b"getex", b"copy"):
        assert name in names, name

    get = c.cmd("COMMAND", "INFO", "get")
    assert isinstance(get, list) and len(get) == 1
    entry = get[0]
    assert entry[0] == b"get"
    assert entry[1] == 2            # arity
    assert "readonly" in entry[2] and "fast" in entry[2]
    assert entry[3:6] == [1, 1, 1]  # first key, last key, step
    assert "@read" in entry[6] and "@string" in entry[6]
    mset = c.cmd("COMMAND", "INFO", "mset")[0]
    assert mset[1] == -3 and mset[3:6] == [1, -1, 2] and "write" in mset[2]
    assert c.cmd("COMMAND", "INFO", "nosuch") == [None]
    both = c.cmd("COMMAND", "INFO", "GET", "nosuch", "set")
    assert [e[0] if e else None for e in both] == [b"get", None, b"set"]

    docs = c.cmd("COMMAND", "DOCS", "get")
    assert docs[0] == b"get"
    d = dict(zip(docs[1][0::2], docs[1][1::2]))
    assert {b"summary", b"since", b"group", b"complexity"} <= set(d)
    assert d[b"group"] == b"string"
    assert c.cmd("COMMAND", "DOCS", "nosuch") == []

    assert c.cmd("COMMAND", "GETKEYS", "get", "a") == [b"a"]
    assert c.cmd("COMMAND", "GETKEYS", "mset", "a", "1", "b", "2") == [b"a", b"b"]
    assert c.cmd("COMMAND", "FOO") == Err("ERR unknown subcommand 'FOO'. Try COMMAND HELP.")


# ---------------------------------------------------------------------------------------------
# INFO
# ---------------------------------------------------------------------------------------------

def test_info_default_sections_and_fields(sardine, c):
    raw = c.cmd("INFO")
    assert isinstance(raw, bytes)
    text = raw.decode()
    assert "\r\n" in text
    for header in ("# Server", "# Clients", "# Memory", "# Persistence", "# Stats", "# Replication",
                   "# CPU", "# Keyspace"):
        assert header in text, header
    i = parse_info(raw)
    assert re.fullmatch(r"\d+\.\d+\.\d+", i["redis_version"])
    assert int(i["redis_version"].split(".")[0]) >= 7
    assert int(i["process_id"]) == sardine.proc.pid
    assert int(i["tcp_port"]) == sardine.port
    assert int(i["connected_clients"]) == 1
    for field in ("used_memory", "used_memory_rss", "used_memory_peak", "maxmemory"):
        assert i[field].isdigit(), field
    assert int(i["used_memory"]) > 0
    assert int(i["maxmemory"]) == 0
    assert re.fullmatch(r"[\d.]+[BKMGT]", i["used_memory_human"])
    assert re.fullmatch(r"[\d.]+[BKMGT]", i["maxmemory_human"])
    assert i["maxmemory_policy"] == "noeviction"
    assert float(i["mem_fragmentation_ratio"]) > 0
    assert i["mem_allocator"]
    for field in ("total_commands_processed", "instantaneous_ops_per_sec", "expired_keys", "evicted_keys",
                  "keyspace_hits", "keyspace_misses", "total_connections_received"):
        assert i[field].isdigit(), field
    assert i["role"] == "master"
    assert int(i["uptime_in_seconds"]) >= 0


def test_info_sections_selection(c):
    server = c.cmd("INFO", "server").decode()
    assert server.startswith("# Server\r\n")
    assert "# Clients" not in server and "# Memory" not in server
    mem = parse_info(c.cmd("INFO", "memory"))
    assert "used_memory" in mem and "redis_version" not in mem
    both = parse_info(c.cmd("INFO", "server", "clients"))
    assert "redis_version" in both and "connected_clients" in both and "used_memory" not in both
    upper = parse_info(c.cmd("INFO", "SERVER"))
    assert "redis_version" in upper
    assert c.cmd("INFO", "nosuchsection") == b""
    allinfo = c.cmd("INFO", "all").decode()
    for header in ("# Server", "# Memory", "# Stats", "# Commandstats", "# Errorstats", "# Keyspace"):
        assert header in allinfo
    everything = c.cmd("INFO", "everything").decode()
    assert "# Commandstats" in everything


def test_info_stats_counters(sardine, c):
    c.cmd("CONFIG", "RESETSTAT")
    c.cmd("SET", "k", "v")
    for _ in range(3):
        c.cmd("GET", "k")
    for _ in range(2):
        c.cmd("GET", "nosuch")
    c.cmd("EXISTS", "nosuch")
    s = info(c, "stats")
    assert s["keyspace_hits"] == "3"
    assert s["keyspace_misses"] == "3"
    before = int(s["total_commands_processed"])
    for _ in range(10):
        c.cmd("PING")
    after = int(info(c, "stats")["total_commands_processed"])
    assert after - before == 11  # 10 PINGs + the INFO
    conns_before = int(info(c, "stats")["total_connections_received"])
    with Raw(sardine.port) as other:
        other.cmd("PING")
        assert int(info(c, "clients")["connected_clients"]) == 2
    assert int(info(c, "stats")["total_connections_received"]) == conns_before + 1
    wait_until(lambda: info(c, "clients")["connected_clients"] == "1", msg="client count to drop")


def test_info_commandstats(c):
    c.cmd("CONFIG", "RESETSTAT")
    c.cmd("SET", "k", "1")
    c.cmd("GET", "k")
    c.cmd("GET", "k")
    c.cmd("INCR", "k")
    c.cmd("INCR", "nope", "extra")  # rejected: wrong arity
    c.cmd("SET", "k", "v", "NX", "XX")  # fails inside the command
    cs = info(c, "commandstats")
    def stat(name):
        return dict(kv.split("=", 1) for kv in cs[f"cmdstat_{name}"].split(","))
    g = stat("get")
    assert g["calls"] == "2"
    assert set(g) >= {"calls", "usec", "usec_per_call", "rejected_calls", "failed_calls"}
    assert int(g["usec"]) >= 0 and float(g["usec_per_call"]) >= 0
    assert stat("incr")["calls"] == "1"
    assert stat("incr")["rejected_calls"] == "1"
    s = stat("set")
    assert s["calls"] == "2" and s["failed_calls"] == "1"
    # subcommands are reported as cmdstat_<cmd>|<sub>
    c.cmd("CONFIG", "GET", "maxmemory")
    assert "cmdstat_config|get" in info(c, "commandstats")


def test_info_errorstats(c):
    c.cmd("CONFIG", "RESETSTAT")
    c.cmd("SET", "k", "v")
    c.cmd("INCR", "k")
    c.cmd("INCR", "k")
    c.cmd("FOO")
    es = info(c, "errorstats")
    assert es["errorstat_ERR"] == "count=3"
    stats = info(c, "stats")
    assert stats["total_error_replies"] == "3"
    assert stats["unexpected_error_replies"] == "0"


def test_info_keyspace_format(c):
    c.cmd("MSET", "a", "1", "b", "2")
    c.cmd("EXPIRE", "a", "1000")
    c.cmd("SELECT", "5")
    c.cmd("SET", "z", "1")
    text = c.cmd("INFO", "keyspace").decode()
    assert text.startswith("# Keyspace\r\n")
    assert re.search(r"^db0:keys=2,expires=1,avg_ttl=\d+\r$", text, re.M)
    assert re.search(r"^db5:keys=1,expires=0,avg_ttl=0\r$", text, re.M)
    assert "db1:" not in text


# ---------------------------------------------------------------------------------------------
# MEMORY
# ---------------------------------------------------------------------------------------------

def test_memory_usage_shape(c):
    assert c.cmd("MEMORY", "USAGE", "nosuch") is None
    c.cmd("SET", "small", "v")
    c.cmd("SET", "big", "x" * 100000)
    small = c.cmd("MEMORY", "USAGE", "small")
    big = c.cmd("MEMORY", "USAGE", "big")
    assert isinstance(small, int) and 0 < small < 200
    assert isinstance(big, int) and 100000 <= big < 140000
    assert c.cmd("MEMORY", "USAGE", "small", "SAMPLES", "5") == small
    assert c.cmd("MEMORY", "USAGE", "small", "FOO") == SYNTAX
    assert c.cmd("MEMORY", "USAGE") == wrong_args("memory|usage")
    assert c.cmd("MEMORY", "FOO") == Err("ERR unknown subcommand 'FOO'. Try MEMORY HELP.")


def test_memory_stats_and_doctor_shape(c):
    stats = c.cmd("MEMORY", "STATS")
    assert isinstance(stats, list) and len(stats) % 2 == 0
    d = dict(zip(stats[0::2], stats[1::2]))
    for key in (b"peak.allocated", b"total.allocated", b"keys.count", b"dataset.bytes"):
        assert key in d, key
    assert isinstance(d[b"total.allocated"], int) and d[b"total.allocated"] > 0
    assert d[b"keys.count"] == 0
    c.cmd("SET", "a", "1")
    d = dict(zip(*[iter(c.cmd("MEMORY", "STATS"))] * 2))
    assert d[b"keys.count"] == 1
    doctor = c.cmd("MEMORY", "DOCTOR")
    assert isinstance(doctor, bytes) and len(doctor) > 10


def test_used_memory_tracks_data(c):
    before = int(info(c, "memory")["used_memory"])
    c.cmd("MSET", *[x for i in range(2000) for x in (f"key:{i}", "v" * 1000)])
    after = int(info(c, "memory")["used_memory"])
    assert after - before >= 2000 * 1000
    assert after - before < 2000 * 1000 * 3
    peak = int(info(c, "memory")["used_memory_peak"])
    assert peak >= after
    c.cmd("FLUSHALL")
    wait_until(lambda: int(info(c, "memory")["used_memory"]) < before + 1000000, msg="memory to be released")


# ---------------------------------------------------------------------------------------------
# AUTH / requirepass
# ---------------------------------------------------------------------------------------------

def test_auth_without_password_configured(c):
    check(c, [
        (("AUTH", "x"), Err("ERR AUTH <password> called without any password configured for the default "
                            "user. Are you sure your configuration is correct?")),
        (("AUTH", "default", "anything"), "OK"),  # default user is nopass
        (("AUTH", "nobody", "x"), WRONGPASS),
        (("AUTH",), wrong_args("auth")),
    ])


def test_requirepass(make_sardine):
    s = make_sardine("--requirepass", "s3cret")
    with Raw(s.port) as c:
        check(c, [
            (("GET", "k"), NOAUTH),
            (("SET", "k", "v"), NOAUTH),
            (("PING",), NOAUTH),
            (("MULTI",), NOAUTH),
            (("AUTH", "wrong"), WRONGPASS),
            (("GET", "k"), NOAUTH),
            (("AUTH", "default", "wrong"), WRONGPASS),
            (("AUTH", "s3cret"), "OK"),
            (("SET", "k", "v"), "OK"),
            (("GET", "k"), b"v"),
        ])
    with Raw(s.port) as c:
        check(c, [
            (("AUTH", "default", "s3cret"), "OK"),
            (("GET", "k"), b"v"),
        ])
    with Raw(s.port) as c:
        c.send(b"GET k\r\n")  # inline commands are checked too
        assert c.reply() == NOAUTH
        assert c.cmd("QUIT") == "OK"  # QUIT works unauthenticated


def test_requirepass_unauthenticated_protocol_limits(make_sardine):
    s = make_sardine("--requirepass", "s3cret")
    with Raw(s.port) as c:
        c.send(b"*11\r\n")
        assert c.read_until_closed() == b"-ERR Protocol error: unauthenticated multibulk length\r\n"
    with Raw(s.port) as c:
        c.send(b"*2\r\n$3\r\nGET\r\n$16385\r\n")
        assert c.read_until_closed() == b"-ERR Protocol error: unauthenticated bulk length\r\n"
    with Raw(s.port) as c:
        assert c.cmd("AUTH", "s3cret") == "OK"
        assert c.cmd("MSET", *["a", "1"] * 10) == "OK"


def test_requirepass_config_set(sardine, c):
    assert c.cmd("CONFIG", "SET", "requirepass", "pw") == "OK"
    assert c.cmd("PING") == "PONG"  # already-authenticated connection keeps working
    with Raw(sardine.port) as other:
        assert other.cmd("PING") == NOAUTH
        assert other.cmd("AUTH", "pw") == "OK"
        assert other.cmd("PING") == "PONG"
    assert c.cmd("CONFIG", "SET", "requirepass", "") == "OK"
    with Raw(sardine.port) as other:
        assert other.cmd("PING") == "PONG"


def test_noauth_counts_as_error(make_sardine):
    s = make_sardine("--requirepass", "pw")
    with Raw(s.port) as c, Raw(s.port) as other:
        assert c.cmd("AUTH", "pw") == "OK"
        assert c.cmd("CONFIG", "RESETSTAT") == "OK"
        assert other.cmd("GET", "x") == NOAUTH
        assert other.cmd("SET", "x", "y") == NOAUTH
        es = parse_info(c.cmd("INFO", "errorstats"))
        assert es == {"errorstat_NOAUTH": "count=2"}


# ---------------------------------------------------------------------------------------------
# SHUTDOWN
# ---------------------------------------------------------------------------------------------

def test_shutdown_nosave(make_sardine):
    s = make_sardine()
    with Raw(s.port) as c:
        c.cmd("SET", "k", "v")
        try:
            c.send(encode("SHUTDOWN", "NOSAVE"))
            out = c.read_until_closed(timeout=10)
        except ConnectionResetError:
            out = b""
        assert out == b""  # no reply: the server just exits
    assert s.proc.wait(10) == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", s.port), timeout=1).close()


def test_shutdown_bad_args(c):
    assert c.cmd("SHUTDOWN", "FOO") == SYNTAX
    assert c.cmd("SHUTDOWN", "SAVE", "NOSAVE") == SYNTAX
    assert c.cmd("PING") == "PONG"


def test_sigterm_exits_cleanly(make_sardine):
    s = make_sardine()
    s.client().set("k", "v")
    s.proc.terminate()
    assert s.proc.wait(10) == 0


# ---------------------------------------------------------------------------------------------
# Misc robustness
# ---------------------------------------------------------------------------------------------

def test_slow_client_does_not_block_others(sardine):
    """A client that stopped reading a big reply must not stall other clients."""
    r = sardine.client()
    r.set("big", "x" * (1 << 20))
    hog = Raw(sardine.port)
    try:
        hog.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        hog.send(b"".join(encode("GET", "big") for _ in range(20)))
        for _ in range(20):
            assert r.ping() is True
        assert r.get("big") == b"x" * (1 << 20)
    finally:
        hog.close()


def test_concurrent_incr_from_threads(sardine):
    n_threads, n = 8, 300

    def work():
        cl = sardine.client()
        for _ in range(n):
            cl.incr("ctr")
        cl.close()

    ts = [threading.Thread(target=work) for _ in range(n_threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert int(sardine.client().get("ctr")) == n_threads * n
