#!/usr/bin/env bash
# The API under load (wrk, 2 threads, 16 keep-alive connections), side by side in one run with
# nginx serving the very bytes pilotage answers (the practical limit), Datasette (the dataset's
# CSV loaded into SQLite, indexed on the filtered columns) and roapi (over the release's very
# Parquet file):
#   1. one filtered data query (one dataset, one département, every month, JSON), cached answer,
#      rate limiting on (a quota high enough not to refuse);
#   2. the same query with the cache off (every answer filtered and encoded afresh);
#   3. the same rows from Datasette and from roapi;
#   4. a release Parquet file downloaded whole;
#   5. the server's resident memory with the release loaded.
# Every figure: requests/s, p50 and p99 latency, transfer rate; then the ratios to the goals.
# ROUNDS=n repeats the data-query measures n times, interleaved (nginx, pilotage cached,
# pilotage uncached, roapi, Datasette, then again), and the ratios use the medians: on shared
# cores the load drifts within a run. The load average is printed before and after.
# Usage: benches/scripts/api_bench.sh [RELEASES_DIR]   (default: a scale-0.001 release written by
# the api_release test with PILOTAGE_API_RELEASES; the demo's is data/demo/releases).
# DATASET=id picks the dataset queried (default: candidatures when the release has it, else the
# release's dataset with the most rows: the demo release has no candidatures). Needs curl, jq, wrk,
# nginx and sqlite3 (Debian packages) and python3 with venv; Datasette 0.65 and roapi are
# installed from the Python package index into target/bench-venv (SKIP_PEERS=1 leaves them out).
set -Eeuo pipefail
# Any command failing unexpectedly says which, rather than ending the script silently.
trap 'echo "api_bench.sh: line $LINENO: \`$BASH_COMMAND\` failed (exit $?)" >&2' ERR
fail() { echo "api_bench.sh: $*" >&2; exit 1; }
releases=${1:-}
# A relative RELEASES_DIR is relative to where the script is called from.
[ -z "$releases" ] || [[ "$releases" = /* ]] || releases="$PWD/$releases"
cd "$(dirname "$0")/../.."
for tool in curl jq wrk nginx; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (apt-get install $tool)"
done
if [ -z "${SKIP_PEERS:-}" ]; then
  command -v sqlite3 >/dev/null || fail "sqlite3 is not installed (apt-get install sqlite3), or set SKIP_PEERS=1"
fi
work=$(mktemp -d /tmp/pilotage-api-bench.XXXXXX)
chmod 755 "$work" # nginx workers run as another user
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ -z "$releases" ]; then
  PILOTAGE_API_RELEASES="$work/releases" cargo test -q --locked -p pilotage-api --test api_release >/dev/null
  releases=$work/releases
fi
[ -e "$releases/current" ] || fail "$releases has no current release (no $releases/current; \
\`pilotage demo\` or \`pilotage publish\` writes one, e.g. data/demo/releases)"
# PILOTAGE_BIN=path skips the release build (e.g. to check the script with a debug binary).
bin=${PILOTAGE_BIN:-target/release/pilotage}
[ -n "${PILOTAGE_BIN:-}" ] || cargo build -q --release --locked -p pilotage-api --bin pilotage
duration=${DURATION:-10s}
rounds=${ROUNDS:-1}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"

serve() { # port, extra flags…
  local port=$1; shift
  RUST_LOG=warn "$bin" serve --bind "127.0.0.1:$port" --releases "$releases" --workers 2 "$@" >/dev/null &
  pids+=($!)
  for _ in $(seq 100); do curl -sf "127.0.0.1:$port/readyz" >/dev/null && return; sleep 0.1; done
  echo "server on $port did not start" >&2; exit 1
}
declare -A rps p50s p99s
# wrk's latency ("441.00us", "8.20ms", "1.02s") in milliseconds.
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
measure() { # key, label, url
  local out r p50 p99
  out=$(wrk -t2 -c16 -d"$duration" --latency "$3")
  if grep -q "Non-2xx" <<<"$out"; then echo "$2: answers other than 2xx" >&2; grep "Non-2xx" <<<"$out" >&2; fi
  r=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  rps[$1]="${rps[$1]:-} $r"
  p50s[$1]="${p50s[$1]:-} $(to_ms "$p50")"
  p99s[$1]="${p99s[$1]:-} $(to_ms "$p99")"
  printf '%-44s %12s req/s  p50 %8s  p99 %8s  %s  (load %s)\n' "$2" "$r" "$p50" "$p99" \
    "$(awk '/Transfer\/sec/ {print $2 "/s"}' <<<"$out")" "$(cut -d' ' -f1 /proc/loadavg)"
}
med() { median <<<"${rps[$1]:-}"; }
ratio() { awk -v a="$(med "$1")" -v b="$(med "$2")" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
wait_for() { # url, name
  for _ in $(seq 300); do curl -sf -o /dev/null "$1" && return; sleep 0.1; done
  echo "$2 did not start" >&2; return 1
}

serve 18091 --rate-limit 1000000000 --rate-limit-files 1000000000
serve 18092 --rate-limit 0 --cache-bytes 0
pid_cached=${pids[0]}
# The dataset queried: DATASET, else candidatures when the release has it, else its largest.
list=$(curl -sf "127.0.0.1:18091/v1/datasets")
ids=$(jq -r '.datasets[].id' <<<"$list")
dataset=${DATASET:-}
if [ -z "$dataset" ]; then
  dataset=$(grep -x candidatures <<<"$ids" || jq -r '.datasets | max_by(.rows) | .id // empty' <<<"$list")
fi
grep -qx "$dataset" <<<"$ids" || fail "the release in $releases has no dataset ${dataset:-at all} (it has: $(paste -sd' ' <<<"$ids"))"
echo "dataset: $dataset"
# One département (DEP-75 when present, else the first one of the release), every month.
codes=$(curl -sf "127.0.0.1:18091/v1/datasets/$dataset" | grep -o '"code":"DEP-[0-9AB]*"' | cut -d'"' -f4 || true)
[ -n "$codes" ] || fail "dataset $dataset has no département (DEP-…) member to filter on"
dep=$(grep -x DEP-75 <<<"$codes" || head -1 <<<"$codes")
query="/v1/datasets/$dataset/data?territoire=$dep&periode_niveau=mois"

# The bytes pilotage answers, and the release Parquet file, served by nginx.
mkdir -p "$work/www" && chmod 755 "$work/www"
curl -sf "127.0.0.1:18091$query" -o "$work/www/answer.json"
cp "$releases/current/$dataset.parquet" "$work/www/$dataset.parquet"
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

# Datasette and roapi, serving the same rows.
peers=0
if [ -z "${SKIP_PEERS:-}" ]; then
  venv=target/bench-venv
  if [ ! -x "$venv/bin/roapi" ] || [ ! -x "$venv/bin/datasette" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'datasette==0.65.*' roapi
  fi
  csv="$releases/current/$dataset.csv"
  parquet="$releases/current/$dataset.parquet"
  # Every column as text first, then typed as the release's Table Schema says.
  sqlite3 "$work/bench.db" <<SQL
.mode csv
.import $csv candidatures_text
SQL
  cols=$(jq -r '.fields[] | "\(.name) \(if .type == "integer" then "INTEGER" elif .type == "number" then "REAL" else "TEXT" end)"' \
    "$releases/current/$dataset.schema.json" | paste -sd, -)
  names=$(jq -r '.fields[].name' "$releases/current/$dataset.schema.json" | paste -sd, -)
  cast_program=$(cat <<'JQ'
.fields[] | if .type == "integer" then "CAST(NULLIF(\(.name), '') AS INTEGER)"
  elif .type == "number" then "CAST(NULLIF(\(.name), '') AS REAL)" else .name end
JQ
)
  casts=$(jq -r "$cast_program" "$releases/current/$dataset.schema.json" | paste -sd, -)
  sqlite3 "$work/bench.db" "CREATE TABLE candidatures ($cols); INSERT INTO candidatures ($names) SELECT $casts FROM candidatures_text; DROP TABLE candidatures_text; CREATE INDEX candidatures_filter ON candidatures (territoire, periode_niveau); VACUUM;"
  rows=$(jq '.rows | length' "$work/www/answer.json")
  "$venv/bin/datasette" serve "$work/bench.db" --host 127.0.0.1 -p 18094 \
    --setting max_returned_rows $((rows + 1000)) --setting sql_time_limit_ms 10000 >"$work/datasette.log" 2>&1 &
  pids+=($!)
  # roapi over the release's very Parquet file (what an open-data user downloads).
  "$venv/bin/roapi" -a 127.0.0.1:18095 -p 127.0.0.1:18096 --addr-flight-sql 127.0.0.1:18097 \
    -t "candidatures=$parquet" >"$work/roapi.log" 2>&1 &
  pids+=($!)
  ds_url="http://127.0.0.1:18094/bench/candidatures.json?territoire=$dep&periode_niveau=mois&_shape=array&_size=max&_nocount=1"
  ro_url="http://127.0.0.1:18095/api/tables/candidatures?filter%5Bterritoire%5D=%27$dep%27&filter%5Bperiode_niveau%5D=%27mois%27"
  if wait_for "$ds_url" Datasette && wait_for "$ro_url" roapi; then
    peers=1
    echo "rows: pilotage $rows, Datasette $(curl -sf "$ds_url" | jq length), roapi $(curl -sf "$ro_url" | jq length)"
  else
    echo "Datasette or roapi did not start; see their logs:" >&2
    tail -n 5 "$work/datasette.log" "$work/roapi.log" >&2 || true
  fi
fi

echo "query: $query"
echo "answer: $(wc -c <"$work/www/answer.json") bytes; Parquet file: $(wc -c <"$work/www/$dataset.parquet") bytes"
for round in $(seq "$rounds"); do
  [ "$rounds" = 1 ] || echo "round $round of $rounds"
  measure nginx "nginx, static answer" "http://127.0.0.1:18093/answer.json"
  measure cached "pilotage, cached answer, rate limiting on" "http://127.0.0.1:18091$query"
  measure uncached "pilotage, cache off, rate limiting off" "http://127.0.0.1:18092$query"
  if [ "$peers" = 1 ]; then
    measure roapi "roapi, same rows (release Parquet)" "$ro_url"
    measure datasette "Datasette, same rows (SQLite)" "$ds_url"
  fi
done
measure nginx_file "nginx, Parquet file" "http://127.0.0.1:18093/$dataset.parquet"
measure file "pilotage, Parquet file" "http://127.0.0.1:18091/v1/releases/current/files/$dataset.parquet"
# Time spent inside pilotage (request read to answer built, from its own histogram) for the
# cached data answers: what the process adds, apart from waiting for a core and the socket.
curl -sf "127.0.0.1:18091/metrics" | awk '
  /^pilotage_http_request_duration_seconds_bucket/ && index($0, "route=\"/v1/datasets/{id}/data\"") {
    le = $0; sub(/.*le="/, "", le); sub(/".*/, "", le); n[le] = $NF + 0 }
  END { if (n["+Inf"] > 0) printf "pilotage, cached answers handled within 0.5 ms: %.3f%%, 1 ms: %.3f%%, 2.5 ms: %.3f%% (of %d, its own histogram)\n",
    100 * n["0.0005"] / n["+Inf"], 100 * n["0.001"] / n["+Inf"], 100 * n["0.0025"] / n["+Inf"], n["+Inf"] }'
rss=$(( $(ps -o rss= -p "$pid_cached") / 1024 ))
echo "pilotage RSS with the release loaded: $rss MiB (goal ≤ 300)"
if [ "$rounds" != 1 ]; then
  for k in nginx cached uncached roapi datasette; do
    [ -n "${rps[$k]:-}" ] || continue
    printf 'median of %s rounds, %-10s %12s req/s  p50 %8s ms  p99 %8s ms\n' "$rounds" "$k" \
      "$(med "$k")" "$(median <<<"${p50s[$k]}")" "$(median <<<"${p99s[$k]}")"
  done
fi
echo "cached / nginx: $(ratio cached nginx) (goal ≥ 0.5); p99 cached $(median <<<"${p99s[cached]}") ms, nginx $(median <<<"${p99s[nginx]}") ms (goal < 2 ms)"
if [ "$peers" = 1 ]; then
  echo "uncached / roapi: $(ratio uncached roapi) (goal ≥ 10); uncached / Datasette: $(ratio uncached datasette)"
fi
echo "Parquet file, pilotage / nginx: $(ratio file nginx_file) (goal ≥ 0.8)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
