"""ACL users (Redis 7.0): every rule, categories, AUTH/HELLO, NOPERM checks at dispatch, in MULTI and in
scripts, ACL LOG, users changed or deleted while connected, ACL SAVE/LOAD, `user` lines and aclfile in the
config, requirepass as the default user's password, CLIENT LIST/KILL USER, redaction in SLOWLOG, and bad
input (long names and rules, malformed files, AUTH floods).

Texts compared are Redis 7.0's; where a reply is compared with the oracle the test says so.
"""
import os
import socket
import subprocess
import time

import pytest

from sardine_resp import Err, Raw

NOPERM_CMD = "NOPERM this user has no permissions to run the '{}' command"
NOPERM_KEY = "NOPERM this user has no permissions to access one of the keys used as arguments"
NOPERM_CHAN = "NOPERM this user has no permissions to access one of the channels used as arguments"
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."


def login(server, user, password):
    c = Raw(server.port)
    assert c.cmd("AUTH", user, password) == "OK"
    return c


def getuser(c, name):
    v = c.cmd("ACL", "GETUSER", name)
    return None if v is None else {v[i].decode(): v[i + 1] for i in range(0, len(v), 2)}


def test_default_user_and_list(sardine):
    c = Raw(sardine.port)
    assert c.cmd("ACL", "LIST") == [b"user default on nopass ~* &* +@all"]
    assert c.cmd("ACL", "USERS") == [b"default"]
    assert c.cmd("ACL", "WHOAMI") == b"default"
    u = getuser(c, "default")
    assert u["flags"] == [b"on", b"nopass"]
    assert u["passwords"] == [] and u["commands"] == b"+@all" and u["keys"] == b"~*" and u["channels"] == b"&*"
    assert u["selectors"] == []
    assert c.cmd("ACL", "GETUSER", "nobody") is None


def test_new_user_is_off_and_rules_compose(sardine):
    c = Raw(sardine.port)
    assert c.cmd("ACL", "SETUSER", "bob") == "OK"
    assert c.cmd("ACL", "LIST")[0] == b"user bob off resetchannels -@all"
    assert c.cmd("ACL", "SETUSER", "bob", "on", ">pw", "~k*", "%R~r*", "%W~w*", "&ch", "+@string", "-append") == "OK"
    line = c.cmd("ACL", "LIST")[0].decode()
    assert line.startswith("user bob on #")
    assert line.endswith(" ~k* %R~r* %W~w* resetchannels &ch -@all +@string -append")
    # %RW~ is both permissions, shown as ~
    assert c.cmd("ACL", "SETUSER", "bob", "%RW~both") == "OK"
    assert getuser(c, "bob")["keys"] == b"~k* %R~r* %W~w* ~both"
    # a pattern added again gains the permissions
    assert c.cmd("ACL", "SETUSER", "bob", "%W~r*") == "OK"
    assert getuser(c, "bob")["keys"] == b"~k* ~r* %W~w* ~both"
    assert c.cmd("ACL", "SETUSER", "bob", "resetkeys", "allkeys", "allchannels", "allcommands") == "OK"
    u = getuser(c, "bob")
    assert (u["keys"], u["channels"], u["commands"]) == (b"~*", b"&*", b"+@all")
    assert c.cmd("ACL", "SETUSER", "bob", "nocommands", "resetchannels", "resetkeys") == "OK"
    u = getuser(c, "bob")
    assert (u["keys"], u["channels"], u["commands"]) == (b"", b"", b"-@all")
    assert c.cmd("ACL", "SETUSER", "bob", "reset") == "OK"
    assert c.cmd("ACL", "LIST")[0] == b"user bob off sanitize-payload resetchannels -@all"
    assert c.cmd("ACL", "SETUSER", "bob", "skip-sanitize-payload") == "OK"
    assert getuser(c, "bob")["flags"] == [b"off", b"skip-sanitize-payload"]


