#!/usr/bin/env bash
# One flat-out run of callhook-load against a fresh peer-node server.
#
#   tools/peer-node/measure.sh [connections=256] [workers=1] [duration=10]
#
# Needs `cargo build --release -p callhook-loadgen` first. The SQLite file goes in a new
# directory under $TMPDIR (as the bench's). A 1 s flat-out warm-up (as `callhook-load
# bench` does) precedes the measured run. Prints the load tool's report, plus the CPU
# of every peer-node process (the load tool's --server-pid sees only the one it is given,
# which with --workers 2 is the cluster's primary).
set -euo pipefail
connections=${1:-256}
workers=${2:-1}
duration=${3:-10}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
load="$repo/target/release/callhook-load"
dir=$(mktemp -d "${TMPDIR:-/tmp}/peer-node-XXXXXX")
port=${PORT:-3100}

node "$here/server.js" --port "$port" --db "$dir/events.sqlite" --workers "$workers" >"$dir/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  [ "$(grep -c listening "$dir/server.log" || true)" -ge "$workers" ] && break
  sleep 0.1
done

# utime + stime, in clock ticks, of the server and its workers.
cpu_ticks() {
  local total=0 pid
  for pid in "$server" $(pgrep -P "$server" || true); do
    [ -r "/proc/$pid/stat" ] || continue
    total=$((total + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
  done
  echo "$total"
}

"$load" run --target "http://127.0.0.1:$port" --max --duration 1 --connections "$connections" \
  --ack-log "$dir/warmup-acked.tsv" >"$dir/warmup.txt" 2>&1
before=$(cpu_ticks)
"$load" run --target "http://127.0.0.1:$port" --max --duration "$duration" --connections "$connections" \
  --server-pid "$server" --ack-log "$dir/acked.tsv" 2>"$dir/load.err" | tee "$dir/report.txt"
after=$(cpu_ticks)
acked=$(sed -n 's/.*acknowledged \([0-9]*\) .*/\1/p' "$dir/report.txt")
awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$acked" -v w="$workers" \
  'BEGIN { s = t / hz; printf "  peer-node CPU (%d worker(s), all processes): %.2f s, %.1f ms per 1,000 requests\n", w, s, n ? 1e6 * s / n : 0 }'
kill "$server"
wait "$server" 2>/dev/null || true
trap - EXIT
node -e "
const db = new (require('$here/node_modules/better-sqlite3'))('$dir/events.sqlite', { readonly: true });
console.log('  rows stored (warm-up included):', db.prepare('SELECT count(*) AS n FROM webhooks').get().n);
"
echo "  distinct events acknowledged (warm-up included): $(sort -u "$dir/warmup-acked.tsv" "$dir/acked.tsv" | wc -l)"
echo "  files in $dir"
