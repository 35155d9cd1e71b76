# Everything runs from a project-local virtualenv built from pyproject.toml;
# the marker file makes the venv rebuild only when the dependencies change.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MARKER := $(VENV)/.installed

.PHONY: install demo test lint format bench clean

install: $(MARKER)

$(MARKER): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(MARKER)

demo: $(MARKER)
	$(BIN)/python -m batch_cancel.demo

test: $(MARKER)
	$(BIN)/python -m pytest

lint: $(MARKER)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy batch_cancel
	$(BIN)/lint-imports

format: $(MARKER)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The benchmarks also need `requests` (the sequential loop they are compared
# with); curl is optional (its row says "curl not installed").
BENCH_MARKER := $(VENV)/.installed-bench

$(BENCH_MARKER): $(MARKER)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_MARKER)

bench: $(BENCH_MARKER)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache demo-out
