"""Differential tests for Lua scripts: hypothesis generates scripts (a few statements of redis.call /
redis.pcall on a small set of keys, local variables, branches on what a call returned, loops, and a final
return of a generated Lua value) and runs each with EVAL, EVALSHA or EVAL_RO on sardine and on the Debian
redis-server oracle, under RESP2 and RESP3.  Every reply must be identical (errors by full message,
script SHA1s included), and the datasets must end equal (DEBUG DIGEST).

Nothing is normalized: the generated commands are deterministic (no SPOP, RANDOMKEY, TIME ...).
"""
from hypothesis import given
from hypothesis import strategies as st

from diffharness import Side, run_sequence, settings_for, sides_fixture

EXAMPLES, SETTINGS = settings_for(150)

KEYS = ["a", "b", "l", "h"]
key = st.sampled_from(["KEYS[1]", "KEYS[2]", "'a'", "'b'", "'l'", "'h'"])
value = st.sampled_from(["'1'", "'x'", "'2.5'", "ARGV[1]", "ARGV[2]", "10", "-3", "0.5", "1e3", "'9223372036854775807'", "v"])

CALLS = [
    st.tuples(st.just("set"), key, value), st.tuples(st.just("get"), key), st.tuples(st.just("incr"), key),
    st.tuples(st.just("incrby"), key, value), st.tuples(st.just("del"), key), st.tuples(st.just("exists"), key, key),
    st.tuples(st.just("rpush"), key, value, value), st.tuples(st.just("lrange"), key, st.just("0"), st.just("-1")),
    st.tuples(st.just("lpop"), key), st.tuples(st.just("hset"), key, st.just("'f'"), value),
    st.tuples(st.just("hgetall"), key), st.tuples(st.just("hincrbyfloat"), key, st.just("'f'"), value),
    st.tuples(st.just("append"), key, value), st.tuples(st.just("type"), key), st.tuples(st.just("strlen"), key),
    st.tuples(st.just("expire"), key, st.just("100")), st.tuples(st.just("ttl"), key),
    st.tuples(st.just("sadd"), key, value), st.tuples(st.just("zadd"), key, st.just("1"), value),
    st.tuples(st.just("zscore"), key, value), st.tuples(st.just("mget"), key, key),
    st.tuples(st.just("get")), st.tuples(st.just("nosuch"), key), st.tuples(st.just("set"), key, st.just("{}")),
]


def call_expr(fn, parts):
    return f"redis.{fn}('{parts[0]}'" + "".join(", " + p for p in parts[1:]) + ")"


call = st.tuples(st.sampled_from(["call", "pcall"]), st.one_of(*CALLS)).map(lambda t: call_expr(*t))

# A Lua value to return: literals, tables (with holes, err/ok fields), the last call's result.
lua_value = st.recursive(
    st.sampled_from(["1", "-2", "3.7", "'s'", "true", "false", "nil", "v", "{}", "{err='E x'}", "{ok='fine'}",
                     "#KEYS", "ARGV[1]", "{double=1.5}", "{map={k=1}}", "{set={m=true}}",
                     "type(v)", "redis.status_reply('ST')", "redis.error_reply('MY e')"]),
    lambda inner: st.lists(inner, min_size=0, max_size=4).map(lambda xs: "{" + ", ".join(xs) + "}"),
    max_leaves=8)

statement = st.one_of(
    call.map(lambda e: f"v = {e}"),
    call.map(lambda e: e),
    st.tuples(call, lua_value).map(lambda t: f"if type({t[0]}) == 'table' then v = {t[1]} end"),
    st.tuples(st.integers(1, 4), call).map(lambda t: f"for i = 1, {t[0]} do v = {t[1]} end"),
    st.just("v = pcall(redis.call, 'incr', 'b')"),
    st.just("if v then v = {v} end"),
)

script = st.tuples(st.lists(statement, min_size=1, max_size=6), lua_value).map(
    lambda t: "local v = nil\n" + "\n".join(t[0]) + "\nreturn " + t[1])

