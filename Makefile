SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
MAKEFLAGS += --warn-undefined-variables --no-builtin-rules

PYTHON ?= python3
TIMELINE ?= timeline.html

.PHONY: docs help all setup install browser build timeline test check lint typecheck fmt fmt-check validate bench bench-report bench-shipped bench-100k bench-1m bench-timeline bench-load clean

help: ## Show the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

all: setup build timeline ## Set up, build the knowledge base and write the timeline page

setup: install browser ## Install the package, test tools and the browser for browser tests

install: ## Install the package with its test dependencies
	$(PYTHON) -m pip install --quiet -e '.[test]'

browser: ## Install Chromium and a CJK font from Debian when missing (browser tests use /usr/bin/chromium)
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing chromium (Debian packages)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >/dev/null; \
	fi

build: ## Compile ontology/ and facts/ into the store and print the counts
	$(PYTHON) -m kb build

timeline: ## Write the timeline page to $(TIMELINE)
	$(PYTHON) -m kb timeline -o $(TIMELINE)

validate: ## Validate the whole knowledge base
	$(PYTHON) -m kb validate

test: setup check ## Run ruff and mypy, then every test (unit, CLI, data, browser, server)
	$(PYTHON) -m pytest -q

check: lint typecheck ## ruff and mypy

lint: ## ruff lint and format check
	$(PYTHON) -m ruff check kb tests bench
	$(PYTHON) -m ruff format --check kb tests bench

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
