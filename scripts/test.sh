#!/usr/bin/env bash
# Runs every test of the workspace with the race detector. Servers that
# integration tests need are started by scripts/servers.sh (added with the
# issues that need them); with CI=true a missing server fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x scripts/servers.sh ]; then
  # shellcheck disable=SC1091
  source scripts/servers.sh
  servers_up
fi
go test -race -count=1 -timeout 30m "$@" github.com/lethehq/lethe/...
