# The two commands of the README: `make demo` and `make test`.
# Each creates (or reuses) the local virtual environment .venv and installs what it needs:
# `make demo`/`make figures` the package with its `plot` extra (matplotlib), `make test` also the
# `test` and `io` extras (the tests draw figures and write netCDF), `make verify` the package alone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.created
BASE := $(VENV)/.installed-base
PLOT := $(VENV)/.installed-plot
TEST := $(VENV)/.installed-test

.PHONY: demo test figures verify bench clean

$(VENV_STAMP):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	touch $(VENV_STAMP)

$(BASE): pyproject.toml $(VENV_STAMP)
	$(PY) -m pip install -q -e .
	touch $(BASE)

$(PLOT): pyproject.toml $(VENV_STAMP)
	$(PY) -m pip install -q -e ".[plot]"
	touch $(PLOT) $(BASE)

$(TEST): pyproject.toml $(VENV_STAMP)
	$(PY) -m pip install -q -e ".[test,plot,io]"
	touch $(TEST) $(PLOT) $(BASE)

demo: $(PLOT)
	$(VENV)/bin/jaxthermo demo --out demo-output

test: $(TEST)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -n 2 -q
	$(PY) -m jaxthermo.verify

figures: $(PLOT)
	$(VENV)/bin/jaxthermo figures --out figures

verify: $(BASE)
	$(PY) -m jaxthermo.verify

bench: $(TEST)
	$(PY) -m pip install -q -e ".[test,plot,bench]"
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) demo-output figures .pytest_cache
