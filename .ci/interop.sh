#!/usr/bin/env bash
# Interoperability of a release with tools pilotage did not write: generates small seeded data,
# ingests it into a fresh SQLite store, publishes a release, and checks it with pyarrow, polars,
# DuckDB, frictionless and rdflib (.ci/interop.py), installed into a private virtual environment.
#   bash .ci/interop.sh [PILOTAGE_BINARY]
# The binary defaults to target/debug/pilotage (built by `cargo build -p pilotage-api`).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-target/debug/pilotage}
if [ ! -x "$bin" ]; then
  cargo build -p pilotage-api --locked
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && ! dpkg -s python3-venv >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
fi
venv=target/interop-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check \
  pyarrow==26.0.1 polars==2.1.0 duckdb==2.0.1 frictionless==5.21.0 rdflib==7.6.0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The datasets whose disclosure control completes quickly on small data (docs/disclosure.md).
mkdir "$work/datasets"
for id in ${PILOTAGE_INTEROP_DATASETS:-offre pass_iae}; do
  cp "pilotage-core/data/datasets/$id.toml" "$work/datasets/"
done
"$bin" generate --scale 0.001 --seed 1 --years 2025-2025 --out "$work/sources" >/dev/null
"$bin" ingest "$work/sources" --database-url "$work/pilotage.sqlite" --source-vintage 2025-12-31 >/dev/null
"$bin" publish --database-url "$work/pilotage.sqlite" --releases "$work/releases" --datasets "$work/datasets"
"$bin" audit "$work/releases/current" --database-url "$work/pilotage.sqlite"
"$bin" audit "$work/releases/current" --public
"$venv/bin/python" .ci/interop.py "$work/releases/current"
