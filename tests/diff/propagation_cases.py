"""Cases of tests/diff/test_diff_propagation.py: name -> (setup, commands, note).

Setup runs on both servers before the replication link is read; only what the commands propagate is
compared.  Commands are deterministic here (no random pops from more than one candidate, no relative
times whose absolute value differs between the servers: those become a <ms> token).
"""

CASES = {
    "set-relative-expiry": (
        [], [["SET", "a", "1", "EX", "100"], ["SET", "b", "1", "PX", "100000"], ["SETEX", "c", "100", "v"],
             ["PSETEX", "d", "100000", "v"], ["SET", "e", "v", "EXAT", "2000000000"], ["SET", "f", "v", "KEEPTTL"],
             ["SET", "g", "v", "NX", "EX", "5"], ["SET", "g", "w", "XX", "GET", "PX", "5000"]],
        "SET with EX/PX/EXAT and SETEX/PSETEX propagate as SET PXAT"),
    "expire-family": (
        [["SET", "a", "1"], ["SET", "b", "1"], ["SET", "c", "1"], ["SET", "d", "1"]],
        [["EXPIRE", "a", "100"], ["PEXPIRE", "b", "100000"], ["EXPIREAT", "c", "2000000000"],
         ["PEXPIREAT", "d", "2000000000000"], ["EXPIRE", "a", "50", "LT"], ["EXPIRE", "a", "500", "LT"],
         ["PERSIST", "a"], ["EXPIRE", "missing", "5"], ["EXPIRE", "d", "-1"]],
        "EXPIRE family as PEXPIREAT; a time in the past deletes"),
    "getex-getdel": (
        [["SET", "a", "1"], ["SET", "b", "2", "EX", "100"], ["SET", "c", "3"]],
        [["GETEX", "a", "EX", "100"], ["GETEX", "b", "PERSIST"], ["GETEX", "a"], ["GETDEL", "c"],
         ["GETEX", "a", "PXAT", "1000"]],
        "GETEX as PEXPIREAT/PERSIST/DEL; GETDEL as DEL"),
    "incrbyfloat": (
        [["SET", "n", "1.5", "EX", "1000"], ["HSET", "h", "f", "2"]],
        [["INCRBYFLOAT", "n", "0.25"], ["INCRBYFLOAT", "m", "3"], ["HINCRBYFLOAT", "h", "f", "1.5"],
         ["HINCRBYFLOAT", "h", "g", "-2"], ["INCR", "i"], ["INCRBY", "i", "5"]],
        "float increments as SET KEEPTTL / HSET of the result"),
    "spop": (
        [["SADD", "one", "x"], ["SADD", "all", "a", "b", "c"]],
        [["SPOP", "one"], ["SPOP", "all", "10"], ["SPOP", "missing"]],
        "SPOP as SREM, or DEL when it takes the whole set"),
    "list-pops": (
        [["RPUSH", "l", "a", "b", "c", "d", "e", "f"], ["RPUSH", "m", "x", "y"]],
        [["BLPOP", "none", "l", "0"], ["BRPOP", "l", "0"], ["LMPOP", "2", "none", "l", "LEFT", "COUNT", "2"],
         ["BLMPOP", "0", "1", "m", "RIGHT"], ["BLMOVE", "l", "dst", "LEFT", "RIGHT", "0"],
         ["BRPOPLPUSH", "m", "dst", "0"], ["LPOP", "l", "5"], ["RPOPLPUSH", "x", "y"]],
        "blocking pops served at once propagate as the plain pop"),
    "zset-pops": (
        [["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"]],
        [["ZPOPMIN", "z"], ["ZPOPMAX", "z", "2"], ["BZPOPMIN", "none", "z", "0"], ["ZMPOP", "1", "z", "MAX"],
         ["BZMPOP", "0", "1", "z", "MIN", "COUNT", "5"], ["ZPOPMIN", "z"]],
        "sorted-set pops"),
    "keys": (
        [["SET", "a", "1"], ["SET", "b", "2"], ["RPUSH", "l", "x"]],
        [["RENAME", "a", "c"], ["COPY", "c", "d"], ["MOVE", "d", "3"], ["DEL", "b", "nothing"], ["UNLINK", "l"],
         ["DEL", "nothing"], ["SWAPDB", "0", "1"], ["SELECT", "1"], ["SET", "k", "v"], ["FLUSHDB"],
         ["SELECT", "0"]],
        "key commands propagate as they are; SELECT follows the db"),
    "expiry": (
        [["SET", "a", "1", "PX", "50"], ["SET", "b", "1", "PX", "50"], ["SET", "c", "1", "PX", "50"]],
        [["SLEEP-MS", "300"], ["GET", "a"], ["GET", "b"], ["SET", "d", "1"], ["EXISTS", "c"]],
        "keys that expire, lazily or in the background, propagate as DEL (lazyfree-lazy-expire no)"),
    "scan-meets-expired-keys": (
        [["DEBUG", "SET-ACTIVE-EXPIRE", "0"], ["SET", "a", "1", "PX", "50"], ["SET", "b", "1", "PX", "50"],
         ["SET", "c", "1", "PX", "50"], ["SET", "keep", "1"]],
        [["SLEEP-MS", "200"], ["SCAN", "0", "MATCH", "a"], ["SCAN", "0", "MATCH", "b", "TYPE", "string"],
         ["DBSIZE"], ["SCAN", "0", "MATCH", "keep"], ["KEYS", "c"], ["DBSIZE"]],
        "SCAN deletes the expired keys that match its pattern (DEL); KEYS and keys not matched keep theirs"),
    "debug-populate": (
        [["SET", "key:1", "mine"]],
        [["DEBUG", "POPULATE", "5"], ["DEBUG", "POPULATE", "3", "p", "10"], ["SET", "after", "1"]],
        "DEBUG POPULATE propagates nothing (its keys reach replicas only through a full sync)"),
    "transactions": (
        [],
        [["MULTI"], ["SET", "a", "1"], ["INCR", "a"], ["GET", "a"], ["EXEC"], ["MULTI"], ["SET", "b", "1"],
         ["EXEC"], ["MULTI"], ["GET", "a"], ["EXEC"]],
        "EXEC wraps several writes in MULTI/EXEC; one write goes alone; none, nothing"),
    "streams": (
        [["XADD", "s", "1-1", "f", "v"], ["XADD", "s", "1-2", "f", "v"], ["XADD", "s", "1-3", "f", "v"]],
        [["XGROUP", "CREATE", "s", "g", "0"], ["XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">"],
         ["XADD", "s", "2-1", "a", "b"], ["XTRIM", "s", "MAXLEN", "3"], ["XGROUP", "CREATE", "s", "g2", "$"],
         ["XGROUP", "SETID", "s", "g", "$"], ["XACK", "s", "g", "1-1"], ["XDEL", "s", "1-3"]],
        "stream writes with explicit IDs",
        # Deliberate: Redis 7.0 propagates neither the consumer an XREADGROUP creates (a replica lacks it if
        # the read returned nothing) nor the group's entries-read counter (a replica's XINFO lag drifts);
        # Sardine sends both, as Redis 7.2 does, so that replicas and the AOF keep the group exactly.
        [[b"XGROUP", b"CREATECONSUMER"], [b"XGROUP", b"SETID", b"s", b"g", b"1-2", b"ENTRIESREAD"]]),
    "stream-approximate-trim": (
        [["XADD", "s", f"1-{i}", "f", "v"] for i in range(1, 40)],
        [["XADD", "s", "MAXLEN", "~", "10", "2-1", "a", "b"], ["XTRIM", "s", "MINID", "~", "1-25"],
         ["XTRIM", "s", "MAXLEN", "~", "5", "LIMIT", "100"], ["XADD", "s", "3-*", "x", "y"],
         ["XTRIM", "s", "MAXLEN", "=", "4"]],
        "approximate trims propagate as the exact trim they amounted to"),
    "scripts": (
        [["SET", "n", "1"], ["SCRIPT", "LOAD", "return redis.call('incr', KEYS[1])"]],
        [["EVAL", "redis.call('set', KEYS[1], ARGV[1]) redis.call('incr', KEYS[2]) "
                  "redis.call('expire', KEYS[1], 100) return 1", "2", "a", "n", "v"],
         ["EVAL", "return redis.call('incr', KEYS[1])", "1", "n"],
         ["EVALSHA", "2bab3b661081db58bd2341920e0ba7cf5dc77b25", "1", "n"],
         ["EVAL", "return redis.call('get', KEYS[1])", "1", "n"],
         ["EVAL", "redis.call('select', 2) redis.call('set', 'x', 'y') return 1", "0"],
         ["EVAL", "redis.call('set', 'p', 'q') return redis.call('incr', 'p')", "0"],
         ["EVAL", "redis.call('rpush', 'l', 1, 2, 3) redis.call('lpop', 'l') "
                  "redis.call('incrbyfloat', 'f', 1.5) redis.call('set', 'e', 'v', 'ex', 100) return 1", "0"],
         ["EVAL_RO", "return redis.call('get', 'n')", "0"]],
        "scripts propagate their effects, wrapped in MULTI/EXEC when there are several; EVAL itself is not"),
    "functions": (
        [],
        [["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function(keys, args) "
                              "redis.call('set', keys[1], args[1]) return redis.call('incr', keys[2]) end)"],
         ["FCALL", "f", "2", "a", "n", "v"], ["FCALL", "f", "2", "a", "n", "w"], ["FUNCTION", "DELETE", "lib"],
         ["FUNCTION", "LOAD", "#!lua name=lib2\nredis.register_function('g', function() return 1 end)"],
         ["FCALL", "g", "0"], ["FUNCTION", "FLUSH"]],
        "FUNCTION LOAD/DELETE/FLUSH propagate as sent; FCALL as its effects"),
}
