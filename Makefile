# Two commands for a fresh machine: `make demo` (install + run the default Lozère coverage)
# and `make test` (install + run the whole test suite). Both create .venv when missing.
VENV ?= .venv
PY := $(VENV)/bin/python

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

.PHONY: demo test lint bench
demo: $(VENV)/.installed
	$(VENV)/bin/maillage run scenarios/lozere-coverage.yaml --out outputs/lozere-coverage
	$(VENV)/bin/maillage rounds scenarios/lozere-bus.yaml --out outputs/lozere-bus
	$(VENV)/bin/maillage rooms scenarios/lozere-rooms.yaml --out outputs/lozere-rooms

test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy planner optimize
	$(PY) -m pytest -n 2

bench: $(VENV)/.installed
	$(PY) bench/travel_matrix.py
