#!/usr/bin/env python3
"""pubsub: PUBLISH fan-out and subscription memory, side by side on redis-server and sardine-server.

  bench/pubsub.py [--server build/sardine-server] [--which both|redis|sardine] [--subs 100]
                  [--publishes 100000] [--patterns 10000] [--mem-n 100000] [--pat-clients 10]
                  [--payload 16] [--repeat 1] [--mem-only] [--resize N]

For each server (fresh, on a free port, client-output-buffer-limit pubsub 0 0 0 so that no reader is
cut off while it catches up):

  1. fan-out: --subs raw connections SUBSCRIBE "bench:ch"; two reader threads drain them (recv into a
     1 MiB buffer, bytes counted, nothing parsed); redis-benchmark sends --publishes PUBLISHes
     (4 clients, pipeline 32).  Deliveries per second = publishes x subscribers / the time from the
     first PUBLISH until every subscriber has received every message's bytes.
  2. the same with --patterns pattern subscriptions present on another connection ("other:<i>:*", none
     matching the channel): Redis tries every pattern on every PUBLISH, Sardine only those whose literal
     prefix the channel starts with.
  3. memory: one connection SUBSCRIBEs --mem-n channels, another PSUBSCRIBEs --mem-n patterns, then
     --pat-clients connections each PSUBSCRIBE the same --mem-n / --pat-clients patterns (many
     subscribers per pattern); INFO used_memory (and the process's VmRSS) before and after each,
     divided by the subscriptions made (bytes per subscription / per pattern, the channel, the
     registry's indexes and the client's own set included).

--resize N (alone): one connection SUBSCRIBEs N channels, 1000 per command, and the slow log (over
2 ms) shows the slowest commands: those that grew the sets (every element rehashed at once).

--repeat N runs everything N times, alternating the servers, and prints each figure's median and the
ratios sardine/redis (--mem-only skips the fan-out phases; --no-nice leaves the servers at the
default priority, else both run under nice -n -15 when allowed).

Needs redis-server and redis-benchmark (Debian's redis-server / redis-tools).  The machine is shared:
compare the two servers' figures from the same run, and run it more than once."""
import argparse, os, shutil, socket, statistics, subprocess, sys, tempfile, threading, time


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

    def line(self):
        return self.f.readline()

    def reply(self):
        l = self.line()
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


def used_memory(c):
    info = c.cmd('INFO', 'memory').decode()
    return int([l for l in info.split('\r\n') if l.startswith('used_memory:')][0].split(':')[1])


def rss(pid):
    with open(f'/proc/{pid}/status') as f:
        for l in f:
            if l.startswith('VmRSS:'):
                return int(l.split()[1]) * 1024
    return 0


def start(binary, kind, nice):
    d = tempfile.mkdtemp(prefix='pubsub-bench-')
    port = free_port()
    argv = [binary, '--port', str(port), '--bind', '127.0.0.1', '--dir', d, '--save', '',
            '--client-output-buffer-limit', 'pubsub 0 0 0']
    if kind == 'redis':
        argv += ['--appendonly', 'no']
    if nice and os.geteuid() == 0:
        argv = ['nice', '-n', '-15'] + argv
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        try:
            c = Conn(port)
            c.cmd('PING')
            return p, port, d
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f'{kind} did not start')


def fanout(port, nsubs, publishes, payload, patterns):
    chan = 'bench:ch'
    msg_len = len(enc('message', chan, b'x' * payload))  # same length as the RESP2 push
    extra = None
    if patterns:
        extra = Conn(port)
        batch = 1000
        for i in range(0, patterns, batch):
            extra.s.sendall(b''.join(enc('PSUBSCRIBE', f'other:{j}:*') for j in range(i, min(i + batch, patterns))))
            for _ in range(i, min(i + batch, patterns)):
                extra.reply()
    subs = []
    for _ in range(nsubs):
        c = Conn(port)
        c.cmd('SUBSCRIBE', chan)
        subs.append(c)
    want = publishes * msg_len
    got = [0] * nsubs
    done = threading.Event()

    def reader(idx):
        buf = bytearray(1 << 20)
        mine = [i for i in range(nsubs) if i % 2 == idx]
        import selectors
        sel = selectors.DefaultSelector()
        for i in mine:
            subs[i].s.setblocking(False)
            sel.register(subs[i].s, selectors.EVENT_READ, i)
        left = len(mine)
        while left:
            for key, _ in sel.select(timeout=1):
                i = key.data
                try:
                    n = key.fileobj.recv_into(buf)
                except BlockingIOError:
                    continue
                got[i] += n
                if got[i] >= want:
                    sel.unregister(key.fileobj)
                    left -= 1
            if done.is_set():
                break

    threads = [threading.Thread(target=reader, args=(k,), daemon=True) for k in range(2)]
    for t in threads:
        t.start()
    t0 = time.time()
    subprocess.run(['redis-benchmark', '-p', str(port), '-c', '4', '-P', '32', '-n', str(publishes), '-q',
                    'PUBLISH', chan, 'x' * payload], stdout=subprocess.DEVNULL, check=True)
    for t in threads:
        t.join(timeout=120)
    elapsed = time.time() - t0
    done.set()
    ok = all(g >= want for g in got)
    for c in subs:
        c.s.close()
    if extra:
        extra.s.close()
    return publishes * nsubs / elapsed, ok


