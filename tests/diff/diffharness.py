"""The differential harness shared by every tests/diff/test_diff_*.py (sardine vs. the redis-server oracle).

A differential test generates command sequences with hypothesis and hands each one to `run_sequence`;
this module owns everything else, so that every data type is compared the same way:

  settings_for(n)        the one hypothesis profile: n examples (SARDINE_DIFF_EXAMPLES overrides),
                         derandomized (fixed seeds) unless SARDINE_DIFF_RANDOM=1, no deadline, no database.
  Side                   one server seen through a `main` connection, which runs the sequence, and an `aux`
                         connection, which inspects between steps (the same connection unless
                         TWO_CONNECTIONS).  It tracks MULTI so that inspection never gets queued inside a
                         transaction.  A test file subclasses it for its data type and sets or overrides:
                           CONFIG            (name, value) pairs CONFIG SET by reset() after FLUSHALL
                           OBSERVED_KEYS     keys whose OBJECT ENCODING is compared after every step
                           RESET_COMMANDS    sent on every connection before FLUSHALL (leave MULTI, ...)
                           CONN              connection class (sardine_resp.Raw unless told otherwise)
                           CHECK_STRUCTURE   run DEBUG CHECK-KEYSPACE at the end (off where values are
                                             corrupt on purpose)
                           NORMALIZE_QUEUED  whether EXEC's replies go through normalize() one by one
                           before(args)      -> hint: what normalize() must read (through aux) before
                                             the command runs, e.g. a hash's content for HRANDFIELD
                           normalize(args, reply, hint)  the comparable form of a reply (identity here)
                           observe()         what is compared after every step (default: encodings)
                           state()           what is compared at the end (default: nothing)
  sides_fixture(cls)     a pytest fixture yielding (sardine side, oracle side), optionally once per
                         RESP version (ids resp2/resp3).
  run_sequence(sides, seq)  reset both, run every step on both, compare replies and observe() after each
                         step, leave any MULTI, compare state(), check Sardine's structures and compare
                         DEBUG DIGEST of the two datasets.

Invariants:
  * both servers receive exactly the same commands in the same order (inspection included), so any
    difference in replies or state is the server's, never the harness's;
  * normalisation is the same function on both sides and only removes what Redis itself leaves
    unspecified (hash-table order, random picks, clock readings); each test file documents its own;
  * a failure names the step, its arguments and both values; hypothesis then shrinks the sequence and
    prints every step through note().
"""
import os

import pytest
from hypothesis import HealthCheck, note, settings

from harness import assert_keyspace_ok, assert_same_digest
from sardine_resp import Raw


def settings_for(default_examples):
    """(examples, hypothesis settings) shared by every differential test."""
    examples = int(os.environ.get("SARDINE_DIFF_EXAMPLES", str(default_examples)))
    return examples, settings(
        max_examples=examples,
        deadline=None,
        derandomize=not os.environ.get("SARDINE_DIFF_RANDOM"),
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.data_too_large],
    )


