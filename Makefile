# Two commands for a fresh machine: `make demo` (install + run the default Lozère coverage, rounds and rooms,
# then publish the bus rounds and the rooms in a demo database under outputs/ and print two personal links)
# and `make test` (install, including Debian's Chromium for the browser tests, + run every check).
# Both create .venv when missing.
VENV ?= .venv
PY := $(VENV)/bin/python
# apt-get needs root: as another user, sudo is used.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The demo's embedded database: under outputs/, so that the demo leaves nothing in the user's folders.
DEMO_DB := outputs/maillage-demo.db
# From what publish prints: the headline, then the first crew's and the first provider's line and link.
DEMO_LINKS := /^Lozère/ { print } / crew / && !c { c = 1; print; getline; print } / provider / && !p { p = 1; print; getline; print }

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

.PHONY: demo test lint system-deps bench
demo: $(VENV)/.installed
	$(VENV)/bin/maillage run scenarios/lozere-coverage.yaml --out outputs/lozere-coverage
	$(VENV)/bin/maillage rounds scenarios/lozere-bus.yaml --out outputs/lozere-bus
	$(VENV)/bin/maillage rooms scenarios/lozere-rooms.yaml --out outputs/lozere-rooms
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	@out=$$(MAILLAGE_DATABASE_URL=sqlite:///$(DEMO_DB) $(VENV)/bin/maillage publish outputs/lozere-bus \
	  outputs/lozere-rooms --territory Lozère --by demo) && printf '%s\n' "$$out" | awk '$(DEMO_LINKS)'
	@echo "Rendez-vous (public): http://127.0.0.1:8502/rdv/1"
	@echo "To open these links: MAILLAGE_DATABASE_URL=sqlite:///$(DEMO_DB) $(VENV)/bin/maillage serve"

# What the tests need from Debian: Chromium (driven by Playwright in tests/test_browser.py), and PostgreSQL
# + PostGIS (tests/test_platform_*.py start a throwaway server of their own).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "make test: installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@{ ls /usr/lib/postgresql/*/bin/initdb && ls /usr/share/postgresql/*/extension/postgis.control; } >/dev/null 2>&1 || { \
	  echo "make test: installing Debian's postgresql and postgis for the platform's storage tests"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql postgis >/dev/null; }

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: lint system-deps
	$(PY) -m pytest -n 2

bench: $(VENV)/.installed
	$(PY) bench/travel_matrix.py