def psubscribe_many(c, pats):
    for i in range(0, len(pats), 1000):
        chunk = pats[i:i + 1000]
        c.s.sendall(b''.join(enc('PSUBSCRIBE', p) for p in chunk))
        for _ in chunk:
            c.reply()


def memory(port, pid, n, pat_clients):
    """(bytes per channel subscription, per pattern, per shared-pattern subscription), each as
    (used_memory delta, RSS delta) / subscriptions."""
    probe = Conn(port)
    out = []

    def measure(fn, count):
        base, base_rss = used_memory(probe), rss(pid)
        fn()
        out.append(((used_memory(probe) - base) / count, (rss(pid) - base_rss) / count))

    c = Conn(port)

    def channels():
        for i in range(0, n, 1000):
            c.s.sendall(b''.join(enc('SUBSCRIBE', f'channel:{j:08d}') for j in range(i, min(i + 1000, n))))
            for _ in range(i, min(i + 1000, n)):
                c.reply()
    measure(channels, n)
    p = Conn(port)
    measure(lambda: psubscribe_many(p, [f'pattern:{j:08d}:*' for j in range(n)]), n)
    m = n // pat_clients
    shared = [Conn(port) for _ in range(pat_clients)]  # connected before the baseline
    measure(lambda: [psubscribe_many(s, [f'shared:{j:08d}:*' for j in range(m)]) for s in shared], m * pat_clients)
    for x in [c, p] + shared:
        x.s.close()
    return out


def resize_pauses(port, n):
    probe = Conn(port)
    probe.cmd('CONFIG', 'SET', 'slowlog-log-slower-than', '2000')
    probe.cmd('CONFIG', 'SET', 'slowlog-max-len', '1000')
    c = Conn(port)
    for i in range(0, n, 1000):
        c.s.sendall(enc('SUBSCRIBE', *[f'channel:{j:08d}' for j in range(i, min(i + 1000, n))]))
        for _ in range(i, min(i + 1000, n)):
            c.reply()
    return sorted((int(e[2]) for e in probe.cmd('SLOWLOG', 'GET', '1000')), reverse=True)[:5]


def run(kind, binary, a):
    p, port, d = start(binary, kind, not a.no_nice)
    r = {}
    try:
        if a.resize:
            print(f'{kind:8s} {a.resize} channels: the slowest SUBSCRIBEs (us): {resize_pauses(port, a.resize)}')
            return None
        if not a.mem_only:
            rate, ok = fanout(port, a.subs, a.publishes, a.payload, 0)
            print(f'{kind:8s} fan-out to {a.subs} subscribers: {rate:,.0f} deliveries/s{"" if ok else " (INCOMPLETE)"}')
            r['fanout'] = rate
            rate, ok = fanout(port, a.subs, a.publishes // 10, a.payload, a.patterns)
            print(f'{kind:8s} same with {a.patterns} patterns present: {rate:,.0f} deliveries/s{"" if ok else " (INCOMPLETE)"}')
            r['fanout_pats'] = rate
        (ps, ps_rss), (pp, pp_rss), (sp, sp_rss) = memory(port, p.pid, a.mem_n, a.pat_clients)
        print(f'{kind:8s} memory: {ps:.1f} bytes per channel subscription, {pp:.1f} bytes per pattern, '
              f'{sp:.1f} bytes per subscription to {a.mem_n // a.pat_clients} patterns x {a.pat_clients} clients '
              f'(RSS: {ps_rss:.1f}, {pp_rss:.1f}, {sp_rss:.1f})')
        r.update(sub=ps, pat=pp, shared=sp, sub_rss=ps_rss, pat_rss=pp_rss, shared_rss=sp_rss)
        sys.stdout.flush()
    finally:
        p.terminate()
        p.wait()
        shutil.rmtree(d, ignore_errors=True)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--server', default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                     'build', 'sardine-server'))
    ap.add_argument('--which', default='both')
    ap.add_argument('--subs', type=int, default=100)
    ap.add_argument('--publishes', type=int, default=100000)
    ap.add_argument('--patterns', type=int, default=10000)
    ap.add_argument('--mem-n', type=int, default=100000)
    ap.add_argument('--pat-clients', type=int, default=10)
    ap.add_argument('--payload', type=int, default=16)
    ap.add_argument('--repeat', type=int, default=1)
    ap.add_argument('--mem-only', action='store_true')
    ap.add_argument('--no-nice', action='store_true')
    ap.add_argument('--resize', type=int, default=0)
    a = ap.parse_args()
    servers = []
    if a.which in ('both', 'redis'):
        servers.append(('redis', shutil.which('redis-server') or '/usr/bin/redis-server'))
    if a.which in ('both', 'sardine'):
        servers.append(('sardine', a.server))
    results = {k: [] for k, _ in servers}
    for _ in range(a.repeat):
        for kind, binary in servers:
            results[kind].append(run(kind, binary, a))
    if a.resize:
        return
    if a.repeat > 1 or len(servers) == 2:
        med = {k: {f: statistics.median(x[f] for x in v) for f in v[0]} for k, v in results.items()}
        print(f'medians of {a.repeat} run(s):')
        for k, m in med.items():
            print(f'  {k:8s} ' + ', '.join(f'{f} {m[f]:,.1f}' for f in m))
        if len(servers) == 2:
            s, r = med['sardine'], med['redis']
            print('  sardine/redis: ' + ', '.join(f'{f} {s[f] / r[f]:.2f}x' for f in s if r[f]))


if __name__ == '__main__':
    main()
