#!/usr/bin/python3
"""Soak test of issue 10: a long, bounded run of many clients and an unfriendly operator.

Not part of `make test`; run with `make soak SOAK_SECONDS=600` (tests/README.md, "Soak test").

Phase A (chaos, the first ~80% of the duration) starts one Sardine under a maxmemory policy and runs
  * N worker threads (default 16), each with its own connection, sending a random mix of every command
    family (strings, bitmaps, HLL, lists, sets, sorted sets, hashes, streams with consumer groups, geo,
    keys/expiry/rename/copy/move, SORT, the SCAN family), MULTI/EXEC blocks and blocking pops with
    short timeouts;
  * a chaos thread doing CLIENT KILL ID of random workers (they reconnect), CLIENT PAUSE for a few ms,
    and CONFIG SET of limits (maxmemory between sizes, every maxmemory-policy, list-max-listpack-size,
    hash-max-listpack-entries, client-output-buffer-limit normal, timeout 0);
  * a check thread running DEBUG CHECK-KEY on random keys and DEBUG CHECK-KEYSPACE every few seconds
    (tests/harness.py's assert_key_ok / assert_keyspace_ok).
  Every reply is accepted, errors included (-OOM, -WRONGTYPE, ...), unless it is a protocol-level
  failure.  The run fails on: a connection error of a worker that the chaos thread did not kill, the
  server exiting, a failed structure check (during the run, or over every key at the end), or a
  sanitizer line in the server's log after a clean shutdown.

Phase B (deterministic, the last ~20%) starts a fresh Sardine and Debian's redis-server 7.0 with the
  same configuration and sends both, from one client, the same seeded random stream of deterministic
  commands (no random picks, no relative TTLs, explicit stream IDs, no SCAN cursors, no idle times);
  every reply is compared (set-like replies as sorted lists, since hash-table order is unspecified),
  DEBUG DIGEST is compared every DIGEST_EVERY commands and at the end.  On a digest mismatch the
  differing keys are named by DEBUG DIGEST-VALUE.

Key spaces are bounded (a few hundred keys per family, bounded members and value sizes, trims on growth)
so the dataset stays well under a few hundred MB even without eviction.

The last line printed is the summary: seconds per phase, operations per phase, kills, pauses, config
changes, checks run, then "soak: PASS" or "soak: FAIL <reasons>"; the exit status is non-zero on failure
and the failing server's log is kept (its path is printed).
"""
import argparse
import os
import random
import re
import shutil
import sys
import threading
import time
import traceback

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))            # tests/, for harness.py
import harness                                       # noqa: E402
from harness import Server, assert_key_ok, assert_keyspace_ok   # noqa: E402

SANITIZER_RE = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|"
                          r"SUMMARY: (Address|Undefined|Leak)Sanitizer|DBG_ASSERT failed|Assertion .* failed|"
                          r"AddressSanitizer:DEADLYSIGNAL")

NKEYS = 150                 # keys per family
DBS = 4                     # databases used by SELECT / MOVE / SWAPDB
FAMILIES = ["str", "bit", "hll", "list", "set", "zset", "hash", "stream", "geo"]
CROSS_FAMILIES = [f for f in FAMILIES if f != "hll"]
POLICIES = ["noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru",
            "volatile-lfu", "volatile-random", "volatile-ttl"]
MAXMEMORY = ["2mb", "4mb", "8mb", "16mb", "64mb", "256mb"]


# ---------------------------------------------------------------- command generation

