# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint bench clean chromium

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(PY) -m bot demo

# The browser the public page's test drives (tests/browser): Debian's chromium from the
# package registry, installed when it is missing and this user may; else the test skips
# and says so. Playwright drives it; `playwright install` is never needed.
chromium:
	@if [ -x /usr/bin/chromium ]; then echo "chromium: $$(/usr/bin/chromium --version 2>/dev/null)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium) \
		|| echo "chromium: could not be installed; the browser tests will be skipped"; \
	else echo "chromium: missing and not root; the browser tests will be skipped"; fi

# The four test passes run side by side: the integration passes mostly wait for their
# homeserver (each starts its own on a free port, with databases of its own), the first
# mostly computes. Each pass's output is printed whole when it ends; `make test` fails if
# any of them failed (all run to the end). TEST_JOBS=1 runs them one after the other.
TEST_JOBS ?= 4
TEST_PASSES := test-unit test-integration test-integration-postgresql test-integration-v10
.PHONY: $(TEST_PASSES)

test: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	$(MAKE) --no-print-directory -k -j$(TEST_JOBS) --output-sync=target $(TEST_PASSES)
	# Three minutes of the soak (bench/soak.py): commands while the bot is killed and the
	# homeserver (and, as root on PostgreSQL, the database) restart; fails on lost or doubled.
	$(PY) bench/soak.py --minutes 3

# Unit, store (SQLite and PostgreSQL) and council tests, with Hypothesis's big profile.
test-unit: $(VENV)/.installed
	ZT_HYPOTHESIS_PROFILE=ci $(PY) -m pytest --ignore=tests/integration -rs

# The integration suite on a real Synapse, with the bots on SQLite.
test-integration: $(VENV)/.installed
	$(PY) -m pytest tests/integration -rs

# Once more with the bots on PostgreSQL (skipped, saying so, when no server answers on
# 127.0.0.1:5432); its one test that restarts the server waits until no other pass has a
# database there (tests/databases.py).
test-integration-postgresql: $(VENV)/.installed
	ZT_TEST_DATABASE=postgresql $(PY) -m pytest tests/integration -rs

# And once more in old-style rooms (room version 10, ids `!opaque:server`); the passes
# above use the room version the installed Synapse makes by default (12).
test-integration-v10: $(VENV)/.installed
	ZT_TEST_ROOM_VERSION=10 $(PY) -m pytest tests/integration -rs

bench: $(VENV)/.installed
	$(PY) bench/status_latency.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
