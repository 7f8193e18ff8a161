# The two commands of the README:
#   make run    install what is missing, ingest the bundled corpus if needed, serve the chat
#   make test   install what is missing (Chromium too), lint, run the whole test suite
#               (the install check below included: it is a slow test, and CI runs those)
# Everything installs into .venv; torch comes from the local CPU build (constraints.txt);
# the ray extra too, so that the suite runs the distributed ingest's test.

VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
HOST    ?= 127.0.0.1
PORT    ?= 7860
PYTEST_ARGS ?=

.PHONY: run test install install-check browser lint bench eval

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[dev,eval,local-llm,ray]"
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the real-browser tests (Playwright drives it; never `playwright install`),
# CJK fonts so Chinese/Japanese answers render in screenshots, and colour emoji for 👍/👎.
browser:
	@{ command -v chromium >/dev/null && fc-list | grep -qi 'noto sans cjk' && fc-list | grep -qi 'noto color emoji'; } || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium chromium-driver fonts-noto-cjk fonts-noto-color-emoji; }

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/cog --check docs/configuration.md
	$(PY) -m benchmarks.results_md --check
	$(PY) -m benchmarks.schema

run: $(STAMP)
	$(VENV)/bin/assistant serve --host $(HOST) --port $(PORT)

test: $(STAMP) browser lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The product as a user installs it: a wheel in a fresh virtual environment, run from another
# directory, ingesting and searching its bundled corpus (tests/e2e/test_install.py).
install-check: $(STAMP)
	$(VENV)/bin/pytest -m slow tests/e2e/test_install.py -s

bench: $(STAMP)
	$(PY) -m benchmarks.run

eval: $(STAMP)
	$(VENV)/bin/assistant eval --gold evals/gold.jsonl --out .eval-runs/product
