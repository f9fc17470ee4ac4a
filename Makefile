# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(PY) -m bot demo

test: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest
	# The integration suite once more with the bots on PostgreSQL (skipped, saying so,
	# when no server answers on 127.0.0.1:5432).
	ZT_TEST_DATABASE=postgresql $(PY) -m pytest tests/integration -rs
	# And once more in old-style rooms (room version 10, ids `!opaque:server`); the runs
	# above use the room version the installed Synapse makes by default (12).
	ZT_TEST_ROOM_VERSION=10 $(PY) -m pytest tests/integration -rs
	# Three minutes of the soak (bench/soak.py): commands while the bot is killed and the
	# homeserver (and, as root on PostgreSQL, the database) restart; fails on lost or doubled.
	$(PY) bench/soak.py --minutes 3

bench: $(VENV)/.installed
	$(PY) bench/status_latency.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
