# Two commands set everything up on a fresh machine:
#   make run    - the bot on Telegram when TALENTBOT_TELEGRAM__TOKEN is set, else the console chat
#   make test   - the whole test suite (what .ci/run runs)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run chat test postgres lint eval bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/talentbot run

chat: $(STAMP)
	$(BIN)/talentbot chat

test: $(STAMP) postgres
	$(BIN)/python -m pytest -q

# The tests run a throwaway PostgreSQL server; this installs Debian's package when missing.
postgres:
	bash scripts/ensure-postgres.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The blind set's tune half lists its misses (tune on those); the report half only its figures.
eval: $(STAMP)
	$(BIN)/talentbot eval tests/eval/blind.yaml --half tune --verbose
	$(BIN)/talentbot eval tests/eval/blind.yaml --half report
	$(BIN)/talentbot eval tests/eval/questions.yaml

bench: $(STAMP) postgres
	$(BIN)/python -m benchmarks.bench_match
	$(BIN)/python -m benchmarks.bench_log

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
