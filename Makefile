# `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install clean bench-thumbnails

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --editable .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/fleet up

test: $(STAMP)
	$(BIN)/python -m pytest

# A benchmark, not a test: prints times and memory, asserts nothing. pyvips is bench-only.
bench-thumbnails: $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-bench.txt
	$(BIN)/python -m bench.thumbnails

clean:
	rm -rf $(VENV) .pytest_cache
