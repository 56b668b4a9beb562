# The two commands a newcomer needs: `make dev` serves everything locally, `make test` runs every
# test. Both install what is missing first (scripts/setup.sh: pinned versions, skips what is there).
# `make serve` runs the native server instead of the Worker.

PORT ?= 8787
STATE ?= state
NATIVE_STATE ?= state-native
# make serve's etcd v3 API (gRPC) for etcd 3.6+ members: etcdctl's default port.
GRPC_PORT ?= 2379

# wrangler offline: no telemetry, no banner, no calls home.
export WRANGLER_SEND_METRICS := false
export WRANGLER_SEND_ERROR_REPORTS := false
export WRANGLER_HIDE_BANNER := true
export CLOUDFLARE_CF_FETCH_ENABLED := false

.PHONY: dev serve ha test deploy build setup setup-dev lint unit screenshots fuzz bench clean

## Build and serve the Worker on http://127.0.0.1:$(PORT), state kept under ./$(STATE).
dev: setup-dev
	./scripts/build.sh
	@echo "Serving on http://127.0.0.1:$(PORT)  (state in ./$(STATE); Ctrl-C stops)"
	node_modules/.bin/wrangler dev --local --ip 127.0.0.1 --port $(PORT) --persist-to $(STATE) \
	  --show-interactive-dev-session=false

## The native server (release build) with the app on http://127.0.0.1:$(PORT), its store under
## ./$(NATIVE_STATE). No Node or wrangler at run time: one binary and the app's files.
serve: setup-dev
	./scripts/build.sh app
	cargo build --profile native -p rendezvous
	@echo "Serving on http://127.0.0.1:$(PORT), etcd's v3 API on 127.0.0.1:$(GRPC_PORT)  (store in ./$(NATIVE_STATE); Ctrl-C stops)"
	target/native/rendezvous --listen 127.0.0.1:$(PORT) --grpc-listen 127.0.0.1:$(GRPC_PORT) \
	  --data-dir $(NATIVE_STATE) --assets frontend/dist

## High availability on this machine: a 3-member etcd cluster (Debian's etcd 3.4), three
## replicas of the native server sharing it, and HAProxy in front on http://127.0.0.1:$(PORT)
## (etcd's v3 API on $(GRPC_PORT)); state under ./state-ha. Ctrl-C stops all of it.
ha: setup-dev
	SETUP_HA=1 SETUP_SKIP_TEST_TOOLS=1 ./scripts/setup.sh
	./scripts/build.sh app
	cargo build --profile native -p rendezvous
	PORT=$(PORT) GRPC_PORT=$(GRPC_PORT) ./scripts/ha.sh

## Every check and test: format, lints, unit tests, and against both shells (the Worker under
## wrangler, the native server) the HTTP API, hostile input, races and crashes, real etcd
## members, and the app in real Chromium.
test: setup
	./scripts/build.sh
	./scripts/deploy.sh check
	$(MAKE) --no-print-directory lint
	cargo test --workspace --exclude rendezvous-e2e
	cargo build -p rendezvous
	RENDEZVOUS_E2E=1 ETCD35_BIN=$(CURDIR)/.tools/etcd-v3.5.1/etcd ETCDCTL35_BIN=$(CURDIR)/.tools/etcd-v3.5.1/etcdctl \
	  cargo test -p rendezvous-e2e --lib --test http --test hostile --test relay --test races --test etcd --test native --test v3 --test alike --test ha
	node --test e2e/browser/

## Retakes the README's screenshots (docs/screenshots) with the browser tests.
screenshots: setup
	./scripts/build.sh
	SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots node --test e2e/browser/

## Builds and deploys the Worker to Cloudflare ([env.production] in wrangler.toml; README
## "Deploy to Cloudflare"). Needs `wrangler login` or CLOUDFLARE_API_TOKEN.
deploy: setup-dev
	./scripts/build.sh
	./scripts/deploy.sh check
	./scripts/deploy.sh

build: setup-dev
	./scripts/build.sh

setup:
	./scripts/setup.sh

setup-dev:
	SETUP_SKIP_TEST_TOOLS=1 ./scripts/setup.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings

## Benchmarks of both shells (the Worker under wrangler dev and plain workerd, the native server)
## against static bootstrapping, the classic discovery stack and a raw etcd v2 backend; prints
## tables with ratios and writes bench/results/ (BENCH_RUNS, default 5). Not part of `make test`.
## 3,000 members at once hold thousands of sockets: the open-file limit is raised to the hard one.
bench:
	SETUP_BENCH=1 ./scripts/setup.sh
	./scripts/build.sh
	cargo build --profile native -p rendezvous -p rendezvous-bench
	ulimit -n $$(ulimit -Hn) && target/native/bench

## Fuzzes every parser that sees outside bytes, FUZZ_SECONDS (60) each; prints executions.
fuzz:
	./scripts/fuzz.sh

## Only the sans-IO core's tests (no tools needed beyond cargo).
unit:
	cargo test -p rendezvous-shared

clean:
	rm -rf target worker/build frontend/dist .wrangler
