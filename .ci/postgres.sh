#!/usr/bin/env bash
# Starts a private PostgreSQL cluster for the storage and ingest tests and prints the line that
# points them at it:   eval "$(bash .ci/postgres.sh)"
# As root it installs postgresql and libpq-dev from Debian's packages when missing. The cluster
# lives in a temporary folder owned by `postgres`, listens on a free local port with its socket in
# /tmp, trusts local connections, and holds one database, `pilotage_test`. Everything but the
# final `export` line goes to stderr. Stop it with the `pg_ctl … stop` command printed there.
set -euo pipefail

log() { printf '%s\n' "$*" >&2; }

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  for pkg in postgresql libpq-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  fi
fi

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  log "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin"
  exit 1
fi

# A free TCP port: ask the kernel for one.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

base=$(mktemp -d /tmp/pilotage-pg.XXXXXX)
chmod 755 "$base"
run_as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$base"
    su postgres -s /bin/bash -c "$1"
  else
    bash -c "$1"
  fi
}

run_as_postgres "'$bin/initdb' -D '$base/data' -A trust -U postgres >'$base/initdb.log' 2>&1"
run_as_postgres "'$bin/pg_ctl' -D '$base/data' -o '-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off' -l '$base/pg.log' -w start >/dev/null"
"$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c 'CREATE DATABASE pilotage_test' >&2

log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, data in $base/data"
log "stop with: su postgres -c \"$bin/pg_ctl -D $base/data stop\""
echo "export PILOTAGE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/pilotage_test"
