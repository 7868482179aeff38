"""`make install` / `make uninstall` into a DESTDIR (PREFIX honoured), and sardine.conf: it documents every
directive the server accepts, its values are the real defaults, and it loads as it is."""
import os
import re
import subprocess

import time

import pytest
import redis

from conftest import ROOT, SARDINE_SERVER, free_port

CONF = os.path.join(ROOT, "sardine.conf")
SAN = ["SAN=1"] if "build-asan" in SARDINE_SERVER else []


def make(*args):
    return subprocess.run(["make", "-s", "-C", ROOT] + SAN + list(args), capture_output=True, text=True, timeout=900)


def tree(root):
    out = set()
    for d, dirs, files in os.walk(root):
        for f in files + dirs:
            out.add(os.path.relpath(os.path.join(d, f), root))
    return out


@pytest.mark.parametrize("prefix,etc", [(None, "usr/local/etc"), ("/usr", "etc"), ("/opt/sardine", "opt/sardine/etc")])
def test_install_and_uninstall(tmp_path, prefix, etc):
    dest = tmp_path / "root"
    args = [f"DESTDIR={dest}"] + ([f"PREFIX={prefix}"] if prefix else [])
    p = make("install", *args)
    assert p.returncode == 0, p.stderr
    base = (prefix or "/usr/local").lstrip("/")
    want = {f"{base}/bin/sardine-server", f"{base}/bin/sardine-cli", f"{etc}/sardine/sardine.conf",
            f"{base}/lib/systemd/system/sardine.service"}
    files = {f for f in tree(dest) if os.path.isfile(dest / f)}
    assert files == want
    for b in ("sardine-server", "sardine-cli"):
        path = dest / base / "bin" / b
        assert os.access(path, os.X_OK)
    v = subprocess.run([str(dest / base / "bin" / "sardine-server"), "--version"], capture_output=True, text=True)
    assert v.returncode == 0 and v.stdout.startswith("Sardine server v=")
    assert (dest / etc / "sardine" / "sardine.conf").read_bytes() == open(CONF, "rb").read()
    unit = (dest / base / "lib/systemd/system/sardine.service").read_text()
    assert "@" not in re.sub(r"(?m)^#.*$", "", unit).replace("@system-service", "").replace("~@privileged", "")
    assert re.search(r"(?m)^Type=notify$", unit)
    execstart = re.search(r"(?m)^ExecStart=(.*)$", unit).group(1).split()
    assert execstart[:2] == [f"{prefix or '/usr/local'}/bin/sardine-server", f"/{etc}/sardine/sardine.conf"]
    assert "--supervised" in execstart and execstart[execstart.index("--supervised") + 1] == "systemd"

    # an edited config survives both a reinstall and an uninstall
    edited = dest / etc / "sardine" / "sardine.conf"
    edited.write_text(edited.read_text() + "\nport 7777\n")
    p = make("install", *args)
    assert p.returncode == 0, p.stderr
    assert edited.read_text().endswith("port 7777\n")
    assert (dest / etc / "sardine" / "sardine.conf.default").read_bytes() == open(CONF, "rb").read()
    p = make("uninstall", *args)
    assert p.returncode == 0, p.stderr
    assert {f for f in tree(dest) if os.path.isfile(dest / f)} == {f"{etc}/sardine/sardine.conf"}
    edited.unlink()
    p = make("install", *args)
    p = make("uninstall", *args)
    assert p.returncode == 0, p.stderr
    assert {f for f in tree(dest) if os.path.isfile(dest / f)} == set()


def documented():
    """Directive names in sardine.conf, active ("name value") or commented out ("# name value")."""
    names = set()
    for line in open(CONF):
        m = re.match(r"^(?:# )?([a-z][a-z0-9_-]*) \S", line)
        if m:
            names.add(m.group(1))
    return names


def test_conf_documents_every_directive(r):
    accepted = set(k if isinstance(k, str) else k.decode() for k in r.config_get("*"))
    assert accepted, "CONFIG GET * returned nothing"
    missing = sorted(accepted - documented())
    assert not missing, f"directives missing from sardine.conf: {missing}"


def config_of(argv, tmp_path):
    """CONFIG GET * of a server started with argv (the config file must come first, so no harness)."""
    port = free_port()
    log = open(tmp_path / "log", "ab")
    proc = subprocess.Popen([SARDINE_SERVER] + argv + ["--port", str(port), "--dir", str(tmp_path)], stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 20
        while True:
            try:
                return redis.Redis(port=port, decode_responses=True, socket_timeout=10).config_get("*")
            except redis.ConnectionError:
                assert proc.poll() is None and time.time() < deadline, (tmp_path / "log").read_text()
                time.sleep(0.05)
    finally:
        proc.terminate()
        assert proc.wait(30) == 0


def test_conf_loads_and_its_values_are_the_defaults(tmp_path):
    plain = config_of([], tmp_path)
    from_file = config_of([CONF], tmp_path)
    skip = {"port", "dir"}
    assert {k: v for k, v in from_file.items() if k not in skip} == {k: v for k, v in plain.items() if k not in skip}
    # and every active line of the file sets exactly what CONFIG GET reports
    for line in open(CONF):
        m = re.match(r"^([a-z][a-z0-9-]*) (.*)$", line.rstrip("\n"))
        if not m or m.group(1) in skip | {"client-output-buffer-limit", "client-query-buffer-limit",
                                          "proto-max-bulk-len", "save"}:
            continue
        value = m.group(2).strip('"')
        assert from_file[m.group(1)] == value, m.group(1)