def test_passwords(sardine):
    c = Raw(sardine.port)
    h = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"  # sha256("password")
    assert c.cmd("ACL", "SETUSER", "p", "on", ">password", "#" + h, ">other") == "OK"
    assert getuser(c, "p")["passwords"][0] == h.encode()
    assert len(getuser(c, "p")["passwords"]) == 2  # the same hash once
    assert c.cmd("ACL", "SETUSER", "p", "<other") == "OK"
    assert getuser(c, "p")["passwords"] == [h.encode()]
    assert c.cmd("ACL", "SETUSER", "p", "<nothere") == Err(
        "ERR Error in ACL SETUSER modifier '<nothere': The password you are trying to remove from the user does not exist")
    assert c.cmd("ACL", "SETUSER", "p", "#abc").msg.endswith(
        "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")
    assert c.cmd("ACL", "SETUSER", "p", "#" + h.upper()).code == "ERR"
    assert c.cmd("ACL", "SETUSER", "p", "!" + h) == "OK"
    assert getuser(c, "p")["passwords"] == []
    assert c.cmd("ACL", "SETUSER", "p", ">x", "nopass") == "OK"
    assert getuser(c, "p")["flags"] == [b"on", b"nopass"] and getuser(c, "p")["passwords"] == []
    d = Raw(sardine.port)
    assert d.cmd("AUTH", "p", "anything") == "OK"
    assert c.cmd("ACL", "SETUSER", "p", "resetpass") == "OK"
    assert getuser(c, "p")["flags"] == [b"on"]
    assert Raw(sardine.port).cmd("AUTH", "p", "anything") == Err(WRONGPASS)


def test_setuser_errors_are_all_or_nothing(sardine):
    c = Raw(sardine.port)
    assert c.cmd("ACL", "SETUSER", "e", "on", "+get") == "OK"
    before = c.cmd("ACL", "LIST")
    cases = {
        "+nosuchcmd": "Unknown command or category name in ACL",
        "-@nosuchcat": "Unknown command or category name in ACL",
        "+@": "Unknown command or category name in ACL",
        "+": "Unknown command or category name in ACL",
        "bogus": "Syntax error",
        "~a b": "Syntax error",
        "%X~a": "Syntax error",
        "+select|": "Syntax error",
        "+config|get|x": "Allowing first-arg of a subcommand is not supported",
        "+config|nosub": "Unknown command or category name in ACL",
    }
    for rule, msg in cases.items():
        assert c.cmd("ACL", "SETUSER", "e", "+set", rule) == Err(f"ERR Error in ACL SETUSER modifier '{rule}': {msg}")
    assert c.cmd("ACL", "SETUSER", "e", "~*", "~x").msg.endswith(
        "Try 'resetkeys' to start with an empty list of patterns")
    assert c.cmd("ACL", "SETUSER", "e", "&*", "&x").msg.endswith(
        "Try 'resetchannels' to start with an empty list of channels")
    assert c.cmd("ACL", "SETUSER", "e", "(+get", "~x") == Err(
        "ERR Unmatched parenthesis in acl selector starting at '(+get'.")
    assert c.cmd("ACL", "SETUSER", "e", "(on)") == Err("ERR Error in ACL SETUSER modifier '(on)': Syntax error")
    assert c.cmd("ACL", "SETUSER", "a b") == Err("ERR Usernames can't contain spaces or null characters")
    assert c.cmd("ACL", "SETUSER", "a\x00b") == Err("ERR Usernames can't contain spaces or null characters")
    assert c.cmd("ACL", "LIST") == before
    assert c.cmd("ACL", "SETUSER", "newguy", "+nosuchcmd").code == "ERR"
    assert c.cmd("ACL", "GETUSER", "newguy") is None  # a failed SETUSER creates nothing


