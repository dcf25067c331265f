#!/usr/bin/env bash
# The professional tables and the three reports at a given scale:
#   - `pilotage publish`'s private stage: seconds, rows, bytes of the professional tables;
#   - each report's first answer after the server loaded its tables (cold, curl: computed and
#     encoded) and its latency under load (warm, wrk: 4 keep-alive connections, p50 and p99:
#     the key checked, then the encoded answer read from the server's answer cache);
#   - the server's start (until it answers with the professional tables loaded) and its
#     resident memory after loading them and after the reports.
#
# Usage: benches/scripts/reports_bench.sh [SCALE] [YEARS]     (default 0.1 and 2025-2025)
# Needs curl, jq, wrk, sqlite3 and bc. PILOTAGE_BIN=target/release/pilotage uses an existing binary;
# WORK=DIR keeps the generated country (reused when it exists); DURATION=10s for wrk;
# SKIP_PUBLISH=1 serves what the last run published.
#
# The public release here holds `offre` only: the protection of the other datasets at national
# scale is measured elsewhere (benches/README.md), and the reports read the professional
# tables, which are computed for every dataset whatever the public release holds.
set -euo pipefail

SCALE=${1:-0.1}
YEARS=${2:-2025-2025}
DURATION=${DURATION:-10s}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-$ROOT/target/reports-bench-$SCALE}
PORT=${PORT:-18480}
if [ -z "${PILOTAGE_BIN:-}" ]; then
  cargo build --release -p pilotage-api --bin pilotage >&2
  PILOTAGE_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/pilotage
fi
mkdir -p "$WORK"
STORE=$WORK/pilotage.sqlite
LAST_YEAR=${YEARS#*-}

if [ ! -f "$WORK/ingested" ]; then
  rm -rf "$WORK/sources" "$STORE"*
  /usr/bin/time -f "generate: %e s wall, %M KiB peak" \
    "$PILOTAGE_BIN" generate --scale "$SCALE" --seed 1 --years "$YEARS" --format parquet --out "$WORK/sources" >/dev/null
  /usr/bin/time -f "ingest: %e s wall, %M KiB peak" \
    "$PILOTAGE_BIN" ingest "$WORK/sources" --database-url "$STORE" --source-vintage "$LAST_YEAR-12-31" >/dev/null
  touch "$WORK/ingested"
fi

if [ -z "${SKIP_PUBLISH:-}" ]; then
  mkdir -p "$WORK/datasets"
  cp "$ROOT/pilotage-core/data/datasets/offre.toml" "$WORK/datasets/"
  rm -rf "$WORK/releases" "$WORK/private"
  echo "== publish (public: offre; professional tables: every dataset), scale $SCALE, years $YEARS"
  /usr/bin/time -f "publish: %e s wall, %U s user, %M KiB peak" \
    "$PILOTAGE_BIN" publish --database-url "$STORE" --releases "$WORK/releases" \
    --datasets "$WORK/datasets" --private "$WORK/private" 2>&1 >/dev/null | grep -E "^(load|compute|private|publish|release)"
fi
du -b "$WORK/private/current/"*.parquet | awk '{s+=$1; printf "  %-60s %12d bytes\n", $2, $1} END {printf "  total %d bytes (%.1f MiB)\n", s, s/1048576}'

# A national key and the perimeters to ask for: the département with most structures, and its
# largest structure by ETP (read back from the report itself).
TOKEN=$("$PILOTAGE_BIN" keys --database-url "$STORE" create --role national --perimeter FR --label bench 2>/dev/null)
"$PILOTAGE_BIN" serve --releases "$WORK/releases" --private "$WORK/private" --database-url "$STORE" \
  --bind "127.0.0.1:$PORT" --rate-limit 0 --rate-limit-professional 100000000 >"$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
URL=http://127.0.0.1:$PORT
started=$(date +%s.%N)
until curl -sf "$URL/readyz" >/dev/null && grep -q "professional tables loaded" "$WORK/serve.log"; do sleep 0.1; done
echo "server ready with the professional tables in $(echo "$(date +%s.%N) - $started" | bc) s"
echo "  of which loading and indexing them: $(grep -m1 "professional tables loaded" "$WORK/serve.log" | sed 's/\x1b\[[0-9;]*m//g' | grep -oE 'millis=[0-9]+' | cut -d= -f2) ms"
echo "server resident memory after loading them: $(ps -o rss= -p $SERVER) KiB"
DEP=$(sqlite3 "$STORE" "SELECT departement FROM structures GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
STRUCTURE=$(sqlite3 "$STORE" "SELECT s.id FROM structures s JOIN annexes_financieres a ON a.structure_asp_id = s.asp_id WHERE s.departement = '$DEP' GROUP BY s.id ORDER BY sum(a.etp_conventionnes_mensuels) DESC, s.id LIMIT 1" 2>/dev/null || true)
[ -n "$STRUCTURE" ] || STRUCTURE=$(sqlite3 "$STORE" "SELECT id FROM structures WHERE departement = '$DEP' ORDER BY id LIMIT 1")
N=$(sqlite3 "$STORE" "SELECT count(*) FROM structures WHERE departement = '$DEP'")
echo "département $DEP ($N structures), structure $STRUCTURE"

for spec in "structure?structure=$STRUCTURE" "departement-rsa?departement=$DEP" "territoire?departement=$DEP"; do
  for fmt in json csv html; do
    path="/v1/reports/$spec&year=$LAST_YEAR&format=$fmt"
    cold=$(curl -s -o /dev/null -w "%{http_code} %{time_total} %{size_download}" -H "Authorization: Bearer $TOKEN" "$URL$path")
    warm=$(wrk -t2 -c4 -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$URL$path" \
      | awk '/Requests\/sec/ {rps=$2} / 50%/ {p50=$2} / 99%/ {p99=$2} END {printf "%s req/s, p50 %s, p99 %s", rps, p50, p99}')
    echo "${spec%%\?*} $fmt: first answer (status, s, bytes) $cold; warm $warm"
  done
done
echo "server resident memory after the reports: $(ps -o rss= -p $SERVER) KiB"
