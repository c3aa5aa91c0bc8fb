# polytail: every target works from a fresh clone with nothing but Python 3.11+ installed.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Reinstall when the project metadata changes.
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help install chromium test lint typecheck imports pytest demo bench format clean

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

# The dashboard test drives Debian's Chromium through Playwright, which never downloads a
# browser here. Installed once when missing (needs root or sudo); quiet unless it fails.
CHROMIUM     ?= /usr/bin/chromium
CHROMIUM_LOG := /tmp/polytail-chromium-install.log
chromium:
	@test -x $(CHROMIUM) || { \
	  echo "installing Debian's chromium for the dashboard test (log: $(CHROMIUM_LOG))"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  { $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; \
	  } >$(CHROMIUM_LOG) 2>&1 && test -x $(CHROMIUM) || { \
	    echo "error: could not install chromium (see $(CHROMIUM_LOG)). Install it as root" \
	         "with 'apt-get install -y chromium' so that $(CHROMIUM) exists, then rerun." >&2; \
	    exit 1; }; }

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

imports: install
	$(BIN)/lint-imports

pytest: install chromium
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