class Gen:
    """Random commands of every family.  det=True keeps only commands whose replies and effects are
    a function of the command stream alone (phase B)."""

    def __init__(self, rng, det):
        self.r = rng
        self.det = det
        self.stream_seq = {}          # deterministic stream IDs per key (phase B)

    # -- atoms
    def key(self, fam=None):
        """A key of family fam, now and then (4%) one of another family (WRONGTYPE, or a value of one
        type under another family's name).  HLL values stay under hll:* names and nothing else writes
        there: a string command writing bytes into an HLL makes a client-written imitation, which
        DEBUG CHECK-KEY reports by design (commands/debug_check.c), so HLL keys never cross."""
        r = self.r
        if fam is None:
            fam = r.choice(FAMILIES)
        elif fam != "hll" and r.random() < 0.04:
            fam = r.choice(CROSS_FAMILIES)
        return f"{fam}:{r.randrange(NKEYS)}"

    def member(self, n=60):
        r = self.r
        x = r.random()
        if x < 0.5:
            return str(r.randrange(n))                 # integers: intset / int encodings
        if x < 0.9:
            return f"m{r.randrange(n)}"
        return "v" * r.randrange(20, 90) + str(r.randrange(n))   # longer: listpack -> hashtable

    def value(self):
        r = self.r
        x = r.random()
        if x < 0.4:
            return str(r.randrange(-1000, 100000))
        if x < 0.8:
            return "".join(r.choice("abcxyz") for _ in range(r.randrange(0, 24)))
        if x < 0.95:
            return "x" * r.randrange(40, 400)
        return str(r.random() * 1e6)

    def score(self):
        r = self.r
        return r.choice([str(r.randrange(-50, 50)), f"{r.uniform(-100, 100):.3f}", "inf", "-inf", "0"])

    def idx(self, lo=-20, hi=20):
        return str(self.r.randrange(lo, hi))

    def block_timeout(self):
        """Seconds for a blocking pop: short, so that a pop on empty keys costs little."""
        return "0.002" if self.det else self.r.choice(["0.01", "0.05", "0.1"])

    def future_ts(self):
        return str(4102444800 + self.r.randrange(100000))      # 2100-01-01 + a bit: absolute, far away

    # -- families
    def strings(self):
        r, k = self.r, self.key("str")
        c = r.randrange(24)
        if c == 0: return ["SET", k, self.value()]
        if c == 1: return ["GET", k]
        if c == 2: return ["APPEND", k, self.value()]
        if c == 3: return ["INCRBY", k, str(r.randrange(-100, 100))]
        if c == 4: return ["INCRBYFLOAT", k, f"{r.uniform(-10, 10):.4f}"]
        if c == 5: return ["DECR", k]
        if c == 6: return ["GETRANGE", k, self.idx(), self.idx()]
        if c == 7: return ["SETRANGE", k, str(r.randrange(0, 2000)), self.value()]
        if c == 8: return ["STRLEN", k]
        if c == 9: return ["MSET"] + sum(([self.key("str"), self.value()] for _ in range(r.randrange(1, 4))), [])
        if c == 10: return ["MGET"] + [self.key("str") for _ in range(r.randrange(1, 5))]
        if c == 11: return ["SETNX", k, self.value()]
        if c == 12: return ["GETSET", k, self.value()]
        if c == 13: return ["GETDEL", k]
        if c == 14: return ["SET", k, self.value(), "GET"]
        if c == 15: return ["SET", k, self.value(), r.choice(["NX", "XX"])]
        if c == 16: return ["LCS", k, self.key("str")] + r.choice([[], ["LEN"], ["IDX", "MINMATCHLEN", "2"]])
        if c == 17: return ["MSETNX", k, self.value(), self.key("str"), self.value()]
        if c == 18: return ["SET", k, self.value(), "EXAT", self.future_ts()]
        if c == 19: return ["GETEX", k] + r.choice([["PERSIST"], ["EXAT", self.future_ts()], []])
        if self.det:
            return ["SET", k, self.value(), "KEEPTTL"]
        if c == 20: return ["SET", k, self.value(), "PX", str(r.randrange(1, 3000))]
        if c == 21: return ["SETEX", k, str(r.randrange(1, 5)), self.value()]
        if c == 22: return ["GETEX", k, "PX", str(r.randrange(1, 4000))]
        return ["PSETEX", k, str(r.randrange(1, 3000)), self.value()]

    def bitmaps(self):
        r, k = self.r, self.key("bit")
        off = str(r.randrange(0, 40000) if r.random() < 0.3 else r.randrange(0, 300))
        c = r.randrange(8)
        if c == 0: return ["SETBIT", k, off, str(r.randrange(2))]
        if c == 1: return ["GETBIT", k, off]
        if c == 2: return ["BITCOUNT", k] + r.choice([[], [self.idx(), self.idx()], [self.idx(), self.idx(), "BIT"]])
        if c == 3: return ["BITPOS", k, str(r.randrange(2))] + r.choice([[], [self.idx()], [self.idx(), self.idx(), "BYTE"]])
        if c == 4: return ["BITOP", r.choice(["AND", "OR", "XOR"]), self.key("bit"), k, self.key("bit")]
        if c == 5: return ["BITOP", "NOT", self.key("bit"), k]
        if c == 6:
            return ["BITFIELD", k, "SET", r.choice(["u8", "i16", "u4"]), off, str(r.randrange(-300, 300)),
                    "GET", "u8", "0", "OVERFLOW", r.choice(["WRAP", "SAT", "FAIL"]),
                    "INCRBY", r.choice(["i8", "u16"]), off, str(r.randrange(-50, 50))]
        return ["BITFIELD_RO", k, "GET", "u8", off, "GET", "i4", "3"]

    def hll(self):
        r, k = self.r, self.key("hll")
        c = r.randrange(4)
        if c == 0: return ["PFADD", k] + [self.member(5000) for _ in range(r.randrange(1, 20))]
        if c == 1: return ["PFCOUNT", k] + ([self.key("hll")] if r.random() < 0.3 else [])
        if c == 2: return ["PFMERGE", self.key("hll"), k, self.key("hll")]
        return ["PFADD", k, "e%d" % r.randrange(100)]

    def lists(self):
        r, k = self.r, self.key("list")
        c = r.randrange(20)
        if c == 0: return ["LPUSH", k] + [self.member() for _ in range(r.randrange(1, 6))]
        if c == 1: return ["RPUSH", k] + [self.member() for _ in range(r.randrange(1, 6))]
        if c == 2: return ["LPOP", k] + ([str(r.randrange(0, 4))] if r.random() < 0.5 else [])
        if c == 3: return ["RPOP", k]
        if c == 4: return ["LRANGE", k, self.idx(), self.idx()]
        if c == 5: return ["LINDEX", k, self.idx()]
        if c == 6: return ["LSET", k, self.idx(-5, 5), self.member()]
        if c == 7: return ["LINSERT", k, r.choice(["BEFORE", "AFTER"]), self.member(), self.member()]
        if c == 8: return ["LREM", k, self.idx(-3, 3), self.member()]
        if c == 9: return ["LTRIM", k, self.idx(0, 5), self.idx(-10, 60)]
        if c == 10: return ["LPOS", k, self.member()] + r.choice([[], ["RANK", "-1"], ["COUNT", "0"]])
        if c == 11: return ["LMOVE", k, self.key("list"), r.choice(["LEFT", "RIGHT"]), r.choice(["LEFT", "RIGHT"])]
        if c == 12: return ["RPOPLPUSH", k, self.key("list")]
        if c == 13: return ["LMPOP", "2", k, self.key("list"), r.choice(["LEFT", "RIGHT"]), "COUNT", "3"]
        if c == 14: return ["LLEN", k]
        if c == 15: return ["LPUSHX", k, self.member()]
        if c == 16: return ["RPUSH", k] + ["y" * r.randrange(10, 200) for _ in range(r.randrange(1, 4))]
        # blocking pops: short timeouts (inside MULTI they act as their non-blocking form)
        t = self.block_timeout()
        if c == 17: return ["BLPOP", k, self.key("list"), t]
        if c == 18: return ["BLMOVE", k, self.key("list"), "LEFT", "RIGHT", t]
        return ["BLMPOP", t, "2", k, self.key("list"), "RIGHT", "COUNT", "2"]

    def sets(self):
        r, k = self.r, self.key("set")
        c = r.randrange(16)
        if c == 0: return ["SADD", k] + [self.member(200) for _ in range(r.randrange(1, 8))]
        if c == 1: return ["SREM", k] + [self.member(200) for _ in range(r.randrange(1, 4))]
        if c == 2: return ["SISMEMBER", k, self.member(200)]
        if c == 3: return ["SMISMEMBER", k, self.member(200), self.member(200)]
        if c == 4: return ["SCARD", k]
        if c == 5: return ["SMEMBERS", k]
        if c == 6: return [r.choice(["SINTER", "SUNION", "SDIFF"]), k, self.key("set")]
        if c == 7: return [r.choice(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), self.key("set"), k, self.key("set")]
        if c == 8: return ["SMOVE", k, self.key("set"), self.member(200)]
        if c == 9: return ["SINTERCARD", "2", k, self.key("set"), "LIMIT", str(r.randrange(0, 10))]
        if c == 10: return ["SADD", k] + [str(r.randrange(1000)) for _ in range(r.randrange(1, 30))]
        if self.det:
            return ["SADD", k, self.member(200)]
        if c == 11: return ["SPOP", k] + ([str(r.randrange(0, 5))] if r.random() < 0.5 else [])
        if c == 12: return ["SRANDMEMBER", k, str(r.randrange(-5, 5))]
        return ["SSCAN", k, "0", "COUNT", str(r.randrange(1, 20))]

    def zsets(self):
        r, k = self.r, self.key("zset")
        c = r.randrange(22)
        if self.det and c in (5, 18):
            return self.lex_zsets()
        if c == 0:
            a = ["ZADD", k] + r.choice([[], ["NX"], ["XX"], ["GT"], ["CH"]])
            for _ in range(r.randrange(1, 6)):
                a += [self.score(), self.member(150)]
            return a
        if c == 1: return ["ZINCRBY", k, self.score(), self.member(150)]
        if c == 2: return ["ZREM", k, self.member(150), self.member(150)]
        if c == 3: return ["ZRANGE", k, self.idx(), self.idx()] + r.choice([[], ["WITHSCORES"], ["REV"]])
        if c == 4: return ["ZRANGEBYSCORE", k, r.choice(["-inf", "(0", "-10"]), r.choice(["+inf", "10", "(5"])] + r.choice([[], ["LIMIT", "1", "3"]])
        if c == 5: return ["ZRANGEBYLEX", k, r.choice(["-", "[m1", "(m5"]), r.choice(["+", "[m9", "(z"])]
        if c == 6: return ["ZCARD", k]
        if c == 7: return ["ZSCORE", k, self.member(150)]
        if c == 8: return ["ZRANK", k, self.member(150)]
        if c == 9: return ["ZCOUNT", k, "-inf", r.choice(["+inf", "0", "(3"])]
        if c == 10: return ["ZREMRANGEBYRANK", k, self.idx(0, 3), self.idx(0, 5)]
        if c == 11: return ["ZREMRANGEBYSCORE", k, r.choice(["-inf", "40"]), r.choice(["-40", "+inf"])]
        if c == 12: return [r.choice(["ZPOPMIN", "ZPOPMAX"]), k] + ([str(r.randrange(1, 4))] if r.random() < 0.5 else [])
        if c == 13: return [r.choice(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]), self.key("zset"), "2", k, self.key("zset")]
        if c == 14: return ["ZUNION", "2", k, self.key("zset"), "WITHSCORES"]
        if c == 15: return ["ZRANGESTORE", self.key("zset"), k, "0", "-1"]
        if c == 16: return ["ZMPOP", "2", k, self.key("zset"), r.choice(["MIN", "MAX"]), "COUNT", "2"]
        if c == 17: return ["ZMSCORE", k, self.member(150), self.member(150)]
        if c == 18: return ["ZLEXCOUNT", k, "-", "+"]
        if c == 19: return [r.choice(["BZPOPMIN", "BZPOPMAX"]), k, self.key("zset"), self.block_timeout()]
        if self.det:
            return ["ZADD", k, "INCR", self.score(), self.member(150)]
        if c == 20: return ["ZRANDMEMBER", k, str(r.randrange(-4, 4)), "WITHSCORES"]
        return ["ZSCAN", k, "0"]

    def lex_zsets(self):
        """Phase B's lex-range commands, on zlex:* keys whose members all have score 0: on members of
        different scores their result is unspecified (Redis's depends on its skiplist's random levels),
        so it cannot be compared.  Nothing else writes zlex:* keys (not in FAMILIES)."""
        r = self.r
        k = f"zlex:{r.randrange(NKEYS // 4)}"
        c = r.randrange(5)
        if c <= 1: return ["ZADD", k] + sum((["0", self.member(150)] for _ in range(r.randrange(1, 6))), [])
        if c == 2: return ["ZRANGEBYLEX", k, r.choice(["-", "[m1", "(m5", "[1"]), r.choice(["+", "[m9", "(z", "(5"])] + \
            r.choice([[], ["LIMIT", "1", "3"]])
        if c == 3: return ["ZLEXCOUNT", k, r.choice(["-", "[m3"]), r.choice(["+", "(m7"])]
        return ["ZREMRANGEBYLEX", k, r.choice(["[m4", "(7"]), r.choice(["[m41", "(8"])]

    def hashes(self):
        r, k = self.r, self.key("hash")
        c = r.randrange(16)
        if c == 0: return ["HSET", k] + sum(([self.member(120), self.value()] for _ in range(r.randrange(1, 5))), [])
        if c == 1: return ["HGET", k, self.member(120)]
        if c == 2: return ["HDEL", k, self.member(120), self.member(120)]
        if c == 3: return ["HGETALL", k]
        if c == 4: return ["HINCRBY", k, self.member(120), str(r.randrange(-10, 10))]
        if c == 5: return ["HINCRBYFLOAT", k, self.member(120), "1.5"]
        if c == 6: return ["HMGET", k, self.member(120), self.member(120)]
        if c == 7: return ["HSETNX", k, self.member(120), self.value()]
        if c == 8: return ["HLEN", k]
        if c == 9: return [r.choice(["HKEYS", "HVALS"]), k]
        if c == 10: return ["HEXISTS", k, self.member(120)]
        if c == 11: return ["HSTRLEN", k, self.member(120)]
        if c == 12: return ["HSET", k, self.member(120), "w" * r.randrange(50, 300)]
        if self.det:
            return ["HMSET", k, self.member(120), self.value()]
        if c == 13: return ["HRANDFIELD", k, str(r.randrange(-4, 4))]
        return ["HSCAN", k, "0", "MATCH", "m*"]

    def streams(self):
        r, k = self.r, self.key("stream")
        c = r.randrange(16)
        g = f"g{r.randrange(3)}"
        if c <= 3:
            if self.det:
                ms, sq = self.stream_seq.get(k, (1, 0))
                ms += r.randrange(0, 3)
                sq = sq + 1 if r.random() < 0.5 else 0
                self.stream_seq[k] = (ms, sq)
                i = f"{ms}-{sq}"
            else:
                i = "*"
            trim = r.choice([[], [], ["MAXLEN", "50"], ["MAXLEN", "~", "100"]])
            return ["XADD", k] + trim + [i] + sum(([self.member(20), self.value()] for _ in range(r.randrange(1, 4))), [])
        if c == 4: return ["XLEN", k]
        if c == 5: return ["XRANGE", k, "-", "+", "COUNT", str(r.randrange(1, 10))]
        if c == 6: return ["XREVRANGE", k, "+", "-", "COUNT", "5"]
        if c == 7: return ["XGROUP", "CREATE", k, g, r.choice(["0", "$"]), "MKSTREAM"]
        if c == 8: return ["XREADGROUP", "GROUP", g, f"c{r.randrange(3)}", "COUNT", "3", "STREAMS", k, ">"]
        if c == 9: return ["XACK", k, g, f"{r.randrange(1, 200)}-{r.randrange(3)}"]
        if c == 10: return ["XDEL", k, f"{r.randrange(1, 200)}-{r.randrange(3)}"]
        if c == 11: return ["XTRIM", k, "MAXLEN", str(r.randrange(0, 60))]
        if c == 12: return ["XPENDING", k, g]
        if c == 13: return ["XREAD", "COUNT", "4", "STREAMS", k, self.key("stream"), "0-0", "0-0"]
        if c == 14: return ["XAUTOCLAIM", k, g, "c9", "0", "0-0", "COUNT", "2", "JUSTID"]
        if self.det:
            return ["XGROUP", "CREATECONSUMER", k, g, f"c{r.randrange(5)}"]
        return r.choice([["XINFO", "STREAM", k], ["XINFO", "GROUPS", k],
                         ["XREADGROUP", "GROUP", g, "c1", "BLOCK", "50", "STREAMS", k, ">"],
                         ["XGROUP", "DESTROY", k, g], ["XPENDING", k, g, "-", "+", "5"]])

    def geo(self):
        r, k = self.r, self.key("geo")
        c = r.randrange(8)
        if c <= 2:
            a = ["GEOADD", k]
            for _ in range(r.randrange(1, 4)):
                a += [f"{r.uniform(-10, 10):.5f}", f"{r.uniform(40, 50):.5f}", self.member(80)]
            return a
        if c == 3: return ["GEODIST", k, self.member(80), self.member(80), r.choice(["m", "km"])]
        if c == 4: return ["GEOPOS", k, self.member(80), self.member(80)]
        if c == 5: return ["GEOHASH", k, self.member(80)]
        if c == 6:
            return ["GEOSEARCH", k, "FROMLONLAT", "0", "45", "BYRADIUS", str(r.randrange(100, 2000)), "km",
                    "ASC", "COUNT", "5", "WITHDIST"]
        return ["GEOSEARCHSTORE", self.key("geo"), k, "FROMLONLAT", "0", "45", "BYBOX", "1000", "1000", "km",
                "ASC", "COUNT", "10"]

    def keys(self):
        r = self.r
        fam = r.choice(FAMILIES)                       # RENAME/COPY/... within one family (see key())
        k, k2 = f"{fam}:{r.randrange(NKEYS)}", f"{fam}:{r.randrange(NKEYS)}"
        c = r.randrange(22)
        if c == 0: return ["DEL", k, self.key()]
        if c == 1: return ["EXISTS", k, k2]
        if c == 2: return ["TYPE", k]
        if c == 3: return ["RENAME", k, k2]
        if c == 4: return ["RENAMENX", k, k2]
        if c == 5: return ["COPY", k, k2] + r.choice([[], ["REPLACE"], ["DB", str(r.randrange(DBS)), "REPLACE"]])
        if c == 6: return ["MOVE", k, str(r.randrange(DBS))]
        if c == 7: return ["SELECT", str(r.randrange(DBS))]
        if c == 8: return ["EXPIREAT", k, self.future_ts()] + r.choice([[], ["NX"], ["GT"]])
        if c == 9: return ["PERSIST", k]
        if c == 10: return ["EXPIRETIME", k]
        if c == 11: return ["UNLINK", k]
        if c == 12: return ["EXPIREAT", k, "1000"]                      # in the past: deletes
        if c == 13: return ["SORT", self.key("list")] + r.choice([[], ["DESC"], ["LIMIT", "0", "5"]]) + ["ALPHA"]
        if c == 14: return ["SORT", self.key("set"), "ALPHA", "STORE", self.key("list")]
        if c == 15: return ["SORT_RO", self.key("zset"), "ALPHA", "DESC", "LIMIT", "1", "4"]
        if c == 16: return ["DBSIZE"]
        if c == 17: return ["OBJECT", "ENCODING", k] if not self.det else ["EXISTS", k]
        if c == 18: return ["SWAPDB", str(r.randrange(DBS)), str(r.randrange(DBS))]
        if c == 19: return ["TOUCH", k]
        if self.det:
            return ["PEXPIREAT", k, str(int(self.future_ts()) * 1000 + r.randrange(1000))]
        if c == 20:
            return r.choice([["EXPIRE", k, str(r.randrange(1, 5))], ["PEXPIRE", k, str(r.randrange(1, 3000))],
                             ["TTL", k], ["PTTL", k], ["RANDOMKEY"], ["OBJECT", "FREQ", k]])
        return r.choice([["SCAN", str(r.choice([0, r.randrange(1 << 12)])), "COUNT", "20"],
                         ["SCAN", "0", "MATCH", "list:*", "TYPE", "list"], ["KEYS", "geo:1*"],
                         ["SORT", self.key("list"), "BY", "nosort", "LIMIT", "0", "3"],
                         ["SORT", self.key("list"), "BY", "str:*", "GET", "#", "GET", "hash:1->m1"]])

    FAMILY_FUNCS = ["strings", "bitmaps", "hll", "lists", "sets", "zsets", "hashes", "streams", "geo", "keys"]

    def command(self):
        return getattr(self, self.r.choice(self.FAMILY_FUNCS))()

    def multi_block(self):
        return [["MULTI"]] + [self.command() for _ in range(self.r.randrange(1, 8))] + \
               [[self.r.choice(["EXEC", "EXEC", "EXEC", "DISCARD"])]]


