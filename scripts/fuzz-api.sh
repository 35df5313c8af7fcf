#!/usr/bin/env bash
# Fuzzes the running API from its own OpenAPI document with schemathesis (a real third-party
# client): no generated request may get a server error or a status the document does not list.
# Usage: scripts/fuzz-api.sh [path/to/hotline]   (default: target/debug/hotline)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/hotline}
command -v schemathesis >/dev/null || python3 -m pip install -q schemathesis
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
# Always SQLite here: the demo must not touch a DATABASE_URL the caller happens to have set.
env -u DATABASE_URL "$bin" demo --listen 127.0.0.1:0 --data-dir "$dir" > "$dir/out" 2> "$dir/err" &
pid=$!
for _ in $(seq 1 120); do
  base=$(sed -n 's/^hotline listening on //p' "$dir/out" | head -n 1)
  [ -n "$base" ] && curl -sf "$base/readyz" >/dev/null && break
  sleep 0.5
done
[ -n "${base:-}" ] || { cat "$dir/err"; echo "hotline did not start"; exit 1; }
password=$(sed -n 's/^dispatcher\t//p' "$dir/demo-logins.txt")
token=$(curl -sf -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"username\":\"dispatcher\",\"password\":\"$password\"}" | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
schemathesis run "$base/api/openapi.json" --url "$base" -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "${FUZZ_EXAMPLES:-25}" --exclude-path /api/v1/auth/logout --seed 12345
