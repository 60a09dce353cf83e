.PHONY: proto

proto:
	protoc --plugin=protoc-gen-go=$$(go tool -n protoc-gen-go) --plugin=protoc-gen-go-grpc=$$(go tool -n protoc-gen-go-grpc) --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative proto/house/v1/house.proto

.PHONY: run test build proto-check vet services reference

# What `gateway version` prints: set with -ldflags (make build VERSION=v1.2.0).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

# One node against the local MariaDB and Redis (start them with `make services`).
run:
	go run ./cmd/gateway serve -config config/dev.yaml

# The test command (README). It first makes sure MariaDB and Redis answer and
# nginx and Chromium are installed (.ci/services.sh; installing needs root).
test: services
	go test -count=1 -p 2 -timeout 20m ./...

# Static binary at bin/gateway, with its version and commit.
build:
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o bin/gateway ./cmd/gateway

# Regenerates config/reference.yaml from the declarations in cmd/gateway/config.go
# (a test fails while the committed file differs).
reference:
	go generate ./cmd/gateway

# Fails when the committed generated code differs from what `make proto` makes.
proto-check: proto
	@git diff --exit-code -- proto/ || { echo "proto/: generated code is stale: run make proto and commit" >&2; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- proto/); \
	if [ -n "$$untracked" ]; then echo "proto/: untracked generated files: $$untracked" >&2; exit 1; fi

vet:
	go vet ./...

# Installs (when absent) and starts (when not answering) MariaDB and Redis.
services:
	bash .ci/services.sh

.PHONY: loadtest

# Benchmark scenarios A (3 nodes, 3,000 users, 30,000 pushes at 2,000/s) and B (RSS per idle
# connection at 15,000 connections) on real nodes over loopback; see docs/benchmarks.md. Needs
# MariaDB and Redis (`make services`); uses a fresh gwload_* database and Redis DB 15 (flushed).
# Extra flags: make loadtest LOADGEN_FLAGS='-batch 10 -node-env GATEWAY_WS_BUFFER_SIZE=16'
loadtest:
	go build -ldflags "$(LDFLAGS)" -o bin/gateway ./cmd/gateway
	go build -o bin/loadgen ./cmd/loadgen
	bin/loadgen run -gateway bin/gateway $(LOADGEN_FLAGS)
