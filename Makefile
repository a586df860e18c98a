# Cartera — every set-up step a newcomer needs. `make demo` runs it; `make test` tests it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
DEMO_CLIENTS ?= 300
# The demo's commands and server: DEBUG on, and the e-mails' links on the port it serves.
DEMO_ENV = DEBUG=true SITE_URL=http://127.0.0.1:$(PORT)

.PHONY: help install install-dev demo test worker beat messages lint chromium bench load backup restore clean

help:
	@echo "make demo     install, migrate SQLite, load demo data and serve http://127.0.0.1:$(PORT)"
	@echo "make test     install dev requirements and run the whole suite"
	@echo "make worker   Celery worker (needs REDIS_URL)   make beat   Celery beat scheduler"
	@echo "make backup   timestamped backup of the database into BACKUP_DIR (backups/)"
	@echo "make restore FILE=backups/…   restore a backup into an empty database"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed messages

install-dev: $(VENV)/.installed-dev messages

messages: | $(PY)
	DEBUG=true $(PY) manage.py compilemessages --ignore=$(VENV) --verbosity 0

# Development settings for the README's `.venv/bin/python manage.py ...` commands (git-ignored):
# DEBUG on and a SECRET_KEY of its own. Written once: an existing .env is never touched.
.env:
	@umask 077 && $(PYTHON) -c "import secrets; print('DEBUG=true'); print('SECRET_KEY=' + secrets.token_urlsafe(50))" > $@
	@echo "Wrote .env (DEBUG=true and a generated SECRET_KEY) for manage.py commands"

demo: install .env
	$(DEMO_ENV) $(PY) manage.py migrate --no-input
	$(DEMO_ENV) $(PY) manage.py seed_demo --clients $(DEMO_CLIENTS)
	@echo "Cartera demo on http://127.0.0.1:$(PORT)/  (logins above; password cartera-demo)"
	$(DEMO_ENV) $(PY) manage.py runserver 127.0.0.1:$(PORT)

# Browser tests drive Debian's Chromium; install it when missing and we are allowed to.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is missing: browser tests will be skipped (apt-get install chromium)"; fi; \
	fi

test: install-dev chromium
	$(PY) -m pytest $(PYTEST_ARGS)

# ruff, then the import contracts in pyproject.toml (the apps stack without upward imports or cycles).
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

worker: install
	$(VENV)/bin/celery -A portfolio worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A portfolio beat --loglevel=INFO

# Benchmarks on PostgreSQL: builds a database of BENCH_CLIENTS clients once, then times pages and jobs.
bench: install
	BENCH_CLIENTS=$(or $(BENCH_CLIENTS),1000000) bench/run.sh

$(VENV)/.installed-load: requirements.txt requirements-load.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-load.txt
	touch $(VENV)/.installed $@

# Load test: LOAD_USERS (20) logged-in users for LOAD_SECONDS (60) against gunicorn + PostgreSQL
# holding LOAD_CLIENTS (100,000) clients (built once); prints p50/p95/p99, fails on any error.
load: $(VENV)/.installed-load messages
	bench/load.sh

# Backups (core/backups.py): pg_dump custom format on PostgreSQL, the online backup API on SQLite,
# named with a UTC timestamp; a restore goes into an empty database only (README "Backups").
backup: install
	$(PY) manage.py backup

restore: install
	@test -n "$(FILE)" || { echo "usage: make restore FILE=backups/<name>.dump  (into an empty database)"; exit 2; }
	$(PY) manage.py restore "$(FILE)"

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
