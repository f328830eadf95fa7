# Cairn's build. `make run` serves on :9090 (gRPC) and :8080 (HTTP) without
# authentication; `make test` runs every test. Both work on a fresh machine
# with Go and npm.

GO        ?= go
TOOL      := $(GO) tool -modfile=tools/go.mod
BIN       := bin/cairn
CACHE     := .cache
PROTO_DEPS := $(CACHE)/proto

# google/api and google/type protos come from this npm package, checked
# against a pinned digest.
GOOGLE_PROTO_FILES_VERSION := 6.0.1
GOOGLE_PROTO_FILES_SHA256  := 711763f77ea15bbc7436aac53db013b421d2c7b86ae27f4013723970ce54a96e
GOOGLE_PROTOS := api/annotations api/http api/field_behavior api/resource api/httpbody \
                 api/client api/launch_stage type/date

# One sqlc configuration, query set and generated package per store engine.
SQLC_CONFIGS := store/sqlite/sqlc.yaml store/postgres/sqlc.yaml

GATEWAY_DIR = $(shell $(GO) list -m -f '{{.Dir}}' github.com/grpc-ecosystem/grpc-gateway/v2)
PROTO_DEPS_STAMP := $(PROTO_DEPS)/.stamp-$(GOOGLE_PROTO_FILES_VERSION)

.PHONY: all build run test test-deps kube-assets test-go test-plugin fuzz-short generate proto-deps lint check-generated clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/cairn

# Authentication is off for a local trial; `cairn serve` refuses to start
# without it otherwise (see docs/security.md).
run: build
	./$(BIN) serve --auth-mode none

test: test-deps kube-assets test-go test-plugin

# kube-apiserver and etcd for the provisioning tests (envtest), built from the
# Go module proxy into the git-ignored cache: about 13 minutes the first time.
KUBE_ASSETS := $(CACHE)/kube/v1.37.2
export KUBEBUILDER_ASSETS := $(abspath $(KUBE_ASSETS))
kube-assets: $(KUBE_ASSETS)/kube-apiserver $(KUBE_ASSETS)/etcd
$(KUBE_ASSETS)/kube-apiserver $(KUBE_ASSETS)/etcd: tools/kube/assets.sh
	tools/kube/assets.sh $(KUBE_ASSETS)

# The store tests run a throwaway PostgreSQL from Debian's package; install it
# where it is missing (as root, or through sudo).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
test-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing PostgreSQL for the store tests"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi
	@if ! command -v chromium >/dev/null 2>&1; then \
		echo "installing Chromium for the Backstage plugin's browser test"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# The Backstage packages' tests: unit tests, the scaffolder actions against
# the cairn binary on envtest (internal/testenv/kubetest/devcluster), and the entity
# cards in headless Chromium. npm ci runs again only when the lock file
# changed, from npm's cache where it can.
PLUGIN_DIR := backstage-plugin
test-plugin: test-deps kube-assets build $(PLUGIN_DIR)/node_modules/.installed
	$(GO) build -o bin/devcluster ./internal/testenv/kubetest/devcluster
	cd $(PLUGIN_DIR) && CAIRN_BIN=$(abspath $(BIN)) DEVCLUSTER_BIN=$(abspath bin/devcluster) npm test
$(PLUGIN_DIR)/node_modules/.installed: $(PLUGIN_DIR)/package-lock.json
	cd $(PLUGIN_DIR) && npm ci --prefer-offline --no-audit --no-fund
	touch $@

test-go:
	@unformatted=$$(gofmt -l cmd server store internal 2>/dev/null); \
	if [ -n "$$unformatted" ]; then echo "not gofmt'd: $$unformatted" >&2; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# Every fuzz target, as package:target.
FUZZ_TARGETS := ./server/catalog:FuzzParseCatalogInfo ./server/pagetoken:FuzzDecode \
                ./server/auth:FuzzAuthenticateStaticToken ./server/auth:FuzzAuthenticateJWT \
                ./server/cost/focus:FuzzRead
FUZZ_TIME ?= 10s

## fuzz-short: run each fuzz target briefly, beyond its seed corpus.
fuzz-short:
	for t in $(FUZZ_TARGETS); do \
		$(GO) test $${t%%:*} -run XXX -fuzz "^$${t##*:}$$" -fuzztime $(FUZZ_TIME) || exit 1; \
	done

## generate: regenerate gen/ (protos) and the sqlc query packages.
generate: proto-deps
	$(TOOL) buf lint
	rm -rf gen
	$(TOOL) buf generate
	for c in $(SQLC_CONFIGS); do $(TOOL) sqlc generate -f $$c || exit 1; done

## lint: buf lint and sqlc vet.
lint: proto-deps
	$(TOOL) buf lint
	for c in $(SQLC_CONFIGS); do $(TOOL) sqlc vet -f $$c || exit 1; done

GENERATED := gen store/sqlite/internal/dbsqlc store/postgres/internal/dbsqlc

## check-generated: fail when gen/ or the sqlc output differ from what the
## protos and queries generate (CI runs it on a clean checkout).
check-generated: proto-deps
	for c in $(SQLC_CONFIGS); do $(TOOL) sqlc diff -f $$c || exit 1; done
	$(MAKE) --no-print-directory generate
	@changed=$$(git status --porcelain -- $(GENERATED)); \
	if [ -n "$$changed" ]; then \
		echo "$$changed"; \
		echo "generated code is out of date: run 'make generate' and commit the result" >&2; \
		exit 1; \
	fi

proto-deps: $(PROTO_DEPS_STAMP)

$(PROTO_DEPS_STAMP):
	rm -rf $(PROTO_DEPS) $(CACHE)/npm
	mkdir -p $(PROTO_DEPS) $(CACHE)/npm
	cd $(CACHE)/npm && npm pack --silent google-proto-files@$(GOOGLE_PROTO_FILES_VERSION) >/dev/null
	echo "$(GOOGLE_PROTO_FILES_SHA256)  $(CACHE)/npm/google-proto-files-$(GOOGLE_PROTO_FILES_VERSION).tgz" | sha256sum -c --quiet
	tar -xzf $(CACHE)/npm/google-proto-files-$(GOOGLE_PROTO_FILES_VERSION).tgz -C $(PROTO_DEPS) \
		--strip-components=1 $(addprefix package/google/,$(addsuffix .proto,$(GOOGLE_PROTOS)))
	cd tools && $(GO) run ./validateproto -out ../$(PROTO_DEPS)
	mkdir -p $(PROTO_DEPS)/protoc-gen-openapiv2/options
	cp $(GATEWAY_DIR)/protoc-gen-openapiv2/options/annotations.proto \
	   $(GATEWAY_DIR)/protoc-gen-openapiv2/options/openapiv2.proto $(PROTO_DEPS)/protoc-gen-openapiv2/options/
	chmod -R u+w $(PROTO_DEPS)
	touch $@

clean:
	rm -rf bin $(CACHE)
