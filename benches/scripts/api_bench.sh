#!/usr/bin/env bash
# The API under load (wrk, 2 threads, 16 keep-alive connections), side by side with nginx
# serving the very bytes pilotage answers (the practical limit):
#   1. one filtered data query (one dataset, one département, every month, JSON), cached answer,
#      rate limiting on (a quota high enough not to refuse);
#   2. the same query with the cache off (every answer filtered and encoded afresh);
#   3. a release Parquet file downloaded whole;
#   4. the server's resident memory with the release loaded.
# Usage: benches/scripts/api_bench.sh [RELEASES_DIR]   (default: a scale-0.001 release written by
# the api_release test with PILOTAGE_API_RELEASES). Needs wrk and nginx (Debian packages).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d /tmp/pilotage-api-bench.XXXXXX)
chmod 755 "$work" # nginx workers run as another user
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

releases=${1:-}
if [ -z "$releases" ]; then
  PILOTAGE_API_RELEASES="$work/releases" cargo test -q --locked -p pilotage-api --test api_release >/dev/null
  releases=$work/releases
fi
# PILOTAGE_BIN=path skips the release build (e.g. to check the script with a debug binary).
bin=${PILOTAGE_BIN:-target/release/pilotage}
[ -n "${PILOTAGE_BIN:-}" ] || cargo build -q --release --locked -p pilotage-api --bin pilotage
duration=${DURATION:-10s}

serve() { # port, extra flags…
  local port=$1; shift
  RUST_LOG=warn "$bin" serve --bind "127.0.0.1:$port" --releases "$releases" --workers 2 "$@" >/dev/null &
  pids+=($!)
  for _ in $(seq 100); do curl -sf "127.0.0.1:$port/readyz" >/dev/null && return; sleep 0.1; done
  echo "server on $port did not start" >&2; exit 1
}
measure() { # label, url
  local out
  out=$(wrk -t2 -c16 -d"$duration" --latency "$2")
  if grep -q "Non-2xx" <<<"$out"; then echo "$1: answers other than 2xx" >&2; grep "Non-2xx" <<<"$out" >&2; fi
  printf '%-44s %12s req/s  p99 %8s  %s\n' "$1" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1=="99%" {print $2}' <<<"$out")" \
    "$(awk '/Transfer\/sec/ {print $2 "/s"}' <<<"$out")"
}

serve 18091 --rate-limit 1000000000 --rate-limit-files 1000000000
serve 18092 --rate-limit 0 --cache-bytes 0
pid_cached=${pids[0]}
# One département (DEP-75 when present, else the first one of the release), every month.
codes=$(curl -sf "127.0.0.1:18091/v1/datasets/candidatures" | grep -o '"code":"DEP-[0-9AB]*"' | cut -d'"' -f4)
dep=$(grep -x DEP-75 <<<"$codes" || head -1 <<<"$codes")
query="/v1/datasets/candidatures/data?territoire=$dep&periode_niveau=mois"

# The bytes pilotage answers, and the release Parquet file, served by nginx.
mkdir -p "$work/www" && chmod 755 "$work/www"
curl -sf "127.0.0.1:18091$query" -o "$work/www/answer.json"
cp "$releases/current/candidatures.parquet" "$work/www/candidatures.parquet"
cat > "$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:18093;
    root $work/www;
    location / { default_type application/json; }
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work"
sleep 0.5

echo "query: $query"
echo "answer: $(wc -c <"$work/www/answer.json") bytes; Parquet file: $(wc -c <"$work/www/candidatures.parquet") bytes"
measure "nginx, static answer" "http://127.0.0.1:18093/answer.json"
measure "pilotage, cached answer, rate limiting on" "http://127.0.0.1:18091$query"
measure "pilotage, cache off, rate limiting off" "http://127.0.0.1:18092$query"
measure "nginx, Parquet file" "http://127.0.0.1:18093/candidatures.parquet"
measure "pilotage, Parquet file" "http://127.0.0.1:18091/v1/releases/current/files/candidatures.parquet"
echo "pilotage RSS with the release loaded: $(( $(ps -o rss= -p "$pid_cached") / 1024 )) MiB"