def test_command_rules_and_subcommands(sardine):
    c = Raw(sardine.port)
    assert c.cmd("ACL", "SETUSER", "u", "on", "nopass", "allkeys", "-@all", "+get", "+config|get",
                 "+client", "-client|kill", "+select|0", "+object|encoding") == "OK"
    u = login(sardine, "u", "x")
    assert u.cmd("SET", "a", "1") == Err(NOPERM_CMD.format("set"))
    assert u.cmd("GET", "a") is None
    assert u.cmd("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"0"]
    assert u.cmd("CONFIG", "SET", "maxmemory", "0") == Err(NOPERM_CMD.format("config|set"))
    assert u.cmd("CLIENT", "ID") > 0
    assert u.cmd("CLIENT", "KILL", "ID", "999999") == Err(NOPERM_CMD.format("client|kill"))
    assert u.cmd("SELECT", "0") == "OK"
    assert u.cmd("SELECT", "1") == Err(NOPERM_CMD.format("select"))
    assert u.cmd("OBJECT", "FREQ", "a") == Err(NOPERM_CMD.format("object|freq"))
    # no-auth commands are always allowed
    assert u.cmd("AUTH", "u", "y") == "OK"
    assert u.cmd("HELLO", "2")[0] == b"server"
    line = c.cmd("ACL", "LIST")[1].decode()
    assert "+select|0" in line and "+config|get" in line and "-client|kill" in line


@pytest.mark.parametrize("cat", ["keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
                                 "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
                                 "blocking", "dangerous", "connection", "transaction", "scripting"])
def test_category_rules_follow_acl_cat(sardine, cat):
    c = Raw(sardine.port)
    members = set(c.cmd("ACL", "CAT", cat))
    assert members
    assert c.cmd("ACL", "SETUSER", "cu", "on", "nopass", "~*", "&*", "-@all", f"+@{cat}") == "OK"
    assert getuser(c, "cu")["commands"] == f"-@all +@{cat}".encode()
    for name in sorted(members)[:40]:
        n = name.decode()
        parts = n.split("|")
        dry = c.cmd("ACL", "DRYRUN", "cu", *parts, *(["x"] * 6))
        if isinstance(dry, Err):  # arity: try the exact number the definitions allow
            continue
        assert dry == "OK", (n, dry)
    assert c.cmd("ACL", "SETUSER", "cu", f"-@{cat}") == "OK"
    assert getuser(c, "cu")["commands"] == b"-@all"
    # COMMAND INFO's categories name this category for each member
    for name in sorted(members)[:20]:
        info = c.cmd("COMMAND", "INFO", name.decode())
        if info and info[0]:
            assert f"@{cat}" in [x if isinstance(x, str) else x.decode() for x in info[0][6]], name


def test_acl_cat_lists(sardine):
    c = Raw(sardine.port)
    assert c.cmd("ACL", "CAT") == [x.encode() for x in (
        "keyspace read write set sortedset list hash string bitmap hyperloglog geo stream pubsub admin fast slow "
        "blocking dangerous connection transaction scripting").split()]
    assert c.cmd("ACL", "CAT", "nope") == Err("ERR Unknown category 'nope'")
    assert b"get" in c.cmd("ACL", "CAT", "READ")
    assert b"config|set" in c.cmd("ACL", "CAT", "admin")
    assert b"client|no-touch" not in c.cmd("ACL", "CAT", "connection")  # a 7.2 command


def test_key_permissions_read_write(sardine):
    c = Raw(sardine.port)
    assert c.cmd("ACL", "SETUSER", "k", "on", "nopass", "+@all", "resetkeys", "~rw*", "%R~r:*", "%W~w:*") == "OK"
    u = login(sardine, "k", "x")
    assert u.cmd("SET", "rw1", "v") == "OK"
    assert u.cmd("GET", "r:1") is None
    assert u.cmd("SET", "r:1", "v") == Err(NOPERM_KEY)
    assert u.cmd("SET", "w:1", "v") == "OK"
    assert u.cmd("GET", "w:1") == Err(NOPERM_KEY)
    assert u.cmd("COPY", "r:1", "w:2") == 0  # read the source, write the destination
    assert u.cmd("COPY", "w:1", "r:2") == Err(NOPERM_KEY)
    assert u.cmd("MSET", "rw2", "a", "other", "b") == Err(NOPERM_KEY)
    assert u.cmd("EXISTS", "r:1") == 0
    assert u.cmd("DEL", "r:1") == Err(NOPERM_KEY)
    assert c.cmd("ACL", "DRYRUN", "k", "set", "r:1", "v") == b"This user has no permissions to access the 'r:1' key"
    assert c.cmd("ACL", "DRYRUN", "k", "get", "w:1") == b"This user has no permissions to access the 'w:1' key"
    assert c.cmd("ACL", "DRYRUN", "k", "get", "rw9") == "OK"


def test_channels(sardine):
    c = Raw(sardine.port)
    assert c.cmd("ACL", "SETUSER", "ch", "on", "nopass", "+@all", "~*", "resetchannels", "&news.*", "&lit") == "OK"
    u = login(sardine, "ch", "x")
    assert u.cmd("PUBLISH", "news.a", "m") == 0
    assert u.cmd("PUBLISH", "sports", "m") == Err(NOPERM_CHAN)
    assert u.cmd("SUBSCRIBE", "sports") == Err(NOPERM_CHAN)
    assert u.cmd("PSUBSCRIBE", "news.x") == Err(NOPERM_CHAN)  # a pattern must be allowed literally
    assert u.cmd("SPUBLISH", "lit", "m") == 0
    assert c.cmd("ACL", "DRYRUN", "ch", "subscribe", "news.a", "bad") == \
        b"This user has no permissions to access the 'bad' channel"
    assert u.cmd("PSUBSCRIBE", "news.*") == [b"psubscribe", b"news.*", 1]
    # acl-pubsub-default allchannels gives new users &*
    assert c.cmd("CONFIG", "SET", "acl-pubsub-default", "allchannels") == "OK"
    assert c.cmd("ACL", "SETUSER", "ch2") == "OK"
    assert getuser(c, "ch2")["channels"] == b"&*"
    assert c.cmd("CONFIG", "GET", "acl-pubsub-default") == [b"acl-pubsub-default", b"allchannels"]


def test_shrinking_channels_closes_pubsub_clients(sardine):
    c = Raw(sardine.port)
    assert c.cmd("ACL", "SETUSER", "ps", "on", "nopass", "+@all", "~*", "&a", "&b") == "OK"
    sub = login(sardine, "ps", "x")
    assert sub.cmd("SUBSCRIBE", "a") == [b"subscribe", b"a", 1]
    other = login(sardine, "ps", "x")  # not subscribed: kept
    assert c.cmd("ACL", "SETUSER", "ps", "&c") == "OK"  # a superset: nothing closed
    assert sub.cmd("PING") == [b"pong", b""]
    assert c.cmd("ACL", "SETUSER", "ps", "resetchannels", "&b") == "OK"
    assert sub.read_until_closed() is not None
    assert other.cmd("PING") == "PONG"


def test_shrinking_channels_keeps_clients_still_allowed(sardine):
    """Only the subscribers to a channel or pattern no longer allowed are closed: each subscription's name
    is checked against the new channel rules (a literal pattern must be allowed as such)."""
    c = Raw(sardine.port)
    assert c.cmd("ACL", "SETUSER", "ps", "on", "nopass", "+@all", "~*", "&a", "&b", "&p*") == "OK"
    keep = login(sardine, "ps", "x")
    assert keep.cmd("SUBSCRIBE", "b") == [b"subscribe", b"b", 1]
    assert keep.cmd("PSUBSCRIBE", "p*") == [b"psubscribe", b"p*", 2]
    gone = login(sardine, "ps", "x")
    assert gone.cmd("SUBSCRIBE", "a") == [b"subscribe", b"a", 1]
    pat = login(sardine, "ps", "x")
    assert pat.cmd("PSUBSCRIBE", "p*") == [b"psubscribe", b"p*", 1]
    assert c.cmd("ACL", "SETUSER", "ps", "resetchannels", "&b", "&p*") == "OK"
    assert gone.read_until_closed() is not None
    assert keep.cmd("PING") == [b"pong", b""]
    assert pat.cmd("PING") == [b"pong", b""]
    assert c.cmd("ACL", "SETUSER", "ps", "resetchannels", "&b", "&pq") == "OK"  # p* matches pq, but is not p*
    assert keep.read_until_closed() is not None
    assert pat.read_until_closed() is not None


def test_selectors(sardine):
    c = Raw(sardine.port)
    assert c.cmd("ACL", "SETUSER", "s", "on", "nopass", "+get", "~a*", "(+set ~b*)", "(", "+hset", "~h*", ")") == "OK"
    u = getuser(c, "s")
    assert len(u["selectors"]) == 2
    sel = {u["selectors"][0][i].decode(): u["selectors"][0][i + 1] for i in range(0, 6, 2)}
    assert sel == {"commands": b"-@all +set", "keys": b"~b*", "channels": b""}
    assert c.cmd("ACL", "LIST")[1].endswith(b" (~b* resetchannels -@all +set) (~h* resetchannels -@all +hset)")
    s = login(sardine, "s", "x")
    assert s.cmd("GET", "a1") is None
    assert s.cmd("SET", "b1", "v") == "OK"
    assert s.cmd("SET", "a1", "v") == Err(NOPERM_KEY)  # the selector allowing SET does not allow a1
    assert s.cmd("GET", "b1") == Err(NOPERM_KEY)
    assert s.cmd("DEL", "a1") == Err(NOPERM_CMD.format("del"))
    assert c.cmd("ACL", "SETUSER", "s", "clearselectors") == "OK"
    assert getuser(c, "s")["selectors"] == []
    assert s.cmd("SET", "b1", "v") == Err(NOPERM_CMD.format("set"))


def test_auth_and_hello(sardine):
    c = Raw(sardine.port)
    assert c.cmd("AUTH", "pw") == Err("ERR AUTH <password> called without any password configured for the default "
                                      "user. Are you sure your configuration is correct?")
    assert c.cmd("AUTH", "a", "b", "c") == Err("ERR syntax error")
    assert c.cmd("ACL", "SETUSER", "h", "on", ">hp", "+@all", "~*") == "OK"
    assert c.cmd("AUTH", "h", "bad") == Err(WRONGPASS)
    assert c.cmd("AUTH", "nouser", "bad") == Err(WRONGPASS)
    assert c.cmd("ACL", "SETUSER", "off", "off", ">x") == "OK"
    assert c.cmd("AUTH", "off", "x") == Err(WRONGPASS)
    d = Raw(sardine.port)
    assert d.cmd("HELLO", "3", "AUTH", "h", "bad") == Err(WRONGPASS)
    r = d.cmd("HELLO", "3", "AUTH", "h", "hp", "SETNAME", "n")
    assert r.dict()[b"proto"] == 3
    assert d.cmd("ACL", "WHOAMI") == b"h"
    assert b"user=h" in d.cmd("CLIENT", "INFO")
    assert d.cmd("RESET") == "RESET"
    assert d.cmd("ACL", "WHOAMI") == b"default"


def test_requirepass_is_the_default_users_password(make_sardine):
    s = make_sardine("--requirepass", "sekret")
    c = Raw(s.port)
    assert c.cmd("GET", "x") == Err("NOAUTH Authentication required.")
    assert c.cmd("AUTH", "wrong") == Err(WRONGPASS)
    assert c.cmd("AUTH", "sekret") == "OK"
    h = c.cmd("ACL", "GETUSER", "default")
    assert h[1] == [b"on"] and len(h[3]) == 1
    assert c.cmd("CONFIG", "SET", "requirepass", "other") == "OK"
    d = Raw(s.port)
    assert d.cmd("AUTH", "default", "other") == "OK"
    assert Raw(s.port).cmd("AUTH", "sekret") == Err(WRONGPASS)
    assert c.cmd("CONFIG", "SET", "requirepass", "") == "OK"
    assert c.cmd("ACL", "LIST") == [b"user default on nopass ~* &* +@all"]
    # a client that never authenticated is in once the default user needs no password
    e = Raw(s.port)
    assert e.cmd("PING") == "PONG"
    # the default user itself can be given a password through ACL SETUSER
    assert c.cmd("ACL", "SETUSER", "default", ">pw2") == "OK"
    assert Raw(s.port).cmd("GET", "x") == Err("NOAUTH Authentication required.")


def test_multi_checks_at_queue_time_and_exec(sardine):
    c = Raw(sardine.port)
    assert c.cmd("ACL", "SETUSER", "m", "on", "nopass", "+@all", "~*") == "OK"
    u = login(sardine, "m", "x")
    assert u.cmd("MULTI") == "OK"
    assert u.cmd("SET", "a", "1") == "QUEUED"
    assert c.cmd("ACL", "SETUSER", "m", "-set") == "OK"
    assert u.cmd("GET", "a") == "QUEUED"
    res = u.cmd("EXEC")
    assert res[0] == Err("NOPERM ACLs rules changed between the moment the transaction was accumulated and the "
                         "EXEC call. This command is no longer allowed for the following reason: no permission to "
                         "execute the command or subcommand")
    assert res[1] is None
    assert u.cmd("MULTI") == "OK"
    assert u.cmd("SET", "a", "1") == Err(NOPERM_CMD.format("set"))
    assert u.cmd("EXEC") == Err("EXECABORT Transaction discarded because of previous errors.")
    log = c.cmd("ACL", "LOG")
    assert [(e[3], e[5], e[7]) for e in log[:2]] == [(b"command", b"multi", b"set"), (b"command", b"multi", b"set")] \
        or log[0][1] == 2


def test_scripts_obey_the_caller(sardine):
    c = Raw(sardine.port)
    assert c.cmd("ACL", "SETUSER", "lua", "on", "nopass", "+@all", "-flushall", "~ok*") == "OK"
    u = login(sardine, "lua", "x")
    assert u.cmd("EVAL", "return redis.call('set', KEYS[1], 'v')", 1, "ok1") == "OK"
    e = u.cmd("EVAL", "return redis.call('set', 'bad', 'v')", 0)
    assert e.msg.startswith("ERR The user executing the script can't access at least one of the keys mentioned in "
                            "the command arguments script:")
    e = u.cmd("EVAL", "return redis.call('flushall')", 0)
    assert e.msg.startswith("ERR The user executing the script can't run this command or subcommand script:")
    r = u.cmd("EVAL", "return redis.pcall('flushall')['err']", 0)
    assert r.startswith(b"ERR The user executing the script can't run this command")
    check = "return {redis.acl_check_cmd('set', 'ok1', 'v'), redis.acl_check_cmd('set', 'no', 'v'), " \
            "redis.acl_check_cmd('flushall')}"
    assert u.cmd("EVAL", check, 0) == [1, None, None]
    assert u.cmd("EVAL", "return redis.acl_check_cmd('nosuch')", 0).msg.startswith(
        "ERR Invalid command passed to redis.acl_check_cmd()")
    log = c.cmd("ACL", "LOG", "1")
    entry = {log[0][i].decode(): log[0][i + 1] for i in range(0, 14, 2)}
    assert entry["context"] == b"lua" and entry["reason"] == b"command" and entry["object"] == b"flushall"
    assert entry["count"] == 2 and entry["username"] == b"lua"
    assert b"cmd=eval" in entry["client-info"]


def test_acl_log(sardine):
    c = Raw(sardine.port)
    assert c.cmd("ACL", "SETUSER", "l", "on", ">p", "+get", "~a") == "OK"
    u = login(sardine, "l", "p")
    assert u.cmd("GET", "b") == Err(NOPERM_KEY)
    assert u.cmd("GET", "b") == Err(NOPERM_KEY)
    assert u.cmd("SET", "a", "1") == Err(NOPERM_CMD.format("set"))
    assert u.cmd("AUTH", "l", "bad") == Err(WRONGPASS)
    log = c.cmd("ACL", "LOG")
    assert len(log) == 3
    entries = [{e[i].decode(): e[i + 1] for i in range(0, 14, 2)} for e in log]
    assert [e["reason"] for e in entries] == [b"auth", b"command", b"key"]
    assert [e["object"] for e in entries] == [b"AUTH", b"set", b"b"]
    assert entries[2]["count"] == 2
    assert list(entries[0]) == ["count", "reason", "context", "object", "username", "age-seconds", "client-info"]
    assert all(e["username"] == b"l" and e["context"] == b"toplevel" for e in entries)
    assert len(c.cmd("ACL", "LOG", "1")) == 1
    assert c.cmd("ACL", "LOG", "-5") == []
    assert c.cmd("ACL", "LOG", "x") == Err("ERR value is not an integer or out of range")
    assert c.cmd("CONFIG", "SET", "acllog-max-len", "2") == "OK"
    assert u.cmd("GET", "c") == Err(NOPERM_KEY)
    assert len(c.cmd("ACL", "LOG")) == 2
    assert c.cmd("ACL", "LOG", "RESET") == "OK"
    assert c.cmd("ACL", "LOG") == []


def test_deluser_closes_its_clients(sardine):
    c = Raw(sardine.port)
    assert c.cmd("ACL", "SETUSER", "d", "on", "nopass", "+@all", "~*") == "OK"
    assert c.cmd("ACL", "SETUSER", "d2", "on", "nopass", "+@all", "~*") == "OK"
    u = login(sardine, "d", "x")
    u2 = login(sardine, "d2", "x")
    assert c.cmd("ACL", "DELUSER", "default") == Err("ERR The 'default' user cannot be removed")
    assert c.cmd("ACL", "DELUSER", "d", "nobody") == 1
    assert u.read_until_closed() is not None
    # off and resetpass do not close connections in 7.0
    assert c.cmd("ACL", "SETUSER", "d2", "off", "resetpass") == "OK"
    assert u2.cmd("PING") == "PONG"
    # a user deleting itself gets its reply, then the connection closes
    assert u2.cmd("ACL", "DELUSER", "d2") == 1
    assert u2.read_until_closed() is not None
    assert c.cmd("ACL", "USERS") == [b"default"]


def test_client_list_and_kill_user(sardine):
    c = Raw(sardine.port)
    assert c.cmd("ACL", "SETUSER", "cl", "on", "nopass", "+@all", "~*") == "OK"
    u = login(sardine, "cl", "x")
    assert b"user=cl " in u.cmd("CLIENT", "INFO")
    assert b"user=default " in c.cmd("CLIENT", "INFO")
    assert c.cmd("CLIENT", "KILL", "USER", "nobody") == Err("ERR No such user 'nobody'")
    assert c.cmd("CLIENT", "KILL", "USER", "cl") == 1
    assert u.read_until_closed() is not None


def test_secrets_are_redacted_in_slowlog(sardine):
    c = Raw(sardine.port)
    assert c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "0") == "OK"
    assert c.cmd("ACL", "SETUSER", "sl", "on", ">secret1", "+@all", "~*") == "OK"
    c.cmd("AUTH", "sl", "secret1")
    c.cmd("HELLO", "2", "AUTH", "sl", "secret1")
    c.cmd("CONFIG", "SET", "requirepass", "secret2")
    c.cmd("AUTH", "default", "secret2")
    log = c.cmd("SLOWLOG", "GET", "-1")
    flat = b" ".join(a for e in log for a in e[3])
    assert b"secret" not in flat
    assert b"(redacted)" in flat


