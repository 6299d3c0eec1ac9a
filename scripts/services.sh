#!/usr/bin/env bash
# The real servers the tests talk to, on 127.0.0.1 (root, no systemd needed). Idempotent:
# whatever already answers on its port is left alone. Data, logs and pid files: .services/
# Usage: bash scripts/services.sh install|start|stop|status
set -euo pipefail
cd "$(dirname "$0")/.."
ACTION=${1:-start}
RUN=.services
mkdir -p "$RUN"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {  # wait_port PORT NAME [TRIES of 0.1 s]
  local i
  for i in $(seq 1 "${3:-300}"); do port_open "$1" && return 0; sleep 0.1; done
  echo "ERROR: $2 did not open 127.0.0.1:$1" >&2
  tail -n 30 "$RUN/$2.log" 2>/dev/null >&2 || true
  return 1
}

# Debian packages, installed only when their binary is absent (a new machine has none).
install_packages() {
  local missing=""
  command -v pg_ctlcluster >/dev/null 2>&1 || missing="$missing postgresql"
  command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
  [ -x /usr/bin/chromium ] || missing="$missing chromium chromium-driver"
  if [ -n "$missing" ]; then
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
}

psql_admin() { psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 "$@"; }

start_postgres() {
  if ! port_open 5432; then
    local v; v=$(ls /etc/postgresql | sort -V | tail -n1)
    local conf=/etc/postgresql/$v/main
    sed -i -E 's/^(local|host)(\s.*\s)(peer|scram-sha-256|md5)\s*$/\1\2trust/' "$conf/pg_hba.conf"
    printf "listen_addresses = '127.0.0.1'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n" \
      >"$conf/conf.d/aviary-tests.conf"
    if pg_ctlcluster --skip-systemctl-redirect "$v" main status >/dev/null 2>&1; then
      pg_ctlcluster --skip-systemctl-redirect "$v" main reload
    else
      pg_ctlcluster --skip-systemctl-redirect "$v" main start
    fi
    wait_port 5432 postgres
    echo "postgres $v started on :5432"
  else
    echo "postgres already up on :5432"
  fi
  # The tests' role and database (CREATEDB: pytest-django creates test_app_gw0, _gw1...).
  psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname='app'" | grep -q 1 \
    || psql_admin -qc "CREATE ROLE app LOGIN CREATEDB PASSWORD 'app'"
  psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname='app'" | grep -q 1 \
    || psql_admin -qc "CREATE DATABASE app OWNER app"
}

start_redis() {
  if port_open 6379; then echo "redis already up on :6379"; return 0; fi
  mkdir -p "$RUN/redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir "$PWD/$RUN/redis" --logfile "$PWD/$RUN/redis.log" --pidfile "$PWD/$RUN/redis.pid"
  wait_port 6379 redis
  echo "redis started on :6379"
}

stop_all() {
  if [ -f "$RUN/redis.pid" ]; then
    redis-cli -h 127.0.0.1 -p 6379 shutdown nosave >/dev/null 2>&1 || true
    rm -f "$RUN/redis.pid"; echo "redis stopped"
  fi
  echo "postgres is left running (other projects on this machine may use it)"
}

case "$ACTION" in
  install) install_packages ;;
  start) install_packages; start_postgres; start_redis ;;
  stop) stop_all ;;
  status) for p in 5432 6379; do if port_open $p; then echo ":$p up"; else echo ":$p down"; fi; done ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
