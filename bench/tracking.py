#!/usr/bin/env python3
"""tracking: memory of the client-side caching table, side by side on redis-server and sardine-server.

  bench/tracking.py [--server build/sardine-server] [--which both|redis|sardine] [--keys 200000]
                    [--clients 1,4] [--keylen 16]

For each server (fresh, on a free port, tracking-table-max-keys 0 so that nothing is dropped) and each
client count C of --clients: C connections turn CLIENT TRACKING on, then each GETs --keys keys named
`key:%0<keylen-4>d` (pipelined; the keys do not exist, which is tracked the same and keeps the dataset
empty).  INFO used_memory before and after (the connections already open, their output buffers
drained) gives the bytes the tracking table took: divided by N, bytes per tracked key with C readers
each; INFO's tracking_total_keys/items are checked to be N and N x C.

The machine is shared: compare the two servers' figures from the same run."""
import argparse, os, socket, subprocess, sys, tempfile, time


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def enc(*args):
    out = [b'*%d\r\n' % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b'$%d\r\n%s\r\n' % (len(a), a))
    return b''.join(out)


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(('127.0.0.1', port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.s.makefile('rb')

    def reply(self):
        l = self.f.readline()
        t, rest = l[:1], l[1:-2]
        if t in (b'+', b'-', b':'):
            return rest
        if t == b'$':
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2]
        if t in (b'*', b'>'):
            return [self.reply() for _ in range(int(rest))]
        raise RuntimeError(l)

    def cmd(self, *args):
        self.s.sendall(enc(*args))
        return self.reply()

    def info(self):
        text = self.cmd('INFO').decode()
        return dict(l.split(':', 1) for l in text.split('\r\n') if ':' in l)


def start(binary, port, d):
    p = subprocess.Popen([binary, '--port', str(port), '--save', '', '--appendonly', 'no', '--dir', d,
                          '--tracking-table-max-keys', '0'],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            Conn(port).cmd('PING')
            return p
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f'{binary} did not start')


def measure(binary, n, clients, keylen):
    d = tempfile.mkdtemp()
    port = free_port()
    p = start(binary, port, d)
    try:
        admin = Conn(port)
        conns = [Conn(port) for _ in range(clients)]
        for c in conns:
            assert c.cmd('CLIENT', 'TRACKING', 'on') == b'OK'
        time.sleep(0.2)
        before = int(admin.info()['used_memory'])
        fmt = 'key:%0' + str(keylen - 4) + 'd'
        batch = 1000
        for c in conns:
            for start_i in range(0, n, batch):
                c.s.sendall(b''.join(enc('GET', fmt % i) for i in range(start_i, min(n, start_i + batch))))
                for _ in range(start_i, min(n, start_i + batch)):
                    c.reply()
        time.sleep(0.2)
        info = admin.info()
        assert int(info['tracking_total_keys']) == n, info['tracking_total_keys']
        assert int(info['tracking_total_items']) == n * clients, info['tracking_total_items']
        after = int(info['used_memory'])
        return (after - before) / n
    finally:
        p.terminate()
        p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--server', default='build/sardine-server')
    ap.add_argument('--redis', default='redis-server')
    ap.add_argument('--which', default='both', choices=['both', 'redis', 'sardine'])
    ap.add_argument('--keys', type=int, default=200000)
    ap.add_argument('--clients', default='1,4')
    ap.add_argument('--keylen', type=int, default=16)
    a = ap.parse_args()
    servers = []
    if a.which in ('both', 'redis'):
        servers.append(('redis-server', a.redis))
    if a.which in ('both', 'sardine'):
        servers.append(('sardine', a.server))
    for c in [int(x) for x in a.clients.split(',')]:
        row = []
        for name, binary in servers:
            per = measure(binary, a.keys, c, a.keylen)
            row.append(f'{name} {per:.1f} B/key')
        print(f'{a.keys} keys of {a.keylen} bytes, {c} tracking client(s) each: ' + ', '.join(row))
        sys.stdout.flush()


if __name__ == '__main__':
    main()
