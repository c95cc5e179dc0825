PYTHON ?= python3
VENV := .venv
# The dev venv has the mcp extra, so `make test` runs the MCP adapter tests; `make test-core`
# runs the suite again in a second venv without it (the core must not need mcp/fastmcp).
EXTRAS := dev,mcp
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: test-slow demo test test-clone release-check test-core test-all lint typecheck imports pytest docs bench bench-compare fuzz soak clean redis-server chromium wrk parity parity-node

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[docs-ui]' uvicorn
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[$(EXTRAS)]'
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(BIN)/python -m example_app

lint: $(STAMP_DEV)
	$(BIN)/ruff check clerk_fastapi tests example_app $(wildcard bench) $(wildcard parity/*.py)
	$(BIN)/ruff format --check clerk_fastapi tests example_app $(wildcard bench) $(wildcard parity/*.py)

typecheck: $(STAMP_DEV)
	$(BIN)/mypy --strict clerk_fastapi

# The layering contracts in pyproject.toml ([tool.importlinter]).
imports: $(STAMP_DEV)
	$(BIN)/lint-imports

# The Redis tests need a real redis-server (Debian's); install it when missing and we can.
redis-server:
	@command -v redis-server >/dev/null 2>&1 || (command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq >/dev/null && apt-get install -y -qq redis-server >/dev/null) || \
		echo "redis-server is missing and could not be installed: the Redis tests will fail in CI")

# The Swagger UI test renders /docs in a real headless browser (Debian's chromium).
chromium:
	@command -v chromium >/dev/null 2>&1 || (command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null) || \
		echo "chromium is missing and could not be installed: the Swagger UI test will fail in CI")

pytest: $(STAMP_DEV) redis-server chromium
	$(BIN)/python -m pytest

docs: $(STAMP_DEV)
	$(BIN)/mkdocs build --strict --site-dir site

# The tests marked slow (left out of make test by addopts): CI runs them (.ci/run).
test-slow: $(STAMP_DEV) redis-server
	$(BIN)/python -m pytest -m slow

test: lint typecheck imports pytest docs

# A clone of the last commit in an empty temporary directory (nothing beside it, no ../ data)
# passes `make test`: the test data lives in tests/data. .ci/run calls it.
test-clone:
	@d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && \
		git clone -q "$(CURDIR)" "$$d/clerk-fastapi" && \
		$(MAKE) -C "$$d/clerk-fastapi" test PYTHON=$(PYTHON)

# Before tagging vX.Y.Z (CONTRIBUTING.md, "Releasing"): build the sdist and the wheel, check their
# metadata strictly, install the wheel into a fresh venv outside the clone and import it there.
release-check: $(STAMP_DEV)
	@d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && \
		$(BIN)/python -m build --no-isolation --outdir "$$d/dist" . >/dev/null && \
		$(BIN)/python -m twine check --strict "$$d"/dist/* && \
		$(PYTHON) -m venv "$$d/venv" && \
		"$$d/venv/bin/python" -m pip install -q "$$d"/dist/*.whl && \
		cd "$$d" && "$$d/venv/bin/python" -c "import clerk_fastapi, clerk_fastapi.testing; \
			print('clerk-fastapi', clerk_fastapi.__version__, 'installs and imports from', \
			clerk_fastapi.__file__)"

test-core:
	$(MAKE) typecheck imports pytest VENV=.venv-core EXTRAS=dev

# The pytest suite on Python 3.10, 3.11, 3.12 and 3.13, one .venv-3.X each (see scripts/test-all).
test-all: redis-server
	bash scripts/test-all

# The whole-app benchmark rows use wrk (Debian's); install it when missing and we can, else
# `make bench` falls back to its Python load generator (bench/loadgen.py) and says so.
wrk:
	@command -v wrk >/dev/null 2>&1 || (command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null) || \
		echo "wrk is missing and could not be installed: make bench uses bench/loadgen.py")

# Every row of issue 17 in one run (BENCH_QUICK=1: the reduced smoke run; BENCH_REPS=N).
bench: $(STAMP_DEV) wrk
	$(BIN)/python -m bench

# Every row before (BASE, a commit) and after (the working tree), alternating whole runs:
# make bench-compare BASE=c11f0ac [ROUNDS=2] [WRITE=1: the last run of the working tree
# becomes bench/results.json and the pages make bench writes]
bench-compare: $(STAMP_DEV) wrk
	$(BIN)/python scripts/bench_compare.py $(BASE) --rounds $(or $(ROUNDS),2) $(if $(WRITE),--write)

fuzz: $(STAMP_DEV)
	CLERK_FUZZ_EXAMPLES=20000 $(BIN)/python -m pytest tests/test_fuzz.py -m "slow or not slow"

# The project's soak (tests/soak/run.py: workers, Redis, the fake Clerk out of process, outages,
# rotation, Redis restart with forgets, a worker killed) for CLERK_SOAK_SECONDS (10 minutes),
# printing its per-phase figures; then the in-process fault/load soak with its memory check.
# Its short form (30 s of load) is part of every `make test`.
CLERK_SOAK_SECONDS ?= 600
soak: $(STAMP_DEV) redis-server
	CLERK_SOAK_SECONDS=$(CLERK_SOAK_SECONDS) $(BIN)/python -m pytest tests/test_soak.py -s
	CLERK_SOAK_SECONDS=120 $(BIN)/python -m pytest tests/test_fault_load.py -m slow

# Differential parity with @clerk/backend 3.25.0 (parity/): needs Node.js >= 20 and npm.
# sdk_wire.py: the JS SDK as a client of the fake, on every endpoint it serves (issue 26).
PARITY_LOCK := parity/package-lock.json
PARITY_STAMP := parity/node_modules/.installed-lock

parity-node:
	@command -v node >/dev/null 2>&1 || { echo "make parity: node is missing. Install Node.js >= 20 \
	(e.g. apt-get install nodejs npm, or https://nodejs.org) and run it again." >&2; exit 1; }
	@command -v npm >/dev/null 2>&1 || { echo "make parity: npm is missing. Install npm \
	(e.g. apt-get install npm, or https://nodejs.org) and run it again." >&2; exit 1; }

$(PARITY_STAMP): $(PARITY_LOCK) | parity-node
	npm ci --prefix parity --no-audit --no-fund
	touch $@

parity: $(STAMP_DEV) parity-node $(PARITY_STAMP)
	$(BIN)/python parity/run.py
	$(BIN)/python parity/sdk_wire.py

clean:
	rm -rf $(VENV) .venv-core .venv-3.* site dist build parity/node_modules
