#!/usr/bin/env bash
# Ingest speed into PostgreSQL, side by side with psql's `\copy … FROM … CSV HEADER` of the same
# files into unindexed tables (all TEXT, no validation): the goal is ≥ 0.8× its rows per second.
# Also timed: psql's `\copy` into tables typed as the store's (same columns and types, no
# `_row`/`vintage`), i.e. the server's own cost of storing typed rows. pilotage's client CPU time
# is printed too: on a loaded machine it competes with the server for the same cores, which
# psql's client (a file copy) hardly does.
# Usage: benches/scripts/ingest_postgres.sh [SCALE]   (default 1: five national years, 2021–2025)
# Uses PILOTAGE_BENCH_DATABASE_URL if set, else starts a private cluster with .ci/postgres.sh
# (as root). Each side gets its own fresh schema.
set -euo pipefail
cd "$(dirname "$0")/../.."
scale=${1:-1}
bin=${PILOTAGE_BIN:-target/release/pilotage}
work=$(mktemp -d /tmp/pilotage-ingest-pg.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [ -z "${PILOTAGE_BENCH_DATABASE_URL:-}" ]; then
  eval "$(bash .ci/postgres.sh)"
  PILOTAGE_BENCH_DATABASE_URL=$PILOTAGE_TEST_DATABASE_URL
fi
url=$PILOTAGE_BENCH_DATABASE_URL
[ -n "${PILOTAGE_BIN:-}" ] || cargo build --release --locked -p pilotage-api >/dev/null
"$bin" generate --scale "$scale" --seed 1 --years 2021-2025 --format csv --out "$work/sources" >/dev/null
rows=0
for f in "$work"/sources/*.csv; do rows=$((rows + $(wc -l <"$f") - 1)); done

export PGOPTIONS='-c client_min_messages=warning'
psql -q -v ON_ERROR_STOP=1 "$url" -c "DROP SCHEMA IF EXISTS bench_copy CASCADE; CREATE SCHEMA bench_copy;
  DROP SCHEMA IF EXISTS bench_typed CASCADE; CREATE SCHEMA bench_typed;
  DROP SCHEMA IF EXISTS bench_pilotage CASCADE; CREATE SCHEMA bench_pilotage;"
script="$work/copy.sql"
{
  echo "SET search_path TO bench_copy;"
  for f in "$work"/sources/*.csv; do
    t=$(basename "$f" .csv)
    cols=$(head -n 1 "$f" | tr -d '\r' | sed 's/,/ TEXT, /g; s/$/ TEXT/')
    echo "CREATE TABLE $t ($cols);"
  done
  echo "BEGIN;"
  for f in "$work"/sources/*.csv; do echo "\\copy $(basename "$f" .csv) FROM '$f' CSV HEADER"; done
  echo "COMMIT;"
} >"$script"

now() { date +%s.%N; }
t0=$(now)
psql -q -v ON_ERROR_STOP=1 "$url" -f "$script"
t1=$(now)
sep='?'; case "$url" in *\?*) sep='&';; esac
/usr/bin/time -f "%U %S" -o "$work/cpu" "$bin" ingest "$work/sources" \
  --database-url "${url}${sep}options=-csearch_path%3Dbench_pilotage" --source-vintage 2025-12-31 >/dev/null
t2=$(now)

# The store's tables, emptied and without the two bookkeeping columns.
typed="$work/typed.sql"
{
  echo "SET search_path TO bench_typed;"
  for f in "$work"/sources/*.csv; do
    t=$(basename "$f" .csv)
    echo "CREATE TABLE $t (LIKE bench_pilotage.$t); ALTER TABLE $t DROP COLUMN _row, DROP COLUMN vintage;"
  done
  echo "BEGIN;"
  for f in "$work"/sources/*.csv; do
    echo "\\copy $(basename "$f" .csv) ($(head -n 1 "$f" | tr -d '\r')) FROM '$f' CSV HEADER"
  done
  echo "COMMIT;"
} >"$typed"
sed -n '1,/^BEGIN;$/p' "$typed" | psql -q -v ON_ERROR_STOP=1 "$url"
t3=$(now)
sed -n '1p;/^BEGIN;$/,$p' "$typed" | psql -q -v ON_ERROR_STOP=1 "$url"
t4=$(now)

python3 - "$rows" "$t0" "$t1" "$t2" "$t3" "$t4" $(cat "$work/cpu") <<'PY'
import sys
rows, t0, t1, t2, t3, t4, user, system = int(sys.argv[1]), *map(float, sys.argv[2:])
cp, ing, typed = t1 - t0, t2 - t1, t4 - t3
print(f"rows                        {rows:>12,}")
print(f"psql \\copy, TEXT tables     {cp:8.2f} s  {rows / cp:>12,.0f} rows/s")
print(f"psql \\copy, typed tables    {typed:8.2f} s  {rows / typed:>12,.0f} rows/s")
print(f"pilotage ingest             {ing:8.2f} s  {rows / ing:>12,.0f} rows/s  "
      f"(client CPU {user + system:.2f} s: reading, validating, encoding)")
print(f"ratio vs TEXT (goal >= 0.8) {cp / ing:8.2f}")
print(f"ratio vs typed              {typed / ing:8.2f}")
PY
psql -q "$url" -c "DROP SCHEMA bench_copy CASCADE; DROP SCHEMA bench_typed CASCADE; DROP SCHEMA bench_pilotage CASCADE;"
