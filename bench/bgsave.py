#!/usr/bin/env python3
"""bgsave: a background save under a write load, side by side on redis-server and sardine-server.

  bench/bgsave.py [--keys 10000000] [--server build/sardine-server] [--which both|redis|sardine]
                  [--clients 50] [--pipeline 1] [--window 3] [--fork-too] [--aof rdb|commands] [--stream]

With --aof, the servers run with appendonly yes (aof-use-rdb-preamble yes for `rdb`, no for `commands`)
and the save measured is a BGREWRITEAOF (its base: an RDB image or the commands that rebuild the
dataset); the write load then also goes to the AOF.

For each server: start it fresh on an empty temporary --dir (no save points), load N keys 'key:%012d' ->
i % 1000 with EX 3600 through `redis-cli --pipe`, then start `redis-benchmark -t set,incr -r N` (the same
keys: its __rand_int__ keys are 'key:%012d') in the background for the whole run, and:

  1. measure the write rate over --window seconds with no save (INFO total_commands_processed deltas);
  2. send BGSAVE and, until rdb_bgsave_in_progress is 0 again: ping the server every millisecond on a
     second connection, from a process of its own (the longest round trip is the longest pause a client saw), sample the RSS of
     the server and of its children (Redis's fork) every 10 ms, and count the commands processed;
  3. report: save duration, longest ping round trip (also over the window without a save, with the
     loop's longest iteration there: the load's own pauses), the server's own longest event loop iteration
     during the save in wall and in CPU time (Sardine's INFO eventloop_duration_max_usec and
     eventloop_duration_cpu_max_usec: the difference is time the machine gave to others), write rate during the save / without it, RSS before
     and peak RSS during the save (server + children) as a percentage of the RSS before, file size, and
     Redis's own latest_fork_usec and rdb_last_cow_size;
  4. beside both windows, bench/stallprobe.c (compiled with cc, run under chrt -f 50 when allowed) reports
     the machine's own longest stall: how late a real-time thread sleeping 1 ms at a time was woken.  No
     thread of the server can pause for less than that.

Needs redis-server, redis-cli and redis-benchmark (Debian's redis-server / redis-tools) and Python 3's
standard library.  The machine is shared: compare the two servers' figures from the same run."""
import argparse, os, shutil, socket, subprocess, sys, tempfile, threading, time


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(('127.0.0.1', port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.s.makefile('rb')

    def cmd(self, *args):
        out = [b'*%d\r\n' % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b'$%d\r\n%s\r\n' % (len(a), a))
        self.s.sendall(b''.join(out))
        return self.read()

    def read(self):
        line = self.f.readline()
        t, rest = line[:1], line[1:-2]
        if t in (b'+', b'-'):
            return rest.decode()
        if t == b':':
            return int(rest)
        if t == b'$':
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data.decode(errors='replace')
        if t == b'*':
            return [self.read() for _ in range(int(rest))]
        raise RuntimeError(f'bad reply {line!r}')


def info(c, section):
    out = {}
    for line in c.cmd('INFO', section).split('\r\n'):
        if ':' in line:
            k, v = line.split(':', 1)
            out[k] = v
    return out


def rss_tree(pid):
    """RSS of pid plus its children (a forking server's save child)."""
    total = 0
    pids = [pid]
    try:
        for tid in os.listdir(f'/proc/{pid}/task'):
            with open(f'/proc/{pid}/task/{tid}/children') as f:
                pids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    for p in pids:
        try:
            with open(f'/proc/{p}/status') as f:
                for line in f:
                    if line.startswith('VmRSS:'):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def write_keys(f, n):
    chunk = []
    for i in range(n):
        k = b'key:%012d' % i
        v = b'%d' % (i % 1000)
        chunk.append(b'*5\r\n$3\r\nSET\r\n$16\r\n%s\r\n$%d\r\n%s\r\n$2\r\nEX\r\n$4\r\n3600\r\n' % (k, len(v), v))
        if len(chunk) == 100000:
            f.write(b''.join(chunk))
            chunk = []
    f.write(b''.join(chunk))


def feed(path, n):
    with open(path, 'wb') as f:
        write_keys(f, n)


def load(port, respfile, n):
    """redis-cli --pipe from the file, or (respfile None: --stream) from a generator, no file."""
    if respfile:
        with open(respfile, 'rb') as f:
            subprocess.run(['redis-cli', '-p', str(port), '--pipe'], stdin=f, stdout=subprocess.DEVNULL, check=True)
        return
    cli = subprocess.Popen(['redis-cli', '-p', str(port), '--pipe'], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    write_keys(cli.stdin, n)
    cli.stdin.close()
    assert cli.wait() == 0


def ping_forever(port):
    """--pinger: PING every millisecond on a connection of its own, printing '<time.monotonic()> <ms>' for
    each round trip over 1 ms.  A process, not a thread: a thread would share the interpreter's lock with
    the sampling loop and count its waits as round trips."""
    p = Conn(port)
    while True:
        s = time.monotonic()
        p.cmd('PING')
        e = time.monotonic()
        if e - s > 0.001:
            print('%.6f %.3f' % (e, (e - s) * 1000), flush=True)
        time.sleep(0.001)


class Events:
    """A process printing '<CLOCK_MONOTONIC seconds> <ms>' lines; worst() is the largest ms in a window."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        self.events = []
        self.th = threading.Thread(target=self._read, daemon=True)
        self.th.start()

    def _read(self):
        for line in self.proc.stdout:
            t, late = line.split()
            self.events.append((float(t), float(late)))

    def worst(self, start, end):
        return max([late for t, late in self.events if start <= t <= end], default=0.0)

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.th.join()


class StallProbe(Events):
    """bench/stallprobe.c beside the run: the machine's longest stalls."""

    def __init__(self):
        src = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'stallprobe.c')
        self.dir = tempfile.mkdtemp(prefix='stallprobe-')
        exe = os.path.join(self.dir, 'stallprobe')
        subprocess.run(['cc', '-O2', '-o', exe, src], check=True)
        argv = [exe]
        if subprocess.run(['chrt', '-f', '50', 'true'], stderr=subprocess.DEVNULL).returncode == 0:
            argv = ['chrt', '-f', '50', exe]
        super().__init__(argv)

    def stop(self):
        super().stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def run(kind, argv0, args, respfile, extra=()):
    d = tempfile.mkdtemp(prefix=f'bgsave-{kind}-')
    port = free_port()
    argv = [argv0, '--port', str(port), '--bind', '127.0.0.1', '--dir', d, '--save', '']
    if args.aof:
        argv += ['--appendonly', 'yes', '--aof-use-rdb-preamble', 'yes' if args.aof == 'rdb' else 'no']
    elif kind == 'redis':
        argv += ['--appendonly', 'no']
    argv += list(extra)
    log = open(os.path.join(d, 'server.log'), 'wb')
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(500):
            try:
                c = Conn(port)
                if c.cmd('PING') == 'PONG':
                    break
            except OSError:
                time.sleep(0.02)
        load(port, respfile, args.keys)
        n = c.cmd('DBSIZE')
        assert n == args.keys, f'{kind}: DBSIZE {n}'
        bench = subprocess.Popen(['redis-benchmark', '-p', str(port), '-t', 'set,incr', '-r', str(args.keys), '-n',
                                  '1000000000', '-c', str(args.clients), '-P', str(args.pipeline), '-q'],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        pinger = Events([sys.executable, os.path.abspath(__file__), '--pinger', str(port)])
        probe = StallProbe()
        # the same figures without a save first: the load's own pauses, to compare with those during the save
        c.cmd('CONFIG', 'RESETSTAT')
        ops0 = int(info(c, 'stats')['total_commands_processed'])
        t0 = time.monotonic()
        time.sleep(args.window)
        base_rate = (int(info(c, 'stats')['total_commands_processed']) - ops0) / (time.monotonic() - t0)
        st0 = info(c, 'stats')
        window0 = (t0, time.monotonic())
        rss_before = rss_tree(proc.pid)
        c.cmd('CONFIG', 'RESETSTAT')  # Sardine: eventloop_duration_max_usec from here on (Redis 7.0 has no such field)
        ops1 = int(info(c, 'stats')['total_commands_processed'])
        t1 = time.monotonic()
        assert 'started' in c.cmd('BGREWRITEAOF' if args.aof else 'BGSAVE')
        field = 'aof_rewrite_in_progress' if args.aof else 'rdb_bgsave_in_progress'
        peak = rss_before
        while info(c, 'persistence')[field] == '1':
            peak = max(peak, rss_tree(proc.pid))
            time.sleep(0.01)
        dur = time.monotonic() - t1
        save_rate = (int(info(c, 'stats')['total_commands_processed']) - ops1) / dur
        pinger.stop()
        probe.stop()
        bench.kill()
        bench.wait()
        st, pe = info(c, 'stats'), info(c, 'persistence')
        if args.aof:
            aofdir = os.path.join(d, 'appendonlydir')
            size = sum(os.path.getsize(os.path.join(aofdir, f)) for f in os.listdir(aofdir) if '.base.' in f)
        else:
            size = os.path.getsize(os.path.join(d, 'dump.rdb'))
        return {
            'save_s': dur, 'worst_ping_nosave_ms': pinger.worst(*window0), 'worst_ping_ms': pinger.worst(t1, t1 + dur),
            'machine_stall_nosave_ms': probe.worst(*window0), 'machine_stall_ms': probe.worst(t1, t1 + dur),
            'max_loop_iter_nosave_ms': int(st0['eventloop_duration_max_usec']) / 1000 if 'eventloop_duration_max_usec' in st0 else '-',
            'max_loop_iter_cpu_nosave_ms': int(st0['eventloop_duration_cpu_max_usec']) / 1000 if 'eventloop_duration_cpu_max_usec' in st0 else '-',
            'max_loop_iter_ms': int(st['eventloop_duration_max_usec']) / 1000 if 'eventloop_duration_max_usec' in st else '-',
            'max_loop_iter_cpu_ms': int(st['eventloop_duration_cpu_max_usec']) / 1000 if 'eventloop_duration_cpu_max_usec' in st else '-', 'rate_no_save': base_rate, 'rate_during_save': save_rate,
            'rate_ratio': save_rate / base_rate if base_rate else 0, 'rss_before_mb': rss_before / 2**20,
            'rss_peak_mb': peak / 2**20, 'rss_growth_pct': (peak - rss_before) * 100 / rss_before,
            'file_mb': size / 2**20,
            'status': pe['aof_last_bgrewrite_status' if args.aof else 'rdb_last_bgsave_status'],
            'latest_fork_usec': st.get('latest_fork_usec', '-'), 'rdb_last_cow_size': pe.get('rdb_last_cow_size', '-'),
        }
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--keys', type=int, default=10_000_000)
    ap.add_argument('--server', default='build/sardine-server')
    ap.add_argument('--which', default='both', choices=['both', 'redis', 'sardine'])
    ap.add_argument('--fork-too', action='store_true', help="also run sardine with bgsave-fork yes (Redis's design)")
    ap.add_argument('--clients', type=int, default=50)
    ap.add_argument('--pipeline', type=int, default=1)
    ap.add_argument('--window', type=float, default=3.0)
    ap.add_argument('--aof', choices=['rdb', 'commands'], help='measure BGREWRITEAOF with this base format instead of BGSAVE')
    ap.add_argument('--stream', action='store_true', help='generate the keys while loading, without a file (for 200M keys)')
    ap.add_argument('--pinger', type=int, metavar='PORT', help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.pinger:
        return ping_forever(args.pinger)
    respfile = None if args.stream else os.path.join(tempfile.gettempdir(), f'bgsave-{args.keys}.resp')
    if respfile and not os.path.exists(respfile):
        print(f'generating {respfile} ...', file=sys.stderr)
        feed(respfile + '.tmp', args.keys)
        os.rename(respfile + '.tmp', respfile)
    results = {}
    runs = [('redis', shutil.which('redis-server') or '/usr/bin/redis-server', ()), ('sardine', args.server, ())]
    if args.fork_too:
        runs.append(('sardine-fork', args.server, ('--bgsave-fork', 'yes')))
    for kind, argv0, extra in runs:
        if args.which in ('both', kind.split('-')[0]):
            print(f'{kind} ...', file=sys.stderr)
            results[kind] = run(kind.split('-')[0], argv0, args, respfile, extra)
    keys = list(next(iter(results.values())).keys())
    print(f'{"figure":30s}' + ''.join(f'{k:>16s}' for k in results))
    for k in keys:
        row = f'{k:30s}'
        for r in results.values():
            v = r[k]
            row += f'{v:16.2f}' if isinstance(v, float) else f'{str(v):>16s}'
        print(row)


if __name__ == '__main__':
    main()