def cmd_name(args):
    return args[0].upper()


# Replies whose order is unspecified (hash-table order): compared as sorted lists in phase B.
UNORDERED = {"SMEMBERS", "SINTER", "SUNION", "SDIFF", "HKEYS", "HVALS", "KEYS"}
PAIRED = {"HGETALL"}


# ---------------------------------------------------------------- phase A

class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.ops_a = 0
        self.ops_b = 0
        self.kills = 0
        self.pauses = 0
        self.configs = 0
        self.key_checks = 0
        self.keyspace_checks = 0
        self.reconnects = 0
        self.failures = []

    def fail(self, msg):
        with self.lock:
            if len(self.failures) < 20:
                self.failures.append(msg)
        print(f"soak: FAILURE: {msg}", flush=True)


class Worker(threading.Thread):
    def __init__(self, n, server, seed, stop, stats, killed):
        super().__init__(daemon=True, name=f"worker{n}")
        self.n = n
        self.server = server
        self.gen = Gen(random.Random(seed), det=False)
        self.stop = stop
        self.stats = stats
        self.killed = killed          # dict id -> True, filled by the chaos thread before it kills
        self.conn = None
        self.cid = None
        self.ops = 0
        self.errors = {}              # error replies by their first word (OOM, WRONGTYPE, ERR, ...)

    def connect(self):
        self.conn = redis.Connection(host="127.0.0.1", port=self.server.port, socket_timeout=30,
                                     socket_connect_timeout=10)
        self.conn.connect()
        self.conn.send_command("CLIENT", "SETNAME", f"soak-worker-{self.n}")
        self.conn.read_response()
        self.conn.send_command("CLIENT", "ID")
        self.cid = int(self.conn.read_response())

    def call(self, args):
        self.conn.send_command(*args)
        try:
            reply = self.conn.read_response()
        except redis.ResponseError as e:
            reply = e                  # any error reply is a reply
            kind = str(e).split(" ", 1)[0]
            self.errors[kind] = self.errors.get(kind, 0) + 1
        self.ops += 1
        return reply

    def trim_on_growth(self, args, reply):
        """Keeps values bounded: a list longer than 400 or a string longer than 20000 bytes is cut."""
        name = cmd_name(args)
        if isinstance(reply, int):
            if name in ("LPUSH", "RPUSH", "LPUSHX", "RPUSHX") and reply > 400:
                self.call(["LTRIM", args[1], "0", "199"])
            elif name in ("APPEND", "SETRANGE") and reply > 20000:
                self.call(["SET", args[1], "short"])

    def run(self):
        while not self.stop.is_set():
            try:
                if self.conn is None:
                    self.connect()
                while not self.stop.is_set():
                    if self.gen.r.random() < 0.08:
                        for args in self.gen.multi_block():
                            self.call(args)
                    else:
                        args = self.gen.command()
                        self.trim_on_growth(args, self.call(args))
            except (redis.ConnectionError, redis.TimeoutError, OSError) as e:
                cid = self.cid
                # the chaos thread marks an id before killing it
                if cid is not None and self.killed.get(cid):
                    with self.stats.lock:
                        self.stats.reconnects += 1
                elif self.stop.is_set():
                    pass
                else:
                    self.stats.fail(f"worker {self.n} (client id {cid}): connection error not caused by a "
                                    f"kill: {type(e).__name__}: {e}")
                    self.stop.set()
                try:
                    self.conn.disconnect()
                except Exception:
                    pass
                self.conn, self.cid = None, None
            except Exception as e:      # a protocol-level failure (InvalidResponse, ...) or a bug here
                self.stats.fail(f"worker {self.n}: {type(e).__name__}: {e}\n{traceback.format_exc()}")
                self.stop.set()
        if self.conn is not None:
            self.conn.disconnect()


