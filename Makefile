# kdsupport — two commands do everything on a fresh machine:
#   make test   build .venv if needed, install kdsupport with its test extras, run every test
#   make app    build .venv if needed, serve the trainee app (Voila) on the bundled cases
#   make course build .venv and the proxy if needed, start the multi-user course (JupyterHub)
# See README.md.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8866
INSTRUCTOR_PORT ?= 8867
# The course server (JupyterHub): its port on 127.0.0.1, and configurable-http-proxy from npm,
# pinned, installed into the venv (never globally).
COURSE_PORT ?= 8000
CHP_VERSION ?= 4.6.3
NODE_DIR = $(VENV)/node
CHP = $(NODE_DIR)/node_modules/.bin/configurable-http-proxy
PYTEST_ARGS ?=
# Jupyter refuses to run as root unless told; the course machine may well be a root container.
ALLOW_ROOT = $(if $(filter 0,$(shell id -u)),--allow-root,)

COHORT_SEED ?= 20261126
COHORT_N ?= 500

.PHONY: help venv test app instructor course proxy lab lint bench cohort docs screenshots clean

help:
	@echo "make test   - create $(VENV) if needed, install kdsupport[test], run the whole test suite"
	@echo "make app    - create $(VENV) if needed and serve the trainee app (http://$(HOST):$(PORT))"
	@echo "make instructor - serve the instructor pages on port $(INSTRUCTOR_PORT), behind a printed token"
	@echo "make course - start the multi-user course on JupyterHub (http://127.0.0.1:$(COURSE_PORT)); see deploy/jupyterhub/README.md"
	@echo "make proxy  - install configurable-http-proxy $(CHP_VERSION) from npm into $(NODE_DIR) (make course does it)"
	@echo "make lab    - open JupyterLab on notebooks/ (for instructors and authors)"
	@echo "make bench  - benchmark: import, assess latency, batch screening, notebooks, pages' time to interactive in Chromium (writes benchmarks/results.json)"
	@echo "make lint   - ruff (lint and format), import-linter (layering) and mypy (types)"
	@echo "make cohort - regenerate the committed synthetic cohort (data/synthetic/cohort)"
	@echo "make docs   - regenerate the generated tables of docs/authoring.md and docs/case-record.md"
	@echo "make screenshots - retake the walkthrough screenshots in docs/screenshots (Chromium)"
	@echo "make clean  - remove $(VENV) and caches"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when the dependency list changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

# The real-hub test needs the hub's proxy: installed from npm when npm is there (CI installs it);
# without npm the hub test is skipped locally and fails under CI.
test: $(STAMP)
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory proxy; fi
	$(BIN)/python -m pytest --nbval-lax $(PYTEST_ARGS)

app: $(STAMP)
	$(BIN)/python -m kdsupport.app --host $(HOST) --port $(PORT)

instructor: $(STAMP)
	$(BIN)/python -m kdsupport.app --role instructor --host $(HOST) --port $(INSTRUCTOR_PORT)

# The hub's proxy, from npm into the venv; reinstalled when the pinned version changes.
$(CHP): Makefile | $(BIN)/python
	@command -v npm >/dev/null || { echo "make course needs Node.js and npm (apt-get install -y nodejs npm)"; exit 2; }
	npm install --prefix $(NODE_DIR) --no-save --no-fund --no-audit --loglevel=error configurable-http-proxy@$(CHP_VERSION)
	@touch $(CHP)

proxy: $(CHP)

# The hub's Python packages (the `hub` extra of pyproject.toml).
HUB_STAMP = $(VENV)/.installed-hub
$(HUB_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[hub]'
	@touch $(HUB_STAMP)

# Everyone signs in at http://127.0.0.1:$(COURSE_PORT)/ (NativeAuthenticator: sign up, then an
# instructor approves). Instructors: KDSUPPORT_INSTRUCTORS=name,name make course
course: $(HUB_STAMP) $(CHP)
	@$(BIN)/python -c "import jupyterhub, nativeauthenticator" 2>/dev/null || { echo "make course: jupyterhub is missing from $(VENV); pip install -e '.[hub]'"; exit 2; }
	PATH="$(abspath $(NODE_DIR)/node_modules/.bin):$$PATH" KDSUPPORT_COURSE_PORT=$(COURSE_PORT) \
	  $(BIN)/jupyterhub -f deploy/jupyterhub/jupyterhub_config.py

lab: $(STAMP)
	$(BIN)/jupyter lab --no-browser --ip=$(HOST) --notebook-dir=notebooks $(ALLOW_ROOT)

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# The committed cohort is a generated artefact: regenerate it whenever the generator or the
# knowledge base changes (a test checks it regenerates byte for byte).
cohort: $(STAMP)
	$(BIN)/kdsupport generate --n $(COHORT_N) --seed $(COHORT_SEED) --out data/synthetic/cohort --quiet

# The docs' generated sections (answer rules, record fields, knowledge-base tables); a test
# fails when they are out of date.
docs: $(STAMP)
	$(BIN)/python docs/build_docs.py

screenshots: $(STAMP)
	$(BIN)/python docs/screenshots.py

lint: $(STAMP)
	$(BIN)/ruff check kdsupport tests benchmarks
	$(BIN)/ruff format --check kdsupport tests benchmarks
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
