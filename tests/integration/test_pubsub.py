"""Pub/sub: SUBSCRIBE/PSUBSCRIBE/SSUBSCRIBE and their UNSUBSCRIBEs, PUBLISH/SPUBLISH, PUBSUB, RESP2
subscriber mode and RESP3 pushes, against redis-server 7.0 where the output is deterministic.

The differential runner sends each step on a named raw connection of both servers, then PINGs every
connection and reads everything up to the PING's reply: the messages a PUBLISH delivered are written
before the publisher's reply, so they are all read by then, and the transcripts compare whole."""
import socket
import time

import pytest
import redis

from sardine_resp import Err, Push, Raw, encode


def is_pong(r):
    return r == "PONG" or r == [b"pong", b""] or (isinstance(r, Push) and list(r) == [b"pong", b""])


def drain(conn):
    """Everything pending on conn, up to the reply of a PING sent now."""
    conn.send(encode("PING"))
    out = []
    while True:
        r = conn.reply()
        if is_pong(r):
            return out
        out.append(r)


def norm(v):
    if isinstance(v, Push):
        return ("push", [norm(x) for x in v])
    if isinstance(v, list):
        return [norm(x) for x in v]
    return v


def transcript(server, steps, sort_steps=()):
    conns = {}
    log = []
    in_multi = set()  # a PING there would be queued: read the one reply instead
    for i, (name, args) in enumerate(steps):
        if name not in conns:
            conns[name] = Raw(server.port)
        conns[name].send(encode(*args))
        verb = args[0].upper()
        if verb == "MULTI":
            in_multi.add(name)
        for n in sorted(conns):
            if n in in_multi:
                got = [norm(conns[n].reply())] if n == name else []
                if n == name and verb in ("EXEC", "DISCARD"):
                    in_multi.discard(name)
                    got += [norm(x) for x in drain(conns[n])]
            else:
                got = [norm(x) for x in drain(conns[n])]
            if args[0] == "HELLO" and n == name:  # the connection ids differ
                got = ["hello"]
            if args[0] == "PUBSUB" and len(args) > 1 and "CHANNELS" in args[1].upper():  # a hash table's order
                got = [sorted(x) if isinstance(x, list) else x for x in got]
            if i in sort_steps:  # a hash table's order: compare what came, and the counts, as sets
                heads = sorted((repr(x[:-1]) if isinstance(x, list) and x and x[0] in (b"unsubscribe", b"punsubscribe")
                                else repr(x)) for x in got)
                counts = sorted(x[-1] for x in got if isinstance(x, list) and x and
                                x[0] in (b"unsubscribe", b"punsubscribe"))
                got = [heads, counts]
            if n == name and verb in ("EXEC", "DISCARD"):
                in_multi.discard(name)
            log.append((i, n, got))
    return log


def assert_same(sardine, oracle, steps, sort_steps=()):
    a = transcript(sardine, steps, sort_steps)
    b = transcript(oracle, steps, sort_steps)
    for x, y in zip(a, b):
        assert x == y, f"step {x[0]} {steps[x[0]]}: sardine {x[2]!r}, redis {y[2]!r}"
    assert len(a) == len(b)


def test_resp2_subscribe_publish(sardine, oracle):
    assert_same(sardine, oracle, [
        ("s", ("SUBSCRIBE", "a", "b", "a")),
        ("p", ("PUBLISH", "a", "hello")),
        ("p", ("PUBLISH", "c", "nobody")),
        ("s", ("PSUBSCRIBE", "b*", "x?y", "[ab]")),
        ("p", ("PUBLISH", "b", "two")),
        ("p", ("PUBLISH", "xzy", "pat")),
        ("p", ("PUBLISH", "bzz", "")),
        ("s", ("GET", "k")),
        ("s", ("PING", "arg")),
        ("s", ("UNSUBSCRIBE", "a", "nosuch")),
        ("s", ("PUNSUBSCRIBE", "x?y")),
        ("p", ("PUBSUB", "NUMSUB", "a", "b", "zz")),
        ("p", ("PUBSUB", "NUMPAT")),
        ("p", ("PUBSUB", "CHANNELS")),
        ("p", ("PUBSUB", "CHANNELS", "z*")),
        ("s", ("UNSUBSCRIBE",)),
        ("s", ("PUNSUBSCRIBE",)),
        ("s", ("UNSUBSCRIBE",)),
        ("s", ("PUNSUBSCRIBE",)),
        ("s", ("GET", "k")),
        ("s", ("PING",)),
    ], sort_steps={4, 15, 16})  # the order among matching patterns is a hash table's in Redis


