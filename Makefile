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

# Builds the release if the sources changed (a no-op otherwise). Serving comes with the publisher
# issue; until then `make run` stops after the build and says where the release is.
run: setup
	$(BIN)/hrgraph build
	@echo "The release is built (releases/current). Serving it over HTTP is not implemented yet."

build: run

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