class Side:
    CONFIG = ()
    OBSERVED_KEYS = ()
    RESET_COMMANDS = (("DISCARD",),)
    CONN = Raw
    CHECK_STRUCTURE = True  # False where a test writes values that are corrupt on purpose
    TWO_CONNECTIONS = False
    NORMALIZE_QUEUED = True
    SHORTEN_ARGS = None      # describe commands with this many arguments or more by their head only

    def __init__(self, server, resp=2):
        self.server = server
        self.resp = resp
        self.main = self.CONN(server.port)
        self.aux = self.CONN(server.port) if self.TWO_CONNECTIONS else self.main
        self.queued = None   # arguments of the commands queued since MULTI; None outside a transaction

    @property
    def conn(self):
        return self.main

    def reclaim_expired(self):
        """A full SCAN of every database on a connection of its own: every key past its TTL is deleted."""
        c = Raw(self.server.port)
        try:
            for db in range(16):
                if c.cmd("SELECT", db) not in ("OK", b"OK"):
                    return  # no such database, or a test's ACL rules: nothing more can be reached
                cursor = "0"
                while True:
                    r = c.cmd("SCAN", cursor, "COUNT", 1000)
                    if not isinstance(r, list):
                        return
                    cursor = r[0]
                    if cursor in ("0", b"0"):
                        break
        finally:
            c.close()

    def connections(self):
        return (self.main, self.aux) if self.aux is not self.main else (self.main,)

    def reset(self, *config):
        """Empty server, known configuration (CONFIG plus `config` pairs), chosen RESP version."""
        for conn in self.connections():
            for command in self.RESET_COMMANDS:
                conn.cmd(*command)
        assert self.main.cmd("FLUSHALL") == "OK"
        for name, value in tuple(self.CONFIG) + tuple(config):
            assert self.main.cmd("CONFIG", "SET", name, value) == "OK", f"CONFIG SET {name} {value}"
        if self.resp == 3:
            self.main.cmd("HELLO", "3")
        self.queued = None

    # -- hooks for the data type
    def before(self, args):
        return None

    def normalize(self, args, reply, hint):
        return reply

    def encodings(self):
        return [self.aux.cmd("OBJECT", "ENCODING", k) for k in self.OBSERVED_KEYS]

    def observe(self):
        """Compared after every step; None inside MULTI (inspection would be queued)."""
        if self.queued is not None or not self.OBSERVED_KEYS:
            return None
        return self.encodings()

    def state(self):
        return None

    # -- running commands
    def run(self, args):
        """Runs one command on main; returns its normalized reply and follows MULTI/EXEC/DISCARD."""
        hint = self.before(args)
        reply = self.main.cmd(*args)
        name = args[0].upper()
        if self.queued is None:
            if name == "MULTI" and reply == "OK":
                self.queued = []
                return reply
            return self.normalize(args, reply, hint)
        if name == "EXEC":  # with arguments it is rejected and the transaction counts as gone
            queued, self.queued = self.queued, None
            if len(args) == 1 and isinstance(reply, list) and self.NORMALIZE_QUEUED:
                return [self.normalize(a, r, None) for a, r in zip(queued, reply)]
            return reply
        if name == "DISCARD" and len(args) == 1:
            self.queued = None
        elif reply == "QUEUED":
            self.queued.append(args)
        return reply

    def leave_multi(self):
        self.main.cmd("DISCARD")
        self.queued = None

    def describe(self, args):
        if self.SHORTEN_ARGS and len(args) >= self.SHORTEN_ARGS:
            return repr(tuple(args[:4]) + (f"... {len(args)} args",))
        return repr(args)

    def close(self):
        for conn in self.connections():
            conn.close()


def sides_fixture(side_class, resps=None, name="sides"):
    """A pytest fixture `name`: (side_class on sardine, side_class on the oracle), per RESP version if given.

    Keep test functions' text unchanged when moving them onto this harness: hypothesis derives the fixed
    seed of a derandomized test from its source, so renaming a parameter changes every sequence."""
    def pair(sardine, oracle, *extra):
        s, o = side_class(sardine, *extra), side_class(oracle, *extra)
        try:
            yield s, o
        finally:
            s.close()
            o.close()

    if resps:
        @pytest.fixture(name=name, params=list(resps), ids=[f"resp{r}" for r in resps])
        def sides(request, sardine, oracle):
            yield from pair(sardine, oracle, request.param)
    else:
        @pytest.fixture(name=name)
        def sides(sardine, oracle):
            yield from pair(sardine, oracle)
    return sides


def compare(i, what, got, want):
    assert got == want, f"step {i} {what}: sardine {got!r}, redis {want!r}"


def run_sequence(sides, seq, config=()):
    """Runs `seq` on both sides from an empty server; every reply, every observation and the end state
    must be equal."""
    s, o = sides
    s.reset(*config)
    o.reset(*config)
    for i, args in enumerate(seq):
        got, want = s.run(args), o.run(args)
        what = s.describe(args)
        note(f"{i}: {what} -> sardine {got!r} / redis {want!r}")
        compare(i, f"{what} replied", got, want)
        compare(i, f"{what} left", s.observe(), o.observe())
    s.leave_multi()
    o.leave_multi()
    got, want = s.state(), o.state()
    assert got == want, f"the end states differ: sardine {got!r} / redis {want!r}"
    if s.CHECK_STRUCTURE:
        assert_keyspace_ok(s.aux)  # every key's structure holds its invariants (DEBUG CHECK-KEYSPACE)
    # A key past its TTL that no command touched is in the digest until active expiry reclaims it, at a
    # moment of each server's own: a full SCAN reclaims every such key on both first (Redis's SCAN deletes
    # the expired keys it meets), so the digests compare the live data.
    for side in (s, o):
        side.reclaim_expired()
    assert_same_digest(s.aux, o.aux)  # and the whole dataset is the same, by Redis's own digest
