# Two commands on a fresh machine: `make run` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NODE_DEPS := node_modules/.package-lock.json

.PHONY: install run run-cluster test test-cluster lint bench bench-peer bench-quick bench-cluster bench-pipeline bench-live bench-audit soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# axe-core, injected by the browser tests; without npm that one test skips (fails in CI).
$(NODE_DEPS): package.json
	@if command -v npm >/dev/null; then npm install --no-audit --no-fund --silent; \
	else echo "npm not found: the accessibility test will be skipped"; fi

run: install
	$(BIN)/commentstream up

# The same on a local Redis Cluster: 3 masters, 3 replicas, data in data/cluster/.
run-cluster: install
	$(BIN)/commentstream up --cluster

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Every test on one server; the suites named in tests/conftest.py (CLUSTER_IN_CI) and the
# cluster's own tests (failover, resharding) on a local cluster too.
test: lint $(NODE_DEPS)
	$(BIN)/pytest -q

# Every test that takes a topology, on the local cluster (README: Running on Redis Cluster).
test-cluster: lint $(NODE_DEPS)
	$(BIN)/pytest -q --topology cluster

# The suite of issue 6 (docs/benchmarks.md): table on stdout, JSON in bench-results/.
# `make bench SCALE=0.2` runs a fifth of the sizes; bench-peer installs Isso into .bench-peer/.
SCALE ?= 1.0

bench: install
	$(BIN)/python -m benchmarks.suite --scale $(SCALE)

bench-peer: install
	$(BIN)/python -m benchmarks.suite --scale $(SCALE) --peer isso

bench-quick: install
	$(BIN)/python -m benchmarks.suite --scale 0.02

# The write and read lines on 1 and on 3 shards of a local cluster (docs/benchmarks.md);
# SHARDS=6 for a bigger machine.
SHARDS ?= 3
bench-cluster: install
	$(BIN)/python -m benchmarks.cluster --scale $(SCALE) --shards $(SHARDS)

# In-process processor throughput and a projector process catching up on a full log.
bench-pipeline: install
	$(BIN)/python -m benchmarks.run --events 100000 --posts 300

# Live readers held by one gateway process: 100, 1,000 and 10,000 open streams.
bench-live: install
	$(BIN)/python -m benchmarks.live --readers 100 1000 10000

bench-audit: install
	$(BIN)/python -m benchmarks.audit --events 1000000

soak: install
	$(BIN)/python -m benchmarks.soak --minutes 10 --concurrency 32

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
