#!/usr/bin/env bash
# The README's first command (after `make build`). Creates the example SQLite
# database from configs/quickstart, then fulfils an access request and an
# erasure request for one example customer (jane@example.com) on the embedded
# defaults: SQLite, local storage, bbolt state under data/quickstart/state.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=configs/quickstart
identity=email=jane@example.com
echo "== creating data/quickstart/shop.db from $dir/sample-data.sql"
go run ./plugins/connector-sqlite/cmd/lethe-sqlite-load -replace data/quickstart/shop.db "$dir/sample-data.sql"
echo
echo "== lethe plugins"
bin/lethe plugins --plugin-dir bin/plugins
echo
echo "== lethe validate $dir"
bin/lethe validate "$dir"
echo
echo "== lethe run $dir --policy access --identity $identity"
bin/lethe run "$dir" --plugin-dir bin/plugins --policy access --identity "$identity"
echo
echo "== lethe run $dir --policy erasure --identity $identity"
bin/lethe run "$dir" --plugin-dir bin/plugins --policy erasure --identity "$identity"
echo
echo "Both requests are complete. The access package is the user_data.json named above;"
echo "data/quickstart/shop.db now holds jane's erased rows (sqlite3 data/quickstart/shop.db)."
