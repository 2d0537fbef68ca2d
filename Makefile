# Citydesk: `make run` serves the portal with a worker and beat; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# The suite runs on both cores (pytest-xdist); PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 2
# The settings default to production (debug off, real secrets required); the
# targets here are local development, so they run in debug mode unless told otherwise.
export DJANGO_DEBUG ?= 1

# make fuzz: Hypothesis examples per API operation and phase (the test suite runs 8), and the seed
# ("random": a new one each run, printed with the figures).
FUZZ_EXAMPLES ?= 100
FUZZ_SEED ?= random

.PHONY: run test fuzz lint fmt bench migrate seed messages install install-dev clean help

help:
	@echo "make run    - serve the portal at http://$(HOST):$(PORT)/ with a Celery worker and beat"
	@echo "make test   - run the whole test suite"
	@echo "make fuzz   - fuzz the API from its schema (Schemathesis) longer than the suite does"
	@echo "make lint   - ruff check + format check + import layers + type check (mypy) + migrations check"
	@echo "make fmt    - ruff format + fix"
	@echo "make bench  - run the benchmarks in bench/"

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: $(VENV)/.installed
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) scripts/run_dev.py --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-dev
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

fuzz: $(VENV)/.installed-dev
	API_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) API_FUZZ_SEED=$(FUZZ_SEED) \
		$(VENV)/bin/pytest tests/test_api_fuzz.py -s -q -p no:cacheprovider $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) manage.py makemigrations --check --dry-run

fmt: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(VENV)/.installed-dev
	$(PY) -m bench

messages: $(VENV)/.installed-dev
	$(PY) scripts/messages.py

clean:
	rm -rf var/celery var/static
