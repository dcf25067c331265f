#!/usr/bin/env bash
# Rebuilds the official territory referential (régions, départements, communes, EPCI) from the
# pinned npm package @etalab/decoupage-administratif, which republishes INSEE's Code officiel
# géographique, the DGCL list of EPCI à fiscalité propre and INSEE legal populations.
#
# Usage: datasets/reference/build.sh        (from anywhere; needs npm, tar, python3)
#
# The tarball is fetched with the ordinary npm client, checked against the pinned integrity,
# unpacked in a temporary folder, and converted by convert.py into the CSVs of
# pilotage-core/data/reference/ (the crate that embeds them), together with PROVENANCE.md. To move to a new vintage, change PACKAGE_VERSION and
# EXPECTED_INTEGRITY (from `npm pack --json`), rerun, and review the diff.
set -euo pipefail

PACKAGE_NAME="@etalab/decoupage-administratif"
PACKAGE_VERSION="6.0.0"
EXPECTED_INTEGRITY="sha512-XavYsFlbcM/prKr8hNHPKER94IHw/dsxNM4nxjWMYk6PLFACpEedvn/7wK8Baozm0dCYhWWcf+7bcWpA5pmCaQ=="

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "fetching ${PACKAGE_NAME}@${PACKAGE_VERSION}" >&2
(cd "$work" && npm pack --silent --json "${PACKAGE_NAME}@${PACKAGE_VERSION}" > pack.json)
# Publication date of this version, as the registry records it (informative only).
(cd "$work" && npm view --json "${PACKAGE_NAME}@${PACKAGE_VERSION}" time > time.json 2>/dev/null) || echo '{}' > "$work/time.json"

mkdir "$work/unpacked"
tarball="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["filename"])' "$work/pack.json")"
tar -xzf "$work/$tarball" -C "$work/unpacked"

python3 "$here/convert.py" \
  --package-name "$PACKAGE_NAME" \
  --package-version "$PACKAGE_VERSION" \
  --expected-integrity "$EXPECTED_INTEGRITY" \
  --tarball "$work/$tarball" \
  --pack-json "$work/pack.json" \
  --time-json "$work/time.json" \
  --package-dir "$work/unpacked/package" \
  --out "$here/../../pilotage-core/data/reference"