def test_save_and_load(sardine):
    c = Raw(sardine.port)
    assert c.cmd("ACL", "SAVE") == Err(
        "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL "
        "SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in "
        "order to store users in the Redis configuration.")


def test_aclfile_save_load_and_errors(make_sardine, tmp_path):
    path = tmp_path / "users.acl"
    path.write_text("user default on nopass ~* &* +@all\nuser alice on >a1 ~a* +get\n")
    s = make_sardine("--aclfile", str(path))
    c = Raw(s.port)
    assert c.cmd("ACL", "USERS") == [b"alice", b"default"]
    alice = login(s, "alice", "a1")
    assert alice.cmd("GET", "a") is None
    assert c.cmd("ACL", "SETUSER", "bob", "on", ">b1", "(+set ~b*)") == "OK"
    assert c.cmd("ACL", "SAVE") == "OK"
    lines = path.read_text().splitlines()
    assert lines[0].startswith("user alice on #") and lines[1].startswith("user bob on #")
    assert lines[1].endswith("(~b* resetchannels -@all +set)") and lines[2] == "user default on nopass ~* &* +@all"
    # a bad file keeps everything running and names the lines
    path.write_text("user carol on +nosuch\nnotuser x\nuser dave on bogus bogus2\nuser carol on\n")
    err = c.cmd("ACL", "LOAD")
    assert err.msg.startswith(f"ERR {path}:1: Error in applying operation '+nosuch': Unknown command or category "
                              f"name in ACL. {path}:2 should start with user keyword followed by the username. "
                              f"{path}:3: Syntax error. WARNING: Duplicate user 'carol' found on line 4. "
                              "WARNING: ACL errors detected")
    assert c.cmd("ACL", "USERS") == [b"alice", b"bob", b"default"]
    assert alice.cmd("GET", "a") is None  # still connected, as alice
    # a good file replaces every user; clients of the old users are closed
    path.write_text("user erin on nopass ~* +@all\n")
    assert c.cmd("ACL", "LOAD") == "OK"
    assert c.cmd("ACL", "USERS") == [b"default", b"erin"]
    assert alice.read_until_closed() is not None
    assert c.cmd("PING") == "PONG"  # a default-user client stays
    path.unlink()
    assert c.cmd("ACL", "LOAD").msg.startswith(f"ERR Error loading ACLs, opening file '{path}'")


