#!/usr/bin/env bash
# Starts PostgreSQL and Redis on loopback for the suite's second run (installing the
# Debian packages first when they are missing and we may), then prints the settings
# that point the app at them. Exit 3: not available here.
set -euo pipefail

REDIS_PORT=${TEST_REDIS_PORT:-6390}
missing=()
command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing ${missing[*]} for the PostgreSQL/Redis test run..." >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "PostgreSQL or Redis is missing (${missing[*]}) and cannot be installed here." >&2
    exit 3
  fi
fi
if [ "$(id -u)" != 0 ]; then
  echo "Starting PostgreSQL needs root (or run it yourself and set DATABASE_URL)." >&2
  exit 3
fi

# PostgreSQL: the newest cluster, started if it is down, with a role for the tests.
read -r version cluster port status < <(pg_lsclusters --no-header | sort -V | tail -n 1 | awk '{print $1, $2, $3, $4}') || true
if [ -z "${version:-}" ]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  pg_createcluster "$version" main >&2
  cluster=main
  port=$(pg_lsclusters --no-header | awk -v v="$version" '$1 == v {print $3}')
  status=down
fi
if [ "$status" != "online" ]; then
  pg_ctlcluster "$version" "$cluster" start >&2
fi
psql_as_postgres() { su postgres -c "psql -p $port -v ON_ERROR_STOP=1 -qtAc \"$1\""; }
if [ "$(psql_as_postgres "SELECT 1 FROM pg_roles WHERE rolname = 'chatsite'")" != 1 ]; then
  psql_as_postgres "CREATE ROLE chatsite LOGIN SUPERUSER PASSWORD 'chatsite'" >&2
fi

# Redis: a throwaway server on its own port, nothing saved to disk.
if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no >&2
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

echo "DATABASE_URL=postgres://chatsite:chatsite@127.0.0.1:$port/chatsite REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
