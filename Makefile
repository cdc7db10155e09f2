# `make run` serves the demo; `make test` runs lint and the whole suite. Both build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint browser bench screenshots install clean translations

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)
	$(BIN)/pybabel -q compile -d app/translations

# Playwright drives Debian's chromium; install it when it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: install
	$(FLASK) db upgrade
	$(FLASK) demo seed
	$(FLASK) serve --host 127.0.0.1 --port 5000

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# One test process per core (pytest-xdist): each has its own databases, ports and browser.
test: install browser lint
	$(BIN)/pytest -n auto

bench: install
	$(BIN)/python bench/registration.py

# The README's pictures, from a freshly seeded demo in a throwaway database.
screenshots: install browser
	$(BIN)/python docs/screenshots.py

# After marking new text: gather it into the catalogs, then translate each new entry.
translations: install
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ -k _l --no-location --sort-output -w 96 -o app/translations/messages.pot .
	$(BIN)/pybabel -q update -w 96 -i app/translations/messages.pot -d app/translations

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
