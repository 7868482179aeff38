"""Test certificates made at run time with the openssl CLI (tests/integration/test_tls.py, tests/cli/test_cli_tls.py):
a CA, two server certificates for 127.0.0.1 and localhost (CN sardine-one, sardine-two), a client certificate,
a client certificate from a CA the server does not trust, the first server key encrypted with "s3cret",
DH parameters (RFC 7919 group: instant) and a hashed CA directory."""
import os
import shutil
import subprocess


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Certs:
    def __init__(self, d):
        self.dir = d
        p = lambda n: os.path.join(d, n)  # noqa: E731
        self.ca, self.ca_key = p("ca.crt"), p("ca.key")
        self.cert, self.key = p("server.crt"), p("server.key")
        self.cert2, self.key2 = p("server2.crt"), p("server2.key")
        self.client_cert, self.client_key = p("client.crt"), p("client.key")
        self.other_client_cert, self.other_client_key = p("other.crt"), p("other.key")
        self.enc_key = p("server-enc.key")
        self.dh = p("dh.pem")
        self.cadir = p("cadir")


def make_certs(d):
    c = Certs(d)
    _openssl("req", "-x509", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", c.ca_key, "-out", c.ca,
             "-days", "2", "-subj", "/CN=Sardine Test CA", cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")

    def issue(cert, key, cn, ca=c.ca, ca_key=c.ca_key, ext=True):
        _openssl("req", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", key, "-out", key + ".csr",
                 "-subj", f"/CN={cn}", cwd=d)
        _openssl("x509", "-req", "-in", key + ".csr", "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                 "-out", cert, "-days", "2", *(["-extfile", "ext.cnf"] if ext else []), cwd=d)

    issue(c.cert, c.key, "sardine-one")
    issue(c.cert2, c.key2, "sardine-two")
    issue(c.client_cert, c.client_key, "client", ext=False)
    other_ca, other_ca_key = os.path.join(d, "other-ca.crt"), os.path.join(d, "other-ca.key")
    _openssl("req", "-x509", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", other_ca_key, "-out", other_ca,
             "-days", "2", "-subj", "/CN=Other CA", cwd=d)
    issue(c.other_client_cert, c.other_client_key, "stranger", ca=other_ca, ca_key=other_ca_key, ext=False)
    _openssl("rsa", "-aes256", "-in", c.key, "-out", c.enc_key, "-passout", "pass:s3cret", cwd=d)
    _openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", c.dh, cwd=d)
    os.mkdir(c.cadir)
    shutil.copy(c.ca, c.cadir)
    _openssl("rehash", c.cadir, cwd=d)
    return c


def server_args(certs, port, *extra):
    return ("--tls-port", port, "--tls-cert-file", certs.cert, "--tls-key-file", certs.key,
            "--tls-ca-cert-file", certs.ca, *extra)
