#!/bin/bash
# Bulk-load benchmark (not a test): sardine-cli --pipe vs redis-cli --pipe on
# the same RESP file, and sardine-cli --import of the equivalent CSV, each
# into a fresh redis-server, alternating, RUNS times.
#   tests/cli/bench.sh [N=10000000] [RUNS=3]
# Needs /usr/bin/python3, redis-server, redis-cli; writes files under $BENCH_DIR (default /tmp/sardine-bench).
set -euo pipefail
N=${1:-10000000}
RUNS=${2:-3}
CLI=${SARDINE_CLI:-build/sardine-cli}
DIR=${BENCH_DIR:-/tmp/sardine-bench}
mkdir -p "$DIR"
if [ ! -f "$DIR/sets-$N.resp" ]; then
    /usr/bin/python3 - "$N" "$DIR" <<'PY'
import sys
n, d = int(sys.argv[1]), sys.argv[2]
with open(f"{d}/sets-{n}.resp", "wb", buffering=1 << 20) as r, open(f"{d}/sets-{n}.csv", "wb", buffering=1 << 20) as c:
    for i in range(n):
        k, v = b"key:%d" % i, b"value:%d" % i
        r.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
        c.write(b"%s,%s\n" % (k, v))
PY
fi
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

run() { # name, command...
    local name=$1; shift
    redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR" --daemonize no >/dev/null &
    local spid=$!
    until redis-cli -p "$PORT" ping >/dev/null 2>&1; do sleep 0.05; done
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>"$DIR/err.txt" || { cat "$DIR/err.txt"; }
    t1=$(date +%s.%N)
    local keys
    keys=$(redis-cli -p "$PORT" dbsize)
    kill "$spid"; wait "$spid" 2>/dev/null || true
    printf '%-22s %8.2fs  %6.0fk cmd/s  keys=%s\n' "$name" "$(echo "$t1 - $t0" | bc)" "$(echo "$N / ($t1 - $t0) / 1000" | bc -l)" "$keys"
}

for r in $(seq "$RUNS"); do
    run "redis-cli --pipe"    sh -c "redis-cli -p $PORT --pipe < $DIR/sets-$N.resp"
    run "sardine-cli --pipe"  sh -c "$CLI -p $PORT --pipe < $DIR/sets-$N.resp"
    run "sardine-cli --import" "$CLI" -p "$PORT" --import "$DIR/sets-$N.csv" --cmd 'SET {1} {2}'
done
