#!/usr/bin/env bash
# Sourced by scripts/test.sh: makes sure the servers integration tests need
# answer on loopback, and exports where they are.
#
#   PostgreSQL  127.0.0.1:5432, user postgres, trust auth   LETHE_TEST_PG_DSN
#   MariaDB     127.0.0.1:3306, root without a password     LETHE_TEST_MYSQL_DSN
#
# A server that already answers is used as it is. One that is installed but
# stopped is started. One that is missing is installed from Debian's
# packages when running as root. When CI=true and a server still does not
# answer, the run fails with the reason; without CI the tests that need it
# fail with the same reason (they never skip silently).

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # port seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do port_open "$1" && return 0; sleep 0.1; done
  return 1
}

apt_install() {
  [ "$(id -u)" = 0 ] || return 1
  echo "servers: installing $* from Debian's packages" >&2
  if [ -z "${SERVERS_APT_UPDATED:-}" ]; then apt-get update -qq >&2 || return 1; SERVERS_APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}

postgres_up() {
  port_open 5432 && return 0
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql || return 1
  fi
  local v
  v=$(ls /etc/postgresql | sort -V | tail -1)
  # Trust auth on loopback for the test user, as on the project's machines.
  local hba="/etc/postgresql/$v/main/pg_hba.conf"
  if [ -w "$hba" ] && ! grep -q "lethe-test" "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust # lethe-test\nhost all all ::1/128 trust # lethe-test' "$hba"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$v" main start >&2 2>&1 || true
  wait_port 5432 20
}

mariadb_up() {
  port_open 3306 && return 0
  if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
    apt_install mariadb-server || return 1
  fi
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >&2 2>&1 || true
  wait_port 3306 30
}

servers_up() {
  local failed=()
  postgres_up || failed+=("PostgreSQL on 127.0.0.1:5432")
  mariadb_up || failed+=("MariaDB on 127.0.0.1:3306")
  if [ ${#failed[@]} -gt 0 ]; then
    echo "servers: not answering: ${failed[*]}" >&2
    if [ "${CI:-}" = true ]; then
      echo "servers: CI=true and a server the integration tests need is missing; failing" >&2
      exit 1
    fi
  fi
  export LETHE_TEST_PG_DSN="${LETHE_TEST_PG_DSN:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
  export LETHE_TEST_MYSQL_DSN="${LETHE_TEST_MYSQL_DSN:-root@tcp(127.0.0.1:3306)/}"
}
