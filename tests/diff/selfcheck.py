"""Self-check of the differential harness: SARDINE_DIFF_BREAK=reply|observe|state makes the sardine side
lie a little (every integer +1 and every bulk string with a "!" appended, inside arrays too / an extra
item after each step / an extra item in the end state),
so that running the suite shows the comparisons can fail.  Loaded by tests/diff/conftest.py only when
that variable is set; never part of a normal run.

    SARDINE_DIFF_BREAK=reply SARDINE_DIFF_EXAMPLES=20 python3 -m pytest -q -p no:cacheprovider tests/diff

Expected: every test that goes through the harness fails for `reply`; for `observe` all but the ones
without per-step observations (strings, geo's dense/meridian tests); for `state` all but the ones
without an end state (hll, geo's meridian test); test_diff_raw_protocol never goes through it.
"""
import diffharness

MODE = None


def lie(value):
    if MODE == "reply" and isinstance(value, int) and not isinstance(value, bool):
        return value + 1
    if MODE == "reply" and isinstance(value, bytes):
        return value + b"!"
    if MODE == "reply" and isinstance(value, list):
        return [lie(v) for v in value]
    if MODE in ("observe", "state") and value is not None:
        return list(value) + ["<sabotaged>"]
    return value


def install(mode):
    global MODE
    if mode not in ("reply", "observe", "state"):
        raise ValueError(f"SARDINE_DIFF_BREAK={mode!r}: expected reply, observe or state")
    MODE = mode
    base = diffharness.Side
    hook = {"reply": "run", "observe": "observe", "state": "state"}[mode]
    original_init = base.__init__

    def init(self, server, *args, **kw):
        original_init(self, server, *args, **kw)
        if server.kind == "sardine":
            honest = getattr(self, hook)
            setattr(self, hook, lambda *a: lie(honest(*a)))

    base.__init__ = init
