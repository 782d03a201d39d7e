"""Fixtures for the day-two tests: the tectonic example applied once with certificates that expire inside
the renewal window (shared read-only by several files), and a way to run `tfext` as users do."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from harness import Terraform, copy_example

from ._helpers import Secret

# validity_period=24 (hours) against the default renewal window of 720 hours: every certificate is
# inside the window from the start.
EXPIRING_HOURS = 24


@dataclass(frozen=True)
class Applied:
    """An applied root module: its runner, its outputs and its state file."""

    tf: Terraform
    outputs: dict = field(repr=False)  # holds private keys: never in a failure report
    args: tuple[str, ...] = ()

    @property
    def state(self) -> Path:
        return self.tf.workdir / "terraform.tfstate"


@pytest.fixture(scope="session")
def expiring(tf_config, tmp_path_factory) -> Applied:
    """The tectonic example, applied with certificates valid for 24 hours. Read-only: plan, never apply."""
    work = copy_example("tectonic", tmp_path_factory.mktemp("expiring"))
    tf = Terraform(work, tf_config)
    args = ("-var", f"validity_period={EXPIRING_HOURS}")
    tf.init()
    tf.apply(*args)
    return Applied(tf, Secret(tf.outputs()), args)


@pytest.fixture(scope="session")
def expiring_outputs_json(expiring) -> str:
    """`terraform output -json` of the expiring example, as users pipe it."""
    return expiring.tf.run("output", "-json").stdout
