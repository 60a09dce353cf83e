.PHONY: proto

proto:
	protoc --plugin=protoc-gen-go=$$(go tool -n protoc-gen-go) --plugin=protoc-gen-go-grpc=$$(go tool -n protoc-gen-go-grpc) --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative proto/house/v1/house.proto

.PHONY: run test build image proto-check vet services reference protocol js-package fuzz fuzz-ci race release-snapshot release

# What `gateway version` prints: set with -ldflags (make build VERSION=v1.2.0).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

# One node on :8080 (HTTP, WebSocket, /web/) and :9000 (gRPC) in insecure mode
# with config/dev.yaml (GATEWAY_* variables override it). MariaDB and Redis at
# the default local addresses that do not answer are installed (apt-get, as
# root) and started first; settings that name other servers are only checked
# (gateway config check -connect). Prints the API key and a push command.
# Without apt-get: docker compose --profile deps up -d mysql-dev redis-dev first.
run:
	go build -ldflags "$(LDFLAGS)" -o bin/gateway ./cmd/gateway
	bash .ci/dev.sh bin/gateway config/dev.yaml

# The test command (README). It first makes sure MariaDB and Redis answer and
# nginx, Chromium, a CJK font and Node.js 20+ are installed (.ci/services.sh;
# installing needs root); then every test, the packages with real concurrency
# again under -race, and each fuzz target for 3 s.
test: services
	go test -count=1 -p 2 -timeout 20m ./...
	$(MAKE) --no-print-directory race
	$(MAKE) --no-print-directory fuzz-ci

# The packages whose tests run real concurrency (WebSocket hub, Redis
# pipelines, concurrent transitions), under the race detector.
RACE_PACKAGES = ./app/ws ./app/redis ./app/reservation
race:
	go test -race -count=1 -p 2 -timeout 10m $(RACE_PACKAGES)

# The fuzz targets, package:FuzzName, each with its seed corpus committed in
# the package's testdata/fuzz/FuzzName/. Add a target here and both make fuzz
# and make fuzz-ci run it. make fuzz runs each for FUZZTIME (default 1m,
# e.g. make fuzz FUZZTIME=10m); make fuzz-ci (part of make test) for 3 s. A
# failing input is written to testdata/fuzz/FuzzName/ and rerun by go test.
FUZZ_TARGETS = ./app:FuzzCheckText ./app:FuzzParseReserveTime ./app:FuzzParsePosition ./app/httpapi/reqbody:FuzzRequestBody \
	./app/ws:FuzzClientFrame ./pkg/jwtauth:FuzzVerify
FUZZTIME ?= 1m
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		echo "== fuzz $$t for $(FUZZTIME)"; \
		go test "$${t%%:*}" -run '^$$' -fuzz "^$${t##*:}$$" -fuzztime $(FUZZTIME) || exit 1; \
	done

fuzz-ci:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=3s

# Static binary at bin/gateway, with its version and commit.
build:
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o bin/gateway ./cmd/gateway

# The node image, stamped like `make build` (docker compose passes VERSION and
# COMMIT from the environment the same way).
image:
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t house-gateway:$(VERSION) .

# A release in dist/release without publishing anything (deploy/release/release.sh):
# archives of the binary for linux and darwin on amd64 and arm64, checksums.txt,
# CHANGELOG.md from the commits since the previous tag, the JavaScript client
# package, and the linux/amd64+arm64 image where Docker with buildx runs.
# release-snapshot works on any tree; release needs a clean tree at a vX.Y.Z tag.
# PLATFORMS narrows the binaries, e.g. make release-snapshot PLATFORMS=linux/amd64
release-snapshot:
	OUT=$(or $(OUT),dist/release) PLATFORMS="$(or $(PLATFORMS),linux/amd64 linux/arm64 darwin/amd64 darwin/arm64)" bash deploy/release/release.sh snapshot

release:
	OUT=$(or $(OUT),dist/release) PLATFORMS="$(or $(PLATFORMS),linux/amd64 linux/arm64 darwin/amd64 darwin/arm64)" bash deploy/release/release.sh release

