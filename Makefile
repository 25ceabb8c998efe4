# The README's two commands: `make run` (set-up + demo) and `make test` (the suite).
# Both find a Python >= 3.12 themselves (scripts/find-python says what to install).

VENV      := .venv
BIN       := $(VENV)/bin
STAMP     := $(VENV)/.installed
DATA_DIR  ?= var
HOST      ?= 127.0.0.1:8000

.PHONY: run test lint venv messages clean-venv bench

$(STAMP): pyproject.toml
	@PY=$$(scripts/find-python) || exit 1; \
	  test -x $(BIN)/python || $$PY -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[server,test,dev]'
	@touch $(STAMP)

venv: $(STAMP)

# Compiles portal/locale/*/LC_MESSAGES/django.po (in git) into .mo (not in git).
# django-admin without settings compiles ./locale and needs no secret key.
messages: $(STAMP)
	@if ls portal/locale/*/LC_MESSAGES/django.po >/dev/null 2>&1; then \
	  cd portal && env -u DJANGO_SETTINGS_MODULE ../$(BIN)/django-admin compilemessages --verbosity 0; fi

run: $(STAMP) messages
	PORTAL_DATA_DIR=$(DATA_DIR) PORTAL_DEBUG=True $(BIN)/portal migrate --no-input
	PORTAL_DATA_DIR=$(DATA_DIR) PORTAL_DEBUG=True $(BIN)/portal demo_setup
	PORTAL_DATA_DIR=$(DATA_DIR) PORTAL_DEBUG=True $(BIN)/portal runserver $(HOST)

# pytest exits 5 when it collects nothing: for this project that is a broken
# suite, never a pass, so it is reported as a failure.
test: $(STAMP) messages
	@$(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	  exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check portal tests bench
	$(BIN)/mypy portal
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/upload.py

clean-venv:
	rm -rf $(VENV)
