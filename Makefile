# Lethe: build, test and benchmark the whole workspace.
# `make quickstart` and `make test` are the two commands of the README; both
# install what they need through scripts/ (Go module proxy, Debian packages).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
export GOFLAGS := -buildvcs=false
export PATH := $(CURDIR)/.tools/bin:$(PATH)
# The toolchain every target builds with: the installed go fetches this
# release from the Go module proxy when it is older (go1.26.8's standard
# library has vulnerabilities that govulncheck finds reachable).
export GOTOOLCHAIN := go1.26.11

VERSION ?= 0.1.0-dev
BIN := bin
PLUGIN_BIN := $(BIN)/plugins
PKGS := github.com/lethehq/lethe/...
MODULES := proto sdk core cmd tests $(wildcard plugins/*) $(wildcard examples/*)
# The bundled plugins `make build` installs. examples/ (templates for plugin
# authors, see docs/plugins.md) are vetted and tested with the workspace
# but not installed.
PLUGINS := $(notdir $(wildcard plugins/*))
GO_TEST_FLAGS ?=
FUZZTIME ?= 60s

.PHONY: all build plugins lethe test test-go bench proto proto-check lint fmt vet clean quickstart fuzz tools vulncheck

all: build

tools:
	@scripts/tools.sh

## build: bin/lethe and bin/plugins/lethe-<kind>-<name>
build: lethe plugins

lethe:
	@mkdir -p $(BIN)
	go build -ldflags "-X main.version=$(VERSION)" -o $(BIN)/lethe ./cmd/lethe

plugins:
	@mkdir -p $(PLUGIN_BIN)
	@for p in $(PLUGINS); do \
	  echo "go build plugins/$$p -> $(PLUGIN_BIN)/lethe-$$p"; \
	  (cd plugins/$$p && go build -o ../../$(PLUGIN_BIN)/lethe-$$p .); \
	done

## proto: regenerate the Go code of proto/ (committed)
proto:
	scripts/proto.sh

proto-check:
	scripts/proto.sh --check

## lint: gofmt and go vet over every module
lint: fmt vet

fmt:
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt: these files need formatting:"; echo "$$out"; exit 1; fi

vet:
	go vet $(PKGS)

## vulncheck: govulncheck over the workspace against the pinned database
vulncheck: tools
	scripts/vulncheck.sh

## test: set up what the tests need, then run every test with -race
test: tools proto-check lint vulncheck build
	scripts/test.sh $(GO_TEST_FLAGS)

## bench: the benchmarks whose figures are in the README
bench: build
	BENCH_FLAGS='$(BENCH_FLAGS)' scripts/bench.sh

## fuzz: run each fuzz target for FUZZTIME
fuzz:
	scripts/fuzz.sh $(FUZZTIME)

## quickstart: build, then fulfil an access and an erasure request on the embedded example
quickstart: build
	scripts/quickstart.sh

clean:
	rm -rf $(BIN) .cache
