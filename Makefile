# The two commands of the README: `make run` and `make test`. Each sets everything up first
# (a virtual environment in .venv with the pinned dependencies), so a fresh machine needs only
# python3, pip and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup run build validate test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Serves the current release on http://127.0.0.1:8000/, building it first if the sources changed
# (a no-op otherwise).
run: setup
	$(BIN)/hrgraph serve

build: setup
	$(BIN)/hrgraph build

validate: setup
	$(BIN)/hrgraph validate

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: setup
	$(BIN)/python bench/build_bench.py

clean:
	rm -rf $(VENV) releases build dist .pytest_cache .mypy_cache .ruff_cache
