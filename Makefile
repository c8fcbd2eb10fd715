# One entry point per task: make demo | test | lint | gen | bench
SHELL := /bin/bash
PY := .venv/bin/python
VENV_STAMP := .venv/.installed
NODE_STAMP := renderer-react/node_modules/.installed
ASYNCAPI_STAMP := tools/asyncapi/node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test test-fast test-python test-ts test-conformance test-mutants lint gen gen-check bench build clean dist docs mutation

$(VENV_STAMP): requirements.lock pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

$(NODE_STAMP): renderer-react/package.json renderer-react/package-lock.json
	cd renderer-react && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The AsyncAPI parser that validates spec/<version>/asyncapi.yaml (its own lock file).
$(ASYNCAPI_STAMP): tools/asyncapi/package.json tools/asyncapi/package-lock.json
	cd tools/asyncapi && npm ci --no-audit --no-fund --loglevel=error
	touch $@

renderer-react/dist/index.html: $(NODE_STAMP) $(shell find renderer-react/src renderer-react/index.html -type f 2>/dev/null)
	cd renderer-react && npm run --silent build

build: $(VENV_STAMP) renderer-react/dist/index.html

demo: build
	.venv/bin/phloem run sdk-python/examples/counter.py --host $(HOST) --port $(PORT)

lint: $(VENV_STAMP) $(NODE_STAMP) $(ASYNCAPI_STAMP)
	.venv/bin/ruff check sdk-python reference-server conformance tools bench examples
	.venv/bin/mypy
	$(PY) tools/spec_lint.py
	$(PY) tools/frozen.py --check
	node tools/asyncapi/validate.mjs spec/1.0/asyncapi.yaml
	node tools/asyncapi/validate.mjs spec/1.1/asyncapi.yaml
	cd renderer-react && npm run --silent typecheck

# The schemas are the one source: wire types (both languages; 1.0's, and 1.1's with the job
# constants) and, from the x-phloem blocks, every language's component catalog, error table,
# node-id pattern and subprotocol.
gen: $(VENV_STAMP) $(NODE_STAMP)
	$(PY) tools/gen_python_types.py
	$(PY) tools/gen_catalog.py
	$(PY) -m phloem_conformance.registry_gen --write
	cd renderer-react && npm run --silent gen

gen-check: $(VENV_STAMP) $(NODE_STAMP)
	$(PY) tools/gen_python_types.py --check
	$(PY) tools/gen_catalog.py --check
	$(PY) -m phloem_conformance.registry_gen --check
	cd renderer-react && npm run --silent gen:check

test-python: build $(ASYNCAPI_STAMP)
	mkdir -p out
	$(PY) -m pytest -q --junitxml=out/pytest.xml
	$(PY) tools/check_no_skips.py out/pytest.xml

# The edit-test loop (about 15 s of CPU): the Python tests that start no process, open no
# socket and sleep no real time, property tests with fewer examples. A test says what it needs
# with a marker (browser, redis, subprocess, socket: pyproject.toml); the root conftest.py
# fails an unmarked test that starts a process, opens a socket or sleeps. `make test` runs all.
FAST_TIER := not (browser or redis or subprocess or socket)
test-fast: $(VENV_STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -m "$(FAST_TIER)" --hypothesis-profile=fast

test-ts: $(NODE_STAMP) $(VENV_STAMP)
	cd renderer-react && npm test --silent

test-conformance: build
	mkdir -p out/conformance
	.venv/bin/phloem-conformance run --target sdk --adapter "$(PY) sdk-python/conformance_adapter.py" \
	  --report out/conformance/sdk.ndjson --summary out/conformance/sdk.md --junit out/conformance/sdk.xml --html out/conformance/sdk.html
	.venv/bin/phloem-conformance run --target server --adapter "$(PY) reference-server/conformance_adapter.py" \
	  --baseline reference-server/conformance-baseline.yaml --report out/conformance/server.ndjson --summary out/conformance/server.md --junit out/conformance/server.xml --html out/conformance/server.html
	.venv/bin/phloem-conformance run --target renderer --adapter "$(PY) conformance/adapters/react.py" \
	  --report out/conformance/renderer.ndjson --summary out/conformance/renderer.md --junit out/conformance/renderer.xml --html out/conformance/renderer.html
	.venv/bin/phloem-conformance trace > out/conformance/trace.md
	.venv/bin/phloem-conformance generate --seed 1 --count 200 --target sdk --adapter "$(PY) sdk-python/conformance_adapter.py" \
	  --out out/conformance/generated-sdk --report out/conformance/generated-sdk.ndjson
	.venv/bin/phloem-conformance generate --seed 1 --count 40 --target server --adapter "$(PY) reference-server/conformance_adapter.py" \
	  --out out/conformance/generated-server --report out/conformance/generated-server.ndjson
	.venv/bin/phloem-conformance generate --seed 1 --count 25 --target renderer --adapter "$(PY) conformance/adapters/react.py" \
	  --out out/conformance/generated-renderer --report out/conformance/generated-renderer.ndjson
	.venv/bin/phloem-conformance chaos --target sdk --adapter "$(PY) sdk-python/conformance_adapter.py" --seed 1 --runs 1000 \
	  --out out/conformance/chaos-sdk.json
	.venv/bin/phloem-conformance chaos --target server --adapter "$(PY) reference-server/conformance_adapter.py" --seed 1 --runs 1000 \
	  --out out/conformance/chaos-server.json

# The suite tests itself: every deliberately broken variant of the reference server and
# renderer must be caught (the SDK's mutants run inside pytest, conformance/tests/test_mutants.py).
test-mutants: build
	.venv/bin/phloem-conformance mutants --target server --adapter "$(PY) reference-server/conformance_adapter.py"
	.venv/bin/phloem-conformance mutants --target renderer --adapter "$(PY) conformance/adapters/react.py"

# Source-level mutation of the SDK core and the server shell (Cosmic Ray), each mutant judged by
# the conformance suite alone; a seeded sample bounds the cost (~5-20 s a mutant for the SDK,
# ~30-35 s for the server, on an idle to busy 2-core machine: about an hour in all when busy),
# then issue 8's hand-written mutants (targeted.yaml). Writes tools/mutation/results-*.json,
# targeted-results.json and score.md; triage new survivors in tools/mutation/triage.yaml.
MUTATION_SDK ?= 100
MUTATION_SERVER ?= 40
MUTATION_SEED ?= 1
mutation: $(VENV_STAMP)
	$(PY) tools/mutation/mutate.py run --target sdk --sample $(MUTATION_SDK) --seed $(MUTATION_SEED)
	$(PY) tools/mutation/mutate.py run --target server --sample $(MUTATION_SERVER) --seed $(MUTATION_SEED)
	$(PY) tools/mutation/mutate.py targeted

test: lint gen-check test-ts test-python test-conformance test-mutants docs
	@echo "make test: all green"

bench: build
	$(PY) bench/bench.py

# Every wheel and sdist (phloem, phloem-server with the built renderer, phloem-conformance)
# into dist/, at the version of pyproject.toml (tools/dist.py; distributions/*/pyproject.toml).
dist: build
	$(PY) tools/dist.py --out dist

# The documentation site (MkDocs + Material) in out/site: docs/, spec/ with requirement ids as
# anchors, the SDK's API reference, the conformance reports; a broken link or anchor fails it.
docs: $(VENV_STAMP)
	$(PY) tools/docs.py --site out/site

clean:
	rm -rf out renderer-react/dist dist build
