#!/usr/bin/env bash
# Ingest speed into SQLite, side by side with the sqlite3 shell's `.import` of the same CSV files
# into unindexed tables (all TEXT, no validation): the goal is ≥ 0.8× its rows per second.
# Usage: benches/scripts/ingest_sqlite.sh [SCALE]   (default 1: five national years, 2021–2025)
# Needs the `sqlite3` shell (Debian package sqlite3). Prints rows, seconds and rows/s of each,
# and the ratio.
set -euo pipefail
cd "$(dirname "$0")/../.."
scale=${1:-1}
bin=${PILOTAGE_BIN:-target/release/pilotage}
work=$(mktemp -d /tmp/pilotage-ingest-sqlite.XXXXXX)
trap 'rm -rf "$work"' EXIT

[ -n "${PILOTAGE_BIN:-}" ] || cargo build --release --locked -p pilotage-api >/dev/null
"$bin" generate --scale "$scale" --seed 1 --years 2021-2025 --format csv --out "$work/sources" >/dev/null
rows=0
for f in "$work"/sources/*.csv; do rows=$((rows + $(wc -l <"$f") - 1)); done

now() { date +%s.%N; }
sync

# sqlite3 .import: creates each table from the header line, one transaction per file.
script="$work/import.sql"
{
  echo ".mode csv"
  for f in "$work"/sources/*.csv; do echo ".import '$f' $(basename "$f" .csv)"; done
} >"$script"
t0=$(now)
sqlite3 "$work/import.sqlite" <"$script"
t1=$(now)

# pilotage ingest: every row validated, all tables in one transaction.
"$bin" ingest "$work/sources" --database-url "$work/pilotage.sqlite" --source-vintage 2025-12-31 >/dev/null
t2=$(now)

python3 - "$rows" "$t0" "$t1" "$t2" <<'PY'
import sys
rows, t0, t1, t2 = int(sys.argv[1]), *map(float, sys.argv[2:])
imp, ing = t1 - t0, t2 - t1
print(f"rows                 {rows:>12,}")
print(f"sqlite3 .import      {imp:8.2f} s  {rows / imp:>12,.0f} rows/s")
print(f"pilotage ingest      {ing:8.2f} s  {rows / ing:>12,.0f} rows/s")
print(f"ratio (goal >= 0.8)  {imp / ing:8.2f}")
PY
