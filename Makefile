# The README's two commands: `make run` (set-up + demo) and `make test` (the suite).
# Both first make sure the Debian packages they need are there (scripts/debian-packages:
# installed when run as root, named in one line otherwise), then find a Python >= 3.12
# themselves (scripts/find-python says what to install).

VENV      := .venv
BIN       := $(VENV)/bin
STAMP     := $(VENV)/.installed
DATA_DIR  ?= var
HOST      ?= 127.0.0.1:8000
# The locked versions (with hashes) of everything the virtualenv holds: the server,
# the tests and the lint tools. requirements/server.lock is the production subset.
LOCK      := requirements/test.lock
# `make test DB=postgres` runs the suite on PostgreSQL: the server DATABASE_URL names,
# or, when it is unset, a throwaway one started for the run (tests/services.py).
DB        ?= sqlite
ON_DB     := $(if $(and $(filter postgres,$(DB)),$(if $(DATABASE_URL),,none)),$(BIN)/python -m tests.services postgres --,)

.PHONY: run test test-system lint venv messages lock audit clean-venv bench debian-run debian-test debian-system

debian-run:
	@scripts/debian-packages --install run

debian-test:
	@scripts/debian-packages --install test

debian-system:
	@scripts/debian-packages --install system

# Only the locked, hash-checked files are installed; the project itself goes in
# without its dependencies (already there) and without a build environment of its
# own (the locked setuptools builds it), so nothing unpinned is fetched.
$(STAMP): pyproject.toml $(LOCK)
	@PY=$$(scripts/find-python) || exit 1; \
	  test -x $(BIN)/python || $$PY -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	@# (setuptools warns at every editable install that a folder named like the package
	@# may shadow it: here that folder is the package.)
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

venv: $(STAMP)

# Compiles portal/locale/*/LC_MESSAGES/django.po (in git) into .mo (not in git).
# django-admin without settings compiles ./locale and needs no secret key.
# (A wheel compiles them itself: setup.py.)
messages: debian-run $(STAMP)
	@if ls portal/locale/*/LC_MESSAGES/django.po >/dev/null 2>&1; then \
	  cd portal && env -u DJANGO_SETTINGS_MODULE ../$(BIN)/django-admin compilemessages --verbosity 0; fi

run: debian-run $(STAMP) messages
	PORTAL_DATA_DIR=$(DATA_DIR) PORTAL_DEBUG=True $(BIN)/portal migrate --no-input
	PORTAL_DATA_DIR=$(DATA_DIR) PORTAL_DEBUG=True $(BIN)/portal demo_setup
	PORTAL_DATA_DIR=$(DATA_DIR) PORTAL_DEBUG=True $(BIN)/portal runserver $(HOST)

# pytest exits 5 when it collects nothing: for this project that is a broken
# suite, never a pass, so it is reported as a failure. tests/system (a whole
# machine booted with systemd) is left to `make test-system`.
test: debian-test $(STAMP) messages
	@$(ON_DB) $(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	  exit $$rc

test-system: debian-system $(STAMP) messages
	@$(BIN)/pytest tests/system -m system $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test-system: pytest collected no tests" >&2; exit 1; fi; \
	  exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check portal tests bench
	$(BIN)/mypy portal
	$(BIN)/lint-imports

# Regenerates the locks from pyproject.toml (and requirements/build.in) with the
# newest versions allowed, every file's hash included. Needs the network.
UV_COMPILE := $(BIN)/uv pip compile --quiet --generate-hashes --python-version 3.13 --python-platform linux
lock: $(STAMP)
	$(UV_COMPILE) --extra server pyproject.toml requirements/build.in -o requirements/server.lock
	@# The tests run the versions production runs: the second lock is held to the first.
	$(UV_COMPILE) --extra server --extra test --extra dev -c requirements/server.lock \
	  pyproject.toml requirements/build.in -o $(LOCK)

# The locked versions against the known vulnerabilities (PyPI's advisory data).
# That database is online only: without the network this fails, saying so.
audit: $(STAMP)
	@$(BIN)/python scripts/audit-dependencies $(BIN)/pip-audit requirements/server.lock $(LOCK)

bench: $(STAMP)
	$(BIN)/python bench/upload.py

clean-venv:
	rm -rf $(VENV)
