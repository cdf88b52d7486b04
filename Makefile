# Two commands for a fresh machine (see README):
#   make run    set up .venv and run the main job on the embedded default (Dalian data)
#   make test   set up .venv with the test extras and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export IAM_UNITS_CACHE ?= $(abspath $(VENV))/var/iam-units-cache

.PHONY: run test venv lint bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate pyproject.toml requirements/lock.txt package.json package-lock.json
	$(BIN)/pip install --quiet -c requirements/lock.txt -e ".[test]"
	npm ci --no-audit --no-fund --silent
	$(BIN)/python tools/vendor_assets.py
	touch $@

venv: $(VENV)/.installed

run: venv
	$(BIN)/citycarbon demo

test: venv
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check src tests benchmarks tools

bench: venv
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
