#!/usr/bin/env bash
# Fuzzes the running API from its own OpenAPI document with schemathesis (a real third-party
# client): no generated request may get a server error or a status the document does not list.
# Usage: scripts/fuzz-api.sh [path/to/hotline]   (default: target/debug/hotline)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/hotline}
command -v schemathesis >/dev/null || python3 -m pip install -q schemathesis
. scripts/demo-server.sh
trap stop_demo EXIT
start_demo "$bin"
password=$(sed -n 's/^dispatcher\t//p' "$dir/demo-logins.txt")
token=$(curl -sf -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"username\":\"dispatcher\",\"password\":\"$password\"}" | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
# Schemathesis 4's link inference derives an invalid link (POST /tickets → GET /users with an
# `id` it does not take) once the attachment routes are in the document, and then refuses the
# whole stateful phase. So: every other operation with every phase, stateful included, then the
# attachment routes with every phase but the stateful one.
schemathesis run "$base/api/openapi.json" --url "$base" -H "Authorization: Bearer $token" \
  --checks "$checks" --max-examples "${FUZZ_EXAMPLES:-25}" --seed 12345 \
  --exclude-path /api/v1/auth/logout --exclude-path-regex '/attachments'
schemathesis run "$base/api/openapi.json" --url "$base" -H "Authorization: Bearer $token" \
  --checks "$checks" --max-examples "${FUZZ_EXAMPLES:-25}" --seed 12345 \
  --include-path-regex '/attachments' --phases examples,coverage,fuzzing
