# Every target sets itself up: a virtual environment in .venv with the project and its dependencies,
# re-installed only when pyproject.toml changes. Safe to run again.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stamp-deps

.PHONY: setup demo test lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev,cluster]'
	@touch $(STAMP)

setup: $(STAMP)

## The main job on the embedded simulator (bounded demo).
demo: $(STAMP)
	$(BIN)/asym run --venue sim --cycles 24 --http 127.0.0.1:0

## The whole test suite.
test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/asym bench all

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
