#!/usr/bin/env bash
# The README's first command (after `make build`). Creates the example
# SQLite database, then shows what Lethe does for an access and an erasure
# request on the embedded example (SQLite, local storage): the plugins, the
# validated configuration, and both plans with each collection's SQL from the
# connector. Executing the requests (`lethe run`) arrives with the execution
# issue.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=configs/quickstart
echo "== creating data/quickstart/shop.db from $dir/sample-data.sql"
go run ./plugins/connector-sqlite/cmd/lethe-sqlite-load -replace data/quickstart/shop.db "$dir/sample-data.sql"
echo
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
