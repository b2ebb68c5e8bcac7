#!/usr/bin/env bash
# Regenerates the Go code of proto/ (committed). With --check, regenerates into
# a temporary directory and fails when the committed code is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh
export PATH="$PWD/.tools/bin:$PATH"

out=proto
if [ "${1:-}" = "--check" ]; then
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
fi
files=$(cd proto && find . -name '*.proto' | sed 's|^\./||' | sort)
(cd proto && protoc -I . \
  --go_out="$( [ "$out" = proto ] && echo . || echo "$out")" --go_opt=paths=source_relative \
  --go-grpc_out="$( [ "$out" = proto ] && echo . || echo "$out")" --go-grpc_opt=paths=source_relative \
  $files)
if [ "${1:-}" = "--check" ]; then
  stale=0
  for f in $(cd "$out" && find . -name '*.go' | sed 's|^\./||'); do
    if ! cmp -s "$out/$f" "proto/$f"; then echo "proto: proto/$f is stale; run 'make proto' and commit" >&2; stale=1; fi
  done
  for f in $(cd proto && find . -name '*.pb.go' | sed 's|^\./||'); do
    [ -f "$out/$f" ] || { echo "proto: proto/$f has no .proto source; delete it" >&2; stale=1; }
  done
  exit $stale
fi
