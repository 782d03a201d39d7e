# The two commands of the README, and what they need.
#   make demo   install tfext, then terraform init + apply the Tectonic example (offline), and summarize
#   make test   install tfext with its test extras, then run every test
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
STATE := $(CURDIR)/.tfext
EXAMPLE ?= terraform/examples/tectonic

export PATH := $(VENV)/bin:$(PATH)
export TF_CLI_CONFIG_FILE := $(STATE)/terraformrc
export TF_IN_AUTOMATION := 1

.PHONY: install provider demo test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[provider,test]'
	touch $@

# The hashicorp/external provider, offline: ours, or a real one from $TFEXT_PROVIDER_MIRROR.
provider: install
	@mkdir -p $(STATE)
	@if [ -n "$$TFEXT_PROVIDER_MIRROR" ]; then \
	  $(PY) -c 'import sys; from pathlib import Path; from tfext.provider.install import cli_config_text as c; \
	    Path(sys.argv[2]).write_text(c(Path(sys.argv[1])))' "$$TFEXT_PROVIDER_MIRROR" $(STATE)/terraformrc; \
	else \
	  $(PY) -m tfext install-provider $(STATE)/mirror --cli-config $(STATE)/terraformrc >/dev/null; \
	fi

demo: provider
	terraform -chdir=$(EXAMPLE) init -upgrade -input=false -no-color >/dev/null
	terraform -chdir=$(EXAMPLE) apply -input=false -auto-approve -no-color | sed '/^Outputs:/,$$d'
	@# Drop the data sources that issued (their result is the one unmarked copy of the new keys).
	terraform -chdir=$(EXAMPLE) apply -refresh-only -input=false -auto-approve -no-color >/dev/null
	terraform -chdir=$(EXAMPLE) output -json certificates | tfext summary

# Test files run two at a time (one per core): each file stays in one process, with its fixtures.
TEST_WORKERS ?= 2

test: provider
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	terraform fmt -check -recursive terraform

bench: provider
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) $(STATE)
	find terraform -name .terraform -type d -prune -exec rm -rf {} +
	find terraform \( -name 'terraform.tfstate*' -o -name .terraform.lock.hcl \) -delete
