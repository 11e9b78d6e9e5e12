# The one entry point, locally and in CI.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run logins test lint format migrations-check bench install clean

$(BIN)/python:
	@echo "Creating .venv with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)

# Quiet (errors only), so the first `make run` fits on a screen.
$(STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing the portal and its tools into .venv (the first time takes a few minutes)"
	@$(BIN)/python -m pip install --quiet --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

## Start the portal with demo data: web on http://127.0.0.1:8000/, a Celery worker and beat.
run: $(STAMP)
	@echo "Preparing the demo: database, ladders, invented people and escalations"
	@DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --no-input -v 0
	@DEBUG=$${DEBUG:-true} $(BIN)/python manage.py load_policies -v 0
	@DEBUG=$${DEBUG:-true} $(BIN)/python manage.py seed_demo --quiet --escalations $${DEMO_ESCALATIONS:-200}
	@DEBUG=$${DEBUG:-true} $(BIN)/python scripts/run_portal.py

## Every demo login (make run shows one per role and partnership).
logins: $(STAMP)
	@DEBUG=$${DEBUG:-true} $(BIN)/python manage.py demo_logins

## Lint, check formatting, imports and migrations, then the whole test suite.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/lint_scoped_lookups.py
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_module_size.py
	DEBUG=false SECRET_KEY=makemigrations-check $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

## Lint: ruff, the scoped-lookup guard, the import contracts (.importlinter: no cycles, the
## layers of docs/adr/0009) and the 600-line limit on product modules.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/lint_scoped_lookups.py
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_module_size.py

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: $(STAMP)
	DEBUG=false SECRET_KEY=makemigrations-check $(BIN)/python manage.py makemigrations --check --dry-run

bench: $(STAMP)
	BENCH_ROUTES=true $(BIN)/python manage.py bench --escalations $${N:-100000}

clean:
	rm -rf $(VENV) var
