#!/usr/bin/env bash
# The README's first command. Builds everything, then shows what Lethe would
# do for an access and an erasure request on the embedded example (SQLite,
# local storage, bbolt). Executing requests arrives with the execution issue;
# until then the quick start validates the configuration, lists the plugins
# and prints both plans.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=configs/quickstart
echo "== lethe plugins"
bin/lethe plugins --plugin-dir bin/plugins
echo
echo "== lethe validate $dir"
bin/lethe validate "$dir"
echo
echo "== lethe plan (access) for jane@example.com"
bin/lethe plan "$dir" --policy access --identity email=jane@example.com
echo
echo "== lethe plan (erasure) for jane@example.com"
bin/lethe plan "$dir" --policy erasure --identity email=jane@example.com
