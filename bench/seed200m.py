#!/usr/bin/env python3
"""seed200m: the seed article's workload at its own scale: N keys 'key:%012d' -> i % 1000 with EX 3600,
streamed (no intermediate file) through `redis-cli --pipe` into a fresh sardine-server; reports the
load rate, DBSIZE, RSS and peak RSS per key.  With --persist it then times SAVE, reports the file's
size, restarts the server on the file and reports the restart-to-loaded time (start until PING answers
PONG and DBSIZE is N) and the peak RSS during the load against the RSS once loaded.

  bench/seed200m.py [--keys 200000000] [--server build/sardine-server] [--persist] [--dir DIR]"""
import argparse, os, socket, subprocess, sys, tempfile, threading, time

from bgsave import write_keys  # the same keys and values, as RESP

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def status(pid, field):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) * 1024

def feed(out, n):
    write_keys(out, n)
    out.close()

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--keys', type=int, default=200_000_000)
    ap.add_argument('--server', default='build/sardine-server')
    ap.add_argument('--persist', action='store_true', help='then SAVE, restart on the file, time the load')
    ap.add_argument('--dir', default=None, help='where the RDB file goes (default: a temporary directory)')
    a = ap.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory(dir=a.dir) as d:
        srv = subprocess.Popen([a.server, '--port', str(port), '--bind', '127.0.0.1', '--dir', d, '--save', ''],
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
                  f'({(hwm - base) / a.keys:.2f} B/key)  {used[0] if used else ""}', flush=True)
            if a.persist:
                t = time.time()
                r = subprocess.run(['redis-cli', '-p', str(port), 'save'], capture_output=True, text=True).stdout.strip()
                save_s = time.time() - t
                size = os.path.getsize(os.path.join(d, 'dump.rdb'))
                print(f'SAVE {r} in {save_s:.1f} s; dump.rdb {size / 2**30:.2f} GiB ({size / a.keys:.2f} B/key)', flush=True)
                srv.terminate(); srv.wait()
                t = time.time()
                srv = subprocess.Popen([a.server, '--port', str(port), '--bind', '127.0.0.1', '--dir', d, '--save', ''],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                while subprocess.run(['redis-cli', '-p', str(port), 'ping'], capture_output=True,
                                     text=True).stdout.strip() != 'PONG':
                    time.sleep(0.1)
                load_s = time.time() - t
                dbsize = subprocess.run(['redis-cli', '-p', str(port), 'dbsize'], capture_output=True, text=True).stdout.strip()
                time.sleep(5)
                rss, hwm = status(srv.pid, 'VmRSS'), status(srv.pid, 'VmHWM')
                print(f'restart-to-loaded {load_s:.1f} s, dbsize={dbsize}; rss after load {rss / 2**30:.2f} GiB, '
                      f'peak during load {hwm / 2**30:.2f} GiB ({(hwm - rss) * 100 / rss:+.1f}%)', flush=True)
        finally:
            srv.terminate(); srv.wait()

main()
