# `make run` sets up and starts Rathaus; `make test` sets up and runs the whole suite.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
RUN_DEBS := janus
TEST_DEBS := janus janus-demos chromium firefox-esr postgresql coturn iproute2 procps slapd ldap-utils
ARGS ?=

.PHONY: run test lint typecheck unit integration e2e bench clean

$(BIN)/rathaus: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml $(BIN)/rathaus
	$(BIN)/pip install -q -e '.[test]'
	touch $@

run: $(BIN)/rathaus
	./scripts/install-debian-packages.sh $(RUN_DEBS)
	$(BIN)/rathaus serve $(ARGS)

node_modules/.installed: package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	touch $@

# The OpenID provider the OIDC sign-in tests run (tests/support/oidc_provider/provider.js).
OIDC_PROVIDER := tests/support/oidc_provider
$(OIDC_PROVIDER)/node_modules/.installed: $(OIDC_PROVIDER)/package.json $(OIDC_PROVIDER)/package-lock.json
	cd $(OIDC_PROVIDER) && npm ci --silent --no-audit --no-fund
	touch $@

test: $(VENV)/.test-installed node_modules/.installed $(OIDC_PROVIDER)/node_modules/.installed
	./scripts/install-debian-packages.sh $(TEST_DEBS)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	npx --no-install tsc --noEmit -p tsconfig.json
	node --test tests/js/
	./scripts/in-test-network.sh $(BIN)/pytest -q $(ARGS)

lint: $(VENV)/.test-installed node_modules/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	npx --no-install tsc --noEmit -p tsconfig.json

unit: $(VENV)/.test-installed
	$(BIN)/pytest -q tests/unit $(ARGS)

bench: $(VENV)/.test-installed
	./scripts/install-debian-packages.sh $(TEST_DEBS)
	./scripts/in-test-network.sh $(BIN)/python bench/join.py
	./scripts/in-test-network.sh $(BIN)/python bench/load.py
	./scripts/in-test-network.sh $(BIN)/python bench/e2ee.py
	./scripts/in-test-network.sh $(BIN)/python bench/keys.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
