# The README's commands. Everything installs into .venv from requirements.txt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed

.PHONY: run test lint format setup clean bench bench-profile bench-notifications bench-faults bench-audit

setup: $(STAMP)

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python scripts/devstack.py

test: $(STAMP)
	@test -x /usr/bin/chromium || echo "make test: no Chromium at /usr/bin/chromium, so the browser tests will be SKIPPED (apt-get install chromium runs them)"
	$(BIN)/python -m pytest

# The API under wrk against the floor (bench/floor.py), in the same run; needs wrk
# (apt-get install wrk). SIZES=, PATHS=, DATABASE_URL= choose what it covers (bench/run.py).
bench: $(STAMP)
	$(BIN)/python bench/run.py

# Where a request's time goes, in-process, per path: ms a call and statements (--profile: tree).
bench-profile: $(STAMP)
	$(BIN)/python bench/profile.py

# One Celery worker (console backends) drains 10,000 pending notifications; prints the rate.
bench-notifications: $(STAMP)
	$(BIN)/python bench/notifications.py

# Slow clients, a frozen Redis and recovery after an outage, with the real parts; prints figures.
bench-faults: $(STAMP)
	$(BIN)/python bench/faults.py

# What the access audit costs a request, in-process; prints milliseconds per call.
bench-audit: $(STAMP)
	$(BIN)/python bench/audit_cost.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var staticfiles
