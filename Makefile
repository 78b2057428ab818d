# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# Where `make run` serves, and how many demo contacts it seeds into an empty database (from the
# environment or the command line: make run PORT=8080).
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_CONTACTS ?= 500

# Debian's Chromium and its driver run the browser tests (tests/web/browser.py); these three
# change only on make's command line (make browser CHROMIUM=…), not from the environment.
CHROMIUM = /usr/bin/chromium
CHROMEDRIVER = /usr/bin/chromedriver
APT_GET = apt-get
CHROMIUM_INSTALL := apt-get install chromium chromium-driver

.PHONY: run test test-fast test-integration test-cluster bench lint format install migrate clean browser

$(INSTALLED): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(INSTALLED)

install: $(INSTALLED)
	$(BIN)/python scripts/compile_messages.py

migrate: install
	$(BIN)/python manage.py migrate --noinput

## Install, migrate, create admin and print the login, seed demo data once (admin owns a share),
## run web + Celery worker and beat on HOST:PORT.
run: migrate
	$(BIN)/python manage.py ensure_admin --host "$(HOST)" --port "$(PORT)"
	$(BIN)/python manage.py seed_demo --contacts "$(DEMO_CONTACTS)"
	HOST="$(HOST)" PORT="$(PORT)" $(BIN)/python scripts/run_dev.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo  # the layer contracts in pyproject.toml [tool.importlinter]
	$(BIN)/python scripts/check_licences.py  # every dependency's licence compatible with AGPL-3.0-or-later

## Chromium for the browser tests: installed with apt-get when missing and we are root, else
## stop and say how (the browser tests never skip silently under make test).
browser:
	@if [ -x "$(CHROMIUM)" ] && [ -x "$(CHROMEDRIVER)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v "$(APT_GET)" >/dev/null 2>&1; then \
		echo "Installing Chromium for the browser tests: $(CHROMIUM_INSTALL)"; \
		"$(APT_GET)" update -q && DEBIAN_FRONTEND=noninteractive "$(APT_GET)" install -y -q \
			chromium chromium-driver || exit 1; \
		if [ -x "$(CHROMIUM)" ] && [ -x "$(CHROMEDRIVER)" ]; then exit 0; fi; \
		echo "$(CHROMIUM) or $(CHROMEDRIVER) is still missing after the install." >&2; exit 1; \
	fi; \
	echo "make test runs browser tests and needs $(CHROMIUM) and $(CHROMEDRIVER)." >&2; \
	echo "Install them as root, then run make test again: $(CHROMIUM_INSTALL)" >&2; \
	exit 1

## The whole suite on the embedded default (SQLite, filesystem broker), plus lint and migrations
## check; browser tests fail rather than skip when Chromium is missing.
test: lint browser
	$(BIN)/python manage.py makemigrations --check --dry-run
	CRM_REQUIRE_BROWSER=1 $(BIN)/pytest -m "not integration" || [ $$? -eq 5 ]  # 5: none selected

## The suite without the slow real-process tests (marker `slow`: Celery workers and beat, web
## servers, Chromium) and without the real-services ones; no lint. For the edit-and-test loop:
## two processes (pytest-xdist, each with its own test database) and 5 generated requests per
## API operation and mode instead of make test's 15 (tests/api/test_schemathesis.py).
test-fast: install
	CRM_SCHEMATHESIS_EXAMPLES=5 $(BIN)/pytest -n 2 -m "not slow and not integration" \
		|| [ $$? -eq 5 ]

## Every test (the integration suite included) against real PostgreSQL and Redis, e.g.
## DATABASE_URL=postgres://postgres@127.0.0.1:5432/test CELERY_BROKER_URL=redis://127.0.0.1:6379/15
test-integration: install
	CRM_REQUIRE_INTEGRATION=1 $(BIN)/pytest || [ $$? -eq 5 ]

## The production topology on one machine (tests/cluster, marker `cluster`, which the two
## targets above leave out): PostgreSQL primary + streaming replica, PgBouncer, Redis, an S3
## server, two gunicorn nodes behind nginx, two Celery workers and beat, all on ports
## 18600-18699, under load with a web node, a worker and beat killed. Installs nginx, PgBouncer,
## PostgreSQL and Redis from Debian's packages when missing (as root). About 4 minutes.
test-cluster: install
	$(BIN)/pytest tests/cluster -m cluster -p no:randomly

## Benchmarks (each beside a naive baseline): REST list and export, bulk import, SOAP vs REST.
bench: install
	$(BIN)/python bench/api_bench.py
	$(BIN)/python bench/import_bench.py --db both
	$(BIN)/python bench/export_bench.py --db both --custom-fields 20
	$(BIN)/python bench/soap_bench.py
	$(BIN)/python bench/integrations_bench.py

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