def test_shard_channels(sardine, oracle):
    assert_same(sardine, oracle, [
        ("s", ("SSUBSCRIBE", "sh1", "sh2")),
        ("s", ("SUBSCRIBE", "sh1")),
        ("p", ("SPUBLISH", "sh1", "m")),
        ("p", ("PUBLISH", "sh1", "n")),
        ("t", ("PSUBSCRIBE", "sh*")),
        ("p", ("SPUBLISH", "sh2", "patterns do not see shard messages")),
        ("p", ("PUBSUB", "SHARDCHANNELS")),
        ("p", ("PUBSUB", "SHARDCHANNELS", "*2")),
        ("p", ("PUBSUB", "SHARDNUMSUB", "sh1", "nope")),
        ("s", ("SUNSUBSCRIBE", "sh2")),
        ("s", ("SUNSUBSCRIBE",)),
        ("s", ("SUNSUBSCRIBE",)),
        ("s", ("UNSUBSCRIBE",)),
        ("s", ("SET", "k", "v")),
    ])


def test_resp3_pushes(sardine, oracle):
    assert_same(sardine, oracle, [
        ("s", ("HELLO", "3")),
        ("s", ("SUBSCRIBE", "a")),
        ("s", ("PSUBSCRIBE", "a*")),
        ("s", ("SSUBSCRIBE", "a")),
        ("s", ("SET", "k", "v")),          # RESP3 clients may run anything while subscribed
        ("s", ("GET", "k")),
        ("p", ("PUBLISH", "a", "x")),
        ("p", ("SPUBLISH", "a", "y")),
        ("s", ("UNSUBSCRIBE", "a")),
        ("s", ("PUNSUBSCRIBE", "a*")),
        ("s", ("SUNSUBSCRIBE", "a")),
        ("s", ("UNSUBSCRIBE",)),
    ])


def test_publish_in_multi_and_eval(sardine, oracle):
    assert_same(sardine, oracle, [
        ("s", ("SUBSCRIBE", "ch")),
        ("p", ("MULTI",)),
        ("p", ("PUBLISH", "ch", "one")),
        ("p", ("SET", "k", "v")),
        ("p", ("PUBLISH", "ch", "two")),
        ("p", ("EXEC",)),
        ("p", ("EVAL", "return redis.call('publish', KEYS[1], ARGV[1])", "1", "ch", "x")),
        ("p", ("EVAL", "return redis.call('publish', 'ch', ARGV[1])", "0", "from-lua")),
        ("p", ("EVAL", "return redis.call('subscribe', 'ch')", "0")),
        ("p", ("MULTI",)),
        ("p", ("SSUBSCRIBE", "q")),
        ("p", ("EXEC",)),
        ("p", ("MULTI",)),
        ("p", ("SUBSCRIBE", "q")),
        ("p", ("EXEC",)),
        ("p", ("UNSUBSCRIBE",)),
    ])


def test_errors(sardine, oracle):
    assert_same(sardine, oracle, [
        ("c", ("SUBSCRIBE",)),
        ("c", ("PSUBSCRIBE",)),
        ("c", ("SSUBSCRIBE",)),
        ("c", ("PUBLISH", "a")),
        ("c", ("SPUBLISH", "a", "b", "c")),
        ("c", ("PUBSUB",)),
        ("c", ("PUBSUB", "NOPE")),
        ("c", ("PUBSUB", "CHANNELS", "a", "b")),
        ("c", ("PUBSUB", "NUMPAT", "x")),
        ("c", ("PUBSUB", "HELP")),
        ("c", ("UNSUBSCRIBE", "never")),
        ("c", ("PUNSUBSCRIBE",)),
        ("c", ("SUNSUBSCRIBE",)),
        ("c", ("PING",)),
    ])