class Chaos(threading.Thread):
    """CLIENT KILL / CLIENT PAUSE / CONFIG SET of limits at random, a few times a second."""

    def __init__(self, server, seed, stop, stats, killed, workers):
        super().__init__(daemon=True, name="chaos")
        self.server, self.rng, self.stop, self.stats = server, random.Random(seed), stop, stats
        self.killed, self.workers = killed, workers

    def config_change(self):
        r = self.rng
        c = r.randrange(7)
        if c == 0: return ["maxmemory", r.choice(MAXMEMORY)]
        if c == 1: return ["maxmemory-policy", r.choice(POLICIES)]
        if c == 2: return ["list-max-listpack-size", str(r.choice([-2, -1, -3, 4, 16, 128]))]
        if c == 3: return ["hash-max-listpack-entries", str(r.choice([0, 2, 16, 128, 512]))]
        if c == 4:
            return ["client-output-buffer-limit",
                    r.choice(["normal 0 0 0", "normal 64mb 32mb 10", "normal 256mb 128mb 60"])]
        if c == 5: return ["timeout", "0"]
        return ["maxmemory-policy", r.choice(POLICIES)]

    def run(self):
        r = self.rng
        try:
            c = self.server.client()
            while not self.stop.wait(r.uniform(0.05, 0.4)):
                x = r.random()
                if x < 0.25:
                    live = [w for w in self.workers if w.cid is not None]
                    if live:
                        w = r.choice(live)
                        cid = w.cid
                        self.killed[cid] = True
                        try:
                            c.execute_command("CLIENT", "KILL", "ID", str(cid))
                            with self.stats.lock:
                                self.stats.kills += 1
                        except redis.ResponseError:
                            pass       # already gone (it reconnected under another id)
                elif x < 0.45:
                    c.execute_command("CLIENT", "PAUSE", str(r.randrange(1, 20)), r.choice(["WRITE", "ALL"]))
                    with self.stats.lock:
                        self.stats.pauses += 1
                else:
                    name, value = self.config_change()
                    c.execute_command("CONFIG", "SET", name, value)
                    with self.stats.lock:
                        self.stats.configs += 1
            c.close()
        except Exception as e:
            if not self.stop.is_set():
                self.stats.fail(f"chaos thread: {type(e).__name__}: {e}")
                self.stop.set()


