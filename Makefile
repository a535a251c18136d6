# `make run` sets up and starts Rathaus; `make test` sets up and runs the whole suite.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
RUN_DEBS := janus
TEST_DEBS := janus janus-demos chromium firefox-esr postgresql redis-server coturn iproute2 procps slapd ldap-utils fonts-noto-color-emoji
ARGS ?=

.PHONY: run test lint typecheck unit integration e2e bench mutation vendor clean

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

# The browser's npm packages (ts-mls and what it imports) as native ES modules under
# src/rathaus/web/static/vendor: committed, so `make run` needs no Node.js; tests/js/vendor.test.mjs
# fails when they differ from what package-lock.json pins. Run after changing those packages.
vendor: node_modules/.installed
	node scripts/vendor-js.mjs

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
	./scripts/in-test-network.sh $(BIN)/python bench/idle.py
	./scripts/in-test-network.sh $(BIN)/python bench/e2ee.py
	./scripts/in-test-network.sh $(BIN)/python bench/keys.py
	./scripts/in-test-network.sh $(BIN)/python bench/chat.py
	node bench/mls.mjs

# Mutation testing of the security rules ([tool.mutmut] in pyproject.toml), against the unit
# tests only; not part of `make test`. Runs in a copy of the tree in build/mutation (where
# mutmut keeps its mutants/), lists the mutants that were not killed, the share killed per
# module, and fails if any module is below MUTATION_MIN per cent. One mutant's change:
# `cd build/mutation && ../../.venv/bin/mutmut show <name>`.
MUTATION_DIR := build/mutation
MUTATION_MIN ?= 90
MUTMUT := $(abspath $(BIN))/mutmut

$(VENV)/.mutation-installed: pyproject.toml $(VENV)/.test-installed
	$(BIN)/pip install -q -e '.[test,mutation]'
	touch $@

mutation: $(VENV)/.mutation-installed
	rm -rf $(MUTATION_DIR)
	mkdir -p $(MUTATION_DIR)
	tar -cf - --exclude=node_modules --exclude=__pycache__ pyproject.toml src tests docs \
		| tar -xf - -C $(MUTATION_DIR)
	cd $(MUTATION_DIR) && $(MUTMUT) run
	cd $(MUTATION_DIR) && $(MUTMUT) results
	cd $(MUTATION_DIR) && $(MUTMUT) results --all true | awk -v min=$(MUTATION_MIN) ' \
		{ m = $$1; sub(/\.x[^.]*__mutmut_[0-9]+:$$/, "", m); n[m]++ } \
		$$NF ~ /^(killed|timeout)$$/ { k[m]++ } \
		END { for (m in n) { share = 100 * k[m] / n[m]; bad += (share < min); \
			printf "%-28s %4d of %4d killed (%5.1f %%)\n", m, k[m], n[m], share | "sort" } \
			close("sort"); exit (bad > 0) }'

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
