# The two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
DEMO_HOME ?= .mlpilot
# pytest-xdist workers: one per core on the two-core CI machine.
TEST_WORKERS ?= 2

.PHONY: demo tour test lint typecheck bench screenshots install install-dev clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# The closed loop: drift, alert, retrain, gate, canary, promote (about two minutes on two cores).
demo: install
	$(BIN)/mlpilot --home $(DEMO_HOME) demo

# The command-line tour: projects, registry, server, serving, monitoring one command at a time.
tour: install
	MLPILOT_HOME=$(DEMO_HOME) MLPILOT="$(BIN)/mlpilot" PYTHON="$(PY)" bash examples/demo.sh

lint: install-dev
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/lint-imports

typecheck: install-dev
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --durations=25

bench: install-dev
	bash bench/setup_peers.sh
	$(PY) bench/tracking.py
	$(PY) bench/server_logging.py
	$(PY) bench/serving.py
	$(PY) bench/drift.py
	$(PY) bench/pipelines.py
	$(PY) bench/mlflow_compat.py
	$(PY) bench/spark.py

# The web UI's screenshots in docs/screenshots, on the demo's data (built on first use, ~2 minutes).
screenshots: install-dev
	$(PY) docs/screenshots/capture.py --home .mlpilot-screenshots

clean:
	rm -rf $(VENV) .mlpilot .pytest_cache .mypy_cache .ruff_cache
