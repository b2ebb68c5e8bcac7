module github.com/lethehq/lethe/cmd

go 1.26.0

require github.com/lethehq/lethe/proto v0.0.0-00010101000000-000000000000

require github.com/lethehq/lethe/sdk v0.0.0-00010101000000-000000000000

require github.com/lethehq/lethe/core v0.0.0-00010101000000-000000000000

require (
	github.com/fatih/color v1.13.0 // indirect
	github.com/hashicorp/go-hclog v1.6.3 // indirect
	github.com/mattn/go-colorable v0.1.12 // indirect
	github.com/mattn/go-isatty v0.0.17 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

replace github.com/lethehq/lethe/proto => ../proto

replace github.com/lethehq/lethe/sdk => ../sdk

replace github.com/lethehq/lethe/core => ../core
