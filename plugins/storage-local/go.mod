module github.com/lethehq/lethe/plugins/storage-local

go 1.26.0

require github.com/lethehq/lethe/proto v0.0.0-00010101000000-000000000000
require github.com/lethehq/lethe/sdk v0.0.0-00010101000000-000000000000

replace github.com/lethehq/lethe/proto => ../../proto
replace github.com/lethehq/lethe/sdk => ../../sdk
