# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test test-integration bench lint format install migrate clean

$(INSTALLED): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(INSTALLED)

install: $(INSTALLED)
	$(BIN)/python scripts/compile_messages.py

migrate: install
	$(BIN)/python manage.py migrate --noinput

## Install, migrate, seed demo data once, print the admin login, run web + Celery worker.
run: migrate
	$(BIN)/python manage.py seed_demo --contacts 500
	$(BIN)/python manage.py ensure_admin
	$(BIN)/python scripts/run_dev.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/check_licences.py  # every dependency's licence compatible with AGPL-3.0-or-later

## The whole suite on the embedded default (SQLite, filesystem broker), plus lint and migrations check.
test: lint
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -m "not integration" || [ $$? -eq 5 ]  # 5: no test selected is not a failure

## Every test (the integration suite included) against real PostgreSQL and Redis, e.g.
## DATABASE_URL=postgres://postgres@127.0.0.1:5432/test CELERY_BROKER_URL=redis://127.0.0.1:6379/15
test-integration: install
	CRM_REQUIRE_INTEGRATION=1 $(BIN)/pytest || [ $$? -eq 5 ]

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
