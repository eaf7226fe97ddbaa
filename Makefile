# Every target that needs Python builds .venv itself, so a fresh clone needs only `make run` or
# `make test`. It installs the hashed pins of requirements/dev.lock (then the project itself, with
# no dependencies of its own choosing), and re-installs when pyproject.toml or the lock changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_LOCK := requirements/dev.lock
LAMBDA_LOCK := requirements/lambda.lock
HOST ?= 127.0.0.1
PORT ?= 5000
STORE ?= sqlite:///var/rls-coach.sqlite3

NODE_STAMP := node_modules/.installed

# Lambda deployment (serverless.yml). SKILL_ID is required: the function answers only that skill.
SKILL_ID ?=
STAGE ?= dev
REGION ?= us-east-1
LAMBDA_ZIP ?= build/rls-coach-lambda.zip
PACKAGE_DIR ?= .serverless
OSLS := node_modules/.bin/osls
OSLS_ARGS = --param skillId=$(SKILL_ID) --stage $(STAGE) --region $(REGION)

.PHONY: run test check lint format lock validate model bench stress package deploy clean

$(STAMP): pyproject.toml $(DEV_LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes --requirement $(DEV_LOCK)
	$(BIN)/pip install --quiet --no-deps --editable .
	touch $(STAMP)

# Re-resolve the locks after changing a dependency in pyproject.toml (make test fails until then):
# dev.lock for every platform and supported Python, lambda.lock for the function's (serverless.yml)
# with dev.lock's versions. Each pins every file's hash. UPGRADE=1 moves pins to the newest releases.
UV_COMPILE_ENV := UV_CUSTOM_COMPILE_COMMAND="make lock"
lock: $(STAMP)
	$(UV_COMPILE_ENV) $(BIN)/uv pip compile --quiet --universal --all-extras --generate-hashes \
		$(if $(UPGRADE),--upgrade) --output-file $(DEV_LOCK) pyproject.toml
	$(BIN)/python tools/lambda_bundle.py --lock $(LAMBDA_LOCK)

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

# The quick loop while working: lint and every test not marked slow (those start servers, Node or
# other processes). make test still runs everything.
check: lint
	$(BIN)/pytest -n auto -m "not slow" -q

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

validate: $(STAMP)
	$(BIN)/rls-coach validate

model: $(STAMP)
	$(BIN)/rls-coach model build

# Benchmarks: ours beside a peer (hello world with a stored record and the Settings API) and a
# floor (the stateless hello world), all in one run; targets are ratios to the peer. What users
# feel: cold start, and latency at fixed open-loop arrival rates. A few minutes; run it on a quiet
# machine. Prints the tables, writes bench-results/latest.json and the tables in docs/benchmarks.md.
bench: $(STAMP)
	$(BIN)/python -m bench --output bench-results/latest.json --docs docs/benchmarks.md

# The hardening tests at full size: thousands of fuzzed conversations and envelopes, thousands
# of requests under load, repeated kill -9, a certificate-URL flood after a restart, dripping and
# oversized Alexa API and DynamoDB answers, replayed signed requests and one household's devices
# racing for one record (several minutes; make test runs them small). The figures they measure
# are printed under "hardening figures" (docs/deploy.md, "Hardening figures").
stress: $(STAMP)
	RLS_COACH_STRESS=1 $(BIN)/pytest -n auto tests/hardening

# The deployment zip (skill + dependencies built for the function's Python and CPU) and the
# CloudFormation template, with no AWS account and no network beyond PyPI and npm.
package: $(STAMP) $(NODE_STAMP)
	$(BIN)/python tools/lambda_bundle.py --skill-id '$(SKILL_ID)' --output $(LAMBDA_ZIP)
	RLS_COACH_LAMBDA_ZIP=$(abspath $(LAMBDA_ZIP)) $(OSLS) package $(OSLS_ARGS) --package $(PACKAGE_DIR)

# Needs AWS credentials (see docs/deploy.md).
deploy: package
	RLS_COACH_LAMBDA_ZIP=$(abspath $(LAMBDA_ZIP)) $(OSLS) deploy $(OSLS_ARGS) --package $(PACKAGE_DIR)

clean:
	rm -rf $(VENV) node_modules .serverless build .pytest_cache .ruff_cache .hypothesis
