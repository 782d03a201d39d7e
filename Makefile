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

.PHONY: install install-test provider demo test lint bench clean

# tfext and what it needs at run time (cryptography, jsonschema), with the offline provider's packages.
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@echo "make: installing tfext into .venv (runtime and the offline provider's packages)"
	@$(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip > $(VENV)/pip.log 2>&1 || { tail -20 $(VENV)/pip.log; exit 1; }
	@$(PY) -m pip install --quiet -e '.[provider]' >> $(VENV)/pip.log 2>&1 || { tail -20 $(VENV)/pip.log; exit 1; }
	@# An editable install is not byte-compiled, and where PYTHONDONTWRITEBYTECODE is set (many container
	@# images) each program run would compile tfext again: ~30 ms of a ~0.1 s run.
	@$(PY) -m compileall -q tfext >> $(VENV)/pip.log 2>&1 || { tail -20 $(VENV)/pip.log; exit 1; }
	@touch $@

# ... and what the tests need too.
install-test: $(VENV)/.installed-test

$(VENV)/.installed-test: $(VENV)/.installed
	@echo "make: installing the test extras into .venv"
	@$(PY) -m pip install --quiet -e '.[provider,test]' >> $(VENV)/pip.log 2>&1 || { tail -20 $(VENV)/pip.log; exit 1; }
	@touch $@

# The hashicorp/external provider, offline: ours, or a real one from $TFEXT_PROVIDER_MIRROR.
provider: install
	@mkdir -p $(STATE)
	@if [ -n "$$TFEXT_PROVIDER_MIRROR" ]; then \
	  $(PY) -c 'import sys; from pathlib import Path; from tfext.provider.install import cli_config_text as c; \
	    Path(sys.argv[2]).write_text(c(Path(sys.argv[1])))' "$$TFEXT_PROVIDER_MIRROR" $(STATE)/terraformrc; \
	else \
	  $(PY) -m tfext install-provider $(STATE)/mirror --cli-config $(STATE)/terraformrc >/dev/null; \
	fi

# What a person wants to see: progress, the plan's summary line (the plan itself is in
# $(STATE)/demo-apply.log), then each certificate. A failing step prints the end of its log.
demo: provider
	@echo "demo: terraform init in $(EXAMPLE) (the offline provider, no registry)"
	@terraform -chdir=$(EXAMPLE) init -upgrade -input=false -no-color > $(STATE)/demo-init.log 2>&1 \
	  || { tail -30 $(STATE)/demo-init.log; exit 1; }
	@echo "demo: terraform apply: the etcd and kube CAs and their certificates, identity and ingress"
	@terraform -chdir=$(EXAMPLE) apply -input=false -auto-approve -no-color > $(STATE)/demo-apply.log 2>&1 \
	  || { tail -40 $(STATE)/demo-apply.log; exit 1; }
	@grep -E '^(Plan:|No changes|Apply complete)' $(STATE)/demo-apply.log | sed 's/^/demo:   /'
	@# Drop the data sources that issued (their result is the one unmarked copy of the new keys).
	@echo "demo: terraform apply -refresh-only (closes the window the issuing run leaves: README, Secrets)"
	@terraform -chdir=$(EXAMPLE) apply -refresh-only -input=false -auto-approve -no-color > $(STATE)/demo-refresh.log 2>&1 \
	  || { tail -30 $(STATE)/demo-refresh.log; exit 1; }
	@echo "demo: the certificates (terraform output -json certificates | tfext summary)"
	@terraform -chdir=$(EXAMPLE) output -json certificates | tfext summary

# Test files run two at a time (one per core): each file stays in one process, with its fixtures.
TEST_WORKERS ?= 2

test: provider install-test
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	terraform fmt -check -recursive terraform

bench: provider
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) $(STATE)
	find terraform -name .terraform -type d -prune -exec rm -rf {} +
	find terraform \( -name 'terraform.tfstate*' -o -name .terraform.lock.hcl \) -delete