def test_reset_and_disconnect_unsubscribe(sardine):
    s = Raw(sardine.port)
    s.send(encode("SUBSCRIBE", "a", "b"))
    s.send(encode("PSUBSCRIBE", "p*"))
    s.send(encode("SSUBSCRIBE", "sh"))
    for _ in range(4):
        s.reply()
    r = sardine.client()
    info = r.info("stats")
    assert (info["pubsub_channels"], info["pubsub_patterns"], info["pubsubshard_channels"]) == (2, 1, 1)
    line = [l for l in r.client_list() if l["name"] == ""][0] if False else None  # noqa
    lines = r.execute_command("CLIENT", "LIST").decode().splitlines()
    sub = [l for l in lines if " sub=2 " in l]
    assert len(sub) == 1 and " psub=1 " in sub[0] and " ssub=1 " in sub[0] and " flags=P " in sub[0]
    assert s.cmd("RESET") == "RESET"
    assert s.cmd("GET", "x") is None
    info = r.info("stats")
    assert (info["pubsub_channels"], info["pubsub_patterns"], info["pubsubshard_channels"]) == (0, 0, 0)
    assert r.publish("a", "x") == 0
    s2 = Raw(sardine.port)
    s2.send(encode("SUBSCRIBE", "a", "b"))
    s2.reply(), s2.reply()
    assert r.publish("a", "x") == 1
    s2.sock.close()
    for _ in range(200):  # the server notices the close on its next loop iteration
        if r.pubsub_numsub("a") == [(b"a", 0)]:
            break
        time.sleep(0.01)
    assert r.pubsub_numsub("a") == [(b"a", 0)]
    assert r.info("stats")["pubsub_channels"] == 0


def test_many_subscribers_and_unsubscribe_order(sardine):
    """Subscribers come and go in every order: every PUBLISH counts exactly the ones still there."""
    subs = [Raw(sardine.port) for _ in range(20)]
    for i, s in enumerate(subs):
        s.send(encode("SUBSCRIBE", "ch", "own%d" % i))
        s.reply(), s.reply()
    r = sardine.client()
    assert r.publish("ch", "m") == 20
    for i in (0, 19, 7, 8, 3):
        drain(subs[i])
        subs[i].cmd("UNSUBSCRIBE", "ch")
    assert r.publish("ch", "m") == 15
    assert r.pubsub_numsub("ch", "own7") == [(b"ch", 15), (b"own7", 1)]
    for i, s in enumerate(subs):
        got = drain(s)
        want = 2 if i not in (0, 19, 7, 8, 3) else 0
        assert [x[0] for x in got if isinstance(x, list)].count(b"message") == want


def test_patterns_many(sardine):
    """Thousands of patterns: a channel reaches exactly the patterns that match it (prefix index)."""
    s = Raw(sardine.port)
    pats = ["user:%d:*" % i for i in range(2000)] + ["*", "user:1?:x", "us[e]r:*", "user:\\*", "", "user:1*"]
    s.send(b"".join(encode("PSUBSCRIBE", p) for p in pats))
    for _ in pats:
        s.reply()
    r = sardine.client()
    assert r.pubsub_numpat() == len(pats)
    assert r.publish("user:12:x", "m") == 5   # user:12:*, *, user:1?:x, us[e]r:*, user:1*
    assert r.publish("user:*", "m") == 3      # *, us[e]r:*, user:\*
    assert r.publish("", "m") == 1            # "" only: Redis's '*' needs at least one byte
    got = drain(s)
    assert sorted(x[1] for x in got) == sorted([b"user:12:*", b"*", b"user:1?:x", b"us[e]r:*", b"user:1*",
                                                b"*", b"us[e]r:*", b"user:\\*", b""])
    s.cmd("PUNSUBSCRIBE", "*")
    for p in pats[:1000]:
        s.send(encode("PUNSUBSCRIBE", p))
    for _ in range(1000):
        s.reply()
    assert r.pubsub_numpat() == len(pats) - 1001
    assert r.publish("user:12:x", "m") == 3
    assert r.publish("user:1500:a", "m") == 3  # user:1500:*, us[e]r:*, user:1*


def test_redis_py_pubsub(sardine):
    r = sardine.client()
    p = r.pubsub()
    p.subscribe("news")
    p.psubscribe("events.*")
    seen = []
    deadline = time.time() + 5
    while len(seen) < 2 and time.time() < deadline:
        m = p.get_message(timeout=0.5)
        if m:
            seen.append((m["type"], m["channel"]))
    assert seen == [("subscribe", b"news"), ("psubscribe", b"events.*")]
    assert r.publish("news", "hi") == 1
    assert r.publish("events.login", "bob") == 1
    msgs = []
    deadline = time.time() + 5
    while len(msgs) < 2 and time.time() < deadline:
        m = p.get_message(timeout=0.5)
        if m:
            msgs.append(m)
    assert [(m["type"], m.get("pattern"), m["channel"], m["data"]) for m in msgs] == [
        ("message", None, b"news", b"hi"), ("pmessage", b"events.*", b"events.login", b"bob")]
    p.close()


def test_slow_subscriber_is_disconnected(make_sardine):
    srv = make_sardine("--client-output-buffer-limit", "pubsub 262144 0 0")
    slow = socket.create_connection(("127.0.0.1", srv.port))
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.sendall(encode("SUBSCRIBE", "flood"))
    r = srv.client()
    payload = "x" * 65536
    for _ in range(200):  # ~13 MB: far past what the socket buffers hold and the 256 KiB limit
        if r.publish("flood", payload) == 0:
            break
    assert r.pubsub_numsub("flood") == [(b"flood", 0)]
    assert r.info("stats")["client_output_buffer_limit_disconnections"] >= 1
    assert r.ping() is True
    r.set("still", "serving")
    assert r.get("still") == b"serving"
    slow.close()


def test_client_list_and_kill_by_type(sardine):
    s = Raw(sardine.port)
    s.cmd("SUBSCRIBE", "x")
    r = sardine.client()
    pubsub = r.execute_command("CLIENT", "LIST", "TYPE", "pubsub").decode().splitlines()
    normal = r.execute_command("CLIENT", "LIST", "TYPE", "normal").decode().splitlines()
    assert len(pubsub) == 1 and " sub=1 " in pubsub[0] and " flags=P " in pubsub[0]
    assert all(" sub=0 " in l for l in normal) and len(normal) == 1
    assert r.execute_command("CLIENT", "KILL", "TYPE", "normal") == 0  # skips itself, spares the subscriber
    assert r.execute_command("CLIENT", "KILL", "TYPE", "pubsub") == 1
    assert r.pubsub_numsub("x") == [(b"x", 0)]


def test_patterns_against_redis(sardine, oracle):
    """Random PSUBSCRIBE/PUNSUBSCRIBE/PUBLISH on a few connections, on both servers: patterns sharing a
    literal prefix (several on one prefix, one alone, groups shrinking back to one), prefixes of 0 to
    300 bytes, escapes and classes, the same pattern on many clients, PUNSUBSCRIBE of all; every reply
    and every delivered message compared (a message's deliveries as a set: the order over patterns is
    a hash table's in Redis)."""
    import random
    rnd = random.Random(1307)
    long = "L" * 300
    prefixes = ["", "a", "ab", "ab:", "b", long, long + "x"]
    tails = ["*", "?", "[ab]*", "\\*", "", "x", "*b", "?*", "[^a]"]
    pats = sorted({p + t for p in prefixes for t in tails})
    chans = ["", "a", "ab", "abx", "ab:*", "ab:x", "b", "bb", "*", "x", long, long + "x", long + "xb", long + "y"]
    conns = ["c%d" % i for i in range(6)]
    steps, sort_steps = [], set()
    for _ in range(400):
        who = rnd.choice(conns)
        op = rnd.random()
        if op < 0.4:
            steps.append((who, ["PSUBSCRIBE"] + rnd.sample(pats, rnd.randint(1, 3))))
        elif op < 0.55:
            steps.append((who, ["PUNSUBSCRIBE"] + rnd.sample(pats, rnd.randint(1, 3))))
        elif op < 0.6:
            sort_steps.add(len(steps))
            steps.append((who, ["PUNSUBSCRIBE"]))
        elif op < 0.65:
            steps.append((who, ["SUBSCRIBE", rnd.choice(chans)]))
        else:
            sort_steps.add(len(steps))
            steps.append(("pub", ["PUBLISH", rnd.choice(chans), "m%d" % len(steps)]))
        if rnd.random() < 0.05:
            steps.append(("pub", ["PUBSUB", "NUMPAT"]))
    assert_same(sardine, oracle, steps, sort_steps)


