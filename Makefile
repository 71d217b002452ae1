# The README's two commands: `make run` and `make test`.
# Both create .venv (if needed) with the project and its test extras installed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
OUT ?= results/baseline-$(shell date -u +%Y%m%dT%H%M%SZ)

.PHONY: run test lint bench app fuzz clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "allocsim needs Python >= 3.11 (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python scripts/fetch_solara_assets.py
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/allocsim run scenarios/baseline.toml --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_optimise.py
	$(BIN)/python benchmarks/bench_simulate.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_robust.py

fuzz: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_fuzz.py --hypothesis-profile=long

# `make app` opens the simulation page; `make app RESULTS=results/robust-...` the committee page
app: $(STAMP)
	$(if $(RESULTS),$(BIN)/allocsim serve $(RESULTS),$(BIN)/solara run src/allocsim/simulate/app.py)

clean:
	rm -rf $(VENV) build src/*.egg-info