class Checker(threading.Thread):
    """DEBUG CHECK-KEY on random keys of every database, DEBUG CHECK-KEYSPACE every few seconds."""

    def __init__(self, server, seed, stop, stats):
        super().__init__(daemon=True, name="checker")
        self.server, self.rng, self.stop, self.stats = server, random.Random(seed), stop, stats

    def run(self):
        r = self.rng
        try:
            clients = [self.server.client(db=d) for d in range(DBS)]
            last_full = time.time()
            while not self.stop.wait(0.01):
                c = r.choice(clients)
                key = f"{r.choice(FAMILIES)}:{r.randrange(NKEYS)}"
                if c.exists(key):
                    try:
                        assert_key_ok(c, key)
                    except AssertionError as e:
                        if "no such key" not in str(e):          # deleted or evicted meanwhile
                            raise
                    with self.stats.lock:
                        self.stats.key_checks += 1
                if time.time() - last_full > 3:
                    assert_keyspace_ok(clients[0])
                    last_full = time.time()
                    with self.stats.lock:
                        self.stats.keyspace_checks += 1
            for c in clients:
                c.close()
        except AssertionError as e:
            self.stats.fail(f"structure check: {e}")
            self.stop.set()
        except Exception as e:
            if not self.stop.is_set():
                self.stats.fail(f"checker thread: {type(e).__name__}: {e}")
                self.stop.set()


