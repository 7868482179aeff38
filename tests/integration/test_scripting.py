"""Lua scripting (features/eval.c, features/script_lua.c, features/script_lualib.c): EVAL/EVALSHA/*_RO,
SCRIPT, Redis 7.0's Lua environment, the sandbox, the conversions Lua <-> RESP2/RESP3 and the error texts.

Most checks are differential: every script of SCRIPTS runs on a fresh Sardine and on the oracle
(redis-server 7.0) over raw RESP2 and RESP3 connections, from the same dataset, and the replies must be
equal, types included.  The rest are behaviours one server shows alone: busy scripts and SCRIPT KILL,
the Lua memory limit, scripts that recurse or build cyclic tables, redis-py's Lock.
"""
import socket
import threading
import time

import pytest
import redis

from conftest import IS_REAL_REDIS
from harness import parse_commands
from sardine_resp import Err, Raw, wait_until

# (script, numkeys, *args).  Each runs after SETUP on a fresh pair of servers.
SETUP = [
    ("SET", "str", "hello"), ("SET", "n", "10"), ("RPUSH", "list", "a", "b", "c"),
    ("HSET", "hash", "f", "v"), ("SADD", "set", "m"), ("ZADD", "zset", "1.5", "x"),
]

SCRIPTS = [
    # returns and conversions
    ("return 1", 0), ("return -7", 0), ("return 3.99", 0), ("return -3.99", 0), ("return 'str'", 0),
    ("return true", 0), ("return false", 0), ("return nil", 0), ("return {}", 0), ("return {1,'two',3.5}", 0),
    ("return {1,2,nil,4}", 0), ("return {1,{2,{3,{4}}}}", 0), ("return {a=1,b=2}", 0), ("return {1,2,a=3}", 0),
    ("return {ok='fine'}", 0), ("return {ok='line\\r\\nbreak'}", 0), ("return {err='bad'}", 0),
    ("return {err='CODE with code'}", 0), ("return {err='multi\\nline'}", 0), ("return {true,false,true}", 0),
    ("return {double=3.25}", 0), ("return {big_number='123456789012345678901234567890'}", 0),
    ("return {map={a=1}}", 0), ("return {set={a=true}}", 0),
    ("return {verbatim_string={format='txt', string='hi'}}", 0), ("return 1e20", 0), ("return -1e20", 0),
    ("return 0/0", 0), ("return 1/0", 0), ("return {1,{err='inner'},3}", 0), ("return {1,{ok='s'},3}", 0),
    ("return function() end", 0), ("return coroutine.create(function() end) ~= nil", 0),
    ("return KEYS", 2, "k1", "k2", "a1"), ("return ARGV", 1, "k1", "a1", "a2"), ("return #KEYS + #ARGV", 0),
    ("KEYS[1] = 'changed' return KEYS", 1, "k"),
    # redis.call / pcall replies
    ("return redis.call('get', 'str')", 0), ("return redis.call('get', 'nokey')", 0),
    ("return redis.call('get', 'nokey') == false", 0), ("return redis.call('set', 'x', 'y')", 0),
    ("return redis.call('lrange', 'list', 0, -1)", 0), ("return redis.call('hgetall', 'hash')", 0),
    ("return redis.call('smembers', 'set')", 0), ("return redis.call('zrange', 'zset', 0, -1, 'withscores')", 0),
    ("return redis.call('zscore', 'zset', 'x')", 0), ("return redis.call('incr', 'n')", 0),
    ("return redis.call('incrbyfloat', 'n', 1.5)", 0), ("return redis.call('set', 'k', 3.5)", 0),
    ("redis.call('set', 'k', 1/3) return redis.call('get', 'k')", 0),
    ("redis.call('set', 'k', 12345678901234) return redis.call('get', 'k')", 0),
    ("local r = {} for _, n in ipairs({12345678901234567, -0.0, 99999999999999999, -1e16, 1e17, -1e17, 2^63, 0.1, "
     "-7, 1e-5}) do redis.call('set', 'k', n) r[#r+1] = redis.call('get', 'k') end return r", 0),
    ("return redis.call('type', 'list')", 0), ("return redis.call('type', 'list').ok", 0),
    ("return redis.call('ping')", 0), ("return redis.pcall('incr', 'str')", 0), ("return redis.call('incr', 'str')", 0),
    ("local r = redis.pcall('incr', 'str') return r.err", 0), ("return redis.pcall('lpush', 'str', 'x')", 0),
    ("return redis.call('lpush', 'str', 'x')", 0), ("return redis.call('get')", 0), ("return redis.pcall('get')", 0),
    ("return redis.call('nosuchcmd')", 0), ("return redis.pcall('nosuchcmd', 'x')", 0), ("return redis.call()", 0),
    ("return redis.pcall()", 0), ("return redis.call({})", 0), ("return redis.call('get', {})", 0),
    ("return redis.call('get', nil)", 0), ("return redis.call('get', true)", 0),
    ("return redis.pcall('get', function() end)", 0), ("return redis.call('eval', 'return 1', 0)", 0),
    ("return redis.call('multi')", 0), ("return redis.call('subscribe', 'x')", 0),
    ("return redis.call('blpop', 'emptylist', 0)", 0), ("return redis.call('config', 'nosuch')", 0),
    ("return redis.call('object', 'encoding', 'list')", 0), ("return redis.call('exists', 'str', 'n', 'none')", 0),
    ("redis.call('select', 3) redis.call('set', 'in3', 'v') return redis.call('dbsize')", 0),
    ("return redis.call('dbsize')", 0), ("return redis.call('hello', 3)", 0),
    ("return redis.call('lpop', 'nolist')", 0), ("return redis.call('mget', 'str', 'none', 'n')", 0),
    ("return pcall(redis.call, 'incr', 'str')", 0), ("return {pcall(redis.call, 'get', 'str')}", 0),
    ("return {pcall(error, 'x')}", 0), ("return {pcall(error, {err='tbl'})}", 0),
    # RESP3 inside scripts
    ("redis.setresp(3) return redis.call('hgetall', 'hash')", 0), ("redis.setresp(3) return redis.call('smembers', 'set')", 0),
    ("redis.setresp(3) return redis.call('zscore', 'zset', 'x')", 0), ("redis.setresp(3) return redis.call('get', 'nokey')", 0),
    ("redis.setresp(3) return redis.call('get', 'nokey') == nil", 0),
    ("redis.setresp(3) local m = redis.call('hgetall', 'hash') return m.map.f", 0),
    ("redis.setresp(3) local d = redis.call('zscore', 'zset', 'x') return tostring(d.double)", 0),
    ("redis.setresp(3) return true", 0), ("redis.setresp(3) return false", 0), ("redis.setresp(3) return {double=1.5}", 0),
    ("redis.setresp(3) return redis.call('exists', 'str')", 0), ("redis.setresp(4)", 0), ("redis.setresp()", 0),
    ("redis.setresp(3) return redis.call('lrange', 'list', 0, -1)", 0),
    # the redis table
    ("return redis.sha1hex('')", 0), ("return redis.sha1hex('abc')", 0), ("return redis.sha1hex(12)", 0),
    ("return redis.sha1hex()", 0), ("return redis.error_reply('MY error')", 0), ("return redis.error_reply('-X y')", 0),
    ("return redis.error_reply('plain')", 0), ("return redis.error_reply(1)", 0), ("return redis.error_reply()", 0),
    ("return redis.status_reply('FINE')", 0), ("return redis.status_reply(1)", 0),
    ("return type(redis.error_reply('x'))", 0), ("return redis.error_reply('x').err", 0),
    ("return redis.log(redis.LOG_WARNING, 'from script', 1, 2)", 0), ("return redis.log(redis.LOG_DEBUG, 'dbg')", 0),
    ("return redis.log('x', 'y')", 0), ("return redis.log(1)", 0), ("return redis.log(9, 'x')", 0),
    ("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}", 0),
    ("return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}", 0),
    ("return redis.set_repl(redis.REPL_ALL)", 0), ("return redis.set_repl(99)", 0), ("return redis.set_repl()", 0),
    ("return redis.set_repl(-1)", 0), ("return redis.set_repl(4)", 0), ("return redis.set_repl(1, 2)", 0),
    ("redis.set_repl(redis.REPL_NONE) redis.call('set', 'x', 'y') return redis.call('get', 'x')", 0),
    ("return redis.replicate_commands()", 0), ("return redis.breakpoint()", 0), ("return redis.debug('x')", 0),
    ("return redis.REDIS_VERSION", 0), ("return redis.REDIS_VERSION_NUM", 0),
    ("return redis.acl_check_cmd('get', 'x')", 0), ("return redis.acl_check_cmd('nosuch')", 0),
    ("local t = {} for k in pairs(redis) do t[#t+1] = k end table.sort(t) return t", 0),
    # globals and the sandbox
    ("local t = {} for k, v in pairs(_G) do t[#t+1] = k .. ':' .. type(v) end table.sort(t) return t", 0),
    ("local t = {} for k in pairs(string) do t[#t+1] = k end table.sort(t) return t", 0),
    ("local t = {} for k in pairs(math) do t[#t+1] = k end table.sort(t) return t", 0),
    ("local t = {} for k in pairs(table) do t[#t+1] = k end table.sort(t) return t", 0),
    ("local t = {} for k in pairs(cjson) do t[#t+1] = k end table.sort(t) return t", 0),
    ("local t = {} for k in pairs(bit) do t[#t+1] = k end table.sort(t) return t", 0),
    ("local t = {} for k in pairs(struct) do t[#t+1] = k end table.sort(t) return t", 0),
    ("local t = {} for k in pairs(cmsgpack) do t[#t+1] = k end table.sort(t) return t", 0),
    ("return x", 0), ("x = 1", 0), ("_G.x = 1", 0), ("redis = nil", 0), ("redis.call = nil", 0), ("string.len = nil", 0),
    ("string.foo = 1", 0), ("math.random = nil", 0), ("cjson.encode = nil", 0), ("KEYS = {}", 0), ("ARGV = 1", 0),
    ("rawset(_G, 'x', 1)", 0), ("rawset(redis, 'call', 1)", 0), ("rawset(string, 'x', 1)", 0),
    ("return rawget(_G, 'redis') ~= nil", 0), ("return rawget(_G, 'nothing') == nil", 0), ("return rawget(string, 'len') ~= nil", 0),
    ("return os", 0), ("return io", 0), ("return debug", 0), ("return package", 0), ("return require", 0),
    ("return dofile", 0), ("return loadfile", 0), ("return print", 0), ("return getfenv", 0), ("return setfenv", 0),
    ("return newproxy", 0), ("return module", 0), ("os.exit()", 0), ("io.open('/etc/passwd')", 0), ("require('os')", 0),
    ("return loadstring('return 1 + 1')()", 0), ("return loadstring('x = 1')()", 0), ("return loadstring('return os')()", 0),
    ("return loadstring('redis = 1')()", 0), ("local f = loadstring('(') return f", 0),
    ("return coroutine.wrap(function() y = 1 end)()", 0), ("return coroutine.wrap(function() return os end)()", 0),
    ("setmetatable(_G, nil)", 0), ("return getmetatable(_G) == nil", 0), ("getmetatable('').__index = {}", 0),
    ("getmetatable('').__index.upper = nil", 0), ("return ('abc'):upper()", 0), ("return ('%d'):format(5)", 0),
    ("local mt = getmetatable('') mt.x = 1", 0), ("return _G == _G._G", 0), ("return type(_G)", 0),
    ("return __redis__err__handler ~= nil", 0), ("return _VERSION", 0), ("return tostring(nil)", 0),
    ("local a = {} for i = 1, 3 do a[i] = i * 2 end return a", 0), ("return select('#', 1, 2, 3)", 0),
    ("return {unpack({1, 2, 3})}", 0), ("return next({})", 0), ("return {next({5})}", 0),
    ("local t = {} for i, v in ipairs({4, 5, 6}) do t[#t+1] = i + v end return t", 0),
    ("return collectgarbage('step') ~= nil", 0), ("return type(gcinfo())", 0),
    # errors raised by scripts
    ("error('boom')", 0), ("error('boom', 0)", 0), ("error({err='X custom'})", 0), ("error({err='plain'})", 0),
    ("error()", 0), ("error(nil)", 0), ("error(12)", 0), ("error(true)", 0),
    ("local x = nil; return x.y", 0), ("return 1 + {}", 0), ("return #nil", 0), ("assert(false)", 0),
    ("assert(false, 'msg')", 0), ("return 'a' .. ", 0), ("retrun 1", 0), ("return string.rep('x', -1)", 0),
    ("local function f() return f() + 1 end return f()", 0), ("return math.random(0)", 0), ("return math.random(1, 2, 3)", 0),
    ("local s = 0 for i = 1, 100000 do s = s + i end return s", 0),
    # libraries
    ("return cjson.encode({1, 2, 3})", 0), ("return cjson.encode({a = 1})", 0), ("return cjson.encode('x\"y')", 0),
    ("return cjson.encode(1.5)", 0), ("return cjson.encode(0.1)", 0), ("return cjson.encode(1e300)", 0),
    ("return cjson.encode({})", 0), ("return cjson.encode(cjson.null)", 0), ("return cjson.encode({1, nil, 3})", 0),
    ("return cjson.decode('[1,2,3]')", 0), ("return cjson.decode('{\"a\":[1,{\"b\":2}]}').a[2].b", 0),
    ("return cjson.decode('\"s\"')", 0), ("return cjson.decode('[1,')", 0), ("return cjson.decode('null') == cjson.null", 0),
    ("return cjson.encode(function() end)", 0), ("return cjson.decode('[' .. string.rep('[', 2000) .. ']')", 0),
    ("return bit.band(0xff, 0x0f)", 0), ("return bit.bor(1, 2)", 0), ("return bit.bxor(5, 3)", 0), ("return bit.lshift(1, 10)", 0),
    ("return bit.rshift(-1, 28)", 0), ("return bit.arshift(-256, 4)", 0), ("return bit.tohex(255)", 0), ("return bit.bnot(0)", 0),
    ("return bit.tobit(2^32 + 1)", 0), ("return bit.bswap(1)", 0), ("return bit.rol(1, 33)", 0),
    ("return cmsgpack.pack(1, -1, 200, -200, 70000, -70000, 5000000000, -5000000000)", 0),
    ("return cmsgpack.pack(1.5, 0.1, 'short', string.rep('x', 40), string.rep('y', 300), true, false, nil)", 0),
    ("return cmsgpack.pack({1, 2, 3}, {a = 1}, {}, {[1] = 'a', [3] = 'c'})", 0),
    ("return cmsgpack.pack(string.rep('z', 70000)):len()", 0),
    ("return {cmsgpack.unpack(cmsgpack.pack(1, 'two', {3, 4}, true))}", 0),
    ("local t = cmsgpack.unpack(cmsgpack.pack({a = 1, b = {1, 2}})) return {t.a, t.b[2]}", 0),
    ("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}", 0),
    ("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1)}", 0),
    ("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}", 0),
    ("return cmsgpack.unpack('\\xc1')", 0), ("return cmsgpack.unpack('\\xcd\\x01')", 0), ("return cmsgpack.pack()", 0),
    ("return tostring(cmsgpack.unpack(cmsgpack.pack(0.1)))", 0), ("return tostring(cmsgpack.unpack(cmsgpack.pack(1.5)))", 0),
    ("return struct.pack('>I2', 258)", 0), ("return struct.pack('<i4', -2)", 0), ("return struct.pack('bBhH', -1, 255, -2, 65535)", 0),
    ("return {struct.unpack('>I2', struct.pack('>I2', 258))}", 0), ("return {struct.unpack('<i4', struct.pack('<i4', -2))}", 0),
    ("return struct.pack('s', 'abc')", 0), ("return {struct.unpack('s', 'abc\\0rest')}", 0), ("return struct.pack('c3', 'abcdef')", 0),
    ("return {struct.unpack('c0', 'x')}", 0), ("return struct.size('>I2i4')", 0), ("return struct.size('s')", 0),
    ("return struct.pack('!4 b i4', 1, 2)", 0), ("return {struct.unpack('>d', struct.pack('>d', 1.5))}", 0),
    ("return struct.pack('z', 1)", 0), ("return struct.unpack('>I4', 'ab')", 0),
    ("return {struct.unpack('I2', struct.pack('I2', 7), 1)}", 0),
    ("return string.format('%5.2f', 3.14159)", 0), ("return string.rep('ab', 3)", 0), ("return ('x'):rep(3)", 0),
    ("return table.concat({1, 2, 3}, ',')", 0), ("return math.floor(3.7)", 0), ("return math.huge > 0", 0),
    ("return tonumber('0x10')", 0), ("return tostring(1e15)", 0), ("return tostring(0.1)", 0),
    ("return string.gsub('hello', 'l', 'L')", 0), ("return {string.find('hello', 'll')}", 0),
    ("return {math.random(100), math.random(5, 10)}", 0),
    ("math.randomseed(7) return {math.random(1000000), math.random(1000000)}", 0),
]


