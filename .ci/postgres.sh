#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster (Debian's packages) on a free loopback port,
# as a non-root user, and prints its URL. Stop it with: pg_ctl -D <dir>/data stop
# (the directory is printed on stderr). Used by .ci/run; contributors can run it too:
#   export CALLHOOK_TEST_POSTGRES_URL=$(.ci/postgres.sh)
set -euo pipefail

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$pgbin" ]; then
  echo "PostgreSQL is not installed: apt-get install postgresql" >&2
  exit 1
fi
dir=$(mktemp -d /tmp/callhook-pg.XXXXXX)
run=()
if [ "$(id -u)" = 0 ]; then
  # initdb refuses to run as root.
  id callhook-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin callhook-pg
  chown callhook-pg "$dir"
  run=(runuser -u callhook-pg --)
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${run[@]}" "$pgbin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >/dev/null
"${run[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300" start >/dev/null
echo "PostgreSQL running in $dir (stop: ${run[*]} $pgbin/pg_ctl -D $dir/data stop)" >&2
echo "postgres://postgres@127.0.0.1:$port/postgres"
