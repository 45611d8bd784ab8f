# The two commands of the README: `make demo` and `make test`.
# Each creates (or reuses) the local virtual environment .venv and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-test

.PHONY: demo test figures verify bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/jaxthermo demo --out demo-output

test: $(STAMP)
	$(PY) -m pytest -n 2 -q
	$(PY) -m jaxthermo.verify

figures: $(STAMP)
	$(VENV)/bin/jaxthermo figures --out figures

bench: $(STAMP)
	$(PY) -m pip install -q -e ".[test,bench]"
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) demo-output figures .pytest_cache
