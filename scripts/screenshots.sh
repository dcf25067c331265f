#!/usr/bin/env bash
# Screenshots of the dashboard pages at 1280 and 390 pixels wide, into docs/screenshots/.
# Serves the release folder given (default: data/demo/releases, written by
# `pilotage demo --no-serve`) with the `pilotage` binary given (default: a release build),
# takes each page with headless Chromium (Debian package `chromium`), then stops the server.
#   scripts/screenshots.sh [RELEASES_DIR] [PILOTAGE_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
releases="${1:-data/demo/releases}"
bin="${2:-target/release/pilotage}"
port=18931
out=docs/screenshots
mkdir -p "$out"
"$bin" serve --bind "127.0.0.1:$port" --releases "$releases" >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
  sleep 0.1
done
shoot() { # name path
  for width in 1280 390; do
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
      --window-size="$width,2000" --screenshot="$out/$1-$width.png" \
      "http://127.0.0.1:$port$2" >/dev/null 2>&1
  done
}
shoot accueil /
shoot jeu-de-donnees "/datasets/sorties?territoire=FR"
shoot territoire-france /territoires/FR
shoot territoire-region /territoires/REG-84
shoot territoire-departement "$(curl -s -o /dev/null -w '%{redirect_url}' "http://127.0.0.1:$port/recherche?q=Rh%C3%B4ne" | sed 's#^http://[^/]*##')"
ls -1 "$out"