def run_all(port, proto):
    r = Raw(port)
    try:
        if proto == 3:
            r.cmd("HELLO", "3")
        out = []
        for i, (body, numkeys, *rest) in enumerate(SCRIPTS):
            r.cmd("FLUSHALL")
            for cmd in SETUP:
                r.cmd(*cmd)
            out.append((i, body, r.cmd("EVAL", body, str(numkeys), *rest)))
        return out
    finally:
        r.close()


@pytest.mark.parametrize("proto", [2, 3])
def test_scripts_match_redis(sardine, oracle, proto):
    got, want = run_all(sardine.port, proto), run_all(oracle.port, proto)
    bad = [(body, g, w) for (_, body, g), (_, _, w) in zip(got, want) if g != w or type(g) != type(w)]
    assert not bad, "\n".join(f"{b!r}\n  sardine: {g!r}\n  redis:   {w!r}" for b, g, w in bad[:20])


def test_keyspace_after_scripts_matches_redis(sardine, oracle):
    """The writes scripts make leave the same data (DEBUG DIGEST) on both servers."""
    body = ("for i = 1, 50 do redis.call('rpush', KEYS[1], i) redis.call('hincrby', KEYS[2], 'f' .. (i % 7), i) end "
            "redis.call('zadd', KEYS[3], 1.5, 'a', 2.5, 'b') redis.call('set', KEYS[4], ARGV[1]) "
            "redis.call('expire', KEYS[4], 100) return redis.call('dbsize')")
    replies = []
    for s in (sardine, oracle):
        r = Raw(s.port)
        replies.append(r.cmd("EVAL", body, "4", "l", "h", "z", "s", "value"))
        replies.append(r.cmd("DEBUG", "DIGEST"))
        r.close()
    assert replies[0] == replies[2] == 4
    assert replies[1] == replies[3]