command = st.tuples(
    st.sampled_from(["EVAL", "EVAL", "EVAL_RO", "EVALSHA"]), script, st.sampled_from(["a", "b"]),
    st.sampled_from(["l", "h", "a"]), st.sampled_from(["1", "x", "2.5"]), st.sampled_from(["", "7"]),
    st.sampled_from(["", "#!lua flags=no-writes\n", "#!lua\n"]))


def to_args(t):
    cmd, body, k1, k2, a1, a2, shebang = t
    body = shebang + body
    if cmd == "EVALSHA":  # redis-py style: load, then call by SHA1
        return [("SCRIPT", "LOAD", body), ("EVALSHA", ("sha1", body), "2", k1, k2, a1, a2)]
    return [(cmd, body, "2", k1, k2, a1, a2)]


class ScriptSide(Side):
    def run(self, args):
        if args[0] == "EVALSHA" and isinstance(args[1], tuple):
            import hashlib
            args = (args[0], hashlib.sha1(args[1][1].encode()).hexdigest()) + tuple(args[2:])
        return super().run(args)

    def state(self):
        out = []
        for k in sorted(self.aux.cmd("KEYS", "*")):
            out.append((k, self.aux.cmd("TYPE", k)))
        return out


sides = sides_fixture(ScriptSide, resps=(2, 3))


@SETTINGS
@given(cmds=st.lists(command.map(to_args), min_size=1, max_size=6))
def test_diff_generated_scripts(sides, cmds):
    run_sequence(sides, [a for group in cmds for a in group])


# Values for the bundled libraries: numbers at every MessagePack/JSON boundary, strings of every length
# class, booleans, arrays, maps, holes.
NUMS = ["0", "1", "-1", "127", "128", "-32", "-33", "255", "256", "-128", "-129", "65535", "65536", "-32768",
        "-32769", "4294967295", "4294967296", "-2147483648", "-2147483649", "2^53", "-2^53", "2^63", "0.5", "-0.1",
        "1/3", "1e300", "-1e-300", "3.14159", "1e15", "123456789012"]
lua_lit = st.recursive(
    st.one_of(st.sampled_from(NUMS), st.sampled_from(["true", "false", "'s'", "''", "string.rep('x', 31)",
                                                        "string.rep('y', 32)", "string.rep('z', 300)",
                                                        "string.rep('w', 70000)", "'\\0\\1\"\\\\/\\n'"])),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda xs: "{" + ", ".join(xs) + "}"),
        st.lists(st.tuples(st.sampled_from(["a", "b", "c", "[1]", "[3]", "[-1]", "[0.5]"]), inner), max_size=3)
        .map(lambda kv: "{" + ", ".join(f"{k} = {v}" for k, v in kv) + "}")),
    max_leaves=6)
LIB_EXPRS = [
    lua_lit.map(lambda v: f"return cmsgpack.pack({v})"),
    lua_lit.map(lambda v: f"return {{cmsgpack.unpack(cmsgpack.pack({v}))}}"),
    st.lists(lua_lit, min_size=1, max_size=3).map(lambda vs: f"return cmsgpack.pack({', '.join(vs)})"),
    lua_lit.map(lambda v: f"return cjson.encode({v})"),
    lua_lit.map(lambda v: f"return cjson.encode(cjson.decode(cjson.encode({v})))"),
    st.tuples(st.sampled_from(["<", ">", "!", "=", ""]), st.lists(st.sampled_from(["b", "B", "h", "H", "i", "I", "l", "L",
              "i3", "I5", "i8", "T"]), min_size=1, max_size=4), st.lists(st.sampled_from(NUMS[:20]), min_size=4, max_size=4))
    .map(lambda t: f"local s = struct.pack('{t[0]}{''.join(t[1])}', {', '.join(t[2])}) "
                   f"return {{s, struct.unpack('{t[0]}{''.join(t[1])}', s)}}"),
]


class LibSide(Side):
    pass


lib_sides = sides_fixture(LibSide, name="lib_sides")


@SETTINGS
@given(exprs=st.lists(st.one_of(*LIB_EXPRS), min_size=1, max_size=5))
def test_diff_library_values(lib_sides, exprs):
    run_sequence(lib_sides, [("EVAL", e, "0") for e in exprs])