def memory_beside_clients(r):
    """used_memory less what the clients hold themselves (their buffers' sizes depend on how the bytes
    arrived): what the registries hold, and the server's fixed part.  Both figures come from one
    MULTI/EXEC: between two separate commands the server's cron may give back an idle client's grown query
    buffer, and the difference would move by its size."""
    p = r.pipeline(transaction=True)
    p.execute_command("CLIENT", "LIST")
    p.info("memory")
    listing, info = p.execute()
    held = sum(int(l.split(" tot-mem=")[1].split()[0]) for l in listing.decode().splitlines())
    return info["used_memory"] - held


# no latency histograms or slow log entries appearing between rounds
STEADY = ("--latency-tracking", "no", "--slowlog-log-slower-than", "-1")


def subscribe_lots(conns):
    """Many patterns and channels over conns: the same 200 patterns on every connection, 3000 patterns of
    the first connection alone (each literal prefix shared by 34 or 100 of them, prefixes of 301 bytes),
    channels shared and not.  Returns the expected PUBSUB NUMPAT."""
    shared = ["shared:%d:*" % i for i in range(200)]
    own = ["own:%d:*:%d" % (i % 60, i) for i in range(2000)]
    own += ["L" * 300 + "%d*:%d" % (i % 10, i) for i in range(1000)]
    for k, c in enumerate(conns):
        batch = [encode("PSUBSCRIBE", *shared[i:i + 50]) for i in range(0, len(shared), 50)]
        batch += [encode("SUBSCRIBE", "ch%d" % (k % 3), "mine%d" % k)]
        if k == 0:
            batch += [encode("PSUBSCRIBE", *own[i:i + 100]) for i in range(0, len(own), 100)]
        c.send(b"".join(batch))
        drain(c)
    return len(shared) + len(own)


def test_unsubscribing_everything_frees_it(make_sardine):
    """Subscribe lots, then drop everything (PUNSUBSCRIBE/UNSUBSCRIBE of all, one by one in reverse,
    RESET): the memory beside the clients' own comes back to what it was after the round before, to the
    byte."""
    sardine = make_sardine(*STEADY)
    r = sardine.client()
    conns = [Raw(sardine.port) for _ in range(8)]
    marks = []
    for _ in range(3):
        want = subscribe_lots(conns)
        assert r.pubsub_numpat() == want
        assert r.publish("shared:7:x", "m") == len(conns)
        assert r.publish("own:7:x:1567", "m") == 1
        assert r.publish("L" * 300 + "2x:12", "m") == 1
        conns[0].send(encode("PUNSUBSCRIBE") + encode("UNSUBSCRIBE"))
        for k, c in enumerate(conns[1:], 1):
            if k % 3 == 0:
                c.send(encode("RESET"))
            else:
                c.send(b"".join(encode("PUNSUBSCRIBE", "shared:%d:*" % i) for i in reversed(range(200))))
                c.send(encode("UNSUBSCRIBE", "ch%d" % (k % 3), "mine%d" % k, "never"))
        for c in conns:
            drain(c)
        assert r.pubsub_numpat() == 0
        assert r.info("stats")["pubsub_channels"] == 0
        marks.append(memory_beside_clients(r))
    assert marks[1] == marks[2], marks