# KEYS and ARGV are refilled for each script, never carried over: every run of this sequence (one
# connection, in order) sees only its own arguments, whatever the runs before did to the tables.
ARG_TABLE_RUNS = [
    ("KEYS[3] = 'x' KEYS.foo = 1 ARGV[1] = nil return {#KEYS, #ARGV}", 2, "a", "b", "c"),
    ("return {KEYS, ARGV, KEYS.foo or 'none', KEYS[3] or 'none', #KEYS}", 1, "k", "v1", "v2"),
    ("table.insert(KEYS, 'more') return KEYS", 1, "k"),
    ("return KEYS", 1, "k2"),
    ("setmetatable(ARGV, {__index = function() return 'meta' end}) return ARGV[5]", 0, "a"),
    ("return {ARGV[5] or 'nil', tostring(getmetatable(ARGV))}", 0, "a"),
    ("KEYS[1] = nil return #KEYS", 2, "a", "b"),
    ("return KEYS", 3, "x", "y", "z"),
    ("return {#KEYS, #ARGV}", 0),
    ("rawset(KEYS, 'r', 1) return 1", 0),
    ("return KEYS.r or 'gone'", 0),
    ("for i = 1, 100 do KEYS[i] = i end return #KEYS", 0),
    ("return {#KEYS, KEYS[2] or 'none'}", 1, "k"),
    ("return #ARGV", 0, *[str(i) for i in range(300)]),
    ("return {#ARGV, ARGV[1], ARGV[2] or 'none'}", 0, "only"),
    ("KEYS[1.5] = 1 return #KEYS", 1, "a"),
    ("return {KEYS[1.5] or 'none', KEYS[1]}", 1, "b"),
    ("error('fails after changing KEYS: ' .. table.concat(KEYS, ','))", 2, "e1", "e2"),
    ("return KEYS", 1, "after-error"),
]


