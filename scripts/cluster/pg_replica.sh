#!/usr/bin/env bash
# A PostgreSQL primary and a streaming replica of it, on 127.0.0.1, for tests and local trials.
#   scripts/cluster/pg_replica.sh start DIR PRIMARY_PORT REPLICA_PORT
#   scripts/cluster/pg_replica.sh stop DIR
# start: initdb a primary in DIR/primary (trust auth, wal_level=replica), create database `crm`,
# pg_basebackup -R a replica into DIR/replica, start both (pg_ctl -w). Run as root (the servers
# run as the postgres OS user) or as the postgres user itself.
set -euo pipefail

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] || { echo "PostgreSQL server binaries not found" >&2; exit 1; }
  echo "$dir"
}

as_postgres() {
  if [ "$(id -un)" = postgres ]; then sh -c "$1"; else su postgres -s /bin/sh -c "$1"; fi
}

start() {
  local dir=$1 primary_port=$2 replica_port=$3 bin
  bin=$(pg_bin)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ "$(id -un)" = postgres ] || chown postgres: "$dir"
  chmod 755 "$dir"
  as_postgres "$bin/initdb -D '$dir/primary' -A trust -U postgres --no-sync >'$dir/initdb.log'"
  cat >>"$dir/primary/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $primary_port
unix_socket_directories = '$dir'
wal_level = replica
max_wal_senders = 4
hot_standby = on
fsync = off
CONF
  echo "host replication postgres 127.0.0.1/32 trust" >>"$dir/primary/pg_hba.conf"
  as_postgres "$bin/pg_ctl -D '$dir/primary' -l '$dir/primary.log' -w start >/dev/null"
  as_postgres "$bin/psql -h 127.0.0.1 -p $primary_port -U postgres -q -c 'CREATE DATABASE crm'"
  as_postgres "$bin/pg_basebackup -h 127.0.0.1 -p $primary_port -U postgres -D '$dir/replica' -R -X stream --checkpoint=fast --no-sync"
  cat >>"$dir/replica/postgresql.conf" <<CONF
port = $replica_port
CONF
  as_postgres "$bin/pg_ctl -D '$dir/replica' -l '$dir/replica.log' -w start >/dev/null"
}

stop() {
  local dir=$1 bin
  bin=$(pg_bin)
  for node in replica primary; do
    if [ -f "$dir/$node/postmaster.pid" ]; then
      as_postgres "$bin/pg_ctl -D '$dir/$node' -m immediate -w stop >/dev/null" || true
    fi
  done
}

case "${1:-}" in
  start) [ $# -eq 4 ] || { echo "usage: $0 start DIR PRIMARY_PORT REPLICA_PORT" >&2; exit 2; }; start "$2" "$3" "$4" ;;
  stop) [ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
  *) echo "usage: $0 start DIR PRIMARY_PORT REPLICA_PORT | stop DIR" >&2; exit 2 ;;
esac