def final_checks(server, stats):
    """After phase A: CHECK-KEYSPACE, then CHECK-KEY on every key of every database."""
    for d in range(DBS):
        c = server.client(db=d, socket_timeout=120)
        if d == 0:
            assert_keyspace_ok(c)
            stats.keyspace_checks += 1
        for key in c.scan_iter(count=200):
            try:
                assert_key_ok(c, key)
            except AssertionError as e:
                if "no such key" not in str(e):
                    raise
            stats.key_checks += 1
        c.close()


def stop_server(server, stats, what, keep_dir):
    """FLUSHALL SYNC, SIGTERM and wait; fails on an unclean exit or a sanitizer line in the log.  The
    log is copied to keep_dir on failure.  Returns the log text.

    Why FLUSHALL first: entries live in the arena (mem/arena.h), an mmap'd region LeakSanitizer does not
    scan, at unaligned addresses, so every heap value still in the keyspace at exit would be reported as
    a leak.  After FLUSHALL every value must have been freed through the server's own paths, and any
    leak LSan reports is a real one."""
    proc = server.proc
    died_early = proc.poll() is not None
    if not died_early:
        try:
            c = server.client(socket_timeout=120)
            c.execute_command("CLIENT", "UNPAUSE")
            c.execute_command("FLUSHALL", "SYNC")
            c.close()
        except Exception as e:
            stats.fail(f"{what}: FLUSHALL before shutdown: {type(e).__name__}: {e}")
        proc.terminate()
        try:
            proc.wait(60)
        except Exception:
            proc.kill()
            proc.wait()
            stats.fail(f"{what}: did not exit within 60 s of SIGTERM")
    log = server.read_log()
    bad = [ln for ln in log.splitlines() if SANITIZER_RE.search(ln)]
    failed = False
    if died_early:
        stats.fail(f"{what}: exited during the run with status {proc.returncode}")
        failed = True
    elif proc.returncode not in (0,):
        stats.fail(f"{what}: exit status {proc.returncode} after SIGTERM")
        failed = True
    if bad:
        stats.fail(f"{what}: sanitizer/crash lines in its log: {bad[:5]}")
        failed = True
    if failed:
        os.makedirs(keep_dir, exist_ok=True)
        dest = os.path.join(keep_dir, f"{what}.log")
        shutil.copy(server.logfile, dest)
        print(f"soak: {what} log kept in {dest}", flush=True)
    server.log.close()
    shutil.rmtree(server.dir, ignore_errors=True)
    return log


