# Two commands for a fresh machine (see README):
#   make run    set up .venv and start the platform on the embedded default (SQLite + local Parquet under
#               $(CITYCARBON_HOME), Dalian data loaded); prints where to log in and, on first start, the
#               one-time admin password
#   make test   set up .venv with the test extras and run the whole test suite
# Others: make demo (the plan, accounts and barometer on the terminal), make lint, make bench, make i18n (the
# web's translatable strings as build/messages.pot; the catalogs need no compile step, see docs/web.md).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export IAM_UNITS_CACHE ?= $(abspath $(VENV))/var/iam-units-cache
CITYCARBON_HOME ?= $(abspath .citycarbon)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run demo test venv lint bench clean i18n

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
	CITYCARBON_HOME=$(CITYCARBON_HOME) $(BIN)/citycarbon serve --host $(HOST) --port $(PORT)

demo: venv
	$(BIN)/citycarbon demo

# Architecture contracts (import-linter) and type checks (mypy) run before the tests; configuration and reasons
# in pyproject.toml, a summary in docs/architecture.md ("Contracts"). lint-imports reads the package from this
# checkout's src/ (PYTHONPATH), whichever checkout the virtualenv's editable install points at.
# numpy's AVX-512 kernels (float64 exp/log/power …) round differently from its AVX2 path and the C library: the
# bit-identical golden pins (tests/pathways/test_golden_pin.py) are pinned on the AVX2 path, so the tests run with
# the AVX-512 dispatch targets switched off on every machine (a no-op where the CPU has no AVX-512)
NPY_PORTABLE = X86_V4 AVX512_ICL AVX512_SPR
test: venv
	$(BIN)/ruff check src tests benchmarks tools
	PYTHONPATH=$(CURDIR)/src $(BIN)/lint-imports --no-logo
	$(BIN)/mypy
	NPY_DISABLE_CPU_FEATURES="$(NPY_PORTABLE)" $(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: venv
	$(BIN)/ruff check src tests benchmarks tools
	PYTHONPATH=$(CURDIR)/src $(BIN)/lint-imports --no-logo
	$(BIN)/mypy

bench: venv
	for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

i18n: venv
	mkdir -p build
	$(BIN)/pybabel extract -F babel.cfg -k _t:2 --sort-by-file -o build/messages.pot .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .mypy_cache .import_linter_cache .grimp_cache
