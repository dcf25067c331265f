#!/usr/bin/env bash
# Disclosure control over generated countries, one line per run: for every seed and scale, the
# nine datasets (2021-2025) are protected and the certificate checked by the independent
# checker; prints seed, scale, values, confidential values, claims, claims left unproved, share
# hidden, seconds of the protection and of the check, and whether the checker passed.
#
# Usage: benches/protect_seeds.sh
#   SEEDS="1 2 3"            seeds (default 1 to 20)
#   SCALES="0.0003 0.001"    scales (default 0.0003 0.0005 0.001)
#   PILOTAGE_DATASETS=a,b    datasets (default the nine)
#   PILOTAGE_FIRST_YEAR=2025 first generated year (default 2021; the last is 2025)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${SEEDS:-$(seq -s ' ' 1 20)}
scales=${SCALES:-0.0003 0.0005 0.001}

cargo build --release --locked -p pilotage-benches --bin protect_seeds >&2
bin="${CARGO_TARGET_DIR:-target}/release/protect_seeds"
"$bin" --header
for seed in $seeds; do
  for scale in $scales; do
    "$bin" "$seed" "$scale"
  done
done