def phase_a(args, stats, seconds, keep_dir):
    srv = Server(args.server, ["--maxmemory", "16mb", "--maxmemory-policy", "allkeys-lru",
                               "--databases", "16"] + args.sardine_args, "sardine")
    print(f"soak: phase A: {args.clients} clients for {seconds:.0f}s against {args.server} "
          f"(port {srv.port}, seed {args.seed})", flush=True)
    stop = threading.Event()
    killed = {}
    workers = [Worker(i, srv, args.seed * 1000 + i, stop, stats, killed) for i in range(args.clients)]
    chaos = Chaos(srv, args.seed * 1000 + 999, stop, stats, killed, workers)
    checker = Checker(srv, args.seed * 1000 + 998, stop, stats)
    threads = workers + [chaos, checker]
    t0 = time.time()
    for t in threads:
        t.start()
    last = t0
    while not stop.wait(1.0):
        if srv.proc.poll() is not None:
            stats.fail(f"phase A: sardine-server exited with status {srv.proc.returncode}")
            stop.set()
            break
        now = time.time()
        if now - t0 >= seconds:
            break
        if now - last >= 60:
            last = now
            ops = sum(w.ops for w in workers)
            print(f"soak: phase A {now - t0:.0f}s: {ops} ops, {stats.kills} kills, {stats.pauses} pauses, "
                  f"{stats.configs} config sets, {stats.key_checks} key checks", flush=True)
    stop.set()
    for t in threads:
        t.join(60)
        if t.is_alive():
            stats.fail(f"phase A: thread {t.name} did not stop (server hung?)")
    elapsed = time.time() - t0
    stats.ops_a = sum(w.ops for w in workers)
    errors = {}
    for w in workers:
        for kind, n in w.errors.items():
            errors[kind] = errors.get(kind, 0) + n
    print(f"soak: phase A error replies (accepted): "
          f"{', '.join(f'{k} {n}' for k, n in sorted(errors.items(), key=lambda x: -x[1]))}", flush=True)
    if srv.proc.poll() is None and not stats.failures:
        try:
            c = srv.client(socket_timeout=60)
            c.execute_command("CLIENT", "UNPAUSE")
            c.config_set("maxmemory", "0")
            info = c.info("memory")
            print(f"soak: phase A end: used_memory {info.get('used_memory_human')}, "
                  f"dbsize {c.dbsize()}", flush=True)
            c.close()
            final_checks(srv, stats)
        except AssertionError as e:
            stats.fail(f"final structure check: {e}")
        except Exception as e:
            stats.fail(f"phase A final checks: {type(e).__name__}: {e}")
    stop_server(srv, stats, "phase-a-sardine", keep_dir)
    return elapsed


# ---------------------------------------------------------------- phase B

def normalize(args, reply, queued=()):
    """The reply in a comparable form: errors as text, set-like replies sorted, EXEC's replies each
    normalised by the command queued for it."""
    name = cmd_name(args)
    if isinstance(reply, redis.ResponseError):      # redis-py strips some codes (ERR, EXECABORT)
        return ("error", type(reply).__name__, str(reply))
    if name == "EXEC" and isinstance(reply, list) and len(reply) == len(queued):
        return [normalize(q, x) for q, x in zip(queued, reply)]
    if name in UNORDERED and isinstance(reply, list):
        return sorted(reply)
    if name in PAIRED and isinstance(reply, list):
        return sorted(zip(reply[0::2], reply[1::2]))
    return reply


def call_raw(conn, args):
    conn.send_command(*args)
    try:
        return conn.read_response()
    except redis.ResponseError as e:
        return e


def digest_diff(sconn, rconn):
    """Names the keys whose DEBUG DIGEST-VALUE differ (every database used)."""
    out = []
    for d in range(DBS):
        for conn in (sconn, rconn):
            call_raw(conn, ["SELECT", str(d)])
        keys = set(call_raw(sconn, ["KEYS", "*"])) | set(call_raw(rconn, ["KEYS", "*"]))
        for k in sorted(keys):
            a = call_raw(sconn, ["DEBUG", "DIGEST-VALUE", k])
            b = call_raw(rconn, ["DEBUG", "DIGEST-VALUE", k])
            if normalize(["X"], a) != normalize(["X"], b):
                out.append(f"db{d}:{k!r}")
    return out


DIGEST_EVERY = 500
B_CONFIG = ["--list-max-listpack-size", "8", "--hash-max-listpack-entries", "16",
            "--set-max-intset-entries", "64", "--zset-max-listpack-entries", "32", "--maxmemory", "0"]


