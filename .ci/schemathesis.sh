#!/usr/bin/env bash
# Property-based conformance of the API to its OpenAPI document: builds a small release the way
# .ci/interop.sh does, serves it on 127.0.0.1 (a free port), and runs schemathesis against
# /openapi.json with every check and at least 1,000 generated requests; any failure fails.
#   bash .ci/schemathesis.sh [PILOTAGE_BINARY]
# The binary defaults to target/debug/pilotage (built by `cargo build -p pilotage-api`).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-${CARGO_TARGET_DIR:-target}/debug/pilotage}
if [ ! -x "$bin" ]; then
  cargo build -p pilotage-api --locked
fi

venv=${PILOTAGE_SCHEMATHESIS_VENV:-/tmp/pilotage-schemathesis-venv}
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check schemathesis==4.32.5
fi

work=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The datasets whose disclosure control completes quickly on small data (docs/disclosure.md).
mkdir "$work/datasets"
for id in ${PILOTAGE_INTEROP_DATASETS:-offre pass_iae}; do
  cp "pilotage-core/data/datasets/$id.toml" "$work/datasets/"
done
"$bin" generate --scale 0.001 --seed 1 --years 2025-2025 --out "$work/sources" >/dev/null
"$bin" ingest "$work/sources" --database-url "$work/pilotage.sqlite" --source-vintage 2025-12-31 >/dev/null
"$bin" publish --database-url "$work/pilotage.sqlite" --releases "$work/releases" --datasets "$work/datasets" >/dev/null

# Port 0: the server picks a free port and prints its address.
# With the store, the professional reports answer too (401 without a key).
"$bin" serve --bind 127.0.0.1:0 --releases "$work/releases" --database-url "$work/pilotage.sqlite" \
  --rate-limit 0 --workers 2 >"$work/serve.log" 2>&1 &
server=$!
url=
for _ in $(seq 1 100); do
  url=$(sed -n 's|.*pilotage serves \(http://[^ ]*\)/v1/datasets.*|\1|p' "$work/serve.log" | head -n 1)
  [ -n "$url" ] && break
  sleep 0.2
done
if [ -z "$url" ]; then
  cat "$work/serve.log" >&2
  echo "pilotage serve did not start" >&2
  exit 1
fi
echo "serving $url"

# 100 examples per operation and phase; the summary gives the requests made.
started=$(date +%s)
# .ci/schemathesis.toml: the one exception to the positive-data check, and why.
"$venv/bin/schemathesis" --config-file .ci/schemathesis.toml run "$url/openapi.json" \
  --checks all \
  --max-examples "${PILOTAGE_SCHEMATHESIS_EXAMPLES:-100}" \
  --seed 1 \
  --workers 2 \
  --request-timeout 30 \
  && status=0 || status=$?
echo "schemathesis: exit $status after $(( $(date +%s) - started )) s"
exit "$status"
