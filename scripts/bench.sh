#!/usr/bin/env bash
# The benchmarks whose figures are in the README. Starts the servers the
# database benchmarks need (scripts/servers.sh), then runs every benchmark
# of the workspace once per BENCH_FLAGS (e.g. BENCH_FLAGS='-benchtime 10x').
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
source scripts/servers.sh
servers_up
# shellcheck disable=SC2086
go test -run '^$' -bench . -benchmem -timeout 60m ${BENCH_FLAGS:-} github.com/lethehq/lethe/...