def phase_b(args, stats, seconds, keep_dir):
    sard = Server(args.server, B_CONFIG + args.sardine_args, "sardine")
    orac = Server(args.oracle, B_CONFIG, "redis")
    print(f"soak: phase B: deterministic stream for {seconds:.0f}s, sardine port {sard.port}, "
          f"redis-server port {orac.port}, seed {args.seed}", flush=True)
    ver = orac.client().info("server").get("redis_version", "")
    if not str(ver).startswith(harness.ORACLE_SERIES):
        stats.fail(f"phase B: oracle is redis {ver}, not {harness.ORACLE_SERIES}x")
    gen = Gen(random.Random(args.seed * 7 + 1), det=True)
    conns = []
    for s in (sard, orac):
        cn = redis.Connection(host="127.0.0.1", port=s.port, socket_timeout=30)
        cn.connect()
        conns.append(cn)
    sconn, rconn = conns
    t0 = time.time()
    ops = 0
    mismatches = 0
    recent = []
    next_digest = DIGEST_EVERY
    try:
        while time.time() - t0 < seconds and not stats.failures:
            batch = gen.multi_block() if gen.r.random() < 0.08 else [gen.command()]
            queued = []
            for a in batch:
                ra, rb = call_raw(sconn, a), call_raw(rconn, a)
                ops += 1
                recent.append(a)
                recent = recent[-20:]
                if args.break_phase_b and ops == 100:        # self-check: one write Redis never sees
                    call_raw(sconn, ["SET", "str:0", "soak-selfcheck"])
                if rb == b"QUEUED":
                    queued.append(a)
                na, nb = normalize(a, ra, queued), normalize(a, rb, queued)
                if na != nb:
                    mismatches += 1
                    stats.fail(f"phase B reply differs at op {ops}: {a!r}: sardine {na!r} != redis {nb!r}")
                    break
            if stats.failures:
                break
            if ops >= next_digest:
                next_digest += DIGEST_EVERY
                da = call_raw(sconn, ["DEBUG", "DIGEST"])
                db = call_raw(rconn, ["DEBUG", "DIGEST"])
                with stats.lock:
                    stats.keyspace_checks += 1
                if da != db:
                    stats.fail(f"phase B DEBUG DIGEST differs after op {ops}: {da!r} != {db!r}; keys: "
                               f"{digest_diff(sconn, rconn)[:20]}; last commands: {recent[-5:]}")
                    break
        if not stats.failures:
            da = call_raw(sconn, ["DEBUG", "DIGEST"])
            db = call_raw(rconn, ["DEBUG", "DIGEST"])
            if da != db:
                stats.fail(f"phase B final DEBUG DIGEST differs: {da!r} != {db!r}; keys: "
                           f"{digest_diff(sconn, rconn)[:20]}")
            else:
                print(f"soak: phase B final DEBUG DIGEST equal: {da.decode() if isinstance(da, bytes) else da}",
                      flush=True)
            c = sard.client(socket_timeout=120)
            assert_keyspace_ok(c)
            stats.keyspace_checks += 1
            c.close()
    except AssertionError as e:
        stats.fail(f"phase B structure check: {e}")
    except Exception as e:
        stats.fail(f"phase B: {type(e).__name__}: {e}\n{traceback.format_exc()}")
    for cn in conns:
        cn.disconnect()
    stats.ops_b = ops
    elapsed = time.time() - t0
    stop_server(sard, stats, "phase-b-sardine", keep_dir)
    orac.proc.terminate()
    orac.proc.wait(30)
    orac.log.close()
    shutil.rmtree(orac.dir, ignore_errors=True)
    return elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--server", default=harness.SARDINE_SERVER)
    ap.add_argument("--oracle", default=harness.REDIS_SERVER)
    ap.add_argument("--det-fraction", type=float, default=0.2)
    ap.add_argument("--keep-dir", default=None, help="where failing servers' logs go")
    ap.add_argument("--sardine-args", default="", type=lambda v: v.split(),
                    help="extra arguments for every Sardine, e.g. '--value-compression zstd'")
    ap.add_argument("--break-phase-b", action="store_true",
                    help="self-check: send one extra write to Sardine only in phase B; the run must FAIL")
    args = ap.parse_args()
    if args.seed is None:
        args.seed = int(time.time()) % 100000
    args.server = os.path.abspath(args.server)
    keep_dir = args.keep_dir or f"/tmp/sardine-soak-{args.seed}"
    stats = Stats()
    t0 = time.time()
    sec_b = args.seconds * args.det_fraction
    sec_a = args.seconds - sec_b
    print(f"soak: seed {args.seed} (rerun with --seed {args.seed}), {args.seconds:.0f}s total", flush=True)
    ta = phase_a(args, stats, sec_a, keep_dir)
    tb = 0.0
    if not stats.failures:
        tb = phase_b(args, stats, sec_b, keep_dir)
    total = time.time() - t0
    summary = (f"soak: {total:.0f}s run (phase A {ta:.0f}s, phase B {tb:.0f}s), seed {args.seed}; "
               f"ops: phase A {stats.ops_a}, phase B {stats.ops_b}; kills {stats.kills} "
               f"(reconnects {stats.reconnects}), pauses {stats.pauses}, config sets {stats.configs}, "
               f"checks: {stats.key_checks} CHECK-KEY, {stats.keyspace_checks} CHECK-KEYSPACE/DIGEST; ")
    if stats.failures:
        print(summary + "soak: FAIL " + " | ".join(f.splitlines()[0] for f in stats.failures), flush=True)
        sys.exit(1)
    print(summary + "soak: PASS", flush=True)


if __name__ == "__main__":
    main()
