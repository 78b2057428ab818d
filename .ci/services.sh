# Helpers for .ci/run: make sure PostgreSQL and Redis answer on 127.0.0.1.
# Where the machine already runs them (ports 5432 / 6379) they are used as they are; otherwise
# they are installed from Debian's packages and started on private ports, and stopped on exit.

CI_TMP=${CI_TMP:-$(mktemp -d /tmp/crm-ci.XXXXXX)}
OWN_PG_PORT=54329
OWN_REDIS_PORT=63799
CLEANUP=()  # commands that stop what we started, run on exit

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

cleanup_services() {
  for command in "${CLEANUP[@]}"; do eval "$command" || true; done
  rm -rf "$CI_TMP"
}

apt_install() {
  if [ -z "${APT_UPDATED:-}" ]; then
    apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pg_bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

ensure_postgres() {
  if [ -z "${CI_OWN_SERVICES:-}" ] && port_open 5432; then
    export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/test"
    echo "PostgreSQL: using the server on 127.0.0.1:5432"
    return
  fi
  [ -n "$(pg_bin_dir)" ] || apt_install postgresql
  local bin data
  bin=$(pg_bin_dir)
  data="$CI_TMP/pgdata"
  mkdir -p "$data" && chown -R postgres: "$CI_TMP" && chmod 755 "$CI_TMP"
  su postgres -s /bin/sh -c "$bin/initdb -D $data -A trust -U postgres >/dev/null"
  su postgres -s /bin/sh -c "$bin/pg_ctl -D $data -l $CI_TMP/postgres.log -w \
    -o '-h 127.0.0.1 -p $OWN_PG_PORT -k $CI_TMP' start >/dev/null"
  CLEANUP+=("su postgres -s /bin/sh -c '$bin/pg_ctl -D $data -m fast stop >/dev/null'")
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$OWN_PG_PORT/postgres"
  echo "PostgreSQL: started our own on 127.0.0.1:$OWN_PG_PORT"
}

ensure_redis() {
  if [ -z "${CI_OWN_SERVICES:-}" ] && port_open 6379; then
    export TEST_BROKER_URL="redis://127.0.0.1:6379/15"
    echo "Redis: using the server on 127.0.0.1:6379"
    return
  fi
  command -v redis-server >/dev/null || apt_install redis-server
  redis-server --daemonize yes --bind 127.0.0.1 --port "$OWN_REDIS_PORT" --save "" \
    --appendonly no --dir "$CI_TMP" --pidfile "$CI_TMP/redis.pid" --logfile "$CI_TMP/redis.log"
  for _ in $(seq 50); do port_open "$OWN_REDIS_PORT" && break; sleep 0.1; done
  CLEANUP+=("kill \$(cat $CI_TMP/redis.pid)")
  export TEST_BROKER_URL="redis://127.0.0.1:$OWN_REDIS_PORT/15"
  echo "Redis: started our own on 127.0.0.1:$OWN_REDIS_PORT"
}
