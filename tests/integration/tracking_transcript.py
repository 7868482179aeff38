"""Transcripts of commands on several named connections, for client-side caching tests (test_tracking.py,
tests/diff/test_diff_tracking.py): after each step every connection is PINGed and read up to the PING's
reply, so every invalidation the step caused is in the transcript.  `@name` in a step's arguments is
that connection's CLIENT ID, and IDs in replies are shown as `@name` (the servers number clients
differently).  A step is (connection, args[, opts]); opts "nodrain": only that step's reply is read (a
PING would end CLIENT CACHING's one-command scope).  Connections in MULTI are not PINGed (it would be
queued); CLIENT KILL ID @x forgets connection x; QUIT closes the step's connection."""
from sardine_resp import Push, Raw, encode


def is_pong(r):
    return r == "PONG" or r == [b"pong", b""] or (isinstance(r, Push) and list(r) == [b"pong", b""])


def drain(conn):
    conn.send(encode("PING"))
    out = []
    while True:
        r = conn.reply()
        if is_pong(r):
            return out
        out.append(r)


def transcript(server, steps):
    conns, ids, log = {}, {}, []
    in_multi = set()  # a PING there would be queued: only the step's reply is read

    def norm(v):
        if isinstance(v, Push):
            return ("push", [norm(x) for x in v])
        if isinstance(v, (list, tuple)):
            return [norm(x) for x in v]
        if isinstance(v, int) and not isinstance(v, bool) and v in ids:
            return "@" + ids[v]
        return v

    for i, step in enumerate(steps):
        name, args = step[0], step[1]
        opts = step[2] if len(step) > 2 else ""
        for n in [name] + [a[1:] for a in args if isinstance(a, str) and a.startswith("@")]:
            if n not in conns:
                conns[n] = Raw(server.port)
                ids[conns[n].cmd("CLIENT", "ID")] = n
        named = {v: k for k, v in ids.items()}
        args = [str(named[a[1:]]) if isinstance(a, str) and a.startswith("@") else a for a in args]
        conns[name].send(encode(*args))
        if args[0].upper() == "QUIT":
            conns[name].reply()
            conns.pop(name).close()
            log.append((i, name, "closed"))
            continue
        verb = args[0].upper()
        if verb == "MULTI":
            in_multi.add(name)
        elif verb in ("EXEC", "DISCARD"):
            in_multi.discard(name)
        if "nodrain" in opts:
            log.append((i, name, [norm(conns[name].reply())]))
            continue
        got = {n: [] for n in conns}
        got[name].append(norm(conns[name].reply()))
        if verb == "CLIENT" and args[1].upper() == "KILL":  # CLIENT KILL ID <id>: that connection is gone
            conns.pop(ids[int(args[3])]).close()
            got = {n: g for n, g in got.items() if n in conns}
        for n in sorted(conns):
            if n not in in_multi:
                got[n] += [norm(x) for x in drain(conns[n])]
            if args[0].upper() == "HELLO" and n == name:
                got[n] = ["hello"]
            log.append((i, n, got[n]))
    for c in conns.values():
        c.close()
    return log


def assert_same(sardine, oracle, steps):
    a = transcript(sardine, steps)
    b = transcript(oracle, steps)
    for x, y in zip(a, b):
        assert x == y, f"step {x[0]} {steps[x[0]]}: sardine {x[2]!r}, redis {y[2]!r}"
    assert len(a) == len(b)
