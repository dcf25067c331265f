#!/usr/bin/env bash
# Measures `pilotage generate` at national scale: wall time, CPU time and peak memory (GNU time),
# then the row count and size of every table. Usage: benches/scripts/generate.sh [SCALE] [FORMAT]
set -euo pipefail
cd "$(dirname "$0")/../.."
scale=${1:-1}
format=${2:-parquet}
out=$(mktemp -d /tmp/pilotage-generate.XXXXXX)
trap 'rm -rf "$out"' EXIT

cargo build --release --locked -p pilotage-api >/dev/null
/usr/bin/time -v target/release/pilotage generate --scale "$scale" --seed 1 --years 2021-2025 \
  --format "$format" --out "$out/sources" 2> "$out/time.txt"
grep -E 'Elapsed \(wall clock\)|Maximum resident set size|User time|System time' "$out/time.txt"
du -sh "$out/sources"
