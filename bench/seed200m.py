#!/usr/bin/env python3
"""seed200m: the seed article's workload at its own scale: N keys 'key:%012d' -> i % 1000 with EX 3600,
streamed (no intermediate file) through `redis-cli --pipe` into a fresh sardine-server; reports the
load rate, DBSIZE, RSS and peak RSS per key.

  bench/seed200m.py [--keys 200000000] [--server build/sardine-server]"""
import argparse, os, socket, subprocess, sys, tempfile, threading, time

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def status(pid, field):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) * 1024

def feed(out, n):
    chunk = []
    for i in range(n):
        k = b'key:%012d' % i
        v = b'%d' % (i % 1000)
        chunk.append(b'*5\r\n$3\r\nSET\r\n$16\r\n%s\r\n$%d\r\n%s\r\n$2\r\nEX\r\n$4\r\n3600\r\n' % (k, len(v), v))
        if len(chunk) == 100000:
            out.write(b''.join(chunk)); chunk = []
    out.write(b''.join(chunk))
    out.close()

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--keys', type=int, default=200_000_000)
    ap.add_argument('--server', default='build/sardine-server')
    a = ap.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        srv = subprocess.Popen([a.server, '--port', str(port), '--bind', '127.0.0.1', '--dir', d],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                if subprocess.run(['redis-cli', '-p', str(port), 'ping'], capture_output=True, text=True).stdout.strip() == 'PONG':
                    break
                time.sleep(0.1)
            base = status(srv.pid, 'VmRSS')
            cli = subprocess.Popen(['redis-cli', '-p', str(port), '--pipe'], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            t = time.time()
            th = threading.Thread(target=feed, args=(cli.stdin, a.keys)); th.start()
            out = cli.stdout.read().decode(errors='replace')
            th.join()
            cli.wait()
            secs = time.time() - t
            time.sleep(5)
            dbsize = subprocess.run(['redis-cli', '-p', str(port), 'dbsize'], capture_output=True, text=True).stdout.strip()
            info = subprocess.run(['redis-cli', '-p', str(port), 'info', 'memory'], capture_output=True, text=True).stdout
            rss, hwm = status(srv.pid, 'VmRSS'), status(srv.pid, 'VmHWM')
            used = [l for l in info.splitlines() if l.startswith('used_memory:')]
            print(out.strip().splitlines()[-1])
            print(f'keys={a.keys} dbsize={dbsize} load_s={secs:.1f} keys_per_s={a.keys / secs:,.0f}')
            print(f'rss={rss / 2**30:.2f} GiB ({(rss - base) / a.keys:.2f} B/key)  peak_rss={hwm / 2**30:.2f} GiB '
                  f'({(hwm - base) / a.keys:.2f} B/key)  {used[0] if used else ""}')
        finally:
            srv.terminate(); srv.wait()

main()
