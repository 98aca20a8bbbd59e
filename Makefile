# idg-harness: `make demo` runs the bundled benchmark end to end, `make test` runs the test suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HARNESS := $(VENV)/bin/harness
DATASET := data/diffground-synth

.PHONY: install install-dev demo test lint bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Stamps make reinstalling cheap: pip runs again only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	@test -f $(DATASET)/manifest.jsonl || $(HARNESS) data synth --out $(DATASET) --workers 2
	$(HARNESS) run --models all --split test --control all
	$(HARNESS) report
	@echo "Leaderboard: leaderboards/leaderboard.md"

# pytest exits 5 when it collected no tests: that is a broken suite, not a pass.
test: install-dev
	@$(PY) -m pytest -q -rs; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; fi; exit $$rc

lint: install-dev
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

# Speed targets live here, never in unit tests.
bench: install
	OPENBLAS_NUM_THREADS=1 $(PY) bench/run_all.py

clean:
	rm -rf $(VENV) results/.cache