def test_disconnecting_frees_subscriptions(make_sardine):
    """Clients holding many patterns and channels disconnect: the memory beside the clients' own comes
    back to the same figure each round, to the byte."""
    sardine = make_sardine(*STEADY)
    r = sardine.client()
    marks = []
    for _ in range(3):
        conns = [Raw(sardine.port) for _ in range(8)]
        subscribe_lots(conns)
        for c in conns:
            c.sock.close()
        for _ in range(500):  # the server notices the closes on its next loop iterations
            if r.info("clients")["connected_clients"] == 1:
                break
            time.sleep(0.01)
        assert r.info("clients")["connected_clients"] == 1
        assert r.pubsub_numpat() == 0 and r.info("stats")["pubsub_channels"] == 0
        marks.append(memory_beside_clients(r))
    assert marks[1] == marks[2], marks


def test_registries_resized_while_in_use_as_redis(make_sardine, make_oracle):
    """Thousands of channels and patterns (the registries and the clients' sets pass the size from which
    util/ptab resizes incrementally, so two blocks are in use for a while), subscribed in batches,
    partly dropped while they grow and while they shrink, published to and listed: every reply as
    redis-server's (channel lists and mass unsubscribes compared as sets)."""
    sardine, oracle = make_sardine(), make_oracle()
    # the publisher connects first: a PUBLISH on a connection accepted in the same loop turn as another
    # client's PING may run after it, and the message would show in the next step instead
    steps, sort_steps = [("p", ["ECHO", "first"])], set()
    for b in range(12):
        chans = ["ch:%d" % i for i in range(b * 500, b * 500 + 500)]
        steps.append(("a", ["SUBSCRIBE", *chans]))
        steps.append(("b", ["SUBSCRIBE", *chans[::3]]))
        steps.append(("c", ["PSUBSCRIBE", *("p:%d:*" % i for i in range(b * 250, b * 250 + 250))]))
        if b % 3 == 2:  # some leave while the sets grow
            steps.append(("a", ["UNSUBSCRIBE", *("ch:%d" % i for i in range(b * 500 - 700, b * 500 - 400))]))
            steps.append(("c", ["PUNSUBSCRIBE", *("p:%d:*" % i for i in range(b * 250 - 300, b * 250 - 100))]))
        steps.append(("p", ["PUBLISH", "ch:%d" % (b * 450), "m"]))
        steps.append(("p", ["PUBLISH", "p:%d:x" % (b * 200), "m"]))
        steps.append(("p", ["PUBSUB", "NUMSUB", "ch:0", "ch:3", "ch:1000", "ch:5999", "nope"]))
    steps.append(("p", ["PUBSUB", "CHANNELS"]))
    steps.append(("p", ["PUBSUB", "NUMPAT"]))
    for b in range(12):  # and while they shrink
        steps.append(("a", ["UNSUBSCRIBE", *("ch:%d" % i for i in range(b * 500, b * 500 + 450))]))
        steps.append(("c", ["PUNSUBSCRIBE", *("p:%d:*" % i for i in range(b * 250, b * 250 + 200))]))
        steps.append(("p", ["PUBLISH", "ch:%d" % (b * 500 + 3), "m"]))
        steps.append(("p", ["PUBSUB", "NUMSUB", "ch:%d" % (b * 500 + 460), "ch:%d" % (b * 500 + 3)]))
    steps.append(("p", ["PUBSUB", "CHANNELS", "ch:1*"]))
    for who, verb in (("a", "UNSUBSCRIBE"), ("b", "UNSUBSCRIBE"), ("c", "PUNSUBSCRIBE")):
        sort_steps.add(len(steps))
        steps.append((who, [verb]))
    steps.append(("p", ["PUBSUB", "NUMPAT"]))
    steps.append(("p", ["PUBSUB", "CHANNELS"]))
    assert_same(sardine, oracle, steps, sort_steps)
