#!/usr/bin/env bash
# Sourced by scripts/test.sh: makes sure the servers integration tests need
# answer on loopback, and exports where they are.
#
#   PostgreSQL  127.0.0.1:5432, user postgres, trust auth   LETHE_TEST_PG_DSN
#   MariaDB     127.0.0.1:3306, root without a password     LETHE_TEST_MYSQL_DSN
#   FerretDB    127.0.0.1:27017 (the next free port up to   LETHE_TEST_MONGO_URI
#               27026 when 27017 is not FerretDB), MongoDB
#               wire protocol, SQLite backend, no auth
#   MinIO       127.0.0.1:9000 (console on 9001), S3 API    LETHE_TEST_S3_ENDPOINT
#               user/password from MINIO_ROOT_USER and      LETHE_TEST_S3_ACCESS_KEY
#               MINIO_ROOT_PASSWORD, default lethe-test /   LETHE_TEST_S3_SECRET_KEY
#               lethe-test-secret-123                       LETHE_TEST_S3_REGION
#
# A server that already answers is used as it is. One that is installed but
# stopped is started. One that is missing is installed from Debian's
# packages when running as root. When CI=true and a server still does not
# answer, the run fails with the reason; without CI the tests that need it
# fail with the same reason (they never skip silently).
#
# FerretDB and MinIO are not Debian packages: the pinned versions below are
# built once with `go` from the Go module proxy (FerretDB takes about 2
# minutes, MinIO 5 to 12 on 2 cores) into ${LETHE_SERVERS_CACHE:-~/.cache/
# lethe-servers}/bin, keyed by version, so later runs start them in seconds.
# Their data, logs and pid files live under the same folder; they keep
# running after the caller exits (stop them with `kill $(cat CACHE/run/*.pid)`).

FERRETDB_VERSION=v1.24.0
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
SERVERS_CACHE="${LETHE_SERVERS_CACHE:-${HOME:-/tmp}/.cache/lethe-servers}"

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

# servers_fail REASON [LOG]: keeps in SERVERS_REASON why a server is not up,
# with the last lines of LOG, for servers_up to print; returns 1.
servers_fail() {
  SERVERS_REASON=$1
  if [ -n "${2:-}" ] && [ -s "$2" ]; then
    SERVERS_REASON+=$'\n'"  last lines of $2:"$'\n'"$(tail -n 25 "$2" | sed 's/^/    /')"
  fi
  return 1
}

servers_dirs() {
  mkdir -p "$SERVERS_CACHE"/{bin,build,data,log,run} 2>/dev/null ||
    servers_fail "cannot create the servers' cache folder $SERVERS_CACHE"
}

