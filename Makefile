# Two commands on a fresh machine: `make run` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NODE_DEPS := node_modules/.package-lock.json

.PHONY: install run test lint bench bench-http bench-quick bench-audit soak clean

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

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint $(NODE_DEPS)
	$(BIN)/pytest -q

bench: install
	$(BIN)/python -m benchmarks.run --events 100000 --posts 300

bench-http: install
	$(BIN)/python -m benchmarks.suite

bench-audit: install
	$(BIN)/python -m benchmarks.audit --events 1000000

soak: install
	$(BIN)/python -m benchmarks.soak --minutes 10 --concurrency 32

bench-quick: install
	$(BIN)/python -m benchmarks.run --events 5000 --posts 30

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
