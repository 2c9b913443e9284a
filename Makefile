# hostward — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: run test lint bench bench-footprint clean deps-run deps-test deps-bench windows-bundle

run: deps-run $(VENV)/.stamp-run
	$(BIN)/hostward run

# The suite in two parts: most tests on 3 workers (they wait on real processes more than they
# compute), then the timing-sensitive ones (marked `serial` in tests/conftest.py) alone.
test: deps-test $(VENV)/.stamp-dev
	$(BIN)/python -m pytest -q -n 3 --dist loadfile -m "not serial" tests
	$(BIN)/python -m pytest -q -m serial tests

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check agent collectors common policies backup tests bench packaging
	$(BIN)/mypy
	$(BIN)/mypy --strict packaging/windows/build_bundle.py

# dist/hostward-<version>-win64.zip: hostward + Windows CPython 3.11 + win_amd64 wheels (docs/WINDOWS.md).
windows-bundle: $(VENV)/.stamp-dev
	$(BIN)/python packaging/windows/build_bundle.py build

bench: deps-bench $(VENV)/.stamp-dev
	$(BIN)/python -m bench

# The working agent next to node_exporter (>= 5 min; HOSTWARD_BENCH_FOOTPRINT_SECONDS=60 for a smoke run).
bench-footprint: deps-bench $(VENV)/.stamp-dev
	$(BIN)/python -m bench footprint

deps-run:
	@scripts/debian-deps.sh run
deps-test:
	@scripts/debian-deps.sh test
deps-bench:
	@scripts/debian-deps.sh bench

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.stamp-run: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e .
	touch $@

$(VENV)/.stamp-dev: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e '.[network,dev]'
	touch $@ $(VENV)/.stamp-run

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
