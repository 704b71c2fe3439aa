# The two commands of the README: `make run` and `make test`. Each sets everything up first
# (a virtual environment in .venv with the pinned dependencies), so a fresh machine needs only
# python3, pip and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup run build validate test lint browser nginx virtuoso clients bench bench-build bench-http bench-reliability bench-workers clean

$(STAMP): pyproject.toml web/assets.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	$(BIN)/python scripts/fetch_assets.py
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
	$(BIN)/ruff check src tests scripts bench
	$(BIN)/ruff format --check src tests scripts bench
	$(BIN)/mypy

# $(call debian,TARGET,FILES,PACKAGES): install Debian's PACKAGES when one of FILES is missing
# (which needs root; otherwise say what to run as root); a no-op once they are all there.
define debian
	@if $(foreach file,$(2),[ -x $(file) ] &&) true; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "make $(1): one of $(2) is missing. As root, run:" >&2; \
	  echo "  apt-get update && apt-get install -y --no-install-recommends $(3)" >&2; \
	  exit 1; \
	fi; \
	apt-get update && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(3)
endef

# A real headless Chromium and its driver for tests/pages/test_browser.py, from Debian's packages
# (Selenium is told where they are and never downloads a browser of its own). Installed when
# missing, which needs root; a no-op once they are there.
CHROMIUM     := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver

browser:
	$(call debian,browser,$(CHROMIUM) $(CHROMEDRIVER),chromium chromium-driver)

# Debian's nginx for tests/web/test_replicas.py (replicas behind a load balancer; the test runs
# its own nginx with deploy/nginx.conf, never the system's service). Installed when missing, which
# needs root; a no-op once it is there.
NGINX := /usr/sbin/nginx

nginx:
	$(call debian,nginx,$(NGINX),nginx)

# A real Virtuoso for tests/engine/test_virtuoso.py and test_portability.py (the tests start their
# own, on free loopback ports), from Debian's package. Installed when missing, which needs root; a
# no-op once it is there.
VIRTUOSO := /usr/bin/virtuoso-t

virtuoso:
	$(call debian,virtuoso,$(VIRTUOSO),virtuoso-opensource)

# Real clients the tests run (tests/clients/package.json, pinned by its package-lock.json): the
# LDES client of the TREE community group reads the change feed. Needs Node.js and npm (from
# Debian's packages when missing, which needs root); a no-op once installed.
CLIENTS := tests/clients/node_modules/.package-lock.json

clients: $(CLIENTS)

$(CLIENTS): tests/clients/package-lock.json
	@if ! command -v npm >/dev/null; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "make clients: npm is missing. As root, run: apt-get install -y nodejs npm" >&2; \
	    exit 1; \
	  fi; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm; \
	fi
	npm ci --prefix tests/clients --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $(CLIENTS)

test: lint browser clients nginx virtuoso
	$(BIN)/pytest

# Both benchmarks; results in BENCHMARKS.md. bench-http needs wrk (apt-get install wrk) and
# installs rdflib-endpoint in its own venv under bench/.peers/ on first use. bench-reliability
# (a 10-minute soak and the attacks, about 17 minutes in all) is run on its own; it measures this
# checkout as "after", and another one with
# `$(BIN)/python bench/reliability_bench.py --code DIR --label before`.
bench: bench-build bench-http

bench-build: setup
	$(BIN)/python bench/build_bench.py

bench-http: setup
	$(BIN)/python bench/http_bench.py

bench-reliability: setup
	$(BIN)/python bench/reliability_bench.py

# Query workers' import, start time and memory (a minute); measures this checkout as "after", and
# another one with `$(BIN)/python bench/worker_bench.py --code DIR --label before`.
bench-workers: setup
	$(BIN)/python bench/worker_bench.py

clean:
	rm -rf $(VENV) releases build dist .pytest_cache .mypy_cache .ruff_cache src/hrgraph/static/vendor
