#!/usr/bin/env bash
# Every row of the release's largest dataset, two ways, from the same `pilotage serve`:
#   a. through the client as Arrow record batches (data query in `format=parquet`, decoded by
#      pilotage-client: the `arrow_rows` example), with the server's answer cache on (default)
#      and off (every answer filtered and encoded afresh);
#   b. curl downloading the dataset's release Parquet file, then the Rust Parquet reader reading
#      it fully (the `parquet_file_rows` example).
# Each is timed as the wall time of its whole command line (process start included), REPS times
# (default 5) after one unmeasured run; the medians, rows/s and the ratio
# (rows/s of a) / (rows/s of b), goal >= 0.8, are printed.
# Usage: benches/scripts/client_bench.sh [RELEASES_DIR]   (default: a scale-0.001 release
# written by the api_release test with PILOTAGE_API_RELEASES). Needs curl and jq.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d /tmp/pilotage-client-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

releases=${1:-}
if [ -z "$releases" ]; then
  PILOTAGE_API_RELEASES="$work/releases" cargo test -q --locked -p pilotage-api --test api_release >/dev/null
  releases=$work/releases
fi
reps=${REPS:-5}
cargo build -q --release --locked -p pilotage-api --bin pilotage
cargo build -q --release --locked -p pilotage-client --example arrow_rows --example parquet_file_rows
bin=target/release/pilotage
arrow_rows=target/release/examples/arrow_rows
parquet_rows=target/release/examples/parquet_file_rows

serve() { # port, extra flags…
  local port=$1; shift
  RUST_LOG=warn "$bin" serve --bind "127.0.0.1:$port" --releases "$releases" --workers 2 \
    --rate-limit 0 "$@" >/dev/null &
  pids+=($!)
  for _ in $(seq 300); do curl -sf "127.0.0.1:$port/readyz" >/dev/null && return; sleep 0.1; done
  echo "server on $port did not start" >&2; exit 1
}
serve 18191
serve 18192 --cache-bytes 0
base=http://127.0.0.1:18191

list=$(curl -sf "$base/v1/datasets")
release=$(jq -r .release <<<"$list")
id=$(jq -r '.datasets | max_by(.rows) | .id' <<<"$list")
rows=$(jq -r '.datasets | max_by(.rows) | .rows' <<<"$list")
file_url=$(curl -sf "$base/v1/datasets/$id?release=$release" \
  | jq -r '.files[] | select(.media_type == "application/vnd.apache.parquet") | .url' | head -1)
[ -n "$file_url" ] && [ "$file_url" != null ] || { echo "no Parquet file for $id" >&2; exit 1; }
bytes=$(curl -sf "$base$file_url" | wc -c)
echo "release $release ($releases); largest dataset: $id, $rows rows; Parquet file $bytes bytes"

now() { date +%s.%N; }
# median of the numbers on stdin
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
check_rows() { # label, output of a run
  local got
  got=$(grep -o '[0-9]* rows' <<<"$2" | head -1 | cut -d' ' -f1)
  [ "$got" = "$rows" ] || { echo "$1 read $got rows, the catalogue says $rows" >&2; exit 1; }
}

run_client() { # port
  "$arrow_rows" "http://127.0.0.1:$1" "$id"
}
run_curl() {
  curl -sf -o "$work/file.parquet" "$base$file_url" && "$parquet_rows" "$work/file.parquet"
}

declare -A times
for label in client client_nocache curl; do
  case $label in
    client) cmd="run_client 18191" ;;
    client_nocache) cmd="run_client 18192" ;;
    curl) cmd="run_curl" ;;
  esac
  check_rows "$label" "$($cmd)" # unmeasured: warms the page cache and the server's answer cache
  t=()
  for _ in $(seq "$reps"); do
    t0=$(now); out=$($cmd); t1=$(now)
    check_rows "$label" "$out"
    t+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", b - a}')")
  done
  times[$label]=$(printf '%s\n' "${t[@]}" | median)
  printf '%-52s %10s rows  median %8.4f s  %14.0f rows/s  (runs: %s)\n' \
    "$(case $label in
        client) echo "a. client, Arrow batches (server cache on)" ;;
        client_nocache) echo "a'. client, Arrow batches (server cache off)" ;;
        curl) echo "b. curl the Parquet file + Parquet reader" ;;
      esac)" \
    "$rows" "${times[$label]}" "$(awk -v r="$rows" -v s="${times[$label]}" 'BEGIN {print r / s}')" "${t[*]}"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b / a}'; }
echo "ratio a/b (rows/s, goal >= 0.8): $(ratio "${times[client]}" "${times[curl]}")  (cache off: $(ratio "${times[client_nocache]}" "${times[curl]}"))"
