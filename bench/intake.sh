#!/usr/bin/env bash
# Intake benchmark, in one go on one machine:
#  1. pgbench: single-row INSERTs of an appeal-sized row, synchronous commit (the default), CLIENTS
#     clients, SECONDS seconds: what PostgreSQL itself reaches here;
#  2. hotline on the same PostgreSQL: signed appeals over HTTP (POST /api/v1/appeals), closed loop
#     with CLIENTS workers: the most it takes;
#  3. hotline open loop at RATE appeals/s: the latency percentiles at that rate;
#  4. the same closed loop on the embedded SQLite file.
# Usage: bench/intake.sh [CLIENTS=32] [SECONDS=15] [RATE=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-32}
secs=${2:-15}
rate=${3:-1000}
admin=${HOTLINE_BENCH_PG:-postgres://postgres@127.0.0.1:5432/test}
base=${admin%/*}
db=hotline_bench
# Both pgbench and the server connect the same way: over local TCP, without TLS by default (on
# one host TLS only costs CPU; set HOTLINE_BENCH_SSLMODE=require to measure with it).
opts="sslmode=${HOTLINE_BENCH_SSLMODE:-disable}"
bin=target/release/hotline
cargo build --release --quiet
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

psql "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
psql "$base/$db" -qc "CREATE TABLE bench_appeals (id BIGSERIAL PRIMARY KEY, title TEXT, detail TEXT, phone TEXT, received_at TIMESTAMPTZ NOT NULL DEFAULT now())"
cat > "$work/insert.sql" <<'SQL'
INSERT INTO bench_appeals (title, detail, phone) VALUES ('小区门口路灯不亮', 'A2区桂花坪街道某小区门口路灯连续一周不亮，晚上出行很不方便，请尽快维修。', '13900000000');
SQL
echo "== pgbench: single-row insert, $clients clients, ${secs}s"
pg_tps=$(pgbench -n -c "$clients" -j 2 -T "$secs" -f "$work/insert.sql" "$base/$db?$opts" | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
echo "pgbench tps: $pg_tps"

serve() { # serve DATA_DIR [DATABASE_URL]
  local dir=$1 url=${2:-}
  DATABASE_URL="$url" HOTLINE_RATE_LIMIT_PER_IP=100000000 HOTLINE_RATE_LIMIT_PER_CLIENT=100000000 \
    HOTLINE_POOL_SIZE="$clients" RUST_LOG=warn \
    "$bin" import org demo/org.csv --data-dir "$dir" >/dev/null
  DATABASE_URL="$url" RUST_LOG=warn "$bin" import calendar demo/calendar/cn-2026.csv --data-dir "$dir" >/dev/null
  DATABASE_URL="$url" RUST_LOG=warn "$bin" admin client create bench --channel app --data-dir "$dir" > "$dir/client.txt"
  DATABASE_URL="$url" HOTLINE_RATE_LIMIT_PER_IP=100000000 HOTLINE_RATE_LIMIT_PER_CLIENT=100000000 \
    HOTLINE_POOL_SIZE="$clients" RUST_LOG=warn "$bin" serve --listen 127.0.0.1:0 --data-dir "$dir" > "$dir/out" &
  pid=$!
  for _ in $(seq 1 100); do
    url_out=$(sed -n 's/^hotline listening on //p' "$dir/out" | head -n 1)
    [ -n "$url_out" ] && break
    sleep 0.2
  done
  export HOTLINE_CLIENT_ID=$(sed -n 's/^client_id: //p' "$dir/client.txt")
  export HOTLINE_CLIENT_SECRET=$(sed -n 's/^secret: //p' "$dir/client.txt")
}
# The report goes to stderr, the `result` line to the caller (not `tee /dev/stderr`: that reopens
# the output and, redirected to a file, truncates it).
loadgen() {
  "$bin" loadgen intake --url "$url_out" "$@" > "$work/loadgen.txt"
  cat "$work/loadgen.txt" >&2
  sed -n 's/^result //p' "$work/loadgen.txt"
}

# CPU time in clock ticks: of one process (all its threads), and of every PostgreSQL process.
# A closed loop's CPU per appeal is read once the server has gone quiet again, so the work the
# intake leaves to the background (repeat checks, dispatch suggestions) is counted too.
tick=$(getconf CLK_TCK)
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_cpu() { local t=0 p; for p in $(pgrep -x postgres); do t=$((t + $(cpu_of "$p"))); done; echo "$t"; }
quiet() { # waits (at most 60 s) until the server uses under 2 % of a core
  local a b
  for _ in $(seq 1 60); do
    a=$(cpu_of "$pid"); sleep 1; b=$(cpu_of "$pid")
    [ $((b - a)) -le $((tick / 50)) ] && return
  done
}
measured() { # measured NAME LOADGEN-ARGS...: runs the load generator, then reports CPU per appeal
  local name=$1 s0 p0 out ok; shift
  quiet; s0=$(cpu_of "$pid"); p0=$(pg_cpu)
  out=$(loadgen "$@")
  quiet
  ok=$(value "$out" ok)
  cpu_line="$name: CPU per appeal, server $(awk "BEGIN {printf \"%.2f\", 1000*($(cpu_of "$pid")-$s0)/$tick/$ok}") ms, PostgreSQL $(awk "BEGIN {printf \"%.2f\", 1000*($(pg_cpu)-$p0)/$tick/$ok}") ms"
  echo "$cpu_line" | tee -a "$work/cpu.txt" >&2
  echo "$out"
}
value() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

psql "$admin" -qc "DROP DATABASE $db WITH (FORCE)" -c "CREATE DATABASE $db"
mkdir -p "$work/pg"
serve "$work/pg" "$base/$db?$opts"
echo "== hotline on PostgreSQL: closed loop, $clients workers, ${secs}s"
closed=$(measured "PostgreSQL, closed loop" --concurrency "$clients" --duration "$secs")
echo "== hotline on PostgreSQL: open loop at $rate/s, ${secs}s"
open=$(loadgen --rate "$rate" --duration "$secs" --concurrency "$clients")
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

mkdir -p "$work/sqlite"
serve "$work/sqlite"
echo "== hotline on SQLite: closed loop, $clients workers, ${secs}s"
lite=$(measured "SQLite, closed loop" --concurrency "$clients" --duration "$secs")
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
psql "$admin" -qc "DROP DATABASE $db WITH (FORCE)"

h_rate=$(value "$closed" rate)
echo
echo "| measure | result |"
echo "|---|---|"
echo "| pgbench single-row insert, $clients clients | ${pg_tps%.*} tps |"
echo "| hotline intake on PostgreSQL, closed loop, $clients clients | $h_rate appeals/s ($(awk "BEGIN {printf \"%.0f\", 100*$h_rate/$pg_tps}") % of pgbench), p99 $(value "$closed" p99_ms) ms |"
echo "| hotline intake on PostgreSQL, open loop at $rate/s | p50 $(value "$open" p50_ms) ms, p99 $(value "$open" p99_ms) ms, p99.9 $(value "$open" p999_ms) ms, errors $(value "$open" errors) |"
echo "| hotline intake on SQLite, closed loop, $clients clients | $(value "$lite" rate) appeals/s, p99 $(value "$lite" p99_ms) ms |"
cat "$work/cpu.txt"