def run_server(args, timeout=10):
    """Starts a server expected to refuse its configuration (a server that starts instead times out)."""
    from harness import SARDINE_SERVER, free_port
    return subprocess.run([SARDINE_SERVER] + args + ["--port", str(free_port()), "--save", ""], capture_output=True,
                          text=True, timeout=timeout)


def test_config_user_lines(make_sardine):
    s = make_sardine("--user", "default", "on", "nopass", "~*", "&*", "+@all", "-flushall",
                     "--user", "ann", "on", ">pa", "~a*", "&*", "+@read")
    c = Raw(s.port)
    assert c.cmd("FLUSHALL") == Err(NOPERM_CMD.format("flushall"))
    assert c.cmd("ACL", "USERS") == [b"ann", b"default"]
    a = login(s, "ann", "pa")
    assert a.cmd("GET", "a1") is None
    assert a.cmd("SET", "a1", "x") == Err(NOPERM_CMD.format("set"))


def test_config_user_errors(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("port 0\nuser bob on bogus\n")
    r = run_server([str(conf)])
    assert r.returncode != 0
    assert "Reading the configuration file, at line 2" in r.stderr + r.stdout
    conf.write_text("user bob on\nuser bob off\n")
    r = run_server([str(conf)])
    assert r.returncode != 0 and "Duplicate user found" in r.stderr + r.stdout
    # users in the config and an aclfile: refused, as Redis
    acl = tmp_path / "u.acl"
    acl.write_text("user default on nopass ~* +@all\n")
    conf.write_text(f"user bob on\naclfile {acl}\n")
    r = run_server([str(conf)])
    assert r.returncode != 0 and "but not both" in r.stderr + r.stdout
    # an unknown command in a config user stops the server
    conf.write_text("user bob on +nosuchcmd\n")
    r = run_server([str(conf)])
    assert r.returncode != 0 and "Error loading ACL rule '+nosuchcmd'" in r.stderr + r.stdout


def test_genpass_and_help(sardine):
    c = Raw(sardine.port)
    p = c.cmd("ACL", "GENPASS")
    assert len(p) == 64 and all(ch in b"0123456789abcdef" for ch in p)
    assert len(c.cmd("ACL", "GENPASS", "5")) == 2
    assert c.cmd("ACL", "GENPASS", "0") == Err(
        "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
    assert c.cmd("ACL", "GENPASS", "4097").code == "ERR"
    assert c.cmd("ACL", "GENPASS") != p
    help_ = c.cmd("ACL", "HELP")
    assert help_[0].startswith("ACL <subcommand>") and "WHOAMI" in help_
    assert c.cmd("ACL", "NOPE") == Err("ERR unknown subcommand 'NOPE'. Try ACL HELP.")


def test_bad_input(sardine):
    c = Raw(sardine.port)
    long_name = "u" * 100000
    assert c.cmd("ACL", "SETUSER", long_name, "on", "nopass", "+@all", "~" + "k" * 200000) == "OK"
    assert len(c.cmd("ACL", "LIST")[1]) > 300000
    assert c.cmd("ACL", "DELUSER", long_name) == 1
    rules = ["+get"] * 5000 + ["~p%d" % i for i in range(2000)]
    assert c.cmd("ACL", "SETUSER", "many", *rules) == "OK"
    assert len(getuser(c, "many")["keys"].split()) == 2000
    err = c.cmd("ACL", "SETUSER", "many", "x" * 100000)
    assert err.msg.startswith("ERR Error in ACL SETUSER modifier 'xxx") and err.msg.endswith("Syntax error")
    assert c.cmd("ACL", "SETUSER", "nl", "a\r\nb").msg == \
        "ERR Error in ACL SETUSER modifier 'a  b': Syntax error"
    # an AUTH flood: every attempt answered, the log grouped into one entry
    sock = socket.create_connection(("127.0.0.1", sardine.port))
    n = 3000
    sock.sendall(b"AUTH nobody wrong\r\n" * n)
    want = (b"-" + WRONGPASS.encode() + b"\r\n") * n
    got = b""
    deadline = time.time() + 20
    while len(got) < len(want) and time.time() < deadline:
        got += sock.recv(1 << 16)
    sock.close()
    assert got == want
    log = c.cmd("ACL", "LOG", "1")
    assert log[0][1] == n
    assert c.cmd("PING") == "PONG"


def test_dryrun_errors(sardine):
    c = Raw(sardine.port)
    assert c.cmd("ACL", "SETUSER", "dr", "on", "+get", "~k") == "OK"
    assert c.cmd("ACL", "DRYRUN", "dr", "get", "k") == "OK"
    assert c.cmd("ACL", "DRYRUN", "nobody", "get", "k") == Err("ERR User 'nobody' not found")
    assert c.cmd("ACL", "DRYRUN", "dr", "nocmd") == Err("ERR Command 'nocmd' not found")
    assert c.cmd("ACL", "DRYRUN", "dr", "get") == Err("ERR wrong number of arguments for 'get' command")
    assert c.cmd("ACL", "DRYRUN", "dr", "cluster", "info") == \
        b"This user has no permissions to run the 'cluster|info' command"  # a command Sardine lacks


def test_config_rewrite_writes_users(tmp_path):
    from harness import SARDINE_SERVER, Server
    conf = tmp_path / "r.conf"
    conf.write_text("# users below\nuser old on nopass ~* +@all\nmaxmemory-samples 5\n")
    s = Server(SARDINE_SERVER, [], "sardine")
    s.stop()  # only for its port and argument conventions: start with the file first, as Redis needs
    port = s.port
    proc = subprocess.Popen([SARDINE_SERVER, str(conf), "--port", str(port), "--save", ""],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                c = Raw(port)
                break
            except OSError:
                time.sleep(0.05)
        assert c.cmd("ACL", "SETUSER", "new", "on", ">pw", "~k", "+get") == "OK"
        assert c.cmd("ACL", "DELUSER", "old") == 1
        assert c.cmd("CONFIG", "REWRITE") == "OK"
        lines = conf.read_text().splitlines()
        assert lines[0] == "# users below"
        # each user line of the file takes the next user, the others go at the end
        assert lines[1] == "user default on nopass ~* &* +@all" and lines[2] == "maxmemory-samples 5"
        assert lines[-1].startswith("user new on #") and lines[-1].endswith(" ~k resetchannels -@all +get")
        assert "user old" not in conf.read_text()
    finally:
        proc.terminate()
        proc.wait(10)
