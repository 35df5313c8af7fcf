#!/usr/bin/env bash
# Runs a real third-party GeoReport v2 client (PyPI `georeport`, unmodified) against a running
# demo server, in JSON and XML, with a key made by `hotline admin open311-key create`.
# Usage: scripts/open311-client.sh [path/to/hotline]   (default: target/debug/hotline)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/hotline}
python3 -c 'import georeport, requests' 2>/dev/null || python3 -m pip install -q georeport requests
. scripts/demo-server.sh
trap stop_demo EXIT
start_demo "$bin"
key=$("$bin" admin open311-key create third-party-check --data-dir "$dir" | tail -n 1 | awk '{print $NF}')
python3 scripts/open311-client-check.py "$base/open311/v2" "$key"
