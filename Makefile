# Everything runs from a local virtual environment that `make` creates and fills from
# pyproject.toml, so a fresh machine needs only Python 3.11+ and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AS_OF ?= 2026-11-25

.PHONY: demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev,cli,postgres,columnar,spark]'
	touch $(STAMP)

## demo: the invoice plan for the bundled example purchases
demo: $(STAMP)
	$(BIN)/kravia-schedule plan examples/purchases.jsonl --config examples/config.json --as-of $(AS_OF)

## test: lint, format check, type check, then the whole test suite with coverage
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The ledger's PostgreSQL tests need a server: scripts/with-postgres starts a throwaway one
# (installing PostgreSQL if missing) unless KRAVIA_TEST_POSTGRES_URL names one already, or
# NO_POSTGRES=1 skips them. The Spark tests need Java 17+: scripts/ensure-java installs
# it when missing (they skip, saying why, when it cannot).
unit: $(STAMP)
	scripts/ensure-java
	@if [ -n "$$KRAVIA_TEST_POSTGRES_URL" ] || [ -n "$$NO_POSTGRES" ]; then \
		$(BIN)/python -m pytest --cov=kravia_schedule --cov-report=term; \
	else \
		scripts/with-postgres $(BIN)/python -m pytest --cov=kravia_schedule --cov-report=term; \
	fi

## bench: the benchmark suite with its pandas/Polars baselines (not part of `make test`)
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage .hypothesis
