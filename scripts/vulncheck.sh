#!/usr/bin/env bash
# Fails when code of the workspace can reach a known vulnerability, in a
# dependency or in the standard library of the toolchain that builds it
# (see GOTOOLCHAIN in the Makefile). The database is pinned by
# scripts/tools.sh; govulncheck exits 3 when it finds a reachable one.
set -euo pipefail
cd "$(dirname "$0")/.."
db="$PWD/.tools/vulndb/current"
if [ ! -f "$db/index/db.json" ]; then
  echo "vulncheck: no vulnerability database at $db; run scripts/tools.sh" >&2
  exit 1
fi
echo "vulncheck: govulncheck ($(go env GOVERSION), database $(readlink "$db"))"
cd core # any module of the workspace; the pattern covers them all
govulncheck -db "file://$db" github.com/lethehq/lethe/...