# Regenerates config/reference.yaml from the declarations in cmd/gateway/settings
# (a test fails while the committed file differs).
reference:
	go generate ./cmd/gateway

# Regenerates the tables that repeat pkg/protocol (docs/protocol.md, the
# JavaScript client's code table and types, web/test/protocol-vectors.json);
# a test fails while a committed one differs.
protocol:
	go run ./pkg/protocol/internal/gen .

# The JavaScript client as an npm package: dist/houseview-gateway-client-<version>.tgz
# (web/package.json; install it with npm install ./dist/houseview-gateway-client-<version>.tgz).
js-package:
	mkdir -p dist
	cd web && npm pack --pack-destination ../dist

# Fails when the committed generated code differs from what `make proto` makes.
proto-check: proto
	@git diff --exit-code -- proto/ || { echo "proto/: generated code is stale: run make proto and commit" >&2; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- proto/); \
	if [ -n "$$untracked" ]; then echo "proto/: untracked generated files: $$untracked" >&2; exit 1; fi

# go vet and staticcheck (a pinned version, run through the module cache),
# as .ci/run does.
STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2
vet:
	go vet ./...
	go run $(STATICCHECK) ./...

# Installs (when absent) and starts (when not answering) MariaDB and Redis.
services:
	bash .ci/services.sh

.PHONY: bench

# The standard benchmark set of docs/benchmarks.md ("Method"), each run with a private redis-server
# (-own-redis) and one node in jwt mode: ramp 5,000 users 1 user per push; ramp 5,000 users 50 per push;
# fixed 10,000 users 5,000 msg/s for 20 s, with clients that ack nothing and with clients that ack every
# message; idle 19,000 connections; footprint. Then the ramp chart.
# It takes about 11 minutes and the whole machine: run it alone. A scenario whose checks fail (loss,
# duplicates) does not stop the others, but make fails at the end. Variables:
#   BENCH_OUT    directory of the results (default bench-out, git-ignored)
#   BENCH_STAMP  names this run's files (default: the UTC time make started)
#   BENCH_JSON   the JSON lines, one per scenario (default $(BENCH_OUT)/bench-$(BENCH_STAMP).jsonl)
#   BENCH_SVG    the chart of both ramps (default $(BENCH_OUT)/ramp-$(BENCH_STAMP).svg)
#   BENCH_FLAGS  extra flags for every scenario, e.g. BENCH_FLAGS='-node-env GATEWAY_WS_BUFFER_SIZE=64'
BENCH_OUT ?= bench-out
BENCH_STAMP ?= $(shell date -u +%Y%m%dT%H%M%SZ)
BENCH_STAMP := $(BENCH_STAMP)
BENCH_JSON ?= $(BENCH_OUT)/bench-$(BENCH_STAMP).jsonl
BENCH_SVG ?= $(BENCH_OUT)/ramp-$(BENCH_STAMP).svg
BENCH_FLAGS ?=
BENCH_SET = "ramp -users 5000 -batch 1" "ramp -users 5000 -batch 50" \
	"fixed -users 10000 -rate 5000 -duration 20s" "fixed -users 10000 -rate 5000 -duration 20s -ack each" \
	"idle -conns 19000" "footprint"

bench:
	go build -ldflags "$(LDFLAGS)" -o bin/gateway ./cmd/gateway
	go build -o bin/loadgen ./cmd/loadgen
	mkdir -p $(BENCH_OUT)
	@status=0; for args in $(BENCH_SET); do \
		echo "== loadgen $$args"; \
		bin/loadgen $$args -gateway bin/gateway -own-redis -json $(BENCH_JSON) $(BENCH_FLAGS) || status=1; \
	done; \
	bin/loadgen chart -in $(BENCH_JSON) -out $(BENCH_SVG) || status=1; \
	echo "results: $(BENCH_JSON), chart: $(BENCH_SVG)"; \
	exit $$status