def test_keys_and_argv_do_not_carry_over_between_scripts(sardine, oracle):
    out = []
    for s in (sardine, oracle):
        r = Raw(s.port)
        out.append([r.cmd("EVAL", body, str(n), *rest) for body, n, *rest in ARG_TABLE_RUNS])
        r.close()
    bad = [(run[0], g, w) for run, g, w in zip(ARG_TABLE_RUNS, *out) if g != w]
    assert not bad, "\n".join(f"{b!r}\n  sardine: {g!r}\n  redis:   {w!r}" for b, g, w in bad)


def test_script_cache(c):
    sha = c.cmd("SCRIPT", "LOAD", "return 'loaded'")
    assert sha == b"c9a2ba8cd8ae4ecd3b4b3c1b5a47e9ee5ac7d8d3" or len(sha) == 40
    assert c.cmd("EVALSHA", sha, "0") == b"loaded"
    assert c.cmd("EVALSHA", sha.upper(), "0") == b"loaded"
    assert c.cmd("EVALSHA_RO", sha, "0") == b"loaded"
    assert c.cmd("SCRIPT", "EXISTS", sha, sha.upper(), "0" * 40, "short") == [1, 1, 0, 0]
    assert c.cmd("EVALSHA", "0" * 40, "0") == Err("NOSCRIPT No matching script. Please use EVAL.")
    assert c.cmd("EVALSHA", "abc", "0") == Err("NOSCRIPT No matching script. Please use EVAL.")
    assert c.cmd("SCRIPT", "FLUSH") == "OK"
    assert c.cmd("SCRIPT", "EXISTS", sha) == [0]
    assert c.cmd("SCRIPT", "FLUSH", "ASYNC") == "OK"
    assert c.cmd("SCRIPT", "FLUSH", "SYNC") == "OK"
    assert c.cmd("SCRIPT", "FLUSH", "NOW") == Err("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    # EVAL caches the body it ran, by its SHA1 as Redis computes it
    c.cmd("EVAL", "return 1", "0")
    assert c.cmd("SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db") == [1]
    assert c.cmd("SCRIPT", "LOAD", "return (") == Err(
        "ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'")
    assert c.cmd("SCRIPT", "NOPE") == Err("ERR unknown subcommand 'NOPE'. Try SCRIPT HELP.")
    assert c.cmd("SCRIPT", "KILL") == Err("NOTBUSY No scripts in execution right now.")
    assert len(c.cmd("SCRIPT", "HELP")) > 5


def test_eval_argument_errors(c):
    assert c.cmd("EVAL", "return 1", "x") == Err("ERR value is not an integer or out of range")
    assert c.cmd("EVAL", "return 1", "2", "a") == Err("ERR Number of keys can't be greater than number of args")
    assert c.cmd("EVAL", "return 1", "-1") == Err("ERR Number of keys can't be negative")
    assert c.cmd("EVAL", "return 1") == Err("ERR wrong number of arguments for 'eval' command")


SHEBANGS = [
    ("#!lua\nreturn 1", 0), ("#!lua flags=no-writes\nreturn redis.call('get', 'str')", 0),
    ("#!lua flags=no-writes\nreturn redis.call('set', 'a', 'b')", 0), ("#!lua flags=no-writes\nreturn redis.pcall('set', 'a', 'b')", 0),
    ("#!lua flags=no-writes,allow-oom\nreturn 1", 0), ("#!lua flags=allow-stale,no-cluster,allow-cross-slot-keys\nreturn 2", 0),
    ("#!lua flags=bogus\nreturn 1", 0), ("#!lua bogus=1\nreturn 1", 0), ("#!python\nreturn 1", 0), ("#!lua", 0),
    ("#!lua name=x\nreturn 1", 0), ("#!lua flags=\nreturn 3", 0), ("#!lua\nerror('line two')", 0),
    ("#!lua\nreturn redis.call('set', 'a', 'b')", 0), ("return redis.call('set', 'a', 'b')", 0),
]


@pytest.mark.parametrize("ro", [False, True])
def test_shebang_flags_match_redis(sardine, oracle, ro):
    cmd = "EVAL_RO" if ro else "EVAL"
    out = []
    for s in (sardine, oracle):
        r = Raw(s.port)
        out.append([r.cmd(cmd, body, str(n)) for body, n in SHEBANGS])
        r.close()
    assert out[0] == out[1]


def test_oom_rules_match_redis(make_sardine, make_oracle):
    """Past maxmemory: a script without flags runs until its first denyoom command; one with flags and without
    allow-oom is refused before running; allow-oom and no-writes scripts run."""
    scripts = [("return redis.call('get', 'k')", 0), ("return redis.call('set', 'k', 'v')", 0),
               ("return redis.call('del', 'k')", 0), ("#!lua\nreturn 1", 0), ("#!lua flags=allow-oom\nreturn redis.call('set', 'k', 'v')", 0),
               ("#!lua flags=no-writes\nreturn redis.call('get', 'k')", 0)]
    out = []
    for make in (make_sardine, make_oracle):
        s = make()
        r = Raw(s.port)
        r.cmd("SET", "k", "x" * 100)
        r.cmd("CONFIG", "SET", "maxmemory", "1")
        out.append([r.cmd("EVAL", b, str(n)) for b, n in scripts])
        r.cmd("CONFIG", "SET", "maxmemory", "0")
        r.close()
    assert out[0] == out[1]


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def test_busy_script_and_script_kill(make_sardine, raw):
    s = make_sardine("--busy-reply-threshold", "100")
    runner, other = raw(s), raw(s)
    runner.send(resp("EVAL", "while true do local x = 1 end", "0"))
    wait_until(lambda: isinstance(other.cmd("PING"), Err), msg="-BUSY")
    assert other.cmd("GET", "x") == Err("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
    assert other.cmd("SCRIPT", "KILL") == "OK"
    reply = runner.reply()
    assert isinstance(reply, Err) and reply.msg.startswith("ERR Script killed by user with SCRIPT KILL...")
    assert other.cmd("PING") == "PONG"
    assert runner.cmd("PING") == "PONG"
    assert "Slow script detected" in s.read_log()


def test_busy_script_that_wrote_is_unkillable(make_sardine, raw):
    s = make_sardine("--busy-reply-threshold", "100")
    runner, other = raw(s), raw(s)
    body = "redis.call('set', 'w', '1') local t = redis.call('time') while true do local x = 1 end"
    runner.send(resp("EVAL", body, "0"))
    wait_until(lambda: isinstance(other.cmd("PING"), Err), msg="-BUSY")
    assert other.cmd("SCRIPT", "KILL") == Err(
        "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the "
        "script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.")
    assert other.cmd("SHUTDOWN") == Err("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
    other.send(resp("SHUTDOWN", "NOSAVE"))
    assert s.proc.wait(timeout=10) == 0


def test_busy_script_pcall_cannot_swallow_kill(make_sardine, raw):
    s = make_sardine("--busy-reply-threshold", "50")
    runner, other = raw(s), raw(s)
    body = "while true do pcall(function() while true do local x = 1 end end) end"
    runner.send(resp("EVAL", body, "0"))
    wait_until(lambda: isinstance(other.cmd("PING"), Err), msg="-BUSY")
    assert other.cmd("SCRIPT", "KILL") == "OK"
    assert isinstance(runner.reply(), Err)
    assert other.cmd("PING") == "PONG"


@pytest.mark.skipif(IS_REAL_REDIS, reason="Sardine's Lua memory limit; Redis has none")
def test_unbounded_allocation_hits_the_lua_memory_limit(sardine):
    # filling the interpreter's limit a megabyte at a time takes ~15 s under ASan on a busy machine
    c = Raw(sardine.port, timeout=120.0)
    r = c.cmd("EVAL", "local t = {} local s = string.rep('x', 1024 * 1024) "
                      "for i = 1, 100000 do t[i] = s .. i end return #t", "0")
    assert isinstance(r, Err) and "not enough memory" in r.msg
    r = c.cmd("EVAL", "local s = 'x' while true do s = s .. s end", "0")
    assert isinstance(r, Err) and "not enough memory" in r.msg
    assert c.cmd("EVAL", "return 'still serving'", "0") == b"still serving"
    assert c.cmd("PING") == "PONG"
    c.close()


def test_bad_input_does_not_crash(c):
    # deep recursion in Lua, through pcall (C calls) and through metamethods
    assert isinstance(c.cmd("EVAL", "local function f(n) return f(n + 1) + 1 end return f(1)", "0"), Err)
    assert isinstance(c.cmd("EVAL", "local function f() return pcall(f) end return f()", "0"), (Err, int, list))
    assert isinstance(c.cmd("EVAL", "local t = setmetatable({}, {}) getmetatable(t).__index = function(t, k) "
                                   "return t[k] end return t.x", "0"), Err)
    # a cyclic table and a very deep one as replies
    c.send(resp("EVAL", "local t = {} t[1] = t return t", "0"))
    while b"-ERR" not in c.buf or not c.buf.endswith(b"\r\n"):
        c._fill()
    data, c.buf = bytes(c.buf), c.buf[:0]
    depth = data.count(b"*1\r\n")
    assert data == b"*1\r\n" * depth + b"-ERR reached lua stack limit\r\n" and depth > 100
    big = c.cmd("EVAL", "local t = {} for i = 1, 200000 do t[i] = i end return t", "0")
    assert len(big) == 200000 and big[-1] == 200000
    # an error table without err (redis-server 7.0.15 crashes on it)
    if not IS_REAL_REDIS:
        assert isinstance(c.cmd("EVAL", "error({notanerr=1})", "0"), Err)
    # wrong types to redis.call
    for bad in ("{}", "nil", "true", "function() end", "redis"):
        assert c.cmd("EVAL", f"return redis.call('set', 'k', {bad})", "0") == Err(
            "ERR Lua redis lib command arguments must be strings or integers script: "
            + c.cmd("EVAL", f"return redis.sha1hex(\"return redis.call('set', 'k', {bad})\")", "0").decode()
            + ", on @user_script:1.")
    # a huge reply from a command
    c.cmd("EVAL", "for i = 1, 20000 do redis.call('rpush', 'L', i) end", "0")
    assert len(c.cmd("EVAL", "return redis.call('lrange', 'L', 0, -1)", "0")) == 20000
    assert c.cmd("PING") == "PONG"


def test_keys_do_not_expire_under_a_running_script(c):
    # keys do not expire under a running script
    assert c.cmd("EVAL", "redis.call('set', 'k', 'v', 'px', 1) for i = 1, 3000000 do end "
                         "return redis.call('exists', 'k')", "0") == 1


def test_slowlog_commandstats_and_info(c):
    c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "0")
    c.cmd("SLOWLOG", "RESET")
    c.cmd("EVAL", "redis.call('set', 'a', '1') return redis.call('get', 'a')", "0")
    log = c.cmd("SLOWLOG", "GET", "10")
    names = [e[3][0].lower() for e in log]
    assert b"eval" in names and b"set" in names and b"get" in names
    stats = c.cmd("INFO", "commandstats").decode()
    assert "cmdstat_eval:calls=1" in stats and "cmdstat_set:calls=1" in stats
    mem = dict(l.split(":", 1) for l in c.cmd("INFO", "memory").decode().split("\r\n") if ":" in l)
    assert int(mem["number_of_cached_scripts"]) == 1
    assert int(mem["used_memory_scripts_eval"]) > 0 and int(mem["used_memory_lua"]) > 10000


def test_redis_py_lock(sardine):
    r = redis.Redis(port=sardine.port)
    lock = r.lock("resource", timeout=10)
    assert lock.acquire(blocking=False)
    assert r.lock("resource", timeout=10).acquire(blocking=False) is False
    assert lock.owned()
    lock.extend(5)
    assert 10 < r.pttl("resource") <= 15000
    lock.reacquire()
    lock.release()
    assert r.get("resource") is None
    with r.lock("other", timeout=5, blocking_timeout=1):
        assert r.exists("other") == 1
    assert r.exists("other") == 0
    # redis-py's own script helper (EVALSHA, then EVAL on NOSCRIPT)
    incr = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert incr(keys=["counter"], args=[5]) == 5
    r.script_flush()
    assert incr(keys=["counter"], args=[2]) == 7


LIB = ("#!lua name=mylib\n"
       "redis.register_function('incrby', function(keys, args) return redis.call('incrby', keys[1], args[1]) end)\n"
       "redis.register_function{function_name='echo', callback=function(keys, args) return {keys, args} end, "
       "flags={'no-writes'}, description='keys and args'}\n"
       "redis.register_function{function_name='oom', callback=function() return 1 end, flags={'allow-oom', 'allow-stale'}}\n"
       "redis.register_function('fails', function(keys) return redis.call('incr', keys[1]) end)\n")

FUNCTION_STEPS = [
    ("FUNCTION", "LOAD", LIB), ("FUNCTION", "LOAD", LIB), ("FCALL", "incrby", "1", "k", "5"),
    ("FCALL", "incrby", "1", "k", "x"), ("FCALL_RO", "incrby", "1", "k", "5"), ("FCALL_RO", "echo", "2", "a", "b", "c"),
    ("FCALL", "echo", "0"), ("FCALL", "nope", "0"), ("FCALL", "echo", "x"), ("FCALL", "echo", "-1"),
    ("FCALL", "echo", "3", "a"), ("FCALL", "oom", "0"), ("SET", "s", "str"), ("FCALL", "fails", "1", "s"),
    ("FUNCTION", "LIST", "LIBRARYNAME", "nomatch*"), ("FUNCTION", "LIST", "LIBRARYNAME"), ("FUNCTION", "LIST", "BOGUS"),
    ("FUNCTION", "LOAD", "#!lua name=mylib\nredis.register_function('x', function() return 1 end)"),
    ("FUNCTION", "LOAD", "REPLACE", "#!lua name=mylib\nredis.register_function('x', function() return 'new' end)"),
    ("FCALL", "x", "0"), ("FCALL", "incrby", "1", "k", "1"),
    ("FUNCTION", "LIST", "WITHCODE"), ("FUNCTION", "LIST", "LIBRARYNAME", "my*"),
    ("FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('x', function() return 1 end)"),
    ("FUNCTION", "LOAD", "#!lua name=other\nreturn string"), ("FUNCTION", "LOAD", "#!lua name=other\nredis.call('ping')"),
    ("FUNCTION", "LOAD", "#!lua name=other\nlocal a = 1"), ("FUNCTION", "LOAD", "#!lua\nx"), ("FUNCTION", "LOAD", "no"),
    ("FUNCTION", "LOAD", "#!lua name=other"), ("FUNCTION", "LOAD", "#!lua name=a-b\nx"),
    ("FUNCTION", "LOAD", "#!lua name=o name=p\nx"), ("FUNCTION", "LOAD", "#!lua name=o x=1\nx"),
    ("FUNCTION", "LOAD", "#!nope name=o\nx"), ("FUNCTION", "LOAD", "#!lua name=o\n(("),
    ("FUNCTION", "LOAD", "#!lua name=o\nredis.register_function('a-b', function() end)"),
    ("FUNCTION", "LOAD", "#!lua name=o\nredis.register_function('f', function() end) redis.register_function('f', function() end)"),
    ("FUNCTION", "LOAD", "#!lua name=o\nredis.register_function{function_name='f'}"),
    ("FUNCTION", "LOAD", "#!lua name=o\nredis.register_function{callback=function() end}"),
    ("FUNCTION", "LOAD", "#!lua name=o\nredis.register_function{function_name='f', callback=function() end, flags={'bad'}}"),
    ("FUNCTION", "LOAD", "#!lua name=o\nredis.register_function{function_name='f', callback=function() end, flags='no-writes'}"),
    ("FUNCTION", "LOAD", "#!lua name=o\nredis.register_function{function_name='f', callback=1}"),
    ("FUNCTION", "LOAD", "#!lua name=o\nredis.register_function{function_name='f', callback=function() end, foo=1}"),
    ("FUNCTION", "LOAD", "#!lua name=o\nredis.register_function('f')"), ("FUNCTION", "LOAD", "#!lua name=o\nredis.register_function(1, 2)"),
    ("FUNCTION", "LOAD", "#!lua name=o\nredis.register_function('f', 2)"),
    ("FUNCTION", "LOAD", "#!lua name=o\nredis.register_function('f', function() end, 3)"),
    ("FUNCTION", "LOAD", "#!lua name=o\nredis.register_function(3)"),
    ("FUNCTION", "LOAD", "#!lua name=o\nredis.log(redis.LOG_NOTICE, 'loading') redis.register_function('f', function() return redis.REDIS_VERSION end)"),
    ("FCALL", "f", "0"),
    ("FUNCTION", "LOAD", "#!lua name=g\nlocal r = redis redis.register_function('g', function() return r.register_function('h', function() end) end)"),
    ("FCALL", "g", "0"),
    ("FUNCTION", "LOAD", "#!lua name=e\nredis.register_function('e', function() return x end)"), ("FCALL", "e", "0"),
    ("FUNCTION", "LOAD", "#!lua name=w\nredis.register_function('w', function() x = 1 end)"), ("FCALL", "w", "0"),
    ("EVAL", "return redis.register_function", "0"),
    ("FUNCTION", "STATS"), ("FUNCTION", "KILL"), ("FUNCTION", "DELETE", "nope"), ("FUNCTION", "DELETE", "o"),
    ("FCALL", "f", "0"), ("SCRIPT", "FLUSH"), ("FCALL", "x", "0"),
    # the libraries were loaded again into SCRIPT FLUSH's fresh interpreter: their functions still run
    ("FCALL", "g", "0"), ("FCALL", "e", "0"), ("FCALL", "w", "0"), ("FUNCTION", "FLUSH", "BAD"), ("FUNCTION", "FLUSH"),
    ("FCALL", "x", "0"), ("FUNCTION", "LIST"), ("FUNCTION", "STATS"),
]


@pytest.mark.parametrize("proto", [2, 3])
def test_functions_match_redis(sardine, oracle, proto):
    out = []
    for s in (sardine, oracle):
        r = Raw(s.port)
        if proto == 3:
            r.cmd("HELLO", "3")
        replies = [r.cmd(*step) for step in FUNCTION_STEPS]
        replies.append(r.cmd("DEBUG", "DIGEST"))
        out.append(replies)
        r.close()
    bad = [(step, g, w) for step, g, w in zip(FUNCTION_STEPS + [("DEBUG", "DIGEST")], *out) if g != w]
    assert not bad, "\n".join(f"{s!r}\n  sardine: {g!r}\n  redis:   {w!r}" for s, g, w in bad[:20])


def test_busy_function_and_function_kill(make_sardine, raw):
    s = make_sardine("--busy-reply-threshold", "100")
    runner, other = raw(s), raw(s)
    assert runner.cmd("FUNCTION", "LOAD", "#!lua name=spin\nredis.register_function{function_name='spin', "
                      "callback=function() while true do end end, flags={'no-writes'}}") == b"spin"
    runner.send(resp("FCALL", "spin", "0"))
    wait_until(lambda: isinstance(other.cmd("PING"), Err), msg="-BUSY")
    assert other.cmd("GET", "x") == Err("BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.")
    assert other.cmd("SCRIPT", "KILL") == Err("BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.")
    stats = other.cmd("FUNCTION", "STATS")
    assert stats[1][:4] == [b"name", b"spin", b"command", [b"FCALL", b"spin", b"0"]]
    assert other.cmd("FUNCTION", "KILL") == "OK"
    reply = runner.reply()
    assert isinstance(reply, Err) and reply.msg.startswith("ERR Script killed by user with SCRIPT KILL...")
    assert other.cmd("PING") == "PONG"


def test_function_load_timeout(c):
    r = c.cmd("FUNCTION", "LOAD", "#!lua name=slow\nwhile true do end")
    assert r == Err("ERR Error registering functions: ERR FUNCTION LOAD timeout")
    assert c.cmd("FUNCTION", "LIST") == []


def test_error_stats_match_redis(sardine, oracle):
    """A command's error inside a script counts once (when the command fails, or is refused), whether the
    script raises it, returns it from pcall or fails; errors the script makes itself count when replied."""
    scripts = ["return redis.call('incr', 'str')", "return redis.pcall('incr', 'str')", "error('x')",
               "return redis.call('nosuch')", "return {err='MY x'}", "return redis.pcall('nosuch')",
               "return redis.call('get')", "return redis.error_reply('OWN code')", "return 1"]
    out = []
    for s in (sardine, oracle):
        r = Raw(s.port)
        r.cmd("SET", "str", "x")
        r.cmd("CONFIG", "RESETSTAT")
        for body in scripts:
            r.cmd("EVAL", body, "0")
        info = r.cmd("INFO", "all").decode()
        keep = [l for l in info.split("\r\n") if l.startswith(("errorstat_", "total_error_replies"))
                or (l.startswith("cmdstat_") and "usec" in l)]
        out.append(sorted(l.split(",usec=")[0] + "," + l.split(",", 3)[-1] if l.startswith("cmdstat_") else l
                          for l in keep))
        r.close()
    assert out[0] == out[1]


def test_no_writes_script_runs_under_client_pause_write(c, raw):
    """Script flags count for CLIENT PAUSE WRITE as for Redis 7.0: a no-writes script is not held."""
    other = raw()
    assert other.cmd("CLIENT", "PAUSE", "60000", "WRITE") == "OK"
    assert c.cmd("EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'k')", "0") is None
    assert other.cmd("CLIENT", "UNPAUSE") == "OK"


FLIB = ("#!lua name=persisted\nredis.register_function{function_name='pf', callback=function(keys, args) "
        "return redis.call('incrby', keys[1], args[1]) end, flags={'allow-oom'}, description='kept'}")


def test_functions_survive_a_restart(make_sardine):
    """FUNCTION libraries are saved in the RDB file (FUNCTION2 records, as Redis 7.0) and loaded at startup."""
    s = make_sardine()
    r = Raw(s.port)
    assert r.cmd("FUNCTION", "LOAD", FLIB) == b"persisted"
    assert r.cmd("SET", "k", "1") == "OK"
    assert r.cmd("SAVE") == "OK"
    listing = r.cmd("FUNCTION", "LIST", "WITHCODE")
    assert r.cmd("DEBUG", "RELOAD") == "OK"
    assert r.cmd("FUNCTION", "LIST", "WITHCODE") == listing
    assert r.cmd("FCALL", "pf", "1", "k", "2") == 3
    r.close()
    again = make_sardine("--dir", s.dir)
    r = Raw(again.port)
    assert r.cmd("FUNCTION", "LIST", "WITHCODE") == listing
    assert r.cmd("FCALL", "pf", "1", "k", "2") == 3
    r.close()


@pytest.mark.skipif(IS_REAL_REDIS, reason="exchanges RDB files between the two servers")
def test_function_records_are_redis_compatible(make_sardine, make_oracle):
    import os
    import shutil
    import subprocess
    s = make_sardine()
    r = Raw(s.port)
    assert r.cmd("FUNCTION", "LOAD", FLIB) == b"persisted"
    assert r.cmd("SAVE") == "OK"
    r.close()
    rdb = os.path.join(s.dir, "dump.rdb")
    check = subprocess.run(["redis-check-rdb", rdb], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    o = make_oracle()
    shutil.copy(rdb, os.path.join(o.dir, "copy.rdb"))
    o2 = make_oracle("--dbfilename", "copy.rdb", "--dir", o.dir)
    ro = Raw(o2.port)
    assert ro.cmd("FCALL", "pf", "1", "k", "2") == 2
    assert ro.cmd("SAVE") == "OK"
    ro.close()
    back = make_sardine("--dir", o.dir, "--dbfilename", "copy.rdb")
    r = Raw(back.port)
    assert r.cmd("FCALL", "pf", "1", "k", "2") == 4
    r.close()


def test_function_dump_and_restore_match_redis(sardine, oracle):
    """FUNCTION DUMP's payload restores on the other server both ways; RESTORE's policies and errors."""
    lib2 = "#!lua name=second\nredis.register_function('s2', function() return 'two' end)"
    lib2b = "#!lua name=second\nredis.register_function('s2b', function() return 'two b' end)"
    clash = "#!lua name=third\nredis.register_function('pf', function() return 'clash' end)"
    conns = [Raw(sardine.port), Raw(oracle.port)]
    payloads = []
    for r in conns:
        assert r.cmd("FUNCTION", "LOAD", FLIB) == b"persisted"
        assert r.cmd("FUNCTION", "LOAD", lib2) == b"second"
        payloads.append(r.cmd("FUNCTION", "DUMP"))
    assert len(payloads[0]) > 20
    out = []
    for i, r in enumerate(conns):
        theirs = payloads[1 - i]
        steps = [
            ("FUNCTION", "RESTORE", theirs), ("FUNCTION", "RESTORE", theirs, "APPEND"),
            ("FUNCTION", "RESTORE", theirs, "BOGUS"), ("FUNCTION", "RESTORE", b"garbage"),
            ("FUNCTION", "RESTORE", theirs, "APPEND", "x"), ("FUNCTION", "DUMP", "x"),
            ("FUNCTION", "RESTORE", theirs[:-1] + bytes([theirs[-1] ^ 1])),
            ("FUNCTION", "FLUSH"), ("FUNCTION", "RESTORE", theirs), ("FCALL", "pf", "1", "k", "3"), ("FCALL", "s2", "0"),
            ("FUNCTION", "LOAD", "REPLACE", lib2b), ("FUNCTION", "RESTORE", theirs, "REPLACE"), ("FCALL", "s2", "0"),
            ("FCALL", "s2b", "0"), ("FUNCTION", "DELETE", "persisted"), ("FUNCTION", "LOAD", clash),
            ("FUNCTION", "RESTORE", theirs, "REPLACE"), ("FCALL", "s2", "0"), ("FUNCTION", "RESTORE", theirs, "FLUSH"),
            ("FCALL", "pf", "1", "k", "3"), ("FCALL", "clash", "0"), ("FUNCTION", "LIST", "LIBRARYNAME", "third"),
        ]
        # which of several clashing libraries an APPEND names depends on hash order: not compared
        out.append([Err("ERR Library <name> already exists")
                    if isinstance(x, Err) and x.msg.startswith("ERR Library ") and x.msg.endswith(" already exists")
                    else x for x in (r.cmd(*s) for s in steps)])
        r.close()
    assert out[0] == out[1]


def logged(path):
    """The commands of a propagated stream (a DEBUG PROPAGATION-LOG file, an AOF's incr file), SELECTs left
    out, as lists of str (command names in upper case)."""
    with open(path, "rb") as f:
        cmds = parse_commands(f.read())
    return [[c[0].decode().upper()] + [a.decode() for a in c[1:]] for c in cmds if c[0].upper() != b"SELECT"]


@pytest.mark.skipif(IS_REAL_REDIS, reason="DEBUG PROPAGATION-LOG is Sardine's own test sink")
def test_set_repl_chooses_where_effects_go(make_sardine):
    """redis.set_repl: the commands a script runs after REPL_NONE reach neither the AOF nor the replicas (the
    propagation log stands for one), REPL_AOF only the AOF, REPL_REPLICA/REPL_SLAVE only the replicas;
    several effects are still wrapped in MULTI/EXEC for both, and deletions by expiry always go to both."""
    s = make_sardine("--appendonly", "yes", "--appendfsync", "always")
    log, aof = f"{s.dir}/propagated.resp", f"{s.dir}/appendonlydir/appendonly.aof.1.incr.aof"
    r = Raw(s.port)
    assert r.cmd("DEBUG", "PROPAGATION-LOG", log) == "OK"
    body = ("redis.call('set', 'all1', '1') redis.set_repl(redis.REPL_NONE) redis.call('set', 'none', '1') "
            "redis.call('incr', 'none') redis.set_repl(redis.REPL_AOF) redis.call('set', 'aof', '1') "
            "redis.set_repl(redis.REPL_REPLICA) redis.call('set', 'repl', '1') "
            "redis.set_repl(redis.REPL_SLAVE) redis.call('set', 'slave', '1') "
            "redis.set_repl(redis.REPL_ALL) redis.call('set', 'all2', '1') return redis.replicate_commands()")
    assert r.cmd("EVAL", body, "0") == 1
    assert r.cmd("MGET", "all1", "none", "aof", "repl", "slave", "all2") == [b"1", b"2", b"1", b"1", b"1", b"1"]
    assert logged(log) == [["MULTI"], ["SET", "all1", "1"], ["SET", "repl", "1"], ["SET", "slave", "1"],
                           ["SET", "all2", "1"], ["EXEC"]]
    assert logged(aof) == [["MULTI"], ["SET", "all1", "1"], ["SET", "aof", "1"], ["SET", "all2", "1"], ["EXEC"]]
    # one effect alone is not wrapped; none at all leaves nothing
    assert r.cmd("EVAL", "redis.set_repl(redis.REPL_AOF) return redis.call('set', 'a2', 'x')", "0") == "OK"
    assert r.cmd("EVAL", "redis.set_repl(redis.REPL_NONE) return redis.call('del', 'all1')", "0") == 1
    assert logged(log)[6:] == []
    assert logged(aof)[5:] == [["SET", "a2", "x"]]
    # a key that expired before the script is deleted for everyone, even under REPL_NONE
    assert r.cmd("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
    assert r.cmd("SET", "gone", "v", "PX", "1") == "OK"
    time.sleep(0.02)
    assert r.cmd("EVAL", "redis.set_repl(redis.REPL_NONE) return redis.call('get', KEYS[1])", "1", "gone") is None
    assert logged(log)[-1][-1:] == ["gone"] and logged(log)[-1][0] in ("DEL", "UNLINK")
    assert logged(aof)[-1][-1:] == ["gone"] and logged(aof)[-1][0] in ("DEL", "UNLINK")
    # the targets are the script's own: the next command propagates as usual
    assert r.cmd("SET", "after", "1") == "OK"
    assert logged(log)[-1] == ["SET", "after", "1"] and logged(aof)[-1] == ["SET", "after", "1"]
    r.close()
