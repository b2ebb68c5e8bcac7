module github.com/lethehq/lethe/cmd

go 1.26.0

require github.com/lethehq/lethe/proto v0.0.0-00010101000000-000000000000
require github.com/lethehq/lethe/sdk v0.0.0-00010101000000-000000000000
require github.com/lethehq/lethe/core v0.0.0-00010101000000-000000000000

replace github.com/lethehq/lethe/proto => ../proto
replace github.com/lethehq/lethe/sdk => ../sdk
replace github.com/lethehq/lethe/core => ../core
