#!/usr/bin/env bash
# `pilotage serve` is stateless: two replicas over one releases folder behind nginx (round-robin,
# loopback only, an unprivileged configuration in a temporary folder), as a deployment runs them.
#   1. Two releases are published into one folder (seeds 1 and 2, small scale), and `current` is
#      pointed back at the first, as it was before the second publication.
#   2. Two `pilotage serve` replicas over that folder, both given the deployment's public address
#      (nginx's), polling `current` every POLL_MS; nginx in front (one upstream, and both).
#   3. Every route of the OpenAPI document (each dataset, its data in JSON, CSV, NDJSON and
#      Parquet and paged, each release file by version and as `current`, the catalog, the
#      territories, the documentation), identity and gzip: the same status, bytes, ETag and
#      validators from replica 1, replica 2 and through nginx. /metrics is left out: it counts
#      each process's own requests.
#   4. `current` is switched to the second release the way `pilotage publish` does (a new link
#      renamed over the old one): the time each replica takes to serve the new release (its
#      ETag), which must be within two polls; then step 3 again on the new release.
#   5. Throughput through nginx with one upstream and with two (wrk, 2 threads, 16 keep-alive
#      connections, one cached data query: one dataset, one département, every month, JSON),
#      interleaved ROUNDS times in one run; medians and their ratio.
# Usage: benches/replicas.sh   (needs curl, jq, wrk and nginx; PILOTAGE_BIN=path skips the
# release build; SCALE (0.001), DATASETS ("offre pass_iae"), POLL_MS (1000, as serve),
# WORKERS per replica (1), DURATION (5s), ROUNDS (3)). The figures are in docs/api.md.
set -Eeuo pipefail
trap 'echo "replicas.sh: line $LINENO: \`$BASH_COMMAND\` failed (exit $?)" >&2' ERR
fail() { echo "replicas.sh: $*" >&2; exit 1; }
cd "$(dirname "$0")/.."
for tool in curl jq wrk nginx cmp python3; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done
scale=${SCALE:-0.001}
datasets=${DATASETS:-offre pass_iae}
poll_ms=${POLL_MS:-1000}
workers=${WORKERS:-1}
duration=${DURATION:-5s}
rounds=${ROUNDS:-3}

