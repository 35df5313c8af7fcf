#!/usr/bin/env bash
# Websocket benchmark: a large centre's consoles on one node, in one go on one machine.
#  1. a fresh database: the demo org tree and calendar, then `hotline loadgen ws-setup` (UNITS
#     handling units under A市 with USERS handlers each, WALLBOARDS dispatchers, live sessions);
#  2. `hotline serve` (release build);
#  3. for each rate of RATES: `hotline loadgen ws` with CONNECTIONS connections (the wallboards
#     and the units' users) for SECONDS seconds, each change one event on one unit's ticket;
#  4. a table: delivery latency, deliveries/s, missing, dropped and refused connections, the
#     server's resident memory; and the highest rate whose p99 stayed under P99_MS.
# Usage: bench/ws.sh [CONNECTIONS=10100] [SECONDS=30] [RATES="500"]
# Environment: UNITS=500 USERS=20 WALLBOARDS=100 P99_MS=200. SQLite by default; with
# DATABASE_URL=postgres://…/NAME on PostgreSQL, where the database NAME is dropped and created
# anew (through the server's `postgres` database).
set -euo pipefail
cd "$(dirname "$0")/.."
connections=${1:-10100}
secs=${2:-30}
rates=${3:-500}
units=${UNITS:-500}
users=${USERS:-20}
wallboards=${WALLBOARDS:-100}
p99_target=${P99_MS:-200}
db_url=${DATABASE_URL:-}
bin=target/release/hotline
cargo build --release --quiet
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# Every connection is an open file of the server and of the load generator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
need=$((connections + 512))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
  echo "the open-file limit is $(ulimit -n), $connections connections need about $need:" >&2
  echo "raise the hard limit (ulimit -Hn, /etc/security/limits.conf, LimitNOFILE=)" >&2
  exit 1
fi

if [ -n "$db_url" ]; then
  name=${db_url##*/}; name=${name%%\?*}
  psql "${db_url%/*}/postgres" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name"
  backend="PostgreSQL"
else
  backend="SQLite"
fi
export DATABASE_URL="$db_url" RUST_LOG=warn
dir=$work/data
"$bin" import org demo/org.csv --data-dir "$dir" >/dev/null
"$bin" import calendar demo/calendar/cn-2026.csv --data-dir "$dir" >/dev/null
echo "== setup: $units units × $users users, $wallboards wallboards ($backend)"
"$bin" loadgen ws-setup --units "$units" --users-per-unit "$users" --wallboards "$wallboards" \
  --data-dir "$dir" --out "$work/tokens.txt"

"$bin" serve --listen 127.0.0.1:0 --data-dir "$dir" > "$work/out" &
pid=$!
url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's/^hotline listening on //p' "$work/out" | head -n 1)
  [ -n "$url" ] && break
  sleep 0.2
done
[ -n "$url" ] || { echo "the server did not start" >&2; exit 1; }

value() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
rows=()
best=""
for rate in $rates; do
  echo "== $connections connections, $rate changes/s, ${secs}s"
  # The report goes to stderr, the `result` line is kept.
  "$bin" loadgen ws --url "$url" --tokens "$work/tokens.txt" --connections "$connections" \
    --wallboards "$wallboards" --units "$units" --rate "$rate" --duration "$secs" \
    --server-pid "$pid" > "$work/loadgen.txt"
  cat "$work/loadgen.txt" >&2
  r=$(sed -n 's/^result //p' "$work/loadgen.txt")
  rows+=("| $rate | $(value "$r" rate) | $(value "$r" opened) | $(value "$r" deliveries_per_s) | $(value "$r" p50_ms) | $(value "$r" p99_ms) | $(value "$r" max_ms) | $(value "$r" missing) | $(value "$r" dropped) | $(($(value "$r" refused) + $(value "$r" failed))) | $(value "$r" rss_mib) / $(value "$r" peak_rss_mib) |")
  if awk "BEGIN {exit !($(value "$r" p99_ms) < $p99_target)}" \
    && [ "$(value "$r" dropped)" = 0 ] && [ "$(value "$r" missing)" = 0 ]; then
    best=$rate
  fi
done
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
if [ -n "$db_url" ]; then
  psql "${db_url%/*}/postgres" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)"
fi

echo
echo "$backend, $connections connections ($((connections - wallboards)) users of $units units, $wallboards wallboards), ${secs}s per rate"
echo
echo "| changes/s asked | changes/s made | connections open | deliveries/s | p50 ms | p99 ms | max ms | missing | dropped | refused | server RSS MiB (max / peak) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "highest rate with p99 < $p99_target ms, nothing missing or dropped: ${best:-none}"
