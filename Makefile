# polytail: every target works from a fresh clone with nothing but Python 3.11+ installed.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Reinstall when the project metadata changes.
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help install test lint typecheck imports pytest demo bench format clean

help:
	@echo "make demo    run polytail's offline demo (local exchange, paper engine)"
	@echo "make test    lint, type-check, import contracts and the test suite"
	@echo "make bench   run every benchmark under bench/ (results: bench/results.json)"
	@echo "make format  format the code with ruff"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

imports: install
	$(BIN)/lint-imports

pytest: install
	$(BIN)/pytest

test: lint typecheck imports pytest

demo: install
	$(BIN)/polytail demo

bench: install
	$(BIN)/python bench/run.py

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis build dist
