# `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast test-external install docs lint clean bench-thumbnails bench-coldstart bench-ingest bench-requests bench-drain bench-edge bench-receipts bench-export bench-console

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --editable .
	touch $(STAMP)

install: $(STAMP)

# The docs' tools live in a venv of their own inside .venv (so `make clean` removes them):
# Zappa packs .venv's site-packages into both Lambda zips, and MkDocs with Material would
# take them past Lambda's 250 MB.
# MiniStack (requirements-ministack.txt, pinned) in a venv of its own inside .venv, as the
# docs' tools: the emulator bench-drain compares with and test-external runs Fleet on.
MINISTACK_VENV := $(VENV)/ministack
MINISTACK_STAMP := $(MINISTACK_VENV)/.installed
DOCS_VENV := $(VENV)/docs
DOCS_STAMP := $(DOCS_VENV)/.installed

$(DOCS_STAMP): requirements-docs.txt | $(STAMP)
	test -x $(DOCS_VENV)/bin/python || $(BIN)/python -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(DOCS_VENV)/bin/python -m pip install --quiet -r requirements-docs.txt
	touch $(DOCS_STAMP)

# The documentation site, docs/ into build/docs/ (open build/docs/index.html). Strict: a
# broken link or anchor, a page missing from the nav, or a module without a docstring (the
# module map is generated from them) fails it. Material's end-of-life banner is silenced;
# requirements-docs.txt notes it.
docs: $(STAMP) $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(DOCS_VENV)/bin/mkdocs build --strict

# The fleet's processes (moto's, the API under gunicorn, the workers, the edge); a saved change
# under any of our packages (fleet/packages.py) restarts all but moto's
# (`fleet up --no-reload` for a steady run).
run: $(STAMP)
	$(BIN)/fleet up --reload

# Lint and types, the docs build, the edge's conformance tier, then two processes, each
# file's tests in one of them: most tests wait on a fleet, not a CPU (the external tier
# runs Fleet on MiniStack, installed by the ministack target). It prints its own wall time
# at the end.
test: $(STAMP) $(MINISTACK_STAMP) chromium
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory lint docs conformance-edge && \
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=15; \
	status=$$?; echo "make test: $$(( $$(date +%s) - start )) s of wall time"; exit $$status

# The same Fleet with `fleet up --external` on MiniStack (pinned, requirements-ministack.txt),
# started by the tests on a free port: entries, emails, the outbox, a second provision (~35 s).
test-external: $(STAMP) $(MINISTACK_STAMP)
	$(BIN)/python -m pytest tests/external -q

# The linter (rules in pyproject.toml), the formatter's check and the type checker.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The unit tier and one end-to-end flow per feature, in two processes: under a minute (48 s
# here), no browser, no chaos, and none of the tests marked slow (make test runs them).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "(unit or quick) and not slow" -q

# The browser tests drive Debian's Chromium: as root, install it; otherwise say what to install.
CHROMIUM := /usr/bin/chromium
.PHONY: chromium
chromium:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "make test needs Debian's Chromium at $(CHROMIUM) for the browser tests: sudo apt-get install chromium" >&2; \
	    exit 1; \
	  fi; }

# The HTTP working group's caching tests (http-cache-tests, pinned by the lockfile in
# tests/conformance) against the local edge, one catch-all behaviour in front of the suite's
# origin, under gunicorn as `fleet up` runs it (~30 s): prints the score of the required
# tests and every failure with why; fails on a score below the baseline or a failing test
# tests/conformance/expected.py does not list. Node and npm as found; as root, Debian's are
# installed when missing (otherwise it says what to install).
CONFORMANCE := tests/conformance
.PHONY: conformance-edge
conformance-edge: $(STAMP) $(CONFORMANCE)/node_modules/.package-lock.json
	$(BIN)/python -m tests.conformance.check

$(CONFORMANCE)/node_modules/.package-lock.json: $(CONFORMANCE)/package-lock.json
	@{ command -v node && command -v npm; } >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	  else \
	    echo "make conformance-edge needs Node.js and npm: sudo apt-get install nodejs npm" >&2; \
	    exit 1; \
	  fi; }
	cd $(CONFORMANCE) && npm ci --no-audit --no-fund --silent

# A benchmark, not a test: prints times and memory, asserts nothing. pyvips is bench-only.
bench-thumbnails: $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-bench.txt
	$(BIN)/python -m bench.thumbnails

# A benchmark, not a test: our submission route vs a bare schema route, then over HTTP
# against the fleet in its processes vs a bare route that only sends, under the same
# gunicorn and moto, with Debian's wrk (installed when root; else a Python load generator).
# ARGS=--quick for a short run.
bench-ingest: $(STAMP)
	@command -v wrk >/dev/null || [ "$$(id -u)" != 0 ] || { \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python -m bench.ingest $(ARGS)

# Benchmarks, not tests: AWS calls per 1,000 submissions against the naive count (the
# fleet in one process), and bursts of 2,000 and 20,000 end to end against moto's own
# speed, the fleet in its processes (ARGS=--quick: 300 and 3,000).
bench-requests: $(STAMP)
	$(BIN)/python -m bench.requests

bench-drain: $(STAMP) $(MINISTACK_STAMP)
	$(BIN)/python -m bench.drain $(ARGS)

.PHONY: ministack
ministack: $(MINISTACK_STAMP)

$(MINISTACK_STAMP): requirements-ministack.txt
	test -x $(MINISTACK_VENV)/bin/python || $(PYTHON) -m venv $(MINISTACK_VENV)
	$(MINISTACK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MINISTACK_VENV)/bin/python -m pip install --quiet -r requirements-ministack.txt
	touch $(MINISTACK_STAMP)

# A benchmark, not a test: reads of a hot article, the list, the entry page and a 20 MB
# download through the local edge and from each origin (origin requests per 1,000 reads,
# p50/p99, bytes), and how soon an edit shows through the edge; `--quick` via ARGS=--quick.
bench-edge: $(STAMP)
	$(BIN)/python -m bench.edge $(ARGS)

# A benchmark, not a test: `fleet campaigns export` of 10,000 and 100,000 entries stored in
# moto, each in its own process: peak resident memory against the floor (no entries),
# rows/s, its CPU beside moto's (ARGS=--quick: 1,000 and 10,000).
bench-export: $(STAMP)
	$(BIN)/python -m bench.export $(ARGS)

# A benchmark, not a test: the review console on a campaign of 1,000 entries in Chromium through
# the local edge (`fleet up`'s processes): ms to the first photo and to all 25, opening the
# campaign and for each further page.
bench-console: $(STAMP)
	$(BIN)/python -m bench.console $(ARGS)

# A benchmark, not a test: recall of the receipt hash per kind of copy (re-encoded, resized,
# EXIF-rotated, brightness and contrast +-10/25 %, crops of 2/5/10 %, a screenshot, another
# photo) of 200 receipts, false pairs among 1,000 distinct receipt-like photos, the hash's
# cost beside the thumbnails', the band Queries' sizes; ARGS=--quick: 60 and 300.
bench-receipts: $(STAMP)
	$(BIN)/python -m bench.receipts $(ARGS)

# A benchmark, not a test: import plus first event of each entry point against a floor.
bench-coldstart: $(STAMP)
	$(BIN)/python -m bench.coldstart

clean:
	rm -rf $(VENV) .pytest_cache
