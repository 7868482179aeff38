#!/usr/bin/env python3
"""gen_commands: the command metadata, from data to C.

    scripts/gen_commands.py                 write src/commands/command_defs.c from the data files
    scripts/gen_commands.py --check         exit 1 when the committed command_defs.c is stale
    scripts/gen_commands.py --dump PORT     rewrite src/commands/commands.json from a redis-server 7.0
                                            listening on 127.0.0.1:PORT (COMMAND INFO + COMMAND DOCS)

Data files (checked in):
  src/commands/commands.json        what redis-server 7.0.15 answers to COMMAND INFO and COMMAND DOCS, one entry
                                    per command and subcommand, sorted by full name.  Facts about the protocol.
  src/commands/commands_extra.json  what the dump cannot show: the flags Redis hides from COMMAND INFO
                                    (may_replicate, protected) and commands Sardine has that 7.0 lacks.

The generated C holds one `cmd_def` per command (arity, flags, ACL categories, legacy key range, key specs,
tips, docs with history and the argument tree), sorted by full name.  The build never runs Python.
"""
import json
import os
import socket
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "src", "commands", "commands.json")
EXTRA = os.path.join(ROOT, "src", "commands", "commands_extra.json")
OUT = os.path.join(ROOT, "src", "commands", "command_defs.c")

# Reply orders, as redis-server 7.0 emits them (checked against every list in the data).
CMD_FLAGS = ["write", "readonly", "denyoom", "admin", "pubsub", "noscript", "blocking", "loading", "stale",
             "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth", "no_mandatory_keys", "no_async_loading",
             "no_multi", "movablekeys", "allow_busy"]
HIDDEN_FLAGS = ["may_replicate", "protected"]  # real flags that COMMAND INFO does not show
ACL_CATS = ["keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog",
            "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection",
            "transaction", "scripting"]
KEY_FLAGS = ["RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key", "incomplete",
             "variable_flags"]
DOC_FLAGS = ["deprecated", "syscmd"]
ARG_FLAGS = ["optional", "multiple", "multiple_token"]
ARG_TYPES = ["string", "integer", "double", "key", "pattern", "unix-time", "pure-token", "oneof", "block"]


# ---- dump: a minimal RESP3 reader ----------------------------------------------------------------------------

class Resp3:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.f = self.sock.makefile("rb")

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in args)
        self.sock.sendall(out)
        return self.read()

    def read(self):
        line = self.f.readline()[:-2]
        t, rest = line[:1], line[1:].decode()
        if t == b"+":
            return rest
        if t == b"-":
            raise RuntimeError(rest)
        if t == b":":
            return int(rest)
        if t == b"$":
            data = self.f.read(int(rest) + 2)[:-2]
            return data.decode()
        if t in (b"*", b"~"):
            return [self.read() for _ in range(int(rest))]
        if t == b"%":
            return {self.read(): self.read() for _ in range(int(rest))}
        if t == b"_":
            return None
        raise RuntimeError("unexpected RESP type %r" % line)


def flatten_info(info, out):
    name, arity, flags, first, last, step, acl, tips, specs, subs = info
    out[name] = {"name": name, "arity": arity, "flags": flags, "first_key": first, "last_key": last, "step": step,
                 "acl_categories": acl, "tips": tips, "key_specs": specs}
    for s in subs:
        flatten_info(s, out)


def flatten_docs(docs, out):
    for name, d in docs.items():
        subs = d.pop("subcommands", {})
        out[name] = d
        flatten_docs(subs, out)


