# Aviary: the two commands are `make run` (no server needed) and `make test` (real servers).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTEST_WORKERS ?= 2

.PHONY: run test install install-test frontend migrate bootstrap up lint services-start services-stop lock clean

## make run: install, migrate, create the demo tenant and admin, start web + worker + scheduler
run: install frontend migrate bootstrap up

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

install: $(PY)
	$(PIP) install -q -r requirements.lock

install-test: $(PY)
	$(PIP) install -q -r requirements-test.lock

node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || bash scripts/install-node.sh
	npm ci --no-audit --no-fund --loglevel=error

frontend: node_modules/.package-lock.json
	npm run --silent build

migrate: install
	$(PY) manage.py migrate --noinput -v 0

bootstrap:
	$(PY) manage.py aviary_bootstrap

up:
	$(PY) manage.py up

## make test: packages when missing, services when down, lint, then the whole suite in parallel
test: install-test frontend
	bash scripts/services.sh start
	$(MAKE) --no-print-directory lint
	DJANGO_SETTINGS_MODULE=config.settings_test $(PY) manage.py makemigrations --check --dry-run -v 0
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --create-db -p no:cacheprovider

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

services-start:
	bash scripts/services.sh start

services-stop:
	bash scripts/services.sh stop

## make lock: regenerate the two lock files from pyproject.toml's pins
lock:
	rm -rf /tmp/aviary-lock && $(PYTHON) -m venv /tmp/aviary-lock
	$(PYTHON) -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
	  print(*p['dependencies'], sep='\n', file=open('/tmp/aviary-lock/run.txt', 'w')); \
	  print(*p['optional-dependencies']['test'], sep='\n', file=open('/tmp/aviary-lock/test.txt', 'w'))"
	/tmp/aviary-lock/bin/pip install -q -r /tmp/aviary-lock/run.txt
	/tmp/aviary-lock/bin/pip freeze > requirements.lock
	/tmp/aviary-lock/bin/pip install -q -r /tmp/aviary-lock/test.txt
	/tmp/aviary-lock/bin/pip freeze > requirements-test.lock

clean:
	rm -rf $(VENV) node_modules frontend/dist .data staticfiles
