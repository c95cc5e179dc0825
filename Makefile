PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck pytest docs bench fuzz soak clean

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
	$(BIN)/ruff check clerk_fastapi tests example_app bench
	$(BIN)/ruff format --check clerk_fastapi tests example_app bench

typecheck: $(STAMP_DEV)
	$(BIN)/mypy --strict clerk_fastapi

pytest: $(STAMP_DEV)
	$(BIN)/python -m pytest

docs: $(STAMP_DEV)
	$(BIN)/mkdocs build --strict --site-dir site

test: lint typecheck pytest docs

bench: $(STAMP_DEV)
	$(BIN)/python -m bench

fuzz: $(STAMP_DEV)
	CLERK_FUZZ_EXAMPLES=20000 $(BIN)/python -m pytest tests/test_fuzz.py -m "slow or not slow"

soak: $(STAMP_DEV)
	CLERK_SOAK_SECONDS=120 $(BIN)/python -m pytest tests/test_fault_load.py

clean:
	rm -rf $(VENV) site dist build