work=$(mktemp -d /tmp/pilotage-replicas.XXXXXX)
chmod 755 "$work" # nginx workers may run as another user
pids=()
cleanup() {
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

bin=${PILOTAGE_BIN:-${CARGO_TARGET_DIR:-target}/release/pilotage}
[ -n "${PILOTAGE_BIN:-}" ] || cargo build -q --release --locked -p pilotage-api --bin pilotage
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"

# 1. Two releases in one folder.
releases=$work/releases
mkdir "$work/datasets"
for id in $datasets; do cp "datasets/$id.toml" "$work/datasets/"; done
versions=()
for seed in 1 2; do
  "$bin" generate --scale "$scale" --seed "$seed" --years 2025-2025 --out "$work/sources-$seed" >/dev/null
  "$bin" ingest "$work/sources-$seed" --database-url "$work/store-$seed.sqlite" --source-vintage 2025-12-31 >/dev/null
  "$bin" publish --database-url "$work/store-$seed.sqlite" --releases "$releases" --datasets "$work/datasets" >/dev/null 2>&1
  versions+=("$(readlink "$releases/current")")
done
first=${versions[0]}
second=${versions[1]}
[ "$first" != "$second" ] || fail "the two publications gave one version"
switch_current() { # version: what publish does, a new link renamed over `current`
  ln -sfn "$1" "$releases/.current.tmp"
  mv -T "$releases/.current.tmp" "$releases/current"
}
switch_current "$first"
echo "releases: $first (current), $second"

# 2. nginx's ports first (the replicas are given its address as the public one), then the
# replicas on ports they pick, then nginx.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port_both=$(free_port)
port_one=$(free_port)
while [ "$port_one" = "$port_both" ]; do port_one=$(free_port); done
public="http://127.0.0.1:$port_both"
replica=()
for n in 1 2; do
  RUST_LOG=warn "$bin" serve --bind 127.0.0.1:0 --releases "$releases" --poll-ms "$poll_ms" \
    --workers "$workers" --public-url "$public" \
    --rate-limit 1000000000 --rate-limit-files 1000000000 >"$work/serve-$n.log" 2>&1 &
  pids+=($!)
  url=
  for _ in $(seq 100); do
    url=$(sed -n 's|.*pilotage serves \(http://[^ ]*\)/v1/datasets.*|\1|p' "$work/serve-$n.log" | head -n 1)
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { cat "$work/serve-$n.log" >&2; fail "replica $n did not start"; }
  replica+=("$url")
done
mkdir -p "$work/nginx-tmp" && chmod 777 "$work/nginx-tmp"
hostport() { echo "${1#http://}"; }
cat >"$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx-tmp/body;
  proxy_temp_path $work/nginx-tmp/proxy;
  fastcgi_temp_path $work/nginx-tmp/fastcgi;
  uwsgi_temp_path $work/nginx-tmp/uwsgi;
  scgi_temp_path $work/nginx-tmp/scgi;
  keepalive_requests 1000000;
  upstream both { server $(hostport "${replica[0]}"); server $(hostport "${replica[1]}"); keepalive 32; }
  upstream one { server $(hostport "${replica[0]}"); keepalive 32; }
  server {
    listen 127.0.0.1:$port_both;
    location / { proxy_pass http://both; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host \$http_host; }
  }
  server {
    listen 127.0.0.1:$port_one;
    location / { proxy_pass http://one; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host \$http_host; }
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work" -e "$work/nginx-error.log"
for _ in $(seq 100); do curl -sf "$public/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "$public/readyz" >/dev/null || { cat "$work/nginx-error.log" >&2; fail "nginx did not start"; }
echo "replicas: ${replica[*]}; nginx: $public (both), http://127.0.0.1:$port_one (replica 1 only); poll every $poll_ms ms"

# 3. Every route, from each replica and through nginx. Every request names the public host, as
# the balancer passes it on.
expand() { # path, version: one concrete path per dataset, version (and `current`) and file
  local p=$1 v
  if [[ $p == *"{id}"* ]]; then
    for v in $ids; do expand "${p//"{id}"/$v}" "$2"; done
  elif [[ $p == *"{version}"* ]]; then
    expand "${p//"{version}"/$2}" "$2"
    expand "${p//"{version}"/current}" "$2"
  elif [[ $p == *"{name}"* ]]; then
    for v in $files; do expand "${p//"{name}"/$v}" "$2"; done
  else
    case $p in
      */data) for v in "" "?format=csv" "?format=ndjson" "?format=parquet" "?limit=7"; do echo "$p$v"; done ;;
      /v1/territories) for v in region departement commune epci; do echo "$p?level=$v"; done ;;
      *) echo "$p" ;;
    esac
  fi
}
requests() { # version: every route of the OpenAPI document but /metrics, made concrete
  local path
  ids=$(curl -sf "$public/v1/datasets" | jq -r '.datasets[].id')
  files=$(curl -sf "$public/v1/releases/$1" | jq -r '.files[].name')
  echo /openapi.json
  echo /docs/
  for path in $(curl -sf "$public/openapi.json" | jq -r '.paths | keys[]'); do
    [ "$path" = /metrics ] || expand "$path" "$1"
  done
}
# Status and the headers that must agree (not the request id nor the rate-limit counters).
fetch() { # base, path, coding, output prefix
  curl -s -H "Host: 127.0.0.1:$port_both" -H "Accept-Encoding: $3" -D "$4.head" -o "$4.body" "$1$2"
  awk 'NR == 1 { print $2 } tolower($1) ~ /^(etag|last-modified|content-type|content-encoding|cache-control|link|pilotage-release):$/ { sub(/\r$/, ""); print tolower($1), substr($0, length($1) + 2) }' \
    "$4.head" | sort >"$4.kept"
}
compare_all() { # version
  local n=0 path coding a b c
  while read -r path; do
    for coding in identity gzip; do
      a=$work/r1 b=$work/r2 c=$work/lb
      fetch "${replica[0]}" "$path" "$coding" "$a"
      fetch "${replica[1]}" "$path" "$coding" "$b"
      fetch "$public" "$path" "$coding" "$c"
      [ "$(head -n 1 "$a.kept")" = 200 ] || fail "$path ($coding): status $(head -n 1 "$a.kept") from replica 1"
      cmp -s "$a.kept" "$b.kept" || { diff "$a.kept" "$b.kept" >&2; fail "$path ($coding): replicas 1 and 2 answer different headers"; }
      cmp -s "$a.kept" "$c.kept" || { diff "$a.kept" "$c.kept" >&2; fail "$path ($coding): replica 1 and nginx answer different headers"; }
      cmp -s "$a.body" "$b.body" || fail "$path ($coding): replicas 1 and 2 answer different bytes"
      cmp -s "$a.body" "$c.body" || fail "$path ($coding): replica 1 and nginx answer different bytes"
      n=$((n + 1))
    done
  done < <(requests "$1")
  echo "release $1: $n requests (every route, identity and gzip): same status, bytes, ETag and validators from replica 1, replica 2 and nginx"
}
compare_all "$first"

# 4. The switch. The data answer's ETag names the release it was made from.
dataset=$(curl -sf "$public/v1/datasets" | jq -r '.datasets | max_by(.rows) | .id')
probe="/v1/datasets/$dataset/data?limit=1"
etag_of() { curl -s -D - -o /dev/null "$1$probe" | awk 'tolower($1) == "etag:" { sub(/\r$/, ""); print $2 }'; }
release_of() { curl -s -D - -o /dev/null "$1$probe" | awk 'tolower($1) == "pilotage-release:" { sub(/\r$/, ""); print $2 }'; }
old_etag=$(etag_of "${replica[0]}")
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
start=$(now_ms)
switch_current "$second"
took=()
for n in 0 1; do took+=(""); done
while [ -z "${took[0]}" ] || [ -z "${took[1]}" ]; do
  for n in 0 1; do
    if [ -z "${took[$n]}" ] && [ "$(release_of "${replica[$n]}")" = "$second" ]; then
      took[n]=$(( $(now_ms) - start ))
    fi
  done
  [ $(( $(now_ms) - start )) -lt $(( 10 * poll_ms + 5000 )) ] || fail "the replicas did not switch to $second"
  sleep 0.01
done
new_etag=$(etag_of "${replica[0]}")
[ "$new_etag" != "$old_etag" ] || fail "the new release has the old ETag"
[ "$(etag_of "${replica[1]}")" = "$new_etag" ] && [ "$(etag_of "$public")" = "$new_etag" ] \
  || fail "the replicas disagree on the new release's ETag"
echo "switch to $second: replica 1 after ${took[0]} ms, replica 2 after ${took[1]} ms (poll $poll_ms ms, limit two polls: $((2 * poll_ms)) ms); ETag $old_etag -> $new_etag on both"
# A late switch is reported at the end, after the measures.
late=
for n in 0 1; do
  [ "${took[$n]}" -le $((2 * poll_ms)) ] || late="$late replica $((n + 1)) took more than two polls;"
done
compare_all "$second"

# 5. Throughput, one upstream against two, interleaved.
codes=$(curl -sf "$public/v1/datasets/$dataset" | grep -o '"code":"DEP-[0-9AB]*"' | cut -d'"' -f4 || true)
[ -n "$codes" ] || fail "dataset $dataset has no département (DEP-…) member to filter on"
dep=$(grep -x DEP-75 <<<"$codes" || head -n 1 <<<"$codes")
query="/v1/datasets/$dataset/data?territoire=$dep&periode_niveau=mois"
echo "query: $query ($(curl -sf "$public$query" | wc -c) bytes); wrk -t2 -c16 -d$duration; replicas with $workers worker thread(s) each"
declare -A rps
measure() { # key, label, url
  local out r
  out=$(wrk -t2 -c16 -d"$duration" --latency "$3")
  if grep -q "Non-2xx" <<<"$out"; then grep "Non-2xx" <<<"$out" >&2; fail "$2: answers other than 2xx"; fi
  r=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  rps[$1]="${rps[$1]:-} $r"
  printf '%-32s %10s req/s  p50 %8s  p99 %8s  (load %s)\n' "$2" "$r" \
    "$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")" "$(cut -d' ' -f1 /proc/loadavg)"
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for round in $(seq "$rounds"); do
  echo "round $round of $rounds"
  measure one "nginx, one replica" "http://127.0.0.1:$port_one$query"
  measure two "nginx, two replicas" "$public$query"
done
one=$(median <<<"${rps[one]}")
two=$(median <<<"${rps[two]}")
echo "median of $rounds rounds: one replica $one req/s, two replicas $two req/s, ratio $(awk -v a="$two" -v b="$one" 'BEGIN { printf "%.2f", a / b }')"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -z "$late" ] || fail "$late"