servers_alive() { # pid
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# servers_spawn NAME CMD...: starts CMD in a session of its own, so that it
# outlives the caller and a Ctrl-C of the tests does not reach it, with its
# output in CACHE/log/NAME.log and its pid in CACHE/run/NAME.pid.
servers_spawn() {
  local name=$1 pidfile="$SERVERS_CACHE/run/$1.pid"
  shift
  rm -f "$pidfile"
  (cd "$SERVERS_CACHE/run" && exec setsid bash -c 'echo $$ >"$0.tmp" && mv -f "$0.tmp" "$0" && exec "$@"' "$pidfile" "$@") \
    </dev/null >"$SERVERS_CACHE/log/$name.log" 2>&1 &
}

# servers_wait NAME SECONDS CHECK...: waits until CHECK succeeds; fails early
# when the process that servers_spawn started as NAME has exited.
servers_wait() {
  local name=$1 secs=$2 pid="" i
  shift 2
  for ((i = 0; i < secs * 10; i++)); do
    "$@" && return 0
    [ -n "$pid" ] || pid=$(cat "$SERVERS_CACHE/run/$name.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && ! servers_alive "$pid"; then
      "$@" && return 0
      servers_fail "$name exited while starting" "$SERVERS_CACHE/log/$name.log"
      return 1
    fi
    sleep 0.1
  done
  servers_fail "$name did not answer within ${secs}s" "$SERVERS_CACHE/log/$name.log"
}

# FerretDB's module zip lacks build/version/version.txt, which its build
# needs, so the source is copied out of the (read-only) module cache first.
ferretdb_build() {
  local bin="$SERVERS_CACHE/bin/ferretdb-$FERRETDB_VERSION"
  [ -x "$bin" ] && return 0
  command -v go >/dev/null 2>&1 || { servers_fail "go is not installed, and it builds FerretDB"; return 1; }
  local log="$SERVERS_CACHE/log/ferretdb-build-$FERRETDB_VERSION.log"
  local src="$SERVERS_CACHE/build/ferretdb-$FERRETDB_VERSION.$$" json mod
  echo "servers: building FerretDB $FERRETDB_VERSION once into $SERVERS_CACHE/bin (about 2 minutes)" >&2
  : >"$log"
  json=$(cd "$SERVERS_CACHE" && GOWORK=off GOFLAGS=-mod=mod go mod download -json \
    "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" 2>>"$log") || true
  mod=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  if [ -z "$mod" ] || [ ! -d "$mod" ]; then
    printf '%s\n' "$json" >>"$log"
    servers_fail "cannot download FerretDB $FERRETDB_VERSION from the Go module proxy" "$log"
    return 1
  fi
  if ! { rm -rf "$src" && cp -R "$mod" "$src" && chmod -R u+w "$src" &&
    echo "$FERRETDB_VERSION" >"$src/build/version/version.txt"; } >>"$log" 2>&1; then
    rm -rf "$src"
    servers_fail "cannot copy FerretDB's source to $src" "$log"
    return 1
  fi
  if ! (cd "$src" && GOWORK=off GOFLAGS="-mod=mod -buildvcs=false" go build -o "$bin.tmp.$$" ./cmd/ferretdb) >>"$log" 2>&1; then
    rm -rf "$src" "$bin.tmp.$$"
    servers_fail "cannot build FerretDB $FERRETDB_VERSION" "$log"
    return 1
  fi
  rm -rf "$src"
  mv -f "$bin.tmp.$$" "$bin"
}

# ferretdb_at PORT: true when the server that listens on PORT is FerretDB.
ferretdb_at() {
  local pid
  pid=$(cat "$SERVERS_CACHE/run/ferretdb.pid" 2>/dev/null || true)
  if servers_alive "$pid" && [ "$(cat "$SERVERS_CACHE/run/ferretdb.port" 2>/dev/null)" = "$1" ]; then
    return 0
  fi
  for pid in $(ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2); do
    case $(readlink "/proc/$pid/exe" 2>/dev/null) in */ferretdb*) return 0 ;; esac
  done
  return 1
}

# Sets SERVERS_MONGO_PORT: 27017, or the next port up to 27026 when a
# server that is not FerretDB (a real MongoDB, say) has 27017.
ferretdb_up() {
  local port
  SERVERS_MONGO_PORT=27017
  for ((port = 27017; port <= 27026; port++)); do
    if port_open "$port"; then
      if ferretdb_at "$port"; then SERVERS_MONGO_PORT=$port; return 0; fi
      continue
    fi
    SERVERS_MONGO_PORT=$port
    servers_dirs && ferretdb_build || return 1
    mkdir -p "$SERVERS_CACHE/data/ferretdb" "$SERVERS_CACHE/data/ferretdb-state" 2>/dev/null ||
      { servers_fail "cannot create FerretDB's data folder $SERVERS_CACHE/data/ferretdb"; return 1; }
    echo "servers: starting FerretDB $FERRETDB_VERSION on 127.0.0.1:$port" >&2
    echo "$port" >"$SERVERS_CACHE/run/ferretdb.port"
    servers_spawn ferretdb "$SERVERS_CACHE/bin/ferretdb-$FERRETDB_VERSION" --handler=sqlite \
      --sqlite-url="file:$SERVERS_CACHE/data/ferretdb/" --state-dir="$SERVERS_CACHE/data/ferretdb-state" \
      --listen-addr="127.0.0.1:$port" --debug-addr=- --telemetry=disable
    servers_wait ferretdb 30 port_open "$port"
    return
  done
  servers_fail "127.0.0.1:27017 to 27026 are all taken by servers that are not FerretDB"
}

# MinIO's go.mod has no replace directives, so `go install module@version`
# builds it straight from the module cache.
minio_build() {
  local bin="$SERVERS_CACHE/bin/minio-$MINIO_VERSION"
  [ -x "$bin" ] && return 0
  command -v go >/dev/null 2>&1 || { servers_fail "go is not installed, and it builds MinIO"; return 1; }
  local log="$SERVERS_CACHE/log/minio-build-$MINIO_VERSION.log"
  local tmp="$SERVERS_CACHE/build/minio-$MINIO_VERSION.$$"
  echo "servers: building MinIO $MINIO_VERSION once into $SERVERS_CACHE/bin (5 to 12 minutes on 2 cores)" >&2
  rm -rf "$tmp" && mkdir -p "$tmp" || { servers_fail "cannot create $tmp"; return 1; }
  if ! (cd "$tmp" && GOWORK=off GOFLAGS=-buildvcs=false GOBIN="$tmp" go install "github.com/minio/minio@$MINIO_VERSION") >"$log" 2>&1 ||
    [ ! -x "$tmp/minio" ]; then
    rm -rf "$tmp"
    servers_fail "cannot build MinIO $MINIO_VERSION" "$log"
    return 1
  fi
  mv -f "$tmp/minio" "$bin"
  rm -rf "$tmp"
}

minio_live() { curl -fsS -o /dev/null -m 2 http://127.0.0.1:9000/minio/health/live 2>/dev/null; }

# Sets SERVERS_S3_USER and SERVERS_S3_PASSWORD: MINIO_ROOT_USER and
# MINIO_ROOT_PASSWORD, or those that a MinIO of an earlier run was started with.
minio_up() {
  local creds="$SERVERS_CACHE/run/minio.creds" bin="$SERVERS_CACHE/bin/minio-$MINIO_VERSION"
  SERVERS_S3_USER=${MINIO_ROOT_USER:-lethe-test}
  SERVERS_S3_PASSWORD=${MINIO_ROOT_PASSWORD:-lethe-test-secret-123}
  if ! command -v curl >/dev/null 2>&1; then
    apt_install curl || { servers_fail "curl is not installed, and it checks MinIO's health"; return 1; }
  fi
  if minio_live; then
    if [ -r "$creds" ] && servers_alive "$(cat "$SERVERS_CACHE/run/minio.pid" 2>/dev/null || true)"; then
      { read -r SERVERS_S3_USER && read -r SERVERS_S3_PASSWORD; } <"$creds"
    fi
    return 0
  fi
  if port_open 9000 || port_open 9001; then
    servers_fail "127.0.0.1:9000 or 9001 is taken by something that is not a live MinIO"
    return 1
  fi
  servers_dirs && minio_build || return 1
  mkdir -p "$SERVERS_CACHE/data/minio" 2>/dev/null ||
    { servers_fail "cannot create MinIO's data folder $SERVERS_CACHE/data/minio"; return 1; }
  (umask 077 && printf '%s\n%s\n' "$SERVERS_S3_USER" "$SERVERS_S3_PASSWORD" >"$creds")
  echo "servers: starting MinIO on 127.0.0.1:9000" >&2
  servers_spawn minio env MINIO_ROOT_USER="$SERVERS_S3_USER" MINIO_ROOT_PASSWORD="$SERVERS_S3_PASSWORD" \
    MINIO_UPDATE=off "$bin" server "$SERVERS_CACHE/data/minio" \
    --address 127.0.0.1:9000 --console-address 127.0.0.1:9001
  servers_wait minio 60 minio_live
}

servers_up() {
  local failed=()
  SERVERS_REASON=""
  postgres_up || failed+=("PostgreSQL on 127.0.0.1:5432")
  mariadb_up || failed+=("MariaDB on 127.0.0.1:3306")
  ferretdb_up || failed+=("FerretDB on 127.0.0.1:$SERVERS_MONGO_PORT: $SERVERS_REASON")
  minio_up || failed+=("MinIO on 127.0.0.1:9000: $SERVERS_REASON")
  if [ ${#failed[@]} -gt 0 ]; then
    printf 'servers: not answering: %s\n' "${failed[@]}" >&2
    if [ "${CI:-}" = true ]; then
      echo "servers: CI=true and a server the integration tests need is missing; failing" >&2
      exit 1
    fi
  fi
  export LETHE_TEST_PG_DSN="${LETHE_TEST_PG_DSN:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
  export LETHE_TEST_MYSQL_DSN="${LETHE_TEST_MYSQL_DSN:-root@tcp(127.0.0.1:3306)/}"
  export LETHE_TEST_MONGO_URI="${LETHE_TEST_MONGO_URI:-mongodb://127.0.0.1:$SERVERS_MONGO_PORT/}"
  export LETHE_TEST_S3_ENDPOINT="${LETHE_TEST_S3_ENDPOINT:-http://127.0.0.1:9000}"
  export LETHE_TEST_S3_ACCESS_KEY="${LETHE_TEST_S3_ACCESS_KEY:-$SERVERS_S3_USER}"
  export LETHE_TEST_S3_SECRET_KEY="${LETHE_TEST_S3_SECRET_KEY:-$SERVERS_S3_PASSWORD}"
  export LETHE_TEST_S3_REGION="${LETHE_TEST_S3_REGION:-us-east-1}"
}
