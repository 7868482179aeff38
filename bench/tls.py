#!/usr/bin/env python3
"""tls: SET/GET throughput over TLS, side by side on redis-server and sardine-server.

  bench/tls.py [--server build/sardine-server] [--requests 200000] [--clients 50] [--rounds 3]
               [--pipelines 1,32] [--plain] [--threads N]

Makes a CA, a server and a client certificate with the openssl CLI, starts each server (fresh, free
ports, no persistence) with tls-port and tls-auth-clients yes, and runs

    redis-benchmark --tls --cacert ca.crt --cert client.crt --key client.key -t set,get -P <p> -n N -c C --csv

against each in turn, alternating servers round by round (the machine is shared: alternation spreads the
noise over both).  Prints each round's requests per second and, per test and pipeline depth, the medians
and the ratio sardine / redis (>= 1.0: Sardine is at least as fast); also each server's CPU time per request
during the runs (user + system from /proc, SET and GET together), the steadier figure on a loaded machine
(its ratio is redis / sardine, so >= 1.0 again means Sardine is cheaper).  --plain adds the same runs on the
plain ports, to show what TLS costs each server.

--threads N runs redis-benchmark with N client threads.  With one (the default) the client spends more CPU
per request than either server over TLS, so it sets the pace and the two servers come out alike whatever
they cost; with more threads the client and the server share the machine's cores, and a server that needs
less CPU per request serves more of them.

Needs redis-server and redis-benchmark built with TLS (Debian's are)."""
import argparse, csv, io, os, shutil, socket, statistics, subprocess, sys, tempfile, time


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def openssl(*args, cwd):
    subprocess.run(['openssl', *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_certs(d):
    openssl('req', '-x509', '-new', '-nodes', '-newkey', 'rsa:2048', '-keyout', 'ca.key', '-out', 'ca.crt',
            '-days', '2', '-subj', '/CN=bench CA', cwd=d)
    with open(os.path.join(d, 'ext.cnf'), 'w') as f:
        f.write('subjectAltName=DNS:localhost,IP:127.0.0.1\n')
    for name, ext in (('server', True), ('client', False)):
        openssl('req', '-new', '-nodes', '-newkey', 'rsa:2048', '-keyout', f'{name}.key', '-out', f'{name}.csr',
                '-subj', f'/CN={name}', cwd=d)
        openssl('x509', '-req', '-in', f'{name}.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
                '-out', f'{name}.crt', '-days', '2', *(['-extfile', 'ext.cnf'] if ext else []), cwd=d)


class Srv:
    def __init__(self, name, binary, certdir):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=f'tlsbench-{name}-')
        self.port, self.tls_port = free_port(), free_port()
        c = lambda f: os.path.join(certdir, f)  # noqa: E731
        argv = [binary, '--port', str(self.port), '--bind', '127.0.0.1', '--dir', self.dir, '--save', '',
                '--appendonly', 'no', '--tls-port', str(self.tls_port), '--tls-cert-file', c('server.crt'),
                '--tls-key-file', c('server.key'), '--tls-ca-cert-file', c('ca.crt')]
        self.log = open(os.path.join(self.dir, 'log'), 'wb')
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while True:
            try:
                with socket.create_connection(('127.0.0.1', self.port), timeout=0.5) as s:
                    s.sendall(b'PING\r\n')
                    if s.recv(16).startswith(b'+PONG'):
                        break
            except OSError:
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                raise SystemExit(f'{name} did not start: {open(os.path.join(self.dir, "log")).read()}')
            time.sleep(0.05)

    def cpu(self):
        """The server's CPU seconds so far (user + system)."""
        with open(f'/proc/{self.proc.pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def bench(port, certdir, tls, pipeline, n, clients, threads):
    argv = ['redis-benchmark', '-h', '127.0.0.1', '-p', str(port), '-t', 'set,get', '-P', str(pipeline), '-n', str(n),
            '-c', str(clients), '--csv']
    if threads > 1:
        argv += ['--threads', str(threads)]
    if tls:
        argv += ['--tls', '--cacert', os.path.join(certdir, 'ca.crt'), '--cert', os.path.join(certdir, 'client.crt'),
                 '--key', os.path.join(certdir, 'client.key')]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    rows = list(csv.reader(io.StringIO(out)))
    return {r[0]: float(r[1]) for r in rows[1:] if len(r) > 1}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--server', default='build/sardine-server')
    ap.add_argument('--redis', default=shutil.which('redis-server') or '/usr/bin/redis-server')
    ap.add_argument('--requests', type=int, default=200000)
    ap.add_argument('--clients', type=int, default=50)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--pipelines', default='1,32')
    ap.add_argument('--plain', action='store_true')
    ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args()
    certdir = tempfile.mkdtemp(prefix='tlsbench-certs-')
    make_certs(certdir)
    servers = [Srv('redis', a.redis, certdir), Srv('sardine', a.server, certdir)]
    results = {}  # (server, transport, pipeline, test) -> [rps]
    try:
        transports = [True, False] if a.plain else [True]
        for rnd in range(a.rounds):
            for p in [int(x) for x in a.pipelines.split(',')]:
                for tls in transports:
                    for s in (servers if rnd % 2 == 0 else servers[::-1]):
                        cpu0 = s.cpu()
                        got = bench(s.tls_port if tls else s.port, certdir, tls, p, a.requests, a.clients, a.threads)
                        cpu_us = (s.cpu() - cpu0) * 1e6 / (a.requests * len(got))
                        for test, rps in got.items():
                            results.setdefault((s.name, tls, p, test), []).append(rps)
                        results.setdefault((s.name, tls, p, 'cpu'), []).append(cpu_us)
                        print(f'round {rnd + 1} {s.name:8} {"tls  " if tls else "plain"} -P {p:<3} ' +
                              '  '.join(f'{t} {v:,.0f}/s' for t, v in got.items()) +
                              f'  server CPU {cpu_us:.2f} us/request', flush=True)
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(certdir, ignore_errors=True)
    print()
    print(f'medians of {a.rounds} rounds, {a.requests} requests, {a.clients} clients, {a.threads} client '
          f'thread(s) (requests per second):')
    for (name, tls, p, test) in sorted(k for k in results if k[0] == 'sardine'):
        mine = statistics.median(results[(name, tls, p, test)])
        theirs = statistics.median(results[('redis', tls, p, test)])
        if test == 'cpu':  # lower is better: the ratio is redis / sardine, so >= 1.0 still means Sardine wins
            print(f'  {"tls  " if tls else "plain"} -P {p:<3} CPU   sardine {mine:>9.2f} us  redis {theirs:>9.2f} us  '
                  f'ratio {theirs / mine:.2f}x (server CPU per request)')
        else:
            print(f'  {"tls  " if tls else "plain"} -P {p:<3} {test:4}  sardine {mine:>12,.0f}  redis {theirs:>12,.0f}  '
                  f'ratio {mine / theirs:.2f}x')


if __name__ == '__main__':
    sys.exit(main())
