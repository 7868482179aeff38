#!/usr/bin/env python3
"""loadpause: while N keys load through `redis-cli --pipe`, ping the server every millisecond on a second
connection and report the worst round trip (the longest event-loop pause a client saw), then the RSS per
key after the load settles.  Runs the same on redis-server and on sardine-server, side by side.

  bench/loadpause.py [--keys N] [--value-size 16] [--ttl 0] [--server build/sardine-server]

Keys are 'key:%012d' (16 bytes); values are 'v' padded to --value-size (a string, not an integer).
Needs redis-cli and redis-server (Debian's redis-tools / redis-server) and Python 3's standard library."""
import argparse, os, socket, subprocess, sys, tempfile, threading, time

def resp(*args):
    out = [b'*%d\r\n' % len(args)]
    for a in args:
        out.append(b'$%d\r\n%s\r\n' % (len(a), a))
    return b''.join(out)

def generate(path, n, vsize, ttl):
    with open(path, 'wb') as f:
        buf = []
        for i in range(n):
            key = b'key:%012d' % i
            val = (b'v%d' % i).ljust(vsize, b'x')[:vsize]
            buf.append(resp(b'SET', key, val, b'EX', b'%d' % ttl) if ttl else resp(b'SET', key, val))
            if len(buf) == 10000:
                f.write(b''.join(buf)); buf = []
        f.write(b''.join(buf))

def rss(pid):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) * 1024

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def pinger(port, stop, worst):
    s = socket.create_connection(('127.0.0.1', port)); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while not stop.is_set():
        t = time.perf_counter(); s.sendall(b'PING\r\n'); data = b''
        while not data.endswith(b'\r\n'):
            data += s.recv(64)
        dt = (time.perf_counter() - t) * 1000
        if dt > worst[0]: worst[0] = dt
        worst[1] += 1
        time.sleep(0.001)

def run(argv, path, n):
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        srv = subprocess.Popen([a.replace('{port}', str(port)).replace('{dir}', d) for a in argv],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                if subprocess.run(['redis-cli', '-p', str(port), 'ping'], capture_output=True, text=True).stdout.strip() == 'PONG':
                    break
                time.sleep(0.05)
            time.sleep(0.5); base = rss(srv.pid)
            subprocess.run(['redis-cli', '-p', str(port), 'config', 'resetstat'], capture_output=True)
            stop, worst = threading.Event(), [0.0, 0]
            th = threading.Thread(target=pinger, args=(port, stop, worst)); th.start()
            t = time.time()
            with open(path, 'rb') as f:
                r = subprocess.run(['redis-cli', '-p', str(port), '--pipe'], stdin=f, capture_output=True, text=True)
            secs = time.time() - t
            stop.set(); th.join()
            info = subprocess.run(['redis-cli', '-p', str(port), 'info', 'stats'], capture_output=True, text=True).stdout
            loop_max = [l.split(':')[1].strip() for l in info.splitlines() if l.startswith('eventloop_duration_max_usec:')]
            loop_cpu = [l.split(':')[1].strip() for l in info.splitlines() if l.startswith('eventloop_duration_cpu_max_usec:')]
            if 'errors: 0' not in r.stdout:
                sys.exit(f'load failed: {r.stdout[-300:]}')
            last, same = rss(srv.pid), 0
            for _ in range(240):
                time.sleep(0.5); now = rss(srv.pid)
                same = same + 1 if abs(now - last) < last * 0.001 else 0
                last = now
                if same >= 6: break
            dbsize = subprocess.run(['redis-cli', '-p', str(port), 'dbsize'], capture_output=True, text=True).stdout.strip()
            return {'rss_per_key': (last - base) / n, 'worst_pause_ms': worst[0], 'pings': worst[1],
                    'server_loop_max_ms': int(loop_max[0]) / 1000 if loop_max else float('nan'),
                    'server_loop_cpu_max_ms': int(loop_cpu[0]) / 1000 if loop_cpu else float('nan'),
                    'keys_per_s': n / secs, 'dbsize': dbsize}
        finally:
            srv.terminate(); srv.wait()

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--keys', type=int, default=1000000)
    ap.add_argument('--value-size', type=int, default=16)
    ap.add_argument('--ttl', type=int, default=0)
    ap.add_argument('--server', default='build/sardine-server')
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'load.resp')
        generate(path, a.keys, a.value_size, a.ttl)
        systems = [('redis', ['redis-server', '--port', '{port}', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '{dir}']),
                   ('sardine', [a.server, '--port', '{port}', '--bind', '127.0.0.1', '--dir', '{dir}'])]
        res = {name: run(argv, path, a.keys) for name, argv in systems}
    print(f'keys={a.keys} value_size={a.value_size} ttl={a.ttl}')
    print(f'{"figure":16} {"redis":>12} {"sardine":>12} {"ratio":>7}')
    print('(worst_pause_ms: worst PING round trip seen by a client pinging every ms during the load, which '
          'includes client-side scheduling noise; server_loop_max_ms: the longest event-loop iteration the server '
          'measured itself, INFO eventloop_duration_max_usec; server_loop_cpu_max_ms: the CPU time of the longest '
          'one, without preemption by other processes, eventloop_duration_cpu_max_usec; both Sardine only)')
    for k in ('rss_per_key', 'worst_pause_ms', 'server_loop_max_ms', 'server_loop_cpu_max_ms', 'keys_per_s', 'pings'):
        ra, rb = res['redis'][k], res['sardine'][k]
        ratio = rb / ra if ra and ra == ra else float('nan')
        print(f'{k:18} {ra:12.2f} {rb:12.2f} {ratio:7.3f}')
    print('dbsize', res['redis']['dbsize'], res['sardine']['dbsize'])

main()
