SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
MAKEFLAGS += --warn-undefined-variables --no-builtin-rules

PYTHON ?= python3
TIMELINE ?= timeline.html

.PHONY: docs help all setup install browser conformance conformance-tools build timeline test test-sweeps check lint typecheck fmt fmt-check validate bench bench-report bench-shipped bench-100k bench-1m bench-timeline bench-load clean

help: ## Show the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

all: setup build timeline ## Set up, build the knowledge base and write the timeline page

setup: install browser conformance-tools ## Install the package, test tools, the browser and the reference engines

# pip runs unless this python already installed this checkout from the same pyproject.toml: a stamp under .kb/make/
# named by a digest of pyproject.toml and the interpreter, kept only while `import kb` finds this checkout's kb/.
# A fresh clone has no stamp, so it always installs; `make clean` removes the stamp.
INSTALL_STAMP = .kb/make/install-$(shell { cat pyproject.toml; $(PYTHON) -c 'import sys; print(sys.executable, sys.version)'; } | sha256sum | cut -c1-16)
install: ## Install the package with its test dependencies (skipped when pyproject.toml is unchanged since the last install)
	@if [ -f $(INSTALL_STAMP) ] && $(PYTHON) -c "import kb, pathlib, sys; sys.exit(pathlib.Path(kb.__file__).resolve().parent != pathlib.Path('kb').resolve())" 2>/dev/null; then \
	  echo "the package and its test dependencies are installed from this pyproject.toml ($(INSTALL_STAMP))"; \
	else \
	  $(PYTHON) -m pip install --quiet -e '.[test]' && mkdir -p .kb/make && rm -f .kb/make/install-* && touch $(INSTALL_STAMP); \
	fi

browser: ## Install Chromium and a CJK font from Debian when missing (browser tests use /usr/bin/chromium)
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing chromium (Debian packages)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >/dev/null; \
	fi

# The reference engines of `make conformance` (docs/conformance.md): a JDK, Jena and the OWL API from Debian
# (--no-install-recommends, only what is missing); owlrl and owlready2 (whose HermiT.jar is used) from PyPI.
JAVA_JARS := /usr/share/java/jena-arq.jar /usr/share/java/jena-shacl.jar /usr/share/java/owlapi-distribution.jar
conformance-tools: ## Install the reference engines when missing (JDK, Jena, OWL API from Debian; HermiT, owlrl from PyPI)
	@if ! command -v javac >/dev/null || ! ls $(JAVA_JARS) >/dev/null 2>&1; then \
	  echo "installing the JDK, Jena and the OWL API (Debian packages)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    default-jdk-headless libapache-jena-java libowlapi-java >/dev/null; \
	fi
	@$(PYTHON) -c "import owlrl, importlib.util, sys; sys.exit(importlib.util.find_spec('owlready2') is None)" 2>/dev/null \
	  || $(PYTHON) -m pip install --quiet -e '.[conformance]'

conformance: conformance-tools ## Compare kb with the reference engines: SPARQL (Jena ARQ), SHACL (Jena, pyshacl-turbo), OWL (OWL API, HermiT, owlrl)
	$(PYTHON) -m conformance

build: ## Compile ontology/ and facts/ into the store and print the counts
	$(PYTHON) -m kb build

timeline: ## Write the timeline page to $(TIMELINE)
	$(PYTHON) -m kb timeline -o $(TIMELINE)

validate: ## Validate the whole knowledge base
	$(PYTHON) -m kb validate

test: setup check ## Run ruff and mypy, then every test (unit, CLI, data, browser, server)
	$(PYTHON) -m pytest -q

test-sweeps: ## The exhaustive sweeps over the shipped knowledge base that `make test` samples (tests marked sweep)
	$(PYTHON) -m pytest -q -m sweep

check: lint typecheck ## ruff and mypy

lint: ## ruff lint and format check
	$(PYTHON) -m ruff check kb tests bench conformance
	$(PYTHON) -m ruff format --check kb tests bench conformance

typecheck: ## mypy over kb/, tests/ and bench/ (unused `# type: ignore` comments are errors)
	$(PYTHON) -m mypy

fmt: ## Write fact files in canonical form
	$(PYTHON) -m kb fmt

fmt-check: ## List fact files that are not in canonical form
	$(PYTHON) -m kb fmt --check

docs: ## Regenerate docs/cli.md and docs/coverage.md from the code and data
	$(PYTHON) -m kb docs

bench: ## Run the benchmarks at 1k and 10k measures (not part of the tests; see docs/benchmarks.md)
	$(PYTHON) -m bench --sizes 1000,10000

bench-report: ## Every benchmark at 10k and 100k judged against the issue-18 targets: docs/bench-report.md (hours)
	$(PYTHON) -m bench report --sizes 10000,100000

bench-shipped: ## Cold kb query on the shipped knowledge base against python -c pass
	$(PYTHON) -m bench shipped

bench-100k: ## Benchmarks at 100k measures (pyshacl baseline included, rdflib query baselines skipped; about an hour)
	$(PYTHON) -m bench --sizes 100000

bench-1m: ## Build, bulk-load baseline and file validation at 1M measures (10-15 min, ~7 GB of disk)
	$(PYTHON) -m bench --sizes 1000000 --parts build,validate-file

bench-timeline: ## Timeline render and headless-Chromium load/filter times at 10k measures
	$(PYTHON) -m bench.bench_timeline --size 10000

bench-load: ## Load test: 50 clients for 30 s against kb serve on loopback
	$(PYTHON) -m bench load --clients 50 --seconds 30

clean: ## Remove the build state and generated files
	rm -rf .kb $(TIMELINE) test-artifacts
