#!/usr/bin/env bash
# Rebuilds the vendored web assets of the dashboard pages from the npm packages, with npm's own
# client: the State design system (DSFR) served by `pilotage serve`, and axe-core used by the
# browser tests. Run from anywhere; it rewrites pilotage-api/vendor/dsfr/ and
# pilotage-api/tests/fixtures/axe.min.js, then prints the hashes to record in PROVENANCE.md.
set -euo pipefail
DSFR_VERSION=1.15.3
AXE_VERSION=4.14.1
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "@gouvfr/dsfr@$DSFR_VERSION" "axe-core@$AXE_VERSION" >/dev/null
mkdir dsfr axe
tar xzf "gouvfr-dsfr-$DSFR_VERSION.tgz" -C dsfr --strip-components=1
tar xzf "axe-core-$AXE_VERSION.tgz" -C axe --strip-components=1
out="$here/dsfr"
rm -rf "$out.new" && mkdir -p "$out.new"
cp dsfr/dist/dsfr.min.css dsfr/dist/favicon/favicon.svg dsfr/LICENSE.md "$out.new/"
# Every file the style sheet refers to (fonts and icons), and nothing else.
grep -o 'url([^)]*)' dsfr/dist/dsfr.min.css | grep -v 'data:' | sed 's/url(\(.*\))/\1/; s/"//g' | sort -u |
  while read -r f; do
    mkdir -p "$out.new/$(dirname "$f")"
    cp "dsfr/dist/$f" "$out.new/$f"
  done
cp "$here/dsfr/PROVENANCE.md" "$out.new/" 2>/dev/null || true
rm -rf "$out" && mv "$out.new" "$out"
mkdir -p "$here/../tests/fixtures"
cp axe/axe.min.js "$here/../tests/fixtures/axe.min.js"
cp axe/LICENSE "$here/../tests/fixtures/axe.LICENSE"
sha256sum "gouvfr-dsfr-$DSFR_VERSION.tgz" "axe-core-$AXE_VERSION.tgz"
