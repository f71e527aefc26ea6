# omamori — every step a fresh machine needs is here; nothing is installed by hand.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup system venv test test-all reliability lint run dashboard demo demo-cluster bench schema clean

help:
	@echo "make demo      start the lab and the whole service against it, serve the dashboard"
	@echo "make demo-cluster  the demo on a throw-away PostgreSQL: one scheduler, two workers"
	@echo "make test      run the test suite (sets itself up first)"
	@echo "make test-all  the suite including slow tests"
	@echo "make reliability  the attack and fault tests; rewrites docs/reliability.md"
	@echo "make lint      ruff + import-linter contracts + mypy"
	@echo "make run       the service against the real internet with data/config.toml"
	@echo "make dashboard the Streamlit dashboard for data/config.toml"
	@echo "make bench     all benchmarks; rewrites BENCHMARKS.md"
	@echo "make setup     virtualenv + Debian packages (chromium, dnsutils, postgresql, a CJK font) when root"

setup: system venv

# Debian packages: only root can install them; anyone else is told what is missing.
system:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	test -x /usr/lib/chromium/chromium-headless-shell || missing="$$missing chromium-headless-shell"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	command -v dig >/dev/null || missing="$$missing bind9-dnsutils"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	ls /usr/share/fonts/opentype/ipafont-gothic >/dev/null 2>&1 || missing="$$missing fonts-ipafont-gothic"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian packages:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	    || { echo "apt-get install$$missing failed"; exit 1; }; \
	else \
	  echo "skipping Debian packages (not root):$$missing is missing; ask an administrator to run 'apt-get install$$missing'"; \
	fi

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -U pip 2>&1 | grep -v "is ignored" || true
	$(PY) -m pip install -q -e '.[dev]' 2>&1 | grep -v "is ignored" || true
	$(PY) -c "import watcher, sqlmodel, scrapy, streamlit, dnslib, aiosmtpd" 
	@touch $(STAMP)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

test-all: setup
	$(PY) -m pytest -m "" $(PYTEST_ARGS)

# Every test marked `reliability` (slow ones too); each is a row of docs/reliability.md.
reliability: setup
	$(PY) -m pytest -m reliability --reliability-report=docs/reliability.md $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

run: setup
	$(VENV)/bin/omamori run

dashboard: venv
	$(VENV)/bin/omamori dashboard

demo: setup
	$(PY) -m lab.demo

# The demo on a throw-away PostgreSQL: one scheduler (omamori run), two workers (omamori worker).
demo-cluster: setup
	$(PY) -m lab.demo --cluster

bench: setup
	$(PY) -m bench

# Before the first release only: regenerate the initial migration from watcher/models.py.
schema: venv
	rm -f watcher/core/migrations/versions/0001_initial_schema.py
	$(PY) -c "from alembic import command; from watcher.core.db import make_engine, alembic_config; \
	  command.revision(alembic_config(make_engine('sqlite://')), message='initial schema', autogenerate=True, rev_id='0001')"
	$(VENV)/bin/ruff format -q watcher/core/migrations/versions

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
