# Sourced by the scripts that check the running system with third-party clients: starts
# `hotline demo` on a free port in a temporary data dir (always SQLite: the demo must not touch a
# DATABASE_URL the caller happens to have set) and sets $base, $dir and $pid. The caller's EXIT
# trap should call stop_demo.
# Usage: . scripts/demo-server.sh path/to/hotline
start_demo() {
  local bin=$1
  dir=$(mktemp -d)
  env -u DATABASE_URL "$bin" demo --listen 127.0.0.1:0 --data-dir "$dir" > "$dir/out" 2> "$dir/err" &
  pid=$!
  base=""
  for _ in $(seq 1 120); do
    base=$(sed -n 's/^hotline listening on //p' "$dir/out" | head -n 1)
    [ -n "$base" ] && curl -sf "$base/readyz" >/dev/null && break
    sleep 0.5
  done
  [ -n "$base" ] || { cat "$dir/err"; echo "hotline did not start"; exit 1; }
}
stop_demo() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
}