def dump(port):
    r = Resp3(port)
    r.cmd("HELLO", "3")
    info, docs = {}, {}
    for c in r.cmd("COMMAND"):
        flatten_info(c, info)
    flatten_docs(r.cmd("COMMAND", "DOCS"), docs)
    assert set(info) == set(docs), set(info) ^ set(docs)
    cmds = []
    for name in sorted(info):
        e = info[name]
        e["docs"] = docs[name]
        cmds.append(e)
    with open(DATA, "w") as f:
        json.dump({"source": "redis-server 7.0.15: COMMAND INFO and COMMAND DOCS (RESP3)", "commands": cmds}, f,
                  indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote %d commands to %s" % (len(cmds), DATA))




# ---- generate ------------------------------------------------------------------------------------------------

def load():
    with open(DATA) as f:
        cmds = {c["name"]: c for c in json.load(f)["commands"]}
    with open(EXTRA) as f:
        extra = json.load(f)
    for c in extra["commands"]:
        assert c["name"] not in cmds, c["name"]
        cmds[c["name"]] = c
    for name, flags in extra["hidden_flags"].items():
        assert all(fl in HIDDEN_FLAGS for fl in flags), name
        cmds[name]["hidden_flags"] = flags
    for name, fn in extra["getkeys"].items():
        cmds[name]["getkeys"] = fn
    return [cmds[n] for n in sorted(cmds)]


def check_order(what, names, order):
    """Every list in the data must follow the one order the C code emits."""
    idx = [order.index(n) if n in order else -1 for n in names]
    if -1 in idx or idx != sorted(idx) or len(set(idx)) != len(idx):
        sys.exit("gen_commands: %s %r does not follow the known order %r" % (what, names, order))


def cstr(s):
    if s is None:
        return "NULL"
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 32:
            out.append("\\%03o" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out).replace("??", "?\\?") + '"'


def bits(prefix, names, order):
    """C flag expression; the C names follow the reply names (movablekeys -> CMD_MOVABLE_KEYS)."""
    assert all(n in order for n in names), (names, order)
    spelled = {"movablekeys": "MOVABLE_KEYS"}
    return " | ".join(prefix + spelled.get(n, n.upper().replace("-", "_")) for n in names) if names else "0"


class Gen:
    def __init__(self):
        self.decls = []
        self.n = 0

    def sym(self, kind):
        self.n += 1
        return "%s_%d" % (kind, self.n)

    def args(self, args):
        rows = []
        for a in args:
            assert set(a) <= {"name", "type", "key_spec_index", "token", "summary", "since", "deprecated_since",
                              "flags", "arguments"}, a
            check_order("argument flags", a.get("flags", []), ARG_FLAGS)
            sub = self.args(a["arguments"]) if "arguments" in a else None
            rows.append("    {%s, ARG_%s, %s, %d, %s, %s, %s, %s, %d, %s}," % (
                cstr(a["name"]), a["type"].upper().replace("-", "_"), bits("ARG_", a.get("flags", []), ARG_FLAGS),
                a.get("key_spec_index", -1), cstr(a.get("token")), cstr(a.get("summary")), cstr(a.get("since")),
                cstr(a.get("deprecated_since")), len(a["arguments"]) if "arguments" in a else 0, sub or "NULL"))
        name = self.sym("args")
        self.decls.append("static const cmd_arg %s[] = {\n%s\n};" % (name, "\n".join(rows)))
        return name

    def strings(self, kind, items):
        name = self.sym(kind)
        self.decls.append("static const char *const %s[] = {%s};" % (name, ", ".join(cstr(t) for t in items)))
        return name

    def specs(self, specs):
        rows = []
        for s in specs:
            check_order("key spec flags", s["flags"], KEY_FLAGS)
            bs, fk = s["begin_search"], s["find_keys"]
            row = {"notes": cstr(s.get("notes")), "flags": bits("KS_", s["flags"], KEY_FLAGS),
                   "bs": "KS_BS_" + bs["type"].upper(), "fk": "KS_FK_" + fk["type"].upper()}
            if bs["type"] == "index":
                row["index"] = bs["spec"]["index"]
            elif bs["type"] == "keyword":
                row["keyword"] = cstr(bs["spec"]["keyword"])
                row["startfrom"] = bs["spec"]["startfrom"]
            if fk["type"] == "range":
                row.update(lastkey=fk["spec"]["lastkey"], keystep=fk["spec"]["keystep"], limit=fk["spec"]["limit"])
            elif fk["type"] == "keynum":
                row.update(keynumidx=fk["spec"]["keynumidx"], firstkey=fk["spec"]["firstkey"],
                           keystep=fk["spec"]["keystep"])
            rows.append("    {" + ", ".join(".%s = %s" % kv for kv in row.items()) + "},")
        name = self.sym("specs")
        self.decls.append("static const key_spec %s[] = {\n%s\n};" % (name, "\n".join(rows)))
        return name

    def command(self, c):
        d = c["docs"]
        assert set(d) <= {"summary", "since", "group", "complexity", "doc_flags", "deprecated_since", "replaced_by",
                          "history", "arguments"}, d
        check_order("flags of " + c["name"], c["flags"], CMD_FLAGS)
        check_order("ACL categories of " + c["name"], [a[1:] for a in c["acl_categories"]], ACL_CATS)
        check_order("doc flags of " + c["name"], d.get("doc_flags", []), DOC_FLAGS)
        f = {"fullname": cstr(c["name"]), "arity": c["arity"],
             "flags": bits("CMD_", c["flags"] + c.get("hidden_flags", []), CMD_FLAGS + HIDDEN_FLAGS),
             "acl": bits("ACL_", [a[1:] for a in c["acl_categories"]], ACL_CATS),
             "firstkey": c["first_key"], "lastkey": c["last_key"], "keystep": c["step"]}
        if c["tips"]:
            f["ntips"], f["tips"] = len(c["tips"]), self.strings("tips", c["tips"])
        if c["key_specs"]:
            f["nspecs"], f["specs"] = len(c["key_specs"]), self.specs(c["key_specs"])
        if c.get("getkeys"):
            f["getkeys"] = c["getkeys"]
        for k in ("summary", "since", "group", "complexity", "deprecated_since", "replaced_by"):
            if k in d:
                f[k] = cstr(d[k])
        if d.get("doc_flags"):
            f["doc_flags"] = bits("DOC_", d["doc_flags"], DOC_FLAGS)
        if d.get("history"):
            f["nhistory"] = len(d["history"])
            f["history"] = self.strings("history", [x for pair in d["history"] for x in pair])
        if d.get("arguments"):
            f["nargs"], f["args"] = len(d["arguments"]), self.args(d["arguments"])
        return "    {" + ", ".join(".%s = %s" % kv for kv in f.items()) + "},"


def generate():
    cmds = load()
    g = Gen()
    rows = [g.command(c) for c in cmds]
    out = ["/* command_defs: GENERATED by scripts/gen_commands.py from src/commands/commands.json and",
           " * src/commands/commands_extra.json; do not edit by hand (tests/integration/test_command.py fails",
           " * when it is stale).",
           " * One definition per command and subcommand, sorted by full name. */",
           '#include "commands/command.h"', '#include "commands/getkeys.h"', "#include <stddef.h>", ""]
    out += g.decls
    out += ["", "const cmd_def command_defs[] = {"] + rows + ["};",
            "const int command_defs_count = (int)(sizeof(command_defs) / sizeof(command_defs[0]));", ""]
    return "\n".join(out)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--dump":
        dump(int(sys.argv[2]))
        return 0
    text = generate()
    if len(sys.argv) == 2 and sys.argv[1] == "--check":
        with open(OUT) as f:
            if f.read() != text:
                print("src/commands/command_defs.c is stale: run scripts/gen_commands.py")
                return 1
        return 0
    if len(sys.argv) != 1:
        print(__doc__)
        return 2
    with open(OUT, "w") as f:
        f.write(text)
    print("wrote %s" % OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
