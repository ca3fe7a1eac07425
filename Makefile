# agentrt: the two commands a new machine needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test test-fast bench lint clean

# Re-install whenever the dependency pins change; constraints.txt keeps installs reproducible.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# The console's browser test drives Debian's Chromium (Playwright never downloads a browser).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	else \
		echo "The browser test needs Debian's chromium at $(CHROMIUM): sudo apt-get install chromium" >&2; exit 1; \
	fi

## Temporal dev server + embedded Postgres + worker (+ API), no configuration needed. Ctrl-C stops it all.
run: install
	$(BIN)/agentrt dev

## The whole suite against a real Temporal dev server and a real Postgres.
test: install $(CHROMIUM)
	$(BIN)/python -m pytest

## Everything except the tests that start extra processes.
test-fast: install
	$(BIN)/python -m pytest -m "not slow"

## Benchmarks; results land in bench/RESULTS.md.
bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/python -m compileall -q runtime workflows activities integrations

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts
