#!/usr/bin/env bash
# Start throw-away PostgreSQL and Redis servers on 127.0.0.1 for the test suite.
# Usage: source scripts/test-services.sh DIR   (exports SAFEFLOW_TEST_* and defines stop_test_services)
# Each server is skipped, with a note, when its binaries are missing; the tests that need it skip.
set -u
svc_dir=${1:?usage: test-services.sh DIR}
mkdir -p "$svc_dir"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ]; then
  pg_port=$(free_port)
  pg_data="$svc_dir/pg"
  pg_run="$svc_dir/pgrun"
  mkdir -p "$pg_data" "$pg_run"
  chmod 755 "$svc_dir"
  if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$pg_data" "$pg_run"; fi
  if as_pg "$pg_bin/initdb" -D "$pg_data" -U postgres -A trust >"$pg_run/initdb.log" 2>&1 &&
     as_pg "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_run/pg.log" -w \
       -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_run -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
       start >/dev/null &&
     "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -qc "CREATE DATABASE safeflow_test" >/dev/null; then
    export SAFEFLOW_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$pg_port/safeflow_test"
    echo "PostgreSQL on 127.0.0.1:$pg_port"
  else
    echo "PostgreSQL failed to start (see $pg_run): PostgreSQL tests will skip"
  fi
else
  echo "PostgreSQL binaries not found: PostgreSQL tests will skip"
fi

if command -v redis-server >/dev/null; then
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --daemonize yes --pidfile "$svc_dir/redis.pid" \
    --dir "$svc_dir" --save '' --appendonly no --logfile "$svc_dir/redis.log"
  export SAFEFLOW_TEST_REDIS_URL="redis://127.0.0.1:$redis_port/0"
  echo "Redis on 127.0.0.1:$redis_port"
else
  echo "redis-server not found: Redis/Celery tests will skip"
fi

for candidate in /usr/lib/chromium/chromium /usr/bin/chromium; do
  if [ -x "$candidate" ]; then export SAFEFLOW_TEST_CHROMIUM="$candidate"; break; fi
done

stop_test_services() {
  if [ -n "${pg_data:-}" ] && [ -d "$pg_data" ]; then as_pg "$pg_bin/pg_ctl" -D "$pg_data" -m immediate stop >/dev/null 2>&1 || true; fi
  if [ -f "$svc_dir/redis.pid" ]; then kill "$(cat "$svc_dir/redis.pid")" 2>/dev/null || true; fi
  rm -rf "$svc_dir"
}
