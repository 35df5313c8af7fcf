#!/usr/bin/env bash
# Analytics at scale, in one go on one machine:
#  1. a fresh database filled by `hotline loadgen seed --tickets N` (realistic tickets with their
#     event histories over 2026; PostgreSQL COPY, batched SQLite inserts);
#  2. `hotline analytics rebuild` (the rollups recomputed from every event);
#  3. `hotline serve` (release build) and, as a leader of the whole city, every dashboard query
#     over the API, for the last 30 days and for the whole year, each run RUNS times (the
#     median and the slowest are printed), and the dashboard page itself;
#  4. a table of seed time, rebuild time and each query's time.
# Usage: bench/analytics.sh [TICKETS=1000000] [RUNS=5]
# SQLite by default; with DATABASE_URL=postgres://…/NAME on PostgreSQL, where the database NAME
# is dropped and created anew (through the server's `postgres` database).
set -euo pipefail
cd "$(dirname "$0")/.."
tickets=${1:-1000000}
runs=${2:-5}
db_url=${DATABASE_URL:-}
bin=target/release/hotline
cargo build --release --quiet
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
if [ -n "$db_url" ]; then
  name=${db_url##*/}; name=${name%%\?*}
  psql "${db_url%/*}/postgres" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name"
  backend="PostgreSQL"
else
  backend="SQLite"
fi
export DATABASE_URL="$db_url" RUST_LOG=warn
dir=$work/data
seconds() { date +%s.%N; }

echo "== seeding $tickets tickets ($backend)"
t0=$(seconds)
"$bin" loadgen seed --tickets "$tickets" --data-dir "$dir" | tail -n 1
seed_s=$(awk "BEGIN {print $(seconds) - $t0}")
echo "== rebuilding the rollups"
t0=$(seconds)
"$bin" analytics rebuild --data-dir "$dir" | tail -n 1
rebuild_s=$(awk "BEGIN {print $(seconds) - $t0}")

password="bench-$(head -c 12 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
echo "$password" | "$bin" admin create-user --name bench-leader --role leader --unit 990100 \
  --password-stdin --data-dir "$dir" >/dev/null
"$bin" serve --listen 127.0.0.1:0 --data-dir "$dir" > "$work/out" &
pid=$!
url=""
for _ in $(seq 1 300); do
  url=$(sed -n 's/^hotline listening on //p' "$work/out" | head -n 1)
  [ -n "$url" ] && break
  sleep 0.2
done
[ -n "$url" ] || { echo "the server did not start" >&2; exit 1; }
token=$(curl -sf "$url/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"username\":\"bench-leader\",\"password\":\"$password\"}" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || { echo "cannot sign in" >&2; exit 1; }

last=$(date -u +%F)
year_from="2026-01-01"
month_from=$(date -u -d "$last - 29 days" +%F)
# time_ms PATH: the median and the slowest of RUNS requests, in milliseconds.
time_ms() {
  local all=()
  for _ in $(seq 1 "$runs"); do
    local t
    t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "Authorization: Bearer $token" "$url$1")
    [ "${t%% *}" = 200 ] || { echo "$1 answered ${t%% *}" >&2; exit 1; }
    all+=("$(awk "BEGIN {print ${t#* } * 1000}")")
  done
  printf '%s\n' "${all[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.0f / %.0f", a[int((NR+1)/2)], a[NR]}'
}
table=()
for span in month year; do
  if [ "$span" = month ]; then from=$month_from; else from=$year_from; fi
  q="from=$from&to=$last"
  for path in "summary?$q" "trend?$q" "rates?$q&group=unit" "rates?$q&group=level" \
    "rates?$q&group=category" "rates?$q&group=area" "rates?$q&group=month" \
    "heatmap/areas?$q&level=street" "heatmap/hex?$q&resolution=8" "heatmap.svg?$q" \
    "heatmap.png?$q&kind=hex" "charts/trend.svg?$q" "warnings?to=$last" "hot-issues?$q"; do
    label=$(echo "$path" | sed "s/$q//; s/?&/?/; s/[?&]\$//")
    table+=("| $span | \`/api/v1/analytics/$label\` | $(time_ms "/api/v1/analytics/$path") |")
  done
  table+=("| $span | the dashboard page \`/dashboard\` | $(time_ms "/dashboard?$q") |")
done
echo
echo "| measure | result |"
echo "|---|---|"
echo "| seed $tickets tickets with their events ($backend) | $(printf '%.0f' "$seed_s") s |"
echo "| \`hotline analytics rebuild\` | $(printf '%.0f' "$rebuild_s") s |"
echo
echo "| period | query | median / slowest of $runs, ms |"
echo "|---|---|---|"
printf '%s\n' "${table[@]}"
