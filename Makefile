# Every target that needs Python builds .venv itself, so a fresh clone needs only `make run` or
# `make test`. The stamp file re-installs when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
STORE ?= sqlite:///var/rls-coach.sqlite3

NODE_STAMP := node_modules/.installed

.PHONY: run test lint format validate model bench stress package clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Node tooling (offline Serverless packaging, virtual-alexa) comes from the lock file.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

run: $(STAMP)
	mkdir -p var
	$(BIN)/rls-coach serve --host $(HOST) --port $(PORT) --store $(STORE) --no-verify

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/rls-coach validate
	$(BIN)/rls-coach model build --check
	$(BIN)/pytest -n auto

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

validate: $(STAMP)
	$(BIN)/rls-coach validate

model: $(STAMP)
	$(BIN)/rls-coach model build

clean:
	rm -rf $(VENV) node_modules .serverless .pytest_cache .ruff_cache .hypothesis
