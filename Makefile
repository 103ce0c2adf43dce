# Two commands on a fresh machine with Python 3.11+:  make run   |   make test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8080

.PHONY: run test lint bench install install-test fhir-server-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

fhir-server-deps:
	@if command -v npm >/dev/null 2>&1; then cd tests/fhir_server && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: FHIR-server tests will be skipped"; fi

## Start the service on http://127.0.0.1:$(PORT) with embedded defaults (SQLite, demo data, auth off).
run: install
	$(BIN)/cds-service serve --insecure-demo --host 127.0.0.1 --port $(PORT)

## Install what the tests need and run the whole suite (lint first).
test: install-test fhir-server-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

lint: install-test
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: install-test
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) build dist *.egg-info test-output
