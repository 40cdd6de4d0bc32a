# GovTrust — see README.md. Everything is installed by these targets into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/govtrust init --demo
	$(BIN)/govtrust serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy trust keys

# benchmarks/idp measures node-oidc-provider too: its npm dependencies, when npm is here.
NODE_PEER := benchmarks/idp/node
bench: $(STAMP)
	@if command -v npm >/dev/null 2>&1; then \
	  test $(NODE_PEER)/node_modules/.package-lock.json -nt $(NODE_PEER)/package-lock.json \
	  || npm ci --prefix $(NODE_PEER) --no-audit --no-fund; \
	else \
	  echo "make bench: npm not found; benchmarks/idp runs without its node-oidc-provider peer" >&2; \
	fi
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
