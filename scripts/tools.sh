#!/usr/bin/env bash
# Installs the tools the build needs into .tools/bin (Go module proxy) and
# protoc from Debian's packages when it is missing. Idempotent and quiet.
set -euo pipefail
cd "$(dirname "$0")/.."

PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2
PROTOC_WANT=3.21.12

TOOLS="$PWD/.tools/bin"
mkdir -p "$TOOLS"

if ! command -v protoc >/dev/null 2>&1; then
  echo "tools: installing protoc (Debian package protobuf-compiler)" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq protobuf-compiler >/dev/null
fi
have="$(protoc --version | awk '{print $2}')"
if [ "$have" != "$PROTOC_WANT" ]; then
  echo "tools: warning: protoc $have found, generated code is committed from $PROTOC_WANT" >&2
fi

install_go_tool() { # name module@version
  local name=$1 pkg=$2 stamp="$TOOLS/.$1.version"
  if [ -x "$TOOLS/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$pkg" ]; then return; fi
  echo "tools: go install $pkg" >&2
  GOBIN="$TOOLS" GOWORK=off go install "$pkg"
  echo "$pkg" >"$stamp"
}
install_go_tool protoc-gen-go "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
install_go_tool protoc-gen-go-grpc "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"

# govulncheck and its vulnerability database. The database is the OSV data of
# the golang.org/x/vulndb module at a pinned version (the Go module proxy is
# the only registry reached here), indexed into govulncheck's v1 layout by
# that module's own indexdb command. Bump VULNDB_VERSION to see newer reports:
#   go list -m -json golang.org/x/vulndb@latest
GOVULNCHECK_VERSION=v1.9.0
VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018
install_go_tool govulncheck "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION"
install_go_tool indexdb "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION"
VULNDB="$PWD/.tools/vulndb/$VULNDB_VERSION"
if [ ! -f "$VULNDB/index/db.json" ]; then
  echo "tools: indexing the Go vulnerability database $VULNDB_VERSION" >&2
  src="$(GOWORK=off GOFLAGS=-mod=mod go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  if [ -z "$src" ] || [ ! -d "$src/data/osv" ]; then
    echo "tools: golang.org/x/vulndb@$VULNDB_VERSION has no data/osv" >&2
    exit 1
  fi
  rm -rf "$VULNDB.tmp"
  "$TOOLS/indexdb" -vulns "$src/data/osv" -out "$VULNDB.tmp"
  mv "$VULNDB.tmp" "$VULNDB"
fi
ln -sfn "$VULNDB_VERSION" "$PWD/.tools/vulndb/current"
