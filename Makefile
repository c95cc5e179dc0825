PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck pytest docs bench fuzz soak clean redis-server

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e . uvicorn
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(BIN)/python -m example_app

lint: $(STAMP_DEV)
	$(BIN)/ruff check clerk_fastapi tests example_app $(wildcard bench)
	$(BIN)/ruff format --check clerk_fastapi tests example_app $(wildcard bench)

typecheck: $(STAMP_DEV)
	$(BIN)/mypy --strict clerk_fastapi

# The Redis tests need a real redis-server (Debian's); install it when missing and we can.
redis-server:
	@command -v redis-server >/dev/null 2>&1 || (command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq >/dev/null && apt-get install -y -qq redis-server >/dev/null) || \
		echo "redis-server is missing and could not be installed: the Redis tests will fail in CI")

pytest: $(STAMP_DEV) redis-server
	$(BIN)/python -m pytest

docs: $(STAMP_DEV)
	$(BIN)/mkdocs build --strict --site-dir site

test: lint typecheck pytest docs

bench: $(STAMP_DEV)
	$(BIN)/python -m bench

fuzz: $(STAMP_DEV)
	CLERK_FUZZ_EXAMPLES=20000 $(BIN)/python -m pytest tests/test_fuzz.py -m "slow or not slow"

soak: $(STAMP_DEV)
	CLERK_SOAK_SECONDS=120 $(BIN)/python -m pytest tests/test_fault_load.py -m slow

clean:
	rm -rf $(VENV) site dist build
