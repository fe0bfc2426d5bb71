# Two commands set everything up on a fresh machine:
#   make run    - the bot on Telegram when TALENTBOT_TELEGRAM__TOKEN is set, else the console chat
#   make test   - bandit on the code, then the whole test suite (what .ci/run runs)
#   make audit  - bandit and pip-audit on requirements.lock (needs a vulnerability service)
#   make lock   - re-resolve requirements.lock from pyproject.toml (after changing dependencies)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run run-all chat web test postgres chromium lint audit lock eval bench clean

# The exact, hash-checked versions of requirements.lock, then the project itself on top.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/talentbot run

chat: $(STAMP)
	$(BIN)/talentbot chat

test: $(STAMP) postgres chromium
	$(BIN)/bandit -q -c pyproject.toml -r bot handlers knowledge
	$(BIN)/python -m pytest -q

# bandit, then pip-audit on the lock; exit 3 when no vulnerability service answers (docs/security.md).
audit: $(STAMP)
	BIN=$(BIN) bash scripts/audit.sh

lock: $(STAMP)
	$(BIN)/pip-compile --quiet --extra dev --strip-extras --generate-hashes --allow-unsafe \
		--no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

# The tests run a throwaway PostgreSQL server; this installs Debian's package when missing.
postgres:
	bash scripts/ensure-postgres.sh

# The console's browser tests drive Debian's Chromium (with CJK fonts); installed when missing.
chromium:
	bash scripts/ensure-chromium.sh

# The staff web console (accounts: talentbot staff add NAME); run beside `make run`.
web: $(STAMP)
	$(BIN)/talentbot web

# The bot and the staff console together (the console stops when the bot does).
run-all: $(STAMP)
	$(BIN)/talentbot web & trap 'kill $$! 2>/dev/null' EXIT; $(BIN)/talentbot run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The blind set's tune half lists its misses (tune on those); the report half only its figures.
eval: $(STAMP)
	$(BIN)/talentbot eval tests/eval/blind.yaml --half tune --verbose
	$(BIN)/talentbot eval tests/eval/blind.yaml --half report
	$(BIN)/talentbot eval tests/eval/blind2.yaml --half tune --verbose
	$(BIN)/talentbot eval tests/eval/blind2.yaml --half report
	$(BIN)/talentbot eval tests/eval/blind3.yaml --half tune --verbose
	$(BIN)/talentbot eval tests/eval/blind3.yaml --half report
	$(BIN)/talentbot eval tests/eval/blind4.yaml --half tune --verbose
	$(BIN)/talentbot eval tests/eval/blind4.yaml --half report
	$(BIN)/talentbot eval tests/eval/blind5.yaml --half tune --verbose
	$(BIN)/talentbot eval tests/eval/blind5.yaml --half report
	$(BIN)/talentbot eval tests/eval/blind6.yaml --half tune --verbose
	$(BIN)/talentbot eval tests/eval/blind6.yaml --half report
	$(BIN)/talentbot eval tests/eval/blind7.yaml --half tune --verbose
	$(BIN)/talentbot eval tests/eval/blind7.yaml --half report
	$(BIN)/talentbot eval tests/eval/blind8.yaml --half tune --verbose
	$(BIN)/talentbot eval tests/eval/blind8.yaml --half report
	$(BIN)/talentbot eval tests/eval/blind9.yaml --half tune --verbose
	$(BIN)/talentbot eval tests/eval/blind9.yaml --half report
	$(BIN)/talentbot eval tests/eval/questions.yaml

bench: $(STAMP) postgres
	$(BIN)/python -m benchmarks.bench_match
	$(BIN)/python -m benchmarks.bench_log

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
